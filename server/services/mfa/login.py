"""Logins held at the second factor: the gate after the password, finishing, enrolling.

1. ``sessions.login`` checks the password, then calls ``gate``: a user with a confirmed
   credential gets an mfa_token to send with a code (``finish``); a user whose role
   requires MFA but who has none gets an mfa_token for enrollment (``enroll`` then
   ``confirm``, which finishes the login); anyone else gets her bearer token as before.
2. Voluntary enrollment from a session (``start_enrollment``) is a fresh login with the
   password, held for enrollment whatever the role: a stolen bearer token alone cannot
   put its thief's phone on the account.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from server import audit
from server.errors import Conflict, Forbidden, Unauthorized
from server.models import ChallengePurpose, MfaChallenge, User
from server.services import sessions
from server.services.mfa import challenges, credentials
from server.services.mfa.challenges import HeldLogin
from server.services.mfa.settings import MfaSettings


@dataclass(frozen=True)
class Enrollment:
    """A new TOTP secret, shown once, and the otpauth:// URI that carries it to an app."""

    secret: str
    otpauth_uri: str


@dataclass(frozen=True)
class Confirmed:
    """Recovery codes (shown once) and the login the confirmation finished."""

    recovery_codes: list[str]
    login: sessions.LoginResult


def _user_actor(user_id: uuid.UUID, actor: audit.Actor) -> audit.Actor:
    return audit.Actor(user_id, actor.remote_addr, actor.request_id)


def _hold(session: Session, user: User, purpose: ChallengePurpose, settings: MfaSettings,
          actor: audit.Actor, now: datetime) -> HeldLogin:
    held = challenges.open_challenge(session, user, purpose, settings, now)
    audit.record(session, _user_actor(user.id, actor), "login", "session", at=now,
                 entity_id=user.id, outcome="mfa_pending", details={"purpose": purpose.value})
    session.commit()
    return held


def gate(session: Session, settings: MfaSettings, actor: audit.Actor,
         now: datetime) -> Callable[[User], HeldLogin | None]:
    """What ``sessions.login`` asks once the password is right: hold the login, or not."""

    def hold(user: User) -> HeldLogin | None:
        if credentials.is_enrolled(session, user.id):
            return _hold(session, user, ChallengePurpose.VERIFY, settings, actor, now)
        if settings.required_for(user.role.value):
            return _hold(session, user, ChallengePurpose.ENROLL, settings, actor, now)
        return None

    return hold


def _live_user(session: Session, challenge: MfaChallenge, now: datetime) -> User:
    """The challenge's user, if still active; otherwise the token ends and the login too."""
    user = session.get(User, challenge.user_id)
    if user is None or not user.active:
        challenge.ended_at = now
        session.commit()
        raise Unauthorized("Wrong email or password, or the account is disabled.")
    return user


def finish(session: Session, mfa_token: str, code: str, settings: MfaSettings,
           actor: audit.Actor, now: datetime, policy: sessions.TokenPolicy
           ) -> sessions.LoginResult:
    """Exchange an mfa_token and a TOTP or recovery code for a bearer token."""
    challenge = challenges.live_challenge(session, mfa_token, ChallengePurpose.VERIFY, now)
    challenges.check_user_throttle(session, challenge.user_id, settings, now)
    user = _live_user(session, challenge, now)
    credential = credentials.credential_of(session, user.id, lock=True)
    if credential is None or credential.confirmed_at is None:  # reset by an admin meanwhile
        challenge.ended_at = now
        session.commit()
        raise Unauthorized("Log in again: your second factor was reset.", code="mfa_token_invalid")
    method = credentials.check_code(session, credential, code, settings.data_key, now)
    if method is None:
        challenges.refuse(session, challenge, actor, settings, now)
    challenge.ended_at = now
    return sessions.issue_token(session, user, actor, now, policy, details={"mfa": method})


def enroll(session: Session, mfa_token: str, settings: MfaSettings, actor: audit.Actor,
           now: datetime) -> Enrollment:
    """A new TOTP secret for the user of an enrollment mfa_token (again replaces it)."""
    challenge = challenges.live_challenge(session, mfa_token, ChallengePurpose.ENROLL, now)
    user = _live_user(session, challenge, now)
    if credentials.is_enrolled(session, user.id):
        raise Conflict("A second factor is already set up; an admin can reset it.",
                       code="mfa_already_enrolled")
    _credential, secret = credentials.new_credential(session, user, settings.data_key, now)
    audit.record(session, _user_actor(user.id, actor), "mfa_enroll", "user", at=now,
                 entity_id=user.id, outcome="started")
    session.commit()
    return Enrollment(secret, credentials.uri(secret, user, settings.issuer))


def confirm(session: Session, mfa_token: str, code: str, settings: MfaSettings,
            actor: audit.Actor, now: datetime, policy: sessions.TokenPolicy) -> Confirmed:
    """Activate the enrolled secret with its first code: recovery codes, and the login."""
    challenge = challenges.live_challenge(session, mfa_token, ChallengePurpose.ENROLL, now)
    challenges.check_user_throttle(session, challenge.user_id, settings, now)
    user = _live_user(session, challenge, now)
    credential = credentials.credential_of(session, user.id, lock=True)
    if credential is None:
        raise Conflict("Call /auth/mfa/enroll first.", code="mfa_enrollment_not_started")
    if credential.confirmed_at is not None:  # confirmed meanwhile, through another token
        raise Conflict("A second factor is already set up; log in with it.",
                       code="mfa_already_enrolled")
    if not credentials.check_totp(credential, code.strip(), settings.data_key, now):
        challenges.refuse(session, challenge, actor, settings, now)
    credential.confirmed_at = now
    codes = credentials.issue_recovery_codes(session, credential)
    challenge.ended_at = now
    audit.record(session, _user_actor(user.id, actor), "mfa_confirm", "user", at=now,
                 entity_id=user.id)
    return Confirmed(codes, sessions.issue_token(session, user, actor, now, policy,
                                                 details={"mfa": "enrolled"}))


def start_enrollment(session: Session, user: User, password: str, settings: MfaSettings,
                     actor: audit.Actor, now: datetime, policy: sessions.TokenPolicy
                     ) -> HeldLogin:
    """From a session: check the password again (a throttled login) and hold for enrollment."""
    if credentials.is_enrolled(session, user.id):
        raise Conflict("A second factor is already set up; an admin can reset it.",
                       code="mfa_already_enrolled")

    def hold(member: User) -> HeldLogin:
        return _hold(session, member, ChallengePurpose.ENROLL, settings, actor, now)

    try:
        held = sessions.login(session, user.email, password, actor, now, policy, gate=hold)
    except Unauthorized as exc:  # a 401 would tell the client its session ended
        raise Forbidden("The password is wrong.", code="wrong_password") from exc
    if not isinstance(held, HeldLogin):  # hold never lets a login through
        raise TypeError("enrollment gate issued a token")
    return held
