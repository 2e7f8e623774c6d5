"""The run folder of ``reglab compare``: figures, models, ``results.json`` and ``report.md``.

A run folder is built under a temporary name and renamed when complete (``files.staged_directory``),
so an interrupted run never leaves a folder that looks finished.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from ..files import atomic_write_text, staged_directory
from .tables import (
    COURSE_MASKS_NOTE,
    STANDARDIZED_NOTE,
    count,
    describe_data,
    environment,
    json_text,
    markdown_table,
    model_record,
    plain_table,
    slug,
    threads_note,
    utc_now,
)

__all__ = ["CompareRun", "write_compare_run", "compare_payload", "seed_table", "seed_text_table", "difference_lines"]


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


def difference_lines(study) -> list[str]:
    """One sentence per model against the first, on the test set: the paired difference over the seeds."""
    return [difference.describe(name, first, where="on this test set") for name, first, difference in study.differences()]


def seed_text_table(study) -> str:
    return plain_table(seed_table(study))


def _single_run_label(configs) -> str:
    """What the single configured run beside the seeds is: the notebook's, or one with its draws, or neither."""
    from ..config import COURSE_CONFIGS

    if sorted(configs, key=repr) == sorted(COURSE_CONFIGS.values(), key=repr):
        return "the notebook's settings, one run (course init and masks)"
    if all(c.init == "course" and c.mask_mode == "course" for c in configs):
        return "single run as configured (course init and masks)"
    return "single run as configured"


