"""The scheduler lease: one holder at a time, handed over when the holder dies or leaves."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from server.extensions import db
from server.scheduler.lease import AdvisoryLease, RowLease, for_engine


class Wall:
    """A wall clock a test moves."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def _acquired_within(lease: AdvisoryLease, seconds: float) -> bool:
    """Whether ``lease`` is acquired before ``seconds`` pass. The server frees a dead
    connection's locks when its backend sees the socket closed, which on a loaded machine
    is not at once: the handover must happen, not within one round trip."""
    deadline = time.monotonic() + seconds
    while not lease.acquire():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.fixture
def engine(app):
    with app.app_context():
        return db.engine


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_sqlite_lease_row_is_held_renewed_and_taken_over_after_expiry(engine):
    wall = Wall()
    first, second = RowLease(engine, "a:1", 30, wall), RowLease(engine, "b:2", 30, wall)
    assert first.acquire() and not second.acquire()
    wall.now += timedelta(seconds=20)
    assert first.renew() and not second.acquire()  # renewed: 30 s more from now
    wall.now += timedelta(seconds=25)
    assert not second.acquire()
    wall.now += timedelta(seconds=10)  # the holder stopped renewing: expired
    assert second.acquire()
    assert not first.renew() and not first.acquire()
    first.release()  # not its row: nothing happens
    assert second.renew()
    second.release()  # a clean stop frees it at once
    assert first.acquire()


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_advisory_lock_is_held_until_released_or_the_holder_dies(engine):
    first = for_engine(engine, "a:1", 30)
    second = for_engine(engine, "b:2", 30)
    assert isinstance(first, AdvisoryLease)
    try:
        assert first.acquire() and not second.acquire()
        assert first.renew() and not second.renew()
        first.release()
        assert second.acquire() and not first.acquire()
        # the holder's connection dies (the process was killed): the server frees the lock
        assert second.connection is not None
        second.connection.invalidate()
        assert _acquired_within(first, seconds=15)
        assert not second.renew()
    finally:
        first.release()
        second.release()
