"""Grids of models: expand a grid, train it in chunks, store every result, choose honestly.

A sweep trains every combination of its axes (the settings declared as grid axes: l2, l1,
keep_prob, learning_rate, n_iterations, hidden_layer_sizes, weight_decay, max_norm) for every
seed, on every split of the training points (``splits``): K folds of stratified cross-validation,
or one held-out dev set, drawn ``repeats`` times. The dev accuracies choose (``selection``): the
best by its mean, the configurations tied with it, and the chosen one by the one-standard-error
rule. Only then is the test set used: the chosen configuration (and the least regularized one, to
compare with) is trained on all the training points, seed by seed, and measured on it.

Results go to a ``ResultStore`` as each chunk finishes, so a sweep can be stopped and resumed: run
again, it trains only what the store lacks (per fold, per seed). Chunks run where an executor says
(``executors``): in this process, or on a Dask cluster; only this process writes the store.
Several data sets (data conditions) are swept in one go by ``run_sweeps``.
"""

from __future__ import annotations

import dataclasses
import functools
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple


from ..config import TrainConfig
from ..stats import Difference, Interval, mean_interval, paired_difference
from .grid import AXES, SweepSpec, check_memory, check_settings, estimate_memory, expand, find_repeat
from .selection import ONE_SE_RULE, Choice, choose, regularization_order, stability
from .splits import DevSplit, make_splits, refit_split, split_dev
from .sweep_rows import NO_RESULT, REFIT_ACCURACIES, ConfigSummary, check_row, is_diverged, summarize

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
    "ConfigSummary",
    "SweepResult",
    "run_sweep",
    "run_sweeps",
    "summarize",
    "check_row",
    "is_diverged",
    "StoreWait",
    "AllDivergedError",
    "ONE_SE_RULE",
]

Progress = Callable[[int, int], None]


def baseline_position(summaries: Sequence[ConfigSummary]) -> int:
    """Position of the least regularized configuration that trained (``selection.regularization_order``)."""
    usable = [k for k, s in enumerate(summaries) if s.usable]
    return min(usable, key=lambda k: (regularization_order(summaries[k].settings), k))


