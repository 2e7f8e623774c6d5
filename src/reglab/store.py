"""The results store: one SQLite row per (configuration, seed) on one data set, resumable.

A sweep computes a key for every configuration with ``config_key`` (a hash of the settings,
seed included, and of the data set's ``dataset_fingerprint``), asks ``ResultStore.missing``
which keys still need training, trains them batch by batch and hands each finished batch to
``ResultStore.add_batch``. Every batch is one SQLite transaction, so a process killed at any
moment leaves either the whole batch or none of it, and running the sweep again trains only
what is missing. A key already stored is never stored twice.

The file is recognised as ours by ``PRAGMA application_id``, a ``reglab_meta`` table (format
name, reglab version, creation time) and ``PRAGMA user_version`` (the schema version). A file
that is not SQLite, is damaged, belongs to another application or has another schema version
is refused with a ``ValueError`` before anything is written to it.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import math
import numbers
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from . import __version__
from .config import TrainConfig
from .files import atomic_path
from .validation import check_int, check_real

__all__ = ["STORE_SCHEMA_VERSION", "STORE_FORMAT", "ResultStore", "config_key", "dataset_fingerprint", "result_row"]

STORE_SCHEMA_VERSION = 1
STORE_FORMAT = "reglab-results"
#: ``PRAGMA application_id`` of a reglab store: the ASCII bytes "rglb".
APPLICATION_ID = int.from_bytes(b"rglb", "big")

_SQLITE_HEADER = b"SQLite format 3\x00"
_KEY_LENGTH = 32  # hex digits of sha256 kept: 128 bits
_COLUMNS = ("key", "dataset", "dataset_name", "seed", "config", "metrics", "seconds", "created")
_REQUIRED_FIELDS = ("key", "config", "dataset", "seed", "metrics")
_OPTIONAL_FIELDS = ("dataset_name", "seconds", "created")
_JOINED_SETTINGS = ("hidden_layer_sizes",)  # one CSV cell "20-3"; other sequences get one column per item
_IN_CHUNK = 500  # keys per "IN (...)" query, well below SQLite's limit on bound parameters

_SCHEMA = f"""
CREATE TABLE reglab_meta (
    name  TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE results (
    key          TEXT PRIMARY KEY NOT NULL,
    dataset      TEXT NOT NULL,
    dataset_name TEXT NOT NULL,
    seed         INTEGER NOT NULL,
    config       TEXT NOT NULL,
    metrics      TEXT NOT NULL,
    seconds      REAL,
    created      TEXT NOT NULL
);
CREATE INDEX results_dataset ON results (dataset);
PRAGMA application_id = {APPLICATION_ID};
PRAGMA user_version = {STORE_SCHEMA_VERSION};
"""


# --------------------------------------------------------------------------- keys


def _canonical_json(value) -> str:
    """Sorted keys, no spaces, floats by ``repr`` (shortest round trip), tuples as lists; no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _stored_json(value) -> str:
    """Like ``_canonical_json`` but keeping the given order of keys (settings, metrics)."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


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
        raise TypeError(f"config must be a reglab.TrainConfig or a mapping of its settings; got {_describe(config)}")
    _check_text("dataset_fingerprint", dataset_fingerprint)
    payload = _canonical_json({"config": config.to_dict(), "dataset": dataset_fingerprint})
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
            text = _canonical_json(dev_split)
        except (TypeError, ValueError):
            raise TypeError(f"dev_split must be JSON-able (dict, list, str, numbers); got {_describe(dev_split)}") from None
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


# --------------------------------------------------------------------------- row checks


def _check_text(name: str, value) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a non-empty string; got {_describe(value)}")
    if not value:
        raise ValueError(f"{name} must be a non-empty string; got ''")
    return value


def _now() -> str:
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
    raise TypeError(f"{where} must be a number, a string or None; got {_describe(value)}")


def _encode_row(index: int, row, now: str) -> tuple:
    """One validated row as the tuple of ``_COLUMNS`` values."""
    where = f"rows[{index}]"
    if not isinstance(row, Mapping):
        raise TypeError(f"{where} must be a dict with keys {list(_REQUIRED_FIELDS)}; got {_describe(row)}")
    unknown = set(row) - set(_REQUIRED_FIELDS) - set(_OPTIONAL_FIELDS)
    if unknown:
        raise ValueError(
            f"{where} has unknown fields {sorted(map(str, unknown))}; "
            f"allowed: {list(_REQUIRED_FIELDS) + list(_OPTIONAL_FIELDS)}"
        )
    missing = [name for name in _REQUIRED_FIELDS if name not in row]
    if missing:
        raise ValueError(f"{where} lacks the fields {missing}; every row needs {list(_REQUIRED_FIELDS)}")
    key = _check_text(f"{where}['key']", row["key"])
    dataset = _check_text(f"{where}['dataset']", row["dataset"])
    dataset_name = row.get("dataset_name", "")
    if not isinstance(dataset_name, str):
        raise TypeError(f"{where}['dataset_name'] must be a string; got {_describe(dataset_name)}")
    seed = check_int(f"{where}['seed']", row["seed"], low=0)
    config = row["config"]
    if isinstance(config, TrainConfig):
        config = config.to_dict()
    if not isinstance(config, Mapping) or not all(isinstance(name, str) for name in config):
        raise TypeError(f"{where}['config'] must be a dict of settings (or a TrainConfig); got {_describe(config)}")
    if "seed" in config and config["seed"] != seed:
        raise ValueError(f"{where}['seed'] is {seed} but its config says seed={config['seed']!r}; they must agree")
    try:
        config_text = _stored_json(dict(config))
    except (TypeError, ValueError) as error:
        raise TypeError(f"{where}['config'] must hold JSON-able, finite settings ({error})") from None
    metrics = row["metrics"]
    if not isinstance(metrics, Mapping):
        raise TypeError(f"{where}['metrics'] must be a dict of metric name to value; got {_describe(metrics)}")
    decoded = {}
    for name, value in metrics.items():
        _check_text(f"{where}['metrics'] names", name)
        decoded[name] = _metric_value(f"{where}['metrics'][{name!r}]", value)
    seconds = row.get("seconds")
    if seconds is not None:
        seconds = check_real(f"{where}['seconds']", seconds, low=0)
    created = row.get("created")
    created = now if created is None else _check_text(f"{where}['created']", created)
    return (key, dataset, dataset_name, seed, config_text, _stored_json(decoded), seconds, created)


def _decode_row(values) -> dict:
    row = dict(zip(_COLUMNS, values))
    row["config"], row["metrics"] = json.loads(row["config"]), json.loads(row["metrics"])
    return row


# --------------------------------------------------------------------------- opening


def _store_error(path: Path, detail: str) -> ValueError:
    return ValueError(f"results store {str(path)!r} {detail}; it was left unchanged")


def _inspect(path: Path) -> str:
    """Check an existing file without writing to it. Returns "store" or "empty" (an empty SQLite file).

    Raises ValueError for anything that is not a reglab store of this schema version.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        raise _store_error(path, "is not a SQLite database (its first bytes are not a SQLite header)")
    # With no journal beside it, the file alone is the database: read it as immutable so that
    # SQLite neither locks it nor creates -wal/-shm files next to someone else's file.
    live = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
    uri = path.resolve().as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    try:
        connection = sqlite3.connect(uri, uri=True, timeout=30)
    except sqlite3.Error as error:
        raise _store_error(path, f"cannot be opened read-only ({error})") from None
    try:
        check = [r[0] for r in connection.execute("PRAGMA quick_check(5)").fetchall()]
        if check != ["ok"]:
            raise _store_error(path, f"is a damaged SQLite database (quick_check: {'; '.join(check)})")
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        user_version = connection.execute("PRAGMA user_version").fetchone()[0]
        objects = connection.execute("SELECT type, name FROM sqlite_master").fetchall()
        tables = sorted(name for kind, name in objects if kind == "table")
        if not objects and application_id == 0 and user_version == 0:
            return "empty"
        if "reglab_meta" not in tables:
            if application_id == APPLICATION_ID:
                raise _store_error(path, "is a damaged reglab results store (its reglab_meta table is missing)")
            shown = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "") or "none"
            raise _store_error(
                path, f"is a SQLite database of another application, not a reglab results store (tables: {shown})"
            )
        meta = dict(connection.execute("SELECT name, value FROM reglab_meta").fetchall())
        if meta.get("format") != STORE_FORMAT:
            raise _store_error(
                path, f"is not a reglab results store (reglab_meta format is {meta.get('format')!r}, not {STORE_FORMAT!r})"
            )
        if user_version != STORE_SCHEMA_VERSION:
            raise _store_error(
                path,
                f"has schema version {user_version} (written by reglab {meta.get('reglab_version', '?')}); "
                f"this reglab ({__version__}) reads schema version {STORE_SCHEMA_VERSION}",
            )
        columns = {r[1] for r in connection.execute("PRAGMA table_info(results)").fetchall()}
        lacking = [name for name in _COLUMNS if name not in columns]
        if lacking:
            raise _store_error(path, f"is a damaged reglab results store (table 'results' lacks columns {lacking})")
        return "store"
    except sqlite3.Error as error:
        raise _store_error(path, f"is not a readable SQLite database ({error})") from None
    finally:
        connection.close()


