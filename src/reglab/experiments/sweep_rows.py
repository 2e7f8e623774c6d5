"""What a sweep stores and reads back: the row of a trained or a diverged model, checks, summaries.

Every (configuration, seed) of a sweep is one row of the results store with the metrics
``ACCURACIES`` and ``final_cost``, or, for a model whose training diverged, no accuracies and
``diverged_iteration`` and ``diverged_cause`` (the setting most likely at fault, see
``reglab.divergence``). ``check_row`` checks a row read back from a store before anything is
computed from it; ``summarize`` groups rows into a ``ConfigSummary`` per configuration.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from ..config import TrainConfig
from ..stats import Interval, mean_interval

__all__ = ["ACCURACIES", "REFIT_ACCURACIES", "NO_RESULT", "ConfigSummary", "check_row", "diverged_metrics",
           "is_diverged", "summarize", "settings_of"]


@dataclass(frozen=True)
class ConfigSummary:
    """One grid point over its units: its seeds, on every split (fold) it was measured on.

    ``dev_units``: the dev accuracy of each unit, (split seed, fold, seed) (fold -1 for a single dev
    split), which the choice compares in pairs. ``diverged``: the seeds whose training diverged (stored
    as such), ``cause`` the setting most likely at fault (``reglab.divergence``). A configuration that
    diverged on any unit has no accuracies (its intervals are NaN, n = 0) and is never chosen: it is
    ranked after the others.
    """

    settings: dict
    train: Interval
    dev: Interval
    test: Interval
    seeds: tuple[int, ...]
    diverged: tuple[int, ...] = ()
    cause: str | None = None
    dev_units: dict = field(default_factory=dict, repr=False)

    @property
    def usable(self) -> bool:
        """Whether every seed trained without diverging (only such configurations can be chosen)."""
        return not self.diverged



#: The accuracies every stored row of a sweep holds (None in a row whose training diverged).
ACCURACIES = ("train_accuracy", "dev_accuracy", "test_accuracy")
#: Those of a refit on all the training points (no dev set).
REFIT_ACCURACIES = ("train_accuracy", "test_accuracy")
#: A configuration with no accuracies (it diverged): NaN, so that figures leave its place blank.
NO_RESULT = Interval(float("nan"), float("nan"), float("nan"), 0)


def is_diverged(row: dict) -> bool:
    """Whether a stored row is of a model whose training diverged (its metrics name the likely cause)."""
    return "diverged_cause" in row["metrics"]


def diverged_metrics(divergence) -> dict:
    """The metrics stored for a model whose training diverged: no accuracies, when and the likely cause."""
    return {**dict.fromkeys(ACCURACIES), "final_cost": None, "diverged_iteration": divergence.iteration,
            "diverged_cause": divergence.cause}


def settings_of(row: dict) -> dict:
    """A row's settings without the seed: its configuration's grid point."""
    return {k: v for k, v in row["config"].items() if k != "seed"}


def summarize(rows: Sequence[dict], units: Mapping[str, tuple] | None = None) -> list[ConfigSummary]:
    """Group rows by their settings (everything but the seed), in first-seen order.

    ``units`` maps a row's data set fingerprint (its split) to the split's (split seed, fold); default:
    every row on one split. A configuration's intervals are over all its units: seeds x splits.
    """
    groups: dict[str, list[dict]] = {}
    for row in rows:
        groups.setdefault(repr(sorted(settings_of(row).items())), []).append(row)
    summaries = []
    for members in groups.values():
        settings = settings_of(members[0])
        seeds = tuple(dict.fromkeys(m["config"]["seed"] for m in members))
        diverged = [m for m in members if is_diverged(m)]
        if diverged:
            summaries.append(ConfigSummary(settings, NO_RESULT, NO_RESULT, NO_RESULT, seeds,
                                           tuple(dict.fromkeys(m["config"]["seed"] for m in diverged)),
                                           diverged[0]["metrics"]["diverged_cause"]))
            continue
        metric = lambda name: mean_interval([m["metrics"][name] for m in members], bounds=(0.0, 1.0))  # noqa: E731
        dev_units = {(*(units or {}).get(m.get("dataset"), (0, -1)), m["config"]["seed"]): m["metrics"]["dev_accuracy"]
                     for m in members}
        summaries.append(ConfigSummary(settings, metric("train_accuracy"), metric("dev_accuracy"),
                                       metric("test_accuracy"), seeds, dev_units=dev_units))
    return summaries


def check_row(row: dict, path, accuracies: Sequence[str] = ACCURACIES) -> None:
    """Refuse (``DamagedRowError``, naming the store, the row and what is wrong) a stored row a sweep cannot use.

    Its config must be a valid configuration whose key (with its data set) is the row's key, and its
    metrics must hold the accuracies as numbers in [0, 1], or say that the training diverged.
    """
    from .store import DamagedRowError, config_key

    def damaged(problem: str) -> DamagedRowError:
        return DamagedRowError(path, row.get("row", "?"), row.get("key"), problem)

    try:
        config = TrainConfig.from_dict(dict(row["config"]))
    except (TypeError, ValueError, KeyError) as error:
        raise damaged(f"its config is not a valid configuration ({error})") from None
    if config.seed != row["seed"]:
        raise damaged(f"its config says seed {config.seed} but its seed column says {row['seed']}")
    if config_key(config, row["dataset"]) != row["key"]:
        raise damaged("its key is not the key of its config and data set (the row was changed after it was stored)")
    metrics = row["metrics"]
    if is_diverged(row):
        if not isinstance(metrics["diverged_cause"], str):
            raise damaged(f"its metric 'diverged_cause' is {metrics['diverged_cause']!r}, not a text")
        return
    for name in accuracies:
        if name not in metrics:
            raise damaged(f"its metrics lack {name!r} (they hold {sorted(metrics) or 'nothing'})")
        value = metrics[name]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
            raise damaged(f"its metric {name!r} is {value!r}, not an accuracy in [0, 1]")
