"""Figures: what they draw, where, and that bad input is refused with a clear message."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure

import reglab
from reglab import plots

# Four points in the corners, far from where the tests sample the shading.
CORNERS = np.array([[-1.0, -1.0], [1.0, 1.0], [-1.0, 1.0], [1.0, -1.0]])
CORNER_LABELS = np.array([0, 1, 0, 1])
BOUNDARY_LABEL = "decision boundary (p = 0.5)"


class FakeModel:
    """Anything with predict_proba(points (k, 2)) -> (k,) is a model for the figures."""

    def __init__(self, rule):
        self.rule = rule

    def predict_proba(self, X):
        return self.rule(np.asarray(X)).astype(float)


def right_of(threshold):
    return lambda P: (P[:, 0] > threshold).astype(float)


def above(threshold):
    return lambda P: (P[:, 1] > threshold).astype(float)


def rendered_rgb(fig, ax, *points) -> list[np.ndarray]:
    """Colours (3,) in [0, 1] that the rendered figure shows at data points (x, y) of ``ax``."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    pixels = np.asarray(canvas.buffer_rgba())  # (height, width, 4), row 0 at the top
    colors = []
    for point in points:
        px, py = ax.transData.transform(point)
        colors.append(pixels[int(round(pixels.shape[0] - py)), int(round(px)), :3] / 255.0)
    return colors


def is_red(rgb) -> bool:
    return rgb[0] > rgb[2] + 0.1


def is_blue(rgb) -> bool:
    return rgb[2] > rgb[0] + 0.1


def legend_texts(legend) -> list[str]:
    return [text.get_text() for text in legend.get_texts()]


def contour_vertices(ax) -> np.ndarray:
    sets = [artist for artist in ax.get_children() if isinstance(artist, ContourSet)]
    if not sets:
        return np.zeros((0, 2))
    return np.concatenate([path.vertices for cs in sets for path in cs.get_paths()])


def new_axes():
    fig = Figure(figsize=(6.4, 4.8))
    return fig, fig.add_subplot()


# ---- the shading and the boundary agree with predict -------------------------------------------
@pytest.mark.parametrize(
    "rule, class1_point, class0_point",
    [
        (right_of(0.3), (0.7, 0.0), (-0.1, 0.0)),  # class 1 on the right
        (above(0.3), (0.0, 0.7), (0.0, -0.1)),  # class 1 at the top: catches a flipped image
    ],
)
def test_shading_shows_class_1_in_blue_where_predict_says_1(rule, class1_point, class0_point):
    fig, ax = new_axes()
    plots.draw_decision_boundary(ax, rule, CORNERS, CORNER_LABELS)
    class1, class0 = rendered_rgb(fig, ax, class1_point, class0_point)
    assert is_blue(class1) and is_red(class0)


def test_boundary_line_lies_on_the_threshold_of_predict():
    fig, ax = new_axes()
    plots.draw_decision_boundary(ax, right_of(0.3), CORNERS, CORNER_LABELS, xlim=(-1.5, 1.5), ylim=(-1, 1), step=0.01)
    vertices = contour_vertices(ax)
    assert len(vertices) > 10
    np.testing.assert_allclose(vertices[:, 0], 0.3, atol=0.01)
    assert vertices[:, 1].min() < -0.9 and vertices[:, 1].max() > 0.9  # crosses the whole view


def test_probability_shading_goes_from_red_to_blue_with_a_colorbar():
    def sigmoid(P):
        return 1 / (1 + np.exp(-8 * P[:, 0]))

    fig = plots.decision_boundary(sigmoid, CORNERS, CORNER_LABELS, shading="probability")
    ax = fig.axes[0]
    assert len(fig.axes) == 2  # the plot and its colorbar
    assert fig.axes[1].get_ylabel() == "P(class 1)"
    left, middle, right = rendered_rgb(fig, ax, (-0.8, 0.0), (0.06, 0.0), (0.8, 0.0))
    assert is_red(left) and is_blue(right)
    # near p = 0.5 (just beside the boundary line) Spectral is pale yellow: greener than its red end
    assert middle[1] > left[1] + 0.1 and middle[0] > right[0] + 0.1


