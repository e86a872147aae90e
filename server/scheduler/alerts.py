"""Alerts the jobs raise: a review item for the office, once per fact."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ReviewItem, ReviewStatus
from server.reconcile.findings import FINDINGS

SYSTEM_KINDS = ("visit_missed", "visit_missed_unassigned", "visit_late_unknown")


def open_alert(session: Session, kind: str, summary: str, *, dedupe_key: str, now: datetime,
               patient_id: uuid.UUID | None = None, visit_id: uuid.UUID | None = None,
               device_id: uuid.UUID | None = None, since: datetime | None = None,
               details: dict[str, Any] | None = None) -> ReviewItem | None:
    """Queue a review item unless one with ``dedupe_key`` exists (then None).

    Callers hold a lock on the subject (visit, nurse, pump) so two runs cannot both add it.
    """
    existing = select(ReviewItem.details).where(ReviewItem.kind == kind)
    for column, value in (("patient_id", patient_id), ("visit_id", visit_id)):
        if value is not None:
            existing = existing.where(getattr(ReviewItem, column) == value)
    if since is not None:
        existing = existing.where(ReviewItem.created_at >= since)
    if any(found.get("dedupe_key") == dedupe_key for found in session.scalars(existing)):
        return None
    finding = FINDINGS[kind]
    item = ReviewItem(
        kind=kind, severity=finding.severity, summary=summary[:300], patient_id=patient_id,
        visit_id=visit_id, device_id=device_id, created_at=now,
        details={**(details or {}), "dedupe_key": dedupe_key,
                 "allowed_resolutions": list(finding.resolutions)})
    session.add(item)
    return item


def close_alerts(session: Session, visit_id: uuid.UUID, kinds: tuple[str, ...],
                 resolution: str, now: datetime) -> int:
    """The system resolves open items of ``kinds`` on a visit (what they warned of is over)."""
    items = session.scalars(select(ReviewItem).where(
        ReviewItem.visit_id == visit_id, ReviewItem.kind.in_(kinds),
        ReviewItem.status == ReviewStatus.OPEN)).all()
    for item in items:
        item.status, item.resolved_at = ReviewStatus.RESOLVED, now
        item.resolution = resolution
        item.details = {**item.details, "resolved_with": {"resolution": resolution,
                                                          "by": "system"}}
    return len(items)


def aware(moment: datetime) -> datetime:
    """UTC-aware: SQLite hands back naive UTC datetimes (from aggregates, too)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
