"""Staff login, token checks (idle and absolute expiry) and logout, with throttling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.errors import Unauthorized
from server.models import AuthToken, User
from server.passwords import dummy_hash, verify_password
from server.services import throttle
from server.services.throttle import LoginThrottle
from server.tokens import new_token, token_hash

Held = TypeVar("Held")


@dataclass(frozen=True)
class TokenPolicy:
    """How long a staff token lives, and how failed logins are throttled."""

    idle: timedelta = timedelta(minutes=15)
    absolute: timedelta = timedelta(hours=12)
    throttle: LoginThrottle = field(default_factory=LoginThrottle)


@dataclass(frozen=True)
class LoginResult:
    """A new token (shown once) and its hard expiry."""

    token: str
    expires_at: datetime
    user: User


def login(
    session: Session, email: str, password: str, actor: audit.Actor, now: datetime, p: TokenPolicy,
    gate: Callable[[User], Held | None] | None = None,
) -> LoginResult | Held:
    """Check the password and issue a token, or record the failure and refuse.

    With the right password, ``gate`` may hold the login at a second factor instead (see
    ``server.services.mfa.login``): what it returns is answered and no token is issued.
    """
    email = email.strip().lower()
    addr, key = throttle.address_key(actor.remote_addr), throttle.email_key(email)
    user = session.scalar(select(User).where(User.email == email))
    throttle.check_login(session, key, addr, user.id if user else None, now, p.throttle)
    ok = verify_password(password, user.password_hash if user else dummy_hash())
    if user is None or not ok or not user.active:
        throttle.record_login_failure(session, key, addr, now, p.throttle)
        audit.record(session, actor, "login", "session", at=now, outcome="refused")
        session.commit()
        raise Unauthorized("Wrong email or password, or the account is disabled.")
    # The password is right: the pair's failures end and the address becomes known, even
    # when a second factor is still to come (guessing codes has its own limits, in mfa).
    throttle.record_login_success(session, user.id, key, addr, now)
    if gate is not None and (held := gate(user)) is not None:
        return held
    return issue_token(session, user, actor, now, p)


def issue_token(session: Session, user: User, actor: audit.Actor, now: datetime, p: TokenPolicy,
                details: dict[str, str] | None = None) -> LoginResult:
    """Issue a token to ``user``, whose credentials were checked; audit and commit."""
    token = new_token()
    expires_at = now + p.absolute
    session.add(AuthToken(user=user, token_hash=token_hash(token), created_at=now,
                          last_used_at=now, expires_at=expires_at))
    audit.record(session, audit.Actor(user.id, actor.remote_addr, actor.request_id), "login",
                 "session", at=now, entity_id=user.id, details=details)
    session.commit()
    return LoginResult(token=token, expires_at=expires_at, user=user)


def authenticate(session: Session, token: str, now: datetime, p: TokenPolicy,
                 touch: bool = True) -> AuthToken:
    """Return the live token row for ``token`` or refuse; ``touch`` restarts its idle timer
    (the console's automatic refreshes check a session without keeping it alive)."""
    row = session.scalar(
        select(AuthToken).where(AuthToken.token_hash == token_hash(token))
    )
    if row is None or row.revoked_at is not None:
        raise Unauthorized("Log in again: this token is not valid.")
    if now >= row.expires_at or now - row.last_used_at >= p.idle:
        raise Unauthorized("Log in again: the session expired.", code="token_expired")
    if not row.user.active:
        raise Unauthorized("Log in again: the account is disabled.")
    if touch:
        row.last_used_at = now
        session.commit()
    return row


def logout(session: Session, row: AuthToken, now: datetime) -> None:
    """Revoke one token."""
    row.revoked_at = now
    session.commit()
