"""Reading the record of scheduled job runs (no patient data: counts and error types)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.errors import Invalid
from server.models import JobRun
from server.services.records import MAX_PAGE, Page


def list_runs(session: Session, filters: dict[str, Any], page: int, size: int) -> Page:
    """Runs newest first (by scheduled time), filtered by job and outcome."""
    if page > MAX_PAGE:
        raise Invalid("The page number is too large.",
                      {"query": {"page": [f"Must be at most {MAX_PAGE}."]}})
    stmt = select(JobRun)
    for name in ("job_id", "outcome"):
        if name in filters:
            stmt = stmt.where(getattr(JobRun, name) == filters[name])
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    items = list(session.scalars(stmt.order_by(
        JobRun.scheduled_for.desc(), JobRun.started_at.desc(), JobRun.id)
        .limit(size).offset((page - 1) * size)))
    return Page(items=items, total=total)