def shaded_fraction(ax) -> float:
    """Fraction of the shading image showing class 1 (value 1)."""
    return float(np.mean(ax.get_images()[0].get_array() == 1))


def test_predict_and_labels_may_come_in_the_courses_1_by_m_shapes():
    fig, ax = new_axes()
    course_y = CORNER_LABELS[None, :].astype(np.uint8)  # the course's labels are (1, m) uint8
    plots.draw_decision_boundary(ax, lambda P: (P[:, 0] > 0.3)[None, :], CORNERS, course_y, xlim=(-1, 1))
    assert shaded_fraction(ax) == pytest.approx(0.35, abs=0.01)  # x1 > 0.3 is 35% of (-1, 1)
    assert len(contour_vertices(ax)) > 0


def test_one_predicted_class_draws_no_boundary_line_and_no_warning():
    fig = plots.decision_boundary(lambda P: np.ones(len(P)), CORNERS, CORNER_LABELS)
    ax = fig.axes[0]
    assert len(contour_vertices(ax)) == 0
    assert legend_texts(fig.legends[0]) == ["class 0", "class 1"]
    assert shaded_fraction(ax) == 1


# ---- limits and grid --------------------------------------------------------------------------
def test_limits_fixed_on_the_axes_beforehand_are_kept_as_in_the_course():
    fig, ax = new_axes()
    ax.set_xlim(-0.75, 0.40)
    ax.set_ylim(-0.75, 0.65)
    plots.draw_decision_boundary(ax, right_of(0.0), CORNERS * 0.5, CORNER_LABELS, step=0.01)
    assert ax.get_xlim() == pytest.approx((-0.75, 0.40))
    assert ax.get_ylim() == pytest.approx((-0.75, 0.65))
    image = ax.get_images()[0]
    assert image.get_array().shape == (141, 116)  # 0.01 apart over 1.40 and 1.15
    assert shaded_fraction(ax) == pytest.approx(0.4 / 1.15, abs=0.01)  # x1 > 0 within (-0.75, 0.40)


def test_default_limits_pad_the_data_range_and_use_a_fine_grid():
    fig, ax = new_axes()
    X = np.array([[0.0, 10.0], [2.0, 30.0], [1.0, 20.0]])
    plots.draw_decision_boundary(ax, right_of(1.0), X, [0, 1, 1])
    assert ax.get_xlim() == pytest.approx((-0.2, 2.2))
    assert ax.get_ylim() == pytest.approx((8.0, 32.0))
    ny, nx = ax.get_images()[0].get_array().shape
    assert 300 <= nx <= 500 and 300 <= ny <= 500


def test_explicit_limits_and_step():
    fig, ax = new_axes()
    plots.draw_decision_boundary(ax, right_of(0.0), CORNERS, CORNER_LABELS, xlim=(-2, 3), ylim=(-1, 1), step=0.05)
    assert ax.get_xlim() == pytest.approx((-2, 3))
    assert ax.get_ylim() == pytest.approx((-1, 1))
    assert ax.get_images()[0].get_array().shape == (41, 101)


# ---- where it draws -----------------------------------------------------------------------------
def test_draw_decision_boundary_draws_only_on_the_given_axes():
    fig = Figure()
    ax, other = fig.subplots(1, 2)
    plots.draw_decision_boundary(ax, right_of(0.0), CORNERS, CORNER_LABELS, title="mine")
    assert len(fig.axes) == 2
    assert not other.get_images() and not other.collections and not other.lines and other.get_title() == ""
    assert ax.get_title() == "mine"
    assert ax.get_legend() is None  # legend only when asked
    plots.draw_decision_boundary(other, right_of(0.0), CORNERS, CORNER_LABELS, legend=True)
    assert legend_texts(other.get_legend()) == ["class 0", "class 1", BOUNDARY_LABEL]


def test_show_points_false_draws_the_regions_and_boundary_only():
    fig, ax = new_axes()
    plots.draw_decision_boundary(ax, right_of(0.0), CORNERS, CORNER_LABELS, show_points=False, legend=True)
    assert not [c for c in ax.collections if not isinstance(c, ContourSet)]  # no point sets
    assert len(contour_vertices(ax)) > 0 and len(ax.get_images()) == 1
    assert ax.get_xlim() == pytest.approx((-1.2, 1.2))  # the points still set the default limits
    assert legend_texts(ax.get_legend()) == [BOUNDARY_LABEL]


