"""Update rules outside the cost: decoupled weight decay and the max-norm constraint.

Both act on weights only (biases untouched), per model, after the gradient step::

    W <- (1 - weight_decay) * W - learning_rate * dW      # decoupled weight decay
    W[k, :] <- W[k, :] * min(1, max_norm / ||W[k, :]||)   # max-norm of each unit's incoming weights

Decoupled weight decay shrinks the weights by a fixed fraction per iteration, whatever the
learning rate and the number of examples; L2 adds ``l2/m * W`` to the gradient and is part of the
cost. For plain gradient descent the two coincide when ``weight_decay = learning_rate * l2 / m``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["decay_and_step", "project_max_norm"]


def decay_and_step(W: np.ndarray, dW: np.ndarray, learning_rate: np.ndarray, weight_decay: np.ndarray) -> np.ndarray:
    """``(1 - weight_decay) * W - learning_rate * dW``; W, dW (M, n_out, n_in); rates (M, 1, 1)."""
    if not np.any(weight_decay):
        return W - learning_rate * dW
    return (1 - weight_decay) * W - learning_rate * dW


def project_max_norm(W: np.ndarray, max_norm: np.ndarray) -> np.ndarray:
    """Rescale every row (a unit's incoming weights) whose norm exceeds its model's ``max_norm``.

    W (M, n_out, n_in); max_norm (M,), ``inf`` for no constraint.
    """
    limit = np.asarray(max_norm, dtype=float)[:, None, None]
    if np.all(np.isinf(limit)):
        return W
    norms = np.sqrt(np.sum(np.square(W), axis=-1, keepdims=True))  # (M, n_out, 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.where(norms > limit, limit / norms, 1.0)
    return W * factor
