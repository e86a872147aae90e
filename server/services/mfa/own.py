"""A staff member's own second factor, from a session: how it stands, finishing a voluntary
enrollment, fresh recovery codes, turning it off.

Turning it on goes through ``login.start_enrollment`` (the password again), ``login.enroll``
and ``login.confirm``, as the API's /auth/mfa/start, enroll and confirm do. Fresh codes and
turning it off need a code from the factor itself (a TOTP or a recovery code): a stolen
session alone must not strip or reissue it. Wrong codes count towards the same per-user
limit as wrong codes at login (``challenges.check_user_throttle``), so a session is not a
free way to guess them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.errors import Conflict, Forbidden, Invalid
from server.metrics import instruments
from server.models import (
    AuthToken,
    ChallengePurpose,
    MfaChallenge,
    MfaCredential,
    MfaRecoveryCode,
    User,
)
from server.services import sessions
from server.services.mfa import challenges, credentials, login, reset
from server.services.mfa.challenges import HeldLogin
from server.services.mfa.settings import MfaSettings
from server.tokens import new_token, token_hash

WRONG_CODE = "Wrong or already used code."


@dataclass(frozen=True)
class FactorStanding:
    """Whether the user's second factor is on, whether her role requires it, and how many
    unused recovery codes she has left."""

    enrolled: bool
    required: bool
    recovery_codes_left: int


def standing(session: Session, user: User, settings: MfaSettings) -> FactorStanding:
    """How the user's second factor stands (no secret, no code)."""
    credential = credentials.credential_of(session, user.id)
    enrolled = credential is not None and credential.confirmed_at is not None
    left = 0
    if credential is not None and enrolled:
        left = session.scalar(select(func.count()).select_from(MfaRecoveryCode).where(
            MfaRecoveryCode.credential_id == credential.id,
            MfaRecoveryCode.used_at.is_(None))) or 0
    return FactorStanding(enrolled, settings.required_for(user.role.value), left)


def start(session: Session, user: User, password: str, settings: MfaSettings,
          actor: audit.Actor, now: datetime, policy: sessions.TokenPolicy
          ) -> tuple[HeldLogin, login.Enrollment]:
    """Turn it on, step one: the password again (``login.start_enrollment``), then a new
    secret for the held login (``login.enroll``); the mfa_token confirms it."""
    held = login.start_enrollment(session, user, password, settings, actor, now, policy)
    return held, login.enroll(session, held.mfa_token, settings, actor, now)


def confirm_enrollment(session: Session, current: AuthToken, mfa_token: str, code: str,
                       settings: MfaSettings, actor: audit.Actor, now: datetime,
                       policy: sessions.TokenPolicy) -> login.Confirmed:
    """Confirm a voluntary enrollment started from ``current`` (``login.confirm``); the
    login it finishes replaces ``current``, which ends: the new session is the one that
    proved the factor."""
    challenge = challenges.live_challenge(session, mfa_token, ChallengePurpose.ENROLL, now)
    if challenge.user_id != current.user_id:
        raise Forbidden("This enrollment belongs to another account.", code="not_yours")
    confirmed = login.confirm(session, mfa_token, code, settings, actor, now, policy)
    sessions.logout(session, current, now)
    return confirmed


def _refuse_code(session: Session, user: User, actor: audit.Actor, action: str,
                 now: datetime) -> Invalid:
    """Count a wrong code against the user's limit (an ended challenge row holding one
    failure, which ``check_user_throttle`` sums; and for /metrics), audit it, commit; the
    refusal to raise."""
    instruments.mfa_failures.inc()
    session.add(MfaChallenge(user_id=user.id, token_hash=token_hash(new_token()),
                             purpose=ChallengePurpose.VERIFY, created_at=now, expires_at=now,
                             failures=1, ended_at=now))
    audit.record(session, actor, action, "user", at=now, entity_id=user.id, outcome="refused")
    session.commit()
    return Invalid(WRONG_CODE, {"code": [f"{WRONG_CODE} Enter the code your authenticator "
                                         "app shows now, or one of your recovery codes."]})


def _proven(session: Session, user: User, code: str, settings: MfaSettings,
            actor: audit.Actor, action: str, now: datetime) -> MfaCredential:
    """The user's confirmed credential, once ``code`` proved she holds it; else refuse."""
    challenges.check_user_throttle(session, user.id, settings, now)
    credential = credentials.credential_of(session, user.id, lock=True)
    if credential is None or credential.confirmed_at is None:
        raise Conflict("Your second factor is not on.", code="mfa_not_enrolled")
    if not code.strip():
        raise Invalid("Enter a code.", {"code": ["Enter the 6-digit code your "
                                                 "authenticator app shows."]})
    if credentials.check_code(session, credential, code, settings.data_key, now) is None:
        raise _refuse_code(session, user, actor, action, now)
    return credential


def new_recovery_codes(session: Session, user: User, code: str, settings: MfaSettings,
                       actor: audit.Actor, now: datetime) -> list[str]:
    """Ten fresh recovery codes replacing the old ones (shown once), after a code."""
    credential = _proven(session, user, code, settings, actor, "mfa_recovery_codes", now)
    codes = credentials.issue_recovery_codes(session, credential)
    audit.record(session, actor, "mfa_recovery_codes", "user", at=now, entity_id=user.id)
    session.commit()
    return codes


def turn_off(session: Session, user: User, code: str, settings: MfaSettings,
             actor: audit.Actor, now: datetime) -> None:
    """Remove the user's own second factor after a code, when her role does not need one."""
    if settings.required_for(user.role.value):
        raise Forbidden("Your role requires a second factor: it stays on.",
                        code="mfa_required_for_role")
    _proven(session, user, code, settings, actor, "mfa_reset", now)
    reset.reset(session, user, actor, now)

