"""Keys and rows of the results store: what identifies one training run, and what is kept of it.

``config_key`` hashes a run's settings (seed included) with its data set's
``dataset_fingerprint``: keys are stable across processes, platforms and runs, so a sweep started
again finds the runs it already finished. ``result_row`` builds a row keyed that way;
``encode_row`` checks a row and turns it into the values of the store's columns (``COLUMNS``),
``decode_row`` turns them back. The SQLite file itself is ``reglab.store``.
"""

from __future__ import annotations

import hashlib
import json
import math
import numbers
from collections.abc import Mapping
from datetime import datetime, timezone

import numpy as np

from ..config import TrainConfig
from ..validation import describe, check_int, check_real

__all__ = ["DamagedRowError", "config_key", "dataset_fingerprint", "result_row"]

_KEY_LENGTH = 32  # hex digits of sha256 kept: 128 bits
#: The store's columns, in table order; a stored row is one value per column.
COLUMNS = ("key", "dataset", "dataset_name", "seed", "config", "metrics", "seconds", "created")
_REQUIRED_FIELDS = ("key", "config", "dataset", "seed", "metrics")
_OPTIONAL_FIELDS = ("dataset_name", "seconds", "created")


def canonical_json(value) -> str:
    """Sorted keys, no spaces, floats by ``repr`` (shortest round trip), tuples as lists; no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def config_key(config, dataset_fingerprint: str) -> str:
    """The key of one training run: a hash of its settings (seed included) and of its data set.

    Parameters
    ----------
    config : reglab.TrainConfig or mapping
        The run's settings. A mapping is read with ``TrainConfig.from_dict`` first, so equal
        settings give equal keys however they were written (``keep_prob=0.86`` and
        ``keep_prob=(0.86, 0.86)`` for two hidden layers are the same setting).
    dataset_fingerprint : str
        ``dataset_fingerprint(dataset)`` of the data set the run trains and is measured on.

    Returns
    -------
    str
        32 hexadecimal digits: the start of the sha256 of the canonical JSON of
        ``config.to_dict()`` (sorted keys, floats written with ``repr``, so 0.7 and 0.70000001
        differ) together with the fingerprint. Stable across processes, platforms and runs.
    """
    if isinstance(config, Mapping):
        config = TrainConfig.from_dict(dict(config))
    if not isinstance(config, TrainConfig):
        raise TypeError(f"config must be a reglab.TrainConfig or a mapping of its settings; got {describe(config)}")
    check_text("dataset_fingerprint", dataset_fingerprint)
    payload = canonical_json({"config": config.to_dict(), "dataset": dataset_fingerprint})
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:_KEY_LENGTH]


def dataset_fingerprint(dataset, *, dev_split=None) -> str:
    """A sha256 that changes whenever any point, label or split of a data set changes.

    Parameters
    ----------
    dataset : reglab.datasets.Dataset or alike
        Any object with ``X_train`` (n_train, n_features), ``y_train`` (n_train,), ``X_test``
        (n_test, n_features) and ``y_test`` (n_test,), and ``X_dev``, ``y_dev`` if it has a dev
        set (like ``reglab.sweep.DevSplit``). Numbers are hashed as float64 bytes
        together with each array's shape; non-numeric labels (e.g. strings) by their text.
        The name and the description are not hashed: the same points under another name are
        the same data.
    dev_split : JSON-able, optional
        A description of how a dev set is taken from the training set (e.g.
        ``{"fraction": 0.25, "seed": 0}``), hashed as canonical JSON. Default: the data set's
        ``dev_split`` attribute if it has one, else none.

    Returns
    -------
    str
        64 hexadecimal digits.
    """
    digest = hashlib.sha256(b"reglab-dataset/1\n")
    names = ["X_train", "y_train", "X_test", "y_test"]
    names += [name for name in ("X_dev", "y_dev") if getattr(dataset, name, None) is not None]
    for name in names:
        if not hasattr(dataset, name):
            raise TypeError(
                "dataset must have X_train, y_train, X_test and y_test (like reglab.datasets.Dataset); "
                f"{type(dataset).__name__} has no {name!r}"
            )
        kind, data, shape = _array_bytes(name, getattr(dataset, name))
        digest.update(f"{name}:{kind}:{','.join(map(str, shape))}:{len(data)}\n".encode())
        digest.update(data)
    if dev_split is None:
        dev_split = getattr(dataset, "dev_split", None)
    if dev_split is not None:
        try:
            text = canonical_json(dev_split)
        except (TypeError, ValueError):
            raise TypeError(f"dev_split must be JSON-able (dict, list, str, numbers); got {describe(dev_split)}") from None
        digest.update(b"dev_split:" + text.encode("utf-8"))
    return digest.hexdigest()


def _array_bytes(name: str, value) -> tuple[str, bytes, tuple[int, ...]]:
    """(kind, bytes, shape) of one array: little-endian float64 for numbers, UTF-8 text otherwise."""
    array = np.asarray(value)
    if array.dtype.kind in "biuf":
        return "f8", np.ascontiguousarray(array, dtype="<f8").tobytes(), array.shape
    if array.dtype.kind in "USO":
        text = "\x1f".join(str(item) for item in array.ravel())
        return "text", text.encode("utf-8"), array.shape
    raise TypeError(f"dataset.{name} must hold real numbers or text labels; got dtype {array.dtype}")


def result_row(
    config,
    dataset_fingerprint: str,
    metrics: Mapping,
    *,
    dataset_name: str = "",
    seconds: float | None = None,
    created: str | None = None,
) -> dict:
    """A row for ``ResultStore.add_batch``, keyed with ``config_key``.

    Parameters
    ----------
    config : reglab.TrainConfig or mapping
        The run's settings (the seed is ``config.seed``).
    dataset_fingerprint : str
        ``dataset_fingerprint(dataset)``.
    metrics : mapping of str to number, str or None
        E.g. ``train_accuracy``, ``dev_accuracy``, ``test_accuracy``, ``final_cost``.
    dataset_name, seconds, created
        The data set's name, the training time, an ISO time (default: now, UTC).
    """
    if isinstance(config, Mapping):
        config = TrainConfig.from_dict(dict(config))
    key = config_key(config, dataset_fingerprint)
    return {
        "key": key, "config": config.to_dict(), "dataset": dataset_fingerprint, "dataset_name": dataset_name,
        "seed": config.seed, "metrics": metrics, "seconds": seconds, "created": created,
    }


def check_text(name: str, value) -> str:
    """A non-empty string."""
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a non-empty string; got {describe(value)}")
    if not value:
        raise ValueError(f"{name} must be a non-empty string; got ''")
    return value


# --------------------------------------------------------------------------- rows


def _stored_json(value) -> str:
    """Compact JSON keeping the given order of keys (settings, metrics); no NaN."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def utc_now() -> str:
    """The current UTC time, ISO 8601 to the second (a row's default ``created``)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _metric_value(where: str, value):
    """A metric as stored: None, bool, int, finite float or str."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{where} must be finite (use None for a missing value); got {value!r}")
        return number
    raise TypeError(f"{where} must be a number, a string or None; got {describe(value)}")


