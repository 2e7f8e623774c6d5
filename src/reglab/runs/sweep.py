"""The run folder of ``reglab sweep``: summary table, figures, the best models' boundaries; and its CSV."""

from __future__ import annotations

from pathlib import Path

from ..files import FolderMark, atomic_write_text, check_output_folder, folder_mark, staged_directory
from ..experiments.selection import ONE_SE_RULE
from .tables import STANDARDIZED_NOTE, count, environment, json_text, plain_table, utc_now
from ..plots.summaries import setting_label, setting_name

__all__ = ["summary_rows", "summary_text", "diverged_text", "headline", "refit_lines", "describe_units",
           "write_sweep_run", "write_sweep_csv", "csv_rows", "describe_settings", "TEST_COLUMN", "is_sweep_folder",
           "free_sweep_folder", "sweep_folder_mark"]

#: The CSV's name of the test accuracy: the dev accuracy chooses, the test accuracy is only reported.
TEST_COLUMN = "test_accuracy_not_used_for_choice"


def describe_settings(settings: dict, axes) -> str:
    """The settings a grid varies, e.g. ``"l2=0.7, keep_prob=0.86"``; axes: name -> grid values."""
    shown = [k for k in settings if k in axes and len(axes[k]) > 1] or ["l2", "keep_prob"]
    return ", ".join(f"{k}={setting_label(settings[k])}" for k in shown)


def summary_rows(result) -> list[dict]:
    """One row per configuration, best mean dev accuracy first; whether the dev set can tell it from the best,
    and how often it would be chosen on other units."""
    varied = result.spec.axes
    rows = []
    for rank, s in enumerate(result.ranked(), start=1):
        diverged = f"diverged ({len(s.diverged)} of {count(len(s.seeds), 'seed')})"
        marks = [m for m, on in (("chosen", s is _chosen_or_none(result)), ("best", s is _best_or_none(result))) if on]
        rows.append({
            "rank": rank if s.usable else "-",  # a configuration that diverged is never chosen
            "configuration": describe_settings(s.settings, varied) + (f" ({', '.join(marks)})" if marks else ""),
            "dev (mean ± 95%)": str(s.dev) if s.usable else diverged,
            "tied with the best": ("yes" if result.is_tied(s) else "no") if s.usable else "-",
            "chosen in": f"{result.chosen_in(s):.0%}" if s.usable else "-",
            "train (mean ± 95%)": str(s.train) if s.usable else "-",
            "test (not used to choose)": str(s.test) if s.usable else "-",
            "units": s.dev.n if s.usable else len(s.seeds),
        })
    return rows


def _chosen_or_none(result):
    return result.chosen if result.choice is not None else None


def _best_or_none(result):
    return result.best if result.choice is not None else None


def describe_units(result) -> str:
    """How the dev accuracies were measured, e.g. ``"5 folds × 3 seeds"`` or ``"a dev set of 52 points × 5 seeds"``."""
    seeds = count(len(result.spec.seeds), "seed")
    repeats = f" (drawn {result.spec.repeats} times)" if result.spec.repeats > 1 else ""
    if result.folds > 1:
        return f"{result.folds} folds{repeats} × {seeds}"
    return f"a dev set of {len(result.split.y_dev)} points{repeats} × {seeds}"


def headline(result) -> str:
    """The report's first line: what the dev set can and cannot tell, and what is chosen by which rule."""
    varied = result.spec.axes
    chosen, best = result.chosen, result.best
    n = len([s for s in result.summaries if s.usable])
    rule = "by the one-standard-error rule (the most regularized within one standard error of the best)"
    if n == 1:
        return f"One configuration to choose from (the others diverged): {describe_settings(chosen.settings, varied)}, " \
               f"dev {chosen.dev}."
    if result.nothing_distinguishable:
        return (f"No configuration is distinguishable from the best on the dev set ({count(n, 'configuration')}, "
                f"paired over {describe_units(result)}): chosen {rule}: {describe_settings(chosen.settings, varied)}, "
                f"dev {chosen.dev}.")
    tied = len(result.choice.tied)
    same = chosen is best
    return (f"Chosen {rule}: {describe_settings(chosen.settings, varied)}, dev {chosen.dev}"
            + ("" if same else f"; the best mean is {describe_settings(best.settings, varied)}, dev {best.dev}")
            + f". {count(tied, 'configuration')} of {n} {'is' if tied == 1 else 'are'} not distinguishable from the "
            f"best (paired over {describe_units(result)}).")


