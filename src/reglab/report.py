"""Run folders: figures, ``results.json``, ``report.md`` and model files of a training command.

A run folder is built under a temporary name and renamed when complete (``files.staged_directory``),
so an interrupted run never leaves a folder that looks finished.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import re
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import __version__
from .files import atomic_write_text, staged_directory

__all__ = [
    "default_run_dir",
    "environment",
    "slug",
    "text_table",
    "markdown_table",
    "CompareRun",
    "write_compare_run",
    "write_train_run",
    "seed_text_table",
    "threads_note",
    "COURSE_MASKS_NOTE",
]

STANDARDIZED_NOTE = (
    "Inputs standardised: each feature was centred and scaled by the mean and standard deviation of the "
    "points the models were fitted on (kept in the model files and applied when predicting)."
)

COURSE_MASKS_NOTE = (
    "dropout used the course's masks: the notebook re-seeds NumPy with 1 at every forward pass, so every "
    "iteration drops the same units and a result is one draw of those masks, not a property of dropout "
    "(on the course's data its 95% test accuracy becomes about 92-94% with fresh masks, depending on the "
    "seed: try --masks fresh or --seeds N)."
)

_COLUMNS = (
    ("model", "model"),
    ("train_accuracy", "train accuracy"),
    ("test_accuracy", "test accuracy"),
    ("final_cost", "final cost"),
    ("seconds", "time (s)"),
)


def _accuracy_cell(accuracy: float, n: int | None) -> str:
    # Full precision, as the notebook prints it, and the count it stands for.
    text = repr(float(accuracy))
    return text if not n else f"{text} ({round(accuracy * n)}/{n})"


def default_run_dir(command: str, root: str | Path = "runs") -> Path:
    """``runs/<UTC time>-<command>``, made unique with a counter if it already exists."""
    stamp = _dt.datetime.now(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = Path(root) / f"{stamp}-{command}"
    counter = 2
    while path.exists():
        path = Path(root) / f"{stamp}-{command}-{counter}"
        counter += 1
    return path


def describe_data(dataset) -> str:
    """``"Data: <source> (n train / n test points)"``, without repeating counts the source already gives."""
    if " train" in dataset.source:
        return f"Data: {dataset.source}"
    counts = f"{len(dataset.y_train)} train / {len(dataset.y_test)} test points"
    if dataset.source.endswith(")"):  # one parenthesis, not two side by side
        return f"Data: {dataset.source[:-1]}; {counts})"
    return f"Data: {dataset.source} ({counts})"


def environment() -> dict:
    """Versions that matter for reproducing a run."""
    return {
        "reglab": __version__,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "scipy": _version("scipy"),
        "matplotlib": _version("matplotlib"),
        "platform": platform.platform(),
    }


def _version(package: str) -> str:
    """A package's version, without importing it when it is not loaded (matplotlib may live in a worker)."""
    module = sys.modules.get(package)
    if module is not None:
        return module.__version__
    from importlib.metadata import version

    return version(package)


def slug(name: str) -> str:
    """A file-name-safe form of a model name: ``"L2 (lambd=0.7)"`` -> ``"l2-lambd-0.7"``."""
    text = re.sub(r"[^a-z0-9.]+", "-", name.lower()).strip("-.")
    return text or "model"


def _cells(row: dict) -> list[str]:
    return [
        str(row["model"]),
        _accuracy_cell(row["train_accuracy"], row.get("n_train")),
        _accuracy_cell(row["test_accuracy"], row.get("n_test")),
        f"{row['final_cost']:.4f}",
        f"{row['seconds']:.2f}",
    ]


def threads_note(threads: int) -> str:
    """What the time column means when a comparison trained its models at the same time."""
    return f"The models trained at the same time on {threads} threads; each time is that model's own wall time."


def text_table(rows: Sequence[dict]) -> str:
    """Aligned plain-text table of compare rows, for the terminal."""
    header = [title for _, title in _COLUMNS]
    body = [_cells(row) for row in rows]
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = []
    for k, line in enumerate([header, *body]):
        lines.append("  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(line, widths))))
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(rows: Sequence[dict]) -> str:
    """Markdown table of compare rows."""
    header = [title for _, title in _COLUMNS]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(_cells(row)) + " |" for row in rows]
    return "\n".join(lines)


