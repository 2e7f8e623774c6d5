"""reglab.sklearn.RegularizedMLPClassifier: scikit-learn's estimator checks, the places users put an
estimator (grid search, pipelines, cross-validation, decision-boundary displays), labels, the L2
scale against MLPClassifier, and model files shared with the library and the CLI."""

from __future__ import annotations

import csv
import subprocess
import sys
import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import make_blobs, make_moons  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.inspection import DecisionBoundaryDisplay  # noqa: E402
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score  # noqa: E402
from sklearn.multiclass import OneVsRestClassifier  # noqa: E402
from sklearn.neural_network import MLPClassifier  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import reglab  # noqa: E402
from reglab.sklearn import RegularizedMLPClassifier  # noqa: E402

ESTIMATOR = "RegularizedMLPClassifier"


@pytest.fixture(scope="module")
def moons():
    return make_moons(n_samples=200, noise=0.2, random_state=0)


# ---- scikit-learn's own checks ----------------------------------------------------------------
def _with_checks(estimators):
    """``parametrize_with_checks`` with its cases in a list: scikit-learn < 1.6 hands pytest a
    generator, which recent pytest deprecates (an error under ``filterwarnings = error``)."""
    mark = parametrize_with_checks(estimators).mark
    argnames, argvalues = mark.args
    return pytest.mark.parametrize(argnames, list(argvalues), **mark.kwargs)


@_with_checks(
    [
        RegularizedMLPClassifier(max_iter=200),
        RegularizedMLPClassifier(max_iter=200, l2=0.7, keep_prob=0.86),
    ]
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


def test_import_reglab_does_not_import_scikit_learn():
    code = "import sys, reglab; print('sklearn' in sys.modules)"
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "False"


# ---- where users put it ------------------------------------------------------------------------
def test_grid_search_over_l2_and_keep_prob_picks_a_working_strength_and_refits(moons):
    X, y = moons
    # l2 = 100 shrinks every weight by 15% a step: the network collapses to one class.
    grid = GridSearchCV(
        RegularizedMLPClassifier(max_iter=1500, random_state=0),
        {"l2": [0.0, 100.0], "keep_prob": [1.0, 0.9]},
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
    )
    grid.fit(X, y)
    assert grid.best_params_["l2"] == 0.0
    assert grid.best_params_["keep_prob"] in (1.0, 0.9)
    best = grid.best_estimator_
    assert best.model_.config.l2 == 0.0
    assert best.model_.config.keep_prob == (grid.best_params_["keep_prob"],) * 2
    assert best.n_features_in_ == 2 and best.loss_curve_.shape == (16,)
    assert grid.score(X, y) > 0.9
    collapsed = grid.cv_results_["mean_test_score"][np.asarray(grid.cv_results_["param_l2"]) == 100.0]
    assert np.all(collapsed < 0.6)


def test_pipeline_with_standard_scaler_equals_scaling_by_hand(moons):
    X, y = moons
    X = X * np.array([1000.0, 0.001])  # features on scales lr 0.3 cannot train on directly
    pipeline = make_pipeline(StandardScaler(), RegularizedMLPClassifier(max_iter=2000, random_state=1)).fit(X, y)
    assert pipeline.score(X, y) > 0.9
    scaled = StandardScaler().fit_transform(X)
    by_hand = RegularizedMLPClassifier(max_iter=2000, random_state=1).fit(scaled, y)
    np.testing.assert_array_equal(pipeline.predict_proba(X), by_hand.predict_proba(scaled))


def test_standardize_learns_the_scaling_and_applies_it_in_every_method(moons):
    X, y = moons
    X = X * np.array([1000.0, 0.001]) + np.array([5.0, -3.0])
    clf = RegularizedMLPClassifier(max_iter=2000, random_state=1, standardize=True).fit(X, y)
    assert clf.score(X, y) > 0.9
    np.testing.assert_allclose(clf.model_.input_mean, X.mean(axis=0))
    logits = clf.decision_function(X)
    np.testing.assert_allclose(1 / (1 + np.exp(-logits)), clf.predict_proba(X)[:, 1], rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), (logits > 0).astype(int))


