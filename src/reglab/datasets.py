"""Data sets: built-in generators and loaders (.mat course format, .csv, .npz), validated.

Every data set comes as a ``Dataset``: a train and a test split in the public orientation
(X (n_samples, n_features), y (n_samples,)) plus a one-line ``source`` saying where it came
from. Generators are deterministic for a seed (``np.random.default_rng(seed)``, never the
global generator); loaders turn every unreadable or malformed file into one clear
``ValueError``/``TypeError``/``FileNotFoundError`` that names the file.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .validation import binary_labels, check_choice, check_int, check_real, check_X

__all__ = [
    "Dataset",
    "GENERATORS",
    "DEFAULT_DATASET",
    "COURSE_ENV_VAR",
    "FILE_SUFFIXES",
    "make_dataset",
    "load_course",
    "load_file",
    "load_points",
    "resolve_data",
    "find_course_file",
]

DEFAULT_DATASET = "field"
COURSE_ENV_VAR = "REGLAB_COURSE_DATA"
COURSE_LOCAL_PATH = Path("datasets") / "data.mat"  # the course's folder layout
FILE_SUFFIXES = (".mat", ".csv", ".npz")
SPLIT_COLUMNS = ("split", "subset")
MAX_SAMPLES = 1_000_000


@dataclass(frozen=True)
class Dataset:
    """A two-class data set split into train and test.

    Attributes
    ----------
    name : str
        "course", a built-in generator's name, or a file's stem.
    X_train : ndarray of shape (n_train, n_features), float64
    y_train : ndarray of shape (n_train,)
        0/1 as float64 for built-ins and the course's .mat layout; a .csv/.npz file's own labels.
    X_test : ndarray of shape (n_test, n_features), float64
    y_test : ndarray of shape (n_test,)
    source : str
        One human-readable line saying where the data came from.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str

    @property
    def n_features(self) -> int:
        return int(self.X_train.shape[1])

    @property
    def classes(self) -> np.ndarray:
        """The two labels, sorted, (2,)."""
        return np.unique(np.concatenate([self.y_train, self.y_test]))

    def to_dict(self) -> dict:
        """JSON-able description (no arrays): name, source, sizes, features, classes."""
        return {
            "name": self.name,
            "source": self.source,
            "n_train": int(self.X_train.shape[0]),
            "n_test": int(self.X_test.shape[0]),
            "n_features": self.n_features,
            "classes": [c.item() for c in self.classes],
        }


# --------------------------------------------------------------------------- generators

Draw = Callable[[np.random.Generator, int, int, float], tuple[np.ndarray, ...]]


class _Generator(NamedTuple):
    summary: str
    n_samples: int
    noise: float
    test_fraction: float
    draw: Draw  # (rng, n_train, n_test, noise) -> X_train, y_train, X_test, y_test


def _pooled(draw_points: Callable[[np.random.Generator, int, float], tuple[np.ndarray, np.ndarray]]) -> Draw:
    """Draw all points from one distribution, then split them at random."""

    def draw(rng, n_train, n_test, noise):
        X, y = draw_points(rng, n_train + n_test, noise)
        order = rng.permutation(n_train + n_test)
        test, train = order[:n_test], order[n_test:]
        return X[train], y[train], X[test], y[test]

    return draw


def _halves(n: int) -> tuple[int, int]:
    return n // 2, n - n // 2


def _circle(rng, n, noise):
    """TensorFlow Playground's circle: label 1 inside radius 2.5 (judged after noise)."""
    n_in, n_out = _halves(n)
    radius = np.concatenate([rng.uniform(0, 2.5, n_in), rng.uniform(3.5, 5, n_out)])
    angle = rng.uniform(0, 2 * np.pi, n)
    X = np.column_stack([radius * np.sin(angle), radius * np.cos(angle)])  # (n, 2)
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.hypot(*(X + jitter).T) < 2.5).astype(np.float64)
    return X, y


def _xor(rng, n, noise):
    """TensorFlow Playground's xor: label 1 where (x + e_x)(y + e_y) >= 0."""
    X = rng.uniform(-5, 5, (n, 2))
    X = X + np.where(X > 0, 0.3, -0.3)  # keep points 0.3 away from the axes
    jitter = rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.prod(X + jitter, axis=1) >= 0).astype(np.float64)
    return X, y


