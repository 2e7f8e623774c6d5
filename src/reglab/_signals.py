"""Holding a Ctrl-C back while a few lines run that must not be cut in the middle."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator


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
