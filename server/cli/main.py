"""The ``infusync`` console script."""

from __future__ import annotations

import click
from flask.cli import FlaskGroup

from server import create_app
from server.cli.backup import restore


@click.group(cls=FlaskGroup, create_app=lambda: create_app(), add_version_option=False)
def cli() -> None:
    """infusync: the sync server and EHR core for home infusion agencies."""


# Built without the app: the app would generate new keys for the instance being restored.
cli.add_command(restore)
