"""reglab.course: the notebook's names, its exact numbers, its printed lines and its figures."""

from __future__ import annotations

import re
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
import scipy.io

import reglab
from reglab import course

RTOL = 1e-7


def arrays(value):
    """JSON nested lists (or a dict / list of them) as NumPy arrays."""
    if isinstance(value, dict):
        return {k: np.array(v) for k, v in value.items()}
    return np.array(value)


def assert_close(actual, expected):
    np.testing.assert_allclose(actual, np.array(expected), rtol=RTOL, atol=0)


# ------------------------------------------------------------------- independent references
# Plain NumPy, written the way the notebook states the maths, to compare the engine-backed
# functions against.


def reference_forward(X, p, masks=None, keep_prob=1.0):
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.maximum(Z1, 0)
    if masks is not None:
        A1 = A1 * masks[0] / keep_prob
    Z2 = p["W2"] @ A1 + p["b2"]
    A2 = np.maximum(Z2, 0)
    if masks is not None:
        A2 = A2 * masks[1] / keep_prob
    Z3 = p["W3"] @ A2 + p["b3"]
    return Z1, A1, Z2, A2, Z3, 1.0 / (1.0 + np.exp(-Z3))


def reference_cost(A, Y):
    return float(-np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A)))


def small_problem(seed=0, m=7):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2, m))
    Y = (rng.random((1, m)) < 0.5).astype(int)
    parameters = {
        "W1": rng.normal(size=(4, 2)), "b1": rng.normal(size=(4, 1)),
        "W2": rng.normal(size=(3, 4)), "b2": rng.normal(size=(3, 1)),
        "W3": rng.normal(size=(1, 3)), "b3": rng.normal(size=(1, 1)),
    }
    return X, Y, parameters


