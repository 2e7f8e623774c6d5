"""Ctrl-C and SIGTERM: how the program reports them, and holding one back while a few lines must run whole.

Standard library only: the program's entry point (``_launch``) imports it before anything else."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Iterator

INTERRUPTED = "reglab: interrupted; nothing half-written was left behind"
TERMINATED = "reglab: terminated; nothing half-written was left behind"


class Terminated(KeyboardInterrupt):
    """Raised in the main thread by SIGTERM: whatever cleans up after a Ctrl-C cleans up after it."""


def report_interrupt(interrupt: KeyboardInterrupt) -> int:
    """Say on stderr that the program was interrupted (Ctrl-C) or terminated (SIGTERM); return its status."""
    terminated = isinstance(interrupt, Terminated)
    print(TERMINATED if terminated else INTERRUPTED, file=sys.stderr)
    return 143 if terminated else 130


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Run the block whole: a Ctrl-C that arrives meanwhile takes effect when it ends.

    For starting threads: a KeyboardInterrupt raised inside ``Thread.start`` (or an executor's
    ``submit``, which starts one) leaves a thread running that its starter does not know of, and
    so cannot stop or wait for. Only the main thread receives Ctrl-C; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(frame))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if received and callable(previous):
            previous(signal.SIGINT, received[0])  # Python's default handler raises KeyboardInterrupt
        elif received and previous == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)
