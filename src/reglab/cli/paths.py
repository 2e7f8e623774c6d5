"""The files and folders a command writes, checked before any work: never an input, free, writable."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import click


@contextlib.contextmanager
def about(option: str):
    """The checks of an output named by ``option``: a ValueError they raise becomes an error about that option."""
    try:
        yield
    except (ValueError, FileExistsError) as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def data_inputs(data) -> list[tuple[str, Path]]:
    """The data file a command reads (as ``--data``, ``./datasets/data.mat`` or ``$REGLAB_COURSE_DATA``), if any."""
    from ..datasets.resolve import COURSE_ENV_VAR, COURSE_LOCAL_PATH, data_file
    from ..files import same_file

    path = data_file(data)
    if path is None:
        return []
    how = "--data" if data is not None else (
        str(COURSE_LOCAL_PATH) if same_file(path, COURSE_LOCAL_PATH) else f"${COURSE_ENV_VAR}")
    return [(f"the data file ({how})", path)]


def refuse_inputs(option: str, output: Path, inputs: list[tuple[str, Path]], *, folder: bool = False) -> None:
    """Refuse an output that is one of the command's inputs (links resolved) or, for a folder, holds one.

    ``inputs``: (what it is, e.g. "the data file (--data)", path).
    """
    from ..files import inside, same_file

    for what, path in inputs:
        if same_file(output, path):
            named = what if str(output) == str(path) else f"{what} {str(path)!r}"  # the same file by links or another path
            raise click.BadParameter(f"{str(output)!r} is {named}; reglab never writes over an input of the "
                                     f"command: choose another {'folder' if folder else 'file'}", param_hint=option)
        if folder and inside(path, output):
            raise click.BadParameter(f"{str(output)!r} holds {what} {str(path)!r}; reglab never writes over an input "
                                     f"of the command: choose another folder", param_hint=option)


def check_out_folder(out: Path, inputs: list[tuple[str, Path]], *, replaceable: bool = False) -> Path:
    """A run folder (--out) checked before any work: not an input nor holding one, free (or replaceable), writable."""
    from ..files import check_output_folder

    refuse_inputs("--out", out, inputs, folder=True)
    with about("--out"):
        return check_output_folder(out, replaceable=replaceable)


def check_out_file(option: str, path: Path, inputs: list[tuple[str, Path]]) -> Path:
    """An output file checked before any work: not an input, not a folder, writable (an existing file is
    replaced once the new one is complete)."""
    from ..files import check_output_file

    refuse_inputs(option, path, inputs)
    with about(option):
        return check_output_file(path)


@contextlib.contextmanager
def writing(path):
    """Name ``path`` in a full disk's error raised without a file name (a write through an open file)."""
    try:
        yield
    except OSError as error:
        if error.errno in FULL and error.filename is None:
            raise OSError(error.errno, error.strerror or os.strerror(error.errno), str(path)) from None
        raise


def say_where(requested: Path, got: Path, chosen: bool) -> None:
    """Say on stderr that the run folder the user chose was taken by another run meanwhile, and where this one is."""
    if chosen and got != requested:
        click.echo(f"reglab: {str(requested)!r} was taken by another run while this one worked; this run's folder "
                   f"is {str(got)!r}", err=True)


#: Errors of a full disk (or a full quota): what they mean for a run, and what to do.
FULL = (errno.ENOSPC, errno.EDQUOT)