@dataclass(frozen=True)
class SweepResult:
    """One data set's sweep: every row (configuration x seed x split), summaries, the choice and the refit.

    Attributes
    ----------
    spec : SweepSpec
    splits : tuple of DevSplit
        The splits measured on (folds x repeats).
    rows : tuple of dict
        The stored rows of every configuration, seed and split, in grid order.
    summaries : tuple of ConfigSummary
        Per configuration, over all its units (seeds x splits), in grid order.
    choice : selection.Choice or None
        Keys are positions in ``summaries``; None when every configuration diverged.
    stability : dict
        Position in ``summaries`` -> how often it would be chosen on other units; ``stability_over`` says over what.
    refit : DevSplit
        All the training points: where the chosen and the baseline configuration were trained last.
    refit_rows : dict
        Position in ``summaries`` -> its rows on ``refit`` (one per seed): the chosen and the baseline.
    trained : int
        Models trained in this call (the rest came from the store).
    """

    spec: SweepSpec
    splits: tuple
    rows: tuple[dict, ...]
    summaries: tuple[ConfigSummary, ...]
    choice: Choice | None
    stability: dict
    stability_over: str
    refit: DevSplit
    refit_rows: dict
    trained: int

    @property
    def split(self) -> DevSplit:
        """The first split (its data set's name, source and points, for reports and figures)."""
        return self.splits[0]

    @property
    def folds(self) -> int:
        return self.splits[0].folds

    def _summary(self, position) -> ConfigSummary:
        if self.choice is None:
            raise AllDivergedError(self.divergence(self.diverged_rows()[0], every=True))
        return self.summaries[position]

    @property
    def best(self) -> ConfigSummary:
        """The configuration with the highest mean dev accuracy (ties: the earlier in the grid's order).

        Configurations that diverged on any unit are never chosen; if every one did, ``AllDivergedError``.
        """
        return self._summary(None if self.choice is None else self.choice.best)

    @property
    def chosen(self) -> ConfigSummary:
        """The configuration the one-standard-error rule chooses (``ONE_SE_RULE``) among those as good as the best."""
        return self._summary(None if self.choice is None else self.choice.chosen)

    @property
    def baseline(self) -> ConfigSummary:
        """The least regularized configuration that trained (the unregularized one when the grid has it)."""
        return self._summary(None if self.choice is None else self._baseline_position())

    def _baseline_position(self) -> int:
        return baseline_position(self.summaries)

    @functools.cached_property
    def _positions(self) -> dict[int, int]:
        return {id(s): k for k, s in enumerate(self.summaries)}

    def _position(self, summary: ConfigSummary) -> int:
        """Position of ``summary`` in ``summaries`` (by identity first: reports ask for every configuration)."""
        position = self._positions.get(id(summary))
        return self.summaries.index(summary) if position is None else position

    @property
    def nothing_distinguishable(self) -> bool:
        return self.choice is not None and self.choice.nothing_distinguishable

    def is_tied(self, summary: ConfigSummary) -> bool:
        """Whether the dev set cannot tell ``summary`` from the best (see ``selection.choose``)."""
        return self.choice is not None and self.choice.is_tied(self._position(summary))

    def chosen_in(self, summary: ConfigSummary) -> float:
        """How often ``summary`` would be chosen on other units (``stability_over``)."""
        return self.stability.get(self._position(summary), 0.0)

    def test_accuracies(self, summary: ConfigSummary) -> dict:
        """Seed -> test accuracy of ``summary`` trained on all the training points (chosen and baseline only)."""
        rows = self.refit_rows.get(self._position(summary), ())
        return {r["seed"]: r["metrics"]["test_accuracy"] for r in rows if not is_diverged(r)}

    def test(self, summary: ConfigSummary) -> Interval:
        """Mean test accuracy (with its 95% interval over seeds) of ``summary`` trained on all the training points."""
        values = list(self.test_accuracies(summary).values())
        return mean_interval(values, bounds=(0.0, 1.0)) if values else NO_RESULT

    def differences(self) -> dict[str, Difference]:
        """The chosen configuration minus the baseline: ``dev`` paired over the units (seeds x splits) and ``test``
        paired over the seeds of their refits on all the training points."""
        chosen, baseline = self.chosen, self.baseline
        units = sorted(set(chosen.dev_units) & set(baseline.dev_units))
        a, b = self.test_accuracies(chosen), self.test_accuracies(baseline)
        seeds = sorted(set(a) & set(b))
        return {"dev": paired_difference([chosen.dev_units[u] for u in units], [baseline.dev_units[u] for u in units]),
                "test": paired_difference([a[s] for s in seeds], [b[s] for s in seeds])}

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
        """The configurations that diverged on at least one unit, in grid order."""
        return [s for s in self.summaries if not s.usable]

    def diverged_rows(self) -> list[dict]:
        """The stored rows of the models that diverged, in grid order."""
        return [r for r in self.rows if is_diverged(r)]

    def unit(self, row: dict) -> tuple:
        """(split seed, fold) of a row's split (fold -1 for a single dev split)."""
        return next(s.unit for s in self.splits if s.fingerprint == row["dataset"])


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


def _stored_rows(store, split: DevSplit, keys: Mapping, accuracies=None) -> tuple[dict, ...]:
    """The stored rows of ``keys`` (config -> key) on ``split``, each checked (``check_row``), in ``keys``'
    order (the grid's: summaries, ties of the choice and the CSV follow it)."""
    order = {key: position for position, key in enumerate(keys.values())}
    rows = tuple(sorted((r for r in store.rows(dataset=split.fingerprint) if r["key"] in order),
                        key=lambda r: order[r["key"]]))
    for row in rows:  # read back from a file: checked before anything is computed from it
        check_row(row, store.path, *(() if accuracies is None else (accuracies,)))
    return rows


class _Work(NamedTuple):
    """Models one split lacks: ``keys`` config -> store key for every config of the split, ``todo`` those missing,
    ``stored`` the split's rows read (and checked) before training."""

    split: DevSplit
    keys: dict
    todo: list
    stored: tuple

    def rows(self, store, accuracies=None) -> tuple[dict, ...]:
        """The split's rows now: read again only if models were trained for it since."""
        return _stored_rows(store, self.split, self.keys, accuracies) if self.todo else self.stored


