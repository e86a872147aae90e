"""Server hooks for the gunicorn workers ``infusync serve`` starts (``-c python:...``).

Process-wide tuning of a long-running worker lives here, not in the services: a test or a
CLI command that calls the same services must not have its heap frozen.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from prometheus_client import multiprocess

from server.metrics.scrape import multiprocess_directory

PUSH_PATH = "/api/v1/sync/push"
CONSOLE_PREFIX = "/console/"


def post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    """After this worker's first push or console page, exempt what it has built from the
    garbage collector.

    A push allocates thousands of short-lived containers (the decoded batch, rows, results),
    which keeps triggering the collector's full passes; each walked the whole long-lived heap
    of the app, its models and SQLAlchemy's compiled statements, about a sixth of a push's
    CPU. After the first push that heap is built (statements compiled, mappers configured):
    ``gc.freeze`` moves what exists then (after one collection) out of those passes; it is
    still freed by reference counting, and everything allocated later is collected as
    before. A console page (the board: 480 visits' rows and their markup) pays the same full
    passes — its p95 at 1 M visits was 140-171 ms with them, 77 ms without (README) — and a
    worker may serve pages long before its first push, so its first page freezes the heap
    too (templates compiled by then).
    """
    path = environ.get("PATH_INFO") or ""
    if getattr(worker, "infusync_heap_frozen", False) or not (
            path == PUSH_PATH or path.startswith(CONSOLE_PREFIX)):
        return
    worker.infusync_heap_frozen = True
    gc.collect()
    gc.freeze()


def child_exit(server: Any, worker: Any) -> None:
    """A worker is gone: drop its live gauges from /metrics (its counters stay summed).

    prometheus-client's multiprocess mode keeps a file per worker; a gauge that reports
    what a live process holds must not outlive the process.
    """
    multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]



# The GIL's switch interval in a served worker (CPython's default is 5 ms).
SWITCH_INTERVAL_MS_VARIABLE = "INFUSYNC_WORKER_SWITCH_INTERVAL_MS"
DEFAULT_SWITCH_INTERVAL_MS = 0.5


def switch_interval_seconds(environ: Mapping[str, str]) -> float:
    """The switch interval a worker runs with: the variable's milliseconds, else 0.5 ms
    (``infusync serve`` checks it before gunicorn starts, so a worker never refuses it)."""
    value = environ.get(SWITCH_INTERVAL_MS_VARIABLE, "").strip()
    try:
        milliseconds = float(value) if value else DEFAULT_SWITCH_INTERVAL_MS
    except ValueError:
        milliseconds = -1.0
    if not 0 < milliseconds <= 100:  # also refuses nan
        raise ValueError(f"{SWITCH_INTERVAL_MS_VARIABLE} must be a number of milliseconds "
                         f"above 0 and at most 100, not {value!r}")
    return milliseconds / 1000


# Whether the arbiter builds the app once and forks its workers from it.
PRELOAD_VARIABLE = "INFUSYNC_SERVE_PRELOAD"
_YES, _NO = frozenset({"1", "true", "yes", "on"}), frozenset({"0", "false", "no", "off"})


def wants_preload(environ: Mapping[str, str]) -> bool:
    """True unless the variable says ``false``: workers fork from the arbiter's built app.

    Each worker used to import and build the app itself (about 0.9 s of CPU each, 1.8 s
    under coverage) and kept its own copy of it; forked, they start at once and share the
    arbiter's pages until they write them. What the arbiter opened that a worker must not
    share is re-made in ``post_fork``. The one cost: ``kill -HUP`` no longer loads changed
    code into new workers (restart the service to deploy, as docs/production.md says) —
    ``false`` restores that.
    """
    value = environ.get(PRELOAD_VARIABLE, "").strip().lower()
    if not value or value in _YES:
        return True
    if value in _NO:
        return False
    raise ValueError(f"{PRELOAD_VARIABLE} must be true or false, not {value!r}")


def forget_inherited_connections(app: Flask) -> None:
    """Drop, without closing, the database connections a forked worker inherited.

    A pooled connection is a socket (or a SQLite handle) the arbiter opened: two processes
    talking over one socket interleave their messages. ``dispose(close=False)`` gives this
    worker empty pools of its own and leaves the arbiter's connections open for it
    (SQLAlchemy's "Using Connection Pools with Multiprocessing or os.fork()").
    """
    from server.extensions import db

    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)


def open_own_metric_files() -> None:
    """Give this worker its own metric files at once, every known series at zero in them.

    A forked worker inherits the arbiter's values, kept in the arbiter's files;
    prometheus-client moves them to this pid's files at the first value it reads or
    writes. Reading them all now does that before the first request, so a scrape sees
    every series from the start, as when each worker built the app itself.
    """
    from server.metrics.instruments import INSTRUMENTS

    for _family in INSTRUMENTS.collect():
        pass


def when_ready(server: Any) -> None:
    """The arbiter counts nothing: drop the empty metric files the preloaded app made for
    it, so the metrics folder holds the workers' files alone (one per worker, as before)."""
    directory = multiprocess_directory()
    if directory and server.cfg.preload_app:
        for path in Path(directory).glob(f"*_{os.getpid()}.db"):
            path.unlink()


def post_fork(server: Any, worker: Any) -> None:
    """Make the preloaded app this worker's own, then let a thread back into Python within
    0.5 ms of its answer from the database, not 5.

    A worker's threads share one interpreter lock. A thread whose statement has returned
    waits for the lock until the running thread gives it up, at the latest after the
    switch interval. Every audited commit (each push, each pull) holds the audit chain's
    head row from its ``SELECT … FOR UPDATE`` to its ``COMMIT`` (``server/audit_chain``):
    three round trips, each ending in that wait while the worker's other threads validate
    and seal. The agency's commits pass the head one at a time, so a wait there is a wait
    for everyone: in the morning rush (``bench/rush.py``, 100 devices, a loaded host) over
    nine in ten of PostgreSQL's running backends were waiting on that row, and the rush took
    47-51 s at 5 ms, 28-35 s at 2 ms and 19-25 s at 0.5 ms (0.1 ms: 22-27 s, more CPU).
    """
    # gunicorn's application holds the app it loaded; None: this worker builds its own.
    preloaded = getattr(getattr(server, "app", None), "callable", None)
    if isinstance(preloaded, Flask):
        forget_inherited_connections(preloaded)
        open_own_metric_files()
    sys.setswitchinterval(switch_interval_seconds(os.environ))
