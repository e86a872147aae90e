"""The escalation job: a critical review item nobody acknowledged in time goes to the
coordinators (a notification each) and onto the board, once.

"Acknowledged" is ``acknowledged_at`` (``POST /review-items/{id}/acknowledge``) or a
resolution. The once is the item's own: ``escalated_at`` is set by one conditional UPDATE
(``WHERE escalated_at IS NULL``), so a second run, or two at once, finds nothing left to
escalate; the notifications' unique keys would refuse a repeat as well.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from server.models import ReviewItem, ReviewStatus, Severity
from server.services.notifications import tell_coordinators


def _mark_overdue(session: Session, at: datetime, after: timedelta) -> list[ReviewItem]:
    """Set ``escalated_at`` on each open, unacknowledged critical item older than ``after``
    that was never escalated; those items."""
    statement = (update(ReviewItem).where(
        ReviewItem.status == ReviewStatus.OPEN, ReviewItem.severity == Severity.CRITICAL,
        ReviewItem.acknowledged_at.is_(None), ReviewItem.escalated_at.is_(None),
        ReviewItem.created_at <= at - after).values(escalated_at=at).returning(ReviewItem)
        .execution_options(synchronize_session=False))
    return sorted(session.scalars(statement), key=lambda item: (item.created_at, str(item.id)))


def run(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """Escalate critical items unacknowledged for ``CRITICAL_ESCALATION_MINUTES``."""
    minutes = int(config["CRITICAL_ESCALATION_MINUTES"])
    items = _mark_overdue(session, at, timedelta(minutes=minutes))
    notified = sum(len(tell_coordinators(session, item, minutes, at)) for item in items)
    session.flush()
    return {"escalated": len(items), "notified": notified}
