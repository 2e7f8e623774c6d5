"""``python -m reglab``: the same as the ``reglab`` command."""

import sys

from ._launch import main

code = main()
if code == 130:
    # Interrupted, and the interruption was handled. But if Ctrl-C landed while exec()'d code ran
    # (a dataclass or named tuple being made as a module loads), CPython keeps a mark that it was
    # not handled and `python -m` then ends the process by SIGINT instead of with this status (seen
    # with 3.11 now and then). Running any exec() clears the mark.
    exec("pass")
sys.exit(code)