class ResultStore:
    """Training results in a SQLite file: one row per key (configuration and seed on one data set).

    Parameters
    ----------
    path : str or os.PathLike
        The database file. A missing or empty file becomes a new store (with ``create=True``);
        an existing one must be a reglab results store of schema ``STORE_SCHEMA_VERSION``.
    create : bool
        Whether a missing or empty file may be made into a new store. With ``False`` a missing
        file raises ``FileNotFoundError`` and an empty one ``ValueError``.
    timeout : float
        Seconds to wait for another process's write to finish before giving up.

    Raises
    ------
    ValueError
        The file is not SQLite, is damaged, belongs to another application or has another
        schema version. Such a file is checked read-only and never modified.

    Notes
    -----
    The store uses SQLite's write-ahead log, so readers see complete batches while a writer
    adds more. It is meant for a local disk: SQLite's locking is unreliable on network file
    systems. Use it from the thread that opened it; use it as a context manager or call
    ``close``.
    """

    def __init__(self, path, *, create: bool = True, timeout: float = 30.0):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike); got {_describe(path)}")
        if not isinstance(create, bool):
            raise TypeError(f"create must be True or False; got {_describe(create)}")
        timeout = check_real("timeout", timeout, low=0)
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise ValueError(f"results store {str(self.path)!r} is a directory; give a file path")
        if not self.path.exists():
            if not create:
                raise FileNotFoundError(f"results store {str(self.path)!r} does not exist (create=False)")
            if not self.path.parent.is_dir():
                raise FileNotFoundError(f"folder {str(self.path.parent)!r} of results store {str(self.path)!r} does not exist")
            state = "empty"
        else:
            state = _inspect(self.path) if self.path.stat().st_size > 0 else "empty"
        if state == "empty" and not create:
            raise ValueError(f"results store {str(self.path)!r} is an empty file, not a store yet (create=False)")
        connection = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            if state == "empty":
                self._create_schema(connection)
            connection.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _create_schema(self, connection: sqlite3.Connection) -> None:
        """Create the tables in one transaction, unless another process created them meanwhile."""
        connection.execute("BEGIN IMMEDIATE")
        try:
            if connection.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0:
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        connection.execute(statement)
                connection.executemany(
                    "INSERT INTO reglab_meta (name, value) VALUES (?, ?)",
                    [
                        ("format", STORE_FORMAT),
                        ("schema_version", str(STORE_SCHEMA_VERSION)),
                        ("reglab_version", __version__),
                        ("created", _now()),
                    ],
                )
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        _inspect(self.path)  # whoever created it, it must now be a store of our version

    # ----------------------------------------------------------------- plumbing

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError(f"results store {str(self.path)!r} is closed")
        return self._connection

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._db
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def close(self) -> None:
        """Close the database (idempotent)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._connection is None else f"{len(self)} rows"
        return f"ResultStore({str(self.path)!r}, {state})"

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM results").fetchone()[0]

    @property
    def meta(self) -> dict:
        """The ``reglab_meta`` entries: format, schema_version, reglab_version, created."""
        return dict(self._db.execute("SELECT name, value FROM reglab_meta").fetchall())

    # ----------------------------------------------------------------- queries

    def has(self, key: str) -> bool:
        """Whether a row with this key is stored."""
        _check_text("key", key)
        return self._db.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone() is not None

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys (in the given order, each once) that are not stored yet: what still needs training."""
        if isinstance(keys, str) or not isinstance(keys, Iterable):
            raise TypeError(f"keys must be an iterable of key strings; got {_describe(keys)}")
        wanted = list(dict.fromkeys(_check_text(f"keys[{i}]", k) for i, k in enumerate(keys)))
        stored: set[str] = set()
        connection = self._db
        for start in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            stored.update(r[0] for r in connection.execute(f"SELECT key FROM results WHERE key IN ({marks})", chunk))
        return [key for key in wanted if key not in stored]

    def add_batch(self, rows) -> int:
        """Store finished runs in one transaction; keys already stored are left as they are.

        Parameters
        ----------
        rows : list of dict
            Each with ``key`` (str), ``config`` (dict of settings, or a TrainConfig),
            ``dataset`` (the fingerprint, str), ``seed`` (int, equal to the config's seed if it
            has one) and ``metrics`` (dict of name to number, str or None); optionally
            ``dataset_name`` (str), ``seconds`` (float >= 0) and ``created`` (ISO time; default
            now, UTC). ``result_row`` builds one.

        Returns
        -------
        int
            How many rows were inserted (rows whose key was already stored, or repeated in the
            batch, are not).

        Notes
        -----
        All rows are checked before anything is written; a batch is stored entirely or not at
        all, even if the process is killed during the call.
        """
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
            raise TypeError(f"rows must be a list of row dicts; got {_describe(rows)}")
        now = _now()
        encoded = [_encode_row(i, row, now) for i, row in enumerate(rows)]
        if not encoded:
            return 0
        with self._transaction() as connection:
            before = connection.total_changes
            connection.executemany(
                f"INSERT INTO results ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))}) "
                "ON CONFLICT (key) DO NOTHING",
                encoded,
            )
            return connection.total_changes - before

    def rows(self, *, dataset: str | None = None) -> list[dict]:
        """Every stored row (decoded: ``config`` and ``metrics`` as dicts) in insertion order.

        Parameters
        ----------
        dataset : str, optional
            Only rows of this data set fingerprint.
        """
        query = f"SELECT {', '.join(_COLUMNS)} FROM results"
        arguments: tuple = ()
        if dataset is not None:
            query += " WHERE dataset = ?"
            arguments = (_check_text("dataset", dataset),)
        return [_decode_row(r) for r in self._db.execute(query + " ORDER BY rowid", arguments)]

    def to_csv(self, path, *, dataset: str | None = None) -> Path:
        """Write the stored rows as CSV, one line per (configuration, seed); atomically.

        Columns: ``key, dataset_name, dataset, seed``, then every setting (sequences such as
        ``keep_prob`` as ``keep_prob_1, keep_prob_2, ...``; ``hidden_layer_sizes`` as text like
        ``20-3``), every metric (a metric named like an earlier column gets a ``metric_``
        prefix), ``seconds`` and ``created``. Missing values are empty cells.

        Parameters
        ----------
        path : str or os.PathLike
            The CSV file; replaced only once it is completely written.
        dataset : str, optional
            Only rows of this data set fingerprint.

        Returns
        -------
        pathlib.Path
            ``path``.
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike); got {_describe(path)}")
        header, lines = _table(self.rows(dataset=dataset))
        path = Path(path)
        with atomic_path(path) as temporary:
            with open(temporary, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(header)
                writer.writerows(lines)
        return path


# --------------------------------------------------------------------------- CSV


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
                    value = "-".join(str(v) for v in value)
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
        return _canonical_json(value)
    return value