def refit_lines(result) -> list[str]:
    """What the test set says, once: the chosen configuration trained on all the training points, and the paired
    differences from the least regularized one."""
    varied = result.spec.axes
    chosen, baseline = result.chosen, result.baseline
    lines = [f"Trained on all {len(result.refit.y_fit)} training points with {count(len(result.spec.seeds), 'seed')}, "
             f"the chosen configuration reaches a test accuracy of {result.test(chosen)}."]
    if baseline is not chosen:
        differences = result.differences()
        name = f"chosen ({describe_settings(chosen.settings, varied)})"
        other = f"least regularized ({describe_settings(baseline.settings, varied)})"
        lines.append(differences["dev"].describe(name, other, where="on the dev set"))
        lines.append(differences["test"].describe(name, other, where="on this test set"))
    return lines


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


def summary_text(result, limit: int = 10) -> str:
    rows = summary_rows(result)
    text = plain_table(rows[:limit])
    if len(rows) > limit:
        text += f"\n... {count(len(rows) - limit, 'more configuration')} in the report and the database"
    return text


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


def csv_rows(results, labels=None) -> list[dict]:
    """The rows of the sweeps (every configuration, seed and split, then the refits on all the training points),
    each with its split and phase (and data condition) among its metrics, for the CSV."""
    table = []
    for k, result in enumerate(results):
        extra = {"condition": labels[k]} if labels and len(results) > 1 else {}
        for row in result.rows:
            split_seed, fold = result.unit(row)
            table.append(dict(row, metrics={**extra, "phase": "choice", "split_seed": split_seed,
                                            "fold": None if fold < 0 else fold, **row["metrics"]}))
        for rows in result.refit_rows.values():
            for row in rows:
                table.append(dict(row, metrics={**extra, "phase": "refit on all training points", "split_seed": None,
                                                "fold": None, **row["metrics"]}))
    return table


def write_sweep_csv(results, path, labels=None) -> Path:
    """Write the sweeps' rows (``csv_rows``; nothing else in their store) as CSV.

    Columns as ``reglab.store.ResultStore.to_csv``, with ``phase``, ``split_seed`` and ``fold`` (and
    ``condition``) first among the metrics; the test accuracy is named ``TEST_COLUMN`` (the dev accuracy
    chooses; the refit's test accuracy is what the report gives).
    """
    from ..experiments.store import write_csv

    results = results if isinstance(results, (list, tuple)) else [results]
    return write_csv(csv_rows(results, labels), path, column_names={"test_accuracy": TEST_COLUMN})


