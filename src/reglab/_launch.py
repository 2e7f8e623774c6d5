"""The ``reglab`` program's entry point, which loads the command line inside its Ctrl-C handling.

It imports nothing but the standard library: a Ctrl-C while click and the command line load
(the program's first 0.1 s) ends the program like one later on, with a line and status 130, not
with Python's traceback.
"""

import sys

INTERRUPTED = "reglab: interrupted; nothing half-written was left behind"


def main() -> int:
    """Run the ``reglab`` command line (``reglab.cli.main``) and return its exit status."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    return run()
