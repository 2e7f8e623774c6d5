"""Figures: decision boundaries, models side by side, cost curves, data sets; and writing them to files.

Every function here builds a whole figure with matplotlib's object-oriented API and returns it:
nothing is registered with pyplot, shown or printed; matplotlib's constrained layout places the
panels, titles, legends and colorbars. The drawing itself is ``drawing``'s. Colours keep the course's
meaning: red is class 0, blue is class 1. matplotlib is imported inside the functions, so ``import
reglab`` stays fast.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ..files import atomic_path
from ..validation import check_real
from .drawing import (
    AXIS_LABELS,
    SHADINGS,
    Drawn,
    check_boundary_inputs,
    check_data,
    check_limits,
    class_name,
    data_limits,
    draw_boundary,
    draw_decision_boundary,
    legend_handles,
    padded_range,
    predictions,
    scatter_classes,
    set_title,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "draw_decision_boundary", "decision_boundary", "models_side_by_side", "cost_curves", "dataset_figure",
    "save_figure", "SHADINGS", "FIGURE_FORMATS",
]

FIGURE_FORMATS = ("png", "svg", "pdf")
SINGLE_FIGSIZE = (6.4, 4.8)  # inches
PANEL_SIZE = (4.2, 4.0)  # inches per panel of models_side_by_side
MAX_COLUMNS = 3


def _new_figure(figsize) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, layout="constrained")


def _fitted_title(title: str, width: float, fontsize: float = 10.0) -> str:
    """``title`` with its lines broken at spaces to fit ``width`` inches at ``fontsize`` points (an average
    character is about half the font size wide)."""
    import textwrap

    chars = max(12, int(width * 72 / (0.55 * fontsize)))
    return "\n".join(textwrap.fill(line, chars) for line in title.split("\n"))


def _legend_below(fig, handles: list, ncol: int) -> None:
    """A frameless legend under the panels (constrained layout leaves it room)."""
    fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize="small", frameon=False)


def _probability_colorbar(fig, drawn: Drawn, axes, classes: np.ndarray) -> None:
    fig.colorbar(drawn.image, ax=list(axes), shrink=0.9, label=f"P({class_name(classes[1])})")


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
    data, step, shading = check_boundary_inputs(X, y, X_test, y_test, step, shading)
    fig = _new_figure(SINGLE_FIGSIZE)
    ax = fig.add_subplot()
    title = "Decision boundary" if title is None else title
    drawn = draw_boundary(ax, predict, data, xlim=xlim, ylim=ylim, step=step, title=None, shading=shading)
    set_title(ax, _fitted_title(title, SINGLE_FIGSIZE[0] - 1.0, ax.title.get_fontsize()))
    handles = legend_handles(ax, drawn.boundary)
    _legend_below(fig, handles, min(3, len(handles)))
    if shading == "probability":
        _probability_colorbar(fig, drawn, [ax], data.classes)
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
    data, step, shading = check_boundary_inputs(X, y, X_test, y_test, step, shading)
    data_x, data_y = data_limits(data, show_test)
    xlim = check_limits("xlim", xlim) or data_x
    ylim = check_limits("ylim", ylim) or data_y

    ncols = min(len(models), MAX_COLUMNS)
    nrows = math.ceil(len(models) / ncols)
    fig = _new_figure((PANEL_SIZE[0] * ncols, PANEL_SIZE[1] * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False).ravel()
    for ax in axes[len(models):]:
        ax.remove()
    axes = axes[: len(models)]
    boundary = False
    for index, (ax, (name, model)) in enumerate(zip(axes, models.items())):
        drawn = draw_boundary(ax, model.predict_proba, data, xlim=xlim, ylim=ylim, step=step, title=None,
                      shading=shading, show_test=show_test)
        scores = [f"train {_accuracy(model, data.X, data.y):.1%}"]
        if data.test is not None:
            scores.append(f"test {_accuracy(model, *data.test):.1%}")
        set_title(ax, _fitted_title(f"{titles.get(name, name)}\n" + ", ".join(scores), PANEL_SIZE[0] - 0.3),
                  fontsize="medium")
        # labels on the outer sides only, including panels above an empty slot (unlike label_outer)
        outer_x, outer_y = index + ncols >= len(models), index % ncols == 0
        ax.tick_params(labelbottom=outer_x, labelleft=outer_y)
        ax.set_xlabel(ax.get_xlabel() if outer_x else "")
        ax.set_ylabel(ax.get_ylabel() if outer_y else "")
        boundary = boundary or drawn.boundary
    handles = legend_handles(axes[0], boundary)
    _legend_below(fig, handles, len(handles) if ncols > 1 else 2)  # one row below several panels, two columns below one
    if shading == "probability":
        _probability_colorbar(fig, drawn, list(axes), data.classes)
    return fig


def _accuracy(model, X: np.ndarray, y: np.ndarray) -> float:
    """Fraction of points X (n, 2) whose predicted class (probability > 0.5) is their label y (n,)."""
    return float(np.mean((predictions(model.predict_proba, X) > 0.5) == (y == 1)))


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
        curves.append((str(name), iterations, cost.astype(np.float64), history))

    fig = _new_figure(SINGLE_FIGSIZE)
    ax = fig.add_subplot()
    for name, iterations, cost, history in curves:
        final = cost[np.isfinite(cost)][-1:]
        label = f"{name} (final {final[0]:{'.4f' if abs(final[0]) >= 0.01 else '.2e'}})" if final.size else name
        (line,) = ax.plot(iterations, cost, marker="o" if cost.size <= 40 else None, markersize=3.5, linewidth=1.6,
                          label=label)
        if getattr(history, "dev_cost", None) is not None:  # early stopping: the dev cost and the kept point
            ax.plot(iterations, np.ravel(history.dev_cost), linestyle="--", color=line.get_color(), linewidth=1.4,
                    label=f"{name}: dev cost (early stopping)")
            best = int(np.ravel(history.best_iteration)[0])
            ax.axvline(best, color=line.get_color(), linestyle=":", linewidth=1.2,
                       label=f"{name}: weights kept from iteration {best}")
    if log_scale:
        ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("cost (log scale)" if log_scale else "cost")
    if any(getattr(h, "dev_cost", None) is not None for *_, h in curves):
        ax.set_ylabel("cost (solid: training, dashed: dev)")
    set_title(ax, str(title))
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
    data = check_data(dataset.X_train, dataset.y_train, None if no_test else dataset.X_test,
                       None if no_test else dataset.y_test, names=("X_train", "y_train", "X_test", "y_test"))
    fig = _new_figure(SINGLE_FIGSIZE)
    ax = fig.add_subplot()
    scatter_classes(ax, data.X, data.y, data.classes, hollow=False, prefix="train: ")
    X_all = data.X
    if data.test is not None:
        scatter_classes(ax, *data.test, data.classes, hollow=True, prefix="test: ")
        X_all = np.concatenate([data.X, data.test[0]])
    ax.set_xlim(padded_range(X_all[:, 0]))
    ax.set_ylim(padded_range(X_all[:, 1]))
    ax.set_xlabel(AXIS_LABELS[0])
    ax.set_ylabel(AXIS_LABELS[1])
    ax.grid(True, alpha=0.25)
    n_test = 0 if data.test is None else len(data.test[0])
    set_title(ax, str(title) if title is not None else f"{dataset.name}: {len(data.X)} train and {n_test} test points")
    ax.legend(loc="best", fontsize="small", framealpha=0.9)
    return fig


def save_figure(fig: Figure, path, *, dpi: float = 150, make_folders: bool = True) -> Path:
    """Write ``fig`` to ``path`` atomically (temporary name, then rename), creating the folder unless
    ``make_folders`` is False.

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
    with atomic_path(path, make_folders=make_folders) as temporary:
        # Light PNG compression: faster to encode than the default level 6, files a little larger.
        options = {"pil_kwargs": {"compress_level": 2}} if fmt == "png" else {}
        fig.savefig(temporary, format=fmt, dpi=dpi, **options)
    return path
