"""Figures of repeated measurements: spread over seeds, sweep heatmaps, accuracy against a setting.

Like ``reglab.plots``, every function returns a matplotlib ``Figure`` built without pyplot, and
imports matplotlib only when called.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .stats import Interval, mean_interval

__all__ = ["seed_spread", "dev_heatmap", "accuracy_against", "setting_label", "setting_name"]

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
        interval = mean_interval(data)
        jitter = rng.uniform(-0.12, 0.12, size=data.size)
        ax.scatter(k + jitter, data, s=22, color="0.45", alpha=0.7, zorder=2,
                   label="one seed (fresh masks)" if k == 0 else None)
        ax.errorbar(k + 0.28, interval.mean, yerr=[[interval.mean - interval.low], [interval.high - interval.mean]],
                    fmt="o", color="black", capsize=5, zorder=3, label="mean and 95% interval" if k == 0 else None)
        if reference and name in reference:
            ax.scatter(k - 0.3, reference[name], marker="*", s=170, color=_COURSE_COLOR, zorder=4,
                       label=reference_label if k == 0 else None)
    ax.set_xticks(range(len(values)), list(values), rotation=0)
    ax.set_xlim(-0.6, len(values) - 0.4)
    ax.set_ylabel(metric)
    n = len(next(iter(values.values())))
    ax.set_title(title or f"{metric} over {n} seeds")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
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


def dev_heatmap(summaries: Sequence, x: str = "l2", y: str = "keep_prob", *, title: str | None = None):
    """Mean dev accuracy over two settings (other settings: the best value over them).

    summaries: ``reglab.sweep.ConfigSummary`` objects (``settings`` dict, ``dev`` Interval).
    """
    if not summaries:
        raise ValueError("summaries must hold at least one configuration; got none")
    xs, ys = _grid_values(summaries, x, y)
    grid = np.full((len(ys), len(xs)), np.nan)
    for s in summaries:
        i, j = ys.index(setting_label(s.settings[y])), xs.index(setting_label(s.settings[x]))
        grid[i, j] = np.fmax(grid[i, j], s.dev.mean)
    fig = _figure((max(5.0, 1.1 * len(xs) + 2.5), max(3.6, 0.7 * len(ys) + 2.0)))
    ax = fig.add_subplot()
    image = ax.imshow(grid, cmap="viridis", origin="lower", aspect="auto")
    best = np.unravel_index(np.nanargmax(grid), grid.shape)
    for (i, j), value in np.ndenumerate(grid):
        if np.isfinite(value):
            bright = image.norm(value) > 0.6
            ax.text(j, i, f"{value:.3f}", ha="center", va="center", fontsize="small",
                    color="black" if bright else "white", fontweight="bold" if (i, j) == best else "normal")
    ax.set_xticks(range(len(xs)), xs)
    ax.set_yticks(range(len(ys)), ys)
    ax.set_xlabel(setting_name(x))
    ax.set_ylabel(setting_name(y))
    fig.colorbar(image, ax=ax, label="mean dev accuracy")
    ax.set_title(title or "Mean dev accuracy (bold: best)")
    return fig


def accuracy_against(summaries: Sequence, setting: str = "l2", *, title: str | None = None):
    """Train and dev accuracy (mean with 95% band) against one setting, one panel per other grid point.

    Configurations that differ only in ``setting`` form one curve; one panel per value of keep_prob
    when it varies (else one panel).
    """
    if not summaries:
        raise ValueError("summaries must hold at least one configuration; got none")
    groups: dict[str, list] = {}
    for s in summaries:
        others = {k: v for k, v in s.settings.items() if k != setting}
        label = ", ".join(f"{k}={setting_label(v)}" for k, v in others.items() if _varies(summaries, k))
        groups.setdefault(label, []).append(s)
    fig = _figure((min(4.2 * len(groups), 12.6) if len(groups) > 1 else 6.4, 4.4))
    axes = fig.subplots(1, len(groups), sharey=True, squeeze=False)[0] if len(groups) <= 3 else \
        fig.subplots((len(groups) + 2) // 3, 3, sharey=True, squeeze=False).ravel()
    numeric = all(isinstance(s.settings[setting], (int, float)) for s in summaries)
    for ax, (label, members) in zip(axes, groups.items()):
        members = sorted(members, key=lambda s: _sort_key(setting_label(s.settings[setting])))
        xs = [s.settings[setting] for s in members] if numeric else list(range(len(members)))
        for part, color, name in (("train", _TRAIN_COLOR, "train"), ("dev", _DEV_COLOR, "dev")):
            intervals: list[Interval] = [getattr(s, part) for s in members]
            mean = [i.mean for i in intervals]
            ax.plot(xs, mean, "o-", color=color, label=name)
            ax.fill_between(xs, [i.low for i in intervals], [i.high for i in intervals], color=color, alpha=0.18)
        if numeric and min(xs) >= 0 and max(xs) > 0:
            positive = [v for v in xs if v > 0]
            ax.set_xscale("symlog", linthresh=min(positive) if positive else 1.0)
        if not numeric:
            ax.set_xticks(xs, [setting_label(s.settings[setting]) for s in members])
        ax.set_xlabel(setting_name(setting))
        ax.set_title(label or "all configurations", fontsize="medium")
        ax.grid(alpha=0.3)
    for ax in axes[len(groups):]:
        ax.set_visible(False)
    axes[0].set_ylabel("accuracy (mean, 95% band over seeds)")
    axes[0].legend(loc="best")
    fig.suptitle(title or f"Accuracy against {setting_name(setting)}")
    return fig


def _varies(summaries: Sequence, key: str) -> bool:
    return len({setting_label(s.settings[key]) for s in summaries}) > 1
