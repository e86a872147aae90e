"""``infusync serve``: the production web server (gunicorn) in front of the app.

Threaded workers (gunicorn's ``gthread``): a device on a 32 kbit/s link takes minutes to
upload one batch, and a sync worker would be killed at ``--timeout`` mid-upload ("WORKER
TIMEOUT") while it held one of the agency's few workers the whole time. A gthread worker's
timeout only watches its main loop, so a slow upload finishes; it holds one thread, not
the worker, and idle keep-alive connections hold none. Capacity is workers x threads
requests at once; docs/production.md says when to add a buffering proxy instead.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path

import click
import gunicorn
from flask import current_app

from server.cli.database_check import with_migrated_database
from server.cli.gunicorn_hooks import switch_interval_seconds, wants_preload
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


WORKER_CLASSES = ("gthread", "sync")
DEFAULT_THREADS = 8
# With gthread this bounds a stuck worker (its main loop silent), never one request.
DEFAULT_TIMEOUT_SECONDS = 60


def default_workers() -> int:
    """One process per core plus one, at most 5: threads carry the concurrency."""
    return min(multiprocessing.cpu_count() + 1, 5)


def gunicorn_args(host: str, port: int, workers: int | None, threads: int,
                  worker_class: str, timeout: int, preload: bool = True) -> list[str]:
    """The gunicorn command line ``serve`` runs (``preload``: ``gunicorn_hooks.wants_preload``)."""
    args = [
        sys.executable, "-m", "gunicorn",
        "--bind", f"{host}:{port}",
        "--workers", str(workers or default_workers()),
        "--worker-class", worker_class,
        # gunicorn turns a sync worker with threads into gthread: sync means one.
        "--threads", str(threads if worker_class == "gthread" else 1),
        "--timeout", str(timeout),
        "--access-logfile", "-",
        "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
        # Every field escaped: a path cannot write a line (or a NUL) of its own.
        "--logger-class", "server.cli.access_log.EscapingLogger",
        "--config", "python:server.cli.gunicorn_hooks",
        "server:create_app()",
    ]
    if preload:
        args.insert(-1, "--preload")
    if gunicorn.version_info >= (27, 0):
        # gunicorn 27's control socket sits at one per-user path: two servers would share it.
        args.insert(-1, "--no-control-socket")
    return args


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=None, type=int, help="Default: cores + 1 (max 5).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=int,
              help="Requests each worker serves at once (a slow upload holds one).")
@click.option("--worker-class", default="gthread", show_default=True,
              type=click.Choice(WORKER_CLASSES))
@click.option("--timeout", default=DEFAULT_TIMEOUT_SECONDS, show_default=True, type=int,
              help="Restart a worker silent this long (gthread: not a request limit).")
@with_migrated_database
def serve(host: str, port: int, workers: int | None, threads: int, worker_class: str,
          timeout: int) -> None:
    """Serve the API with gunicorn (never starts the scheduler: see 'infusync scheduler')."""
    # In gunicorn's environment from its start: prometheus-client reads it when first
    # imported, and each worker keeps its values there (this process's own is left alone).
    try:
        switch_interval_seconds(os.environ)
        preload = wants_preload(os.environ)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    env = {**os.environ,
           MULTIPROC_VARIABLE: str(metrics_directory(current_app.instance_path, port))}
    # A pooled connection for each thread, unless the operator chose otherwise.
    env.setdefault("INFUSYNC_DATABASE_POOL_SIZE", str(threads))
    args = gunicorn_args(host, port, workers, threads, worker_class, timeout, preload)
    os.execve(sys.executable, args, env)  # noqa: S606 - replaces this process with gunicorn