def _gauss(rng, n, noise):
    """TensorFlow Playground's gauss: label 1 around (2, 2), 0 around (-2, -2)."""
    n_pos, n_neg = _halves(n)
    std = math.sqrt(0.5 + 7 * noise)  # the Playground's variance is 0.5 + 7 * noise
    centers = np.repeat([[2.0, 2.0], [-2.0, -2.0]], [n_pos, n_neg], axis=0)
    X = centers + rng.normal(0, std, (n, 2))
    y = np.repeat([1.0, 0.0], [n_pos, n_neg])
    return X, y


def _spiral(rng, n, noise):
    """TensorFlow Playground's spiral: two arms, label 1 on the arm with delta = 0."""
    parts = []
    for label, delta, count in zip((1.0, 0.0), (0.0, np.pi), _halves(n)):
        i = np.arange(count)
        radius = 5 * i / count
        t = 1.75 * 2 * np.pi * i / count + delta
        points = np.column_stack([radius * np.sin(t), radius * np.cos(t)])
        parts.append((points + rng.uniform(-1, 1, (count, 2)) * noise, np.full(count, label)))
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _moons(rng, n, noise):
    """Two interleaving half circles (as scikit-learn's make_moons); label 1 on the lower one."""
    n_upper, n_lower = _halves(n)
    t_upper = np.linspace(0, np.pi, n_upper)
    t_lower = np.linspace(0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower]) + rng.normal(0, noise, (n, 2))
    y = np.repeat([0.0, 1.0], [n_upper, n_lower])
    return X, y


# The "field": a course-like data set. Points fill an ellipse around (-0.15, -0.05); the clean
# label is 1 above a gently curved diagonal. Labels are flipped with a probability that is
# large in a few small "pockets" near the boundary and raised along the whole boundary. Train
# and test are drawn separately, each with its own pockets: what a network learns about the
# training set's pockets is wrong on the test set, which is what overfitting looks like.
_FIELD_CENTER = np.array([-0.15, -0.05])
_FIELD_AXES = np.array([0.47, 0.62])
_FIELD_POCKETS = 8  # per split
_FIELD_POCKET_WIDTH = 0.055  # standard deviation of a pocket's bump
_FIELD_POCKET_PEAK = 3.0  # flip probability at a pocket's centre is noise * 3
_FIELD_EDGE_PEAK = 0.75  # flip probability on the clean boundary is noise * 0.75
_FIELD_EDGE_WIDTH = 0.1
_FIELD_POCKET_BAND = 0.2  # pockets sit within this vertical distance of the boundary


def _field_boundary(x: np.ndarray) -> np.ndarray:
    u = x - _FIELD_CENTER[0]
    return -0.03 + 0.9 * u + 0.4 * u**2


def _in_ellipse(rng, n: int, scale: float = 1.0) -> np.ndarray:
    radius = scale * np.sqrt(rng.uniform(0, 1, n))
    angle = rng.uniform(0, 2 * np.pi, n)
    return _FIELD_CENTER + _FIELD_AXES * np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])


def _field_split(rng, n, noise):
    X = _in_ellipse(rng, n)  # (n, 2)
    height = X[:, 1] - _field_boundary(X[:, 0])  # (n,) > 0 above the boundary
    y = (height > 0).astype(np.float64)
    pockets = np.empty((0, 2))
    while pockets.shape[0] < _FIELD_POCKETS:
        candidates = _in_ellipse(rng, 4 * _FIELD_POCKETS, scale=0.9)
        near = np.abs(candidates[:, 1] - _field_boundary(candidates[:, 0])) < _FIELD_POCKET_BAND
        pockets = np.concatenate([pockets, candidates[near]])[:_FIELD_POCKETS]
    squared = np.sum((X[:, None, :] - pockets[None, :, :]) ** 2, axis=-1)  # (n, pockets)
    intensity = _FIELD_POCKET_PEAK * np.exp(-squared / (2 * _FIELD_POCKET_WIDTH**2)).sum(axis=1)
    intensity += _FIELD_EDGE_PEAK * np.exp(-((height / _FIELD_EDGE_WIDTH) ** 2))
    flip = rng.uniform(0, 1, n) < np.minimum(1.0, noise * intensity)
    y[flip] = 1.0 - y[flip]
    return X, y


def _field(rng, n_train, n_test, noise):
    return (*_field_split(rng, n_train, noise), *_field_split(rng, n_test, noise))


