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

Keys, fingerprints and the checking of rows are ``experiments.keys`` (a damaged row is named:
``DamagedRowError``); the SQLite file itself (recognising, creating, its errors) is
``experiments.store_file``; the CSV export is ``experiments.export``. ``config_key``,
``dataset_fingerprint``, ``result_row`` and ``write_csv`` are importable from here too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterable, Mapping
from pathlib import Path

from ..files import folder_locked
from .export import write_csv
from .keys import COLUMNS, DamagedRowError, check_text, config_key, dataset_fingerprint, decode_row, encode_row, result_row, utc_now
from .store_file import (
    STORE_FORMAT,
    STORE_SCHEMA_VERSION,
    ReadOnlyStoreError,
    StoreBusyError,
    add_schema,
    connect_read_only,
    immediate,
    insert_rows,
    inspect_file,
    remove_unmade,
    sqlite_errors,
    store_error,
    unwritable,
    writable,
)
from ..validation import check_bool, check_real, describe

__all__ = [
    "STORE_SCHEMA_VERSION",
    "STORE_FORMAT",
    "ResultStore",
    "ReadOnlyStoreError",
    "StoreBusyError",
    "DamagedRowError",
    "write_csv",
    "config_key",
    "dataset_fingerprint",
    "result_row",
]

