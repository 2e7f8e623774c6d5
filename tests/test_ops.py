"""Every op's forward against an independent formula and its backward against central differences.

Arrays carry a model axis M > 1 with different values per model, so a backward that mixed models
or a forward that broadcast wrongly would fail. The scalar functions differentiated numerically are
written here, independently of reglab (einsum for matmul, tanh for the sigmoid, ...).
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from reglab.engine import network, ops, penalties
from reglab.engine.params import Params

M = 3  # models


def numeric_gradient(f, x: np.ndarray, epsilon: float = 1e-6) -> np.ndarray:
    """Central differences of the scalar f() with respect to every entry of x (perturbed in place)."""
    grad = np.zeros_like(x, dtype=float)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + epsilon
        up = f()
        x[index] = original - epsilon
        down = f()
        x[index] = original
        grad[index] = (up - down) / (2 * epsilon)
    return grad


def away_from_zero(values: np.ndarray, margin: float = 0.1) -> np.ndarray:
    """Push values to at least `margin` from 0 (keeps their sign): no kink within reach of epsilon."""
    return np.where(values >= 0, 1, -1) * np.maximum(np.abs(values), margin)


def sigmoid_tanh(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


@pytest.fixture
def rng():
    return np.random.default_rng(20240601)


# ---- linear -----------------------------------------------------------------------------------------


def einsum_linear(A, W, b):
    if A.ndim == 2:  # shared input
        return np.einsum("koi,im->kom", W, A) + b
    return np.einsum("koi,kim->kom", W, A) + b


@pytest.mark.parametrize("shared_input", [False, True])
def test_linear_forward_and_backward(rng, shared_input):
    n_in, n_out, m = 4, 3, 5
    A = rng.standard_normal((n_in, m) if shared_input else (M, n_in, m))
    W = rng.standard_normal((M, n_out, n_in))
    b = rng.standard_normal((M, n_out, 1))
    G = rng.standard_normal((M, n_out, m))

    np.testing.assert_allclose(ops.linear_forward(A, W, b), einsum_linear(A, W, b), rtol=1e-13, atol=1e-13)

    # linear_backward takes dZ = m * dJ/dZ and returns dW, db of J and dA_prev = m * dJ/dA_prev.
    # With J = sum(G * Z) / m, dZ = G.
    def J():
        return np.sum(G * einsum_linear(A, W, b)) / m

    dA, dW, db = ops.linear_backward(G, A, W)
    assert dW.shape == W.shape and db.shape == b.shape
    np.testing.assert_allclose(dW, numeric_gradient(J, W), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(db, numeric_gradient(J, b), rtol=1e-6, atol=1e-9)
    assert dA.shape == (M, n_in, m)
    if shared_input:
        # dA of each model separately; their sum is the gradient with respect to the shared input.
        np.testing.assert_allclose(dA.sum(axis=0), m * numeric_gradient(J, A), rtol=1e-6, atol=1e-9)
    else:
        np.testing.assert_allclose(dA, m * numeric_gradient(J, A), rtol=1e-6, atol=1e-9)


def test_linear_models_are_independent(rng):
    A = rng.standard_normal((M, 4, 5))
    W = rng.standard_normal((M, 3, 4))
    b = rng.standard_normal((M, 3, 1))
    G = rng.standard_normal((M, 3, 5))
    batch = ops.linear_backward(G, A, W)
    for k in range(M):
        alone = ops.linear_backward(G[k : k + 1], A[k : k + 1], W[k : k + 1])
        for together, single in zip(batch, alone):
            np.testing.assert_allclose(together[k : k + 1], single, rtol=1e-14, atol=1e-15)
        np.testing.assert_allclose(
            ops.linear_forward(A, W, b)[k], ops.linear_forward(A[k], W[k : k + 1], b[k : k + 1])[0], rtol=1e-14
        )


# ---- relu ---------------------------------------------------------------------------------------------


def test_relu_forward_and_backward(rng):
    Z = away_from_zero(rng.standard_normal((M, 4, 6)))
    G = rng.standard_normal(Z.shape)
    np.testing.assert_array_equal(ops.relu_forward(Z), np.where(Z > 0, Z, 0.0))

    def J():
        return np.sum(G * np.where(Z > 0, Z, 0.0))

    dZ = ops.relu_backward(G, ops.relu_forward(Z))
    np.testing.assert_allclose(dZ, numeric_gradient(J, Z), rtol=1e-7, atol=1e-10)
    # Hand-checked: the gradient passes exactly where Z > 0 and is 0 elsewhere.
    np.testing.assert_array_equal(dZ, np.where(Z > 0, G, 0.0))


# ---- sigmoid and cross-entropy ------------------------------------------------------------------------


def direct_cross_entropy(Z, Y):
    """The course's formula on moderate logits, per model."""
    A = sigmoid_tanh(Z)
    return -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A), axis=(-2, -1))


