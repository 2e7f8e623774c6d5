"""Grids of models: expand a grid, train it in batches, store every result, choose honestly.

A sweep trains every combination of its axes (l2, l1, keep_prob, learning_rate, n_iterations,
hidden_layer_sizes) for every seed. Model selection uses a dev split held out from the training
data: the configuration with the best mean dev accuracy is chosen, and only then is its test
accuracy reported (every configuration's test accuracy is stored too, labelled as such).
Results go to a ``ResultStore`` after each batch, so a sweep can be stopped and resumed.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from ..config import TrainConfig
from ..settings import SETTINGS
from .sweep_rows import ConfigSummary, check_row, diverged_metrics, is_diverged, summarize
from ..training import batch_key, available_memory, fit_many, model_bytes
from ..validation import ParameterValueError, check_int, check_real, check_seeds

__all__ = [
    "AXES",
    "SweepSpec",
    "DevSplit",
    "split_dev",
    "expand",
    "find_repeat",
    "check_settings",
    "estimate_memory",
    "check_memory",
    "available_memory",
    "ConfigSummary",
    "SweepResult",
    "run_sweep",
    "summarize",
    "check_row",
    "is_diverged",
    "StoreWait",
    "AllDivergedError",
]

#: Grid axes: the settings declared as such (``reglab.settings``).
AXES = tuple(s.name for s in SETTINGS if s.grid)

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SweepSpec:
    """What to train: ``base`` settings, grid ``axes`` (name -> values) and ``seeds``.

    Every combination of axis values is trained once per seed, with fresh initialisation and
    fresh dropout masks drawn from that seed (unless ``base`` says otherwise).
    """

    base: TrainConfig = field(default_factory=lambda: TrainConfig(init="fresh", mask_mode="fresh"))
    axes: Mapping[str, Sequence] = field(default_factory=dict)
    seeds: Sequence[int] = (0,)  # a tuple, or a range (kept as it is: a grid of many seeds is not listed)
    dev_fraction: float = 0.25
    split_seed: int = 0

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


@dataclass(frozen=True)
class DevSplit:
    """Training data split into a fitting part and a dev part; the test set untouched."""

    name: str
    source: str
    X_fit: np.ndarray
    y_fit: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    fingerprint: str

    # Plotting and reporting code reads a data set's training points under these names.
    @property
    def X_train(self) -> np.ndarray:
        return self.X_fit

    @property
    def y_train(self) -> np.ndarray:
        return self.y_fit


def split_dev(dataset, dev_fraction: float = 0.25, seed: int = 0, *, standardize: bool = False) -> DevSplit:
    """Hold out ``dev_fraction`` of the training points (stratified by class, seeded) as a dev set.

    ``standardize`` only marks the split (its fingerprint) as used by standardised models, so
    that their results are stored apart from unstandardised ones.
    """
    dev_fraction = check_real("dev_fraction", dev_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False)
    y = np.asarray(dataset.y_train)
    rng = np.random.default_rng(seed)
    dev_index = []
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        dev_index.append(members[: int(round(dev_fraction * members.size))])
    dev = np.zeros(y.size, dtype=bool)
    dev[np.concatenate(dev_index)] = True
    if dev.all() or not dev.any() or np.unique(y[~dev]).size < 2:
        raise ParameterValueError(
            "dev_fraction",
            f"dev_fraction={dev_fraction:g} leaves no usable fitting or dev set from {y.size} training points"
        )
    from .store import dataset_fingerprint

    X = np.asarray(dataset.X_train)
    parts = dict(X_fit=X[~dev], y_fit=y[~dev], X_dev=X[dev], y_dev=y[dev],
                 X_test=np.asarray(dataset.X_test), y_test=np.asarray(dataset.y_test))
    described = f"{dataset.source}; dev set: {dev.sum()} of its {y.size} training points (seed {seed})"
    unfinished = DevSplit(dataset.name, described, fingerprint="", **parts)
    how = {"fraction": dev_fraction, "seed": seed} | ({"standardize": True} if standardize else {})
    fingerprint = dataset_fingerprint(unfinished, dev_split=how)
    return DevSplit(dataset.name, described, fingerprint=fingerprint, **parts)


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


def check_memory(dataset, spec: SweepSpec, *, batch_size: int, memory_limit: int | None = None) -> int:
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
    limit = available_memory() // 2 if memory_limit is None else memory_limit
    if batch + kept > limit:
        mib = lambda n: f"{n / 2**20:,.0f} MiB"  # noqa: E731
        advice = "a smaller --batch-size or grid" if batch > kept else "a smaller grid or fewer --seeds"
        raise MemoryError(
            f"a sweep of {spec.n_models:,} models needs about {mib(batch + kept)} ({mib(batch)} for a batch of "
            f"{min(batch_size, spec.n_models):,} models while training, {mib(kept)} for every model's settings and "
            f"results), more than the {mib(limit)} allowed; use {advice}"
        )
    return batch + kept


def _settings(config: TrainConfig) -> dict:
    """A configuration's settings without its seed: what a grid point is."""
    settings = config.to_dict()
    settings.pop("seed")
    return settings