def test_cross_val_score_scores_every_fold(moons):
    X, y = moons
    scores = cross_val_score(RegularizedMLPClassifier(max_iter=1500, random_state=0), X, y, cv=4)
    assert scores.shape == (4,)
    assert np.all(scores > 0.8)


def test_decision_boundary_display_draws_the_estimator_probability(moons):
    X, y = moons
    clf = RegularizedMLPClassifier(max_iter=1000, random_state=0).fit(X, y)
    display = DecisionBoundaryDisplay.from_estimator(clf, X, response_method="predict_proba", grid_resolution=30)
    grid = np.column_stack([display.xx0.ravel(), display.xx1.ravel()])
    np.testing.assert_array_equal(display.response.ravel(), clf.predict_proba(grid)[:, 1])
    assert display.ax_ is not None and display.surface_ is not None
    # The default response method works too.
    DecisionBoundaryDisplay.from_estimator(clf, X)


# ---- labels --------------------------------------------------------------------------------------
def test_string_labels_are_the_zero_one_model_relabelled(moons):
    X, y = moons
    names = np.array(["cat", "dog"])[y]
    numeric = RegularizedMLPClassifier(max_iter=500, random_state=2).fit(X, y)
    named = RegularizedMLPClassifier(max_iter=500, random_state=2).fit(X, names)
    np.testing.assert_array_equal(named.classes_, ["cat", "dog"])
    np.testing.assert_array_equal(named.predict(X), np.array(["cat", "dog"])[numeric.predict(X)])
    np.testing.assert_array_equal(named.predict_proba(X), numeric.predict_proba(X))
    assert named.score(X, names) == numeric.score(X, y) > 0.85


def test_labels_other_than_zero_and_one_map_the_larger_to_the_positive_class(moons):
    X, y = moons
    signed = np.where(y == 1, 7, -7)
    clf = RegularizedMLPClassifier(max_iter=500, random_state=2).fit(X, signed)
    np.testing.assert_array_equal(clf.classes_, [-7, 7])
    reference = RegularizedMLPClassifier(max_iter=500, random_state=2).fit(X, y)
    np.testing.assert_array_equal(clf.decision_function(X), reference.decision_function(X))


def test_three_classes_are_refused_with_the_way_out():
    X, y = make_blobs(n_samples=90, centers=3, random_state=0)
    with pytest.raises(ValueError, match=r"Only binary classification is supported.*3 classes \(0, 1, 2\).*OneVsRest"):
        RegularizedMLPClassifier(max_iter=10).fit(X, y)


def test_one_vs_rest_wrapper_handles_three_classes():
    X, y = make_blobs(n_samples=150, centers=3, random_state=0)
    X = StandardScaler().fit_transform(X)
    ovr = OneVsRestClassifier(RegularizedMLPClassifier(max_iter=500, random_state=0)).fit(X, y)
    assert set(ovr.predict(X)) == {0, 1, 2}
    assert ovr.score(X, y) > 0.9


def test_a_single_class_is_refused():
    with pytest.raises(ValueError, match="y must hold two classes; got one class: 'a'"):
        RegularizedMLPClassifier(max_iter=10).fit([[0.0], [1.0]], ["a", "a"])


