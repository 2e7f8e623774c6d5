"""Figures: decision boundaries, cost curves, data sets; and writing them to files.

Every function builds its figure with matplotlib's object-oriented API and returns it: nothing is
registered with pyplot, shown or printed (``draw_decision_boundary`` draws on axes you pass, which
may be pyplot's). Colours keep the course's meaning (its "Spectral" colormap): red is class 0, blue
is class 1; with two other labels, red is the first in sorted order and blue the second.
matplotlib is imported inside the functions, so ``import reglab`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from .files import atomic_path
from .validation import binary_labels, check_choice, check_real, check_X

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "draw_decision_boundary", "decision_boundary", "models_side_by_side", "cost_curves", "dataset_figure",
    "save_figure", "SHADINGS", "FIGURE_FORMATS",
]

SHADINGS = ("class", "probability")
FIGURE_FORMATS = ("png", "svg", "pdf")
SINGLE_FIGSIZE = (6.4, 4.8)  # inches
PANEL_SIZE = (4.2, 4.0)  # inches per panel of models_side_by_side
MAX_COLUMNS = 3
GRID_POINTS = 400  # default grid points per side of a decision-boundary image
MAX_GRID_POINTS = 5000  # per side; a smaller step is almost surely a mistake
PAD_FRACTION = 0.1  # default view: the data range padded by this fraction on each side

_CLASS_POSITIONS = (0.1, 0.9)  # on the Spectral colormap: class 0 (red) and class 1 (blue)
_SHADE_STRENGTH = 0.45  # shading colour = this much colormap colour, the rest white
_BOUNDARY_COLOR = "0.15"
_DATA_NAMES = ("X", "y", "X_test", "y_test")


class _Data(NamedTuple):
    X: np.ndarray  # (n, 2)
    y: np.ndarray  # (n,) int: 0 for classes[0], 1 for classes[1]
    classes: np.ndarray  # (2,) the labels, in colour order (red, blue)
    test: tuple[np.ndarray, np.ndarray] | None  # X_test (k, 2), y_test (k,) int; or None


class _Drawn(NamedTuple):
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


def _check_data(X, y, X_test=None, y_test=None, names=_DATA_NAMES) -> _Data:
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
    return _Data(X, encoded.astype(int), classes, test)


def _check_limits(name: str, value) -> tuple[float, float] | None:
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


def _check_step(step) -> float | None:
    return None if step is None else check_real("step", step, low=0, low_inclusive=False)


def _padded_range(values: np.ndarray) -> tuple[float, float]:
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


def _predictions(predict, points: np.ndarray) -> np.ndarray:
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
def _class_name(label) -> str:
    return f"class {label.item() if isinstance(label, np.generic) else label}"


def _scatter_classes(ax, X: np.ndarray, y: np.ndarray, classes: np.ndarray, *, hollow: bool, prefix: str = "") -> None:
    """Scatter X (n, 2) coloured by y (n,): filled with a thin dark edge, or hollow."""
    size = 30.0 if len(X) <= 300 else max(4.0, 30.0 * math.sqrt(300.0 / len(X)))  # points^2
    for index, color in enumerate(_class_colors()):
        chosen = y == index
        if not np.any(chosen):
            continue
        label = prefix + _class_name(classes[index])
        if hollow:
            style = dict(s=1.4 * size, facecolors="none", edgecolors=[color], linewidths=1.2, zorder=4)
        else:
            style = dict(s=size, c=[color], edgecolors="0.1", linewidths=0.5, zorder=3)
        ax.scatter(X[chosen, 0], X[chosen, 1], marker="o", label=label, **style)


def _draw(ax, predict, data: _Data, *, xlim, ylim, step, title, shading, show_test=True) -> _Drawn:
    """Shade, draw the 0.5 line and scatter the points on ``ax``. Inputs already validated."""
    from matplotlib.colors import Normalize

    test = data.test if show_test else None
    X_all = data.X if test is None else np.concatenate([data.X, test[0]])
    # explicit limits, else limits someone fixed on the axes (the course does), else the data's
    xlim, ylim = _check_limits("xlim", xlim), _check_limits("ylim", ylim)
    if xlim is None:
        xlim = _padded_range(X_all[:, 0]) if ax.get_autoscalex_on() else tuple(ax.get_xlim())
    if ylim is None:
        ylim = _padded_range(X_all[:, 1]) if ax.get_autoscaley_on() else tuple(ax.get_ylim())
    xs, ys = _grid_axis(*xlim, step, "xlim"), _grid_axis(*ylim, step, "ylim")  # (nx,), (ny,)
    xx, yy = np.meshgrid(xs, ys)  # (ny, nx) each
    values = _predictions(predict, np.column_stack([xx.ravel(), yy.ravel()])).reshape(xx.shape)  # (ny, nx)

    shade = (values > 0.5).astype(float) if shading == "class" else values
    dx, dy = (xs[1] - xs[0]) / 2, (ys[1] - ys[0]) / 2  # grid values sit at pixel centres
    image = ax.imshow(
        shade, origin="lower", extent=(xs[0] - dx, xs[-1] + dx, ys[0] - dy, ys[-1] + dy),
        cmap=_shading_cmap(), norm=Normalize(0.0, 1.0), interpolation="nearest", aspect="auto", zorder=0,
    )
    # contour warns (an error under strict test settings) when 0.5 is outside the values' range
    boundary = bool(values.min() < 0.5 < values.max())
    if boundary:
        ax.contour(xx, yy, values, levels=[0.5], colors=_BOUNDARY_COLOR, linewidths=1.3, zorder=2)
    _scatter_classes(ax, data.X, data.y, data.classes, hollow=False, prefix="train: " if test else "")
    if test is not None:
        _scatter_classes(ax, test[0], test[1], data.classes, hollow=True, prefix="test: ")
    ax.set_xlim(xlim)
    ax.set_ylim(ylim)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title is not None:
        ax.set_title(str(title))
    return _Drawn(image, boundary)


def _legend_handles(ax, boundary: bool) -> list:
    """The labelled point sets on ``ax``, plus a line standing for the boundary if one was drawn."""
    from matplotlib.lines import Line2D

    handles, _ = ax.get_legend_handles_labels()
    line = Line2D([], [], color=_BOUNDARY_COLOR, linewidth=1.3, label="decision boundary (p = 0.5)")
    return handles + ([line] if boundary else [])


def _new_figure(figsize) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _probability_colorbar(fig, drawn: _Drawn, axes, classes: np.ndarray) -> None:
    fig.colorbar(drawn.image, ax=axes, label=f"P({_class_name(classes[1])})", shrink=0.9)


# ---- public API --------------------------------------------------------------------------------
def draw_decision_boundary(
    ax: Axes, predict: Callable[[np.ndarray], np.ndarray], X, y, *, xlim=None, ylim=None,
    step: float | None = None, title: str | None = None, shading: str = "class",
    X_test=None, y_test=None, legend: bool = False,
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
        Grid spacing in data units (the course used 0.01). Default: 400 grid points per side.
    title : str, optional
    shading : {"class", "probability"}
        Shade by predicted class (the course's look) or by the value ``predict`` returns.
    X_test, y_test : arrays of shape (k, 2) and (k,), optional
        Drawn hollow, coloured by class; y_test must hold the classes of y.
    legend : bool
        Add a legend of the point sets and the boundary line.

    Raises
    ------
    ValueError
        If X does not have 2 columns, labels do not match the points, limits or step are invalid,
        or ``predict`` does not return one value in [0, 1] per point.
    """
    shading = check_choice("shading", shading, SHADINGS)
    data, step = _check_data(X, y, X_test, y_test), _check_step(step)
    drawn = _draw(ax, predict, data, xlim=xlim, ylim=ylim, step=step, title=title, shading=shading)
    if legend:
        ax.legend(handles=_legend_handles(ax, drawn.boundary), loc="best", fontsize="small", framealpha=0.9)