def test_sigmoid_matches_tanh_form_and_saturates_quietly(rng):
    Z = 4 * rng.standard_normal((M, 1, 7))
    np.testing.assert_allclose(ops.sigmoid(Z), sigmoid_tanh(Z), rtol=1e-14, atol=1e-16)
    assert ops.sigmoid(np.array(0.0)) == 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        extreme = ops.sigmoid(np.array([-800.0, 800.0]))
    np.testing.assert_array_equal(extreme, [0.0, 1.0])


def test_cross_entropy_matches_direct_formula(rng):
    m = 9
    Z = 3 * rng.standard_normal((M, 1, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)
    cost = ops.cross_entropy(Z, Y)
    assert cost.shape == (M,)
    np.testing.assert_allclose(cost, direct_cross_entropy(Z, Y), rtol=1e-12)


def test_cross_entropy_hand_computed():
    # Logit 0 costs log 2 whatever the label; logit log(3) on label 1: -log(3/4).
    Z = np.array([[[0.0, np.log(3.0)]]])
    Y = np.array([[0.0, 1.0]])
    expected = (np.log(2.0) + np.log(4.0 / 3.0)) / 2
    np.testing.assert_allclose(ops.cross_entropy(Z, Y), [expected], rtol=1e-15)


def test_cross_entropy_backward_is_the_gradient_of_the_mean(rng):
    m = 7
    Z = 2 * rng.standard_normal((M, 1, m))
    Y = (rng.random((1, m)) < 0.5).astype(float)

    def J():
        return np.sum(direct_cross_entropy(Z, Y))  # models add up; each depends on its own logits

    # Per-example gradient: dZ = m * dJ/dZ.
    dZ = ops.cross_entropy_backward(ops.sigmoid(Z), Y)
    np.testing.assert_allclose(dZ, m * numeric_gradient(J, Z), rtol=1e-6, atol=1e-9)


def test_cross_entropy_is_finite_and_quiet_at_extreme_logits():
    Z = np.array([[[800.0, -800.0, 800.0, -800.0]], [[30.0, -30.0, 800.0, -800.0]]])
    Y = np.array([[1.0, 0.0, 0.0, 1.0]])
    with warnings.catch_warnings(), np.errstate(over="raise", divide="raise", invalid="raise"):
        warnings.simplefilter("error")
        cost = ops.cross_entropy(Z, Y)
    assert np.all(np.isfinite(cost))
    # Model 0: two right by 800 (cost ~0) and two wrong by 800 (cost 800 each) -> mean 400.
    # Model 1: right by 30 twice (log1p(exp(-30)) each), wrong by 800 twice.
    np.testing.assert_allclose(cost, [400.0, (2 * np.log1p(np.exp(-30.0)) + 1600.0) / 4], rtol=1e-15)
    # The naive formula is not finite there (which is why ops computes from logits).
    with np.errstate(all="ignore"):
        naive = direct_cross_entropy(Z, Y)
    assert not np.all(np.isfinite(naive))


# ---- dropout ------------------------------------------------------------------------------------------


def test_dropout_forward_and_backward(rng):
    A = rng.standard_normal((M, 4, 6))
    mask = rng.random(A.shape) < 0.6
    keep_prob = np.array([0.5, 0.8, 1.0])[:, None, None]  # (M, 1, 1), one per model
    G = rng.standard_normal(A.shape)

    expected = np.where(mask, A / keep_prob, 0.0)
    np.testing.assert_allclose(ops.dropout_forward(A, mask, keep_prob), expected, rtol=1e-15)

    def J():
        return np.sum(G * np.where(mask, A / keep_prob, 0.0))

    dA = ops.dropout_backward(G, mask, keep_prob)
    np.testing.assert_allclose(dA, numeric_gradient(J, A), rtol=1e-7, atol=1e-10)
    # Hand-checked: dropped units get nothing, kept ones G / keep_prob of their model.
    assert np.all(dA[~mask] == 0)
    np.testing.assert_allclose(dA[1][mask[1]], G[1][mask[1]] / 0.8, rtol=1e-15)


# ---- penalties ----------------------------------------------------------------------------------------


def test_penalties_hand_computed():
    # One model, W1 = [[1, -2]], W2 = [[3]], m = 4, l2 = 0.5, l1 = 0.2.
    weights = [np.array([[[1.0, -2.0]]]), np.array([[[3.0]]])]
    l2, l1, m = np.array([0.5]), np.array([0.2]), 4
    # L2: 0.5 / 8 * (1 + 4 + 9) = 0.875; L1: 0.2 / 4 * (1 + 2 + 3) = 0.3.
    np.testing.assert_allclose(penalties.l2_cost(weights, l2, m), [0.875], rtol=1e-15)
    np.testing.assert_allclose(penalties.l1_cost(weights, l1, m), [0.3], rtol=1e-15)
    np.testing.assert_allclose(penalties.penalty_cost(weights, l2, l1, m), [1.175], rtol=1e-15)
    # Gradients: l2/m * W = 0.125 W and l1/m * sign(W) = 0.05 sign(W), added to the data gradient.
    data = [np.full((1, 1, 2), 1.0), np.full((1, 1, 1), -1.0)]
    dW1, dW2 = penalties.add_penalty_gradients(data, weights, l2, l1, m)
    np.testing.assert_allclose(dW1, [[[1.0 + 0.125 + 0.05, 1.0 - 0.25 - 0.05]]], rtol=1e-15)
    np.testing.assert_allclose(dW2, [[[-1.0 + 0.375 + 0.05]]], rtol=1e-15)
    np.testing.assert_array_equal(data[0], [[[1.0, 1.0]]])  # inputs untouched


def test_penalties_against_central_differences_per_model(rng):
    m = 6
    weights = [away_from_zero(rng.standard_normal((M, 3, 2))), away_from_zero(rng.standard_normal((M, 1, 3)))]
    l2 = np.array([0.0, 0.7, 2.0])
    l1 = np.array([0.3, 0.0, 1.5])

    def J():
        return np.sum(
            sum(
                l2 / (2 * m) * np.sum(W**2, axis=(1, 2)) + l1 / m * np.sum(np.abs(W), axis=(1, 2))
                for W in weights
            )
        )

    cost = penalties.penalty_cost(weights, l2, l1, m)
    assert cost.shape == (M,)
    np.testing.assert_allclose(np.sum(cost), J(), rtol=1e-14)
    zeros = [np.zeros_like(W) for W in weights]
    grads = penalties.add_penalty_gradients(zeros, weights, l2, l1, m)
    for dW, W in zip(grads, weights):
        np.testing.assert_allclose(dW, numeric_gradient(J, W), rtol=1e-7, atol=1e-10)


def test_zero_strengths_add_nothing(rng):
    weights = [rng.standard_normal((2, 3, 2))]
    zero = np.zeros(2)
    np.testing.assert_array_equal(penalties.penalty_cost(weights, zero, zero, 5), [0.0, 0.0])
    data = [rng.standard_normal((2, 3, 2))]
    np.testing.assert_array_equal(penalties.add_penalty_gradients(data, weights, zero, zero, 5)[0], data[0])


# ---- network of other depths ----------------------------------------------------------------------


def independent_hidden(params: Params, X, masks, keep_prob):
    """ReLU outputs of every hidden layer (before dropout) and the logits, written with einsum and np.where."""
    A, relus = X, []
    for W, b in zip(params.weights[:-1], params.biases[:-1]):
        Z = einsum_linear(A, W, b)
        relus.append(np.where(Z > 0, Z, 0.0))
        A = independent_dropout(relus[-1], masks, keep_prob, len(relus) - 1)
    return relus, einsum_linear(A, params.weights[-1], params.biases[-1])


def independent_dropout(R, masks, keep_prob, layer):
    if masks is None:
        return R
    return np.where(masks[layer], R / keep_prob[:, layer, None, None], 0.0)


def independent_cost(params: Params, X, Y, masks, keep_prob) -> float:
    """Sum over models of the mean cross-entropy of the independent forward pass."""
    return float(np.sum(direct_cross_entropy(independent_hidden(params, X, masks, keep_prob)[1], Y)))


def random_network(rng, sizes, m, margin=1e-2):
    """Params (M models), X (n_0, m), Y (1, m) with every hidden pre-activation at least `margin` from 0."""
    for _ in range(1000):
        X = rng.standard_normal((sizes[0], m))
        params = Params(
            tuple(rng.standard_normal((M, o, i)) / np.sqrt(i) for i, o in zip(sizes[:-1], sizes[1:])),
            tuple(0.1 * rng.standard_normal((M, o, 1)) for o in sizes[1:]),
        )
        A, ok = X, True
        for W, b in zip(params.weights[:-1], params.biases[:-1]):
            Z = einsum_linear(A, W, b)
            ok = ok and np.min(np.abs(Z)) >= margin
            A = np.maximum(Z, 0)
        if ok:
            return params, X, (rng.random((1, m)) < 0.5).astype(float)
    raise AssertionError("no kink-free draw")


@pytest.mark.parametrize("sizes", [(2, 5, 1), (3, 4, 5, 3, 4, 1)], ids=["1 hidden", "4 hidden"])
@pytest.mark.parametrize("dropout", [False, True], ids=["no dropout", "dropout"])
def test_network_backward_against_central_differences(rng, sizes, dropout):
    m = 6
    params, X, Y = random_network(rng, sizes, m)
    n_hidden = len(sizes) - 2
    keep_prob = np.linspace(0.5, 0.9, M * n_hidden).reshape(M, n_hidden)
    masks = [rng.random((M, n, m)) < 0.7 for n in sizes[1:-1]] if dropout else None

    cache = network.forward(params, X, masks, keep_prob)
    grads = network.backward(params, cache, Y, keep_prob)
    np.testing.assert_allclose(
        ops.cross_entropy(cache.logits, Y).sum(), independent_cost(params, X, Y, masks, keep_prob), rtol=1e-12
    )

    def J():
        return independent_cost(params, X, Y, masks, keep_prob)

    for dW, W in zip(grads.dweights, params.weights):
        np.testing.assert_allclose(dW, numeric_gradient(J, W), rtol=1e-6, atol=1e-9)
    for db, b in zip(grads.dbiases, params.biases):
        np.testing.assert_allclose(db, numeric_gradient(J, b), rtol=1e-6, atol=1e-9)

    # dinputs[-1]: m * dJ/dR for the last hidden layer's ReLU output R (before dropout; the course's dA).
    R = independent_hidden(params, X, masks, keep_prob)[0][-1]

    def J_from_last():
        A = independent_dropout(R, masks, keep_prob, n_hidden - 1)
        logits = einsum_linear(A, params.weights[-1], params.biases[-1])
        return float(np.sum(direct_cross_entropy(logits, Y)))

    np.testing.assert_allclose(grads.dinputs[-1], m * numeric_gradient(J_from_last, R), rtol=1e-6, atol=1e-9)


def test_network_models_are_independent(rng):
    params, X, Y = random_network(rng, (2, 4, 3, 1), 5)
    masks = [rng.random((M, n, 5)) < 0.7 for n in (4, 3)]
    keep_prob = np.array([[0.7, 0.7], [0.5, 1.0], [0.9, 0.6]])
    grads = network.backward(params, network.forward(params, X, masks, keep_prob), Y, keep_prob)
    for k in range(M):
        alone = params.model(k)
        single_masks = [mask[k : k + 1] for mask in masks]
        single_keep = keep_prob[k : k + 1]
        single = network.backward(alone, network.forward(alone, X, single_masks, single_keep), Y, single_keep)
        for together, one in zip((*grads.dweights, *grads.dbiases), (*single.dweights, *single.dbiases)):
            np.testing.assert_allclose(together[k : k + 1], one, rtol=1e-14, atol=1e-16)
