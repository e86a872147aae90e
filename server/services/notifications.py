"""Notifications, written once per fact: a nurse's reach her devices through her feed; a
staff member's wait in her inbox (``server.services.inbox``) and are announced by e-mail.

Staff notifications name a kind, the patient and the review item by id, in plain words: the
text never carries a clinical value or a name, so neither the row nor the e-mail it
triggers becomes a copy of the record. The reader follows the ids into the API, where her
access is checked and audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.models import EmailOutbox, Notification, ReviewItem, Role, User, Visit
from server.services.scope import treating_physician_ids

CRITICAL_FINDING, ESCALATION = "critical_finding", "critical_escalation"


def notify(session: Session, user_id: uuid.UUID, kind: str, title: str, body: str, *,
           dedupe_key: str, now: datetime, visit_id: uuid.UUID | None = None,
           pump_id: uuid.UUID | None = None, module_id: uuid.UUID | None = None,
           patient_id: uuid.UUID | None = None,
           review_item_id: uuid.UUID | None = None) -> Notification | None:
    """Add a notification unless one with ``dedupe_key`` exists (then None).

    The unique key decides, inside a savepoint: no check-then-insert race, and the feed
    entry the flush writes is rolled back with a duplicate.
    """
    notification = Notification(
        user_id=user_id, kind=kind, title=title[:200], body=body[:1000], visit_id=visit_id,
        pump_id=pump_id, module_id=module_id, patient_id=patient_id,
        review_item_id=review_item_id, dedupe_key=dedupe_key[:200], created_at=now)
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:
        return None
    return notification


def notify_staff(session: Session, user_ids: Iterable[uuid.UUID], kind: str, title: str,
                 body: str, *, fact: str, now: datetime, patient_id: uuid.UUID | None,
                 review_item_id: uuid.UUID | None) -> list[Notification]:
    """One inbox notification per user for ``fact`` (once each, ever), each with an e-mail
    queued in the same transaction; the new ones."""
    written = []
    for user_id in sorted(set(user_ids), key=str):
        notification = notify(session, user_id, kind, title, body,
                              dedupe_key=f"{fact}:{user_id}", now=now, patient_id=patient_id,
                              review_item_id=review_item_id)
        if notification is not None:
            session.add(EmailOutbox(notification_id=notification.id, user_id=user_id,
                                    created_at=now, next_attempt_at=now))
            written.append(notification)
    return written


def _label(kind: str) -> str:
    return kind.replace("_", " ")


def _patient_of(session: Session, item: ReviewItem) -> uuid.UUID | None:
    """The patient the item is about: its own, or its visit's."""
    if item.patient_id is not None or item.visit_id is None:
        return item.patient_id
    return session.scalar(select(Visit.patient_id).where(Visit.id == item.visit_id))


def tell_physicians(session: Session, item: ReviewItem, now: datetime) -> list[Notification]:
    """Notify the active physicians treating the item's patient (``scope``) of a critical
    item, once per item and physician; nothing when the item concerns no patient."""
    patient_id = _patient_of(session, item)
    if patient_id is None:
        return []
    physicians = session.scalars(select(User.id).where(
        User.id.in_(treating_physician_ids(patient_id)), User.role == Role.PHYSICIAN,
        User.active.is_(True)))
    return notify_staff(
        session, physicians, CRITICAL_FINDING,
        f"Critical finding on a patient of yours: {_label(item.kind)}",
        "Open the patient in infusync to see what was found and what is being done.",
        fact=f"{CRITICAL_FINDING}:{item.id}", now=now, patient_id=patient_id,
        review_item_id=item.id)


def tell_coordinators(session: Session, item: ReviewItem, waited_minutes: int,
                      now: datetime) -> list[Notification]:
    """Notify every active coordinator that a critical item waits unacknowledged; once
    per item and coordinator."""
    coordinators = session.scalars(select(User.id).where(
        User.role == Role.COORDINATOR, User.active.is_(True)))
    return notify_staff(
        session, coordinators, ESCALATION,
        f"Critical review item unacknowledged after {waited_minutes} minutes: "
        f"{_label(item.kind)}",
        "Nobody has acknowledged this critical item yet. Open the review queue, acknowledge "
        "it and see that its owner acts.",
        fact=f"{ESCALATION}:{item.id}", now=now, patient_id=_patient_of(session, item),
        review_item_id=item.id)
