"""Server hooks for the gunicorn workers ``infusync serve`` starts (``-c python:...``).

Process-wide tuning of a long-running worker lives here, not in the services: a test or a
CLI command that calls the same services must not have its heap frozen.
"""

from __future__ import annotations

import gc
from typing import Any

from prometheus_client import multiprocess

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