_IN_CHUNK = 500  # keys per "IN (...)" query, well below SQLite's limit on bound parameters


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
        Seconds to wait for another process's write to finish before giving up (``add_batch`` then
        raises ``StoreBusyError``, and may be called again).
    read_only : bool
        Open the store for reading only. A store this process may not write (the file, or its
        folder, where SQLite keeps its -wal and -shm files, is read-only) is opened read-only
        anyway; ``read_only`` tells which. A read-only store is never written to and nothing
        is created beside it; ``add_batch`` refuses.
    defer_create : bool
        Make a missing or empty file a store only with the first rows ``add_batch`` stores, in the
        same transaction: a program that fails before it has anything to store leaves no new,
        empty store behind. Until then the store reads as empty.

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

    def __init__(self, path, *, create: bool = True, timeout: float = 30.0, read_only: bool = False,
                 defer_create: bool = False):
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a file path (str or os.PathLike); got {describe(path)}")
        create, read_only = check_bool("create", create), check_bool("read_only", read_only)
        defer_create = check_bool("defer_create", defer_create)
        self._timeout = timeout = check_real("timeout", timeout, low=0)
        self.path = Path(path)
        self._connection: sqlite3.Connection | None = None
        self._pending = False  # a store to be created by the first add_batch (defer_create)
        self._closed = False
        if self.path.is_dir():
            raise ValueError(f"results store {str(self.path)!r} is a directory; give a file path")
        if not self.path.exists():
            if not create:
                raise FileNotFoundError(f"results store {str(self.path)!r} does not exist (create=False)")
            if not self.path.parent.is_dir():
                raise FileNotFoundError(f"folder {str(self.path.parent)!r} of results store {str(self.path)!r} does not exist")
            state = "empty"
        else:
            state = inspect_file(self.path) if self.path.stat().st_size > 0 else "empty"
        if state == "empty" and not create:
            raise ValueError(f"results store {str(self.path)!r} is an empty file, not a store yet (create=False)")
        self._asked_read_only = read_only
        self._read_only = read_only or not writable(self.path)
        if state == "empty" and self._read_only:
            what = "is an empty file" if self.path.exists() else "does not exist"
            why = "read_only=True" if read_only else f"{unwritable(self.path)}"
            raise ValueError(f"results store {str(self.path)!r} {what} and cannot be made a store ({why})")
        if self._read_only:
            try:
                self._connection = connect_read_only(self.path, timeout)
            except sqlite3.Error as error:
                raise store_error(self.path, f"cannot be opened read-only ({error})") from None
            return
        if state == "empty" and defer_create:
            self._pending = True  # nothing is written until there are rows to store
            return
        connection = sqlite3.connect(self.path, timeout=timeout, isolation_level=None)
        try:
            with sqlite_errors(self.path):
                if state == "empty":
                    self._create_schema(connection)
                connection.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _create_schema(self, connection: sqlite3.Connection) -> None:
        """Create the tables in one transaction, unless another process created them meanwhile."""
        with immediate(connection):
            add_schema(connection)
        inspect_file(self.path)  # whoever created it, it must now be a store of our version

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
        return f"read-only ({'opened with read_only=True' if self._asked_read_only else unwritable(self.path)})"

    @property
    def created(self) -> bool:
        """Whether the store exists as a file (False only for a ``defer_create`` store before its first rows)."""
        return self._reader() is not None

    def _reader(self) -> sqlite3.Connection | None:
        """The connection; None while a deferred store is not created (by this process or another one)."""
        if self._closed:
            raise ValueError(f"results store {str(self.path)!r} is closed")
        if self._pending and self.path.exists() and self.path.stat().st_size > 0 and inspect_file(self.path) == "store":
            self._open_created()  # another process created it meanwhile
        return self._connection

    @property
    def _db(self) -> sqlite3.Connection:
        connection = self._reader()
        if connection is None:
            raise ValueError(f"results store {str(self.path)!r} is not created yet")
        return connection

    def _open_created(self) -> None:
        connection = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
        try:
            with sqlite_errors(self.path):
                connection.execute("PRAGMA journal_mode = WAL")
        except BaseException:
            connection.close()
            raise
        self._connection, self._pending = connection, False

    def _transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db)

    def close(self) -> None:
        """Close the database (idempotent)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._closed = True

    def __enter__(self) -> ResultStore:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{len(self)} rows"
        return f"ResultStore({str(self.path)!r}, {state})"

    def __len__(self) -> int:
        connection = self._reader()
        return 0 if connection is None else connection.execute("SELECT count(*) FROM results").fetchone()[0]

    @property
    def meta(self) -> dict:
        """The ``reglab_meta`` entries: format, schema_version, reglab_version, created ({} before a deferred store is made)."""
        connection = self._reader()
        return {} if connection is None else dict(connection.execute("SELECT name, value FROM reglab_meta").fetchall())

    # ----------------------------------------------------------------- queries

    def has(self, key: str) -> bool:
        """Whether a row with this key is stored."""
        check_text("key", key)
        connection = self._reader()
        return connection is not None and connection.execute("SELECT 1 FROM results WHERE key = ?", (key,)).fetchone() is not None

    def missing(self, keys: Iterable[str]) -> list[str]:
        """The keys (in the given order, each once) that are not stored yet: what still needs training."""
        if isinstance(keys, str) or not isinstance(keys, Iterable):
            raise TypeError(f"keys must be an iterable of key strings; got {describe(keys)}")
        wanted = list(dict.fromkeys(check_text(f"keys[{i}]", k) for i, k in enumerate(keys)))
        stored: set[str] = set()
        connection = self._reader()
        for start in range(0, len(wanted) if connection is not None else 0, _IN_CHUNK):
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

        Raises
        ------
        StoreBusyError
            Another process held the store's write lock for longer than ``timeout``; nothing was
            written: call again to retry.
        OSError
            ``ENOSPC`` when the disk is full (SQLite's "database or disk is full"); nothing was written.

        Notes
        -----
        All rows are checked before anything is written; a batch is stored entirely or not at
        all, even if the process is killed during the call. A ``defer_create`` store is created
        together with its first rows, in the same transaction.
        """
        if isinstance(rows, (str, bytes, Mapping)) or not isinstance(rows, Iterable):
            raise TypeError(f"rows must be a list of row dicts; got {describe(rows)}")
        if self._read_only:
            raise ReadOnlyStoreError(f"results store {str(self.path)!r} is {self.why_read_only}; rows cannot be added to it")
        now = utc_now()
        encoded = [encode_row(i, row, now) for i, row in enumerate(rows)]
        if not encoded:
            return 0
        with sqlite_errors(self.path):
            if self._reader() is None:
                return self._create_with(encoded)
            with self._transaction() as connection:
                return insert_rows(connection, encoded)

    def _create_with(self, encoded: list[tuple]) -> int:
        """Create a deferred store and store its first rows in one transaction.

        If that fails, the file is removed again when this call made it (so a failed sweep leaves no
        empty store behind). Other reglab processes creating the same store wait (``files.folder_locked``).
        """
        with folder_locked(self.path.parent):
            if self._reader() is not None:  # made by another process while this one waited
                with self._transaction() as connection:
                    return insert_rows(connection, encoded)
            existed = self.path.exists()
            connection = sqlite3.connect(self.path, timeout=self._timeout, isolation_level=None)
            try:
                connection.execute("PRAGMA journal_mode = WAL")
                with immediate(connection):
                    add_schema(connection)
                    inserted = insert_rows(connection, encoded)
            except BaseException:
                connection.close()
                if not existed:
                    remove_unmade(self.path)
                raise
        self._connection, self._pending = connection, False
        return inserted

    def rows(self, *, dataset: str | None = None) -> list[dict]:
        """Every stored row (decoded: ``config`` and ``metrics`` as dicts) in insertion order.

        Each row also has ``row``, its SQLite ``rowid``, which messages about it name.

        Parameters
        ----------
        dataset : str, optional
            Only rows of this data set fingerprint.

        Raises
        ------
        DamagedRowError
            A row whose values cannot be read as the store writes them (text where a number or JSON
            belongs, and the like); the message names the store, the row and what is wrong.
        """
        query = f"SELECT rowid, {', '.join(COLUMNS)} FROM results"
        arguments: tuple = ()
        if dataset is not None:
            query += " WHERE dataset = ?"
            arguments = (check_text("dataset", dataset),)
        connection = self._reader()
        if connection is None:
            return []
        return [decode_row(r[1:], self.path, r[0]) for r in connection.execute(query + " ORDER BY rowid", arguments)]

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