def write_sweep_run(results, out, *, labels=None, models=None, command: str = "reglab sweep", db_path=None,
                    standardized: bool = False, replaces: FolderMark | None | bool = True,
                    refuse_taken: bool = True) -> Path:
    """Write ``report.md``, ``results.json`` and the figures of a sweep (of one or several data conditions).

    Parameters
    ----------
    results : SweepResult or list of SweepResult
        One per data condition.
    labels : list of str, optional
        The conditions' names (e.g. ``"n_samples=200, noise=0.1"``); with one condition, unused.
    models : list of dict, optional
        Per condition: name -> trained Model (the chosen and the baseline configuration on all the training
        points), for their decision boundaries.
    replaces : the ``files.folder_mark`` of the earlier sweep folder at ``out`` that this one replaces (taken by
        ``sweep_folder_mark`` when the sweep started); True: the sweep folder there now, if any.
    refuse_taken : as in ``files.staged_directory`` (False when ``out`` was checked before training).

    Returns
    -------
    pathlib.Path
        The folder's name: ``out``, or ``<out>-2``, ... if another run took ``out`` meanwhile.
    """
    from .. import plots

    results = list(results) if isinstance(results, (list, tuple)) else [results]
    labels = list(labels) if labels else [r.split.name for r in results]
    models = list(models) if models else [None] * len(results)
    out = Path(out)
    if replaces is True:
        replaces = sweep_folder_mark(out)
    folder = staged_directory(out, replace=replaces, refuse_taken=refuse_taken)
    several = len(results) > 1
    with folder as stage:
        sections, payloads = [], []
        for k, (result, label, chosen_models) in enumerate(zip(results, labels, models)):
            prefix = f"{k + 1}-" if several else ""
            figures = _condition_figures(result, chosen_models, stage, prefix, plots)
            sections.append(_condition_section(result, label if several else None, figures))
            payloads.append(_condition_payload(result, label))
        if several:
            data = [{"label": label, "n_samples": _n_points(r), "noise": _noise(r), "chosen": r.chosen.settings,
                     "dev": r.chosen.dev, "test": r.test(r.chosen)} for r, label in zip(results, labels)
                    if r.choice is not None]
            shown = [a for a in ("l2", "keep_prob", "l1", "weight_decay", "max_norm")
                     if len(results[0].spec.axes.get(a, ())) > 1][:2] or ["l2"]
            plots.save_figure(plots.choice_against_data(data, shown), stage / "conditions.png")
        spec = results[0].spec
        payload = {
            "command": command,
            "kind": "sweep",
            "created": utc_now(),
            "grid": {k: [list(v) if isinstance(v, tuple) else v for v in vals] for k, vals in spec.axes.items()},
            "seeds": list(spec.seeds),
            "folds": results[0].folds,
            "repeats": spec.repeats,
            "rule": "one-standard-error rule: " + ONE_SE_RULE,
            "database": None if db_path is None else str(db_path),
            "standardized": standardized,
            "environment": environment(),
            **(payloads[0] if not several else {"conditions": payloads}),
        }
        atomic_write_text(stage / "results.json", json_text(payload))
        first = results[0]
        lines = [
            "# reglab sweep", "",
            f"**{headline(first) if not several else _conditions_headline(results, labels)}**", "",
            f"Command: `{command}`", "",
            f"{count(len(first.summaries), 'configuration')} × {count(len(spec.seeds), 'seed')}, measured on "
            f"{describe_units(first).split(' × ')[0]}; {count(first.trained, 'model')} trained in this run, the rest "
            "read from the database.", "",
            "How the choice is made: the dev accuracies of every configuration are compared in pairs over the same "
            "folds and seeds; a configuration whose paired interval from the best includes zero is tied with it (the "
            "intervals are 95% together over all the comparisons with the best: Bonferroni). "
            f"The chosen one is {ONE_SE_RULE}. Only then is the test set used: the chosen configuration (and the least "
            "regularized one, to compare with) is trained on all the training points, seed by seed, and measured on "
            "it once.", "",
            *([STANDARDIZED_NOTE, ""] if standardized else []),
        ]
        if several:
            lines += ["## The chosen configuration against the data", "", "![conditions](conditions.png)", ""]
        for section in sections:
            lines += section
        atomic_write_text(stage / "report.md", "\n".join(lines))
    return folder.path


def _n_points(result) -> int:
    return len(result.refit.y_fit) + len(result.refit.y_test)


def _noise(result):
    import re

    found = re.search(r"noise ([0-9.eE+-]+)", result.split.source)
    return float(found.group(1)) if found else None


def _conditions_headline(results, labels) -> str:
    varied = results[0].spec.axes
    parts = []
    for result, label in zip(results, labels):
        if result.choice is None:
            parts.append(f"{label}: every configuration diverged")
            continue
        tie = " (nothing distinguishable)" if result.nothing_distinguishable else ""
        parts.append(f"{label}: {describe_settings(result.chosen.settings, varied)}{tie}")
    return "Chosen per data condition: " + "; ".join(parts) + "."