_GENERATORS: dict[str, _Generator] = {
    "field": _Generator(
        "course-like: noisy, gently curved diagonal boundary with pockets of flipped labels; "
        "an unregularized net overfits",
        400, 0.15, 0.5, _field,
    ),
    "circle": _Generator("TensorFlow Playground circle: class 1 inside radius 2.5", 400, 0.0, 0.5, _pooled(_circle)),
    "xor": _Generator("TensorFlow Playground xor: class 1 in quadrants I and III", 400, 0.0, 0.5, _pooled(_xor)),
    "gauss": _Generator("TensorFlow Playground gauss: two Gaussian blobs at (2, 2) and (-2, -2)", 400, 0.0, 0.5, _pooled(_gauss)),
    "spiral": _Generator("TensorFlow Playground spiral: two interleaved spiral arms", 400, 0.0, 0.5, _pooled(_spiral)),
    "moons": _Generator("two interleaving half circles (scikit-learn-style moons)", 400, 0.2, 0.5, _pooled(_moons)),
}

#: Built-in data sets: name -> one-line description with the defaults.
GENERATORS: dict[str, str] = {
    name: f"{spec.summary} (default {spec.n_samples} points, noise {spec.noise:g}, test fraction {spec.test_fraction:g})"
    for name, spec in _GENERATORS.items()
}


def _split_sizes(n: int, test_fraction: float, what: str) -> tuple[int, int]:
    n_test = int(round(n * test_fraction))
    if not 1 <= n_test <= n - 1:
        raise ValueError(
            f"test_fraction={test_fraction:g} leaves {n_test} test and {n - n_test} training points "
            f"from {what}; choose a test_fraction that leaves at least one point on each side"
        )
    return n - n_test, n_test


