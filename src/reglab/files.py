"""Writing outputs so that an interrupted run never leaves a file that looks complete, and checking them first.

- ``atomic_path``, ``atomic_write_text``: a file written under a temporary name and renamed;
- ``staged_directory``: a run folder built under a temporary name and given its name when complete,
  under a name no other run has taken meanwhile;
- ``check_output_folder``, ``check_output_file``, ``same_file``, ``inside``: the checks a command
  makes before any work, so that it never finds out after training that it cannot write, or
  that it would write over one of its own inputs.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ._signals import interrupts_deferred

__all__ = [
    "FolderMark",
    "atomic_path",
    "atomic_write_text",
    "check_output_file",
    "check_output_folder",
    "folder_locked",
    "folder_mark",
    "inside",
    "same_file",
    "shown_path",
    "staged_directory",
]

_PARTIAL = re.compile(r"^\.(?P<name>.+)\.[0-9a-f]{8}\.partial$")


def _partial_name(path: Path) -> Path:
    """A hidden name beside ``path`` for it to be written under: ``.<name>.<random>.partial``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")


def shown_path(path) -> str:
    """``path`` as the user knows it: a hidden ``.<name>.<hex>.partial`` part is shown as ``<name>``."""
    parts = [(_PARTIAL.match(part).group("name") if _PARTIAL.match(part) else part) for part in Path(path).parts]
    return str(Path(*parts)) if parts else str(path)


# Both context managers below name their temporary file or folder before they create it, inside the
# try whose finally removes it: a Ctrl-C at any moment (even right after it is created) leaves
# nothing behind. Its permissions are those of a file or folder made by open() or mkdir().


def _make_folder(folder: Path) -> list[Path]:
    """Create ``folder`` with its missing parents; return the folders created, deepest first."""
    created = []
    for ancestor in (folder, *folder.parents):
        if ancestor.exists():
            break
        created.append(ancestor)
    folder.mkdir(parents=True, exist_ok=True)
    return created


def _remove_empty(folders: list[Path]) -> None:
    """Remove the folders a failed write created (deepest first), as long as they are empty."""
    for folder in folders:
        try:
            folder.rmdir()
        except OSError:  # not empty (something else was put there meanwhile), or already gone
            return


@contextlib.contextmanager
def atomic_path(path, *, make_folders: bool = True) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success rename it to ``path``, else delete it.

    An existing file at ``path`` stays whole until the new one is complete, then is replaced. Missing
    folders are created (unless ``make_folders`` is False: then a missing folder is an error), and removed
    again if the write fails.
    """
    path = Path(path)
    created = _make_folder(path.parent) if make_folders else []
    temporary = None
    done = False
    try:
        while temporary is None:
            temporary = _partial_name(path)
            try:
                temporary.touch(exist_ok=False)
            except FileExistsError:  # another file's name: not ours to remove
                temporary = None
        yield temporary
        os.replace(temporary, path)
        done = True
    finally:
        if temporary is not None and temporary.exists():
            temporary.unlink()
        if not done:
            _remove_empty(created)


def atomic_write_text(path, text: str) -> Path:
    with atomic_path(path) as temporary:
        temporary.write_text(text, encoding="utf-8")
    return Path(path)


# --------------------------------------------------------------------------- checks before the work


def same_file(a, b) -> bool:
    """Whether two paths name one file: the same file through links (symbolic or hard), or the same resolved path."""
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet): compare where they lead
        return os.path.realpath(a) == os.path.realpath(b)


def inside(path, folder) -> bool:
    """Whether ``path`` is ``folder`` or lies within it, links resolved."""
    path, folder = os.path.realpath(path), os.path.realpath(folder)
    return path == folder or os.path.commonpath([path, folder]) == folder


def _writable_place(path: Path) -> None:
    """Refuse (ValueError) a path whose nearest existing ancestor is not a folder this process may write into."""
    for ancestor in path.parents if path.parts else ():
        if not os.path.lexists(ancestor):
            continue  # created when the output is written
        shown = str(ancestor) if str(ancestor) != "." else f". ({os.getcwd()})"
        if not ancestor.is_dir():
            raise ValueError(f"cannot write {str(path)!r}: {shown!r} is not a writable folder (it is a file)")
        if not os.access(ancestor, os.W_OK | os.X_OK):
            raise ValueError(f"cannot write {str(path)!r}: {shown!r} is not a writable folder (it is read-only)")
        return


def check_output_folder(path, *, replaceable: bool = False) -> Path:
    """``path`` as a Path if a run folder may be made there; else ValueError (FileExistsError if it is taken).

    It must not exist or be an empty folder (with ``replaceable``, the caller may also replace a folder there),
    and the nearest existing folder above it must be writable: checked before any work, so that a run never
    finds out after training that it cannot be written.
    """
    path = Path(path)
    if os.path.lexists(path) and not replaceable:
        if not path.is_dir():
            raise FileExistsError(f"output folder {str(path)!r} is an existing file; choose another --out")
        if any(path.iterdir()):
            raise FileExistsError(f"output folder {str(path)!r} already exists and is not empty; choose another --out")
    _writable_place(path)
    return path


def check_output_file(path) -> Path:
    """``path`` as a Path if an output file may be written there (replacing a file there once it is complete).

    Refused (ValueError): a folder, a write-protected file (protected on purpose, as ``rm`` and ``mv`` assume)
    and a place whose nearest existing folder is not writable.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(f"{str(path)!r} is a folder; give a file name")
    if path.exists() and _write_protected(path):
        raise ValueError(f"{str(path)!r} exists and is write-protected; reglab replaces only files that may be "
                         f"written: make it writable or choose another name")
    _writable_place(path)
    return path


