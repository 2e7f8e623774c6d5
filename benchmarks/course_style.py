"""The baseline of reglab's benchmarks: the course notebook's own style of NumPy training loop.

The loop is written here as the notebook writes it: parameters in a dict, np.dot, one forward, one
cost, one backward and one update per iteration (the dropout model with the notebook's
np.random.rand masks, from a private RandomState and not re-seeded at every iteration as the
notebook does).
"""

from __future__ import annotations

import numpy as np

__all__ = ["course_style_loop", "course_parameters"]


def course_parameters(layer_sizes=(2, 20, 3, 1), seed: int = 3) -> dict:
    """The course's initial parameters (np.random.seed(3), randn / sqrt(fan-in)), from a private RandomState."""
    legacy = np.random.RandomState(seed)
    parameters = {}
    for layer in range(1, len(layer_sizes)):
        parameters[f"W{layer}"] = legacy.randn(layer_sizes[layer], layer_sizes[layer - 1]) / np.sqrt(layer_sizes[layer - 1])
        parameters[f"b{layer}"] = np.zeros((layer_sizes[layer], 1))
    return parameters


def course_style_loop(X, Y, parameters, learning_rate, n_iterations, keep_prob=1.0, seed=1, with_cost=True, l2=0.0):
    """The notebook's model() loop for [2, 20, 3, 1], with dicts and np.dot; L2 (``l2``, its lambd) as the
    notebook's compute_cost_with_regularization and backward_propagation_with_regularization add it.

    As in the notebook, the cross-entropy cost is computed at every iteration and kept every 1000
    (``with_cost=False`` leaves it out: a leaner loop than the course's, shown for comparison).
    """
    rand = np.random.RandomState(seed).rand
    p = {key: value.copy() for key, value in parameters.items()}
    m = X.shape[1]
    costs = []
    for i in range(n_iterations):
        W1, b1, W2, b2, W3, b3 = p["W1"], p["b1"], p["W2"], p["b2"], p["W3"], p["b3"]
        Z1 = np.dot(W1, X) + b1
        A1 = np.maximum(0, Z1)
        if keep_prob < 1:
            D1 = rand(A1.shape[0], A1.shape[1]) < keep_prob
            A1 = A1 * D1 / keep_prob
        Z2 = np.dot(W2, A1) + b2
        A2 = np.maximum(0, Z2)
        if keep_prob < 1:
            D2 = rand(A2.shape[0], A2.shape[1]) < keep_prob
            A2 = A2 * D2 / keep_prob
        Z3 = np.dot(W3, A2) + b3
        A3 = 1 / (1 + np.exp(-Z3))
        if with_cost:
            with np.errstate(divide="ignore", invalid="ignore"):  # log(0) where A3 rounds to 0 or 1
                cost = 1.0 / m * np.nansum(np.multiply(-np.log(A3), Y) + np.multiply(-np.log(1 - A3), 1 - Y))
            if l2:
                cost += 1.0 / m * l2 / 2 * (np.sum(np.square(W1)) + np.sum(np.square(W2)) + np.sum(np.square(W3)))
            if i % 1000 == 0:
                costs.append(cost)
        dZ3 = A3 - Y
        dW3 = 1.0 / m * np.dot(dZ3, A2.T)
        db3 = 1.0 / m * np.sum(dZ3, axis=1, keepdims=True)
        dA2 = np.dot(W3.T, dZ3)
        if keep_prob < 1:
            dA2 = dA2 * D2 / keep_prob
        dZ2 = np.multiply(dA2, np.int64(A2 > 0))
        dW2 = 1.0 / m * np.dot(dZ2, A1.T)
        db2 = 1.0 / m * np.sum(dZ2, axis=1, keepdims=True)
        dA1 = np.dot(W2.T, dZ2)
        if keep_prob < 1:
            dA1 = dA1 * D1 / keep_prob
        dZ1 = np.multiply(dA1, np.int64(A1 > 0))
        dW1 = 1.0 / m * np.dot(dZ1, X.T)
        db1 = 1.0 / m * np.sum(dZ1, axis=1, keepdims=True)
        if l2:
            dW1, dW2, dW3 = dW1 + l2 / m * W1, dW2 + l2 / m * W2, dW3 + l2 / m * W3
        grads = {"W1": dW1, "b1": db1, "W2": dW2, "b2": db2, "W3": dW3, "b3": db3}
        for key in p:
            p[key] = p[key] - learning_rate * grads[key]
    return p
