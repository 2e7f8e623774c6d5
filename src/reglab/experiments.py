"""Experiments built from training runs: the notebook's comparison of named models.

``compare`` trains named configurations on one data set and measures each; it returns a
``CompareResult`` (no printing, no files: see ``reglab.report`` for the run folder).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from .config import COURSE_CONFIGS, TrainConfig
from .model import Model
from .train import fit

__all__ = ["ModelResult", "CompareResult", "compare", "course_study_configs"]

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

    dataset: object  # reglab.datasets.Dataset
    results: tuple[ModelResult, ...]
    engine: str

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
    engine: str = "reference",
    record_every: int = 100,
    progress: Progress | None = None,
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
        Called with iterations done over all models.

    Returns
    -------
    CompareResult
        Each model with its train and test accuracy, final recorded cost and training time.
    """
    configs = dict(COURSE_CONFIGS if configs is None else configs)
    if not configs:
        raise ValueError("configs must name at least one model; got none")
    total = sum(c.n_iterations for c in configs.values())
    done = 0
    results = []
    for name, config in configs.items():
        offset = done

        def report(i, n, _offset=offset):
            if progress is not None:
                progress(_offset + i, total)

        start = time.perf_counter()
        model = fit(
            dataset.X_train, dataset.y_train, config, engine=engine, record_every=record_every, progress=report
        )
        seconds = time.perf_counter() - start
        done += config.n_iterations
        results.append(
            ModelResult(
                name=name,
                model=model,
                train_accuracy=model.accuracy(dataset.X_train, dataset.y_train),
                test_accuracy=model.accuracy(dataset.X_test, dataset.y_test),
                final_cost=float(np.asarray(model.history.cost)[-1]),
                seconds=seconds,
                n_train=len(dataset.y_train),
                n_test=len(dataset.y_test),
            )
        )
    return CompareResult(dataset, tuple(results), engine)
