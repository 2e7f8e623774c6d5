"""The run folder of ``reglab train``: ``model.npz``, figures, ``results.json`` and ``report.md``."""

from __future__ import annotations

from pathlib import Path

from ..files import atomic_write_text, staged_directory
from .tables import STANDARDIZED_NOTE, describe_data, environment, json_text, markdown_table, model_record, utc_now

__all__ = ["write_train_run", "train_payload"]


def train_payload(model, dataset, row: dict, command: str = "reglab train", *, files: bool = True) -> dict:
    """The content of a train run's ``results.json`` (the web page exports the same), as a dict.

    ``row`` is the model's measurements (``experiments.compare.measure(...).row()``); ``files=False``
    leaves out the model file's name, which only a run folder has.
    """
    return {
        "command": command,
        "kind": "train",
        "created": utc_now(),
        "dataset": dataset.to_dict(),
        "environment": environment(),
        "models": [model_record("model", model, row, {"model": "model.npz"} if files else {})],
    }


def write_train_run(model, dataset, out, *, command: str = "reglab train", seconds: float | None = None,
                    refuse_taken: bool = True, row: dict | None = None) -> Path:
    """Write the run folder of one trained model: ``model.npz``, figures, ``results.json``, ``report.md``.

    ``row``: the model's measurements if the caller has them (``experiments.compare.measure(...).row()``).

    Returns the folder's name: ``out``, or ``<out>-2``, ... if another run took ``out`` meanwhile. With
    ``refuse_taken=False`` (``out`` was checked before training) a folder found at ``out`` now is another
    run's, and is not refused: see ``files.staged_directory``.
    """
    from .. import plots

    out = Path(out)
    if row is None:
        from ..experiments.compare import measure

        row = measure("model", model, dataset, float("nan") if seconds is None else seconds).row()
    folder = staged_directory(out, refuse_taken=refuse_taken)
    with folder as stage:
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
        atomic_write_text(stage / "results.json", json_text(train_payload(model, dataset, row, command)))
        settings = ", ".join(f"{k}={v}" for k, v in model.config.to_dict().items())
        lines = ["# reglab train", "", f"{describe_data(dataset)}.", f"Command: `{command}`", "", f"Settings: {settings}", ""]
        if model.standardized:
            lines += [STANDARDIZED_NOTE, ""]
        lines += [markdown_table([row]), ""]
        for title, file in figures:
            lines += [f"## {title}", "", f"![{title.lower()}]({file})", ""]
        atomic_write_text(stage / "report.md", "\n".join(lines))
    return folder.path
