"""A results store's write lock held by another process, for as long as a test wants."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

LOCKER = textwrap.dedent(
    """
    import sqlite3, sys
    connection = sqlite3.connect(sys.argv[1], isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")  # the write lock, held until told to let go
    print("locked", flush=True)
    sys.stdin.readline()
    connection.execute("COMMIT")
    print("released", flush=True)
    """
)


def hold_lock(path: Path) -> subprocess.Popen:
    """A process holding the write lock of the SQLite file at ``path`` until ``release``."""
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    assert locker.stdout.readline() == "locked\n", locker.stderr.read()
    return locker


def let_go(locker: subprocess.Popen) -> None:
    """Tell the locker to release its lock (without waiting for it to say so)."""
    locker.stdin.write("go\n")
    locker.stdin.flush()


def release(locker: subprocess.Popen) -> None:
    """Release the lock and wait until it is released."""
    let_go(locker)
    assert locker.stdout.readline() == "released\n"
