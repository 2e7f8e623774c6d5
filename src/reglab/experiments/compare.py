"""Experiments built from training runs: the notebook's comparison of named models.

``compare`` trains named configurations on one data set and measures each; it returns a
``CompareResult`` (no printing, no files: see ``reglab.report`` for the run folder).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .._signals import interrupts_deferred
from ..config import COURSE_CONFIGS, TrainConfig
from ..divergence import about
from ..engine.loop import TrainingDivergedError
from ..model import Model
from ..training import fit_many
from ..validation import check_seeds

if TYPE_CHECKING:  # pragma: no cover
    from ..stats import Difference

__all__ = ["ModelResult", "CompareResult", "compare", "course_study_configs", "SeedStudy", "compare_seeds", "measure"]

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class ModelResult:
    """One trained model of a comparison and its measurements."""

    name: str
    model: Model
    train_accuracy: float
    test_accuracy: float
    final_cost: float
    seconds: float
    n_train: int
    n_test: int

    @property
    def config(self) -> TrainConfig:
        return self.model.config

    def row(self) -> dict:
        return {
            "model": self.name,
            "train_accuracy": self.train_accuracy,
            "test_accuracy": self.test_accuracy,
            "final_cost": self.final_cost,
            "seconds": self.seconds,
            "n_train": self.n_train,
            "n_test": self.n_test,
        }


@dataclass(frozen=True)
class CompareResult:
    """The outcome of ``compare``: one ``ModelResult`` per named configuration, in order."""

    dataset: object = field(repr=False)  # reglab.datasets.Dataset
    results: tuple[ModelResult, ...]
    engine: str
    threads: int = 1  # models trained at the same time (each on its own thread)

    def rows(self) -> list[dict]:
        return [r.row() for r in self.results]

    @property
    def models(self) -> dict[str, Model]:
        return {r.name: r.model for r in self.results}

    def __getitem__(self, name: str) -> ModelResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(f"no model named {name!r}; models: {[r.name for r in self.results]}")


def course_study_configs(
    base: TrainConfig | None = None, *, l2: float = 0.7, keep_prob=0.86
) -> dict[str, TrainConfig]:
    """The notebook's three models built on ``base`` settings: plain, L2 (``l2``), dropout (``keep_prob``).

    With the defaults this is ``reglab.COURSE_CONFIGS``.
    """
    if base is None and l2 == 0.7 and keep_prob == 0.86:
        return dict(COURSE_CONFIGS)
    base = base if base is not None else TrainConfig()
    base = base.replace(l2=0.0, l1=0.0, keep_prob=1.0)
    dropout = base.replace(keep_prob=keep_prob)
    keep_text = ",".join(f"{p:g}" for p in dropout.keep_prob)
    if len(set(dropout.keep_prob)) == 1:
        keep_text = f"{dropout.keep_prob[0]:g}"
    return {
        "no regularization": base,
        f"L2 (lambd={l2:g})": base.replace(l2=l2),
        f"dropout (keep_prob={keep_text})": dropout,
    }


def compare(
    dataset,
    configs: Mapping[str, TrainConfig] | None = None,
    *,
    engine: str = "compiled",
    record_every: int = 100,
    progress: Progress | None = None,
    standardize: bool = False,
    on_result: Callable[[ModelResult], None] | None = None,
) -> CompareResult:
    """Train each named configuration on ``dataset`` and measure it.

    Parameters
    ----------
    dataset : reglab.datasets.Dataset
        Train and test sets (``X_train (n, f)``, ``y_train (n,)``, ``X_test``, ``y_test``).
    configs : mapping of name to TrainConfig, optional
        Defaults to the notebook's three models (``reglab.COURSE_CONFIGS``).
    engine : str
        Training engine (see ``reglab.fit_many``).
    progress : callable(done, total), optional
        Called with iterations done over all models (from the training threads, one call at a time).
    standardize : bool
        Centre and scale each feature by the training points' mean and standard deviation.
    on_result : callable(ModelResult), optional
        Called with each model's result as soon as it is measured, while the others may still train
        (from the training threads, one call at a time), e.g. ``reglab.report.CompareRun.add``. An
        error it raises stops the comparison.

    Returns
    -------
    CompareResult
        Each model with its train and test accuracy, final recorded cost and training time.

    Notes
    -----
    The models train at the same time, one per thread, on up to as many threads as the process has
    CPU cores (``CompareResult.threads``); each is trained exactly as ``reglab.fit`` alone would, and
    its time is its own wall time, which overlaps the others'.
    """
    _check_dataset(dataset)
    configs = _check_configs(configs)
    total = sum(c.n_iterations for c in configs.values())
    done = dict.fromkeys(configs, 0)  # iterations done per model
    lock = threading.Lock()
    stop = threading.Event()  # set when one model fails or the caller is interrupted: the others stop too
    finished = threading.Lock()  # on_result: one call at a time (not under `lock`: the others' progress goes on)

    def train(name: str) -> ModelResult:
        def report(i, n):
            if stop.is_set():
                raise _Stopped
            with lock:
                done[name] = i
                if progress is not None:
                    progress(sum(done.values()), total)

        start = time.perf_counter()
        try:
            model = fit_many(
                dataset.X_train, dataset.y_train, [configs[name]], engine=engine, record_every=record_every,
                progress=report, standardize=standardize,
            )[0]
        except TrainingDivergedError as error:
            raise about(error, lambda index: f"model {name!r}") from None
        result = measure(name, model, dataset, seconds=time.perf_counter() - start)
        if on_result is not None:
            with finished:
                if stop.is_set():  # the caller is cleaning up after a failure or Ctrl-C
                    raise _Stopped
                on_result(result)
        return result

    # One model per thread: the compiled loop releases the GIL, so the models train at the same time on
    # the machine's cores, each exactly as alone (a batch would share one parallel loop, whose threads
    # wait for each other at every record point: slower than this when another program uses a core).
    workers = min(len(configs), _cores())
    if workers == 1:
        return CompareResult(dataset, tuple(train(name) for name in configs), engine, workers)
    # Longest first (dropout makes an iteration about a third longer), so that the threads end together.
    first = sorted(configs, key=lambda name: configs[name].n_iterations * (4 if configs[name].uses_dropout else 3),
                   reverse=True)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reglab-compare") as pool:
        futures = []
        try:
            with interrupts_deferred():  # a thread started unknown to the pool would not be waited for
                started = {name: pool.submit(train, name) for name in first}
            futures = [started[name] for name in configs]
            wait(futures, return_when=FIRST_EXCEPTION)
            for future in futures:  # a failure first: the models still training are stopped below
                if future.done() and future.exception() is not None:
                    future.result()
            results = tuple(future.result() for future in futures)
        except BaseException:  # a failed model, or Ctrl-C: the others end at their next record point
            stop.set()
            for future in futures:
                future.cancel()
            raise
    return CompareResult(dataset, results, engine, workers)


def _check_dataset(dataset) -> None:
    if not all(hasattr(dataset, name) for name in ("X_train", "y_train", "X_test", "y_test")):
        raise TypeError(
            "dataset must be a data set with training and test points, e.g. reglab.datasets.resolve_data('field') "
            f"or resolve_data('path/to/data.mat'); got {type(dataset).__name__}"
        )


def _check_configs(configs) -> dict[str, TrainConfig]:
    """The named configurations as a dict (the notebook's three if None), each checked."""
    if configs is None:
        return dict(COURSE_CONFIGS)
    if not isinstance(configs, Mapping):
        raise TypeError(f"configs must map model names to TrainConfig, e.g. {{'plain': TrainConfig()}}; "
                        f"got {type(configs).__name__}")
    if not configs:
        raise ValueError("configs must name at least one model; got none")
    for name, config in configs.items():
        if not isinstance(config, TrainConfig):
            raise TypeError(f"configs[{name!r}] must be a TrainConfig; got {type(config).__name__}")
    return dict(configs)


def _cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class _Stopped(Exception):
    """Ends a training thread of ``compare`` early because another one failed or was interrupted."""


def measure(name: str, model: Model, dataset, seconds: float = float("nan")) -> ModelResult:
    """A trained model's accuracies on a data set's train and test points, its final cost and time."""
    return ModelResult(
        name=name,
        model=model,
        train_accuracy=model.accuracy(dataset.X_train, dataset.y_train),
        test_accuracy=model.accuracy(dataset.X_test, dataset.y_test),
        final_cost=float(np.asarray(model.history.cost)[-1]),
        seconds=seconds,
        n_train=len(dataset.y_train),
        n_test=len(dataset.y_test),
    )


@dataclass(frozen=True)
class SeedStudy:
    """Each named model trained with several seeds (fresh initialisation and masks), plus its
    single run with the settings as given (by default the notebook's course masks)."""

    dataset: object = field(repr=False)
    seeds: tuple[int, ...]
    runs: dict  # name -> tuple of ModelResult, one per seed
    single: CompareResult  # the settings as given, one run each

    def summary(self) -> list[dict]:
        """Per model: mean and 95% interval of train and test accuracy over seeds, and the single run."""
        from ..stats import mean_interval

        rows = []
        for name, results in self.runs.items():
            rows.append(
                {
                    "model": name,
                    "train": mean_interval([r.train_accuracy for r in results], bounds=(0.0, 1.0)),
                    "test": mean_interval([r.test_accuracy for r in results], bounds=(0.0, 1.0)),
                    "single_train": self.single[name].train_accuracy,
                    "single_test": self.single[name].test_accuracy,
                    "n_seeds": len(results),
                }
            )
        return rows

    def differences(self, metric: str = "test_accuracy") -> list[tuple[str, str, Difference]]:
        """Each model against the first (the unregularized one, in the notebook's study): (name, first, the
        paired difference of ``metric`` over the seeds they share)."""
        from ..stats import paired_difference

        names = list(self.runs)
        first = [getattr(r, metric) for r in self.runs[names[0]]]
        return [(name, names[0], paired_difference([getattr(r, metric) for r in self.runs[name]], first))
                for name in names[1:]]


def compare_seeds(
    dataset,
    configs: Mapping[str, TrainConfig] | None = None,
    seeds: Sequence[int] = tuple(range(5)),
    *,
    engine: str = "compiled",
    progress: Progress | None = None,
    standardize: bool = False,
    on_result: Callable[[ModelResult], None] | None = None,
) -> SeedStudy:
    """Train each named configuration once as given and once per seed with fresh init and masks.

    The spread over seeds shows how much of a difference between models is noise; the single run
    (by default the notebook's, with its fixed dropout masks) is kept beside it for comparison.
    ``on_result`` is called with each model of the single run as in ``compare``.
    """
    _check_dataset(dataset)
    configs = _check_configs(configs)
    seeds = tuple(check_seeds(seeds))
    total = sum(c.n_iterations for c in configs.values()) * (len(seeds) + 1)
    done = [0]

    def report(i, n):
        if progress is not None:
            progress(done[0] + i, total)

    single = compare(dataset, configs, engine=engine, progress=report, standardize=standardize, on_result=on_result)
    done[0] += sum(c.n_iterations for c in configs.values())
    varied = {
        f"{name}\0{seed}": config.replace(init="fresh", mask_mode="fresh", seed=seed)
        for name, config in configs.items()
        for seed in seeds
    }
    try:
        batch = fit_many(dataset.X_train, dataset.y_train, list(varied.values()), engine=engine,
                         progress=lambda i, n: report(i, n), standardize=standardize)
    except TrainingDivergedError as error:
        keys = list(varied)
        raise about(error, lambda index: "model {!r} with seed {}".format(*keys[index].split("\0"))) from None
    runs: dict[str, list[ModelResult]] = {name: [] for name in configs}
    for key, model in zip(varied, batch):
        name = key.split("\0")[0]
        runs[name].append(measure(name, model, dataset, seconds=float("nan")))
    if progress is not None:
        progress(total, total)
    return SeedStudy(dataset, seeds, {k: tuple(v) for k, v in runs.items()}, single)