def _train(work: Sequence[_Work], store, executor, *, engine, standardize, chunk_size, on_busy, progress,
           done: int, total: int) -> int:
    """Train every split's missing models through ``executor`` and store each chunk as it arrives; return done."""
    from .chunks import plan_chunks, train_split_chunk

    shared, chunks = {}, []
    for index, item in enumerate(work):
        if not item.todo:
            continue
        shared[index] = item.split.shared()
        X = item.split.X_fit
        for chunk in plan_chunks(item.todo, n_examples=X.shape[0], n_features=X.shape[1], slots=executor.slots,
                                 threads=executor.engine_threads or 1, chunk_size=chunk_size):
            chunks.append((index, chunk))
    if not chunks:
        return done
    options = dict(engine=engine, standardize=standardize, threads=executor.engine_threads)
    for position, rows in executor.map(train_split_chunk, shared, chunks, **options):
        index, configs = chunks[position]
        split, keys = work[index].split, work[index].keys
        stored = [{"key": keys[config], "config": row["config"], "dataset": split.fingerprint,
                   "dataset_name": split.name, "seed": config.seed, "metrics": row["metrics"], "seconds": row["seconds"]}
                  for config, row in zip(configs, rows)]
        _store_batch(store, stored, on_busy)
        done += len(configs)
        if progress is not None:
            progress(done, total)
    return done


