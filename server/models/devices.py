"""Nurses' enrolled devices, the one-time codes that enroll them, and commands to them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UUIDPrimaryKey, str_enum, utcnow
from server.models.users import User


class DeviceStatus(StrEnum):
    """Retired devices may still push what they hold; revoked ones get a wipe and nothing else."""

    ACTIVE = "active"
    RETIRED = "retired"
    REVOKED = "revoked"


class Device(UUIDPrimaryKey, Base):
    """A phone or tablet enrolled for one nurse, identified by its Ed25519 key."""

    __tablename__ = "devices"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    platform: Mapped[str] = mapped_column(String(40))
    app_version: Mapped[str] = mapped_column(String(40))
    signing_key: Mapped[str] = mapped_column(String(64))
    # Protocol v1.1: the X25519 key pulls are sealed to. NULL for a v1 device, whose pulls
    # stay plain until it re-enrolls (docs/protocol.md, "Protocol v1.1").
    hpke_public_key: Mapped[str | None] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[DeviceStatus] = mapped_column(
        str_enum(DeviceStatus, "device_status"), default=DeviceStatus.ACTIVE
    )
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime | None]
    last_push_at: Mapped[datetime | None]
    last_pull_at: Mapped[datetime | None]
    retired_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    wipe_delivered_at: Mapped[datetime | None]

    user: Mapped[User] = relationship()


class EnrollmentCode(UUIDPrimaryKey, Base):
    """A short-lived, single-use code a coordinator gives a nurse to enroll her device."""

    __tablename__ = "enrollment_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[uuid.UUID | None]


class DeviceCommand(UUIDPrimaryKey, Base):
    """An instruction for one device (``wipe``), delivered through its feed or a 403."""

    __tablename__ = "device_commands"

    device_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("devices.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]

    device: Mapped[Device] = relationship()