def decision_boundary(
    predict: Callable[[np.ndarray], np.ndarray], X, y, *, title: str | None = None, xlim=None, ylim=None,
    X_test=None, y_test=None, step: float | None = None, shading: str = "class",
) -> Figure:
    """Figure of one model's decision boundary with its training (and test) points.

    Parameters
    ----------
    predict : callable
        Points (k, 2) -> values (k,) in [0, 1], e.g. ``model.predict_proba``.
    X, y : arrays of shape (n, 2) and (n,)
        Training points and their two class labels.
    title : str, optional
        Default "Decision boundary".
    X_test, y_test : arrays of shape (k, 2) and (k,), optional
        Test points, drawn as hollow circles.
    xlim, ylim, step, shading
        As in ``draw_decision_boundary``; limits default to all points' range padded by 10%.
        With ``shading="probability"`` a colorbar shows the probability of class 1.

    Returns
    -------
    matplotlib.figure.Figure
        6.4 x 4.8 in: one axes (and the colorbar's), the legend below the plot.
    """
    shading = check_choice("shading", shading, SHADINGS)
    data, step = _check_data(X, y, X_test, y_test), _check_step(step)
    fig = _new_figure(SINGLE_FIGSIZE)
    ax = fig.add_subplot()
    title = "Decision boundary" if title is None else title
    drawn = _draw(ax, predict, data, xlim=xlim, ylim=ylim, step=step, title=title, shading=shading)
    handles = _legend_handles(ax, drawn.boundary)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=min(3, len(handles)),
              fontsize="small", frameon=False)
    if shading == "probability":
        _probability_colorbar(fig, drawn, ax, data.classes)
    return fig


