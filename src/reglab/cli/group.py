"""The ``reglab`` command group, which every command module adds its command to."""

from __future__ import annotations

import click

EXIT_USAGE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="reglab")
def cli():
    """reglab: regularization (L2, L1, dropout) in small neural networks, from the course notebook to grids of models."""
