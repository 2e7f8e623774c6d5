"""Drawing a 2-D classifier on axes you pass: its decision regions, its 0.5 boundary and the points.

``draw_decision_boundary`` is the public entry (re-exported by ``reglab.plots``); the other names
here are the building blocks ``plots`` composes its figures from: checked inputs, the class
colours, shading on a grid, scattering points by class, legend handles. Colours keep the course's
meaning (its "Spectral" colormap): red is class 0, blue is class 1; with two other labels, red is
the first in sorted order and blue the second. matplotlib is imported inside the functions, so
``import reglab`` stays fast. Nothing here creates a figure, shows or prints.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..validation import binary_labels, check_choice, check_real, check_X

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes

__all__ = ["draw_decision_boundary", "SHADINGS"]

SHADINGS = ("class", "probability")
GRID_POINTS = 300  # default grid points per side of a decision-boundary image (2-3 pixels each at 150 dpi:
# the shading is the class, drawn "nearest", and the 0.5 line is the contour; 400 cost a fifth more per figure)
MAX_GRID_POINTS = 5000  # per side; a smaller step is almost surely a mistake
PAD_FRACTION = 0.1  # default view: the data range padded by this fraction on each side
BOUNDARY_COLOR = "0.15"
AXIS_LABELS = ("x\u2081", "x\u2082")  # x₁, x₂ as plain text: mathtext ("$x_1$") cost 0.07 s a figure to lay out

_CLASS_POSITIONS = (0.1, 0.9)  # on the Spectral colormap: class 0 (red) and class 1 (blue)
_SHADE_STRENGTH = 0.45  # shading colour = this much colormap colour, the rest white
_DATA_NAMES = ("X", "y", "X_test", "y_test")


class PlotData(NamedTuple):
    """Points and labels, checked."""

    X: np.ndarray  # (n, 2)
    y: np.ndarray  # (n,) int: 0 for classes[0], 1 for classes[1]
    classes: np.ndarray  # (2,) the labels, in colour order (red, blue)
    test: tuple[np.ndarray, np.ndarray] | None  # X_test (k, 2), y_test (k,) int; or None


class Drawn(NamedTuple):
    """What ``draw_boundary`` drew that a figure may refer to."""

    image: Any  # the AxesImage of the shading
    boundary: bool  # whether a 0.5 boundary line was drawn


# ---- colours -----------------------------------------------------------------------------------
def _class_colors() -> tuple[tuple[float, ...], tuple[float, ...]]:
    """RGBA of class 0 (red) and class 1 (blue)."""
    import matplotlib

    cmap = matplotlib.colormaps["Spectral"]
    return tuple(cmap(_CLASS_POSITIONS[0])), tuple(cmap(_CLASS_POSITIONS[1]))


def _shading_cmap():
    """Spectral between the class colours, lightened towards white: 0 pale red, 1 pale blue."""
    import matplotlib
    from matplotlib.colors import ListedColormap

    rgb = matplotlib.colormaps["Spectral"](np.linspace(*_CLASS_POSITIONS, 256))[:, :3]  # (256, 3)
    return ListedColormap(1.0 - _SHADE_STRENGTH * (1.0 - rgb), name="reglab_shading")


def class_name(label) -> str:
    """"class <label>", as legends and colorbars name a class."""
    return f"class {label.item() if isinstance(label, np.generic) else label}"


# ---- input checks ------------------------------------------------------------------------------
def _check_points(X, name: str) -> np.ndarray:
    """X (n, 2) float64, with a message that says why 2 columns are needed."""
    try:
        array = np.asarray(X)
    except ValueError:  # ragged input: check_X explains
        array = None
    if getattr(array, "ndim", None) == 2 and array.shape[0] > 0 and array.shape[1] != 2:
        raise ValueError(f"decision boundaries and data-set plots need 2 features; got {name} with {array.shape[1]} columns")
    return check_X(X, name=name, n_features=2)


def _encode_like(y, classes: np.ndarray, name: str, n: int, x_name: str) -> np.ndarray:
    """Labels of a second set (test points) encoded with the classes of the first: (n,) int."""
    array = np.asarray(y)
    array = array.ravel() if array.ndim == 2 and 1 in array.shape else array
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (n_samples,); got shape {array.shape}")
    if array.shape[0] != n:
        raise ValueError(f"{x_name} and {name} must have the same number of samples; got {n} and {array.shape[0]}")
    known = np.isin(array, classes)
    if not np.all(known):
        unknown = ", ".join(str(v) for v in np.unique(array[~known])[:5])
        allowed = ", ".join(str(c) for c in classes)
        raise ValueError(f"{name} must hold the classes of the training labels ({allowed}); got also {unknown}")
    return (array == classes[1]).astype(int)


def check_data(X, y, X_test=None, y_test=None, names=_DATA_NAMES) -> PlotData:
    """Validated points and labels; test labels must use the training labels' classes."""
    X = _check_points(X, names[0])
    encoded, classes = binary_labels(y, name=names[1])
    if encoded.shape[0] != X.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same number of samples; got {X.shape[0]} and {encoded.shape[0]}"
        )
    test = None
    if X_test is not None or y_test is not None:
        if X_test is None or y_test is None:
            given, missing = (names[2], names[3]) if y_test is None else (names[3], names[2])
            raise ValueError(f"{given} was given without {missing}; pass both or neither")
        X_test = _check_points(X_test, names[2])
        test = X_test, _encode_like(y_test, classes, names[3], X_test.shape[0], names[2])
    return PlotData(X, encoded.astype(int), classes, test)


