"""``python -m reglab``: the same as the ``reglab`` command."""

import sys

from ._launch import main

code = main()
if code == 130:
    # Interrupted and handled. A Ctrl-C that landed while exec()'d code ran (a dataclass being made as a
    # module loads) leaves CPython's mark that it was not handled, and `python -m` would end by SIGINT
    # instead of with this status; any exec() clears the mark (tests/test_cli.py reproduces the case).
    exec("pass")
sys.exit(code)
