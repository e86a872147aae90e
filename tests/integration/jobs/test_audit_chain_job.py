"""The nightly audit-chain check: silent while intact, one critical item per break."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from server import audit
from server.extensions import db
from server.models import ReviewItem, Severity

NIGHT = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)  # 04:00 in New York


@pytest.fixture
def events(app, clock):
    """Three committed audit events."""
    with app.app_context():
        session = db.session()
        for _ in range(3):
            audit.record(session, audit.Actor(uuid.uuid4()), "read", "patients",
                         at=clock.advance(seconds=1), entity_id=uuid.uuid4())
            session.commit()


def test_an_intact_chain_opens_nothing(run_job, rows, events):
    run = run_job("audit_chain", NIGHT)

    assert (run.outcome, run.counts) == ("succeeded", {"events": 3, "broken": 0, "opened": 0})
    assert rows(ReviewItem) == []


def test_a_break_opens_one_critical_item_however_many_nights_find_it(app, run_job, rows,
                                                                     events):
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("UPDATE audit_events SET outcome = 'ok', action = 'list' "
                                "WHERE seq = 2"))

    first = run_job("audit_chain", NIGHT)
    second = run_job("audit_chain", NIGHT + timedelta(days=1))

    assert first.counts == {"events": 2, "broken": 1, "opened": 1}
    assert second.counts == {"events": 2, "broken": 1, "opened": 0}
    [item] = rows(ReviewItem)
    assert (item.kind, item.severity, item.dedupe_key) == (
        "audit_chain_broken", Severity.CRITICAL, "audit_chain_broken:2:edited")
    assert (item.details["seq"], item.details["problem"]) == (2, "edited")
    assert "seq 2" in item.summary