def make_dataset(
    name: str,
    *,
    n_samples: int | None = None,
    noise: float | None = None,
    test_fraction: float | None = None,
    seed: int = 0,
) -> Dataset:
    """Generate a built-in data set, split into train and test.

    Parameters
    ----------
    name : str
        One of ``GENERATORS``: "field" (the default data set, course-like), "circle", "xor",
        "gauss", "spiral" (TensorFlow Playground's formulas, coordinates in about [-6, 6]),
        "moons" (scikit-learn-style).
    n_samples : int, optional
        Points in total (train + test), in [4, 1000000]. Default 400 for every generator.
    noise : float, optional
        In [0, 1]. circle/xor: jitter U(-5, 5) * noise before labelling; gauss: variance
        0.5 + 7 * noise; spiral: jitter U(-1, 1) * noise; moons: Gaussian std; field: scale of
        the label-flip probability. Defaults: field 0.15, moons 0.2, the Playground sets 0.
    test_fraction : float, optional
        Share of the points in the test split, in (0, 1). Default 0.5.
    seed : int
        Seed of ``np.random.default_rng``, >= 0. The split is drawn from the same generator.

    Returns
    -------
    Dataset
        X_train (n_train, 2), y_train (n_train,) and X_test (n_test, 2), y_test (n_test,),
        labels 0.0/1.0.
    """
    if not isinstance(name, str):
        raise TypeError(f"name must be a data set name (one of {', '.join(GENERATORS)}); got {name!r}")
    spec = _GENERATORS[check_choice("name", name, tuple(GENERATORS))]
    n = spec.n_samples if n_samples is None else check_int("n_samples", n_samples, low=4, high=MAX_SAMPLES)
    noise = spec.noise if noise is None else check_real("noise", noise, low=0, high=1)
    fraction = spec.test_fraction if test_fraction is None else check_real(
        "test_fraction", test_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    seed = check_int("seed", seed, low=0)
    n_train, n_test = _split_sizes(n, fraction, f"n_samples={n}")
    rng = np.random.default_rng(seed)
    X_train, y_train, X_test, y_test = spec.draw(rng, n_train, n_test, noise)
    return Dataset(
        name,
        np.ascontiguousarray(X_train, dtype=np.float64),
        np.asarray(y_train, dtype=np.float64),
        np.ascontiguousarray(X_test, dtype=np.float64),
        np.asarray(y_test, dtype=np.float64),
        f"built-in {name!r} ({n} points: {n_train} train / {n_test} test, noise {noise:g}, seed {seed})",
    )


# --------------------------------------------------------------------------- loaders


def _existing_file(path, what: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a file path (str or os.PathLike); got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} is not a file")
    return path


def _assemble(
    name: str, source: str, where: str, X_train, y_train, X_test, y_test, *, encode: bool
) -> Dataset:
    """Validate both splits together; ``encode`` turns the labels into 0/1 float64."""
    X_train = check_X(X_train, name=f"X_train in {where}")
    X_test = check_X(X_test, name=f"X_test in {where}", n_features=X_train.shape[1])
    ys = []
    for label, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        y = np.asarray(y)
        if y.ndim == 2 and 1 in y.shape:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(f"y_{label} in {where} must be 1-D (n_samples,); got shape {y.shape}")
        if y.dtype == object or y.dtype.kind not in "biufUS":
            raise ValueError(f"y_{label} in {where} must hold numbers or text labels; got dtype {y.dtype}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X_{label} and y_{label} in {where} must have the same number of samples; "
                f"got {X.shape[0]} and {y.shape[0]}"
            )
        ys.append(y)
    labels = np.concatenate(ys)
    encoded, _ = binary_labels(labels, name=f"the labels in {where}")
    if np.unique(labels).size != 2:
        raise ValueError(
            f"the labels in {where} must hold two classes; got only {np.unique(labels)[0].item()!r}"
        )
    if encode:
        ys = [encoded[: ys[0].shape[0]], encoded[ys[0].shape[0]:]]
    return Dataset(name, X_train, ys[0], X_test, ys[1], source)


def _read_mat(path: Path) -> dict:
    from scipy.io import loadmat  # lazy: SciPy is only needed for .mat files

    try:
        return loadmat(path)
    except NotImplementedError as error:  # MATLAB v7.3 (HDF5) files
        raise ValueError(f"{path}: MATLAB v7.3 files are not supported; save it with -v7 ({error})") from error
    except Exception as error:  # any malformed file: SciPy raises many types
        raise ValueError(f"{path} is not a readable MATLAB .mat file: {error}") from error


def load_course(path) -> Dataset:
    """Load a data set in the course's MATLAB layout (the course's ``datasets/data.mat``).

    Parameters
    ----------
    path : str or os.PathLike
        A MATLAB (v4 to v7.2) file with variables ``X`` (m, 2), ``y`` (m, 1), ``Xval`` (m_val, 2)
        and ``yval`` (m_val, 1).

    Returns
    -------
    Dataset
        Named "course": train = (X, y), test = (Xval, yval); labels encoded 0/1 as float64
        (labels other than 0/1: the larger one becomes 1).
    """
    path = _existing_file(path)
    contents = _read_mat(path)
    required = ("X", "y", "Xval", "yval")
    missing = [key for key in required if key not in contents]
    if missing:
        found = ", ".join(k for k in contents if not k.startswith("__")) or "none"
        raise ValueError(
            f"{path} is missing the variable(s) {', '.join(missing)}; a course data file holds "
            f"{', '.join(required)}; found: {found}"
        )
    return _assemble(
        "course", f"course data from {path}", str(path),
        contents["X"], contents["y"], contents["Xval"], contents["yval"], encode=True,
    )


def _split_random(
    X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, where: str
) -> tuple[np.ndarray, ...]:
    n_train, n_test = _split_sizes(len(X), test_fraction, f"the {len(X)} rows of {where}")
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    with open(path, "rb") as handle:
        magic = handle.read(4)
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):  # every .npz is a zip archive
        raise ValueError(f"{path} is not an .npz archive: it does not start like a zip file")
    arrays = {}
    with open(path, "rb") as handle:  # our own handle: closed even when NumPy fails half-way
        try:
            archive = np.load(handle, allow_pickle=False)
        except Exception as error:  # truncated or damaged zip
            raise ValueError(f"{path} is not a readable .npz archive: {error}") from error
        try:
            for key in archive.files:
                try:
                    arrays[key] = archive[key]
                except ValueError as error:
                    if "allow_pickle" in str(error):
                        raise ValueError(
                            f"{path}: array {key!r} holds Python objects (dtype object); reglab reads .npz "
                            f"files with allow_pickle=False, so store plain numeric or text arrays"
                        ) from error
                    raise ValueError(f"{path}: array {key!r} cannot be read: {error}") from error
                except Exception as error:  # truncated or corrupt member
                    raise ValueError(f"{path}: array {key!r} cannot be read: {error}") from error
        finally:
            archive.close()
    return arrays