def _model_record(name: str, model, metrics: dict, files: dict) -> dict:
    return {
        "name": name,
        "config": model.config.to_dict(),
        "seeds": {"init": model.config.seed if model.config.init == "fresh" else f"course ({model.config.seed})",
                  "masks": "course (1)" if model.config.mask_mode == "course" else model.config.seed},
        "metrics": metrics,
        "history": {"iterations": model.history.iterations.tolist(), "cost": np.asarray(model.history.cost).tolist()},
        "files": files,
    }


def _json_text(payload: dict) -> str:
    """Standard JSON (a NaN or infinity, e.g. the time of a model trained in a batch, becomes null)."""
    return json.dumps(_plain(payload), indent=2, allow_nan=False) + "\n"


def _plain(value):
    """``value`` with arrays as lists, non-finite floats as None and other objects as text, for JSON."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return _plain(value.tolist())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (str, int, bool)):
        return value
    return str(value)


def count(n: int, noun: str) -> str:
    """``count(1, "seed")`` -> ``"1 seed"``, ``count(3, "seed")`` -> ``"3 seeds"``."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def seed_table(study) -> list[dict]:
    """Rows of a seed study for the terminal and the report: intervals and the single run."""
    rows = []
    for row in study.summary():
        rows.append({
            "model": row["model"],
            f"train (mean ± 95%, {count(row['n_seeds'], 'seed')})": str(row["train"]),
            f"test (mean ± 95%, {count(row['n_seeds'], 'seed')})": str(row["test"]),
            "test, as configured": repr(float(row["single_test"])),
        })
    return rows


def _plain_table(rows: Sequence[dict], markdown: bool = False) -> str:
    header = list(rows[0])
    body = [[str(row[k]) for k in header] for row in rows]
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
                         + ["| " + " | ".join(line) + " |" for line in body])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def seed_text_table(study) -> str:
    return _plain_table(seed_table(study))


def _single_run_label(configs) -> str:
    """What the single configured run beside the seeds is: the notebook's, or one with its draws, or neither."""
    from .config import COURSE_CONFIGS

    if sorted(configs, key=repr) == sorted(COURSE_CONFIGS.values(), key=repr):
        return "the notebook's settings, one run (course init and masks)"
    if all(c.init == "course" and c.mask_mode == "course" for c in configs):
        return "single run as configured (course init and masks)"
    return "single run as configured"