def test_works_on_pyplots_current_axes_and_opens_no_other_figure():
    import matplotlib.pyplot as plt

    plt.figure()
    plots.draw_decision_boundary(plt.gca(), right_of(0.0), CORNERS, CORNER_LABELS)
    assert len(plt.get_fignums()) == 1
    assert len(plt.gca().get_images()) == 1


def test_figure_functions_register_nothing_with_pyplot():
    import matplotlib.pyplot as plt

    history = SimpleNamespace(iterations=np.arange(3), cost=np.array([0.7, 0.5, 0.4]))
    dataset = SimpleNamespace(name="d", X_train=CORNERS, y_train=CORNER_LABELS, X_test=CORNERS, y_test=CORNER_LABELS)
    figures = [
        plots.decision_boundary(right_of(0.0), CORNERS, CORNER_LABELS),
        plots.models_side_by_side({"a": FakeModel(right_of(0.0))}, CORNERS, CORNER_LABELS),
        plots.cost_curves({"a": history}),
        plots.dataset_figure(dataset),
    ]
    assert all(isinstance(fig, Figure) for fig in figures)
    assert plt.get_fignums() == []


# ---- one decision boundary figure ---------------------------------------------------------------
def test_decision_boundary_figure_titles_labels_and_legend():
    fig = plots.decision_boundary(right_of(0.0), CORNERS, CORNER_LABELS, title="Model without regularization")
    (ax,) = fig.axes
    assert ax.get_title() == "Model without regularization"
    assert ax.get_xlabel() == "x\u2081" and ax.get_ylabel() == "x\u2082"
    assert legend_texts(fig.legends[0]) == ["class 0", "class 1", BOUNDARY_LABEL]
    assert tuple(fig.get_size_inches()) == pytest.approx((6.4, 4.8))
    default = plots.decision_boundary(right_of(0.0), CORNERS, CORNER_LABELS)
    assert default.axes[0].get_title() == "Decision boundary"


def test_test_points_are_hollow_and_named_in_the_legend():
    X_test = np.array([[0.5, 0.5], [-0.5, 0.5], [0.6, -0.2]])
    fig = plots.decision_boundary(right_of(0.0), CORNERS, CORNER_LABELS, X_test=X_test, y_test=[1, 0, 0])
    ax = fig.axes[0]
    legend = fig.legends[0]
    assert legend_texts(legend) == [
        "train: class 0", "train: class 1", "test: class 0", "test: class 1", BOUNDARY_LABEL,
    ]
    collections = {c.get_label(): c for c in ax.collections if c.get_label().startswith(("train", "test"))}
    for name in ("test: class 0", "test: class 1"):
        assert np.all(collections[name].get_facecolor()[:, 3] == 0)  # no fill
    for name in ("train: class 0", "train: class 1"):
        assert np.all(collections[name].get_facecolor()[:, 3] == 1)
    np.testing.assert_array_equal(collections["test: class 0"].get_offsets(), X_test[[1, 2]])
    # the view includes the test points
    assert ax.get_xlim()[0] < -1 and ax.get_xlim()[1] > 1


def test_class_0_is_red_and_class_1_blue_and_other_labels_follow_their_order():
    fig = plots.decision_boundary(right_of(0.0), CORNERS, np.array(["yes", "no", "yes", "no"]))
    ax = fig.axes[0]
    assert legend_texts(fig.legends[0])[:2] == ["class no", "class yes"]
    points = {c.get_label(): c for c in ax.collections if c.get_label().startswith("class")}
    assert is_red(points["class no"].get_facecolor()[0])  # "no" sorts first: it plays class 0
    assert is_blue(points["class yes"].get_facecolor()[0])
    np.testing.assert_array_equal(points["class no"].get_offsets(), CORNERS[[1, 3]])
    assert fig.axes[0] is ax