# ---- parameters ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("settings", "error", "match"),
    [
        ({"l2": -1.0}, ValueError, r"The 'l2' parameter of RegularizedMLPClassifier must be .* Got -1.0 instead"),
        ({"l1": "a lot"}, TypeError, r"The 'l1' parameter of RegularizedMLPClassifier must be"),
        ({"keep_prob": 1.5}, ValueError, r"The 'keep_prob' parameter of RegularizedMLPClassifier must be"),
        ({"keep_prob": (0.5, 0.5, 0.5)}, ValueError, r"keep_prob must be one number or 2 numbers .* got 3"),
        ({"keep_prob": (0.5, 0.0)}, ValueError, r"keep_prob\[1\] must be a real number in \(0, 1\]; got 0.0"),
        ({"hidden_layer_sizes": (20, 0)}, ValueError, r"hidden_layer_sizes\[1\] must be an integer >= 1; got 0"),
        ({"learning_rate": 0}, ValueError, r"The 'learning_rate' parameter of .* must be a float in the range \(0(\.0)?, inf\)"),
        ({"max_iter": 0}, ValueError, r"The 'max_iter' parameter of .* must be an int in the range \[1, 1000000000\]"),
        ({"init": "he"}, ValueError, r"The 'init' parameter of .* must be a str among .*'course'.*Got 'he'"),
        ({"mask_mode": "fixed"}, ValueError, r"The 'mask_mode' parameter .* Got 'fixed'"),
        ({"engine": "gpu"}, ValueError, r"The 'engine' parameter .* Got 'gpu'"),
        ({"random_state": -1}, ValueError, r"The 'random_state' parameter"),
        ({"standardize": "yes"}, ValueError, r"The 'standardize' parameter"),
    ],
)
def test_bad_parameters_are_refused_at_fit_naming_the_parameter(moons, settings, error, match):
    X, y = moons
    clf = RegularizedMLPClassifier(**{"max_iter": 5, **settings})  # stored unchanged, checked in fit
    assert clf.get_params()[next(iter(settings))] == next(iter(settings.values()))
    with pytest.raises(error, match=match):
        clf.fit(X, y)


def test_parameters_reach_the_engine(moons):
    X, y = moons
    clf = RegularizedMLPClassifier(
        hidden_layer_sizes=7, l2=0.2, l1=0.05, keep_prob=[0.9], learning_rate=0.1, max_iter=250,
        random_state=11, init="course", mask_mode="course", engine="reference",
    ).fit(X, y)
    config = clf.model_.config
    assert (config.hidden_layer_sizes, config.l2, config.l1, config.keep_prob) == ((7,), 0.2, 0.05, (0.9,))
    assert (config.learning_rate, config.n_iterations, config.seed, config.init, config.mask_mode) == (
        0.1, 250, 11, "course", "course",
    )
    assert clf.model_.params.layer_sizes == (2, 7, 1)
    np.testing.assert_array_equal(clf.loss_curve_iterations_, [0, 100, 200, 249])
    assert clf.n_iter_ == 250 and clf.seed_ == 11


def test_per_layer_keep_prob_is_accepted(moons):
    X, y = moons
    clf = RegularizedMLPClassifier(keep_prob=(0.8, 1.0), max_iter=300, random_state=0).fit(X, y)
    assert clf.model_.config.keep_prob == (0.8, 1.0)


def test_loss_curve_is_the_recorded_cost_and_falls(moons):
    X, y = moons
    clf = RegularizedMLPClassifier(max_iter=1001, random_state=0).fit(X, y)
    np.testing.assert_array_equal(clf.loss_curve_iterations_, np.arange(0, 1001, 100))
    assert clf.loss_curve_.shape == (11,)
    assert clf.loss_curve_[-1] < 0.5 * clf.loss_curve_[0]


# ---- random_state and initialisation -------------------------------------------------------------
def test_an_integer_random_state_is_the_seed(moons):
    X, y = moons
    first = RegularizedMLPClassifier(max_iter=200, random_state=5, keep_prob=0.8).fit(X, y)
    again = RegularizedMLPClassifier(max_iter=200, random_state=5, keep_prob=0.8).fit(X, y)
    other = RegularizedMLPClassifier(max_iter=200, random_state=6, keep_prob=0.8).fit(X, y)
    assert first.seed_ == 5
    np.testing.assert_array_equal(first.predict_proba(X), again.predict_proba(X))
    assert not np.array_equal(first.predict_proba(X), other.predict_proba(X))


def test_random_state_instances_and_none_draw_a_seed_the_scikit_learn_way(moons):
    X, y = moons
    expected = np.random.RandomState(4).randint(np.iinfo(np.uint32).max)
    from_instance = RegularizedMLPClassifier(max_iter=50, random_state=np.random.RandomState(4)).fit(X, y)
    assert from_instance.seed_ == expected
    state = np.random.get_state()
    try:
        np.random.seed(9)
        from_global = RegularizedMLPClassifier(max_iter=50).fit(X, y)
        assert from_global.seed_ == np.random.RandomState(9).randint(np.iinfo(np.uint32).max)
    finally:
        np.random.set_state(state)
    assert from_global.get_params()["random_state"] is None  # the parameter itself is untouched


