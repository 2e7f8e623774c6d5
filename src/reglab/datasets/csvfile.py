"""Reading CSV tables of points: rows ``x1,...,label`` with an optional header and split column.

``csv_rows`` reads a file row by row (files of any size); ``csv_layout`` tells the columns from the
first row; ``csv_part`` turns rows into arrays; ``parse_csv`` reads a whole table. Every malformed
cell is refused with a ``ValueError`` naming the file, the line and the column.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import numpy as np

__all__ = ["SPLIT_COLUMNS", "CsvLayout", "CsvTable", "csv_layout", "csv_part", "csv_rows", "is_number", "label_array",
           "parse_csv", "read_csv_rows"]

SPLIT_COLUMNS = ("split", "subset")


def is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def csv_rows(path) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank row, read as they come (a file of any size).

    ``path``: a file, or a file's bytes held in memory (an object with ``data``, like ``loaders.Upload``).
    """
    data = getattr(path, "data", None)
    try:
        handle = io.StringIO(data.decode("utf-8-sig"), newline="") if data is not None else \
            open(path, encoding="utf-8-sig", newline="")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a UTF-8 text CSV file: {error}") from error
    with handle:
        reader = csv.reader(handle)
        try:
            for cells in reader:
                cells = [c.strip() for c in cells]
                if any(cells):
                    yield reader.line_num, cells
        except UnicodeDecodeError as error:
            raise ValueError(f"{path} is not a UTF-8 text CSV file: {error}") from error
        except csv.Error as error:
            raise ValueError(f"{path} is not a readable CSV file (line {reader.line_num}): {error}") from error


def read_csv_rows(path) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank row."""
    return list(csv_rows(path))


class CsvTable(NamedTuple):
    X: np.ndarray  # (n_rows, n_features)
    y: np.ndarray | None  # (n_rows,), numbers as float64 or text; None without a label column
    splits: np.ndarray | None  # (n_rows,) "train"/"test", or None without a split column
    split_name: str


class CsvLayout(NamedTuple):
    header: list[str] | None
    width: int
    names: list[str]
    feature_columns: list[int]
    label_column: int | None
    split_column: int | None


def csv_layout(path: Path, first: list[str], n_features: int | None) -> CsvLayout:
    """The columns of a CSV file, from its first row (a header when none of its cells is a number)."""
    header = None if any(is_number(c) for c in first) else first
    width = len(first)
    names = header if header is not None else [f"column {j + 1}" for j in range(width)]
    split_column = next((j for j, h in enumerate(names) if header and h.lower() in SPLIT_COLUMNS), None)
    other = [j for j in range(width) if j != split_column]
    if n_features is not None and len(other) == n_features:
        return CsvLayout(header, width, names, other, None, split_column)
    if n_features is not None and len(other) != n_features + 1:
        raise ValueError(
            f"{path} must have {n_features} feature columns, optionally followed by a label column; "
            f"got {len(other)} columns"
        )
    if len(other) < 2:
        raise ValueError(
            f"{path} must have at least two columns besides any split column (features..., label); "
            f"got {len(other)}"
        )
    return CsvLayout(header, width, names, other[:-1], other[-1], split_column)


def csv_part(path: Path, layout: CsvLayout, rows: list[tuple[int, list[str]]]):
    """X (n, n_features), the label cells and the split cells of some data rows."""
    X = np.empty((len(rows), len(layout.feature_columns)))
    labels, splits = [], []
    names, label_column, split_column = layout.names, layout.label_column, layout.split_column
    for i, (line, cells) in enumerate(rows):
        if len(cells) != layout.width:
            raise ValueError(f"{path}: row {line} has {len(cells)} cells; expected {layout.width} as in the first row")
        for k, j in enumerate(layout.feature_columns):
            try:
                X[i, k] = float(cells[j])
            except ValueError:
                raise ValueError(
                    f"{path}: row {line}, {names[j]!r} holds {cells[j]!r}, which is not a number; "
                    f"feature columns must be numeric"
                ) from None
        if label_column is not None:
            if not cells[label_column]:
                raise ValueError(f"{path}: row {line} has an empty label ({names[label_column]!r})")
            labels.append(cells[label_column])
        if split_column is not None:
            value = cells[split_column].lower()
            if value not in ("train", "test"):
                raise ValueError(
                    f"{path}: row {line}, {names[split_column]!r} must be 'train' or 'test'; "
                    f"got {cells[split_column]!r}"
                )
            splits.append(value)
    return X, labels, splits


def label_array(labels: list[str]) -> np.ndarray:
    """Label cells as numbers when every one is a number, else as text."""
    return np.array([float(v) for v in labels]) if all(map(is_number, labels)) else np.array(labels)


def parse_csv(path, n_features: int | None = None) -> CsvTable:
    """Rows x1,...,label; with ``n_features`` given, a table of exactly that many columns has no labels."""
    rows = read_csv_rows(path)
    if not rows:
        raise ValueError(f"{path} is empty: expected rows of x1,x2,...,label")
    layout = csv_layout(path, rows[0][1], n_features)
    if layout.header is not None:
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{path} has a header row but no data rows")
    X, labels, splits = csv_part(path, layout, rows)
    y = None if layout.label_column is None else label_array(labels)
    return CsvTable(
        X, y, None if layout.split_column is None else np.array(splits),
        "" if layout.split_column is None else layout.names[layout.split_column],
    )
