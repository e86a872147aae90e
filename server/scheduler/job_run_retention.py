"""Prune ``job_runs``: the scheduler writes a row per run (two jobs every minute, about a
million rows a year), and nothing reads a run months old.

Runs scheduled more than ``JOB_RUNS_KEEP_DAYS`` before the run's own time are deleted, but
each job's newest run and its newest successful run are always kept: ``/metrics`` reports
every job's last success (``infusync_job_last_success_timestamp_seconds``), and a job that
stopped or kept failing for months must still show when it last worked. Deleting the claim
of a time that old lets nothing run again: the scheduler only fires times within its misfire
grace, and every body is idempotent for its time anyway.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, select
from sqlalchemy.orm import Session, aliased

from server.models import JobRun
from server.scheduler.runs import SUCCEEDED


def _newest(outcome: str | None = None) -> Any:
    """The newest scheduled time of the deleted row's own job (of that outcome, if given)."""
    other = aliased(JobRun)
    query = select(func.max(other.scheduled_for)).where(other.job_id == JobRun.job_id)
    if outcome is not None:
        query = query.where(other.outcome == outcome)
    return query.scalar_subquery()


def prune(session: Session, before: datetime) -> int:
    """Delete the runs scheduled before ``before`` that are neither their job's newest run
    nor its newest success; how many were deleted."""
    newest_success = _newest(SUCCEEDED)
    stmt = delete(JobRun).where(
        JobRun.scheduled_for < before,
        JobRun.scheduled_for < _newest(),
        (newest_success.is_(None)) | (JobRun.scheduled_for != newest_success),
    )
    # Session.execute is typed to return a Result; a DELETE's is a CursorResult.
    result = cast("CursorResult[Any]", session.execute(stmt, execution_options={
        "synchronize_session": False}))
    return int(result.rowcount)


def run(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """The nightly job: prune what is older than the configured days before ``at``."""
    keep = timedelta(days=int(config["JOB_RUNS_KEEP_DAYS"]))
    return {"removed": prune(session, at - keep)}