def encode_row(index: int, row, now: str) -> tuple:
    """``rows[index]`` checked, as the tuple of ``COLUMNS`` values (``now``: the default ``created``)."""
    where = f"rows[{index}]"
    if not isinstance(row, Mapping):
        raise TypeError(f"{where} must be a dict with keys {list(_REQUIRED_FIELDS)}; got {describe(row)}")
    unknown = set(row) - set(_REQUIRED_FIELDS) - set(_OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(
            f"{where} has unknown fields {sorted(map(str, unknown))}; "
            f"allowed: {list(_REQUIRED_FIELDS) + list(_OPTIONAL_FIELDS)}"
        )
    missing = [name for name in _REQUIRED_FIELDS if name not in row]
    if missing:
        raise ValueError(f"{where} lacks the fields {missing}; every row needs {list(_REQUIRED_FIELDS)}")
    key = check_text(f"{where}['key']", row["key"])
    dataset = check_text(f"{where}['dataset']", row["dataset"])
    dataset_name = row.get("dataset_name", "")
    if not isinstance(dataset_name, str):
        raise TypeError(f"{where}['dataset_name'] must be a string; got {describe(dataset_name)}")
    seed = check_int(f"{where}['seed']", row["seed"], low=0)
    config = row["config"]
    if isinstance(config, TrainConfig):
        config = config.to_dict()
    if not isinstance(config, Mapping) or not all(isinstance(name, str) for name in config):
        raise TypeError(f"{where}['config'] must be a dict of settings (or a TrainConfig); got {describe(config)}")
    if "seed" in config and config["seed"] != seed:
        raise ValueError(f"{where}['seed'] is {seed} but its config says seed={config['seed']!r}; they must agree")
    try:
        config_text = _stored_json(dict(config))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}['config'] must hold JSON-able, finite settings ({error})") from None
    metrics = row["metrics"]
    if not isinstance(metrics, Mapping):
        raise TypeError(f"{where}['metrics'] must be a dict of metric name to value; got {describe(metrics)}")
    decoded = {}
    for name, value in metrics.items():
        check_text(f"{where}['metrics'] names", name)
        decoded[name] = _metric_value(f"{where}['metrics'][{name!r}]", value)
    seconds = row.get("seconds")
    if seconds is not None:
        seconds = check_real(f"{where}['seconds']", seconds, low=0)
    created = row.get("created")
    created = now if created is None else check_text(f"{where}['created']", created)
    return (key, dataset, dataset_name, seed, config_text, _stored_json(decoded), seconds, created)


