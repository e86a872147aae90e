"""One run of one job for one scheduled time: claimed, run, recorded.

The claim is a row unique per ``(job_id, scheduled_for)``, committed before the body runs:
a second scheduler, a restarted one or ``infusync jobs run`` for the same time finds the row
taken and does nothing. The outcome records the error *type* only: messages can quote
patient data (PostgreSQL puts key values in them).
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import JobRun

log = logging.getLogger(__name__)

Body = Callable[[Session, datetime, Mapping[str, Any]], dict[str, int]]
RUNNING, SUCCEEDED, FAILED, INTERRUPTED = "running", "succeeded", "failed", "interrupted"


def runner_name() -> str:
    """Which process ran it: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"[:120]


def _claim(session: Session, job_id: str, scheduled_for: datetime,
           started_at: datetime) -> JobRun | None:
    run = JobRun(job_id=job_id, scheduled_for=scheduled_for, started_at=started_at,
                 outcome=RUNNING, counts={}, runner=runner_name())
    session.add(run)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return run


def run(session: Session, job_id: str, body: Body, scheduled_for: datetime,
        config: Mapping[str, Any], clock: Callable[[], datetime]) -> JobRun | None:
    """Run ``body`` once for ``scheduled_for``; None when that run was already claimed."""
    run_ = _claim(session, job_id, scheduled_for, clock())
    if run_ is None:
        log.info("job already claimed", extra={"job_id": job_id,
                                              "scheduled_for": scheduled_for.isoformat()})
        return None
    try:
        counts = body(session, scheduled_for, config)
    except Exception as exc:  # any failure is recorded, by type only
        session.rollback()
        run_ = session.get_one(JobRun, run_.id)
        run_.outcome, run_.error, run_.finished_at = FAILED, type(exc).__name__, clock()
        session.commit()
        log.error("job failed", extra={"job_id": job_id, "error_type": type(exc).__name__})
        return run_
    run_.outcome, run_.counts, run_.finished_at = SUCCEEDED, dict(counts), clock()
    session.commit()
    log.info("job succeeded", extra={"job_id": job_id, "counts": dict(counts)})
    return run_


def close_interrupted(session: Session, now: datetime) -> int:
    """Mark runs left ``running`` by a scheduler that died mid-job as ``interrupted``.

    Called by a scheduler that has just taken the lease: no other scheduler runs jobs now,
    so a run still ``running`` lost its process. Its scheduled time is not run again (the
    claim stays); the next time catches up, as every job body is written to.
    """
    # Session.execute is typed to return a Result; an UPDATE's is a CursorResult.
    result = cast("CursorResult[Any]", session.execute(
        update(JobRun).where(JobRun.outcome == RUNNING).values(
            outcome=INTERRUPTED, finished_at=now)))
    closed = result.rowcount
    session.commit()
    if closed:
        log.warning("job runs interrupted by a stopped scheduler", extra={"count": closed})
    return closed