def _condition_figures(result, chosen_models, stage, prefix, plots) -> list[tuple[str, str]]:
    """Draw one condition's figures into ``stage``; return (title, file) of each."""
    from ..plots import summaries as statplots

    figures = []
    if result.choice is None:
        return figures
    axes = result.spec.axes
    x_axis = "l2" if "l2" in axes else next(iter(axes), "l2")
    y_axis = "keep_prob" if "keep_prob" in axes else next((a for a in axes if a != x_axis), "keep_prob")
    tied = [result.summaries[k].settings for k in result.choice.tied]
    heatmap = statplots.dev_heatmap(result.summaries, x=x_axis, y=y_axis, chosen=result.chosen.settings, tied=tied)
    plots.save_figure(heatmap, stage / f"{prefix}heatmap.png")
    others = [setting_name(k) for k, v in axes.items() if k not in (x_axis, y_axis) and len(v) > 1]
    figures.append((f"Mean dev accuracy over {setting_name(x_axis)} × {setting_name(y_axis)}"
                    + (f" (each cell: the best over {', '.join(others)})" if others else "")
                    + "; the colour scale spans at least 10 points", f"{prefix}heatmap.png"))
    plots.save_figure(statplots.accuracy_against(result.summaries, x_axis), stage / f"{prefix}accuracy.png")
    figures.append((f"Accuracy against {setting_name(x_axis)}", f"{prefix}accuracy.png"))
    refit = result.refit
    if chosen_models and refit.X_fit.shape[1] == 2:
        titles = {name: f"{name}, test {model.accuracy(refit.X_test, refit.y_test):.1%}"
                  for name, model in chosen_models.items()}
        plots.save_figure(plots.models_side_by_side(chosen_models, refit.X_fit, refit.y_fit, titles=titles),
                          stage / f"{prefix}chosen.png")
        figures.append(("The chosen and the least regularized configuration, trained on all the training points "
                        "(one seed each, named in the title)", f"{prefix}chosen.png"))
    return figures


def _condition_section(result, label, figures) -> list[str]:
    """The report's part of one data condition (its heading only when there are several)."""
    split = result.split
    lines = [f"## {label}", ""] if label else []
    if label:
        lines += [f"**{headline(result)}**" if result.choice is not None else "Every configuration diverged.", ""]
    lines += [f"Data: {split.source.split('; dev set')[0].split('; fold')[0]}; {len(result.refit.y_fit)} training "
              f"points ({describe_units(result)}), {len(split.y_test)} test.", ""]
    if result.choice is not None:
        lines += [f"- {line}" for line in refit_lines(result)] + [""]
        lines += [f"How often each configuration would be chosen on other units: over {result.stability_over} "
                  "(the 'chosen in' column).", ""]
    lines += [plain_table(summary_rows(result), markdown=True), ""]
    if result.diverged:
        lines += ["### Diverged" if label else "## Diverged", "",
                  f"{count(len(result.diverged), 'configuration')} diverged on some seed: stored as diverged (no "
                  "accuracies), ranked last and never chosen; running the sweep again does not train them again.",
                  "", *(f"- {line}" for line in diverged_text(result, limit=len(result.diverged))), ""]
    for title, file in figures:
        lines += [f"### {title}" if label else f"## {title}", "", f"![{title}]({file})", ""]
    return lines


def _condition_payload(result, label) -> dict:
    """results.json's part of one data condition."""
    split = result.split
    payload = {
        "label": label,
        "dataset": {"name": split.name, "source": split.source.split("; dev set")[0].split("; fold")[0],
                    "fingerprints": [s.fingerprint for s in result.splits], "refit": result.refit.fingerprint,
                    "n_train": len(result.refit.y_fit), "n_test": len(split.y_test)},
        "configurations": [
            {"settings": s.settings, "seeds": list(s.seeds), "train": vars(s.train), "dev": vars(s.dev),
             "test (not used to choose)": vars(s.test), "tied_with_best": result.is_tied(s),
             "chosen_in": result.chosen_in(s),
             **({"diverged_seeds": list(s.diverged), "diverged_cause": s.cause} if not s.usable else {})}
            for s in result.ranked()
        ],
        "stability_over": result.stability_over,
    }
    if result.choice is not None:
        differences = result.differences()
        payload.update({
            "nothing_distinguishable": result.nothing_distinguishable,
            "best": {"settings": result.best.settings, "dev": vars(result.best.dev)},
            "chosen": {"settings": result.chosen.settings, "dev": vars(result.chosen.dev),
                       "test_after_refit": vars(result.test(result.chosen)),
                       "test_accuracies_by_seed": result.test_accuracies(result.chosen)},
            "baseline": {"settings": result.baseline.settings, "test_after_refit": vars(result.test(result.baseline))},
            "chosen_minus_baseline": {part: {**vars(d.interval), "distinguishable": d.distinguishable}
                                      for part, d in differences.items()},
        })
    return payload