def test_course_init_with_random_state_3_starts_from_the_notebook_weights(moons):
    X, y = moons
    # One step of plain gradient descent from the notebook's weights: W1 = W0 - lr * dW, and
    # dW is small, so the first layer is within lr * max|dW| of the course's draws.
    clf = RegularizedMLPClassifier(max_iter=1, init="course", random_state=3, learning_rate=1e-12).fit(X, y)
    legacy = np.random.RandomState(3)
    sizes = (2, 20, 3, 1)
    for W, n_in, n_out in zip(clf.model_.params.weights, sizes[:-1], sizes[1:]):
        np.testing.assert_allclose(W[0], legacy.randn(n_out, n_in) / np.sqrt(n_in), rtol=0, atol=1e-10)


# ---- the L2 scale against scikit-learn's MLPClassifier ------------------------------------------
def _notebook_weights(sizes):
    legacy = np.random.RandomState(3)
    return [legacy.randn(n_out, n_in) / np.sqrt(n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _one_sklearn_step(X, y, weights, alpha, lr):
    """One full-batch, momentum-free SGD step of MLPClassifier from ``weights``: (loss before, new coefs)."""
    mlp = MLPClassifier(
        hidden_layer_sizes=(20, 3), activation="relu", solver="sgd", alpha=alpha, batch_size=len(X),
        learning_rate="constant", learning_rate_init=lr, momentum=0.0, nesterovs_momentum=False,
        shuffle=False, max_iter=1, warm_start=True, random_state=0,
    )
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)  # builds the layers; its own initial weights are replaced below
    mlp.coefs_ = [W.T.copy() for W in weights]  # scikit-learn's (n_in, n_out) layout
    mlp.intercepts_ = [np.zeros(W.shape[0]) for W in weights]
    with pytest.warns(ConvergenceWarning):
        mlp.fit(X, y)  # warm start: one step from these weights
    assert mlp.out_activation_ == "logistic"
    return mlp.loss_curve_[-1], [C.T for C in mlp.coefs_]


def _one_reglab_step(X, y, l2, lr):
    clf = RegularizedMLPClassifier(
        l2=l2, learning_rate=lr, max_iter=1, init="course", random_state=3, engine="reference"
    ).fit(X, y)
    return clf.loss_curve_[0], [W[0] for W in clf.model_.params.weights]


def test_l2_equals_mlpclassifier_alpha_on_loss_and_gradient():
    X, y = make_moons(n_samples=150, noise=0.25, random_state=1)
    n, lr, lam = len(X), 0.3, 0.7
    W0 = _notebook_weights((2, 20, 3, 1))
    gradient = {}  # (library, strength) -> per-layer gradients recovered from one step
    loss = {}
    for strength in (0.0, lam):
        loss["sklearn", strength], W1 = _one_sklearn_step(X, y, W0, alpha=strength, lr=lr)
        gradient["sklearn", strength] = [(a - b) / lr for a, b in zip(W0, W1)]
        loss["reglab", strength], W1 = _one_reglab_step(X, y, l2=strength, lr=lr)
        gradient["reglab", strength] = [(a - b) / lr for a, b in zip(W0, W1)]
    squares = sum(np.sum(W**2) for W in W0)
    for library in ("sklearn", "reglab"):
        # The penalty adds lam/(2n) sum ||W||^2 to the loss and lam/n W to each weight gradient.
        assert loss[library, lam] - loss[library, 0.0] == pytest.approx(lam / (2 * n) * squares, rel=1e-9)
        for d_with, d_without, W in zip(gradient[library, lam], gradient[library, 0.0], W0):
            np.testing.assert_allclose(d_with - d_without, lam / n * W, rtol=1e-6, atol=1e-12)
    for strength in (0.0, lam):
        assert loss["reglab", strength] == pytest.approx(loss["sklearn", strength], rel=1e-12)
        for ours, theirs in zip(gradient["reglab", strength], gradient["sklearn", strength]):
            np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-14)


