"""Early stopping on a dev set: watch each model's dev cost, keep its best weights, stop when
no model improves any more.

A training loop calls it (as its ``watch``) at its record points with the current parameters; it
returns True when every watched model has run out of patience. ``best_params`` then gives, per
model, the weights of its lowest dev cost (models not watched keep their last weights).
"""

from __future__ import annotations

import numpy as np

from . import network, ops
from .params import Params

__all__ = ["EarlyStopping", "stratified_holdout"]


def stratified_holdout(y: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask (n,) of a seeded, class-stratified holdout of about ``fraction`` of y."""
    rng = np.random.default_rng(seed)
    held = np.zeros(y.size, dtype=bool)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        rng.shuffle(members)
        held[members[: max(1, int(round(fraction * members.size)))]] = True
    if held.all() or np.unique(y[~held]).size < 2:
        raise ValueError(
            f"validation_fraction={fraction:g} leaves too few training points of each class out of {y.size}"
        )
    return held


class EarlyStopping:
    """Monitor of M models' dev cost (cross-entropy, no penalty) at record points.

    X_dev (n_0, m_dev), Y_dev (1, m_dev); watched (M,) bool: models that use early stopping;
    patience (M,): record points without improvement before a model stops; min_delta (M,): the
    smallest decrease of dev cost that counts as an improvement.
    """

    def __init__(self, X_dev, Y_dev, watched, patience, min_delta):
        self.X_dev, self.Y_dev = X_dev, Y_dev
        self.watched = np.asarray(watched, dtype=bool)
        self.patience = np.asarray(patience, dtype=int)
        self.min_delta = np.asarray(min_delta, dtype=float)
        n = self.watched.size
        self.best_cost = np.full(n, np.inf)
        self.best_iteration = np.full(n, -1)
        self.stopped_at = np.full(n, -1)  # -1: still training
        self.waited = np.zeros(n, dtype=int)
        self.iterations: list[int] = []
        self.dev_cost: list[np.ndarray] = []
        self.dev_accuracy: list[np.ndarray] = []
        self._best: Params | None = None

    def __call__(self, iteration: int, params: Params, cost=None) -> bool:
        """Record the dev metrics at ``iteration``; True when every watched model has stopped."""
        cache = network.forward(params, self.X_dev)
        cost = ops.cross_entropy(cache.logits, self.Y_dev)  # (M,)
        accuracy = np.mean((cache.output[:, 0, :] > 0.5) == (self.Y_dev > 0.5), axis=-1)
        self.iterations.append(iteration)
        self.dev_cost.append(cost)
        self.dev_accuracy.append(accuracy)
        running = self.watched & (self.stopped_at < 0)
        improved = running & (cost < self.best_cost - self.min_delta)
        if self._best is None:
            self._best = Params(tuple(W.copy() for W in params.weights), tuple(b.copy() for b in params.biases))
        for kept, now in zip(self._best.weights + self._best.biases, params.weights + params.biases):
            kept[improved] = now[improved]
        self.best_cost[improved] = cost[improved]
        self.best_iteration[improved] = iteration
        self.waited[improved] = 0
        self.waited[running & ~improved] += 1
        self.stopped_at[running & (self.waited > self.patience)] = iteration
        return bool(self.watched.any() and np.all(self.stopped_at[self.watched] >= 0))

    def best_params(self, final: Params) -> Params:
        """Final parameters with each watched model's best weights put back."""
        if self._best is None:
            return final
        weights, biases = [], []
        for kept, now in zip(self._best.weights, final.weights):
            weights.append(np.where(self.watched[:, None, None], kept, now))
        for kept, now in zip(self._best.biases, final.biases):
            biases.append(np.where(self.watched[:, None, None], kept, now))
        return Params(tuple(weights), tuple(biases))
