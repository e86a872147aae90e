"""Notifications to one nurse's devices: alerts and reminders that travel in her pull."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, utcnow


class Notification(UUIDPrimaryKey, Base):
    """A message for a nurse (missed visit, silent device, pump maintenance, training).

    ``dedupe_key`` is unique: a job that runs again for the same fact notifies once.
    """

    __tablename__ = "notifications"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(1000))
    visit_id: Mapped[uuid.UUID | None]
    pump_id: Mapped[uuid.UUID | None]
    module_id: Mapped[uuid.UUID | None]
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (Index("ix_notifications_user_created", "user_id", "created_at"),)
