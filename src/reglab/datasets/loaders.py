"""Reading data sets from files: the course's .mat layout, .csv and .npz, validated.

``load_file`` picks the reader by extension and returns a ``Dataset`` (train and test split);
``load_points`` reads points to predict, with their labels when the file has them. Every
unreadable or malformed file becomes one clear ``ValueError``/``TypeError``/``FileNotFoundError``
that names the file. All three functions are importable from ``reglab.datasets``.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import numpy as np

from .. import memory, npzfile
from .csvfile import CsvLayout, csv_layout, csv_part, csv_rows, label_array, parse_csv
from .dataset import Dataset, split_sizes
from ..validation import binary_labels, check_int, check_real, check_X

__all__ = ["FILE_SUFFIXES", "Upload", "load_bytes", "load_course", "load_file", "load_points", "iter_points",
           "POINTS_CHUNK"]

FILE_SUFFIXES = (".mat", ".csv", ".npz")


def _existing_file(path, what: str = "path") -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{what} must be a file path (str or os.PathLike); got {type(path).__name__}")
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{what} {str(path)!r} does not exist")
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} is not a file")
    try:  # one message for every format (SciPy would call an unreadable .mat "not a MATLAB file")
        with open(path, "rb"):
            pass
    except PermissionError:
        raise PermissionError(f"{what} {str(path)!r} cannot be read: permission denied") from None
    return path


def _data_file(path) -> Path:
    """An existing file with one of ``FILE_SUFFIXES`` (checked first, so a missing .txt is named as unsupported)."""
    if isinstance(path, (str, os.PathLike)) and Path(path).suffix.lower() not in FILE_SUFFIXES:
        raise ValueError(
            f"data file {str(path)!r} has an unsupported extension {Path(path).suffix or '(none)'!r}; "
            f"supported: {', '.join(FILE_SUFFIXES)}"
        )
    return _existing_file(path, "data file")


def _flat_labels(y) -> np.ndarray:
    """Labels as an array; a (n, 1) column or (1, n) row becomes (n,)."""
    y = np.asarray(y)
    return y.ravel() if y.ndim == 2 and 1 in y.shape else y


def _assemble(
    name: str, source: str, where: str, X_train, y_train, X_test, y_test, *, encode: bool
) -> Dataset:
    """Validate both splits together; ``encode`` turns the labels into 0/1 float64."""
    X_train = check_X(X_train, name=f"X_train in {where}")
    X_test = check_X(X_test, name=f"X_test in {where}", n_features=X_train.shape[1])
    ys = []
    for label, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        y = _flat_labels(y)
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


class Upload(NamedTuple):
    """A data file's bytes received in memory (e.g. by the web page), read like a file of that name."""

    name: str  # the file's name, e.g. "points.csv": its suffix picks the reader
    data: bytes

    @property
    def stem(self) -> str:
        return Path(self.name).stem

    @property
    def suffix(self) -> str:
        return Path(self.name).suffix

    def __str__(self) -> str:
        return self.name


def _what(source: Path | Upload) -> str:
    """How a data set's ``source`` line names where it came from."""
    return f"uploaded file {source.name}" if isinstance(source, Upload) else f"file {source}"


def _check_mat_size(path: Path | Upload) -> None:
    """Refuse (MemoryError) a .mat file whose variables would not fit in memory, from its headers only."""
    from scipy.io import whosmat

    try:
        variables = whosmat(io.BytesIO(path.data) if isinstance(path, Upload) else path)
    except Exception:  # malformed: loadmat says how, below
        return
    limit = memory.memory_limit()
    sizes = {name: math.prod(shape) * 8 for name, shape, _ in variables}  # as float64, what reglab makes of them
    if sum(sizes.values()) > limit:
        name = max(sizes, key=sizes.get)
        shape = next(shape for n, shape, _ in variables if n == name)
        raise MemoryError(
            f"data file {str(path)!r} declares variables of {memory.shown_bytes(sum(sizes.values()))} as float64, more "
            f"than the {memory.shown_bytes(limit)} allowed (half the memory available): its variable {name!r} has "
            f"shape {shape}; nothing was read"
        )


