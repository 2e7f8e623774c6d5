"""Decoupled weight decay, max-norm and early stopping: behaviour, equivalences, files, errors."""

from __future__ import annotations

import numpy as np
import pytest

import reglab
from reglab.engine import network, ops
from reglab.engine.early_stopping import stratified_holdout


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    X = rng.uniform(-1, 1, size=(120, 2))
    y = (X[:, 1] > 0.6 * X[:, 0] + 0.2 * np.sin(5 * X[:, 0])).astype(int)
    flip = rng.random(120) < 0.12  # label noise to overfit
    return X, np.where(flip, 1 - y, y)


def _max_difference(a, b):
    return max(np.max(np.abs(x - y)) for x, y in zip(a.params.weights + a.params.biases, b.params.weights + b.params.biases))


def test_decoupled_decay_equals_l2_for_gradient_descent(data):
    # For plain gradient descent, W - lr (dW + l2/m W) = (1 - lr l2/m) W - lr dW.
    X, y = data
    m, lr, l2 = X.shape[0], 0.3, 0.9
    with_l2 = reglab.fit(X, y, reglab.TrainConfig(l2=l2, learning_rate=lr, n_iterations=400), engine="reference")
    decayed = reglab.fit(X, y, reglab.TrainConfig(weight_decay=lr * l2 / m, learning_rate=lr, n_iterations=400),
                         engine="reference")
    assert _max_difference(with_l2, decayed) < 1e-12
    # ... but unlike L2 it is not part of the cost.
    assert with_l2.history.cost[0] > decayed.history.cost[0]


def test_more_decay_gives_smaller_weights(data):
    X, y = data
    norms = [reglab.fit(X, y, reglab.TrainConfig(weight_decay=wd, n_iterations=600)).weight_norm()
             for wd in (0.0, 1e-4, 1e-3, 1e-2)]
    assert norms == sorted(norms, reverse=True) and norms[-1] < 0.5 * norms[0]


def test_max_norm_bounds_every_units_incoming_weights(data):
    X, y = data
    model = reglab.fit(X, y, reglab.TrainConfig(max_norm=0.8, n_iterations=500))
    for W in model.params.weights:
        assert np.linalg.norm(W[0], axis=1).max() <= 0.8 * (1 + 1e-12)
    plain = reglab.fit(X, y, reglab.TrainConfig(n_iterations=500), engine="reference")
    assert max(np.linalg.norm(W[0], axis=1).max() for W in plain.params.weights) > 0.8
    loose = reglab.fit(X, y, reglab.TrainConfig(max_norm=1e6, n_iterations=500), engine="reference")
    assert _max_difference(plain, loose) == 0.0  # a constraint that never binds changes nothing


def test_early_stopping_stops_keeps_the_best_weights_and_records_why(data, tmp_path):
    X, y = data
    config = reglab.TrainConfig(hidden_layer_sizes=(40, 10), n_iterations=20000, early_stopping=True, patience=4,
                                validation_fraction=0.25, init="fresh", seed=4)
    model = reglab.fit(X, y, config)
    h = model.history
    assert h.early_stopped and 0 <= h.best_iteration < h.stopped_iteration < 20000
    assert h.stopped_iteration - h.best_iteration == 5 * 100  # patience + 1 record points of 100 iterations
    assert h.iterations[-1] == h.stopped_iteration and h.dev_cost.shape == h.iterations.shape
    # The weights kept are those of the lowest dev cost, measured here independently.
    held = stratified_holdout((y == 1).astype(float), 0.25, seed=0)
    logits = network.forward(model.params, X[held].T).logits
    dev_cost = float(ops.cross_entropy(logits, (y[held] == 1)[None, :].astype(float))[0])
    assert dev_cost == pytest.approx(h.dev_cost.min(), rel=1e-12)
    assert h.dev_cost[list(h.iterations).index(h.best_iteration)] == h.dev_cost.min()
    loaded = reglab.load_model(model.save(tmp_path / "es.npz"))
    assert (loaded.history.best_iteration, loaded.history.stopped_iteration) == (h.best_iteration, h.stopped_iteration)
    np.testing.assert_array_equal(loaded.history.dev_accuracy, h.dev_accuracy)


def test_early_stopping_in_a_batch_matches_one_by_one(data):
    X, y = data
    configs = [reglab.TrainConfig(n_iterations=3000, early_stopping=True, patience=p, init="fresh", seed=s)
               for p, s in ((2, 1), (6, 2))]
    together = reglab.fit_many(X, y, configs)
    for config, model in zip(configs, together):
        alone = reglab.fit(X, y, config)
        assert _max_difference(alone, model) < 1e-12
        assert alone.history.best_iteration == model.history.best_iteration


def test_the_compiled_engine_agrees_with_the_reference_for_these_settings(data):
    X, y = data
    config = reglab.TrainConfig(weight_decay=1e-3, max_norm=2.0, n_iterations=300)
    a = reglab.fit(X, y, config, engine="compiled")
    b = reglab.fit(X, y, config, engine="reference")
    assert _max_difference(a, b) < 1e-9  # the engines round differently: equal to rounding


@pytest.mark.parametrize(
    "settings, message",
    [
        (dict(weight_decay=-0.1), "weight_decay"),
        (dict(weight_decay=1.0), "weight_decay"),
        (dict(max_norm=0.0), "max_norm"),
        (dict(early_stopping="yes"), "early_stopping must be True or False"),
        (dict(validation_fraction=0.0), "validation_fraction"),
        (dict(patience=0), "patience"),
        (dict(min_delta=-1.0), "min_delta"),
    ],
)
def test_bad_settings(settings, message):
    with pytest.raises((ValueError, TypeError), match=message):
        reglab.TrainConfig(**settings)


def test_early_stopping_needs_points_of_both_classes_left():
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(ValueError, match="validation_fraction"):
        reglab.fit(X, [0, 0, 0, 1], reglab.TrainConfig(early_stopping=True, validation_fraction=0.5, n_iterations=10))


def test_early_stopping_on_an_explicit_dev_set(data):
    X, y = data
    X_fit, y_fit, X_dev, y_dev = X[:80], y[:80], X[80:], y[80:]
    config = reglab.TrainConfig(n_iterations=4000, early_stopping=True, patience=3, init="fresh", seed=2)
    model = reglab.fit(X_fit, y_fit, config, X_dev=X_dev, y_dev=y_dev, engine="reference")
    h = model.history
    # the watched accuracy is the model's accuracy on the dev set at the kept iteration
    kept = list(h.iterations).index(h.best_iteration)
    assert h.dev_accuracy[kept] == model.accuracy(X_dev, y_dev)
    # all of X_fit trained: the first recorded cost is the cost on all 80 points
    start = reglab.fit(X_fit, y_fit, config.replace(early_stopping=False, n_iterations=1), engine="reference")
    assert h.cost[0] == start.history.cost[0]
    with pytest.raises(ValueError, match="y_dev must hold only the training classes"):
        reglab.fit(X_fit, y_fit, config, X_dev=X_dev, y_dev=np.full(len(y_dev), 7))
    with pytest.raises(ValueError, match="together"):
        reglab.fit(X_fit, y_fit, config, X_dev=X_dev)
    with pytest.raises(ValueError, match="X_dev must have 2 features"):
        reglab.fit(X_fit, y_fit, config, X_dev=X_dev[:, :1], y_dev=y_dev)
