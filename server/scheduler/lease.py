"""The lease that lets one scheduler process run jobs while others wait.

PostgreSQL: a session-level advisory lock on a dedicated connection, held for the life of
the process — if the process dies, its connection closes and the server releases the lock.
SQLite: a ``scheduler_leases`` row with an expiry the holder renews every third of the
lease; a waiting process takes it over once it has expired. Lease times are wall-clock
time, never the app clock: they measure whether a process is alive, not the agency's day.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import create_engine, delete, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool
from sqlalchemy.sql import ColumnElement

from server.models import SchedulerLease
from server.models.base import utcnow

log = logging.getLogger(__name__)

LEASE_NAME = "scheduler"
# pg_advisory_lock key: "infusync scheduler", a fixed 64-bit number of our own.
ADVISORY_KEY = 0x696E_6673_7363_6864


class Lease(Protocol):
    """Taken by one process at a time."""

    def acquire(self) -> bool:
        """Take the lease if it is free; True when this process holds it."""

    def renew(self) -> bool:
        """Keep holding it; False when it was lost (stop running jobs)."""

    def release(self) -> None:
        """Give it up (clean shutdown)."""


class AdvisoryLease:
    """PostgreSQL: ``pg_try_advisory_lock`` on a connection outside the app's pool."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)
        self.connection: Connection | None = None

    def _connection(self) -> Connection:
        if self.connection is None:
            self.connection = self.engine.connect()
        return self.connection

    def _scalar(self, sql: str) -> object:
        connection = self._connection()
        value = connection.execute(text(sql), {"key": ADVISORY_KEY}).scalar()
        connection.commit()  # never sit idle in a transaction; the lock is session-level
        return value

    def acquire(self) -> bool:
        """Try the lock (never blocks)."""
        try:
            return bool(self._scalar("SELECT pg_try_advisory_lock(:key)"))
        except DBAPIError:
            self._drop()
            return False

    def renew(self) -> bool:
        """The connection still answers and still holds the lock."""
        try:
            return bool(self._scalar(
                "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' "
                "AND granted AND pid = pg_backend_pid() "
                "AND ((classid::bigint << 32) | objid::bigint) = :key)"))
        except DBAPIError:
            self._drop()
            return False

    def release(self) -> None:
        """Unlock and close the connection."""
        with contextlib.suppress(DBAPIError):
            self._scalar("SELECT pg_advisory_unlock(:key)")
        self._drop()

    def _drop(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(DBAPIError):
                self.connection.close()
            self.connection = None


class RowLease:
    """SQLite: a row naming the holder until ``expires_at``."""

    def __init__(self, engine: Engine, holder: str, seconds: int,
                 wall: Callable[[], datetime] = utcnow) -> None:
        self.engine, self.holder, self.wall = engine, holder, wall
        self.ttl = timedelta(seconds=seconds)

    def _update(self, *where: ColumnElement[bool], **values: object) -> bool:
        with Session(self.engine) as session, session.begin():
            result = session.execute(update(SchedulerLease).where(
                SchedulerLease.name == LEASE_NAME, *where).values(**values))
            return int(getattr(result, "rowcount", 0) or 0) == 1

    def renew(self) -> bool:
        """Push the expiry on, if this process still holds the row."""
        now = self.wall()
        return self._update(SchedulerLease.holder == self.holder, SchedulerLease.expires_at > now,
                            expires_at=now + self.ttl)

    def acquire(self) -> bool:
        """Hold it already, take it over once expired, or create it."""
        if self.renew():
            return True
        now = self.wall()
        if self._update(SchedulerLease.expires_at <= now, holder=self.holder, acquired_at=now,
                        expires_at=now + self.ttl):
            return True
        try:
            with Session(self.engine) as session, session.begin():
                session.add(SchedulerLease(name=LEASE_NAME, holder=self.holder,
                                           acquired_at=now, expires_at=now + self.ttl))
        except IntegrityError:
            return False
        return True

    def release(self) -> None:
        """Delete the row if it is ours, so a waiting process need not wait for expiry."""
        with Session(self.engine) as session, session.begin():
            session.execute(delete(SchedulerLease).where(
                SchedulerLease.name == LEASE_NAME, SchedulerLease.holder == self.holder))


def for_engine(engine: Engine, holder: str, seconds: int) -> Lease:
    """The lease that fits the database behind ``engine``."""
    if engine.dialect.name == "postgresql":
        return AdvisoryLease(engine.url.render_as_string(hide_password=False))
    return RowLease(engine, holder, seconds)
