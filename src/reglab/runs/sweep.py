"""The run folder of ``reglab sweep``: summary table, figures, the best models' boundaries; and its CSV."""

from __future__ import annotations

from pathlib import Path

from ..files import FolderMark, atomic_write_text, check_output_folder, folder_mark, staged_directory
from .tables import STANDARDIZED_NOTE, count, environment, json_text, plain_table, utc_now
from ..plots.summaries import setting_label, setting_name

__all__ = ["summary_rows", "summary_text", "diverged_text", "write_sweep_run", "write_sweep_csv", "describe_settings", "TEST_COLUMN",
           "is_sweep_folder", "free_sweep_folder", "sweep_folder_mark"]

N_BEST = 3


#: The CSV's name of the test accuracy: the dev accuracy chooses, the test accuracy is only reported.
TEST_COLUMN = "test_accuracy_not_used_for_choice"


def describe_settings(settings: dict, axes) -> str:
    """The settings a grid varies, e.g. ``"l2=0.7, keep_prob=0.86"``; axes: name -> grid values."""
    shown = [k for k in settings if k in axes and len(axes[k]) > 1] or ["l2", "keep_prob"]
    return ", ".join(f"{k}={setting_label(settings[k])}" for k in shown)


def summary_rows(result) -> list[dict]:
    """One row per configuration, best dev accuracy first."""
    varied = result.spec.axes
    rows = []
    for rank, s in enumerate(result.ranked(), start=1):
        diverged = f"diverged ({len(s.diverged)} of {count(len(s.seeds), 'seed')})"
        rows.append({
            "rank": rank if s.usable else "-",  # a configuration that diverged is never chosen
            "configuration": describe_settings(s.settings, varied),
            "train (mean ± 95%)": str(s.train) if s.usable else "-",
            "dev (mean ± 95%)": str(s.dev) if s.usable else diverged,
            "test (reported, not used to choose)": str(s.test) if s.usable else "-",
            "seeds": len(s.seeds),
        })
    return rows


def diverged_text(result, *, named=None, valued=None, limit: int = 3) -> list[str]:
    """One line per configuration that diverged (up to ``limit``, then how many more): why, and what to try.

    ``named``, ``valued``: how settings are written (see ``reglab.divergence.Divergence.message``).
    """
    options = {k: v for k, v in (("named", named), ("valued", valued)) if v is not None}
    lines = []
    firsts = {}
    for row in result.diverged_rows():  # the first diverged seed of each configuration
        firsts.setdefault(describe_settings({k: v for k, v in row["config"].items() if k != "seed"},
                                            result.spec.axes), row)
    for shown, row in list(firsts.items())[:limit]:
        lines.append(result.divergence(row, settings=shown).message(**options))
    if len(firsts) > limit:
        lines.append(f"... {count(len(firsts) - limit, 'more configuration')} diverged: see the report")
    return lines


def _table(rows, markdown=False) -> str:
    return plain_table(rows, markdown=markdown)


def summary_text(result, limit: int = 10) -> str:
    rows = summary_rows(result)
    text = _table(rows[:limit])
    if len(rows) > limit:
        text += f"\n... {count(len(rows) - limit, 'more configuration')} in the report and the database"
    return text


def _best_sentence(result) -> str:
    best = result.best
    varied = result.spec.axes
    return (
        f"Best configuration on the dev set: {describe_settings(best.settings, varied)}: dev accuracy {best.dev} "
        f"(95% interval {best.dev.low:.4f} to {best.dev.high:.4f} over {count(len(best.seeds), 'seed')}); "
        f"its test accuracy: {best.test}."
    )