# ---- several models ---------------------------------------------------------------------------
X_SMALL = np.array([[x, y] for x in (-0.9, -0.4, 0.3, 0.8) for y in (-0.5, 0.5)])  # 8 points
Y_SMALL = np.array([0, 0, 0, 1, 1, 1, 1, 0])  # right_of(0) gets 6 of these 8 right, right_of(0.5) 4


def test_models_side_by_side_one_panel_per_model_with_accuracies():
    models = {
        "split at 0": FakeModel(right_of(0.0)),
        "always 1": FakeModel(lambda P: np.ones(len(P))),
        "split at 0.5": FakeModel(right_of(0.5)),
    }
    X_test, y_test = np.array([[0.5, 0.0], [-0.5, 0.0]]), np.array([1, 0])
    fig = plots.models_side_by_side(models, X_SMALL, Y_SMALL, X_test=X_test, y_test=y_test)
    assert len(fig.axes) == 3
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == [
        "split at 0\ntrain 75.0%, test 100.0%",
        "always 1\ntrain 50.0%, test 50.0%",
        "split at 0.5\ntrain 50.0%, test 50.0%",
    ]
    assert len({ax.get_xlim() for ax in fig.axes}) == 1 and len({ax.get_ylim() for ax in fig.axes}) == 1
    (legend,) = fig.legends
    assert legend_texts(legend) == ["class 0", "class 1", BOUNDARY_LABEL]
    # training points on every panel, test points not unless asked
    for ax in fig.axes:
        assert sum(len(c.get_offsets()) for c in ax.collections if c.get_label().startswith("class")) == 8
    xlim = fig.axes[0].get_xlim()
    for ax, threshold in zip(fig.axes, (0.0, None, 0.5)):
        expected = 1.0 if threshold is None else (xlim[1] - threshold) / (xlim[1] - xlim[0])
        assert shaded_fraction(ax) == pytest.approx(expected, abs=0.01)


def test_models_side_by_side_titles_wrapping_and_test_points():
    models = {f"m{i}": FakeModel(right_of(0.0)) for i in range(4)}
    fig = plots.models_side_by_side(
        models, X_SMALL, Y_SMALL, titles={"m0": "first"}, X_test=CORNERS, y_test=CORNER_LABELS, show_test=True,
        step=0.1,
    )
    assert len(fig.axes) == 4  # 2 rows of at most 3; the empty slot is removed
    assert [ax.get_title().split("\n")[0] for ax in fig.axes] == ["first", "m1", "m2", "m3"]
    assert "test: class 0" in legend_texts(fig.legends[0])
    # tick labels on the outer sides only, also on the panels above the empty slot
    assert [ax.xaxis.get_tick_params()["labelbottom"] for ax in fig.axes] == [False, True, True, True]
    assert [ax.yaxis.get_tick_params()["labelleft"] for ax in fig.axes] == [True, False, False, True]


def test_models_side_by_side_with_real_models_agrees_with_model_accuracy():
    rng = np.random.default_rng(0)
    X = rng.uniform(-1, 1, (60, 2))
    y = (X[:, 0] + 0.3 * rng.standard_normal(60) > 0).astype(int)
    models = {
        "plain": reglab.fit(X[:40], y[:40], reglab.TrainConfig(n_iterations=300)),
        "L2": reglab.fit(X[:40], y[:40], reglab.TrainConfig(n_iterations=300, l2=0.7)),
    }
    fig = plots.models_side_by_side(models, X[:40], y[:40], X_test=X[40:], y_test=y[40:], step=0.05)
    for ax, (name, model) in zip(fig.axes, models.items()):
        train, test = model.accuracy(X[:40], y[:40]), model.accuracy(X[40:], y[40:])
        assert ax.get_title() == f"{name}\ntrain {train:.1%}, test {test:.1%}"


