"""CSV export of result rows: one line per (configuration, seed), a column per setting and per metric.

``write_csv`` writes rows as ``ResultStore.rows`` returns them (``ResultStore.to_csv`` and the
sweep's ``--csv`` use it), atomically.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..files import atomic_path
from ..validation import describe
from .keys import canonical_json

__all__ = ["write_csv"]

_JOINED_SETTINGS = ("hidden_layer_sizes",)  # one CSV cell "20/3"; other sequences get one column per item


def write_csv(rows: Iterable[dict], path, *, column_names: Mapping[str, str] | None = None) -> Path:
    """Write rows (as ``ResultStore.rows`` returns them) as CSV, atomically; see ``ResultStore.to_csv``.

    Parameters
    ----------
    rows : iterable of dict
    path : str or os.PathLike
        The CSV file; replaced only once it is completely written.
    column_names : mapping of str to str, optional
        Header name to show instead of a column's own name, e.g. to label a metric.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a file path (str or os.PathLike); got {describe(path)}")
    header, lines = _table(list(rows))
    header = [dict(column_names or {}).get(name, name) for name in header]
    path = Path(path)
    with atomic_path(path) as temporary:
        with open(temporary, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(lines)
    return path


def _table(rows: list[dict]) -> tuple[list[str], list[list]]:
    """The CSV header and one list of cells per row."""
    lengths: dict[str, int | None] = {}  # setting -> items (None: a single cell)
    for row in rows:
        for name, value in row["config"].items():
            if name == "seed":
                continue
            if isinstance(value, list) and name not in _JOINED_SETTINGS:
                lengths[name] = max(lengths.get(name) or 0, len(value))
            else:
                lengths.setdefault(name, None)
    header = ["key", "dataset_name", "dataset", "seed"]
    for name, n in lengths.items():
        header += [name] if n is None else [f"{name}_{i + 1}" for i in range(n)]
    metric_columns: dict[str, str] = {}
    for row in rows:
        for name in row["metrics"]:
            if name not in metric_columns:
                column = name
                while column in header or column in metric_columns.values() or column in ("seconds", "created"):
                    column = f"metric_{column}"
                metric_columns[name] = column
    header += list(metric_columns.values()) + ["seconds", "created"]

    lines = []
    for row in rows:
        cells = [row["key"], row["dataset_name"], row["dataset"], row["seed"]]
        config = row["config"]
        for name, n in lengths.items():
            value = config.get(name)
            if n is None:
                if isinstance(value, list):
                    value = "/".join(str(v) for v in value)  # as the report shows layer sizes
                cells.append(_cell(value))
            else:
                if value is None:
                    items = []
                elif isinstance(value, list):
                    items = value
                else:  # one number for every layer
                    items = [value] * n
                cells += [_cell(items[i]) if i < len(items) else "" for i in range(n)]
        cells += [_cell(row["metrics"].get(name)) for name in metric_columns]
        cells += [_cell(row["seconds"]), row["created"]]
        lines.append(cells)
    return header, lines


def _cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):
        return canonical_json(value)
    return value