def _load_npz(path: Path, test_fraction: float, seed: int) -> Dataset:
    arrays = _read_npz(path)
    split_keys = ("X_train", "y_train", "X_test", "y_test")
    found = ", ".join(arrays) or "none"
    if all(k in arrays for k in split_keys):
        parts = [arrays[k] for k in split_keys]
        how = "its own train/test split"
    elif "X" in arrays and "y" in arrays and not any(k in arrays for k in split_keys):
        X = check_X(arrays["X"], name=f"X in {path}")
        y = np.asarray(arrays["y"])
        if y.ndim == 2 and 1 in y.shape:
            y = y.ravel()
        if y.ndim != 1 or y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and y in {path} must have the same number of samples, y 1-D; "
                f"got X {X.shape} and y {y.shape}"
            )
        parts = _split_random(X, y, test_fraction, seed, str(path))
        how = f"split at random, test fraction {test_fraction:g}, seed {seed}"
    else:
        raise ValueError(
            f"{path} must hold the arrays X_train, y_train, X_test, y_test, or X and y; found: {found}"
        )
    dataset = _assemble(path.stem, "", str(path), *parts, encode=False)
    return _with_source(dataset, f"file {path} ({_counts(dataset)}, {how})")


def _counts(dataset: Dataset) -> str:
    return f"{len(dataset.X_train)} train / {len(dataset.X_test)} test"


