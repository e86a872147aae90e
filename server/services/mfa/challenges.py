"""The mfa_token of a login held at the second factor.

It is a 256-bit random token, stored as its SHA-256 like bearer tokens, that lives
``token_lifetime`` (5 minutes), ends when used, and dies after ``max_failures_per_token``
wrong codes. Wrong codes are also counted per user over all her recent tokens, so logging
in again for a fresh token does not buy unlimited guesses.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import NoReturn

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.errors import Throttled, Unauthorized
from server.metrics import instruments
from server.models import ChallengePurpose, MfaChallenge, User
from server.services.mfa.settings import MfaSettings
from server.tokens import new_token, token_hash

STATUS = {ChallengePurpose.VERIFY: "mfa_required",
          ChallengePurpose.ENROLL: "mfa_enrollment_required"}


@dataclass(frozen=True)
class HeldLogin:
    """A login waiting for its second factor: no bearer token yet, an mfa_token instead."""

    status: str
    mfa_token: str
    expires_at: datetime


def open_challenge(session: Session, user: User, purpose: ChallengePurpose,
                   settings: MfaSettings, now: datetime) -> HeldLogin:
    """Add a fresh challenge for ``user`` (the caller commits) and return its token, once."""
    token = new_token()
    row = MfaChallenge(user_id=user.id, token_hash=token_hash(token), purpose=purpose,
                       created_at=now, expires_at=now + settings.token_lifetime)
    session.add(row)
    return HeldLogin(STATUS[purpose], token, row.expires_at)


def live_challenge(session: Session, token: str, purpose: ChallengePurpose,
                   now: datetime) -> MfaChallenge:
    """The challenge of ``token``, locked for this transaction, or a 401 saying why not."""
    row = session.scalar(select(MfaChallenge)
                         .where(MfaChallenge.token_hash == token_hash(token))
                         .with_for_update())
    if row is None or row.ended_at is not None or row.purpose is not purpose:
        raise Unauthorized("Log in again: this mfa_token is not valid here (unknown, already "
                           "used, or ended by too many wrong codes).", code="mfa_token_invalid")
    if now >= row.expires_at:
        raise Unauthorized("Log in again: the mfa_token expired (it lasts 5 minutes).",
                           code="mfa_token_expired")
    return row


def check_user_throttle(session: Session, user_id: uuid.UUID, settings: MfaSettings,
                        now: datetime) -> None:
    """Refuse (429) while the user's recent wrong codes, over all her tokens, reach the limit."""
    failures = session.scalar(
        select(func.coalesce(func.sum(MfaChallenge.failures), 0))
        .where(MfaChallenge.user_id == user_id,
               MfaChallenge.created_at >= now - settings.failure_window)
    ) or 0
    if failures >= settings.max_failures_per_user:
        instruments.throttled.labels("mfa").inc()
        raise Throttled("Too many wrong codes; wait a few minutes and log in again.",
                        {"retry_after_s": int(settings.failure_window.total_seconds())})


def refuse(session: Session, challenge: MfaChallenge, actor: audit.Actor,
           settings: MfaSettings, now: datetime) -> NoReturn:
    """Count a wrong code (ending the token at the limit, and for /metrics), audit it,
    commit, and refuse."""
    instruments.mfa_failures.inc()
    challenge.failures += 1
    left = max(settings.max_failures_per_token - challenge.failures, 0)
    if left == 0:
        challenge.ended_at = now
    audit.record(session, audit.Actor(challenge.user_id, actor.remote_addr, actor.request_id),
                 "login_mfa", "session", at=now, entity_id=challenge.user_id,
                 outcome="refused", details={"failures": challenge.failures})
    session.commit()
    message = (f"Wrong or already used code; {left} more tries with this mfa_token." if left
               else "Wrong or already used code; this mfa_token is now void: log in again.")
    raise Unauthorized(message, {"attempts_left": left}, code="mfa_code_invalid")
