"""Weight penalties: their cost terms and gradients, per model.

Penalties act on weights only (not biases), at the course's scale for m training examples:

- L2: ``l2 / (2 m) * sum_l ||W_l||^2``, gradient ``l2 / m * W_l`` (the course's ``lambd``);
- L1: ``l1 / m * sum_l |W_l|_1``, gradient ``l1 / m * sign(W_l)``.

Strengths are arrays of shape (M,), one per model. Penalties compose: the training loop adds
``penalty_cost`` to the data cost and ``add_penalty_gradients`` to the data gradients.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

__all__ = ["l2_cost", "l1_cost", "penalty_cost", "add_penalty_gradients"]


def _per_model(strength: np.ndarray) -> np.ndarray:
    """(M,) -> (M, 1, 1), to broadcast against weights (M, n_out, n_in)."""
    return np.asarray(strength, dtype=float)[:, None, None]


def l2_cost(weights: Sequence[np.ndarray], l2: np.ndarray, m: int) -> np.ndarray:
    """``l2/(2m) * sum of squared weights`` for each model, (M,)."""
    squares = sum(np.sum(np.square(W), axis=(-2, -1)) for W in weights)
    return (np.asarray(l2, dtype=float) / (2 * m)) * squares


def l1_cost(weights: Sequence[np.ndarray], l1: np.ndarray, m: int) -> np.ndarray:
    """``l1/m * sum of absolute weights`` for each model, (M,)."""
    absolutes = sum(np.sum(np.abs(W), axis=(-2, -1)) for W in weights)
    return (np.asarray(l1, dtype=float) / m) * absolutes


def penalty_cost(weights: Sequence[np.ndarray], l2: np.ndarray, l1: np.ndarray, m: int) -> np.ndarray:
    """Total penalty per model, (M,)."""
    return l2_cost(weights, l2, m) + l1_cost(weights, l1, m)


def add_penalty_gradients(
    dweights: Sequence[np.ndarray],
    weights: Sequence[np.ndarray],
    l2: np.ndarray,
    l1: np.ndarray,
    m: int,
) -> list[np.ndarray]:
    """Data gradients plus the penalties' gradients (new arrays; a zero strength adds nothing)."""
    l2_scale = _per_model(l2) / m
    l1_scale = _per_model(l1) / m
    out = []
    for dW, W in zip(dweights, weights):
        if np.any(l2_scale):
            dW = dW + l2_scale * W
        if np.any(l1_scale):
            dW = dW + l1_scale * np.sign(W)
        out.append(dW)
    return out
