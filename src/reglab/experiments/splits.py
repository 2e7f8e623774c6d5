"""How a sweep splits a data set's training points: a dev split, K folds, and the refit on all of them.

The test set is never touched by a split: it is only measured, and only the refit of the chosen
configuration reports it. Every split has a fingerprint (``keys.dataset_fingerprint`` of its
points and of how it was drawn), so that the results store keeps the models of each split apart
and a sweep run again finds the ones it already trained.

- ``split_dev``: one stratified, seeded dev set of ``dev_fraction`` of the training points;
- ``fold_splits``: stratified K-fold cross-validation (``selection.stratified_folds``): K splits whose
  dev sets are disjoint and together cover every training point once;
- ``refit_split``: all the training points, no dev set: where the chosen configuration is trained last.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..validation import ParameterValueError, check_int, check_real
from .keys import dataset_fingerprint
from .selection import stratified_folds

__all__ = ["DevSplit", "split_dev", "fold_splits", "refit_split", "make_splits", "default_folds",
           "SMALL_DATA", "DEFAULT_FOLDS"]

#: Training points up to which a sweep cross-validates by default (``default_folds``).
SMALL_DATA = 1000
#: Folds of that default.
DEFAULT_FOLDS = 5


def default_folds(n_train: int) -> int:
    """``DEFAULT_FOLDS`` for small data (up to ``SMALL_DATA`` training points), where one dev set is a few
    dozen points and one point a few percent of it; 1 (a single dev split) for larger data."""
    return DEFAULT_FOLDS if n_train <= SMALL_DATA else 1


@dataclass(frozen=True)
class DevSplit:
    """Training data split into a fitting part and a dev part; the test set untouched.

    ``split_seed`` and ``fold`` say which split it is: one of ``folds`` folds (``fold`` None for a single
    dev split, and for the refit, whose dev set is empty).
    """

    name: str
    source: str
    X_fit: np.ndarray
    y_fit: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    fingerprint: str
    split_seed: int = 0
    fold: int | None = None
    folds: int = 1
    refit: bool = False

    # Plotting and reporting code reads a data set's training points under these names.
    @property
    def X_train(self) -> np.ndarray:
        return self.X_fit

    @property
    def y_train(self) -> np.ndarray:
        return self.y_fit

    @property
    def unit(self) -> tuple:
        """(split seed, fold) of the dev accuracies it measures (fold -1 for a single dev split)."""
        return (self.split_seed, -1 if self.fold is None else self.fold)

    def shared(self) -> dict:
        """Its points as a chunk's data (``chunks.train_chunk``): fitted on, then measured."""
        parts = {"X_train": self.X_fit, "y_train": self.y_fit, "X_test": self.X_test, "y_test": self.y_test}
        if not self.refit:
            parts.update(X_dev=self.X_dev, y_dev=self.y_dev)
        return parts


def _split(dataset, held: np.ndarray, how: dict, described: str, standardize: bool, **where) -> DevSplit:
    """The split of ``dataset``'s training points whose dev set is ``held`` (n,) bool."""
    X, y = np.asarray(dataset.X_train), np.asarray(dataset.y_train)
    parts = dict(X_fit=X[~held], y_fit=y[~held], X_dev=X[held], y_dev=y[held],
                 X_test=np.asarray(dataset.X_test), y_test=np.asarray(dataset.y_test))
    unfinished = DevSplit(dataset.name, described, fingerprint="", **parts, **where)
    how = how | ({"standardize": True} if standardize else {})
    return DevSplit(dataset.name, described, fingerprint=dataset_fingerprint(unfinished, dev_split=how), **parts,
                    **where)


def split_dev(dataset, dev_fraction: float = 0.25, seed: int = 0, *, standardize: bool = False) -> DevSplit:
    """Hold out ``dev_fraction`` of the training points (stratified by class, seeded) as a dev set.

    ``standardize`` only marks the split (its fingerprint) as used by standardised models, so
    that their results are stored apart from unstandardised ones.
    """
    dev_fraction = check_real("dev_fraction", dev_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False)
    y = np.asarray(dataset.y_train)
    rng = np.random.default_rng(seed)
    dev = np.zeros(y.size, dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        dev[members[: int(round(dev_fraction * members.size))]] = True
    if dev.all() or not dev.any() or np.unique(y[~dev]).size < 2:
        raise ParameterValueError(
            "dev_fraction",
            f"dev_fraction={dev_fraction:g} leaves no usable fitting or dev set from {y.size} training points"
        )
    described = f"{dataset.source}; dev set: {dev.sum()} of its {y.size} training points (seed {seed})"
    return _split(dataset, dev, {"fraction": dev_fraction, "seed": seed}, described, standardize, split_seed=seed)


def fold_splits(dataset, folds: int, seed: int = 0, *, standardize: bool = False) -> list[DevSplit]:
    """The ``folds`` splits of stratified K-fold cross-validation: fold k is the dev set of split k."""
    assignment = stratified_folds(np.asarray(dataset.y_train), folds, seed)  # (n,)
    n = assignment.size
    return [
        _split(dataset, assignment == k, {"folds": folds, "fold": k, "seed": seed},
               f"{dataset.source}; fold {k + 1} of {folds} ({np.sum(assignment == k)} of its {n} training points, "
               f"seed {seed})", standardize, split_seed=seed, fold=k, folds=folds)
        for k in range(folds)
    ]


def refit_split(dataset, *, standardize: bool = False) -> DevSplit:
    """All the training points, no dev set: the chosen configuration's last training, measured on the test set."""
    y = np.asarray(dataset.y_train)
    return _split(dataset, np.zeros(y.size, dtype=bool), {"refit": True},
                  f"{dataset.source}; all {y.size} training points", standardize, refit=True)


def make_splits(dataset, *, folds: int, repeats: int = 1, dev_fraction: float = 0.25, split_seed: int = 0,
                standardize: bool = False) -> list[DevSplit]:
    """Every split a sweep measures on: ``repeats`` draws (split seeds ``split_seed``, ``split_seed + 1``, ...)
    of K folds, or of one dev split of ``dev_fraction`` when ``folds`` is 1."""
    folds = check_int("folds", folds, low=1)
    repeats = check_int("repeats", repeats, low=1)
    seeds = range(split_seed, split_seed + repeats)
    if folds == 1:
        return [split_dev(dataset, dev_fraction, seed, standardize=standardize) for seed in seeds]
    return [split for seed in seeds for split in fold_splits(dataset, folds, seed, standardize=standardize)]