class DamagedRowError(ValueError):
    """A stored row that cannot be what reglab wrote: names the store, the row (its SQLite rowid) and what is wrong.

    The store is left as it is (it may be looked at or repaired with ``sqlite3``).
    """

    def __init__(self, path, row: int, key, problem: str):
        self.path, self.row, self.key, self.problem = str(path), row, key, problem
        shown = f"key {key}" if isinstance(key, str) and key else "no key"
        super().__init__(
            f"results store {self.path!r}, row {row} ({shown}): {problem}; the store was left unchanged: delete that "
            f"row (sqlite3 {self.path!r} \"DELETE FROM results WHERE rowid = {row}\") to train it again, or use another store"
        )


def decode_row(values, path="results store", row: int = 0) -> dict:
    """A stored tuple of ``COLUMNS`` values as a row dict (``config`` and ``metrics`` decoded, ``row`` = ``row``).

    Every value is checked as it is read: a damaged one raises ``DamagedRowError`` naming ``path`` and ``row``.
    """
    decoded = dict(zip(COLUMNS, values), row=row)

    def damaged(problem: str) -> DamagedRowError:
        return DamagedRowError(path, row, decoded.get("key"), problem)

    for name in ("key", "dataset", "created"):
        if not isinstance(decoded[name], str) or not decoded[name]:
            raise damaged(f"its {name} is {describe(decoded[name])}, not a non-empty text")
    if not isinstance(decoded["dataset_name"], str):
        raise damaged(f"its dataset_name is {describe(decoded['dataset_name'])}, not a text")
    if not isinstance(decoded["seed"], int) or decoded["seed"] < 0:
        raise damaged(f"its seed is {describe(decoded['seed'])}, not an integer >= 0")
    seconds = decoded["seconds"]
    if seconds is not None and (not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0):
        raise damaged(f"its seconds is {describe(seconds)}, not a number >= 0")
    for name in ("config", "metrics"):
        try:
            value = json.loads(decoded[name]) if isinstance(decoded[name], str) else None
        except ValueError as error:
            raise damaged(f"its {name} is not JSON ({error})") from None
        if not isinstance(value, dict):
            raise damaged(f"its {name} is {describe(decoded[name])}, not a JSON object")
        decoded[name] = value
    for name, value in decoded["metrics"].items():
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if not (value is None or isinstance(value, (bool, str)) or (number and math.isfinite(value))):
            raise damaged(f"its metric {name!r} is {describe(value)}, not a finite number, a text or null")
    return decoded
