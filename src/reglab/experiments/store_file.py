"""The SQLite file under a results store: recognising it, creating it, transactions and SQLite's errors.

``inspect_file`` tells a reglab store from anything else without writing to it; ``immediate`` is one
write transaction; ``sqlite_errors`` turns SQLite's "database is locked" and "database or disk is
full" into ``StoreBusyError`` and ``OSError(ENOSPC)`` naming the store. ``reglab.experiments.store``
builds ``ResultStore`` on these.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from .._version import __version__
from .keys import COLUMNS, utc_now

__all__ = [
    "APPLICATION_ID",
    "STORE_FORMAT",
    "STORE_SCHEMA_VERSION",
    "ReadOnlyStoreError",
    "StoreBusyError",
    "add_schema",
    "connect_read_only",
    "immediate",
    "insert_rows",
    "inspect_file",
    "remove_unmade",
    "sqlite_errors",
    "store_error",
    "unwritable",
    "writable",
]
STORE_SCHEMA_VERSION = 1
STORE_FORMAT = "reglab-results"
#: ``PRAGMA application_id`` of a reglab store: the ASCII bytes "rglb".
APPLICATION_ID = int.from_bytes(b"rglb", "big")

_SQLITE_HEADER = b"SQLite format 3\x00"

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
def immediate(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """One write transaction (``BEGIN IMMEDIATE``): committed at the end, rolled back on any exception."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
    except BaseException:
        if connection.in_transaction:  # SQLite has rolled back itself after some errors (a full disk)
            connection.execute("ROLLBACK")
        raise
    connection.execute("COMMIT")


def add_schema(connection: sqlite3.Connection) -> None:
    """Create the tables and the meta rows inside the caller's transaction, unless the file already has tables."""
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


def insert_rows(connection: sqlite3.Connection, encoded: list[tuple]) -> int:
    """Insert encoded rows inside the caller's transaction; a key already stored is left as it is. Returns rows added."""
    before = connection.total_changes
    connection.executemany(
        f"INSERT INTO results ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))}) "
        "ON CONFLICT (key) DO NOTHING",
        encoded,
    )
    return connection.total_changes - before


