"""Running one job per OS process, all starting their timed part at the same moment.

Each job's process is forked from multiprocessing's fork server, a clean process (no
connection, no app) that imported the benchmark's modules once: a spawned process imported
them again for each job (``python -m bench`` loads the whole server), a few seconds of CPU
each on a 2-core machine, nine times in a quick run.
"""

from __future__ import annotations

import multiprocessing
import queue as queues
import traceback
from collections.abc import Callable, Sequence
from typing import Any

TIMEOUT_S = 600

Worker = Callable[[Any, Any], dict[str, Any]]


def _run(worker: Worker, job: Any, barrier: Any, results: Any) -> None:
    try:
        results.put(worker(job, barrier))
    except BaseException:  # the parent reports it; the others must not wait at the barrier
        barrier.abort()
        results.put({"error": traceback.format_exc()})


def run(worker: Worker, jobs: Sequence[Any]) -> list[dict[str, Any]]:
    """Run ``worker(job, barrier)`` for each job in its own process."""
    context = multiprocessing.get_context("forkserver")
    # Read when the fork server starts (the first run): the push's module, whose workers
    # are eight of the nine processes.
    context.set_forkserver_preload([worker.__module__])
    barrier = context.Barrier(len(jobs))
    results = context.Queue()
    processes = [context.Process(target=_run, args=(worker, job, barrier, results))
                 for job in jobs]
    for process in processes:
        process.start()
    try:
        outcomes = [results.get(timeout=TIMEOUT_S) for _ in jobs]
    except queues.Empty:
        raise RuntimeError("a benchmark process did not finish in time") from None
    finally:
        for process in processes:
            process.join(timeout=30)
    errors = [outcome["error"] for outcome in outcomes if "error" in outcome]
    if errors:
        raise RuntimeError("a benchmark process failed:\n" + errors[0])
    return outcomes


def rate(outcomes: Sequence[dict[str, Any]], count_key: str) -> tuple[int, float, float]:
    """(total count, wall seconds from the first start to the last end, count per second)."""
    total = sum(int(outcome[count_key]) for outcome in outcomes)
    wall = max(o["end"] for o in outcomes) - min(o["start"] for o in outcomes)
    return total, wall, total / wall
