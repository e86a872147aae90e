"""What the throttles remember besides failed logins: the addresses an account has logged in
from, and failed device enrollments."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, utcnow


class KnownLoginAddress(UUIDPrimaryKey, Base):
    """An address this account logged in from with the right password: an attacker hammering
    the account from elsewhere cannot keep her out from here (see ``login_throttle``)."""

    __tablename__ = "known_login_addresses"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    remote_addr: Mapped[str] = mapped_column(String(64))
    last_success_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("user_id", "remote_addr"),)


class EnrollmentFailure(UUIDPrimaryKey, Base):
    """One refused enrollment code, counted per address to stop guessing."""

    __tablename__ = "enrollment_failures"

    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_enrollment_failures_remote_addr_at", "remote_addr", "at"),)
