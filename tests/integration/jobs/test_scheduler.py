"""The real APScheduler, in process, on the app clock: fires each job at its local times."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import inspect, text

from server.extensions import db
from server.models import JobRun
from server.scheduler import process

# Jobs that fire every minute (escalation, e-mail): these tests follow the others' times.
EVERY_MINUTE = ("critical_escalation", "notification_mail")


def _runs(rows):
    return rows(JobRun, JobRun.job_id.not_in(EVERY_MINUTE))


def _wait_for(rows, count, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = _runs(rows)
        if len(found) >= count and all(r.outcome != "running" for r in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"expected {count} runs, found {_runs(rows)}")


@pytest.fixture
def scheduler(app):
    """A started scheduler on the test's database; its job table dropped afterwards."""
    started = []

    def start():
        started.append(process.start(app, poll=0.05))
        return started[-1]

    yield start
    for one in started:
        if one.running:
            one.shutdown(wait=True)
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS apscheduler_jobs"))


def test_jobs_fire_at_their_scheduled_times_by_the_app_clock(app, agency, clock, rows,
                                                             scheduler):
    clock.current = datetime(2026, 11, 23, 12, 59, tzinfo=UTC)  # 07:59 in New York
    scheduler()
    clock.current = datetime(2026, 11, 23, 13, 6, tzinfo=UTC)
    runs = _wait_for(rows, 2)
    assert sorted((r.job_id, r.scheduled_for, r.outcome) for r in runs) == [
        ("missed_visits", datetime(2026, 11, 23, 13, 0, tzinfo=UTC), "succeeded"),
        ("silent_devices", datetime(2026, 11, 23, 13, 5, tzinfo=UTC), "succeeded"),
    ]
    # most of an hour at once: 13:15, 13:30, 13:45 and 14:00 coalesce into one run, the latest
    clock.current = datetime(2026, 11, 23, 14, 0, 30, tzinfo=UTC)
    runs = _wait_for(rows, 3)
    assert sorted(r.scheduled_for for r in runs if r.job_id == "missed_visits") == [
        datetime(2026, 11, 23, 13, 0, tzinfo=UTC), datetime(2026, 11, 23, 14, 0, tzinfo=UTC)]
    time.sleep(0.3)  # and nothing else follows
    assert len(_runs(rows)) == 3


def test_a_restarted_scheduler_keeps_its_pending_times(app, agency, clock, rows, scheduler):
    clock.current = datetime(2026, 11, 23, 12, 59, tzinfo=UTC)
    first = scheduler()
    first.shutdown(wait=True)
    clock.current = datetime(2026, 11, 23, 13, 1, tzinfo=UTC)  # 13:00 fell due while down
    scheduler()
    runs = _wait_for(rows, 1)
    assert [(r.job_id, r.scheduled_for) for r in runs] == [
        ("missed_visits", datetime(2026, 11, 23, 13, 0, tzinfo=UTC))]
    with app.app_context():
        assert "apscheduler_jobs" in inspect(db.engine).get_table_names()


def test_the_web_app_never_starts_a_scheduler(client, as_user):
    before = {t.name for t in threading.enumerate()}
    assert client.get("/api/v1/jobs/runs", headers=as_user("admin")).status_code == 200
    after = {t.name for t in threading.enumerate()}
    assert not any("APScheduler" in name for name in after - before)
    with client.application.app_context():
        assert "apscheduler_jobs" not in inspect(db.engine).get_table_names()
