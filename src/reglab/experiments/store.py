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

Keys, fingerprints and the checking of rows are ``reglab.keys``; ``config_key``,
``dataset_fingerprint`` and ``result_row`` are importable from here too.
"""

from __future__ import annotations

import contextlib
import csv
import os
import sqlite3
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from .._version import __version__
from ..files import atomic_path
from .keys import COLUMNS, canonical_json, check_text, config_key, dataset_fingerprint, decode_row, encode_row, result_row, utc_now
from ..validation import describe, check_real

__all__ = [
    "STORE_SCHEMA_VERSION",
    "STORE_FORMAT",
    "ResultStore",
    "ReadOnlyStoreError",
    "write_csv",
    "config_key",
    "dataset_fingerprint",
    "result_row",
]

STORE_SCHEMA_VERSION = 1
STORE_FORMAT = "reglab-results"
#: ``PRAGMA application_id`` of a reglab store: the ASCII bytes "rglb".
APPLICATION_ID = int.from_bytes(b"rglb", "big")

_SQLITE_HEADER = b"SQLite format 3\x00"
_JOINED_SETTINGS = ("hidden_layer_sizes",)  # one CSV cell "20/3"; other sequences get one column per item
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


# --------------------------------------------------------------------------- opening


@contextlib.contextmanager
def _immediate(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def _store_error(path: Path, detail: str) -> ValueError:
    return ValueError(f"results store {str(path)!r} {detail}; it was left unchanged")


def _connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that never writes, locks or creates a file beside ``path`` when no journal is there."""
    # With no journal beside it, the file alone is the database: read it as immutable so that
    # SQLite neither locks it nor creates -wal/-shm files next to someone else's (or a read-only) file.
    live = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
    uri = path.resolve().as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)


def _writable(path: Path) -> bool:
    """Whether this process may write ``path`` and create files beside it (SQLite's -wal and -shm)."""
    folder = path.parent
    return os.access(folder, os.W_OK | os.X_OK) and (not path.exists() or os.access(path, os.W_OK))


def _inspect(path: Path) -> str:
    """Check an existing file without writing to it. Returns "store" or "empty" (an empty SQLite file).

    Raises ValueError for anything that is not a reglab store of this schema version.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        raise _store_error(path, "is not a SQLite database (its first bytes are not a SQLite header)")
    try:
        connection = _connect_read_only(path, timeout=30)
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
        lacking = [name for name in COLUMNS if name not in columns]
        if lacking:
            raise _store_error(path, f"is a damaged reglab results store (table 'results' lacks columns {lacking})")
        return "store"
    except sqlite3.Error as error:
        raise _store_error(path, f"is not a readable SQLite database ({error})") from None
    finally:
        connection.close()


class ReadOnlyStoreError(ValueError):
    """Rows were to be added to a store opened read-only; nothing was written."""


def _unwritable(path: Path) -> str:
    """Why this process may not write ``path``, for a message."""
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return f"its folder {str(path.parent)!r} is read-only"


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
    read_only : bool
        Open the store for reading only. A store this process may not write (the file, or its
        folder, where SQLite keeps its -wal and -shm files, is read-only) is opened read-only
        anyway; ``read_only`` tells which. A read-only store is never written to and nothing
        is created beside it; ``add_batch`` refuses.

    Raises
    ------
    ValueError
        The file is not SQLite, is damaged, belongs to another application or has another
        schema version. Such a file is checked read-only and never modified. Also a missing
        or empty file that cannot become a store because it may not be written.

    Notes
    -----
    The store uses SQLite's write-ahead log, so readers see complete batches while a writer
    adds more. It is meant for a local disk: SQLite's locking is unreliable on network file
    systems. Use it from the thread that opened it; use it as a context manager or call
    ``close``.
    """

    def __init__(self, path, *, create: bool = True, timeout: float = 30.0, read_only: bool = False):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike); got {describe(path)}")
        if not isinstance(create, bool):
            raise TypeError(f"create must be True or False; got {describe(create)}")
        if not isinstance(read_only, bool):
            raise TypeError(f"read_only must be True or False; got {describe(read_only)}")
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
        self._asked_read_only = read_only
        self._read_only = read_only or not _writable(self.path)
        if state == "empty" and self._read_only:
            what = "is an empty file" if self.path.exists() else "does not exist"
            why = "read_only=True" if read_only else f"{_unwritable(self.path)}"
            raise ValueError(f"results store {str(self.path)!r} {what} and cannot be made a store ({why})")
        if self._read_only:
            try:
                self._connection = _connect_read_only(self.path, timeout)
            except sqlite3.Error as error:
                raise _store_error(self.path, f"cannot be opened read-only ({error})") from None
            return
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
        with _immediate(connection):
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
                        ("created", utc_now()),
                    ],
                )
        _inspect(self.path)  # whoever created it, it must now be a store of our version

    # ----------------------------------------------------------------- plumbing

    @property
    def read_only(self) -> bool:
        """Whether the store was opened for reading only (asked for, or not writable by this process)."""
        return self._read_only

    @property
    def why_read_only(self) -> str:
        """``"read-only (the reason)"``, for messages; ``"writable"`` if it is not read-only."""
        if not self._read_only:
            return "writable"
        return f"read-only ({'opened with read_only=True' if self._asked_read_only else _unwritable(self.path)})"

    @property
    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            raise ValueError(f"results store {str(self.path)!r} is closed")
        return self._connection

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return _immediate(self._db)

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
        check_text("key", key)
        return self._db.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone() is not None

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys (in the given order, each once) that are not stored yet: what still needs training."""
        if isinstance(keys, str) or not isinstance(keys, Iterable):
            raise TypeError(f"keys must be an iterable of key strings; got {describe(keys)}")
        wanted = list(dict.fromkeys(check_text(f"keys[{i}]", k) for i, k in enumerate(keys)))
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
            raise TypeError(f"rows must be a list of row dicts; got {describe(rows)}")
        if self._read_only:
            raise ReadOnlyStoreError(f"results store {str(self.path)!r} is {self.why_read_only}; rows cannot be added to it")
        now = utc_now()
        encoded = [encode_row(i, row, now) for i, row in enumerate(rows)]
        if not encoded:
            return 0
        with self._transaction() as connection:
            before = connection.total_changes
            connection.executemany(
                f"INSERT INTO results ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
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
        query = f"SELECT {', '.join(COLUMNS)} FROM results"
        arguments: tuple = ()
        if dataset is not None:
            query += " WHERE dataset = ?"
            arguments = (check_text("dataset", dataset),)
        return [decode_row(r) for r in self._db.execute(query + " ORDER BY rowid", arguments)]

    def to_csv(self, path, *, dataset: str | None = None) -> Path:
        """Write the stored rows as CSV, one line per (configuration, seed); atomically.

        Columns: ``key, dataset_name, dataset, seed``, then every setting (sequences such as
        ``keep_prob`` as ``keep_prob_1, keep_prob_2, ...``; ``hidden_layer_sizes`` as text like
        ``20/3``, the form of reports and figures), every metric (a metric named like an earlier column gets a ``metric_``
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
        return write_csv(self.rows(dataset=dataset), path)


# --------------------------------------------------------------------------- CSV


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