def _read_mat(path: Path | Upload) -> dict:
    from scipy.io import loadmat  # lazy: SciPy is only needed for .mat files

    _check_mat_size(path)
    try:
        return loadmat(io.BytesIO(path.data) if isinstance(path, Upload) else path)
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
    return _load_course(_existing_file(path))


def _load_course(path: Path | Upload) -> Dataset:
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
        "course", f"course data from {path}" if isinstance(path, Path) else f"course data from {_what(path)}", str(path),
        contents["X"], contents["y"], contents["Xval"], contents["yval"], encode=True,
    )


def _split_random(
    X: np.ndarray, y: np.ndarray, test_fraction: float, seed: int, where: str
) -> tuple[np.ndarray, ...]:
    n_train, n_test = split_sizes(len(X), test_fraction, f"the {len(X)} rows of {where}")
    order = np.random.default_rng(seed).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], y[train], X[test], y[test]


def _read_npz(path: Path | Upload) -> dict[str, np.ndarray]:
    if isinstance(path, Path):
        with open(path, "rb") as handle:
            magic = handle.read(4)
    else:
        magic = path.data[:4]
    if magic not in (b"PK\x03\x04", b"PK\x05\x06"):  # every .npz is a zip archive
        raise ValueError(f"{path} is not an .npz archive: it does not start like a zip file")
    try:  # before anything is allocated
        npzfile.check_declared(path if isinstance(path, Path) else io.BytesIO(path.data), "data file", name=str(path))
    except ValueError:  # malformed: np.load below says how
        pass
    arrays = {}
    # our own handle: closed even when NumPy fails half-way
    with (open(path, "rb") if isinstance(path, Path) else io.BytesIO(path.data)) as handle:
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


def _load_npz(path: Path | Upload, test_fraction: float, seed: int) -> Dataset:
    arrays = _read_npz(path)
    split_keys = ("X_train", "y_train", "X_test", "y_test")
    found = ", ".join(arrays) or "none"
    if all(k in arrays for k in split_keys):
        parts = [arrays[k] for k in split_keys]
        how = "its own train/test split"
    elif "X" in arrays and "y" in arrays and not any(k in arrays for k in split_keys):
        X = check_X(arrays["X"], name=f"X in {path}")
        y = _flat_labels(arrays["y"])
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
    return replace(dataset, source=f"{_what(path)} ({_counts(dataset)}, {how})")


def _counts(dataset: Dataset) -> str:
    return f"{len(dataset.X_train)} train / {len(dataset.X_test)} test"