def run_sweeps(
    datasets: Sequence,
    spec: SweepSpec,
    store,
    *,
    engine: str = "compiled",
    batch_size: int = 64,
    executor=None,
    chunk_size: int | None = None,
    memory_limit: int | None = None,
    progress: Progress | None = None,
    standardize: bool = False,
    on_busy: Callable[[StoreWait], None] | None = None,
) -> list[SweepResult]:
    """Sweep each data set (data condition) with ``spec``: train what ``store`` lacks, choose, refit; summarise.

    Parameters
    ----------
    datasets : sequence of reglab.datasets.Dataset
        Each is split on its own (``spec``'s folds and repeats), stored under its own fingerprints, and
        chosen on by itself; the chunks of all of them are trained in one go.
    spec : SweepSpec
    store : reglab.experiments.store.ResultStore
        Rows already stored for a split are reused, not retrained. A read-only store serves a sweep whose
        every model it holds; otherwise ``ReadOnlyStoreError`` (a ``ValueError``) is raised before anything
        is trained.
    engine : str
        Training engine (see ``reglab.fit_many``).
    batch_size : int
        Models trained together in one call, in this process (``chunk_size`` for an executor of several workers).
    executor : executors.Executor, optional
        Where chunks train (``executors.connect``); default: in this process.
    chunk_size : int, optional
        The most models a chunk holds on a cluster; default: chosen from the grid and the workers
        (``chunks.plan_chunks``).
    memory_limit : int, optional
        Bytes the sweep may use; default: half of the available physical memory. A sweep that would need more
        (``check_memory``) is refused with the estimate in the message, before the grid is built.
    progress : callable(done, total), optional
        Called with models finished over models to train (the refit's models join the total once the choice
        is known).
    standardize : bool
        Centre and scale the features by the fitting points' mean and standard deviation.
    on_busy : callable(StoreWait), optional
        Called while a trained chunk waits for another process to release the store (each time the store's
        ``timeout`` passes), and once when it is stored. The chunk is kept until it is stored.

    Notes
    -----
    A model whose training diverges does not stop the sweep: it is stored as diverged (no accuracies; its
    metrics ``diverged_iteration`` and ``diverged_cause``, the setting most likely at fault), its configuration
    is ranked last and never chosen, and it is not trained again when the sweep is run again. Every row read
    back from the store is checked (``check_row``): a damaged one raises ``DamagedRowError`` naming the store,
    the row and what is wrong, before anything is trained.
    """
    from .executors import LocalExecutor
    from .store import ReadOnlyStoreError, config_key

    datasets = list(datasets)
    if not datasets:
        raise ValueError("datasets must hold at least one data set; got none")
    check_settings(spec)
    for dataset in datasets:
        check_memory(dataset, spec, batch_size=batch_size, memory_limit=memory_limit, n_datasets=len(datasets))
    executor = LocalExecutor() if executor is None else executor
    if executor.slots == 1 and chunk_size is None:
        chunk_size = batch_size
    configs = expand(spec)
    conditions = []  # per data set: its splits' work
    for dataset in datasets:
        splits = make_splits(dataset, folds=spec.folds_for(dataset), repeats=spec.repeats,
                             dev_fraction=spec.dev_fraction, split_seed=spec.split_seed, standardize=standardize)
        work = []
        for split in splits:
            keys = {config: config_key(config, split.fingerprint) for config in configs}
            stored = _stored_rows(store, split, keys)  # checked before anything is trained
            missing = set(store.missing(list(keys.values())))
            work.append(_Work(split, keys, [c for c in configs if keys[c] in missing], stored))
        conditions.append(work)
    todo = sum(len(w.todo) for work in conditions for w in work)
    if todo and store.read_only:
        raise ReadOnlyStoreError(
            f"results store {str(store.path)!r} is {store.why_read_only} and {todo} of the sweep's "
            f"{len(configs) * sum(len(work) for work in conditions)} models are not in it yet; nothing was trained"
        )
    options = dict(engine=engine, standardize=standardize, chunk_size=chunk_size, on_busy=on_busy, progress=progress)
    done = _train([w for work in conditions for w in work], store, executor, done=0, total=todo, **options)

    # The choice, per data set, from the dev accuracies of every unit.
    chosen = []
    for work in conditions:
        units = {w.split.fingerprint: w.split.unit for w in work}
        rows = tuple(r for w in work for r in w.rows(store))  # each split's in grid order
        summaries = tuple(summarize(rows, units))
        usable = {k: s for k, s in enumerate(summaries) if s.usable}
        if usable:
            settings = {k: s.settings for k, s in usable.items()}
            dev = {k: s.dev_units for k, s in usable.items()}
            choice = choose(dev, settings)
            frequency, over = stability(dev, settings)
        else:
            choice, frequency, over = None, {}, "no configuration trained"
        chosen.append((rows, summaries, choice, frequency, over))

    # The refit: the chosen and the baseline configuration, every seed, on all the training points.
    refits = []
    for dataset, (rows, summaries, choice, _, _) in zip(datasets, chosen):
        refit = refit_split(dataset, standardize=standardize)
        picked = {}
        if choice is not None:
            picked = {k: [spec.base.replace(**_axes_of(summaries[k].settings, spec), seed=seed) for seed in spec.seeds]
                      for k in dict.fromkeys((choice.chosen, baseline_position(summaries)))}
        keys = {config: config_key(config, refit.fingerprint) for group in picked.values() for config in group}
        stored = _stored_rows(store, refit, keys, REFIT_ACCURACIES)
        missing = set(store.missing(list(keys.values())))
        refits.append((refit, picked, _Work(refit, keys, [c for c in keys if keys[c] in missing], stored)))
    more = sum(len(w.todo) for _, _, w in refits)
    if more and store.read_only:
        raise ReadOnlyStoreError(
            f"results store {str(store.path)!r} is {store.why_read_only} and {more} models of the chosen "
            "configurations' refit on all the training points are not in it yet; nothing more was trained"
        )
    done = _train([w for _, _, w in refits], store, executor, done=done, total=todo + more, **options)

    results = []
    for (rows, summaries, choice, frequency, over), (refit, picked, work) in zip(chosen, refits):
        by_key = {r["key"]: r for r in work.rows(store, REFIT_ACCURACIES)}
        refit_rows = {k: tuple(by_key[work.keys[c]] for c in group if work.keys[c] in by_key)
                      for k, group in picked.items()}
        results.append(SweepResult(spec, tuple(w.split for w in conditions[len(results)]), rows, summaries, choice,
                                   frequency, over, refit, refit_rows, trained=todo + more))
    return results


def _axes_of(settings: Mapping, spec: SweepSpec) -> dict:
    """The settings a configuration takes from the grid's axes (the rest come from ``spec.base``)."""
    return {name: settings[name] for name in spec.axes}


def run_sweep(dataset, spec: SweepSpec, store, **options) -> SweepResult:
    """``run_sweeps`` of one data set (see there for the options)."""
    return run_sweeps([dataset], spec, store, **options)[0]
