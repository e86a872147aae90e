"""``infusync serve``: the production web server (gunicorn) in front of the app."""

from __future__ import annotations

import multiprocessing
import os
import sys

import click
import gunicorn

from server.cli.database_check import with_migrated_database


def default_workers() -> int:
    """gunicorn's rule of thumb, capped: 2 x cores + 1, at most 9."""
    return min(2 * multiprocessing.cpu_count() + 1, 9)


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Default: 2 x cores + 1 (max 9).")
@click.option("--timeout", default=60, show_default=True, type=int)
@with_migrated_database
def serve(host: str, port: int, workers: int | None, timeout: int) -> None:
    """Serve the API with gunicorn (never starts the scheduler: see 'infusync scheduler')."""
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers or default_workers()),
        "--timeout", str(timeout),
        "--access-logfile", "-",
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        # Every field escaped: a path cannot write a line (or a NUL) of its own.
        "--logger-class", "server.cli.access_log.EscapingLogger",
        "--config", "python:server.cli.gunicorn_hooks",
        "server:create_app()",
    ]
    if gunicorn.version_info >= (27, 0):
        # gunicorn 27's control socket sits at one per-user path: two servers would share it.
        args.insert(-1, "--no-control-socket")
    os.execv(sys.executable, args)  # noqa: S606 - replaces this process with gunicorn