class CompareRun:
    """The run folder of a ``compare``, written while the models train.

    ``add`` writes one model's own files (its decision-boundary figure and ``model-<name>.npz``)
    as soon as that model is trained: pass it as ``compare``'s ``on_result``, and the figure of a
    model that finished early is drawn while the others train (the compiled engine trains without
    holding the GIL). ``finish`` writes the rest (``boundaries.png``, ``costs.png``, the files of
    models not added yet, ``results.json``, ``report.md``). The folder is built under a temporary
    name and gets its name when the ``with`` block ends after ``finish``; an error or Ctrl-C inside
    the block removes it.

    Parameters
    ----------
    out : str or os.PathLike
        The run folder; it must not exist, or be empty (checked when the ``with`` block starts). If
        another run takes that name while this one works, the folder is named ``<out>-2`` (or the
        next free number) instead: ``out`` is the name it got once the block has ended.
    dataset : reglab.datasets.Dataset
        The data the models are trained and tested on.
    command : str
        The command line recorded in ``results.json`` and ``report.md``.

    Examples
    --------
    >>> with CompareRun("runs/study", dataset) as run:  # doctest: +SKIP
    ...     result = reglab.compare(dataset, on_result=run.add)
    ...     run.finish(result)
    """

    def __init__(self, out, dataset, *, command: str = "reglab compare"):
        self.out = Path(out)
        self.dataset = dataset
        self.command = command
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
        self._folder.__exit__(exc_type, exc, tb)  # renames the folder, or removes it after an error
        self.out = self._folder.path  # another name if another run took this one meanwhile
        if unfinished:
            raise exc

    def _staged(self) -> Path:
        if self._stage is None or self._finished:
            raise RuntimeError("CompareRun writes only inside its with block, before finish")
        return self._stage

    def add(self, result) -> None:
        """Write one trained model's decision-boundary figure and model file.

        Parameters
        ----------
        result : reglab.experiments.ModelResult
            A model trained on the run's data set. A name already added is left as written.
        """
        from .. import plots

        with self._lock:
            stage = self._staged()
            if result.name in self._added:
                return
            name = slug(result.name)
            figure = plots.decision_boundary(
                result.model.predict_proba,
                self.dataset.X_train,
                self.dataset.y_train,
                title=f"{result.name}: train {result.train_accuracy:.3f}, test {result.test_accuracy:.3f}",
                X_test=self.dataset.X_test,
                y_test=self.dataset.y_test,
            )
            plots.save_figure(figure, stage / f"boundary-{name}.png")
            result.model.save(stage / f"model-{name}.npz")
            self._added.add(result.name)

    def finish(self, result, *, seed_study=None) -> Path:
        """Write the rest of the run folder.

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
        from .. import plots

        stage = self._staged()
        if result.dataset is not self.dataset:
            raise ValueError("result must be trained on the data set the CompareRun was made with")
        dataset = result.dataset
        points = dict(X_test=dataset.X_test, y_test=dataset.y_test)
        models = {r.name: r.model for r in result.results}
        plots.save_figure(plots.models_side_by_side(models, dataset.X_train, dataset.y_train, **points),
                          stage / "boundaries.png")
        plots.save_figure(plots.cost_curves({r.name: r.model.history for r in result.results}), stage / "costs.png")
        if seed_study is not None:
            spread = plots.seed_spread(
                {name: [r.test_accuracy for r in runs] for name, runs in seed_study.runs.items()},
                reference={r.name: r.test_accuracy for r in result.results},
                reference_label=_single_run_label([r.config for r in result.results]),
            )
            plots.save_figure(spread, stage / "seeds.png")
        for r in result.results:
            self.add(r)
        _write_compare_summary(result, stage, self.command, seed_study)
        self._finished = True
        return self.out


def write_compare_run(result, out, *, command: str = "reglab compare", seed_study=None) -> Path:
    """Write the run folder of a finished ``compare`` at once (see ``CompareRun``, which does it while training).

    Parameters
    ----------
    result : reglab.experiments.CompareResult
    out : str or os.PathLike
        The run folder; it must not exist, or be empty. It is built under a temporary name and
        renamed only when every file is written.
    command
        As in ``CompareRun``.
    seed_study : reglab.experiments.SeedStudy, optional
        As in ``CompareRun.finish``.

    Returns
    -------
    pathlib.Path
        The run folder: ``out``, or ``<out>-2``, ... if another run took ``out`` meanwhile.
    """
    with CompareRun(out, result.dataset, command=command) as run:
        run.finish(result, seed_study=seed_study)
    return run.out


def compare_payload(result, command: str = "reglab compare", seed_study=None, *, files: bool = True) -> dict:
    """The content of a compare run's ``results.json`` (the web page exports the same), as a dict.

    ``files=False`` leaves out the names of the figure and model files, which only a run folder has.
    """
    dataset = result.dataset
    records = []
    for r in result.results:
        name = slug(r.name)
        names = {"boundary": f"boundary-{name}.png", "model": f"model-{name}.npz"} if files else {}
        records.append(model_record(r.name, r.model, r.row(), names))
    payload = {
        "command": command,
        "kind": "compare",
        "created": utc_now(),
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
            "differences": [
                {"model": name, "minus": first, "metric": metric, **vars(difference.interval),
                 "distinguishable": difference.distinguishable,
                 "text": difference.describe(name, first, where=f"on this {where} set")}
                for metric, where in (("test_accuracy", "test"), ("train_accuracy", "training"))
                for name, first, difference in seed_study.differences(metric)
            ],
        }
    return payload


def _write_compare_summary(result, stage: Path, command: str, seed_study) -> None:
    """Write ``results.json`` and ``report.md`` of a compare run into ``stage``."""
    dataset = result.dataset
    figure_files = [(r.name, f"boundary-{slug(r.name)}.png") for r in result.results]
    atomic_write_text(stage / "results.json", json_text(compare_payload(result, command, seed_study)))
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
                  plain_table(seed_table(seed_study), markdown=True), "",
                  "Paired differences in test accuracy (the same seeds, so what the seeds share cancels out):", "",
                  *[f"- {line}" for line in difference_lines(seed_study)], "",
                  "![test accuracy per seed](seeds.png)", ""]
    lines += ["## Decision boundaries", "", "![decision boundaries](boundaries.png)", ""]
    lines += [f"- {name}: [{file}]({file})" for name, file in figure_files]
    lines += ["", "## Cost during training", "", "![cost curves](costs.png)", ""]
    lines += ["Settings and cost histories are in `results.json`; trained models in `model-*.npz`.", ""]
    atomic_write_text(stage / "report.md", "\n".join(lines))