def _with_source(dataset: Dataset, source: str) -> Dataset:
    return Dataset(dataset.name, dataset.X_train, dataset.y_train, dataset.X_test, dataset.y_test, source)


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _read_csv_rows(path: Path) -> list[tuple[int, list[str]]]:
    """(line number, stripped cells) of every non-blank row."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not a UTF-8 text CSV file: {error}") from error
    rows = []
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            cells = [c.strip() for c in cells]
            if any(cells):
                rows.append((reader.line_num, cells))
    except csv.Error as error:
        raise ValueError(f"{path} is not a readable CSV file (line {reader.line_num}): {error}") from error
    return rows


class _CsvTable(NamedTuple):
    X: np.ndarray  # (n_rows, n_features)
    y: np.ndarray | None  # (n_rows,), numbers as float64 or text; None without a label column
    splits: np.ndarray | None  # (n_rows,) "train"/"test", or None without a split column
    split_name: str


def _parse_csv(path: Path, n_features: int | None = None) -> _CsvTable:
    """Rows x1,...,label; with ``n_features`` given, a table of exactly that many columns has no labels."""
    rows = _read_csv_rows(path)
    if not rows:
        raise ValueError(f"{path} is empty: expected rows of x1,x2,...,label")
    header = None
    if not any(_is_number(c) for c in rows[0][1]):
        header = rows[0][1]
        rows = rows[1:]
        if not rows:
            raise ValueError(f"{path} has a header row but no data rows")
    width = len(header) if header is not None else len(rows[0][1])
    names = header if header is not None else [f"column {j + 1}" for j in range(width)]
    split_column = next((j for j, h in enumerate(names) if header and h.lower() in SPLIT_COLUMNS), None)
    other = [j for j in range(width) if j != split_column]
    if n_features is not None and len(other) == n_features:
        feature_columns, label_column = other, None
    elif n_features is not None and len(other) != n_features + 1:
        raise ValueError(
            f"{path} must have {n_features} feature columns, optionally followed by a label column; "
            f"got {len(other)} columns"
        )
    elif len(other) < 2:
        raise ValueError(
            f"{path} must have at least two columns besides any split column (features..., label); "
            f"got {len(other)}"
        )
    else:
        feature_columns, label_column = other[:-1], other[-1]
    X = np.empty((len(rows), len(feature_columns)))
    labels, splits = [], []
    for i, (line, cells) in enumerate(rows):
        if len(cells) != width:
            raise ValueError(f"{path}: row {line} has {len(cells)} cells; expected {width} as in the first row")
        for k, j in enumerate(feature_columns):
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
    y = None
    if label_column is not None:
        y = np.array([float(v) for v in labels]) if all(map(_is_number, labels)) else np.array(labels)
    return _CsvTable(
        X, y, None if split_column is None else np.array(splits), "" if split_column is None else names[split_column]
    )


def _load_csv(path: Path, test_fraction: float, seed: int) -> Dataset:
    X, y, splits, split_name = _parse_csv(path)
    where = str(path)
    if splits is None:
        parts = _split_random(X, y, test_fraction, seed, where)
        how = f"split at random, test fraction {test_fraction:g}, seed {seed}"
    else:
        is_test = splits == "test"
        if is_test.all() or not is_test.any():
            missing = "train" if is_test.all() else "test"
            raise ValueError(f"{path}: column {split_name!r} marks no row as {missing!r}")
        parts = (X[~is_test], y[~is_test], X[is_test], y[is_test])
        how = f"split by column {split_name!r}"
    dataset = _assemble(path.stem, "", where, *parts, encode=False)
    return _with_source(dataset, f"file {path} ({_counts(dataset)}, {how})")


def load_file(path, *, test_fraction: float = 0.5, seed: int = 0) -> Dataset:
    """Load a data set from a file, by extension.

    Parameters
    ----------
    path : str or os.PathLike
        ``.mat``: the course's layout (see ``load_course``).
        ``.csv``: rows ``x1,x2,...,label``, with or without a header row (the first row is a
        header when none of its cells is a number). The label is the last column; labels may be
        numbers or text. With a header, a column named "split" or "subset" (values train/test,
        any case) fixes the split; otherwise the rows are split at random.
        ``.npz``: arrays ``X_train, y_train, X_test, y_test``, or ``X, y`` split at random.
        Read with ``allow_pickle=False``: object arrays are refused.
    test_fraction : float
        Share of the rows put in the test split when the file has no split of its own, in (0, 1).
    seed : int
        Seed of the random split, >= 0.

    Returns
    -------
    Dataset
        Named after the file's stem ("course" for .mat). X float64 (n, n_features); y keeps the
        file's own labels for .csv/.npz (exactly two classes), 0/1 float64 for .mat.
    """
    test_fraction = check_real(
        "test_fraction", test_fraction, low=0, high=1, low_inclusive=False, high_inclusive=False
    )
    seed = check_int("seed", seed, low=0)
    if isinstance(path, (str, os.PathLike)):
        suffix = Path(path).suffix.lower()
        if suffix not in FILE_SUFFIXES:
            raise ValueError(
                f"data file {str(path)!r} has an unsupported extension {suffix or '(none)'!r}; "
                f"supported: {', '.join(FILE_SUFFIXES)}"
            )
    path = _existing_file(path, "data file")
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return load_course(path)
    if suffix == ".npz":
        return _load_npz(path, test_fraction, seed)
    return _load_csv(path, test_fraction, seed)


def load_points(path, *, n_features: int | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Points to predict, with their labels when the file has them.

    Parameters
    ----------
    path : str or os.PathLike
        ``.csv``: rows of ``n_features`` numbers, optionally followed by a label (a header row
        and a split column are allowed and the split is ignored); without ``n_features`` the
        last column is the label. ``.npz``: array ``X`` and optionally ``y``. ``.mat``: the
        course layout's test split (``Xval``, ``yval``).
    n_features : int, optional
        Features the points must have (a model's input size), >= 1.

    Returns
    -------
    X : ndarray of shape (n_points, n_features), float64
    y : ndarray of shape (n_points,) or None
        The file's own labels, as in ``load_file``.
    """
    if n_features is not None:
        n_features = check_int("n_features", n_features, low=1)
    if isinstance(path, (str, os.PathLike)) and Path(path).suffix.lower() not in FILE_SUFFIXES:
        raise ValueError(
            f"data file {str(path)!r} has an unsupported extension {Path(path).suffix or '(none)'!r}; "
            f"supported: {', '.join(FILE_SUFFIXES)}"
        )
    path = _existing_file(path, "data file")
    suffix = path.suffix.lower()
    if suffix == ".mat":
        course = load_course(path)
        X, y = course.X_test, course.y_test
    elif suffix == ".npz":
        arrays = _read_npz(path)
        if "X" not in arrays:
            raise ValueError(f"{path} must hold an array X (and optionally y); found: {', '.join(arrays) or 'none'}")
        X, y = arrays["X"], arrays.get("y")
    else:
        X, y, _, _ = _parse_csv(path, n_features)
    X = check_X(X, name=f"X in {path}", n_features=n_features)
    if y is not None:
        y = np.asarray(y)
        if y.ndim == 2 and 1 in y.shape:
            y = y.ravel()
        if y.ndim != 1 or y.shape[0] != X.shape[0] or y.dtype == object:
            raise ValueError(
                f"y in {path} must be 1-D with one label per row of X; got y {y.shape} ({y.dtype}) for X {X.shape}"
            )
    return X, y


# --------------------------------------------------------------------------- where the data comes from