def check_boundary_inputs(X, y, X_test, y_test, step, shading) -> tuple[PlotData, float | None, str]:
    """The inputs every decision-boundary function takes, checked: (data, step, shading)."""
    shading = check_choice("shading", shading, SHADINGS)
    data = check_data(X, y, X_test, y_test)
    step = None if step is None else check_real("step", step, low=0, low_inclusive=False)
    return data, step, shading


def check_limits(name: str, value) -> tuple[float, float] | None:
    """None, or a pair (low, high) of finite numbers with low < high."""
    if value is None:
        return None
    try:
        low, high = value
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) with low < high; got {value!r}") from None
    low, high = check_real(f"{name}[0]", low), check_real(f"{name}[1]", high)
    if not low < high:
        raise ValueError(f"{name} must be a pair (low, high) with low < high; got {value!r}")
    return low, high


def padded_range(values: np.ndarray) -> tuple[float, float]:
    """The range of ``values`` (n,) padded by ``PAD_FRACTION`` on each side (never empty)."""
    low, high = float(values.min()), float(values.max())
    pad = PAD_FRACTION * (high - low) if high > low else max(0.5, 0.1 * abs(low))
    return low - pad, high + pad


def _grid_axis(low: float, high: float, step: float | None, name: str) -> np.ndarray:
    if step is None:
        return np.linspace(low, high, GRID_POINTS)
    count = int(math.floor((high - low) / step + 1e-9)) + 1
    if not 2 <= count <= MAX_GRID_POINTS:
        raise ValueError(
            f"step must give 2 to {MAX_GRID_POINTS} grid points per side; got step={step:g}, "
            f"which gives {count} over {name} ({low:g}, {high:g})"
        )
    return low + step * np.arange(count)


def data_limits(data: PlotData, show_test: bool = True) -> tuple[tuple[float, float], tuple[float, float]]:
    """Default view (xlim, ylim): the range of the training points, and the test points when shown, padded."""
    X_all = data.X if data.test is None or not show_test else np.concatenate([data.X, data.test[0]])  # (n, 2)
    return padded_range(X_all[:, 0]), padded_range(X_all[:, 1])


