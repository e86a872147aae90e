"""Throttling of failed logins and enrollments that slows a guesser without handing him a
way to lock the agency out.

Three limits on failed logins, each a count of failures within a sliding window:

- per (account, address): the guesser at one address gets a few tries at one account, then
  waits; the nurse from any other address is not affected;
- per address, over all accounts: stops one address spraying a common password over many
  accounts; set high enough for a clinic NAT or the agency proxy full of nurses;
- per account, over all addresses: a slower brake on many addresses (a botnet) guessing one
  account.

The address and account limits never hold a login from an address that has logged in to
that account with the right password recently (``KnownLoginAddress``): a guesser elsewhere
can make the nurse's login from a new address wait, never from her usual one. The pair
limit always applies, so guessing from her own address is still slowed. Everything is
decided before the password is checked, so a 429 says nothing about the password.

A refused (429) attempt is not a failure and is not counted: waiting is enough to get in.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.errors import Throttled
from server.metrics import instruments
from server.models import EnrollmentFailure, KnownLoginAddress, LoginFailure

# The columns are String(64) and String(254): an address longer than any IP (a misconfigured
# proxy chain forwarding a client's header), or an email that lower-casing made longer
# ("İ" becomes two characters), must be cut, not fail the insert.
ADDRESS_LENGTH = 64
EMAIL_LENGTH = 254


@dataclass(frozen=True)
class Limit:
    """At most ``failures`` failures within ``window``; then wait until one ages out."""

    failures: int
    window: timedelta


@dataclass(frozen=True)
class LoginThrottle:
    """The three login limits and how long a successful address stays known."""

    per_account_address: Limit = field(default_factory=lambda: Limit(5, timedelta(minutes=15)))
    per_address: Limit = field(default_factory=lambda: Limit(50, timedelta(minutes=15)))
    per_account: Limit = field(default_factory=lambda: Limit(20, timedelta(hours=1)))
    known_address_for: timedelta = timedelta(days=30)

    @property
    def longest_window(self) -> timedelta:
        """Failures older than this count for nothing and may be deleted."""
        return max(self.per_account_address.window, self.per_address.window,
                   self.per_account.window)


def address_key(remote_addr: str | None) -> str:
    """The address as the throttles store it."""
    return (remote_addr or "unknown")[:ADDRESS_LENGTH]


def email_key(email: str) -> str:
    """The (lower-cased) email as the login throttle stores it."""
    return email[:EMAIL_LENGTH]


def _wait(session: Session, times: Select[Any], column: Any, limit: Limit,
          now: datetime) -> float:
    """Seconds until fewer than ``limit.failures`` of ``times`` lie in the window (0: go).

    The blocking failure is the ``limit.failures``-th newest: once it ages out of the window
    the count is under the limit again, so the wait is the real remaining time.
    """
    blocking = session.scalar(times.where(column > now - limit.window)
                              .order_by(column.desc()).offset(max(limit.failures, 1) - 1)
                              .limit(1))
    return 0.0 if blocking is None else (blocking + limit.window - now).total_seconds()


def _refuse_if_waiting(seconds: float, what: str, attempt: str) -> None:
    """Raise ``Throttled`` when there is a wait, counted for /metrics as ``attempt``."""
    if seconds > 0:
        instruments.throttled.labels(attempt).inc()
        retry_after = max(1, math.ceil(seconds))
        wait = (f"{math.ceil(retry_after / 60)} minutes" if retry_after > 90
                else f"{retry_after} seconds")
        raise Throttled(f"Too many failed {what}; try again in {wait}.",
                        {"retry_after_s": retry_after})


def is_known_address(session: Session, user_id: uuid.UUID | None, addr: str, now: datetime,
                     policy: LoginThrottle) -> bool:
    """True when ``user_id`` logged in from ``addr`` within ``known_address_for``."""
    if user_id is None:
        return False
    seen = session.scalar(select(KnownLoginAddress.last_success_at).where(
        KnownLoginAddress.user_id == user_id, KnownLoginAddress.remote_addr == addr))
    return seen is not None and seen > now - policy.known_address_for


def check_login(session: Session, email: str, addr: str, user_id: uuid.UUID | None,
                now: datetime, policy: LoginThrottle) -> None:
    """Raise ``Throttled`` (with the real ``retry_after_s``) if this attempt must wait."""
    failures = select(LoginFailure.at)
    waits = [_wait(session, failures.where(LoginFailure.email == email,
                                           LoginFailure.remote_addr == addr),
                   LoginFailure.at, policy.per_account_address, now)]
    if not is_known_address(session, user_id, addr, now, policy):
        waits.append(_wait(session, failures.where(LoginFailure.remote_addr == addr),
                           LoginFailure.at, policy.per_address, now))
        waits.append(_wait(session, failures.where(LoginFailure.email == email),
                           LoginFailure.at, policy.per_account, now))
    _refuse_if_waiting(max(waits), "logins", "login")


def record_login_failure(session: Session, email: str, addr: str, now: datetime,
                         policy: LoginThrottle) -> None:
    """Count a failure (and for /metrics), and drop this account's and address's failures
    too old to count."""
    instruments.login_failures.inc()
    stale = LoginFailure.at <= now - policy.longest_window
    session.execute(delete(LoginFailure).where(LoginFailure.email == email, stale))
    session.execute(delete(LoginFailure).where(LoginFailure.remote_addr == addr, stale))
    session.add(LoginFailure(email=email, remote_addr=addr, at=now))


def record_login_success(session: Session, user_id: uuid.UUID, email: str, addr: str,
                         now: datetime) -> None:
    """Forget this pair's failures (not the account's: a botnet keeps its brake) and
    remember the address as known for the account."""
    session.execute(delete(LoginFailure).where(LoginFailure.email == email,
                                               LoginFailure.remote_addr == addr))
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(KnownLoginAddress)
                    .values(id=uuid.uuid4(), user_id=user_id, remote_addr=addr,
                            last_success_at=now)
                    .on_conflict_do_update(index_elements=["user_id", "remote_addr"],
                                           set_={"last_success_at": now}))


def check_enrollment(session: Session, addr: str, now: datetime, limit: Limit) -> None:
    """Raise ``Throttled`` if this address has guessed too many enrollment codes."""
    times = select(EnrollmentFailure.at).where(EnrollmentFailure.remote_addr == addr)
    _refuse_if_waiting(_wait(session, times, EnrollmentFailure.at, limit, now),
                       "enrollment codes", "enrollment")


def record_enrollment_failure(session: Session, addr: str, now: datetime, limit: Limit) -> None:
    """Count a refused code, and drop this address's failures too old to count."""
    session.execute(delete(EnrollmentFailure).where(
        EnrollmentFailure.remote_addr == addr, EnrollmentFailure.at <= now - limit.window))
    session.add(EnrollmentFailure(remote_addr=addr, at=now))
