"""``python -m reglab``: the same as the ``reglab`` command."""

import sys

from .cli import main

sys.exit(main())