@dataclass(frozen=True)
class SweepResult:
    """All rows of a sweep (one per configuration and seed) and their summaries per configuration."""

    spec: SweepSpec
    split: DevSplit
    rows: tuple[dict, ...]
    summaries: tuple[ConfigSummary, ...]
    trained: int  # models trained in this call (the rest came from the store)

    @property
    def best(self) -> ConfigSummary:
        """The configuration with the highest mean dev accuracy (ties: the earlier one in the grid's order).

        Configurations that diverged on any seed are never chosen; if every one did, ValueError.
        """
        usable = [s for s in self.summaries if s.usable]
        if not usable:
            raise AllDivergedError(self.divergence(self.diverged_rows()[0], every=True))
        return max(usable, key=lambda s: s.dev.mean)

    def divergence(self, row: dict, *, every: bool = False, settings: str | None = None):
        """The ``reglab.divergence.Divergence`` of a stored diverged row, named by the settings the grid varies
        (``settings``: as the caller writes them, e.g. ``"l2=1e+06, keep_prob=1"``).

        ``every``: named as the first of a sweep whose every configuration diverged.
        """
        from ..divergence import explain

        config = TrainConfig.from_dict(dict(row["config"]))
        if settings is None:
            shown = [k for k, v in self.spec.axes.items() if len(v) > 1] or list(self.spec.axes)
            settings = ", ".join(f"{k}={row['config'][k]}" for k in shown)
        iteration = row["metrics"].get("diverged_iteration")
        found = explain(0, config, iteration=iteration, cost=None, start_cost=None, X=self.split.X_fit,
                        standardized=False)
        named = settings or "the configuration"
        subject = f"{named} (seed {config.seed}) by iteration {iteration}"
        if every:
            subject = (f"every configuration of the sweep (each is stored as diverged); the first, {named} with seed "
                       f"{config.seed}, by iteration {iteration}")
        return dataclasses.replace(found, cause=row["metrics"]["diverged_cause"], subject=subject)

    def ranked(self) -> list[ConfigSummary]:
        """Best mean dev accuracy first; configurations that diverged last, in grid order."""
        usable = sorted((s for s in self.summaries if s.usable), key=lambda s: -s.dev.mean)
        return usable + [s for s in self.summaries if not s.usable]

    @property
    def diverged(self) -> list[ConfigSummary]:
        """The configurations that diverged on at least one seed, in grid order."""
        return [s for s in self.summaries if not s.usable]

    def diverged_rows(self) -> list[dict]:
        """The stored rows of the models that diverged, in grid order."""
        return [r for r in self.rows if is_diverged(r)]


class AllDivergedError(ValueError):
    """Every configuration of a sweep diverged (each is stored as such): there is nothing to choose from.

    ``divergences`` holds the first one's ``reglab.divergence.Divergence``, for messages.
    """

    def __init__(self, divergence):
        super().__init__(divergence.message())
        self.divergences = (divergence,)


class StoreWait(NamedTuple):
    """What ``run_sweep`` tells its ``on_busy`` while the store is locked by another process.

    ``models``: trained models waiting to be stored; ``seconds`` waited so far; ``stored``: True once they are.
    """

    models: int
    seconds: float
    stored: bool


def _store_batch(store, rows: list[dict], on_busy: Callable[[StoreWait], None] | None) -> None:
    """Store a trained batch, waiting as long as another process holds the store's lock: the batch is kept."""
    from .store import StoreBusyError

    start = time.monotonic()
    waited = False
    while True:
        try:
            store.add_batch(rows)
        except StoreBusyError:  # SQLite waited the store's timeout: say so, and try again
            waited = True
            if on_busy is not None:
                on_busy(StoreWait(len(rows), time.monotonic() - start, False))
            continue
        if waited and on_busy is not None:
            on_busy(StoreWait(len(rows), time.monotonic() - start, True))
        return


def _train_batch(split: DevSplit, batch: list[TrainConfig], *, engine: str, standardize: bool) -> tuple[dict, dict, float]:
    """Train a batch; a model that diverges is set aside and the others are trained again without it.

    Returns ({position: Model}, {position: Divergence}, seconds per trained model). Models are
    independent along the model axis (their own initialisation and masks), so the others come out
    as they would have in the full batch.
    """
    from ..engine.loop import TrainingDivergedError

    diverged: dict = {}
    remaining = list(range(len(batch)))
    while remaining:
        start = time.perf_counter()
        try:
            models = fit_many(split.X_fit, split.y_fit, [batch[k] for k in remaining], engine=engine,
                              standardize=standardize)
        except TrainingDivergedError as error:
            if not error.divergences:
                raise
            for divergence in error.divergences:
                diverged[remaining[divergence.index]] = divergence
            remaining = [k for k in remaining if k not in diverged]
            continue
        return dict(zip(remaining, models)), diverged, (time.perf_counter() - start) / len(remaining)
    return {}, diverged, float("nan")