def _load_csv(path: Path | Upload, test_fraction: float, seed: int) -> Dataset:
    X, y, splits, split_name = parse_csv(path)
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
    return replace(dataset, source=f"{_what(path)} ({_counts(dataset)}, {how})")


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
    path = path if isinstance(path, Upload) else _data_file(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        return _load_course(path)
    if suffix == ".npz":
        return _load_npz(path, test_fraction, seed)
    return _load_csv(path, test_fraction, seed)


def load_bytes(data: bytes, name: str, *, test_fraction: float = 0.5, seed: int = 0) -> Dataset:
    """Load a data set from a file's bytes held in memory, read as ``load_file`` reads a file named ``name``.

    Nothing is written to disk: this is how the web page reads an uploaded file. ``name`` (e.g.
    ``"points.csv"``) picks the reader by its suffix and names the data in messages and ``source``.
    """
    if not isinstance(data, (bytes, bytearray)):
        raise TypeError(f"data must be bytes; got {type(data).__name__}")
    if not isinstance(name, str) or Path(name).suffix.lower() not in FILE_SUFFIXES:
        raise ValueError(f"the file name {name!r} must end in one of {', '.join(FILE_SUFFIXES)}: it tells how to "
                         f"read the file")
    return load_file(Upload(name, bytes(data)), test_fraction=test_fraction, seed=seed)


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
    path = _data_file(path)
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
        X, y, _, _ = parse_csv(path, n_features)
    return _checked_points(path, X, y, n_features)


def _checked_points(path: Path, X, y, n_features: int | None) -> tuple[np.ndarray, np.ndarray | None]:
    X = check_X(X, name=f"X in {path}", n_features=n_features)
    if y is not None:
        y = _flat_labels(y)
        if y.ndim != 1 or y.shape[0] != X.shape[0] or y.dtype == object:
            raise ValueError(
                f"y in {path} must be 1-D with one label per row of X; got y {y.shape} ({y.dtype}) for X {X.shape}"
            )
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise ValueError(f"y in {path} must hold finite labels; got NaN or infinite values")
    return X, y


#: Points ``iter_points`` reads at a time: a few MB of arrays, and a model's forward pass over them about 40 MB.
POINTS_CHUNK = 65536


def iter_points(path, *, n_features: int | None = None, chunk_rows: int = POINTS_CHUNK
                ) -> Iterator[tuple[np.ndarray, np.ndarray | None]]:
    """The points of a data file, as ``load_points`` reads them, ``chunk_rows`` rows at a time.

    For files of any size: a ``.csv`` is read as it comes and an ``.npz`` entry a chunk at a time
    (``X`` and ``y`` must declare the same number of rows); a ``.mat`` file (the course layout, small)
    is read whole, after its declared size is checked against the memory.

    Yields
    ------
    X : ndarray of shape (k, n_features), float64, k <= chunk_rows
    y : ndarray of shape (k,) or None
        Labels as in ``load_points``: a ``.csv`` chunk's labels are numbers when each of that chunk's
        labels is a number.
    """
    if n_features is not None:
        n_features = check_int("n_features", n_features, low=1)
    chunk_rows = check_int("chunk_rows", chunk_rows, low=1)
    path = _data_file(path)
    suffix = path.suffix.lower()
    if suffix == ".mat":
        course = load_course(path)
        for start in range(0, len(course.X_test), chunk_rows):
            yield course.X_test[start:start + chunk_rows], course.y_test[start:start + chunk_rows]
    elif suffix == ".npz":
        yield from _npz_points(path, n_features, chunk_rows)
    else:
        yield from _csv_points(path, n_features, chunk_rows)


def _npz_points(path: Path, n_features: int | None, chunk_rows: int):
    with open(path, "rb") as handle:
        if handle.read(4) not in (b"PK\x03\x04", b"PK\x05\x06"):
            raise ValueError(f"{path} is not an .npz archive: it does not start like a zip file")
    found = npzfile.entries(path, "data file")
    if "X" not in found:
        raise ValueError(f"{path} must hold an array X (and optionally y); found: {', '.join(found) or 'none'}")
    X_entry, y_entry = found["X"], found.get("y")
    if len(X_entry.shape) != 2:
        raise ValueError(f"X in {path} must be 2-D (n_samples, n_features); got shape {X_entry.shape}")
    if y_entry is not None and (not y_entry.shape or y_entry.shape[0] != X_entry.shape[0]):
        raise ValueError(f"y in {path} must be 1-D with one label per row of X; got y {y_entry.shape} for X "
                         f"{X_entry.shape}")
    if n_features is not None and X_entry.shape[1] != n_features:  # as check_X says it, before anything is read
        raise ValueError(f"X in {path} must have {n_features} features (columns); got {X_entry.shape[1]}")
    ys = npzfile.rows(path, "y", chunk_rows, "data file") if y_entry is not None else None
    for X in npzfile.rows(path, "X", chunk_rows, "data file"):
        y = next(ys) if ys is not None else None
        yield _checked_points(path, X, y, n_features)


def _csv_points(path: Path, n_features: int | None, chunk_rows: int):
    rows = csv_rows(path)
    first = next(rows, None)
    if first is None:
        raise ValueError(f"{path} is empty: expected rows of x1,x2,...,label")
    layout = csv_layout(path, first[1], n_features)
    chunk = [] if layout.header is not None else [first]
    seen = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) == chunk_rows:
            yield _csv_chunk(path, layout, chunk, n_features)
            seen, chunk = seen + len(chunk), []
    if chunk or not seen:
        if not chunk:
            raise ValueError(f"{path} has a header row but no data rows")
        yield _csv_chunk(path, layout, chunk, n_features)


def _csv_chunk(path: Path, layout: CsvLayout, rows, n_features: int | None):
    X, labels, _ = csv_part(path, layout, rows)
    return _checked_points(path, X, None if layout.label_column is None else label_array(labels), n_features)
