"""What every run folder and summary shares: tables, notes, JSON, names and the environment."""

from __future__ import annotations

import datetime as _dt
import json
import math
import platform
import re
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .._version import __version__
from ..experiments.keys import utc_now

__all__ = [
    "COURSE_MASKS_NOTE",
    "STANDARDIZED_NOTE",
    "count",
    "default_run_dir",
    "describe_data",
    "environment",
    "json_text",
    "markdown_table",
    "model_record",
    "plain_table",
    "slug",
    "text_table",
    "threads_note",
    "utc_now",
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


def model_record(name: str, model, metrics: dict, files: dict) -> dict:
    return {
        "name": name,
        "config": model.config.to_dict(),
        "seeds": {"init": model.config.seed if model.config.init == "fresh" else f"course ({model.config.seed})",
                  "masks": "course (1)" if model.config.mask_mode == "course" else model.config.seed},
        "metrics": metrics,
        "history": {"iterations": model.history.iterations.tolist(), "cost": np.asarray(model.history.cost).tolist()},
        "files": files,
    }


def json_text(payload: dict) -> str:
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


def plain_table(rows: Sequence[dict], markdown: bool = False) -> str:
    header = list(rows[0])
    body = [[str(row[k]) for k in header] for row in rows]
    if markdown:
        return "\n".join(["| " + " | ".join(header) + " |", "|" + "|".join(["---"] * len(header)) + "|"]
                         + ["| " + " | ".join(line) + " |" for line in body])
    widths = [max(len(line[i]) for line in [header, *body]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(line, widths)) for line in [header, *body]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
