"""Pure forward/backward pairs of the network's operations, with a leading model axis.

Arrays are in the course's (units x examples) layout with a model axis in front:
activations ``(M, n, m)``, weights ``(M, n_out, n_in)``, biases ``(M, n_out, 1)``; the input
``X`` may be shared by all models as ``(n_in, m)``. Each ``*_backward`` takes the gradient of
the cost with respect to the op's output and returns gradients with respect to its inputs.

The arithmetic follows the course's order of operations (``1./m * dZ @ A.T``, multiply by the
mask then divide by ``keep_prob``) so that the notebook's numbers come out bit for bit.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "linear_forward",
    "linear_backward",
    "relu_forward",
    "relu_backward",
    "sigmoid",
    "dropout_forward",
    "dropout_backward",
    "cross_entropy",
    "cross_entropy_backward",
]


def _t(a: np.ndarray) -> np.ndarray:
    """Transpose the last two axes."""
    return np.swapaxes(a, -1, -2)


def linear_forward(A_prev: np.ndarray, W: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``Z = W @ A_prev + b``. A_prev (M, n_in, m) or (n_in, m); W (M, n_out, n_in) -> Z (M, n_out, m)."""
    return np.matmul(W, A_prev) + b


def linear_backward(
    dZ: np.ndarray, A_prev: np.ndarray, W: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of the mean cost through ``Z = W @ A_prev + b``.

    ``dZ`` is the per-example gradient ``(M, n_out, m)`` (not yet divided by m); returns
    ``dA_prev (M, n_in, m)``, ``dW (M, n_out, n_in)`` and ``db (M, n_out, 1)`` of the mean.
    """
    m = dZ.shape[-1]
    dW = 1.0 / m * np.matmul(dZ, _t(A_prev))
    db = 1.0 / m * np.sum(dZ, axis=-1, keepdims=True)
    dA_prev = np.matmul(_t(W), dZ)
    return dA_prev, dW, db


def relu_forward(Z: np.ndarray) -> np.ndarray:
    return np.maximum(0, Z)


def relu_backward(dA: np.ndarray, A: np.ndarray) -> np.ndarray:
    """``dZ = dA * (A > 0)``, where A is the ReLU's output (the course's form)."""
    return np.multiply(dA, A > 0)


def sigmoid(Z: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-Z))``, the course's formula, without overflow warnings for very negative Z."""
    with np.errstate(over="ignore"):
        return 1 / (1 + np.exp(-Z))


def dropout_forward(A: np.ndarray, mask: np.ndarray, keep_prob: np.ndarray) -> np.ndarray:
    """Inverted dropout: ``A * mask / keep_prob``. mask (M, n, m) bool; keep_prob (M, 1, 1)."""
    return np.multiply(A, mask) / keep_prob


def dropout_backward(dA: np.ndarray, mask: np.ndarray, keep_prob: np.ndarray) -> np.ndarray:
    return np.multiply(dA, mask) / keep_prob


def cross_entropy(Z: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Mean binary cross-entropy of a sigmoid output, computed stably from its logits.

    Z (M, 1, m) logits; Y (1, m) labels in {0, 1}. Returns the cost of each model, (M,).
    Equal to the course's ``-mean(Y log A + (1 - Y) log(1 - A))`` with ``A = sigmoid(Z)``
    wherever that is finite; where the course's formula takes ``log(0)`` this gives the
    exact limit (0 for a saturated correct output, +inf only for an infinite logit) with no
    warning and no NaN.
    """
    # softplus(-z) for y = 1, softplus(z) for y = 0: -log(sigmoid(+-z)) without cancellation.
    signed = np.where(Y > 0.5, -Z, Z)
    m = Z.shape[-1]
    return 1.0 / m * np.sum(np.logaddexp(0.0, signed), axis=(-2, -1))


def cross_entropy_backward(A: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """Per-example gradient of the cross-entropy with respect to the logits: ``A - Y``."""
    return A - Y
