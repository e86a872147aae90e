"""Registering the command groups on the app (``infusync --help`` lists them)."""

from __future__ import annotations

from flask import Flask

from server.cli import audit_trail, backup, pumps, scheduler, seed, serve, sync_admin, users


def init_app(app: Flask) -> None:
    """Add every infusync command to ``app.cli``."""
    app.cli.add_command(users.group)
    app.cli.add_command(serve.serve)
    app.cli.add_command(sync_admin.keys)
    app.cli.add_command(sync_admin.devices_group)
    app.cli.add_command(sync_admin.sync_group)
    app.cli.add_command(seed.seed_demo)
    app.cli.add_command(scheduler.scheduler)
    app.cli.add_command(scheduler.jobs_group)
    app.cli.add_command(audit_trail.group)
    app.cli.add_command(pumps.group)
    app.cli.add_command(backup.backup)
