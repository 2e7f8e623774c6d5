"""Figures of repeated measurements: spread over seeds, sweep heatmaps, accuracy against a setting.

Like ``reglab.plots``, every function returns a matplotlib ``Figure`` built without pyplot, and
imports matplotlib only when called.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping, Sequence

import numpy as np

from ..stats import Interval, mean_interval

__all__ = ["seed_spread", "dev_heatmap", "accuracy_against", "choice_against_data", "color_limits", "setting_label",
           "setting_name", "MIN_COLOR_SPAN"]

_TRAIN_COLOR = "#1f77b4"
_DEV_COLOR = "#d62728"
_COURSE_COLOR = "#2ca02c"


def _figure(size=(6.4, 4.8)):
    from matplotlib.figure import Figure

    return Figure(figsize=size, layout="constrained")


def setting_label(value) -> str:
    """A short text for a setting value: ``(0.86, 0.86)`` -> ``"0.86"``, ``(0.9, 0.8)`` -> ``"0.9/0.8"``."""
    if isinstance(value, (list, tuple)):
        if len(set(value)) == 1 and isinstance(value[0], float):  # one keep_prob for every layer
            return f"{value[0]:g}" if isinstance(value[0], float) else str(value[0])
        return "/".join(f"{v:g}" if isinstance(v, float) else str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


_SETTING_NAMES = {"l2": "λ (L2)", "l1": "L1 strength", "learning_rate": "learning rate", "n_iterations": "iterations",
                  "hidden_layer_sizes": "hidden layer sizes"}


def setting_name(setting: str) -> str:
    """How figures and reports name a setting: ``"l2"`` -> ``"λ (L2)"``; others as they are named."""
    return _SETTING_NAMES.get(setting, setting)


def seed_spread(
    values: Mapping[str, Sequence[float]],
    *,
    reference: Mapping[str, float] | None = None,
    reference_label: str = "course masks (one draw)",
    metric: str = "test accuracy",
    title: str | None = None,
):
    """One column per model: every seed's value, their mean and 95% interval, and a reference mark.

    values: model name -> per-seed values; reference: model name -> a single value to show beside
    the distribution (e.g. the notebook's course-mask result).
    """
    if not values:
        raise ValueError("values must name at least one model; got none")
    fig = _figure((max(6.4, 2.2 * len(values)), 4.8))
    ax = fig.add_subplot()
    rng = np.random.default_rng(0)  # horizontal jitter only, so that equal values stay visible
    for k, (name, per_seed) in enumerate(values.items()):
        data = np.asarray(per_seed, dtype=float)
        interval = mean_interval(data, bounds=(0.0, 1.0))
        jitter = rng.uniform(-0.12, 0.12, size=data.size)
        ax.scatter(k + jitter, data, s=22, color="0.45", alpha=0.7, zorder=2,
                   label="one seed (fresh init and masks)" if k == 0 else None)
        ax.errorbar(k + 0.28, interval.mean, yerr=[[interval.mean - interval.low], [interval.high - interval.mean]],
                    fmt="o", color="black", capsize=5, zorder=3, label="mean and 95% interval" if k == 0 else None)
        if reference and name in reference:
            ax.scatter(k - 0.3, reference[name], marker="*", s=170, color=_COURSE_COLOR, zorder=4,
                       label=reference_label if k == 0 else None)
    # each column is 2.2 inches wide: longer names go on several lines (a long word is cut)
    ax.set_xticks(range(len(values)), [textwrap.fill(str(name).replace(",", ", "), 24) for name in values])
    ax.set_xlim(-0.6, len(values) - 0.4)
    ax.set_ylabel(metric)
    n = len(next(iter(values.values())))
    ax.set_title(title or f"{metric} over {n} seeds")
    ax.grid(axis="y", alpha=0.3)
    # below the axes: inside, it covered the error bars of short or wide intervals
    fig.legend(loc="outside lower center", ncol=2, fontsize="small", frameon=False)
    return fig


def _grid_values(summaries, x: str, y: str):
    xs = sorted({setting_label(s.settings[x]) for s in summaries}, key=_sort_key)
    ys = sorted({setting_label(s.settings[y]) for s in summaries}, key=_sort_key)
    return xs, ys


def _sort_key(text: str):
    try:
        return (0, float(text.split("/")[0]), text)
    except ValueError:
        return (1, 0.0, text)


#: Largest heatmap and accuracy figure, in inches (2400 × 1800 pixels at 150 dpi).
_MAX_WIDTH, _MAX_HEIGHT = 16.0, 12.0
_MAX_ANNOTATED = 20  # columns (or rows) up to which heatmap cells carry their value


def _first_best(summaries: Sequence):
    """The configuration with the highest mean dev accuracy, the first one on ties (``SweepResult.best``'s rule);
    one that diverged (no mean) only when every one did."""
    return max(summaries, key=lambda s: (not math.isnan(s.dev.mean), s.dev.mean))


#: The narrowest span of a heatmap's colour scale, in accuracy: a difference of a point or two is not
#: stretched over every colour (the scale is widened around the values, within [0, 1]).
MIN_COLOR_SPAN = 0.10


def color_limits(values, min_span: float = MIN_COLOR_SPAN) -> tuple[float, float]:
    """(low, high) of a colour scale for accuracies: their range, widened to ``min_span`` about its middle and kept
    in [0, 1]."""
    finite = np.asarray(values, dtype=float)
    finite = finite[np.isfinite(finite)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low < min_span:
        middle = (low + high) / 2
        low, high = middle - min_span / 2, middle + min_span / 2
        if low < 0:
            low, high = 0.0, min_span
        if high > 1:
            low, high = 1.0 - min_span, 1.0
    return low, high


def dev_heatmap(summaries: Sequence, x: str = "l2", y: str = "keep_prob", *, chosen: Mapping | None = None,
                tied: Sequence[Mapping] = (), title: str | None = None):
    """Mean dev accuracy over two settings; where other settings vary, each cell shows the best over them.

    Parameters
    ----------
    summaries : sequence of reglab.sweep.ConfigSummary
        ``settings`` dict and ``dev`` Interval of each configuration (NaN where it diverged: such a cell
        is left blank and says "diverged").
    x, y : str
        The settings along the columns and the rows.
    chosen : mapping, optional
        Settings of the chosen configuration, whose cell is drawn bold and framed. Default: the
        first configuration with the highest mean dev accuracy.
    tied : sequence of mappings
        Settings of the configurations the dev set cannot tell from the best: their cells carry a dot.
    title : str, optional
        Default: says what the cells show, and over which settings they take the best.

    Returns
    -------
    matplotlib.figure.Figure
        At most 16 × 12 inches; cell values are written when there are at most 20 columns and rows. The
        colour scale spans at least ``MIN_COLOR_SPAN`` (``color_limits``).
    """
    if not summaries:
        raise ValueError("summaries must hold at least one configuration; got none")
    chosen = dict(_first_best(summaries).settings if chosen is None else chosen)
    xs, ys = _grid_values(summaries, x, y)
    grid = np.full((len(ys), len(xs)), np.nan)  # (n_y, n_x)
    diverged = set()  # cells with a configuration that diverged (its dev accuracy is NaN)
    for s in summaries:
        i, j = ys.index(setting_label(s.settings[y])), xs.index(setting_label(s.settings[x]))
        grid[i, j] = np.fmax(grid[i, j], s.dev.mean)
        if getattr(s, "diverged", ()):
            diverged.add((i, j))
    best = ys.index(setting_label(chosen[y])), xs.index(setting_label(chosen[x]))
    dotted = {(ys.index(setting_label(t[y])), xs.index(setting_label(t[x]))) for t in tied}
    width = min(_MAX_WIDTH, max(5.0, 1.1 * len(xs) + 2.5))
    height = min(_MAX_HEIGHT, max(3.6, 0.7 * len(ys) + 2.0))
    fig = _figure((width, height))
    ax = fig.add_subplot()
    low, high = color_limits(grid)
    image = ax.imshow(grid, cmap="viridis", origin="lower", aspect="auto", vmin=low, vmax=high)
    annotate = len(xs) <= _MAX_ANNOTATED and len(ys) <= _MAX_ANNOTATED
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value) and annotate:
            bright = image.norm(value) > 0.6
            ax.text(j, i + (0.12 if (i, j) in dotted else 0), f"{value:.3f}", ha="center", va="center",
                    fontsize="small", color="black" if bright else "white",
                    fontweight="bold" if (i, j) == best else "normal")
        if (i, j) in dotted:  # tied with the best
            ax.plot(j, i - (0.22 if annotate else 0), marker="o", markersize=4,
                    color="black" if image.norm(value) > 0.6 else "white")
        elif annotate and (i, j) in diverged:  # its configurations diverged: no accuracy (see the report)
            ax.text(j, i, "diverged", ha="center", va="center", fontsize="small", color="dimgray")
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((best[1] - 0.5, best[0] - 0.5), 1, 1, fill=False, edgecolor="red", linewidth=2))
    ax.set_xticks(range(len(xs)), xs, rotation=0 if len(xs) <= 12 else 90, fontsize="medium" if len(xs) <= 30 else "x-small")
    ax.set_yticks(range(len(ys)), ys, fontsize="medium" if len(ys) <= 30 else "x-small")
    ax.set_xlabel(setting_name(x))
    ax.set_ylabel(setting_name(y))
    others = [setting_name(k) for k in summaries[0].settings if k not in (x, y) and _varies(summaries, k)]
    label = "best mean dev accuracy" if others else "mean dev accuracy"
    fig.colorbar(image, ax=ax, label=label)
    if title is None:
        title = "Mean dev accuracy" if not others else (
            f"Best mean dev accuracy over {', '.join(others)}")
        title += "\n(framed: the chosen configuration" + ("; dot: tied with the best)" if tied else ")")
    ax.set_title(title)
    return fig


def accuracy_against(summaries: Sequence, setting: str = "l2", *, title: str | None = None):
    """Train and dev accuracy (mean with 95% band) against one setting, one panel per other grid point.

    Configurations that differ only in ``setting`` form one curve, one panel per combination of
    the other settings that vary. The grid's values of ``setting`` are the labelled ticks; a
    single value is drawn as points with their 95% intervals.
    """
    if not summaries:
        raise ValueError("summaries must hold at least one configuration; got none")
    import textwrap

    groups: dict[str, list] = {}
    for s in summaries:
        others = {k: v for k, v in s.settings.items() if k != setting}
        label = ", ".join(f"{k}={setting_label(v)}" for k, v in others.items() if _varies(summaries, k))
        groups.setdefault(label, []).append(s)
    columns = min(len(groups), 3)
    rows = (len(groups) + columns - 1) // columns
    width = 4.2 * columns if columns > 1 else 6.4
    fig = _figure((min(width, _MAX_WIDTH), min(1.0 + 3.4 * rows, _MAX_HEIGHT)))
    axes = fig.subplots(rows, columns, sharey=True, squeeze=False).ravel()
    numeric = all(isinstance(s.settings[setting], (int, float)) for s in summaries)
    for ax, (label, members) in zip(axes, groups.items()):
        members = sorted(members, key=lambda s: _sort_key(setting_label(s.settings[setting])))
        xs = [s.settings[setting] for s in members] if numeric else list(range(len(members)))
        for part, color, name in (("train", _TRAIN_COLOR, "train"), ("dev", _DEV_COLOR, "dev")):
            intervals: list[Interval] = [getattr(s, part) for s in members]
            mean = [i.mean for i in intervals]
            if len(xs) == 1:  # no line to draw: the point and its interval
                ax.errorbar(xs, mean, yerr=[[mean[0] - intervals[0].low], [intervals[0].high - mean[0]]], fmt="o",
                            color=color, capsize=6, label=name)
                continue
            ax.plot(xs, mean, "o-", color=color, label=name)
            ax.fill_between(xs, [i.low for i in intervals], [i.high for i in intervals], color=color, alpha=0.18)
        labels = [setting_label(s.settings[setting]) for s in members]
        if numeric and len(xs) > 1 and min(xs) >= 0 and max(xs) > 0:
            positive = [v for v in xs if v > 0]
            ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
        ax.minorticks_off()
        shown = _spaced(ax, xs)  # every grid value is a tick; as many as fit are labelled
        ax.set_xticks([x for x, keep in zip(xs, shown) if not keep], minor=True)
        ax.set_xticks([x for x, keep in zip(xs, shown) if keep], [t for t, keep in zip(labels, shown) if keep],
                      rotation=0 if sum(shown) <= 8 else 90)
        if len(xs) == 1:
            ax.set_xlim(xs[0] - 1, xs[0] + 1)
        ax.set_xlabel(setting_name(setting))
        ax.set_title(textwrap.fill(label, 45) if label else "all configurations", fontsize="medium")
        ax.grid(alpha=0.3)
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    fig.supylabel("accuracy (mean, 95% band over seeds)", fontsize="medium")
    axes[0].legend(loc="best")
    fig.suptitle(title or f"Accuracy against {setting_name(setting)}")
    return fig


def _spaced(ax, xs, slots: int = 12) -> list[bool]:
    """Which of the increasing positions ``xs`` to label so that labels are at least 1/slots of the axis apart."""
    where = ax.xaxis.get_transform().transform(np.asarray(xs, dtype=float))  # positions on the (symlog) scale
    span = (where[-1] - where[0]) or 1.0
    keep, last = [], None
    for k, position in enumerate(where):
        ok = last is None or k == len(where) - 1 and position - last >= span / slots / 2 or position - last >= span / slots
        keep.append(bool(ok))
        last = position if ok else last
    return keep


def _varies(summaries: Sequence, key: str) -> bool:
    return len({setting_label(s.settings[key]) for s in summaries}) > 1


def choice_against_data(conditions: Sequence[Mapping], settings: Sequence[str] = ("l2", "keep_prob"), *,
                        title: str | None = None):
    """How the chosen configuration and its accuracy move with the data: one point per data condition.

    Parameters
    ----------
    conditions : sequence of mappings
        One per data condition: ``n_samples`` and ``noise`` (None where not known), ``label`` (str),
        ``chosen`` (the chosen configuration's settings), ``dev`` (its mean dev accuracy, an ``Interval``
        over its units) and ``test`` (its test accuracy after the refit, an ``Interval`` over seeds).
    settings : sequence of str
        The chosen settings to draw, one panel each (those the grid varies).

    Returns
    -------
    matplotlib.figure.Figure
        Panels stacked on one x axis: the number of points if it varies, else the noise, else the
        conditions in order; one line per value of the other. Top: dev (dashed) and test (solid)
        accuracy of the chosen configuration with 95% bands; below, each chosen setting.
    """
    if not conditions:
        raise ValueError("conditions must hold at least one data condition; got none")
    varies = lambda key: len({c.get(key) for c in conditions}) > 1  # noqa: E731
    x_key = "n_samples" if varies("n_samples") else "noise" if varies("noise") else None
    line_key = ("noise" if x_key == "n_samples" else "n_samples") if x_key else None
    line_key = line_key if line_key and varies(line_key) else None
    settings = list(settings)
    fig = _figure((6.4, 2.6 + 1.9 * len(settings)))
    axes = fig.subplots(1 + len(settings), 1, sharex=True, squeeze=False)[:, 0]
    groups: dict = {}
    for c in conditions:
        groups.setdefault(c.get(line_key) if line_key else None, []).append(c)
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]  # Okabe-Ito: colour-blind safe
    for k, (value, members) in enumerate(groups.items()):
        if x_key:
            members = sorted(members, key=lambda c: c[x_key])
            xs = [c[x_key] for c in members]
        else:
            xs = list(range(len(members)))
        color = colors[k % len(colors)]
        name = f"{line_key}={value:g}" if line_key else None
        for part, style in (("test", "-"), ("dev", "--")):
            mean = [c[part].mean for c in members]
            axes[0].plot(xs, mean, style, marker="o", color=color,
                         label=f"{part}{f', {name}' if name else ''}")
            axes[0].fill_between(xs, [c[part].low for c in members], [c[part].high for c in members], color=color,
                                 alpha=0.12 if part == "test" else 0.06)
        for ax, setting in zip(axes[1:], settings):
            values = [c["chosen"][setting] for c in members]
            values = [float(np.mean(v)) if isinstance(v, (list, tuple)) else (np.nan if v is None else float(v))
                      for v in values]
            ax.plot(xs, values, marker="o", color=color, label=name)
    axes[0].set_ylabel("accuracy of the\nchosen configuration")
    axes[0].legend(loc="best", fontsize="small", ncols=2 if line_key else 1)
    axes[0].grid(alpha=0.3)
    for ax, setting in zip(axes[1:], settings):
        ax.set_ylabel(f"chosen {setting_name(setting)}")
        ax.grid(alpha=0.3)
    if x_key:
        axes[-1].set_xlabel("points in the data set (n_samples)" if x_key == "n_samples" else x_key)
        if x_key == "n_samples":
            axes[-1].set_xscale("log")
            shown = sorted({c[x_key] for c in conditions})
            axes[-1].set_xticks(shown, [str(v) for v in shown])
            axes[-1].minorticks_off()
    else:
        members = next(iter(groups.values()))
        axes[-1].set_xticks(range(len(members)), [textwrap.fill(c["label"], 20) for c in members])
    fig.suptitle(title or "The chosen configuration against the data\n(95% bands: dev over folds and seeds, test over "
                          "seeds)", fontsize="medium")
    return fig
