"""The gradient checker: every regularizer combination passes, and a wrong gradient is caught."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.io

from reglab.engine import loop as train, network, ops, penalties
from reglab.engine.gradcheck import GradcheckResult, KinkError, gradient_check, run_gradchecks
from reglab.engine.masks import CourseMasks
from reglab.engine.params import Params, init_course
from reglab.engine.loop import Hyper

ALL_NAMES = [
    "plain",
    "L2",
    "L1",
    "L2 + L1",
    "dropout",
    "L2 + dropout",
    "L1 + dropout",
    "L2 + L1 + dropout",
    "dropout (per-layer keep_prob)",
    "L2 + dropout (per-layer keep_prob)",
    "L1 + dropout (per-layer keep_prob)",
    "L2 + L1 + dropout (per-layer keep_prob)",
]
DROPOUT_NAMES = {name for name in ALL_NAMES if "dropout" in name}
L2_NAMES = {name for name in ALL_NAMES if "L2" in name}


def _hyper(l2=0.0, l1=0.0, keep_prob=(1.0, 1.0)) -> Hyper:
    return Hyper(np.ones(1), np.array([l2]), np.array([l1]), np.array([keep_prob], dtype=float))


def _small_problem(seed=5):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((3, 6))
    Y = np.array([[1.0, 0.0, 1.0, 1.0, 0.0, 0.0]])
    params = Params(
        tuple(rng.standard_normal((1, o, i)) for i, o in [(3, 4), (4, 2), (2, 1)]),
        tuple(0.1 * rng.standard_normal((1, o, 1)) for o in (4, 2, 1)),
    )
    return X, Y, params


# ---- every combination passes ------------------------------------------------------------------


def test_default_run_checks_every_combination_and_all_pass():
    results = run_gradchecks()
    assert [r.name for r in results] == ALL_NAMES
    for r in results:
        assert isinstance(r, GradcheckResult)
        assert r.threshold == 1e-7
        assert r.passed, f"{r.name}: relative error {r.relative_error:.3g}"
        assert r.relative_error < 1e-7
        # [3, 5, 3, 1]: 3*5 + 5 + 5*3 + 3 + 3*1 + 1 weights and biases
        assert r.n_parameters == 42


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(seed=1),
        dict(seed=2, n_examples=5),
        dict(seed=3, layer_sizes=(2, 6, 3, 1), n_examples=7),
        dict(seed=4, layer_sizes=(4, 3, 3, 2, 1), keep_prob=0.5, l2=3.0, l1=1.0),
    ],
)
def test_other_problems_pass(kwargs):
    results = run_gradchecks(**kwargs)
    assert len(results) == 12
    assert all(r.passed for r in results), [(r.name, r.relative_error) for r in results]


def test_one_hidden_layer_has_no_per_layer_variant():
    results = run_gradchecks(layer_sizes=(2, 4, 1))
    assert [r.name for r in results] == ALL_NAMES[:8]
    assert all(r.passed for r in results)
    assert results[0].n_parameters == 2 * 4 + 4 + 4 + 1


def test_a_stricter_threshold_can_fail():
    results = run_gradchecks(layer_sizes=(2, 3, 1), threshold=1e-16)
    assert not any(r.passed for r in results)
    assert all(r.threshold == 1e-16 for r in results)


def test_on_the_course_data_and_course_masks(course_data_path):
    data = scipy.io.loadmat(course_data_path)
    X, Y = data["X"].T, data["y"].T.astype(float)  # (2, 211), (1, 211)
    params = init_course((2, 20, 3, 1))
    for hyper in (_hyper(), _hyper(l2=0.7), _hyper(l2=0.7, l1=0.1)):
        assert gradient_check(X, Y, params, hyper) < 1e-7
    dropout = _hyper(keep_prob=(0.86, 0.86))
    masks = CourseMasks(dropout.keep_prob)([(20, 211), (3, 211)])
    assert gradient_check(X, Y, params, dropout, masks) < 1e-7


def test_params_are_left_unchanged():
    X, Y, params = _small_problem()
    before = [a.copy() for a in (*params.weights, *params.biases)]
    gradient_check(X, Y, params, _hyper(l2=0.5, l1=0.2))
    for old, new in zip(before, (*params.weights, *params.biases)):
        np.testing.assert_array_equal(old, new)


# ---- the checker itself can fail ----------------------------------------------------------------


def test_doubled_gradient_gives_one_third(monkeypatch):
    # g = 2 g_num exactly would give ||g - g_num|| / (||g|| + ||g_num||) = 1/3.
    X, Y, params = _small_problem()
    correct = train.gradients

    def doubled(*args):
        dweights, dbiases = correct(*args)
        return [2 * dW for dW in dweights], tuple(2 * db for db in dbiases)

    monkeypatch.setattr(train, "gradients", doubled)
    assert gradient_check(X, Y, params, _hyper(l2=0.5)) == pytest.approx(1 / 3, rel=1e-6)


def test_dropout_backward_without_rescaling_is_caught(monkeypatch):
    monkeypatch.setattr(ops, "dropout_backward", lambda dA, mask, keep_prob: np.multiply(dA, mask))
    results = {r.name: r for r in run_gradchecks()}
    for name, r in results.items():
        if name in DROPOUT_NAMES:
            assert not r.passed and r.relative_error > 1e-3, name
        else:
            assert r.passed, name


def test_l2_gradient_at_half_scale_is_caught(monkeypatch):
    correct = penalties.add_penalty_gradients

    def half_l2(dweights, weights, l2, l1, m):
        return correct(dweights, weights, np.asarray(l2) / 2, l1, m)

    monkeypatch.setattr(penalties, "add_penalty_gradients", half_l2)
    for r in run_gradchecks():
        if r.name in L2_NAMES:
            assert not r.passed and r.relative_error > 1e-3, r.name
        else:
            assert r.passed, r.name


def test_l1_cost_without_division_by_m_is_caught(monkeypatch):
    # A wrong cost (not a wrong gradient) shows up too: the numeric side uses the cost.
    def l1_cost_times_m(weights, l1, m):
        return np.asarray(l1) * sum(np.sum(np.abs(W), axis=(-2, -1)) for W in weights)

    monkeypatch.setattr(penalties, "l1_cost", l1_cost_times_m)
    results = {r.name: r for r in run_gradchecks()}
    assert not results["L1"].passed and results["L1"].relative_error > 1e-3
    assert results["plain"].passed and results["L2 + dropout"].passed


def test_relu_backward_letting_everything_through_is_caught(monkeypatch):
    monkeypatch.setattr(ops, "relu_backward", lambda dA, A: dA)
    assert not any(r.passed for r in run_gradchecks())


def test_network_backward_missing_the_first_layer_bias_is_caught(monkeypatch):
    correct = network.backward

    def no_db1(*args, **kwargs):
        grads = correct(*args, **kwargs)
        return grads._replace(dbiases=(np.zeros_like(grads.dbiases[0]), *grads.dbiases[1:]))

    monkeypatch.setattr(network, "backward", no_db1)
    assert not any(r.passed for r in run_gradchecks())


# ---- kinks ----------------------------------------------------------------------------------------


def test_a_relu_kink_is_refused():
    X, Y, params = _small_problem()
    # Put the first hidden unit's pre-activation on example 0 exactly at 0.
    params.biases[0][0, 0, 0] = -(params.weights[0][0, 0] @ X[:, 0])
    with pytest.raises(KinkError, match="ReLU of hidden layer 1"):
        gradient_check(X, Y, params, _hyper())


def test_an_l1_kink_is_refused_but_only_with_l1():
    X, Y, params = _small_problem()
    params.weights[1][0, 1, 2] = 3e-7
    with pytest.raises(KinkError, match=r"W2\[1, 2\].*L1"):
        gradient_check(X, Y, params, _hyper(l1=0.3))
    assert gradient_check(X, Y, params, _hyper(l2=0.3)) < 1e-7


# ---- argument errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(seed=-1), "seed must be an integer >= 0; got -1"),
        (dict(layer_sizes=(3, 1)), r"layer_sizes must be \(n_inputs, hidden..., 1\).*got \(3, 1\)"),
        (dict(layer_sizes=(3, 5, 2)), r"layer_sizes .*got \(3, 5, 2\)"),
        (dict(layer_sizes=(3, 0, 1)), r"layer_sizes\[1\] must be an integer >= 1; got 0"),
        (dict(n_examples=0), "n_examples must be an integer >= 1; got 0"),
        (dict(l2=0.0), "l2 must be a real number > 0; got 0.0"),
        (dict(l1=-1.0), "l1 must be a real number > 0; got -1.0"),
        (dict(keep_prob=0.0), r"keep_prob must be a real number in \(0, 1\]; got 0.0"),
        (dict(keep_prob=1.5), r"keep_prob must be a real number in \(0, 1\]; got 1.5"),
        (dict(threshold=0), "threshold must be a real number > 0; got 0"),
    ],
)
def test_run_gradchecks_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        run_gradchecks(**kwargs)


def test_gradient_check_rejects_bad_arguments():
    X, Y, params = _small_problem()
    with pytest.raises(ValueError, match="epsilon must be a real number > 0; got 0"):
        gradient_check(X, Y, params, _hyper(), epsilon=0)
    two = Params(
        tuple(np.concatenate([W, W]) for W in params.weights), tuple(np.concatenate([b, b]) for b in params.biases)
    )
    with pytest.raises(ValueError, match="M = 2"):
        gradient_check(X, Y, two, _hyper())
    with pytest.raises(ValueError, match=r"X must be \(n_0, m\) = \(3, m >= 1\).*got shape \(6, 3\)"):
        gradient_check(X.T, Y, params, _hyper())
    with pytest.raises(ValueError, match=r"Y must have shape \(1, m\) = \(1, 6\); got \(6,\)"):
        gradient_check(X, Y[0], params, _hyper())
    with pytest.raises(ValueError, match="Y must hold labels 0 and 1"):
        gradient_check(X, 0.5 * Y, params, _hyper())
    with pytest.raises(ValueError, match=r"hyper.keep_prob must have shape \(1, 2\); got \(1, 3\)"):
        gradient_check(X, Y, params, _hyper(keep_prob=(1.0, 1.0, 1.0)))
    with pytest.raises(ValueError, match=r"hyper.l2 must be a real number >= 0; got -1.0"):
        gradient_check(X, Y, params, _hyper(l2=-1.0))
    with pytest.raises(ValueError, match="masks must be given when hyper.keep_prob < 1"):
        gradient_check(X, Y, params, _hyper(keep_prob=(0.5, 1.0)))
    with pytest.raises(ValueError, match="masks must be a sequence of 2 arrays"):
        gradient_check(X, Y, params, _hyper(keep_prob=(0.5, 1.0)), [np.ones((1, 4, 6), bool)])
    with pytest.raises(ValueError, match=r"masks\[1\] must be a bool array of shape \(1, 2, 6\)"):
        wrong_shape = [np.ones((1, 4, 6), bool), np.ones((1, 2, 5), bool)]
        gradient_check(X, Y, params, _hyper(keep_prob=(0.5, 1.0)), wrong_shape)