def separable_data(seed=0, m=60):
    """Two noisy classes either side of a diagonal, in the public (n_samples, n_features) layout."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(m, 2))
    y = (X[:, 0] + X[:, 1] + rng.normal(scale=0.3, size=m) > 0).astype(int)
    return X, y


# ------------------------------------------------------------------------------ names


def test_every_name_the_notebook_imports_or_calls_exists(course_notebook):
    text = course_notebook
    imported = set()
    for line in re.findall(r"^from reg_utils import (.+)$", text, flags=re.M):
        imported |= {name.strip() for name in line.split(",")}
    builders = set(re.findall(r"\b(\w+_test_case)\(\)", text))
    assert len(imported) == 11 and len(builders) == 4  # the parse itself found what it should
    for name in imported | builders:
        assert name in course.__all__, name
        assert callable(getattr(course, name)), name


def test_star_import_gives_the_graded_functions_and_model():
    namespace: dict = {}
    exec("from reglab.course import *", namespace)
    for name in (
        "compute_cost_with_regularization", "backward_propagation_with_regularization",
        "forward_propagation_with_dropout", "backward_propagation_with_dropout", "model",
    ):
        assert namespace[name] is getattr(course, name)


# --------------------------------------------------------------------- test-case builders


def test_compute_cost_with_regularization_test_case_is_the_courses(course_vectors):
    inputs = course_vectors["compute_cost_with_regularization"]["inputs"]
    A3, Y, parameters = course.compute_cost_with_regularization_test_case()
    np.testing.assert_array_equal(A3, inputs["A3"])
    np.testing.assert_array_equal(Y, inputs["Y"])
    assert set(parameters) == set(inputs["parameters"])
    for key, value in inputs["parameters"].items():
        np.testing.assert_array_equal(parameters[key], value)


@pytest.mark.parametrize("name", ["backward_propagation_with_regularization", "backward_propagation_with_dropout"])
def test_backward_test_cases_are_the_courses(course_vectors, name):
    inputs = course_vectors[name]["inputs"]
    X, Y, cache = getattr(course, name + "_test_case")()
    np.testing.assert_array_equal(X, inputs["X"])
    np.testing.assert_array_equal(Y, inputs["Y"])
    assert len(cache) == len(inputs["cache"]) == len(course_vectors[name]["cache_layout"])
    for got, expected in zip(cache, inputs["cache"]):
        np.testing.assert_array_equal(got, expected)


def test_forward_dropout_test_case_is_the_courses(course_vectors):
    inputs = course_vectors["forward_propagation_with_dropout"]["inputs"]
    X, parameters = course.forward_propagation_with_dropout_test_case()
    np.testing.assert_array_equal(X, inputs["X"])
    assert set(parameters) == set(inputs["parameters"])
    for key, value in inputs["parameters"].items():
        np.testing.assert_array_equal(parameters[key], value)


def test_builders_return_fresh_arrays():
    X, Y, cache = course.backward_propagation_with_dropout_test_case()
    cache[0][0, 0] = 99.0
    assert course.backward_propagation_with_dropout_test_case()[2][0][0, 0] == -1.52855314


# -------------------------------------------------------------------- the graded functions


def test_compute_cost_with_regularization_matches_the_course(course_vectors):
    case = course_vectors["compute_cost_with_regularization"]
    inputs = case["inputs"]
    cost = course.compute_cost_with_regularization(
        arrays(inputs["A3"]), arrays(inputs["Y"]), arrays(inputs["parameters"]), lambd=inputs["lambd"]
    )
    assert_close(cost, case["expected"]["cost"])
    assert str(round(cost, 11)) == case["seed_printed"]["cost"]


def test_backward_propagation_with_regularization_matches_the_course(course_vectors):
    case = course_vectors["backward_propagation_with_regularization"]
    inputs = case["inputs"]
    grads = course.backward_propagation_with_regularization(
        arrays(inputs["X"]), arrays(inputs["Y"]), tuple(map(np.array, inputs["cache"])), lambd=inputs["lambd"]
    )
    assert set(case["expected"]) == {"dW1", "dW2", "dW3", "db1", "db2", "db3"}
    for key, expected in case["expected"].items():
        assert_close(grads[key], expected)


def test_forward_propagation_with_dropout_matches_the_course(course_vectors):
    case = course_vectors["forward_propagation_with_dropout"]
    inputs = case["inputs"]
    A3, cache = course.forward_propagation_with_dropout(
        arrays(inputs["X"]), arrays(inputs["parameters"]), keep_prob=inputs["keep_prob"]
    )
    assert_close(A3, case["expected"]["A3"])
    assert len(cache) == 14
    np.testing.assert_array_equal(cache[1], case["expected"]["D1"])
    np.testing.assert_array_equal(cache[6], case["expected"]["D2"])


def test_backward_propagation_with_dropout_matches_the_course(course_vectors):
    case = course_vectors["backward_propagation_with_dropout"]
    inputs = case["inputs"]
    grads = course.backward_propagation_with_dropout(
        arrays(inputs["X"]), arrays(inputs["Y"]), tuple(map(np.array, inputs["cache"])), keep_prob=inputs["keep_prob"]
    )
    assert set(case["expected"]) == {"dA1", "dA2", "dW1", "dW2", "dW3", "db1", "db2", "db3"}
    for key, expected in case["expected"].items():
        assert_close(grads[key], expected)
    assert list(grads) == ["dZ3", "dW3", "db3", "dA2", "dZ2", "dW2", "db2", "dA1", "dZ1", "dW1", "db1"]


# ---------------------------------------------------------- forward/backward against references


def test_forward_propagation_cache_layout_matches_a_numpy_reference():
    X, _, p = small_problem()
    A3, cache = course.forward_propagation(X, p)
    Z1, A1, Z2, A2, Z3, A3_ref = reference_forward(X, p)
    expected = (Z1, A1, p["W1"], p["b1"], Z2, A2, p["W2"], p["b2"], Z3, A3_ref, p["W3"], p["b3"])
    assert len(cache) == 12
    for got, want in zip(cache, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(A3, A3_ref, rtol=1e-12)


def test_forward_with_dropout_uses_the_courses_masks_and_leaves_numpy_random_alone():
    X, _, p = small_problem(m=9)
    keep_prob = 0.6
    draws = np.random.RandomState(1)  # the course: np.random.seed(1), then rand for D1, D2
    masks = (draws.rand(4, 9) < keep_prob, draws.rand(3, 9) < keep_prob)
    before = np.random.get_state()[1].copy()
    A3, cache = course.forward_propagation_with_dropout(X, p, keep_prob)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    Z1, A1, Z2, A2, Z3, A3_ref = reference_forward(X, p, masks, keep_prob)
    expected = (Z1, masks[0], A1, p["W1"], p["b1"], Z2, masks[1], A2, p["W2"], p["b2"], Z3, A3_ref, p["W3"], p["b3"])
    for got, want in zip(cache, expected):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert cache[1].dtype == bool and cache[6].dtype == bool
    # The same masks at every call, as in the course.
    np.testing.assert_array_equal(course.forward_propagation_with_dropout(X, p, keep_prob)[1][1], masks[0])


def numeric_gradient(f, array, eps=1e-6):
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + eps
        up = f()
        array[index] = saved - eps
        down = f()
        array[index] = saved
        grad[index] = (up - down) / (2 * eps)
    return grad


@pytest.mark.parametrize("lambd", [0.0, 0.7])
def test_backward_gradients_match_central_differences_of_the_cost(lambd):
    X, Y, p = small_problem(seed=3)

    def cost():
        A3, _ = course.forward_propagation(X, p)
        return reference_cost(A3, Y) + lambd / (2 * X.shape[1]) * sum(np.sum(p[k] ** 2) for k in ("W1", "W2", "W3"))

    _, cache = course.forward_propagation(X, p)
    if lambd:
        grads = course.backward_propagation_with_regularization(X, Y, cache, lambd)
    else:
        grads = course.backward_propagation(X, Y, cache)
    for key in p:
        np.testing.assert_allclose(grads["d" + key], numeric_gradient(cost, p[key]), rtol=1e-5, atol=1e-8)


def test_backward_with_dropout_matches_central_differences_with_fixed_masks():
    X, Y, p = small_problem(seed=5)
    keep_prob = 0.7
    draws = np.random.RandomState(1)
    masks = (draws.rand(4, 7) < keep_prob, draws.rand(3, 7) < keep_prob)

    def cost():
        return reference_cost(reference_forward(X, p, masks, keep_prob)[-1], Y)

    _, cache = course.forward_propagation_with_dropout(X, p, keep_prob)
    grads = course.backward_propagation_with_dropout(X, Y, cache, keep_prob)
    for key in p:
        np.testing.assert_allclose(grads["d" + key], numeric_gradient(cost, p[key]), rtol=1e-5, atol=1e-8)


# -------------------------------------------------------------------------- reg_utils helpers


def test_initialize_parameters_is_the_courses_recipe():
    before = np.random.get_state()[1].copy()
    parameters = course.initialize_parameters([2, 20, 3, 1])
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    legacy = np.random.RandomState(3)  # the course: np.random.seed(3)
    dims = [2, 20, 3, 1]
    assert sorted(parameters) == ["W1", "W2", "W3", "b1", "b2", "b3"]
    for l in range(1, 4):
        expected = legacy.randn(dims[l], dims[l - 1]) / np.sqrt(dims[l - 1])
        np.testing.assert_array_equal(parameters[f"W{l}"], expected)
        np.testing.assert_array_equal(parameters[f"b{l}"], np.zeros((dims[l], 1)))


def test_sigmoid_and_relu():
    z = np.array([[-2.0, 0.0, 3.0]])
    np.testing.assert_allclose(course.sigmoid(z), [[0.11920292202211755, 0.5, 0.9525741268224334]], rtol=1e-15)
    np.testing.assert_array_equal(course.relu(z), [[0.0, 0.0, 3.0]])


def test_compute_cost_matches_the_formula_away_from_saturation():
    A = np.array([[0.2, 0.9, 0.5, 0.01]])
    Y = np.array([[0, 1, 1, 0]])
    assert course.compute_cost(A, Y) == pytest.approx(reference_cost(A, Y), rel=1e-13)


def test_compute_cost_of_saturated_outputs_is_exact_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # Right and saturated: zero loss on those examples; only the 0.5 one counts.
        assert course.compute_cost(np.array([[1.0, 0.0, 0.5]]), np.array([[1, 0, 1]])) == pytest.approx(np.log(2) / 3, rel=1e-15)
        assert course.compute_cost(np.array([[1.0, 0.0]]), np.array([[1, 0]])) == 0.0
        # Wrong and saturated: the exact limit is infinite, not NaN.
        assert course.compute_cost(np.array([[0.0, 0.5]]), np.array([[1, 1]])) == np.inf


def test_update_parameters_takes_one_step_without_modifying_its_input():
    _, _, p = small_problem()
    original = {k: v.copy() for k, v in p.items()}
    grads = {"d" + k: np.full_like(v, 2.0) for k, v in p.items()}
    updated = course.update_parameters(p, grads, 0.25)
    for key in p:
        np.testing.assert_array_equal(updated[key], original[key] - 0.5)
        np.testing.assert_array_equal(p[key], original[key])


def test_predict_prints_the_accuracy_and_returns_int_predictions(capsys):
    X, _, p = small_problem(m=8)
    A3 = reference_forward(X, p)[-1]
    expected = (A3 > 0.5).astype(int)
    y = expected.copy()
    y[0, :2] = 1 - y[0, :2]  # two wrong out of eight
    predictions = course.predict(X, y, p)
    np.testing.assert_array_equal(predictions, expected)
    assert predictions.dtype.kind == "i" and predictions.shape == (1, 8)
    assert capsys.readouterr().out == "Accuracy: 0.75\n"
    np.testing.assert_array_equal(course.predict_dec(p, X), A3 > 0.5)


def test_plot_decision_boundary_draws_on_the_current_axes_without_warnings():
    X, _, p = small_problem(m=20)
    y = reference_forward(X, p)[-1] > 0.5
    plt.title("kept")
    axes = plt.gca()
    axes.set_xlim([-0.75, 0.40])
    calls = []

    def classify(points):
        calls.append(points.shape)
        return course.predict_dec(p, points.T)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert course.plot_decision_boundary(classify, X, y) is None
    assert calls and calls[0][1] == 2
    expected_points = len(np.arange(X[0].min() - 1, X[0].max() + 1, 0.01)) * len(np.arange(X[1].min() - 1, X[1].max() + 1, 0.01))
    assert calls[0][0] == expected_points
    assert plt.gca() is axes and axes.get_title() == "kept" and axes.get_xlim() == (-0.75, 0.40)
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("x1", "x2")
    assert axes.collections[-1].get_offsets().shape == (20, 2)  # the scattered examples


def test_figures_are_shown_only_under_an_interactive_backend(monkeypatch):
    X, _, p = small_problem(m=5)
    shown = []
    monkeypatch.setattr(plt, "show", lambda *a, **k: shown.append(True))
    course.plot_decision_boundary(lambda x: course.predict_dec(p, x.T), X, np.zeros(5))
    assert shown == []  # the tests run under Agg
    monkeypatch.setattr(course.matplotlib, "get_backend", lambda: "TkAgg")
    course.plot_decision_boundary(lambda x: course.predict_dec(p, x.T), X, np.zeros(5))
    assert shown == [True]


# ------------------------------------------------------------------------------ model


def test_model_returns_the_parameters_of_the_library_path():
    X, y = separable_data()
    for settings, config in [
        ({}, reglab.TrainConfig(n_iterations=1000)),
        ({"lambd": 0.7, "keep_prob": 0.86}, reglab.TrainConfig(n_iterations=1000, l2=0.7, keep_prob=0.86)),
    ]:
        parameters = course.model(X.T, y[None, :], num_iterations=1000, print_cost=False, **settings)
        fitted = reglab.fit(X, y, config, engine="reference")  # course.model runs the reference loop
        for l in range(3):
            np.testing.assert_array_equal(parameters[f"W{l + 1}"], fitted.params.weights[l][0])
            np.testing.assert_array_equal(parameters[f"b{l + 1}"], fitted.params.biases[l][0])


def test_model_prints_and_plots_like_the_course(capsys):
    X, y = separable_data(m=30)
    Y = y[None, :]
    parameters = course.model(X.T, Y, learning_rate=0.1, num_iterations=1500)
    lines = capsys.readouterr().out.splitlines()
    initial = course.initialize_parameters([2, 20, 3, 1])
    assert len(lines) == 1 and lines[0].startswith("Cost after iteration 0: ")
    initial_cost = reference_cost(reference_forward(X.T, initial)[-1], Y)
    assert float(lines[0].split(": ")[1]) == pytest.approx(initial_cost, rel=1e-12)
    axes = plt.gca()
    assert axes.get_title() == "Learning rate =0.1"
    assert (axes.get_xlabel(), axes.get_ylabel()) == ("iterations (x1,000)", "cost")
    costs = axes.lines[0].get_ydata()
    assert len(costs) == 2  # iterations 0 and 1000, not the last one (1499)
    A3_at_end = reference_forward(X.T, parameters)[-1]
    assert costs[1] > reference_cost(A3_at_end, Y)  # training went on lowering the cost


def test_model_is_quiet_without_print_cost(capsys):
    X, y = separable_data(m=20)
    course.model(X.T, y[None, :], num_iterations=10, print_cost=False)
    assert capsys.readouterr().out == ""
    assert plt.get_fignums() == []


# ---------------------------------------------------------------------------- load_2D_dataset


@pytest.fixture
def datasets_module():
    return pytest.importorskip("reglab.datasets", reason="reglab.datasets has not landed yet")


def test_load_2D_dataset_from_the_environment(course_data_path, datasets_module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGLAB_COURSE_DATA", str(course_data_path))
    train_X, train_Y, test_X, test_Y = course.load_2D_dataset()
    data = scipy.io.loadmat(course_data_path)
    np.testing.assert_array_equal(train_X, data["X"].T)
    np.testing.assert_array_equal(train_Y, data["y"].T)
    np.testing.assert_array_equal(test_X, data["Xval"].T)
    np.testing.assert_array_equal(test_Y, data["yval"].T)
    assert train_X.shape == (2, 211) and train_Y.shape == (1, 211)
    assert plt.gca().collections[0].get_offsets().shape == (211, 2)


def test_load_2D_dataset_prefers_the_courses_folder(course_data_path, datasets_module, tmp_path, monkeypatch):
    (tmp_path / "datasets").mkdir()
    (tmp_path / "datasets" / "data.mat").symlink_to(course_data_path)  # a link, never a copy
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGLAB_COURSE_DATA", str(tmp_path / "nowhere.mat"))
    assert course.load_2D_dataset()[0].shape == (2, 211)


def test_load_2D_dataset_says_where_it_looked(datasets_module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGLAB_COURSE_DATA", raising=False)
    with pytest.raises(FileNotFoundError, match=r"(?s)(datasets/data\.mat.*REGLAB_COURSE_DATA|REGLAB_COURSE_DATA.*datasets/data\.mat)"):
        course.load_2D_dataset()


# ------------------------------------------------------------------------------ bad input


def _good():
    X, Y, p = small_problem(m=5)
    return X, Y, p


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda X, Y, p: course.forward_propagation(X[0], p), ValueError, r"X must be 2-D \(features, examples\)"),
        (lambda X, Y, p: course.forward_propagation(X.T, p), ValueError, r"X must have 2 rows"),
        (lambda X, Y, p: course.forward_propagation(np.where(X > 0, np.nan, X), p), ValueError, r"X must hold finite numbers"),
        (lambda X, Y, p: course.predict(X, Y[:, :4], p), ValueError, r"y must have one label per example \(5\); got 4"),
        (lambda X, Y, p: course.predict(X, Y[0], p), ValueError, r"y must be a \(1, examples\) row"),
        (lambda X, Y, p: course.compute_cost(np.full((1, 5), 0.5), Y + 1), ValueError, r"Y must hold labels 0 and 1"),
        (lambda X, Y, p: course.compute_cost(np.full((1, 5), 1.5), Y), ValueError, r"a3 must hold probabilities in \[0, 1\]"),
        (lambda X, Y, p: course.compute_cost(np.full((1, 5), np.nan), Y), ValueError, r"a3 must hold probabilities.*NaN"),
        (lambda X, Y, p: course.forward_propagation_with_dropout(X, p, keep_prob=0), ValueError, r"keep_prob must be a real number in \(0, 1\]; got 0"),
        (lambda X, Y, p: course.forward_propagation_with_dropout(X, p, keep_prob=1.2), ValueError, r"keep_prob must be .* got 1.2"),
        (lambda X, Y, p: course.backward_propagation_with_dropout(X, Y, course.forward_propagation_with_dropout(X, p, 0.5)[1], -0.1), ValueError, r"keep_prob must be"),
        (lambda X, Y, p: course.compute_cost_with_regularization(np.full((1, 5), 0.5), Y, p, -1), ValueError, r"lambd must be a real number >= 0; got -1"),
        (lambda X, Y, p: course.backward_propagation_with_regularization(X, Y, course.forward_propagation(X, p)[1], "0.7"), TypeError, r"lambd must be a real number >= 0; got '0.7'"),
        (lambda X, Y, p: course.model(X, Y, learning_rate=0), ValueError, r"learning_rate must be a real number > 0; got 0"),
        (lambda X, Y, p: course.model(X, Y, num_iterations=0), ValueError, r"num_iterations must be an integer >= 1; got 0"),
        (lambda X, Y, p: course.model(X, Y, num_iterations=10.5), TypeError, r"num_iterations must be an integer"),
        (lambda X, Y, p: course.model(X, Y, lambd=-0.7), ValueError, r"lambd must be"),
        (lambda X, Y, p: course.model(X, Y, keep_prob=0), ValueError, r"keep_prob must be"),
        (lambda X, Y, p: course.model(X, Y[:, 1:]), ValueError, r"Y must have one label per example \(5\); got 4"),
        (lambda X, Y, p: course.forward_propagation(X, [p["W1"]]), TypeError, r"parameters must be a dict"),
        (lambda X, Y, p: course.forward_propagation(X, {k: v for k, v in p.items() if k != "b2"}), ValueError, r"parameters must hold 'W1', 'b1'.*missing \['b2'\]"),
        (lambda X, Y, p: course.forward_propagation(X, {k: v for k, v in p.items() if k != "W2"}), ValueError, r"parameters must hold.*not in sequence"),
        (lambda X, Y, p: course.forward_propagation(X, p | {"W2": p["W2"][:, :3]}), ValueError, r"parameters\['W2'\] must have 4 columns \(the units of layer 1\); got shape \(3, 3\)"),
        (lambda X, Y, p: course.forward_propagation(X, p | {"b1": p["b1"][:3]}), ValueError, r"parameters\['b1'\] must have shape \(4, 1\)"),
        (lambda X, Y, p: course.forward_propagation(X, p | {"W3": np.ones((2, 3)), "b3": np.ones((2, 1))}), ValueError, r"parameters\['W3'\] must have 1 row"),
        (lambda X, Y, p: course.backward_propagation(X, Y, course.forward_propagation(X, p)[1][:11]), ValueError, r"cache must be the tuple returned by forward_propagation.*got 11 items"),
        (lambda X, Y, p: course.backward_propagation(X[:, :4], Y[:, :4], course.forward_propagation(X, p)[1]), ValueError, r"cache's A1 must have shape \(4, 4\)"),
        (lambda X, Y, p: course.backward_propagation_with_dropout(X, Y, course.forward_propagation(X, p)[1], 0.5), ValueError, r"cache must be the tuple returned by forward_propagation_with_dropout"),
        (lambda X, Y, p: course.update_parameters(p, {"dW1": p["W1"]}, 0.1), ValueError, r"grads\['db1'\] must be an array of shape \(4, 1\)"),
        (lambda X, Y, p: course.update_parameters(p, {}, -0.1), ValueError, r"learning_rate must be a real number > 0"),
        (lambda X, Y, p: course.initialize_parameters([2]), ValueError, r"layer_dims must list at least 2 sizes"),
        (lambda X, Y, p: course.initialize_parameters([2, 0, 1]), ValueError, r"layer_dims\[1\] must be an integer >= 1"),
        (lambda X, Y, p: course.plot_decision_boundary(lambda x: np.zeros(3), X, Y), ValueError, r"model must return one prediction per point"),
    ],
)
def test_bad_input_is_named(call, error, message):
    X, Y, p = _good()
    with pytest.raises(error, match=message):
        call(X, Y, p)