class CompareRun:
    """The run folder of a ``compare``, written while the models train.

    ``add`` writes one model's own files (its decision-boundary figure and ``model-<name>.npz``)
    as soon as that model is trained: pass it as ``compare``'s ``on_result``, and the figure of a
    model that finished early is drawn while the others train. ``finish`` writes the rest
    (``boundaries.png``, ``costs.png``, the files of models not added yet, ``results.json``,
    ``report.md``) and waits for the figures. The folder is built under a temporary name and gets
    its name when the ``with`` block ends after ``finish``; an error or Ctrl-C inside the block
    removes it, and figures still queued are cancelled.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder; it must not exist, or be empty (checked when the ``with`` block starts).
    dataset : reglab.datasets.Dataset
        The data the models are trained and tested on.
    command : str
        The command line recorded in ``results.json`` and ``report.md``.
    figures : reglab.figure_jobs.FigureWorker, optional
        Draws the figures in worker processes (started earlier, so that matplotlib is loaded).
        Default: drawn in this process, each when it is queued. The PNG files are the same bytes
        either way.

    Examples
    --------
    >>> with CompareRun("runs/study", dataset) as run:  # doctest: +SKIP
    ...     result = reglab.compare(dataset, on_result=run.add)
    ...     run.finish(result)
    """

    def __init__(self, out, dataset, *, command: str = "reglab compare", figures=None):
        from . import figure_jobs

        self.out = Path(out)
        self.dataset = dataset
        self.command = command
        self._figures = figure_jobs.InProcess() if figures is None else figures
        self._folder = staged_directory(self.out)  # entered by __enter__
        self._stage: Path | None = None
        self._added: set[str] = set()  # names of the models whose files are written
        self._lock = threading.Lock()  # add() may be called from several training threads
        self._finished = False

    def __enter__(self) -> CompareRun:
        try:
            self._stage = self._folder.__enter__()
        except BaseException:  # e.g. Ctrl-C right after the folder was staged: remove it
            self._folder.__exit__(*sys.exc_info())
            raise
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        unfinished = exc_type is None and not self._finished
        if unfinished:
            exc_type, exc = RuntimeError, RuntimeError("CompareRun.finish was not called: the incomplete run folder is removed")
        with self._lock:  # an add() being written ends first, and none starts after
            self._stage = None
        if exc_type is not None:
            self._figures.cancel()  # nothing may write into the folder once it is removed
        self._folder.__exit__(exc_type, exc, tb)  # renames the folder, or removes it after an error
        if unfinished:
            raise exc

    def _staged(self) -> Path:
        if self._stage is None or self._finished:
            raise RuntimeError("CompareRun writes only inside its with block, before finish")
        return self._stage

    def add(self, result) -> None:
        """Queue one trained model's decision-boundary figure and write its model file.

        Parameters
        ----------
        result : reglab.experiments.ModelResult
            A model trained on the run's data set. A name already added is left as written.
        """
        from . import plots  # its functions are sent to the workers; matplotlib loads only where they run

        with self._lock:
            stage = self._staged()
            if result.name in self._added:
                return
            name = slug(result.name)
            self._figures.draw(
                stage / f"boundary-{name}.png",
                plots.decision_boundary,
                result.model.predict_proba,
                self.dataset.X_train,
                self.dataset.y_train,
                title=f"{result.name}: train {result.train_accuracy:.3f}, test {result.test_accuracy:.3f}",
                X_test=self.dataset.X_test,
                y_test=self.dataset.y_test,
            )
            result.model.save(stage / f"model-{name}.npz")
            self._added.add(result.name)

    def finish(self, result, *, seed_study=None) -> Path:
        """Write the rest of the run folder and wait until every figure is written.

        Parameters
        ----------
        result : reglab.experiments.CompareResult
            The comparison, trained on the run's data set.
        seed_study : reglab.experiments.SeedStudy, optional
            Adds ``seeds.png`` (per-seed test accuracies beside the single configured run) and the
            per-seed metrics.

        Returns
        -------
        pathlib.Path
            The folder's final name (it gets it when the ``with`` block ends).
        """
        from . import plots, statplots

        stage = self._staged()
        if result.dataset is not self.dataset:
            raise ValueError("result must be trained on the data set the CompareRun was made with")
        dataset = result.dataset
        points = dict(X_test=dataset.X_test, y_test=dataset.y_test)
        # Queued longest first, so that two workers finish together: each figure computes its own
        # decision-boundary grids (the panels of boundaries.png show the training points' view, the
        # models' own figures that of train and test points), in the worker that draws it.
        models = {r.name: r.model for r in result.results}
        self._figures.draw(stage / "boundaries.png", plots.models_side_by_side, models, dataset.X_train,
                           dataset.y_train, **points)
        self._figures.draw(stage / "costs.png", plots.cost_curves, {r.name: r.model.history for r in result.results})
        if seed_study is not None:
            reference_label = _single_run_label([r.config for r in result.results])
            self._figures.draw(
                stage / "seeds.png",
                statplots.seed_spread,
                {name: [r.test_accuracy for r in runs] for name, runs in seed_study.runs.items()},
                reference={r.name: r.test_accuracy for r in result.results},
                reference_label=reference_label,
            )
        for r in result.results:
            self.add(r)
        _write_compare_summary(result, stage, self.command, seed_study)
        self._figures.wait()  # every figure written before the folder gets its name
        self._finished = True
        return self.out


