"""Notifications: to a nurse's devices (through her pull) and to staff (the API inbox)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, utcnow


class Notification(UUIDPrimaryKey, Base):
    """A message for one user: a nurse (missed visit, silent device, pump maintenance,
    training) or a staff member (a critical finding on a physician's patient, an escalation).

    ``dedupe_key`` is unique: a job that runs again for the same fact notifies once.
    ``patient_id`` and ``review_item_id`` point at what a staff notification is about, so
    its text never has to quote the record; ``read_at`` is set by the staff inbox.
    """

    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    visit_id: Mapped[uuid.UUID | None]
    pump_id: Mapped[uuid.UUID | None]
    module_id: Mapped[uuid.UUID | None]
    patient_id: Mapped[uuid.UUID | None]
    review_item_id: Mapped[uuid.UUID | None]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    read_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)


class EmailOutbox(UUIDPrimaryKey, Base):
    """A staff notification still to be announced by e-mail (``server.scheduler.mail``).

    Written in the transaction that writes the notification, sent later by a job: no
    request waits on a mail server, and a notification rolled back is never mailed.
    ``next_attempt_at`` is both the retry time and the claim: a run that takes a row moves
    it forward first, so two runs never send the same row.
    """

    __tablename__ = "email_outbox"

    notification_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # The error's type only: a mail server's message may quote the address or the text.
    last_error: Mapped[str | None] = mapped_column(String(100))

    __table_args__ = (Index("ix_email_outbox_status_next", "status", "next_attempt_at"),)
