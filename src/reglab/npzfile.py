"""Reading ``.npz`` archives without trusting them: what each entry declares, checked before anything is read.

A small ``.npz`` can declare an array of any size in its entry's header (a compressed run of
zeros, or a lie): ``entries`` reads only the headers, ``check_declared`` refuses an archive whose
entries would not fit in memory, naming the file, the entry and the estimate, before anything is
allocated; ``rows`` reads one entry a chunk of rows at a time, for files too large to hold at once.
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.lib import format as npy

from . import memory

__all__ = ["Entry", "entries", "check_declared", "rows"]


class Entry(NamedTuple):
    """What an entry of an archive declares: its name (without ``.npy``), shape, dtype and memory order."""

    name: str
    shape: tuple[int, ...]
    dtype: np.dtype
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        """Bytes the array takes in memory (exact, whatever the shape declares)."""
        return math.prod(self.shape) * max(self.dtype.itemsize, 1)


def _read_header(member, where: str) -> tuple[tuple[int, ...], bool, np.dtype]:
    try:
        version = npy.read_magic(member)
        if version == (1, 0):
            return npy.read_array_header_1_0(member)
        return npy.read_array_header_2_0(member)  # 2.0, and 3.0 (the same, with UTF-8 field names)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as error:
        raise ValueError(f"{where} is not a readable array ({error})") from None


def entries(path, what: str = "file", *, name: str | None = None) -> dict[str, Entry]:
    """The entries of the archive at ``path`` (or in a file object), from their headers only.

    ``what`` and ``name`` (default ``str(path)``) name the file in messages.
    """
    shown = str(path) if name is None else name
    found = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if not info.filename.endswith(".npy"):
                    continue
                entry = info.filename[: -len(".npy")]
                with archive.open(info) as member:
                    shape, fortran, dtype = _read_header(member, f"{what} {shown!r}: entry {entry!r}")
                found[entry] = Entry(entry, tuple(int(n) for n in shape), dtype, bool(fortran))
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as error:
        if isinstance(error, PermissionError):
            raise
        raise ValueError(f"{what} {shown!r} is not a readable .npz archive ({type(error).__name__}: {error})") from None
    return found


def check_declared(path, what: str = "file", limit: int | None = None, *, name: str | None = None) -> dict[str, Entry]:
    """Refuse (MemoryError) an archive whose entries together declare more than ``limit`` bytes; return them.

    ``limit``: default ``memory.memory_limit()``, half the available memory. Nothing is read but the headers.
    ``path``, ``what``, ``name``: as in ``entries``.
    """
    found = entries(path, what, name=name)
    shown = str(path) if name is None else name
    limit = memory.memory_limit() if limit is None else limit
    total = sum(entry.nbytes for entry in found.values())
    if total > limit:
        largest = max(found.values(), key=lambda entry: entry.nbytes)
        raise MemoryError(
            f"{what} {shown!r} declares arrays of {memory.shown_bytes(total)}, more than the "
            f"{memory.shown_bytes(limit)} allowed (half the memory available): its entry {largest.name!r} has shape "
            f"{largest.shape} ({largest.dtype}), {memory.shown_bytes(largest.nbytes)}; nothing was read"
        )
    return found


def rows(path, name: str, chunk_rows: int, what: str = "file") -> Iterator[np.ndarray]:
    """The array ``name`` of the archive at ``path``, ``chunk_rows`` rows (first axis) at a time.

    Only one chunk is in memory at once for an array stored in C order; one in Fortran order (columns one
    after another) is read whole. What would be in memory at once is refused (MemoryError) above
    ``memory.memory_limit()``, before it is read.
    """
    where = f"{what} {str(path)!r}: entry {name!r}"
    with zipfile.ZipFile(path) as archive:
        with archive.open(f"{name}.npy") as member:
            shape, fortran, dtype = _read_header(member, where)
            if dtype.hasobject:
                raise ValueError(f"{where} holds Python objects (dtype object); reglab reads .npz files with "
                                 f"allow_pickle=False, so store plain numeric or text arrays")
            whole = fortran or len(shape) == 0
            at_once = (math.prod(shape) if whole else min(chunk_rows, shape[0]) * math.prod(shape[1:])) * dtype.itemsize
            limit = memory.memory_limit()
            if at_once > limit:
                how = "read whole (stored column by column)" if whole else f"read {chunk_rows} rows at a time"
                raise MemoryError(
                    f"{where} has shape {tuple(shape)} ({dtype}): {how}, it needs {memory.shown_bytes(at_once)}, more "
                    f"than the {memory.shown_bytes(limit)} allowed (half the memory available); nothing was read"
                )
            if whole:
                data = member.read()
                array = np.frombuffer(data, dtype=dtype)
                if array.size != math.prod(shape):
                    raise ValueError(f"{where} is truncated: it declares {math.prod(shape)} values and holds "
                                     f"{array.size}")
                array = array.reshape(shape, order="F" if fortran else "C")
                for start in range(0, max(len(array), 1) if array.ndim else 1, chunk_rows):
                    yield array[start:start + chunk_rows] if array.ndim else array
                return
            row_bytes = math.prod(shape[1:]) * dtype.itemsize
            left = shape[0]
            while left > 0:
                n = min(chunk_rows, left)
                data = member.read(n * row_bytes)
                if len(data) != n * row_bytes:
                    raise ValueError(f"{where} is truncated: it declares {shape[0]} rows and ends after "
                                     f"{shape[0] - left + len(data) // max(row_bytes, 1)}")
                yield np.frombuffer(data, dtype=dtype).reshape((n, *shape[1:]))
                left -= n

