"""A staff member's second factor: her TOTP secret, recovery codes and pending MFA logins."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, UUIDPrimaryKey, str_enum, utcnow


class MfaCredential(UUIDPrimaryKey, Base):
    """One user's TOTP secret, sealed under the data key with this row's id as associated data.

    ``confirmed_at`` is NULL while enrollment waits for its first code: an unconfirmed
    secret protects nothing. ``last_used_step`` is the 30-second time step of the last
    accepted code; a code of that step or an earlier one is a replay.
    """

    __tablename__ = "mfa_credentials"

    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret_sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    last_used_step: Mapped[int | None] = mapped_column(BigInteger)

    recovery_codes: Mapped[list[MfaRecoveryCode]] = relationship(
        back_populates="credential", cascade="all, delete-orphan", passive_deletes=True)


class MfaRecoveryCode(UUIDPrimaryKey, Base):
    """A one-time recovery code, stored as its SHA-256 (each code holds 100 random bits)."""

    __tablename__ = "mfa_recovery_codes"

    credential_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("mfa_credentials.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None]

    credential: Mapped[MfaCredential] = relationship(back_populates="recovery_codes")

    __table_args__ = (UniqueConstraint("credential_id", "code_hash"),)


class ChallengePurpose(StrEnum):
    """What an mfa_token lets its holder do."""

    VERIFY = "verify"  # send a TOTP or recovery code to finish the login
    ENROLL = "enroll"  # set up a first TOTP secret, then finish the login


class MfaChallenge(UUIDPrimaryKey, Base):
    """A login held at the second factor: the mfa_token (stored as its SHA-256), short-lived,
    single-use, dead after too many wrong codes."""

    __tablename__ = "mfa_challenges"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[ChallengePurpose] = mapped_column(str_enum(ChallengePurpose, "mfa_purpose"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    failures: Mapped[int] = mapped_column(default=0)
    ended_at: Mapped[datetime | None]

    __table_args__ = (Index("ix_mfa_challenges_user_created", "user_id", "created_at"),)
