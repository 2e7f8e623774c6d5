"""The ``reglab`` command: parse options, call the library, write files, print a summary.

No logic of its own: every command is a thin layer over ``reglab``'s functions. User errors
(bad options, unreadable files, diverging training) print one line on stderr and exit with 2.

``group`` holds the command group, ``options`` and ``paths`` what the commands share, and
``training``, ``sweeping`` and ``tools`` the commands.
"""

from __future__ import annotations

import gc

import click

from .._signals import report_interrupt
from . import sweeping, tools, training  # noqa: F401  (each adds its commands to the group)
from .group import EXIT_USAGE, cli
from .options import flag, flag_value
from .paths import FULL

__all__ = ["main", "cli"]


def main(argv=None) -> int:
    """Entry point: run the command; user errors become one line on stderr and exit status 2."""
    code = _run(argv)
    if argv is None:
        # The process ends next: Python's last garbage collection would walk every object numba and
        # matplotlib made only to free memory the system frees anyway. Frozen objects are left out of
        # it (measured: `reglab compare` ends 0.3 s sooner, 1.9 s against 2.2 s); exit handlers still run.
        gc.freeze()
    return code


def _first_line(error: BaseException) -> str:
    return next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)


def _os_error_line(error: OSError) -> str:
    """An OSError as one line naming the file the user knows (not a hidden ``.partial`` name) and what to do."""
    from ..files import shown_path

    if error.errno is None or error.filename is None:  # reglab's own message, which names its file
        text = _first_line(error)
    else:
        text = f"{error.strerror}: {shown_path(error.filename)!r}"
    if error.errno in FULL:
        text += "; nothing half-written was left behind: free some space (or write elsewhere) and run the command again"
    return text


def _run(argv) -> int:
    try:
        cli.main(args=argv, prog_name="reglab", standalone_mode=False)
    except click.exceptions.Abort as error:
        # click turns a Ctrl-C (or SIGTERM) during a command, or at a prompt, into Abort, as it does a
        # declined confirmation: status 1 for that, not 130 (an interrupt) nor 2 (a usage error)
        interrupt = error.__cause__ or error.__context__
        if isinstance(interrupt, KeyboardInterrupt):
            return report_interrupt(interrupt)
        click.echo("reglab: aborted", err=True)
        return 1
    except click.ClickException as error:
        click.echo(f"reglab: error: {error.format_message()}", err=True)
        return EXIT_USAGE
    except (ValueError, MemoryError) as error:
        # reglab.TrainingDivergedError is a ValueError: said with the options that set what is at fault
        divergences = getattr(error, "divergences", ())
        text = divergences[0].message(named=flag, valued=flag_value) if divergences else _first_line(error)
        click.echo(f"reglab: error: {text}", err=True)
        return EXIT_USAGE
    except OSError as error:  # a file that cannot be read or written, a full disk: the machine's limits
        click.echo(f"reglab: error: {_os_error_line(error)}", err=True)
        return EXIT_USAGE
    except KeyboardInterrupt as interrupt:
        return report_interrupt(interrupt)
    return 0

