"""Staff login, token checks (idle and absolute expiry) and logout, with throttling."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from server import audit
from server.errors import Throttled, Unauthorized
from server.models import AuthToken, LoginFailure, User
from server.passwords import dummy_hash, verify_password
from server.tokens import new_token, token_hash

Held = TypeVar("Held")


@dataclass(frozen=True)
class TokenPolicy:
    """How long a staff token lives, and how many failed logins are tolerated."""

    idle: timedelta = timedelta(minutes=15)
    absolute: timedelta = timedelta(hours=12)
    max_failures_per_account: int = 5
    max_failures_per_address: int = 20
    failure_window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class LoginResult:
    """A new token (shown once) and its hard expiry."""

    token: str
    expires_at: datetime
    user: User


def _check_throttle(session: Session, email: str, addr: str, now: datetime, p: TokenPolicy) -> None:
    since = now - p.failure_window
    recent = select(func.count()).select_from(LoginFailure).where(LoginFailure.at >= since)
    per_account = session.scalar(recent.where(LoginFailure.email == email)) or 0
    per_address = session.scalar(recent.where(LoginFailure.remote_addr == addr)) or 0
    if per_account >= p.max_failures_per_account or per_address >= p.max_failures_per_address:
        raise Throttled(
            "Too many failed logins; wait a few minutes and try again.",
            {"retry_after_s": int(p.failure_window.total_seconds())},
        )


def login(
    session: Session, email: str, password: str, actor: audit.Actor, now: datetime, p: TokenPolicy,
    gate: Callable[[User], Held | None] | None = None,
) -> LoginResult | Held:
    """Check the password and issue a token, or record the failure and refuse.

    With the right password, ``gate`` may hold the login at a second factor instead (see
    ``server.services.mfa.login``): what it returns is answered and no token is issued.
    """
    email = email.strip().lower()
    addr = actor.remote_addr or "unknown"
    _check_throttle(session, email, addr, now, p)
    user = session.scalar(select(User).where(User.email == email))
    ok = verify_password(password, user.password_hash if user else dummy_hash())
    if user is None or not ok or not user.active:
        session.add(LoginFailure(email=email, remote_addr=addr, at=now))
        audit.record(session, actor, "login", "session", at=now, outcome="refused")
        session.commit()
        raise Unauthorized("Wrong email or password, or the account is disabled.")
    session.execute(delete(LoginFailure).where(LoginFailure.email == email))
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


def authenticate(session: Session, token: str, now: datetime, p: TokenPolicy) -> AuthToken:
    """Return the live token row for ``token`` (touching its idle timer) or refuse."""
    row = session.scalar(
        select(AuthToken).where(AuthToken.token_hash == token_hash(token))
    )
    if row is None or row.revoked_at is not None:
        raise Unauthorized("Log in again: this token is not valid.")
    if now >= row.expires_at or now - row.last_used_at >= p.idle:
        raise Unauthorized("Log in again: the session expired.", code="token_expired")
    if not row.user.active:
        raise Unauthorized("Log in again: the account is disabled.")
    row.last_used_at = now
    session.commit()
    return row


def logout(session: Session, row: AuthToken, now: datetime) -> None:
    """Revoke one token."""
    row.revoked_at = now
    session.commit()