def _write_protected(path: Path) -> bool:
    """Whether this process may not write the file, or nobody may (no write permission bit: protected on
    purpose, which root may write past but reglab does not)."""
    return not os.access(path, os.W_OK) or not os.stat(path).st_mode & 0o222


# --------------------------------------------------------------------------- run folders


class FolderMark(NamedTuple):
    """Which folder was at a path when a run started: (device, inode) of it and of its ``results.json``."""

    folder: tuple[int, int]
    results: tuple[int, int, int] | None


def folder_mark(path) -> FolderMark | None:
    """The mark of the folder at ``path`` now, or None when there is none."""
    try:
        folder = os.stat(path)
    except OSError:
        return None
    try:
        results = os.stat(Path(path) / "results.json")
        inner = (results.st_dev, results.st_ino, results.st_mtime_ns)
    except OSError:
        inner = None
    return FolderMark((folder.st_dev, folder.st_ino), inner)


@contextlib.contextmanager
def folder_locked(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` (flock on the folder itself: no lock file is left anywhere).

    Every reglab run naming its run folder in ``folder`` takes it, so that looking at a name and taking
    it is one step for them. Where there is no flock, nothing is held: the rename below still never
    replaces a folder that holds anything.
    """
    try:
        import fcntl
    except ImportError:  # not on POSIX
        yield
        return
    handle = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        os.close(handle)  # releases the lock


_TAKEN = {errno.EEXIST, errno.ENOTEMPTY, errno.ENOTDIR, errno.EISDIR}


def _claim(staging: Path, path: Path, replaces: FolderMark | None) -> Path:
    """Give ``staging`` the name ``path``, or ``<path>-2``, ``-3``, ... if another run has taken it.

    The folder at ``path`` is replaced only if it is still the one ``replaces`` marks (the caller's own
    earlier run folder); an empty folder may be taken; anything else is left as it is.
    """
    with folder_locked(path.parent), interrupts_deferred():
        if replaces is not None and folder_mark(path) == replaces:
            old = _partial_name(path)
            os.replace(path, old)  # out of the way: from here until the next line, path does not exist
            os.replace(staging, path)
            shutil.rmtree(old, ignore_errors=True)
            return path
        candidate, counter = path, 1
        while True:
            try:
                os.rename(staging, candidate)  # replaces nothing but an empty folder
                return candidate
            except OSError as error:
                if error.errno not in _TAKEN:
                    raise
            counter += 1
            candidate = path.with_name(f"{path.name}-{counter}")


class _StagedDirectory:
    def __init__(self, path, replaces: FolderMark | None, refuse_taken: bool):
        self.path = Path(path)
        self.requested = self.path
        self._replaces = replaces
        self._refuse_taken = refuse_taken
        self._created: list[Path] = []
        self._staging: Path | None = None

    def __enter__(self) -> Path:
        replaceable = self._replaces is not None and folder_mark(self.path) == self._replaces
        check_output_folder(self.path, replaceable=replaceable or not self._refuse_taken)
        self._created = _make_folder(self.path.parent)
        try:
            while self._staging is None:
                self._staging = _partial_name(self.path)
                try:
                    self._staging.mkdir()
                except FileExistsError:  # another folder's name: not ours to remove
                    self._staging = None
        except BaseException:
            self._discard()
            raise
        return self._staging

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._discard()
            return
        try:
            self.path = _claim(self._staging, self.path, self._replaces)
        except BaseException:
            self._discard()
            raise

    def _discard(self) -> None:
        try:
            if self._staging is not None and self._staging.exists():
                shutil.rmtree(self._staging, ignore_errors=True)
        finally:
            _remove_empty(self._created)


def staged_directory(path, *, replace: FolderMark | None = None, refuse_taken: bool = True) -> _StagedDirectory:
    """Build a directory under a temporary name; give it its name only when complete.

    ``with staged_directory(path) as stage:`` yields the temporary folder to write into. ``path`` must
    not exist, or be an empty directory (checked when the block starts). When the block ends without an
    error the folder is renamed to ``path``; if another run has taken that name meanwhile, it gets the
    first free name of ``<path>-2``, ``<path>-3``, ... instead (never a traceback, never finished work
    thrown away): the object's ``path`` is the name it got, ``requested`` the one asked for. On any
    error the staging directory is removed, so a run folder either holds everything or does not exist;
    so are the folders created to hold it (``runs/`` the first time).

    ``replace``: the ``folder_mark`` of a folder at ``path`` that this run may replace once the new one is
    complete (the caller has checked that it may: a sweep's own earlier run folder). If a different folder is
    there by the end, it is kept and the new one is named as above.

    ``refuse_taken=False``: the caller checked ``path`` before its work began (``check_output_folder``), so a
    folder found there now was made by another run meanwhile: it is not refused, the new folder is named as
    above.
    """
    return _StagedDirectory(path, replace, refuse_taken)