def write_compare_run(result, out, *, command: str = "reglab compare", seed_study=None, figures=None) -> Path:
    """Write the run folder of a finished ``compare`` at once (see ``CompareRun``, which does it while training).

    Parameters
    ----------
    result : reglab.experiments.CompareResult
    out : str or os.PathLike
        The run folder; it must not exist, or be empty. It is built under a temporary name and
        renamed only when every file is written.
    command, figures
        As in ``CompareRun``.
    seed_study : reglab.experiments.SeedStudy, optional
        As in ``CompareRun.finish``.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    with CompareRun(out, result.dataset, command=command, figures=figures) as run:
        run.finish(result, seed_study=seed_study)
    return Path(out)


def _write_compare_summary(result, stage: Path, command: str, seed_study) -> None:
    """Write ``results.json`` and ``report.md`` of a compare run into ``stage``."""
    dataset = result.dataset
    records, figure_files = [], []
    for r in result.results:
        name = slug(r.name)
        boundary = f"boundary-{name}.png"
        figure_files.append((r.name, boundary))
        records.append(_model_record(r.name, r.model, r.row(), {"boundary": boundary, "model": f"model-{name}.npz"}))
    payload = {
        "command": command,
        "kind": "compare",
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "engine": result.engine,
        "threads": result.threads,
        "dataset": dataset.to_dict(),
        "environment": environment(),
        "models": records,
    }
    if seed_study is not None:
        payload["seeds"] = {
            "seeds": list(seed_study.seeds),
            "settings": "fresh initialisation and fresh dropout masks from each seed",
            "models": {name: [r.row() | {"seed": seed} for r, seed in zip(runs, seed_study.seeds)]
                       for name, runs in seed_study.runs.items()},
        }
    atomic_write_text(stage / "results.json", _json_text(payload))
    uses_course_masks = any(r.config.uses_dropout and r.config.mask_mode == "course" for r in result.results)
    lines = [
        "# reglab compare",
        "",
        f"{describe_data(dataset)}.",
        f"Command: `{command}`",
        "",
        markdown_table(result.rows()),
        "",
    ]
    if result.threads > 1:
        lines += [threads_note(result.threads), ""]
    if uses_course_masks:
        lines += [f"Note: {COURSE_MASKS_NOTE}", ""]
    if any(r.model.standardized for r in result.results):
        lines += [STANDARDIZED_NOTE, ""]
    if seed_study is not None:
        lines += [f"## Spread over {count(len(seed_study.seeds), 'seed')}", "",
                  "Each model retrained with fresh initialisation and fresh dropout masks from each seed.", "",
                  _plain_table(seed_table(seed_study), markdown=True), "", "![test accuracy per seed](seeds.png)", ""]
    lines += ["## Decision boundaries", "", "![decision boundaries](boundaries.png)", ""]
    lines += [f"- {name}: [{file}]({file})" for name, file in figure_files]
    lines += ["", "## Cost during training", "", "![cost curves](costs.png)", ""]
    lines += ["Settings and cost histories are in `results.json`; trained models in `model-*.npz`.", ""]
    atomic_write_text(stage / "report.md", "\n".join(lines))


def write_train_run(model, dataset, out, *, command: str = "reglab train", seconds: float | None = None) -> Path:
    """Write the run folder of one trained model: ``model.npz``, figures, ``results.json``, ``report.md``."""
    from . import plots

    out = Path(out)
    from .experiments import measure

    row = measure("model", model, dataset, float("nan") if seconds is None else seconds).row()
    with staged_directory(out) as stage:
        model.save(stage / "model.npz")
        figures = []
        if model.n_features == 2:
            plots.save_figure(
                plots.decision_boundary(
                    model.predict_proba,
                    dataset.X_train,
                    dataset.y_train,
                    title=f"train {row['train_accuracy']:.3f}, test {row['test_accuracy']:.3f}",
                    X_test=dataset.X_test,
                    y_test=dataset.y_test,
                ),
                stage / "boundary.png",
            )
            figures.append(("Decision boundary", "boundary.png"))
        plots.save_figure(plots.cost_curves({"model": model.history}), stage / "costs.png")
        figures.append(("Cost during training", "costs.png"))
        payload = {
            "command": command,
            "kind": "train",
            "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
            "dataset": dataset.to_dict(),
            "environment": environment(),
            "models": [_model_record("model", model, row, {"model": "model.npz"})],
        }
        atomic_write_text(stage / "results.json", _json_text(payload))
        settings = ", ".join(f"{k}={v}" for k, v in model.config.to_dict().items())
        lines = ["# reglab train", "", f"{describe_data(dataset)}.", f"Command: `{command}`", "", f"Settings: {settings}", ""]
        if model.standardized:
            lines += [STANDARDIZED_NOTE, ""]
        lines += [markdown_table([row]), ""]
        for title, file in figures:
            lines += [f"## {title}", "", f"![{title.lower()}]({file})", ""]
        atomic_write_text(stage / "report.md", "\n".join(lines))
    return out