# ---- one model file for library, CLI and estimator ------------------------------------------------
def test_saved_estimator_model_predicts_identically_in_library_cli_and_estimator(moons, tmp_path):
    X, y = moons
    labels = np.array(["away", "home"])[y]
    clf = RegularizedMLPClassifier(max_iter=800, l2=0.3, keep_prob=0.9, random_state=0).fit(X, labels)
    path = clf.model_.save(tmp_path / "model.npz")

    loaded = reglab.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X), clf.predict(X))
    np.testing.assert_array_equal(loaded.predict_proba(X), clf.predict_proba(X)[:, 1])

    wrapped = RegularizedMLPClassifier.from_model(loaded)
    np.testing.assert_array_equal(wrapped.predict(X), clf.predict(X))
    np.testing.assert_array_equal(wrapped.decision_function(X), clf.decision_function(X))
    assert wrapped.get_params() == {**clf.get_params(), "keep_prob": 0.9}

    points = tmp_path / "points.npz"
    np.savez(points, X=X)
    out = tmp_path / "predictions.csv"
    subprocess.run(
        [sys.executable, "-m", "reglab", "predict", str(path), str(points), "--out", str(out)],
        capture_output=True, text=True, check=True,
    )
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    np.testing.assert_array_equal([float(r["probability"]) for r in rows], clf.predict_proba(X)[:, 1])
    np.testing.assert_array_equal([r["prediction"] for r in rows], clf.predict(X))


def test_from_model_wraps_a_library_model_and_refits_it_exactly(moons):
    X, y = moons
    config = reglab.TrainConfig(hidden_layer_sizes=(5, 4), l2=0.2, keep_prob=(0.9, 0.8), n_iterations=300,
                                init="fresh", mask_mode="fresh", seed=21)
    model = reglab.fit(X, y, config, standardize=True)
    wrapped = RegularizedMLPClassifier.from_model(model)
    np.testing.assert_array_equal(wrapped.predict_proba(X)[:, 1], model.predict_proba(X))
    assert wrapped.n_features_in_ == 2 and wrapped.standardize
    refit = clone(wrapped).fit(X, y)
    for ours, theirs in zip(refit.model_.params.weights, model.params.weights):
        np.testing.assert_array_equal(ours, theirs)
    with pytest.raises(TypeError, match="model must be a reglab.Model; got dict"):
        RegularizedMLPClassifier.from_model({})


def test_unfitted_estimator_refuses_to_predict(moons):
    X, _ = moons
    with pytest.raises(sklearn.exceptions.NotFittedError, match=ESTIMATOR):
        RegularizedMLPClassifier().predict(X)


def test_too_large_a_learning_rate_is_reported(moons):
    X, y = moons
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(reglab.TrainingDivergedError, match=r"likely cause is learning_rate=1e\+06.*try a smaller learning_rate"):
            RegularizedMLPClassifier(learning_rate=1e6, max_iter=300, random_state=0).fit(X * 100, y)


def test_early_stopping_weight_decay_and_max_norm_reach_the_engine():
    import reglab
    from reglab.sklearn import RegularizedMLPClassifier

    rng = np.random.default_rng(3)
    X = rng.uniform(-1, 1, size=(150, 2))
    y = np.where(X[:, 0] + 0.3 * rng.normal(size=150) > 0, "yes", "no")
    clf = RegularizedMLPClassifier((30, 10), max_iter=20000, early_stopping=True, n_iter_no_change=3,
                                   validation_fraction=0.2, weight_decay=1e-4, max_norm=3.0, random_state=1).fit(X, y)
    config = clf.model_.config
    assert (config.early_stopping, config.patience, config.validation_fraction) == (True, 3, 0.2)
    assert (config.weight_decay, config.max_norm) == (1e-4, 3.0)
    assert clf.n_iter_ < 20000 and clf.n_iter_ == clf.model_.history.stopped_iteration
    assert clf.validation_scores_.shape == clf.loss_curve_.shape
    assert 0.5 < clf.best_validation_score_ <= 1.0
    direct = reglab.fit(X, (y == "yes").astype(int), config)
    np.testing.assert_array_equal(direct.predict_proba(X), clf.predict_proba(X)[:, 1])
    clone = RegularizedMLPClassifier.from_model(clf.model_)
    assert clone.get_params() == clf.get_params() | {"random_state": 1}
    assert RegularizedMLPClassifier(max_iter=50).fit(X, y).validation_scores_ is None
