"""A staff member's own notifications: listing them and marking one read.

Each user sees only her own; another's id is answered as unknown (404). Reading a
notification that names a patient is a read of that patient's data, audited like any other.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.models import Notification
from server.services.records import Access, Page, get_one, list_page


def list_own(session: Session, access: Access, unread: bool | None, page: int,
             size: int) -> Page:
    """The user's notifications, newest first; one audit event naming their patients."""
    stmt = (select(Notification).where(Notification.user_id == access.actor.user_id)
            .order_by(Notification.created_at.desc(), Notification.id.desc()))
    if unread is not None:
        stmt = stmt.where(Notification.read_at.is_(None) if unread
                          else Notification.read_at.is_not(None))
    return list_page(session, stmt, access, "notifications", page, size,
                     lambda notification: notification.patient_id)


def mark_read(session: Session, notification_id: uuid.UUID, access: Access) -> Notification:
    """Mark one of the user's notifications read (again: the first time stays); audited."""
    mine = Access(access.actor, access.now, Notification.user_id == access.actor.user_id)
    notification = get_one(session, Notification, notification_id, mine,
                           lambda row: row.patient_id, "mark_read")
    if notification.read_at is None:
        notification.read_at = access.now
    audit.record(session, access.actor, "mark_read", "notifications", at=access.now,
                 entity_id=notification.id, patient_id=notification.patient_id)
    session.commit()
    return notification


def unread_count(session: Session, access: Access) -> int:
    """How many of the user's notifications are unread (a count: no patient named)."""
    return session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == access.actor.user_id, Notification.read_at.is_(None))) or 0