def is_sweep_folder(path) -> bool:
    """Whether ``path`` is a run folder that ``reglab sweep`` wrote (its results.json says so)."""
    import json

    try:
        payload = json.loads((Path(path) / "results.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(payload, dict) and payload.get("kind") == "sweep"


def free_sweep_folder(path) -> Path:
    """``path`` as a Path if a sweep may write its run folder there: a free place, or the run folder of a sweep
    (run again, it is replaced once the new one is complete); its nearest existing folder must be writable."""
    return check_output_folder(path, replaceable=is_sweep_folder(path))


def sweep_folder_mark(path) -> FolderMark | None:
    """The ``files.folder_mark`` of the sweep run folder at ``path`` (None if there is none), taken when a sweep
    starts: it replaces that folder at the end, and keeps one another run has put there meanwhile."""
    return folder_mark(path) if is_sweep_folder(path) else None


def write_sweep_csv(result, path) -> Path:
    """Write the sweep's rows (one per configuration and seed, nothing else in its store) as CSV.

    Columns as ``reglab.store.ResultStore.to_csv``, but the test accuracy is named ``TEST_COLUMN``.
    """
    from ..experiments.store import write_csv

    return write_csv(result.rows, path, column_names={"test_accuracy": TEST_COLUMN})


def write_sweep_run(result, out, *, best_models=None, command: str = "reglab sweep", db_path=None,
                    standardized: bool = False, replaces: FolderMark | None | bool = True,
                    refuse_taken: bool = True) -> Path:
    """Write ``report.md``, ``results.json`` and the figures of a sweep into the new folder ``out``.

    best_models: name -> trained Model (one seed each, named in ``name``) of the best configurations, for their boundaries.
    replaces: the ``files.folder_mark`` of the earlier sweep folder at ``out`` that this one replaces (taken by
    ``sweep_folder_mark`` when the sweep started); True: the sweep folder there now, if any.
    refuse_taken: as in ``files.staged_directory`` (False when ``out`` was checked before training).
    Returns the folder's name: ``out``, or ``<out>-2``, ... if another run took ``out`` meanwhile.
    """
    from .. import plots
    from ..plots import summaries as statplots

    out = Path(out)
    split = result.split
    if replaces is True:
        replaces = folder_mark(out) if is_sweep_folder(out) else None
    folder = staged_directory(out, replace=replaces, refuse_taken=refuse_taken)
    with folder as stage:
        figures = []
        axes = result.spec.axes
        x_axis = "l2" if "l2" in axes else next(iter(axes), "l2")
        y_axis = "keep_prob" if "keep_prob" in axes else next((a for a in axes if a != x_axis), "keep_prob")
        heatmap = statplots.dev_heatmap(result.summaries, x=x_axis, y=y_axis, chosen=result.best.settings)
        plots.save_figure(heatmap, stage / "heatmap.png")
        others = [setting_name(k) for k, v in axes.items() if k not in (x_axis, y_axis) and len(v) > 1]
        figures.append((f"Mean dev accuracy over {setting_name(x_axis)} × {setting_name(y_axis)}"
                        + (f" (each cell: the best over {', '.join(others)})" if others else ""), "heatmap.png"))
        plots.save_figure(statplots.accuracy_against(result.summaries, x_axis), stage / "accuracy.png")
        figures.append((f"Accuracy against {setting_name(x_axis)}", "accuracy.png"))
        if best_models and split.X_fit.shape[1] == 2:
            # Panels show the points the models were fitted on; the title adds the dev accuracy that chose them.
            titles = {name: f"{name}, dev {model.accuracy(split.X_dev, split.y_dev):.1%}" for name, model in best_models.items()}
            plots.save_figure(plots.models_side_by_side(best_models, split.X_fit, split.y_fit, titles=titles), stage / "best.png")
            shown = "The best configuration" if len(best_models) == 1 else f"The best {len(best_models)} configurations"
            figures.append((f"{shown}: one seed's model each (named in its title), its dev accuracy and its accuracy on "
                            "the points it was fitted on", "best.png"))
        payload = {
            "command": command,
            "kind": "sweep",
            "created": utc_now(),
            "dataset": {"name": split.name, "source": split.source, "fingerprint": split.fingerprint,
                        "n_fit": len(split.y_fit), "n_dev": len(split.y_dev), "n_test": len(split.y_test)},
            "grid": {k: [list(v) if isinstance(v, tuple) else v for v in vals] for k, vals in axes.items()},
            "seeds": list(result.spec.seeds),
            "database": None if db_path is None else str(db_path),
            "standardized": standardized,
            "environment": environment(),
            "best": {"settings": result.best.settings, "dev_accuracy": result.best.dev.mean,
                     "dev_interval": [result.best.dev.low, result.best.dev.high], "test_accuracy": result.best.test.mean},
            "configurations": [
                {"settings": s.settings, "seeds": list(s.seeds),
                 "train": vars(s.train), "dev": vars(s.dev), "test (reported only)": vars(s.test),
                 **({"diverged_seeds": list(s.diverged), "diverged_cause": s.cause} if not s.usable else {})}
                for s in result.ranked()
            ],
        }
        atomic_write_text(stage / "results.json", json_text(payload))
        lines = [
            "# reglab sweep", "",
            f"Data: {split.source}; {len(split.y_fit)} points to fit, {len(split.y_dev)} dev, {len(split.y_test)} test.",
            f"Command: `{command}`", "",
            f"{count(len(result.summaries), 'configuration')} × {count(len(result.spec.seeds), 'seed')}; "
            f"{count(result.trained, 'model')} trained in this run, the rest read from the database.", "",
            f"**{_best_sentence(result)}**", "",
            "The dev set (held out from the training data) chooses; test accuracies of every configuration are listed "
            "for information only and were not used to choose.", "",
            *([STANDARDIZED_NOTE, ""] if standardized else []),
            _table(summary_rows(result), markdown=True), "",
        ]
        if result.diverged:
            lines += ["## Diverged", "",
                      f"{count(len(result.diverged), 'configuration')} diverged on some seed: stored as diverged (no "
                      "accuracies), ranked last and never chosen; running the sweep again does not train them again.",
                      "", *(f"- {line}" for line in diverged_text(result, limit=len(result.diverged))), ""]
        for title, file in figures:
            lines += [f"## {title}", "", f"![{title}]({file})", ""]
        atomic_write_text(stage / "report.md", "\n".join(lines))
    return folder.path
