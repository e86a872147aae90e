"""Staff accounts, their login tokens and failed-login records."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Timestamps, UUIDPrimaryKey, str_enum, utcnow


class Role(StrEnum):
    """What a staff member does at the agency; decides what she may see and change."""

    ADMIN = "admin"
    COORDINATOR = "coordinator"
    TRAINING_LEAD = "training_lead"
    QC = "qc"
    NURSE = "nurse"
    PHYSICIAN = "physician"
    # Reads the audit trail (the accounting of disclosures); no patient data.
    PRIVACY_OFFICER = "privacy_officer"


class User(UUIDPrimaryKey, Timestamps, Base):
    """A staff member. Emails are stored lower-cased so uniqueness ignores case."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role, "role"))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(default=True)
    competencies: Mapped[list[str]] = mapped_column(JSON, default=list)
    npi: Mapped[str | None] = mapped_column(String(10))
    version: Mapped[int] = mapped_column(default=1)

    tokens: Mapped[list[AuthToken]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )

    __mapper_args__ = {"version_id_col": version}


class AuthToken(UUIDPrimaryKey, Base):
    """An opaque staff session token; only its SHA-256 is stored."""

    __tablename__ = "auth_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class LoginFailure(UUIDPrimaryKey, Base):
    """One failed login, counted per account and per address to throttle guessing."""

    __tablename__ = "login_failures"

    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        Index("ix_login_failures_email_at", "email", "at"),
        Index("ix_login_failures_remote_addr_at", "remote_addr", "at"),
    )
