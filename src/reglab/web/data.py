"""The data sets the page uses: built-ins, the course's file, uploaded files held in memory, drawn points.

A data set is named by a JSON spec (the page keeps it in its URL, so a link names the same data)::

    {"kind": "builtin", "name": "field", "n_samples": 400, "noise": 0.15, "test_fraction": 0.5, "seed": 0}
    {"kind": "course"}
    {"kind": "upload", "upload": "<id>", "test_fraction": 0.5, "seed": 0}
    {"kind": "points", "points": [[x1, x2, label 0|1, test 0|1], ...]}

Uploads are parsed in memory by the library's loaders and kept by the sha-256 of their bytes, so the
same file uploaded again has the same id (a shared link works again after a re-upload).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

import numpy as np

from ..datasets import Dataset, GENERATOR_DEFAULTS, GENERATORS, load_bytes, make_dataset, resolve_data
from ..datasets.resolve import COURSE_ENV_VAR, COURSE_LOCAL_PATH
from . import limits

__all__ = ["DataError", "Uploads", "course_status", "dataset_from_spec", "points_json", "builtins_json"]

SUFFIX_BY_TYPE = {"text/csv": ".csv", "application/csv": ".csv", "application/x-npz": ".npz", "application/zip": ".npz",
                  "application/x-matlab-data": ".mat", "application/x-mat": ".mat"}


class DataError(ValueError):
    """A data set the page cannot use; ``field`` names the data option at fault (or None)."""

    def __init__(self, message: str, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


def builtins_json() -> list[dict]:
    return [{"name": name, "description": GENERATORS[name], **GENERATOR_DEFAULTS[name]} for name in GENERATORS]


def course_status() -> dict:
    """Whether the course's data.mat is found by ``reglab compare``'s search, and where, in words."""
    return _course()[1]


def _course() -> tuple[Dataset | None, dict]:
    """The course's data set as ``reglab compare`` finds it (None if not found), and ``course_status``'s answer."""
    try:
        dataset = resolve_data(None)
    except (OSError, ValueError) as error:
        return None, {"found": False, "message": str(error)}
    if dataset.name != "course":
        return None, {"found": False, "message": f"the course's data.mat was not found: no {COURSE_LOCAL_PATH} in the "
                      f"folder reglab serve started in, and ${COURSE_ENV_VAR} is not set"}
    return dataset, {"found": True, "message": dataset.source, "n_train": len(dataset.y_train),
                     "n_test": len(dataset.y_test)}


class Uploads:
    """Uploaded files, parsed in memory, the most recent ``KEPT_UPLOADS`` kept by content id."""

    def __init__(self, keep: int = limits.KEPT_UPLOADS):
        self._files: OrderedDict[str, tuple[str, bytes]] = OrderedDict()
        self._keep = keep
        self._lock = threading.Lock()

    def add(self, data: bytes, name: str, content_type: str = "") -> tuple[str, Dataset]:
        """Parse and keep an upload; returns (id, its data set at the default split). Refuses bad files."""
        name = (name or "").strip() or "upload"
        suffix = SUFFIX_BY_TYPE.get(content_type.split(";")[0].strip().lower())
        if not name.lower().endswith((".csv", ".npz", ".mat")):
            if suffix is None:
                raise DataError(f"cannot tell the type of {name!r}: name the file .csv, .npz or .mat, or send it with "
                                f"Content-Type text/csv, application/x-npz or application/x-matlab-data", "file")
            name += suffix
        dataset = self._parse(data, name, 0.5, 0)
        upload_id = hashlib.sha256(data).hexdigest()[:16]
        with self._lock:
            self._files[upload_id] = (name, data)
            self._files.move_to_end(upload_id)
            while len(self._files) > self._keep:
                self._files.popitem(last=False)
        return upload_id, dataset

    def dataset(self, upload_id: str, test_fraction: float, seed: int) -> Dataset:
        with self._lock:
            found = self._files.get(upload_id)
        if found is None:
            raise DataError("the uploaded file of this page is no longer on the server (it keeps the last "
                            f"{self._keep} uploads, and none after a restart): upload it again", "file", status=404)
        return self._parse(found[1], found[0], test_fraction, seed)

    @staticmethod
    def _parse(data: bytes, name: str, test_fraction: float, seed: int) -> Dataset:
        try:
            dataset = load_bytes(data, name, test_fraction=test_fraction, seed=seed)
        except (ValueError, TypeError, MemoryError) as error:  # MemoryError: a small file declaring huge arrays
            raise DataError(str(error), "file") from None
        return _checked(dataset, f"{name}")


def _checked(dataset: Dataset, what: str) -> Dataset:
    n = len(dataset.y_train) + len(dataset.y_test)
    if dataset.n_features != 2:
        raise DataError(f"{what} has {dataset.n_features} features; the page plots two (x1, x2). Train it with "
                        f"`reglab train --data FILE` instead", "file")
    if n > limits.MAX_POINTS:
        raise DataError(f"{what} has {n} points; the page takes at most {limits.MAX_POINTS}", "n_samples")
    return dataset


def _number(spec: dict, key: str, default):
    value = spec.get(key, default)
    return default if value is None else value


def dataset_from_spec(spec, uploads: Uploads) -> Dataset:
    """The data set a JSON spec names (module docstring); a ``DataError`` naming the field otherwise."""
    if not isinstance(spec, dict):
        raise DataError("data must be an object such as {\"kind\": \"builtin\", \"name\": \"field\"}", "data")
    kind = spec.get("kind", "builtin")
    try:
        if kind == "builtin":
            name = spec.get("name", "field")
            if name not in GENERATORS:
                raise DataError(f"data set must be one of {', '.join(GENERATORS)}; got {name!r}", "name")
            n = _number(spec, "n_samples", GENERATOR_DEFAULTS[name]["n_samples"])
            if isinstance(n, (int, float)) and n > limits.MAX_POINTS:
                raise DataError(f"n_samples must be at most {limits.MAX_POINTS} in the page; got {n}", "n_samples")
            return make_dataset(name, n_samples=n, noise=spec.get("noise"), test_fraction=spec.get("test_fraction"),
                                seed=_number(spec, "seed", 0))
        if kind == "course":
            dataset, status = _course()
            if dataset is None:
                raise DataError(status["message"], "kind", status=404)
            return dataset
        if kind == "upload":
            return uploads.dataset(str(spec.get("upload", "")), _number(spec, "test_fraction", 0.5),
                                   _number(spec, "seed", 0))
        if kind == "points":
            return _drawn(spec.get("points"))
    except DataError:
        raise
    except (ValueError, TypeError) as error:
        raise DataError(str(error), getattr(error, "parameter", None)) from None
    raise DataError(f"data kind must be builtin, course, upload or points; got {kind!r}", "kind")


def _drawn(points) -> Dataset:
    """Points drawn on the page: rows [x1, x2, label 0|1, test 0|1]."""
    try:
        table = np.asarray(points, dtype=float)
    except (TypeError, ValueError):
        table = np.zeros((0, 0))
    if table.ndim != 2 or table.shape[1] != 4 or not np.all(np.isfinite(table)):
        raise DataError("drawn points must be rows [x1, x2, label 0 or 1, test 0 or 1] of finite numbers", "points")
    if len(table) > limits.MAX_POINTS:
        raise DataError(f"at most {limits.MAX_POINTS} points can be drawn; got {len(table)}", "points")
    if not (np.isin(table[:, 2], (0, 1)).all() and np.isin(table[:, 3], (0, 1)).all()):
        raise DataError("a drawn point's label and test mark must be 0 or 1", "points")
    test = table[:, 3] == 1
    train_labels = set(table[~test, 2].tolist())
    if train_labels != {0.0, 1.0}:
        raise DataError(f"draw training points of both classes to train on (now {int((~test).sum())} training points"
                        f"{', all of one class' if len(train_labels) == 1 else ''}): click on the plot", "points")
    if not test.any():
        raise DataError("draw at least one test point (hollow squares; the points you draw go to the test set by the "
                        "test fraction)", "points")
    return Dataset("drawn", table[~test, :2], table[~test, 2], table[test, :2], table[test, 2],
                   f"points drawn on the page ({int((~test).sum())} train / {int(test.sum())} test)")


def points_json(dataset: Dataset) -> dict:
    """The points of a data set for the page: x1, x2 and the class (0/1, by the sorted labels) of each."""
    classes = dataset.classes

    def rows(X, y):
        labels = (np.asarray(y).astype(str) == str(classes[1])) if np.asarray(y).dtype.kind not in "biuf" \
            else (np.asarray(y) == classes[1])
        return [[float(a), float(b), int(c)] for (a, b), c in zip(X, labels)]

    return {**dataset.to_dict(), "train": rows(dataset.X_train, dataset.y_train),
            "test": rows(dataset.X_test, dataset.y_test)}