# ---- cost curves ------------------------------------------------------------------------------
def test_cost_curves_one_line_per_history_with_legend():
    iterations = np.arange(0, 1000, 100)
    histories = {
        "no regularization": SimpleNamespace(iterations=iterations, cost=np.linspace(0.7, 0.1, 10)),
        "L2": SimpleNamespace(iterations=iterations, cost=np.linspace(0.7, 0.3, 10)),
    }
    fig = plots.cost_curves(histories)
    (ax,) = fig.axes
    assert ax.get_title() == "Cost during training"
    assert ax.get_xlabel() == "iteration" and ax.get_ylabel() == "cost"
    assert ax.get_yscale() == "linear"
    assert len(ax.lines) == 2
    np.testing.assert_array_equal(ax.lines[1].get_xdata(), iterations)
    np.testing.assert_array_equal(ax.lines[1].get_ydata(), np.linspace(0.7, 0.3, 10))
    assert legend_texts(ax.get_legend()) == ["no regularization (final 0.1000)", "L2 (final 0.3000)"]
    log = plots.cost_curves(histories, title="costs", log_scale=True).axes[0]
    assert log.get_yscale() == "log" and log.get_title() == "costs"


def test_cost_curves_take_a_real_history():
    model = reglab.fit(CORNERS, CORNER_LABELS, reglab.TrainConfig(n_iterations=250))
    ax = plots.cost_curves({"model": model.history}).axes[0]
    cost = np.asarray(model.history.cost).ravel()
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), cost)


def test_cost_curves_refuse_bad_histories():
    with pytest.raises(ValueError, match="non-empty mapping"):
        plots.cost_curves({})
    batch = SimpleNamespace(iterations=np.arange(3), cost=np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"cost of one model.*history\.model\(i\)"):
        plots.cost_curves({"batch": batch})
    with pytest.raises(ValueError, match="as many iterations as costs"):
        plots.cost_curves({"a": SimpleNamespace(iterations=np.arange(4), cost=np.ones(3))})
    with pytest.raises(TypeError, match="reglab.History"):
        plots.cost_curves({"a": [0.7, 0.5]})


# ---- data sets ----------------------------------------------------------------------------------
def test_dataset_figure_train_filled_test_hollow():
    dataset = SimpleNamespace(
        name="field", X_train=CORNERS, y_train=CORNER_LABELS, X_test=CORNERS[:3] * 0.5, y_test=np.array([0, 1, 1])
    )
    fig = plots.dataset_figure(dataset)
    (ax,) = fig.axes
    assert ax.get_title() == "field: 4 train and 3 test points"
    assert legend_texts(ax.get_legend()) == ["train: class 0", "train: class 1", "test: class 0", "test: class 1"]
    hollow = [c for c in ax.collections if c.get_label().startswith("test")]
    assert len(hollow) == 2 and all(np.all(c.get_facecolor()[:, 3] == 0) for c in hollow)
    assert plots.dataset_figure(dataset, title="mine").axes[0].get_title() == "mine"


def test_dataset_figure_with_an_empty_test_set_and_a_bad_object():
    empty = SimpleNamespace(name="t", X_train=CORNERS, y_train=CORNER_LABELS, X_test=np.zeros((0, 2)), y_test=np.zeros(0))
    ax = plots.dataset_figure(empty).axes[0]
    assert ax.get_title() == "t: 4 train and 0 test points"
    assert legend_texts(ax.get_legend()) == ["train: class 0", "train: class 1"]
    with pytest.raises(TypeError, match="lacks X_test, y_test"):
        plots.dataset_figure(SimpleNamespace(name="t", X_train=CORNERS, y_train=CORNER_LABELS))
    wide = SimpleNamespace(name="t", X_train=np.ones((4, 3)), y_train=CORNER_LABELS, X_test=CORNERS, y_test=CORNER_LABELS)
    with pytest.raises(ValueError, match="need 2 features; got X_train with 3 columns"):
        plots.dataset_figure(wide)


# ---- saving -----------------------------------------------------------------------------------
def test_save_figure_writes_a_png_atomically(tmp_path):
    from PIL import Image

    fig = plots.cost_curves({"a": SimpleNamespace(iterations=[0, 1], cost=[1, 0.5])})
    target = tmp_path / "new" / "boundary.png"
    returned = plots.save_figure(fig, target)
    assert returned == target
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(target) as image:
        assert image.format == "PNG"
        assert image.size == (960, 720)  # 6.4 x 4.8 in at 150 dpi
    assert os.listdir(target.parent) == ["boundary.png"]
    plots.save_figure(fig, target, dpi=50)  # replaces the file
    with Image.open(target) as image:
        assert image.size == (320, 240)
    assert os.listdir(target.parent) == ["boundary.png"]