def _course_file(cwd, environ) -> Path | None:
    """The course file by the search order, or None; a set but missing variable is an error."""
    local = Path.cwd() if cwd is None else Path(cwd)
    candidate = local / COURSE_LOCAL_PATH
    if candidate.is_file():
        return candidate
    environ = os.environ if environ is None else environ
    value = environ.get(COURSE_ENV_VAR)
    if value:
        path = Path(value)
        if not path.is_file():
            raise FileNotFoundError(
                f"${COURSE_ENV_VAR} is set to {value!r}, which is not an existing file; "
                f"point it at the course's data.mat or unset it"
            )
        return path
    return None


def find_course_file(cwd=None, environ: Mapping[str, str] | None = None) -> Path:
    """Locate the course's data.mat: ``<cwd>/datasets/data.mat``, else ``$REGLAB_COURSE_DATA``.

    Parameters
    ----------
    cwd : str or os.PathLike, optional
        Folder to search from; default the current working directory.
    environ : mapping, optional
        Environment variables; default ``os.environ``.

    Raises
    ------
    FileNotFoundError
        When neither place holds the file (the message names both), or when the variable is set
        to a path that does not exist.
    """
    path = _course_file(cwd, environ)
    if path is None:
        local = (Path.cwd() if cwd is None else Path(cwd)) / COURSE_LOCAL_PATH
        raise FileNotFoundError(
            f"the course's data.mat was not found: looked for {local} and in ${COURSE_ENV_VAR} "
            f"(not set); copy it there or set {COURSE_ENV_VAR}=/path/to/data.mat"
        )
    return path


def resolve_data(data=None, *, cwd=None, environ: Mapping[str, str] | None = None, **generator_options) -> Dataset:
    """The data set a command should use.

    Parameters
    ----------
    data : str, os.PathLike or None
        None: the course's ``<cwd>/datasets/data.mat`` if present, else ``$REGLAB_COURSE_DATA``
        if set (set but missing is a ``FileNotFoundError``), else the built-in
        ``DEFAULT_DATASET``. A built-in name (see ``GENERATORS``; names win over files of the
        same name, write ``./field`` for such a file): ``make_dataset``. Anything else: a path
        for ``load_file``.
    cwd, environ
        Where to search and which environment to read; default the process's own.
    **generator_options
        ``n_samples``, ``noise``, ``test_fraction``, ``seed`` for ``make_dataset``; a value of
        None means the default. Files use only ``test_fraction`` and ``seed``; the course file
        uses neither.

    Returns
    -------
    Dataset
        Its ``source`` says which data set was used and why.
    """
    allowed = ("n_samples", "noise", "test_fraction", "seed")
    unknown = sorted(set(generator_options) - set(allowed))
    if unknown:
        raise TypeError(f"resolve_data got unknown option(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    options = {k: v for k, v in generator_options.items() if v is not None}
    if data is None:
        course = _course_file(cwd, environ)
        if course is not None:
            _refuse_generator_options(options, "the course data")
            dataset = load_course(course)
            via = f" (via ${COURSE_ENV_VAR})" if course != (Path.cwd() if cwd is None else Path(cwd)) / COURSE_LOCAL_PATH else ""
            return _with_source(dataset, dataset.source + via)
        dataset = make_dataset(DEFAULT_DATASET, **options)
        reason = f"no {COURSE_LOCAL_PATH} here and ${COURSE_ENV_VAR} not set"
        return _with_source(dataset, f"{dataset.source}; {reason}")
    if isinstance(data, str) and data in GENERATORS:
        return make_dataset(data, **options)
    if not isinstance(data, (str, os.PathLike)):
        raise TypeError(
            f"data must be a built-in data set name ({', '.join(GENERATORS)}) or a file path; "
            f"got {type(data).__name__}"
        )
    if isinstance(data, str) and not Path(data).suffix and not Path(data).exists():
        raise ValueError(
            f"data must be a built-in data set name ({', '.join(GENERATORS)}) or the path of a "
            f"{'/'.join(FILE_SUFFIXES)} file; got {data!r}, which is neither"
        )
    _refuse_generator_options(options, "a data file")
    return load_file(data, **{k: options[k] for k in ("test_fraction", "seed") if k in options})


def _refuse_generator_options(options: dict, what: str) -> None:
    for key in ("n_samples", "noise"):
        if key in options:
            raise ValueError(f"{key} applies to built-in data sets only; got {key}={options[key]!r} with {what}")
