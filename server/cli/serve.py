"""``infusync serve``: the production web server (gunicorn) in front of the app."""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import click
import gunicorn
from flask import current_app

from server.cli.database_check import with_migrated_database
from server.metrics.scrape import MULTIPROC_VARIABLE, multiprocess_directory


def metrics_directory(instance_path: str, port: int) -> Path:
    """An empty folder for this run's worker metrics (see ``server.metrics.scrape``).

    PROMETHEUS_MULTIPROC_DIR when the operator set it, else one per port in the instance
    folder. Emptied of the files of an earlier run: its workers' counts would otherwise be
    summed with this run's (and prometheus-client never removes them itself).
    """
    folder = Path(multiprocess_directory() or Path(instance_path) / "metrics" / str(port))
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    return folder


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
    # In gunicorn's environment from its start: prometheus-client reads it when first
    # imported, and each worker keeps its values there (this process's own is left alone).
    env = {**os.environ,
           MULTIPROC_VARIABLE: str(metrics_directory(current_app.instance_path, port))}
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
    os.execve(sys.executable, args, env)  # noqa: S606 - replaces this process with gunicorn