def _batches(configs: Sequence[TrainConfig], batch_size: int) -> list[list[TrainConfig]]:
    groups: dict[tuple, list[TrainConfig]] = {}
    for config in configs:
        groups.setdefault(batch_key(config), []).append(config)
    return [group[i : i + batch_size] for group in groups.values() for i in range(0, len(group), batch_size)]


def run_sweep(
    dataset,
    spec: SweepSpec,
    store,
    *,
    engine: str = "compiled",
    batch_size: int = 64,
    memory_limit: int | None = None,
    progress: Progress | None = None,
    standardize: bool = False,
    on_busy: Callable[[StoreWait], None] | None = None,
) -> SweepResult:
    """Train what ``store`` does not hold yet, store each batch as it finishes, summarise everything.

    Parameters
    ----------
    dataset : reglab.datasets.Dataset
        Its training points are split into fitting and dev parts (``spec.dev_fraction``).
    spec : SweepSpec
    store : reglab.store.ResultStore
        Rows already stored for this data set and split are reused, not retrained. A read-only
        store serves a sweep whose every model it holds; otherwise ``ReadOnlyStoreError`` (a
        ``ValueError``) is raised before anything is trained.
    engine : str
        Training engine (see ``reglab.fit_many``).
    batch_size : int
        Models trained together in one call.
    memory_limit : int, optional
        Bytes the sweep may use; default: half of the available physical memory. A sweep that would
        need more (``check_memory``) is refused with the estimate in the message, before the grid is built.
    progress : callable(done, total), optional
        Called with models finished over models to train.
    standardize : bool
        Centre and scale the features by the fitting points' mean and standard deviation.
    on_busy : callable(StoreWait), optional
        Called while a trained batch waits for another process to release the store (each time the
        store's ``timeout`` passes), and once when it is stored. The batch is kept until it is
        stored, however long that takes (stop the program to give up; the batches stored before stay).

    Notes
    -----
    A model whose training diverges does not stop the sweep: it is stored as diverged (no accuracies;
    its metrics ``diverged_iteration`` and ``diverged_cause``, the setting most likely at fault), its
    configuration is ranked last and never chosen, and it is not trained again when the sweep is run
    again. Every row read back from the store is checked (``check_row``): a damaged one raises
    ``DamagedRowError`` naming the store, the row and what is wrong, before anything is trained.
    """
    from .store import ReadOnlyStoreError, config_key

    check_settings(spec)
    check_memory(dataset, spec, batch_size=batch_size, memory_limit=memory_limit)
    split = split_dev(dataset, spec.dev_fraction, spec.split_seed, standardize=standardize)
    configs = expand(spec)
    keys = {config: config_key(config, split.fingerprint) for config in configs}
    _stored_rows(store, split, keys)  # checked before anything is trained
    missing = set(store.missing(list(keys.values())))
    todo = [c for c in configs if keys[c] in missing]
    if todo and store.read_only:
        raise ReadOnlyStoreError(
            f"results store {str(store.path)!r} is {store.why_read_only} and {len(todo)} of the sweep's "
            f"{len(configs)} models are not in it yet; nothing was trained"
        )
    done = 0
    for batch in _batches(todo, batch_size):
        models, diverged, seconds = _train_batch(split, batch, engine=engine, standardize=standardize)
        rows = []
        for position, config in enumerate(batch):
            model = models.get(position)
            metrics = diverged_metrics(diverged[position]) if model is None else {
                "train_accuracy": model.accuracy(split.X_fit, split.y_fit),
                "dev_accuracy": model.accuracy(split.X_dev, split.y_dev),
                "test_accuracy": model.accuracy(split.X_test, split.y_test),
                "final_cost": float(np.asarray(model.history.cost)[-1]),
            }
            rows.append({"key": keys[config], "config": config.to_dict(), "dataset": split.fingerprint,
                         "dataset_name": split.name, "seed": config.seed, "metrics": metrics,
                         "seconds": None if model is None else seconds})
        _store_batch(store, rows, on_busy)
        done += len(batch)
        if progress is not None:
            progress(done, len(todo))
    rows = _stored_rows(store, split, keys)
    return SweepResult(spec, split, rows, tuple(summarize(rows)), trained=len(todo))


def _stored_rows(store, split: DevSplit, keys: dict) -> tuple[dict, ...]:
    """The stored rows of the sweep's keys, each checked (``check_row``), in grid order (not the store's:
    summaries, ties of the choice and the CSV follow the grid)."""
    order = {key: position for position, key in enumerate(keys.values())}
    rows = tuple(sorted((r for r in store.rows(dataset=split.fingerprint) if r["key"] in order),
                        key=lambda r: order[r["key"]]))
    for row in rows:  # read back from a file: checked before anything is computed from it
        check_row(row, store.path)
    return rows
