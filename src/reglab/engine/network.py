"""One forward and one backward pass for any depth: (LINEAR -> RELU [-> DROPOUT]) x H -> LINEAR -> SIGMOID.

Everything carries the leading model axis M (see ``params``). Dropout is applied to hidden
activations when masks are given; penalties are not here (see ``penalties``): they add their
cost and gradient outside, so every combination of regularizers uses these same two functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from . import ops
from .params import Params

__all__ = ["ForwardCache", "Grads", "forward", "backward", "predict_proba"]


class ForwardCache(NamedTuple):
    """What the backward pass needs.

    inputs[l] is what enters layer l: ``X`` (n_0, m) for l = 0, then the hidden activations
    after ReLU and dropout, (M, n_l, m). ``masks`` is None without dropout.
    """

    inputs: tuple[np.ndarray, ...]
    masks: tuple[np.ndarray, ...] | None
    logits: np.ndarray  # (M, 1, m)
    output: np.ndarray  # (M, 1, m), sigmoid(logits)


class Grads(NamedTuple):
    dweights: tuple[np.ndarray, ...]  # like Params.weights
    dbiases: tuple[np.ndarray, ...]  # like Params.biases
    dinputs: tuple[np.ndarray, ...]  # m * dJ/dR, R each hidden ReLU output before dropout (course dA_l), (M, n_l, m)


def forward(
    params: Params,
    X: np.ndarray,
    masks: Sequence[np.ndarray] | None = None,
    keep_prob: np.ndarray | None = None,
) -> ForwardCache:
    """Forward pass of M networks on X (n_0, m) or (M, n_0, m).

    masks: one boolean (M, n_l, m) per hidden layer, with keep_prob (M, H); None for no dropout.
    """
    A = X
    inputs = [X]
    n_layers = len(params.weights)
    for layer, (W, b) in enumerate(zip(params.weights, params.biases)):
        Z = ops.linear_forward(A, W, b)
        if layer == n_layers - 1:
            return ForwardCache(tuple(inputs), None if masks is None else tuple(masks), Z, ops.sigmoid(Z))
        A = ops.relu_forward(Z)
        if masks is not None:
            A = ops.dropout_forward(A, masks[layer], keep_prob[:, layer, None, None])
        inputs.append(A)
    raise AssertionError("unreachable: a network has at least one layer")


def backward(
    params: Params, cache: ForwardCache, Y: np.ndarray, keep_prob: np.ndarray | None = None
) -> Grads:
    """Gradients of the mean cross-entropy (no penalty) for every model. Y (1, m) in {0, 1}."""
    n_layers = len(params.weights)
    dweights: list[np.ndarray] = [None] * n_layers  # type: ignore[list-item]
    dbiases: list[np.ndarray] = [None] * n_layers  # type: ignore[list-item]
    dinputs: list[np.ndarray] = [None] * (n_layers - 1)  # type: ignore[list-item]
    dZ = ops.cross_entropy_backward(cache.output, Y)
    for layer in range(n_layers - 1, -1, -1):
        dA_prev, dweights[layer], dbiases[layer] = ops.linear_backward(
            dZ, cache.inputs[layer], params.weights[layer]
        )
        if layer == 0:
            break
        hidden = layer - 1
        if cache.masks is not None:
            dA_prev = ops.dropout_backward(dA_prev, cache.masks[hidden], keep_prob[:, hidden, None, None])
        dinputs[hidden] = dA_prev
        dZ = ops.relu_backward(dA_prev, cache.inputs[layer])
    return Grads(tuple(dweights), tuple(dbiases), tuple(dinputs))


def predict_proba(params: Params, X: np.ndarray) -> np.ndarray:
    """Probability of class 1, (M, m), for X (n_0, m): the network without dropout."""
    return forward(params, X).output[:, 0, :]