def boundary_grid(xlim, ylim, step: float | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where a decision boundary is evaluated: xs (nx,), ys (ny,) and the points (ny * nx, 2), row by row.

    Limits are checked pairs (low, high); ``step`` as in ``draw_decision_boundary``.
    """
    xs, ys = _grid_axis(*xlim, step, "xlim"), _grid_axis(*ylim, step, "ylim")  # (nx,), (ny,)
    xx, yy = np.meshgrid(xs, ys)  # (ny, nx) each
    return xs, ys, np.column_stack([xx.ravel(), yy.ravel()])


def predictions(predict, points: np.ndarray) -> np.ndarray:
    """predict(points (k, 2)) as (k,) floats in [0, 1], with a clear error otherwise."""
    if not callable(predict):
        raise TypeError(f"predict must be a callable taking points (k, 2); got {type(predict).__name__}")
    k = points.shape[0]
    values = np.asarray(predict(points))
    if values.size != k or values.ndim > 2 or (values.ndim == 2 and 1 not in values.shape):
        raise ValueError(
            f"predict must return one value per point, shape ({k},), for points of shape {points.shape}; "
            f"got shape {values.shape}"
        )
    values = values.astype(np.float64) if values.dtype == bool else values
    if not np.issubdtype(values.dtype, np.number) or np.iscomplexobj(values):
        raise ValueError(f"predict must return numbers in [0, 1]; got dtype {values.dtype}")
    values = values.reshape(k).astype(np.float64, copy=False)
    finite = values[np.isfinite(values)]
    if finite.size < k or finite.min() < 0 or finite.max() > 1:
        seen = f"values from {finite.min():g} to {finite.max():g}" if finite.size else "no finite values"
        bad = f" and {k - finite.size} NaN or infinite" if finite.size < k else ""
        raise ValueError(f"predict must return probabilities or 0/1 predictions, in [0, 1]; got {seen}{bad}")
    return values


# ---- drawing -----------------------------------------------------------------------------------
def set_title(ax, title: str, **kwargs) -> None:
    """``ax.set_title`` at a fixed height just above the axes.

    With the default height matplotlib measures the axes' tick labels at every drawing to lift the
    title above any that sit at the top (about a sixth of the time of saving a figure); these
    figures have none there.
    """
    ax.set_title(title, y=1.0, **kwargs)


def scatter_classes(ax, X: np.ndarray, y: np.ndarray, classes: np.ndarray, *, hollow: bool, prefix: str = "") -> None:
    """Scatter X (n, 2) coloured by y (n,): filled with a thin dark edge, or hollow; one set per class."""
    size = 30.0 if len(X) <= 300 else max(4.0, 30.0 * math.sqrt(300.0 / len(X)))  # points^2
    for index, color in enumerate(_class_colors()):
        chosen = y == index
        if not np.any(chosen):
            continue
        label = prefix + class_name(classes[index])
        if hollow:
            style = dict(s=1.4 * size, facecolors="none", edgecolors=[color], linewidths=1.2, zorder=4)
        else:
            style = dict(s=size, c=[color], edgecolors="0.1", linewidths=0.5, zorder=3)
        ax.scatter(X[chosen, 0], X[chosen, 1], marker="o", label=label, **style)


def draw_boundary(
    ax, predict, data: PlotData, *, xlim, ylim, step, title, shading, show_test=True, show_points=True
) -> Drawn:
    """Shade, draw the 0.5 line and scatter the points on ``ax``. Inputs already validated."""
    from matplotlib.colors import Normalize

    test = data.test if show_test else None
    # explicit limits, else limits someone fixed on the axes (the course does), else the data's
    xlim, ylim = check_limits("xlim", xlim), check_limits("ylim", ylim)
    data_x, data_y = data_limits(data, show_test)
    if xlim is None:
        xlim = data_x if ax.get_autoscalex_on() else tuple(ax.get_xlim())
    if ylim is None:
        ylim = data_y if ax.get_autoscaley_on() else tuple(ax.get_ylim())
    xs, ys, points = boundary_grid(xlim, ylim, step)  # (nx,), (ny,), (ny * nx, 2)
    values = predictions(predict, points).reshape(len(ys), len(xs))  # (ny, nx)

    shade = (values > 0.5).astype(float) if shading == "class" else values
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2  # grid values sit at pixel centres
    image = ax.imshow(
        shade, origin="lower", extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy),
        cmap=_shading_cmap(), norm=Normalize(0.0, 1.0), interpolation="nearest", aspect="auto", zorder=0,
    )
    # contour warns (an error under strict test settings) when 0.5 is outside the values' range
    boundary = bool(values.min() < 0.5 < values.max())
    if boundary:
        ax.contour(xs, ys, values, levels=[0.5], colors=BOUNDARY_COLOR, linewidths=1.3, zorder=2)
    if show_points:
        scatter_classes(ax, data.X, data.y, data.classes, hollow=False, prefix="train: " if test else "")
        if test is not None:
            scatter_classes(ax, test[0], test[1], data.classes, hollow=True, prefix="test: ")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel(AXIS_LABELS[0])
    ax.set_ylabel(AXIS_LABELS[1])
    if title is not None:
        set_title(ax, str(title))
    return Drawn(image, boundary)


def legend_handles(ax, boundary: bool) -> list:
    """The labelled point sets on ``ax``, plus a line standing for the boundary if one was drawn."""
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    line = Line2D([], [], color=BOUNDARY_COLOR, linewidth=1.3, label="decision boundary (p = 0.5)")
    return handles + ([line] if boundary else [])


# ---- public API --------------------------------------------------------------------------------
def draw_decision_boundary(
    ax: Axes, predict: Callable[[np.ndarray], np.ndarray], X, y, *, xlim=None, ylim=None,
    step: float | None = None, title: str | None = None, shading: str = "class",
    X_test=None, y_test=None, legend: bool = False, show_points: bool = True,
) -> None:
    """Draw a 2-D classifier's decision regions, its 0.5 boundary and the data on ``ax``.

    Draws only on ``ax``, so it works on pyplot's current axes as well as on a ``Figure``'s.

    Parameters
    ----------
    ax : matplotlib.axes.Axes
    predict : callable
        Points (k, 2) -> k values in [0, 1]: probabilities of class 1 or 0/1 predictions, shape
        (k,) (or (1, k) / (k, 1), like the course's ``predict_dec``).
    X : array of shape (n, 2)
        Drawn filled, coloured by class.
    y : array of shape (n,)
        Two class labels; 0/1 keep their meaning, two other labels are coloured in sorted order.
    xlim, ylim : (low, high), optional
        Region shaded and shown. Default: limits already fixed on ``ax`` (by a ``set_xlim``
        before this call, as in the course), else the range of the points padded by 10%.
    step : float, optional
        Grid spacing in data units (the course used 0.01). Default: 300 grid points per side.
    title : str, optional
    shading : {"class", "probability"}
        Shade by predicted class (the course's look) or by the value ``predict`` returns.
    X_test, y_test : arrays of shape (k, 2) and (k,), optional
        Drawn hollow, coloured by class; y_test must hold the classes of y.
    legend : bool
        Add a legend of the point sets and the boundary line.
    show_points : bool
        False draws the regions and the boundary only (the points still set the default
        limits): for callers that draw the points their own way, like ``reglab.course``.

    Raises
    ------
    ValueError
        If X does not have 2 columns, labels do not match the points, limits or step are invalid,
        or ``predict`` does not return one value in [0, 1] per point.
    """
    data, step, shading = check_boundary_inputs(X, y, X_test, y_test, step, shading)
    drawn = draw_boundary(
        ax, predict, data, xlim=xlim, ylim=ylim, step=step, title=title, shading=shading, show_points=show_points
    )
    if legend:
        ax.legend(handles=legend_handles(ax, drawn.boundary), loc="best", fontsize="small", framealpha=0.9)