def test_save_figure_leaves_nothing_when_writing_fails(tmp_path):
    fig = plots.decision_boundary(right_of(0.0), CORNERS, CORNER_LABELS)

    def broken_savefig(path, **kwargs):
        with open(path, "wb") as handle:
            handle.write(b"\x89PNG half")
        raise OSError("disk full")

    fig.savefig = broken_savefig
    with pytest.raises(OSError, match="disk full"):
        plots.save_figure(fig, tmp_path / "boundary.png")
    assert os.listdir(tmp_path) == []


def test_save_figure_refuses_bad_arguments(tmp_path):
    fig = plots.cost_curves({"a": SimpleNamespace(iterations=np.arange(2), cost=np.ones(2))})
    with pytest.raises(ValueError, match=r"path must end in one of \.png, \.svg, \.pdf; got .*figure\.jpg"):
        plots.save_figure(fig, tmp_path / "figure.jpg")
    with pytest.raises(ValueError, match="dpi must be a real number in"):
        plots.save_figure(fig, tmp_path / "figure.png", dpi=0)
    with pytest.raises(TypeError, match="fig must be a matplotlib Figure"):
        plots.save_figure("not a figure", tmp_path / "figure.png")
    assert os.listdir(tmp_path) == []


# ---- bad inputs ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(X=np.ones((4, 5))), "decision boundaries and data-set plots need 2 features; got X with 5 columns"),
        (dict(X=np.ones(4)), "X must be 2-D"),
        (dict(y=[0, 1, 1]), "X and y must have the same number of samples; got 4 and 3"),
        (dict(y=[0, 1, 2, 1]), "y must hold two classes; got 3"),
        (dict(X_test=CORNERS), "X_test was given without y_test"),
        (dict(X_test=CORNERS, y_test=[0, 1, 7, 1]), r"y_test must hold the classes of the training labels \(0, 1\); got also 7"),
        (dict(X_test=np.ones((2, 3)), y_test=[0, 1]), "need 2 features; got X_test with 3 columns"),
        (dict(predict=lambda P: 2 * np.ones(len(P))), r"predict must return probabilities or 0/1 predictions, in \[0, 1\]; got values from 2 to 2"),
        (dict(predict=lambda P: np.full(len(P), np.nan)), r"in \[0, 1\]; got no finite values and \d+ NaN"),
        (dict(predict=lambda P: np.ones((len(P), 2))), r"predict must return one value per point, shape \(\d+,\)"),
        (dict(predict=lambda P: np.ones(3)), "one value per point"),
        (dict(xlim=(1, -1)), r"xlim must be a pair \(low, high\) with low < high; got \(1, -1\)"),
        (dict(ylim=(0, 1, 2)), "ylim must be a pair"),
        (dict(step=0.0001), "step must give 2 to 5000 grid points per side; got step=0.0001"),
        (dict(step=-1), "step must be a real number > 0"),
        (dict(shading="contour"), "shading must be one of 'class', 'probability'; got 'contour'"),
    ],
)
def test_decision_boundary_refuses_bad_input(kwargs, message):
    arguments = dict(predict=right_of(0.0), X=CORNERS, y=CORNER_LABELS) | kwargs
    with pytest.raises(ValueError, match=message):
        plots.decision_boundary(arguments.pop("predict"), arguments.pop("X"), arguments.pop("y"), **arguments)
    fig, ax = new_axes()
    arguments = dict(predict=right_of(0.0), X=CORNERS, y=CORNER_LABELS) | kwargs
    with pytest.raises(ValueError, match=message):
        plots.draw_decision_boundary(ax, arguments.pop("predict"), arguments.pop("X"), arguments.pop("y"), **arguments)


def test_predict_must_be_callable():
    with pytest.raises(TypeError, match="predict must be a callable"):
        plots.decision_boundary("model", CORNERS, CORNER_LABELS)