def models_side_by_side(
    models: Mapping[str, Any], X, y, *, titles: Mapping[str, str] | None = None, X_test=None, y_test=None,
    xlim=None, ylim=None, step: float | None = None, shading: str = "class", show_test: bool = False,
) -> Figure:
    """Decision boundaries of several models, one panel each, on the same axes limits.

    Parameters
    ----------
    models : mapping of str to model
        Name -> trained model; only ``model.predict_proba(points (k, 2)) -> (k,)`` is used.
    X, y : arrays of shape (n, 2) and (n,)
        Training points, drawn on every panel (as in the notebook's figures), and their labels.
    titles : mapping of str to str, optional
        Panel title per model name (default: the name).
    X_test, y_test : arrays of shape (k, 2) and (k,), optional
        Test points: their accuracy is shown beside the training accuracy under each title.
    xlim, ylim, step, shading
        As in ``draw_decision_boundary``; limits are shared, default the drawn points' range + 10%.
    show_test : bool
        Also draw the test points (hollow).

    Returns
    -------
    matplotlib.figure.Figure
        One panel per model, at most 3 per row, one legend below the panels.
    """
    if not isinstance(models, Mapping) or len(models) == 0:
        raise ValueError(f"models must be a non-empty mapping of name -> model; got {models!r}")
    for name, model in models.items():
        if not callable(getattr(model, "predict_proba", None)):
            raise TypeError(f"models[{name!r}] must have a predict_proba method; got {type(model).__name__}")
    titles = {} if titles is None else dict(titles)
    unknown = set(titles) - set(models)
    if unknown:
        raise ValueError(f"titles must be keyed by the model names {list(models)}; got also {sorted(map(str, unknown))}")
    shading = check_choice("shading", shading, SHADINGS)
    data, step = _check_data(X, y, X_test, y_test), _check_step(step)
    X_all = data.X if data.test is None or not show_test else np.concatenate([data.X, data.test[0]])
    xlim = _check_limits("xlim", xlim) or _padded_range(X_all[:, 0])
    ylim = _check_limits("ylim", ylim) or _padded_range(X_all[:, 1])

    ncols = min(len(models), MAX_COLUMNS)
    nrows = math.ceil(len(models) / ncols)
    fig = _new_figure((PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in axes[len(models):]:
        ax.remove()
    axes = axes[: len(models)]
    boundary = False
    for index, (ax, (name, model)) in enumerate(zip(axes, models.items())):
        drawn = _draw(ax, model.predict_proba, data, xlim=xlim, ylim=ylim, step=step, title=None,
                      shading=shading, show_test=show_test)
        scores = [f"train {_accuracy(model, data.X, data.y):.1%}"]
        if data.test is not None:
            scores.append(f"test {_accuracy(model, *data.test):.1%}")
        ax.set_title(f"{titles.get(name, name)}\n" + ", ".join(scores), fontsize="medium")
        # labels on the outer sides only, including panels above an empty slot (unlike label_outer)
        outer_x, outer_y = index + ncols >= len(models), index % ncols == 0
        ax.tick_params(labelbottom=outer_x, labelleft=outer_y)
        ax.set_xlabel(ax.get_xlabel() if outer_x else "")
        ax.set_ylabel(ax.get_ylabel() if outer_y else "")
        boundary = boundary or drawn.boundary
    _figure_legend(fig, _legend_handles(axes[0], boundary), one_row=ncols > 1)
    if shading == "probability":
        _probability_colorbar(fig, drawn, list(axes), data.classes)
    return fig


def _accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points X (n, 2) whose predicted class (probability > 0.5) is their label y (n,)."""
    return float(np.mean((_predictions(model.predict_proba, X) > 0.5) == (y == 1)))


def _figure_legend(fig, handles: list, one_row: bool) -> None:
    """A legend below all panels: in one row, or in two columns below a single narrow panel."""
    import matplotlib

    major, minor = (int(part) for part in matplotlib.__version__.split(".")[:2])
    # "outside" puts the legend in constrained layout's margin (matplotlib >= 3.7)
    loc = "outside lower center" if (major, minor) >= (3, 7) else "lower center"
    fig.legend(handles=handles, loc=loc, ncol=len(handles) if one_row else 2, fontsize="small", frameon=False)


def cost_curves(histories: Mapping[str, Any], *, title: str = "Cost during training", log_scale: bool = False) -> Figure:
    """The recorded cost of one or more trainings against the iteration, on one axes.

    Parameters
    ----------
    histories : mapping of str to History
        Name -> ``reglab.History`` of one model: ``iterations`` (T,) and ``cost`` (T,) (cost of
        shape (1, T) is accepted; for a batch of M > 1 models pass ``history.model(i)``).
    title : str
    log_scale : bool
        Logarithmic cost axis, which shows the slow late decrease better.

    Returns
    -------
    matplotlib.figure.Figure
        6.4 x 4.8 in, one axes, one line per history, a legend with the names and final costs.
    """
    if not isinstance(histories, Mapping) or len(histories) == 0:
        raise ValueError(f"histories must be a non-empty mapping of name -> History; got {histories!r}")
    curves = []
    for name, history in histories.items():
        if not (hasattr(history, "iterations") and hasattr(history, "cost")):
            raise TypeError(f"histories[{name!r}] must be a reglab.History (iterations, cost); got {type(history).__name__}")
        iterations, cost = np.asarray(history.iterations), np.asarray(history.cost)
        cost = cost[0] if cost.ndim == 2 and cost.shape[0] == 1 else cost
        if cost.ndim != 1:
            raise ValueError(
                f"histories[{name!r}] must hold the cost of one model, shape (T,); got shape {cost.shape} "
                "(pass history.model(i) for one model of a batch)"
            )
        if iterations.shape != cost.shape:
            raise ValueError(
                f"histories[{name!r}] must have as many iterations as costs; got shapes {iterations.shape} and {cost.shape}"
            )
        if cost.size == 0:
            raise ValueError(f"histories[{name!r}] holds no recorded cost")
        curves.append((str(name), iterations, cost.astype(np.float64)))

    fig = _new_figure(SINGLE_FIGSIZE)
    ax = fig.add_subplot()
    for name, iterations, cost in curves:
        final = cost[np.isfinite(cost)][-1:]
        label = f"{name} (final {final[0]:{'.4f' if abs(final[0]) >= 0.01 else '.2e'}})" if final.size else name
        ax.plot(iterations, cost, marker="o" if cost.size <= 40 else None, markersize=3.5, linewidth=1.6, label=label)
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (log scale)" if log_scale else "cost")
    ax.set_title(str(title))
    ax.grid(True, alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def dataset_figure(dataset, *, title: str | None = None) -> Figure:
    """Scatter plot of a two-feature data set: training points filled, test points hollow.

    Parameters
    ----------
    dataset : object
        With attributes ``name`` (str), ``X_train`` (n, 2), ``y_train`` (n,), ``X_test`` (k, 2)
        and ``y_test`` (k,), such as ``reglab.datasets.Dataset``. The test set may be empty.
    title : str, optional
        Default: the name and the numbers of points.

    Returns
    -------
    matplotlib.figure.Figure
        6.4 x 4.8 in, one axes, a legend of train/test points by class.
    """
    missing = [a for a in ("name", "X_train", "y_train", "X_test", "y_test") if not hasattr(dataset, a)]
    if missing:
        raise TypeError(
            f"dataset must have attributes name, X_train, y_train, X_test, y_test; {type(dataset).__name__} lacks "
            + ", ".join(missing)
        )
    no_test = np.size(dataset.X_test) == 0 and np.size(dataset.y_test) == 0
    data = _check_data(dataset.X_train, dataset.y_train, None if no_test else dataset.X_test,
                       None if no_test else dataset.y_test, names=("X_train", "y_train", "X_test", "y_test"))
    fig = _new_figure(SINGLE_FIGSIZE)
    ax = fig.add_subplot()
    _scatter_classes(ax, data.X, data.y, data.classes, hollow=False, prefix="train: ")
    X_all = data.X
    if data.test is not None:
        _scatter_classes(ax, *data.test, data.classes, hollow=True, prefix="test: ")
        X_all = np.concatenate([data.X, data.test[0]])
    ax.set_xlim(_padded_range(X_all[:, 0]))
    ax.set_ylim(_padded_range(X_all[:, 1]))
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.grid(True, alpha=0.25)
    n_test = 0 if data.test is None else len(data.test[0])
    ax.set_title(str(title) if title is not None else f"{dataset.name}: {len(data.X)} train and {n_test} test points")
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    return fig


def save_figure(fig: Figure, path, *, dpi: float = 150) -> Path:
    """Write ``fig`` to ``path`` atomically (temporary name, then rename), creating the folder.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    path : str or os.PathLike
        Ending in ``.png`` (or ``.svg`` / ``.pdf``, whose format is then used).
    dpi : float
        Resolution in dots per inch, in (0, 1200].

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure; got {type(fig).__name__}")
    dpi = check_real("dpi", dpi, low=0, high=1200, low_inclusive=False)
    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"path must end in one of {', '.join('.' + f for f in FIGURE_FORMATS)}; got {str(path)!r}")
    with atomic_path(path) as temporary:
        fig.savefig(temporary, format=fmt, dpi=dpi)
    return path
