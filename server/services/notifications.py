"""Notifications to a nurse's devices: written once per fact, delivered through her feed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import Notification


def notify(session: Session, user_id: uuid.UUID, kind: str, title: str, body: str, *,
           dedupe_key: str, now: datetime, visit_id: uuid.UUID | None = None,
           pump_id: uuid.UUID | None = None,
           module_id: uuid.UUID | None = None) -> Notification | None:
    """Add a notification unless one with ``dedupe_key`` exists (then None).

    The unique key decides, inside a savepoint: no check-then-insert race, and the feed
    entry the flush writes is rolled back with a duplicate.
    """
    notification = Notification(
        user_id=user_id, kind=kind, title=title[:200], body=body[:1000], visit_id=visit_id,
        pump_id=pump_id, module_id=module_id, dedupe_key=dedupe_key[:200], created_at=now)
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        return None
    return notification