def test_models_side_by_side_refuses_bad_input():
    with pytest.raises(ValueError, match="models must be a non-empty mapping"):
        plots.models_side_by_side({}, CORNERS, CORNER_LABELS)
    with pytest.raises(TypeError, match=r"models\['a'\] must have a predict_proba method"):
        plots.models_side_by_side({"a": object()}, CORNERS, CORNER_LABELS)
    with pytest.raises(ValueError, match=r"titles must be keyed by the model names \['a'\]; got also \['b'\]"):
        plots.models_side_by_side({"a": FakeModel(right_of(0))}, CORNERS, CORNER_LABELS, titles={"b": "B"})
    with pytest.raises(ValueError, match="need 2 features; got X with 4 columns"):
        plots.models_side_by_side({"a": FakeModel(right_of(0))}, np.ones((4, 4)), CORNER_LABELS)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        plots.models_side_by_side({"a": FakeModel(lambda P: P[:, 0] * 5)}, CORNERS, CORNER_LABELS)


# ---- layout: every text inside the figure, the legend below the axes' labels ----------------------
def assert_all_text_inside(fig):
    """Every axes with its drawn tick labels, axis labels and title, and every legend, lie inside the figure."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    frame = fig.bbox
    boxes = [(ax, ax.get_tightbbox(renderer)) for ax in fig.axes] + [(lg, lg.get_window_extent(renderer))
                                                                     for lg in fig.legends]
    for artist, box in boxes:
        assert box.x0 >= frame.x0 - 0.5 and box.x1 <= frame.x1 + 0.5, (artist, box, frame)
        assert box.y0 >= frame.y0 - 0.5 and box.y1 <= frame.y1 + 0.5, (artist, box, frame)


LONG_TITLE = "a model with a long name and its scores: train 0.950, test 0.835, and some more words"


@pytest.mark.parametrize("shading", ["class", "probability"])
def test_decision_boundary_figure_has_its_text_inside_and_the_legend_below(shading):
    X = CORNERS * 12000.0  # wide tick labels
    fig = plots.decision_boundary(lambda P: 1 / (1 + np.exp(-P[:, 0] / 5000)), X, CORNER_LABELS, title=LONG_TITLE,
                                  X_test=X * 0.5, y_test=CORNER_LABELS, shading=shading)
    assert_all_text_inside(fig)
    ax = fig.axes[0]
    assert "\n" in ax.get_title()  # wrapped to the width of the plot
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    legend = fig.legends[0].get_window_extent(renderer)
    xlabel = ax.xaxis.label.get_window_extent(renderer)
    assert legend.y1 <= xlabel.y0  # below the axis label, not over it
    if shading == "probability":
        colorbar = fig.axes[1].get_window_extent(renderer)
        assert colorbar.x0 > ax.get_window_extent(renderer).x1


def test_models_side_by_side_has_its_text_inside_and_panels_apart():
    models = {f"model {i}": FakeModel(right_of(0.2 * i)) for i in range(4)}
    fig = plots.models_side_by_side(models, X_SMALL, Y_SMALL, X_test=CORNERS, y_test=CORNER_LABELS, show_test=True,
                                    step=0.05, shading="probability")
    assert_all_text_inside(fig)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    panels = [ax.get_window_extent(renderer) for ax in fig.axes[:4]]
    assert panels[1].x0 > panels[0].x1 and panels[2].x0 > panels[1].x1
    # the second row's titles stay below the first row's x labels
    upper_label = fig.axes[1].xaxis.label.get_window_extent(renderer)
    lower_title = fig.axes[3].title.get_window_extent(renderer)
    assert lower_title.y1 <= upper_label.y0
    legend = fig.legends[0].get_window_extent(renderer)
    assert legend.y1 <= min(ax.xaxis.label.get_window_extent(renderer).y0 for ax in fig.axes[3:4])


@pytest.mark.parametrize("log_scale", [False, True])
def test_cost_curves_have_their_text_inside(log_scale):
    history = SimpleNamespace(iterations=np.arange(0, 2000, 100), cost=np.linspace(0.62, 0.21, 20))
    fig = plots.cost_curves({"a": history}, log_scale=log_scale)
    assert_all_text_inside(fig)
