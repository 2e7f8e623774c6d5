"""The reference training loop: readable NumPy, the definition of correct.

``train_loop`` runs full-batch gradient descent for M networks at once (each with its own
learning rate, penalties and keep_prob) and returns their parameters and a ``History`` of the
cost. ``reglab.fit`` and ``reglab.fit_many`` are the validated public entries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import constraints, network, penalties
from .params import Params

__all__ = [
    "Watch",
    "Hyper",
    "History",
    "TrainingDivergedError",
    "train_loop",
    "objective",
    "gradients",
    "recorded_iterations",
    "check_finite",
    "Progress",
]

Progress = Callable[[int, int], None]
#: ``watch(iteration, params, cost)`` at every record point: the parameters of that iteration (before its
#: update) and the cost (M,); True ends training there.
Watch = Callable[[int, Params, np.ndarray], bool]


class TrainingDivergedError(ValueError):
    """The cost became NaN or infinite, or rose far above where it started (see ``DIVERGENCE_FACTOR``).

    ``models``: the positions along the model axis of every model that diverged at that check, with their
    ``costs`` and first recorded costs ``start_costs`` (None when not known), at ``iteration``.
    ``reglab.fit_many`` adds ``divergences``: which configuration it was and why (``reglab.divergence``).
    """

    def __init__(self, message: str = "", *, models=(), iteration: int | None = None, costs=(), start_costs=None,
                 divergences=()):
        super().__init__(message)
        self.models, self.iteration, self.costs = tuple(models), iteration, tuple(costs)
        self.start_costs = None if start_costs is None else tuple(start_costs)
        self.divergences: tuple = tuple(divergences)


@dataclass(frozen=True)
class History:
    """Cost recorded during training.

    iterations (T,): the iterations at which the cost was recorded (before that iteration's
    update); cost (M, T) for a batch of M models, or (T,) for one model. With early stopping,
    dev_cost and dev_accuracy (like cost) are measured on the held-out points at the same
    iterations; best_iteration is the one whose weights were kept and stopped_iteration the one
    at which training stopped (-1: it ran to the end); (M,) or scalars.
    """

    iterations: np.ndarray
    cost: np.ndarray
    dev_cost: np.ndarray | None = None
    dev_accuracy: np.ndarray | None = None
    best_iteration: np.ndarray | int | None = None
    stopped_iteration: np.ndarray | int | None = None

    def model(self, i: int) -> History:
        if self.dev_cost is None:
            return History(self.iterations, self.cost[i])
        return History(self.iterations, self.cost[i], self.dev_cost[i], self.dev_accuracy[i],
                       int(self.best_iteration[i]), int(self.stopped_iteration[i]))

    @property
    def early_stopped(self) -> bool:
        return self.dev_cost is not None

    @property
    def final_cost(self) -> float:
        return float(self.cost[..., -1])


class Hyper(NamedTuple):
    """Per-model training settings as arrays."""

    learning_rate: np.ndarray  # (M,)
    l2: np.ndarray  # (M,)
    l1: np.ndarray  # (M,)
    keep_prob: np.ndarray  # (M, H)
    weight_decay: np.ndarray | None = None  # (M,); None: no decay
    max_norm: np.ndarray | None = None  # (M,), inf for no constraint; None: none for any model

    @property
    def uses_dropout(self) -> bool:
        return bool(np.any(self.keep_prob < 1))


def objective(
    params: Params, X: np.ndarray, Y: np.ndarray, hyper: Hyper, masks=None
) -> tuple[np.ndarray, network.ForwardCache]:
    """Regularized cost per model (M,): cross-entropy plus penalties; with its forward cache."""
    cache = network.forward(params, X, masks, hyper.keep_prob)
    m = X.shape[-1]
    cost = network.ops.cross_entropy(cache.logits, Y) + penalties.penalty_cost(
        params.weights, hyper.l2, hyper.l1, m
    )
    return cost, cache


def gradients(
    params: Params, cache: network.ForwardCache, Y: np.ndarray, hyper: Hyper
) -> tuple[list[np.ndarray], tuple[np.ndarray, ...]]:
    """(dweights, dbiases) of the regularized cost."""
    grads = network.backward(params, cache, Y, hyper.keep_prob)
    m = Y.shape[-1]
    dweights = penalties.add_penalty_gradients(grads.dweights, params.weights, hyper.l2, hyper.l1, m)
    return dweights, grads.dbiases


def recorded_iterations(n_iterations: int, record_every: int) -> list[int]:
    """The iterations whose cost is recorded: 0, record_every, 2 * record_every, ... and the last."""
    points = list(range(0, n_iterations, record_every))
    if points[-1] != n_iterations - 1:
        points.append(n_iterations - 1)
    return points


def train_loop(
    X: np.ndarray,
    Y: np.ndarray,
    params: Params,
    hyper: Hyper,
    mask_source=None,
    n_iterations: int = 30000,
    record_every: int = 100,
    progress: Progress | None = None,
    watch: Watch | None = None,
) -> tuple[Params, History]:
    """Full-batch gradient descent for M networks at once.

    X (n_0, m) shared by all models; Y (1, m) in {0, 1}. ``mask_source`` (see ``masks``) is
    called every iteration when not None. The cost of iteration i (before its update, as the
    course records it) is kept for i = 0, record_every, 2*record_every, ... and the last one;
    ``progress(i + 1, n_iterations)`` is called at those points, then ``watch(i, params, cost (M,))``
    (e.g. ``EarlyStopping``, or a page drawing the live boundary), whose True ends training there,
    before that iteration's update.
    Decoupled weight decay and the max-norm constraint (``hyper``) act after each step.
    """
    hidden_shapes = [(n, X.shape[-1]) for n in params.layer_sizes[1:-1]]
    lr = hyper.learning_rate[:, None, None]  # (M, 1, 1)
    decay = 0.0 if hyper.weight_decay is None else hyper.weight_decay[:, None, None]  # (M, 1, 1)
    recorded_at = recorded_iterations(n_iterations, record_every)
    record = set(recorded_at)
    costs = np.empty((params.n_models, len(recorded_at)))
    column = 0
    weights, biases = list(params.weights), list(params.biases)
    # Overflow in a diverging model is caught below as a non-finite cost, with a clear message.
    with np.errstate(over="ignore", invalid="ignore"):
        for i in range(n_iterations):
            current = Params(tuple(weights), tuple(biases))
            masks = None if mask_source is None else mask_source(hidden_shapes)
            if i in record:
                cost, cache = objective(current, X, Y, hyper, masks)
                costs[:, column] = cost
                column += 1
                check_finite(cost, i, hyper, start_cost=costs[:, 0])
                if progress is not None:
                    progress(i + 1, n_iterations)
                if watch is not None and watch(i, current, cost):
                    break
            else:
                cache = network.forward(current, X, masks, hyper.keep_prob)
            dweights, dbiases = gradients(current, cache, Y, hyper)
            for layer in range(len(weights)):
                weights[layer] = constraints.decay_and_step(weights[layer], dweights[layer], lr, decay)
                if hyper.max_norm is not None:
                    weights[layer] = constraints.project_max_norm(weights[layer], hyper.max_norm)
                biases[layer] = biases[layer] - lr * dbiases[layer]
    final = Params(tuple(weights), tuple(biases))
    recorded_at, costs = recorded_at[:column], costs[:, :column]  # shorter when stopped early
    finite = np.all([np.isfinite(W).all(axis=(1, 2)) for W in final.weights], axis=0)  # (M,)
    check_finite(np.where(finite, 0.0, np.nan), n_iterations, hyper)
    return final, History(np.array(recorded_at), costs)


#: A recorded cost above DIVERGENCE_FACTOR * max(first recorded cost, log 2) counts as diverged.
DIVERGENCE_FACTOR = 100.0


def check_finite(cost: np.ndarray, iteration: int, hyper: Hyper, start_cost: np.ndarray | None = None) -> None:
    # The cross-entropy is computed from logits, so it stays finite when a too-large step has blown
    # the weights up (dead ReLUs, a saturated output): a cost far above its start counts as well.
    high = np.zeros(cost.shape, dtype=bool)
    if start_cost is not None:
        ceiling = DIVERGENCE_FACTOR * np.maximum(start_cost, np.log(2.0))
        high = np.isfinite(cost) & (cost > ceiling)
    bad = ~np.isfinite(cost)
    models = np.flatnonzero(high | bad)
    if not models.size:
        return
    details = dict(models=models.tolist(), iteration=iteration, costs=cost[models].tolist(),
                   start_costs=None if start_cost is None else start_cost[models].tolist())
    if high.any():
        k = int(np.flatnonzero(high)[0])
        raise TrainingDivergedError(
            f"training diverged: the cost of model {k} rose from {start_cost[k]:.4g} at iteration 0 to "
            f"{cost[k]:.4g} by iteration {iteration} with learning_rate={hyper.learning_rate[k]:g}; "
            f"use a smaller learning_rate", **details
        )
    k = int(np.flatnonzero(bad)[0])
    raise TrainingDivergedError(
        f"training diverged: the cost of model {k} became {cost[k]} by iteration {iteration} "
        f"with learning_rate={hyper.learning_rate[k]:g}; use a smaller learning_rate", **details
    )
