"""The ``reglab`` program's entry point, which loads the command line inside its Ctrl-C handling.

It imports nothing but the standard library: a Ctrl-C while click and the command line load
(the program's first 0.1 s) ends the program like one later on, with a line and status 130, not
with Python's traceback. A SIGTERM (``kill``, ``timeout``, a CI job cancelled) is handled as a
Ctrl-C is, so that it too leaves nothing half-written; the status is then 143.
"""

import signal

from ._signals import Terminated, report_interrupt


def _terminate(signum, frame):
    raise Terminated


def main() -> int:
    """Run the ``reglab`` command line (``reglab.cli.main``) and return its exit status."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from .cli import main as run
    except KeyboardInterrupt as interrupt:
        return report_interrupt(interrupt)
    return run()
