"""The grid a sweep trains: its specification, its configurations, and what it will cost before it is built.

``SweepSpec`` names the base settings, the grid axes (the settings declared as such in
``reglab.settings``), the seeds and how the training points are split; ``expand`` lists its
configurations; ``check_settings`` and ``check_memory`` refuse a bad or too large grid from the
lengths of its axes alone, so that a grid of 10^8 models is refused without being listed.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..config import TrainConfig
from ..settings import SETTINGS
from .. import memory
from ..training import model_bytes
from ..validation import check_int, check_real, check_seeds
from .splits import default_folds

__all__ = ["AXES", "SweepSpec", "expand", "find_repeat", "check_settings", "estimate_memory", "check_memory",
           "BYTES_PER_MODEL"]

#: Grid axes: the settings declared as such (``reglab.settings``).
AXES = tuple(s.name for s in SETTINGS if s.grid)

@dataclass(frozen=True)
class SweepSpec:
    """What to train: ``base`` settings, grid ``axes`` (name -> values), ``seeds``, and how to split.

    Every combination of axis values is trained once per seed, with fresh initialisation and
    fresh dropout masks drawn from that seed (unless ``base`` says otherwise), on every split:
    ``folds`` folds of stratified cross-validation (None: ``splits.default_folds`` of the data set's
    size; 1: one dev set of ``dev_fraction`` of the training points), drawn ``repeats`` times with the
    split seeds ``split_seed``, ``split_seed + 1``, ...
    """

    base: TrainConfig = field(default_factory=lambda: TrainConfig(init="fresh", mask_mode="fresh"))
    axes: Mapping[str, Sequence] = field(default_factory=dict)
    seeds: Sequence[int] = (0,)  # a tuple, or a range (kept as it is: a grid of many seeds is not listed)
    dev_fraction: float = 0.25
    split_seed: int = 0
    folds: int | None = None
    repeats: int = 1

    def __post_init__(self):
        if not isinstance(self.base, TrainConfig):
            raise TypeError(f"base must be a TrainConfig; got {type(self.base).__name__}")
        axes = {}
        for name, values in dict(self.axes).items():
            if name not in AXES:
                raise ValueError(f"unknown grid axis {name!r}; allowed: {', '.join(AXES)}")
            values = list(values) if not isinstance(values, (str, bytes)) else [values]
            if not values:
                raise ValueError(f"grid axis {name!r} must hold at least one value; got none")
            repeat = find_repeat(name, values)
            if repeat is not None:
                first, again = (values[i] for i in repeat)
                raise ValueError(f"grid axis {name!r} must hold each value once; got {again!r} after {first!r} in {values!r}")
            axes[name] = tuple(values)
        object.__setattr__(self, "axes", axes)
        object.__setattr__(self, "seeds", check_seeds(self.seeds))
        check_real("dev_fraction", self.dev_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False)
        check_int("split_seed", self.split_seed, low=0)
        if self.folds is not None:
            check_int("folds", self.folds, low=1)
        check_int("repeats", self.repeats, low=1)

    def folds_for(self, dataset) -> int:
        """The folds of a data set: ``folds``, or when None the default for its number of training points."""
        return default_folds(len(dataset.y_train)) if self.folds is None else self.folds

    def n_splits(self, dataset) -> int:
        """Splits a data set is measured on: folds x repeats."""
        return self.folds_for(dataset) * self.repeats

    @property
    def n_configurations(self) -> int:
        return int(np.prod([len(v) for v in self.axes.values()])) if self.axes else 1

    @property
    def n_models(self) -> int:
        return self.n_configurations * len(self.seeds)


def _same_setting(name: str, value):
    """What a grid value sets, comparable: ``1``, ``1.0`` and (for keep_prob) ``(1, 1)`` are one setting."""
    if name == "keep_prob" and isinstance(value, (tuple, list)) and len(set(value)) == 1:
        value = value[0]  # one keep_prob for every layer
    try:
        return tuple(float(v) for v in value) if isinstance(value, (tuple, list)) else float(value)
    except (TypeError, ValueError):  # not a number: left to the settings' own checks
        return repr(value)


def find_repeat(name: str, values: Sequence) -> tuple[int, int] | None:
    """Positions ``(first, again)`` of the first value of grid axis ``name`` that sets what an earlier one sets.

    A repeated value would be trained and counted twice but stored once (same key).
    """
    seen: dict = {}
    for position, value in enumerate(values):
        first = seen.setdefault(_same_setting(name, value), position)
        if first != position:
            return first, position
    return None


def expand(spec: SweepSpec) -> list[TrainConfig]:
    """Every (combination of axis values, seed) as a TrainConfig, seeds innermost."""
    names = list(spec.axes)
    configs = []
    for values in itertools.product(*(spec.axes[n] for n in names)):
        changes = dict(zip(names, values))
        for seed in spec.seeds:
            configs.append(spec.base.replace(**changes, seed=seed))
    return configs


def check_settings(spec: SweepSpec) -> None:
    """Refuse a bad grid value (ValueError/TypeError) without building the grid.

    One configuration is made per axis value, and one per (keep_prob, hidden_layer_sizes) pair,
    the only settings checked against each other.
    """
    together = ("keep_prob", "hidden_layer_sizes")
    for name, values in spec.axes.items():
        if name not in together:
            for value in values:
                spec.base.replace(**{name: value})
    paired = {name: spec.axes[name] for name in together if name in spec.axes}
    for values in itertools.product(*paired.values()):
        spec.base.replace(**dict(zip(paired, values)))


#: Bytes a sweep holds for every model besides training it: its configuration, key and result rows
#: (measured about 2.5 KB with CPython 3.11; rounded up).
BYTES_PER_MODEL = 4096


def estimate_memory(spec: SweepSpec, n_examples: int, n_features: int, batch_size: int) -> tuple[int, int]:
    """Bytes a sweep needs: (its largest batch while training, the settings and results of all its models).

    Computed from the lengths of the axes and the layer sizes, without building the grid.
    """
    worst = 0
    for hidden in spec.axes.get("hidden_layer_sizes", (spec.base.hidden_layer_sizes,)):
        worst = max(worst, model_bytes((n_features, *hidden, 1), n_examples, n_records=0))
    return worst * min(batch_size, spec.n_models), BYTES_PER_MODEL * spec.n_models


def check_memory(dataset, spec: SweepSpec, *, batch_size: int, memory_limit: int | None = None,
                 n_datasets: int = 1) -> int:
    """Refuse (MemoryError) a sweep that would need more than ``memory_limit`` bytes; return its estimate.

    Parameters
    ----------
    dataset : reglab.datasets.Dataset
        Its training points (an upper bound of the points each model is fitted on) and features.
    spec : SweepSpec
    batch_size : int
        Models trained together in one call.
    memory_limit : int, optional
        Bytes the sweep may use; default: half of the available physical memory.

    Notes
    -----
    Quick for any grid size: nothing is built (see ``estimate_memory``).
    """
    batch_size = check_int("batch_size", batch_size, low=1)
    X = np.asarray(dataset.X_train)  # (n_train, n_features)
    batch, kept = estimate_memory(spec, X.shape[0], X.shape[1], batch_size)
    kept *= spec.n_splits(dataset) * n_datasets  # every split's rows are kept
    limit = memory.memory_limit() if memory_limit is None else memory_limit
    if batch + kept > limit:
        mib = lambda n: f"{n / 2**20:,.0f} MiB"  # noqa: E731
        advice = "a smaller --batch-size or grid" if batch > kept else "a smaller grid or fewer --seeds"
        raise MemoryError(
            f"a sweep of {spec.n_models:,} models needs about {mib(batch + kept)} ({mib(batch)} for a batch of "
            f"{min(batch_size, spec.n_models):,} models while training, {mib(kept)} for every model's settings and "
            f"results), more than the {mib(limit)} allowed; use {advice}"
        )
    return batch + kept