def remove_unmade(path: Path) -> None:
    """Remove a store file this process made and failed to make a store of (no tables), with its -wal and -shm."""
    try:
        probe = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            tables = probe.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        finally:
            probe.close()
    except sqlite3.Error:
        tables = 0  # unreadable: it holds nothing committed
    if tables:
        return
    for suffix in ("", "-wal", "-shm", "-journal"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


class StoreBusyError(TimeoutError):
    """Another process held the store's write lock for longer than the store's ``timeout``; nothing was written."""


_SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_IOERR, _SQLITE_FULL = 5, 6, 10, 13


@contextlib.contextmanager
def sqlite_errors(path: Path) -> Iterator[None]:
    """SQLite's "database is locked" as StoreBusyError and "database or disk is full" as OSError(ENOSPC), named."""
    try:
        yield
    except sqlite3.OperationalError as error:
        code = getattr(error, "sqlite_errorcode", None)  # Python 3.11+
        code = code & 0xFF if code is not None else None
        text = str(error)
        if code in (_SQLITE_BUSY, _SQLITE_LOCKED) or (code is None and "locked" in text):
            raise StoreBusyError(f"results store {str(path)!r} is locked by another process ({text})") from None
        if code == _SQLITE_FULL or (code is None and "full" in text) or (
                (code == _SQLITE_IOERR or "I/O error" in text) and _nearly_full(path)):
            raise OSError(errno.ENOSPC, f"No space left on device (SQLite: {text})", str(path)) from None
        if code == _SQLITE_IOERR or "I/O error" in text:
            raise OSError(errno.EIO, f"Input/output error (SQLite: {text})", str(path)) from None
        raise


def _nearly_full(path: Path) -> bool:
    """Whether the disk holding ``path`` has less room than SQLite needs beside a store (its -shm file: 32 KiB)."""
    try:
        return shutil.disk_usage(path.absolute().parent).free < 64 * 1024
    except OSError:
        return False


def store_error(path: Path, detail: str) -> ValueError:
    return ValueError(f"results store {str(path)!r} {detail}; it was left unchanged")


def connect_read_only(path: Path, timeout: float) -> sqlite3.Connection:
    """A connection that never writes, locks or creates a file beside ``path`` when no journal is there."""
    # With no journal beside it, the file alone is the database: read it as immutable so that
    # SQLite neither locks it nor creates -wal/-shm files next to someone else's (or a read-only) file.
    live = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
    uri = path.resolve().as_uri() + ("?mode=ro" if live else "?mode=ro&immutable=1")
    return sqlite3.connect(uri, uri=True, timeout=timeout, isolation_level=None)


def writable(path: Path) -> bool:
    """Whether this process may write ``path`` and create files beside it (SQLite's -wal and -shm)."""
    folder = path.parent
    return os.access(folder, os.W_OK | os.X_OK) and (not path.exists() or os.access(path, os.W_OK))


def inspect_file(path: Path) -> str:
    """Check an existing file without writing to it. Returns "store" or "empty" (an empty SQLite file).

    Raises ValueError for anything that is not a reglab store of this schema version.
    """
    with open(path, "rb") as handle:
        header = handle.read(100)
    if len(header) < 100 or not header.startswith(_SQLITE_HEADER):
        raise store_error(path, "is not a SQLite database (its first bytes are not a SQLite header)")
    try:
        connection = connect_read_only(path, timeout=30)
    except sqlite3.Error as error:
        raise store_error(path, f"cannot be opened read-only ({error})") from None
    try:
        check = [r[0] for r in connection.execute("PRAGMA quick_check(5)").fetchall()]
        if check != ["ok"]:
            raise store_error(path, f"is a damaged SQLite database (quick_check: {'; '.join(check)})")
        application_id = connection.execute("PRAGMA application_id").fetchone()[0]
        user_version = connection.execute("PRAGMA user_version").fetchone()[0]
        objects = connection.execute("SELECT type, name FROM sqlite_master").fetchall()
        tables = sorted(name for kind, name in objects if kind == "table")
        if not objects and application_id == 0 and user_version == 0:
            return "empty"
        if "reglab_meta" not in tables:
            if application_id == APPLICATION_ID:
                raise store_error(path, "is a damaged reglab results store (its reglab_meta table is missing)")
            shown = ", ".join(tables[:8]) + (", ..." if len(tables) > 8 else "") or "none"
            raise store_error(
                path, f"is a SQLite database of another application, not a reglab results store (tables: {shown})"
            )
        meta = dict(connection.execute("SELECT name, value FROM reglab_meta").fetchall())
        if meta.get("format") != STORE_FORMAT:
            raise store_error(
                path, f"is not a reglab results store (reglab_meta format is {meta.get('format')!r}, not {STORE_FORMAT!r})"
            )
        if user_version != STORE_SCHEMA_VERSION:
            raise store_error(
                path,
                f"has schema version {user_version} (written by reglab {meta.get('reglab_version', '?')}); "
                f"this reglab ({__version__}) reads schema version {STORE_SCHEMA_VERSION}",
            )
        columns = {r[1] for r in connection.execute("PRAGMA table_info(results)").fetchall()}
        lacking = [name for name in COLUMNS if name not in columns]
        if lacking:
            raise store_error(path, f"is a damaged reglab results store (table 'results' lacks columns {lacking})")
        return "store"
    except sqlite3.Error as error:
        raise store_error(path, f"is not a readable SQLite database ({error})") from None
    finally:
        connection.close()


class ReadOnlyStoreError(ValueError):
    """Rows were to be added to a store opened read-only; nothing was written."""


def unwritable(path: Path) -> str:
    """Why this process may not write ``path``, for a message."""
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    return f"its folder {str(path.parent)!r} is read-only"
