"""Writing outputs so that an interrupted run never leaves a file that looks complete."""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path", "atomic_write_text", "check_free_folder", "staged_directory"]


def _partial_name(path: Path) -> Path:
    """A hidden name beside ``path`` for it to be written under: ``.<name>.<random>.partial``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")


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

    Missing folders are created (unless ``make_folders`` is False: then a missing folder is an error),
    and removed again if the write fails.
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


def check_free_folder(path) -> Path:
    """``path`` as a Path if a run folder may be made there: it must not exist, or be an empty folder."""
    path = Path(path)
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise FileExistsError(f"output folder {str(path)!r} already exists and is not empty; choose another --out")
    return path


@contextlib.contextmanager
def staged_directory(path, *, replace: bool = False) -> Iterator[Path]:
    """Build a directory under a temporary name; rename it to ``path`` only when complete.

    ``path`` must not exist, or be an empty directory; with ``replace``, an existing folder there is
    replaced by the new one once that is complete (the caller has checked that it may be). On any error
    the staging directory is removed, so a run folder either holds everything or does not exist; so are
    the folders created to hold it (``runs/`` the first time).
    """
    path = Path(path) if replace else check_free_folder(path)
    created = _make_folder(path.parent)
    staging = None
    done = False
    try:
        while staging is None:
            staging = _partial_name(path)
            try:
                staging.mkdir()
            except FileExistsError:  # another folder's name: not ours to remove
                staging = None
        yield staging
        if path.exists() and replace and path.is_dir() and any(path.iterdir()):
            old = _partial_name(path)
            os.replace(path, old)  # out of the way: from here until the next line, path does not exist
            os.replace(staging, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            if path.exists():
                path.rmdir()
            os.replace(staging, path)
        done = True
    finally:
        if staging is not None and staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
        if not done:
            _remove_empty(created)
