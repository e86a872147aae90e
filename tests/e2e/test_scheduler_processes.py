"""Two ``infusync scheduler`` processes on one PostgreSQL database, across a simulated day.

Real processes, real APScheduler with its job store in the database, real PostgreSQL
advisory lock. The processes read "now" from a clock file (testing only); the test moves
it in 15-minute steps across a local day, and waits for each step's runs before the next.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.scheduler.jobs import JOBS
from tests.conftest import fresh_postgres_database

BIN = Path(sys.executable).parent
ZONE = ZoneInfo("America/New_York")
DAY_START = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # local midnight, Monday 23 November
STEP = timedelta(minutes=15)


@pytest.fixture
def pg_database(tmp_path: Path) -> Iterator[str]:
    """A database of its own: APScheduler's job table must not leak into the shared one."""
    # migrate_database also writes the instance keys both processes read
    with fresh_postgres_database("infusync_sched", tmp_path) as url:
        yield url


class Scheduler:
    """One ``infusync scheduler`` subprocess and its log."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.log = log
        self.output = log.open("wb")
        self.process = subprocess.Popen([str(BIN / "infusync"), "scheduler"], env=env,
                                        stdout=self.output, stderr=subprocess.STDOUT)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.output.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def says(self, message: str) -> bool:
        return message in self.log.read_text(encoding="utf-8", errors="replace")

    def wait_to_say(self, message: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.says(message):
                return
            if self.process.poll() is not None:
                raise AssertionError(f"scheduler exited: {self.log.read_text()}")
            time.sleep(0.05)
        raise AssertionError(f"no {message!r} in {self.log.read_text()}")


def _expected(after: datetime, through: datetime) -> set[tuple[str, datetime]]:
    """Each job's run for a clock jump from ``after`` to ``through``: its last fire time in
    between (a job due several times in one jump coalesces into one run, the latest)."""
    expected = set()
    for spec in JOBS:
        trigger = spec.trigger(ZONE)
        fire = trigger.get_next_fire_time(None, after + timedelta(microseconds=1))
        last = None
        while fire is not None and fire <= through:
            last = fire
            fire = trigger.get_next_fire_time(fire, fire + timedelta(microseconds=1))
        if last is not None:
            expected.add((spec.id, last.astimezone(UTC)))
    return expected


def _runs(engine: sa.Engine) -> list[tuple[str, datetime, str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(sa.text(
            "SELECT job_id, scheduled_for, outcome, runner FROM job_runs"))]


def _wait_for_runs(engine: sa.Engine, count: int, timeout: float = 15) -> list[tuple]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runs = _runs(engine)
        if len(runs) >= count and all(outcome != "running" for _, _, outcome, _ in runs):
            return runs
        time.sleep(0.03)
    raise AssertionError(f"expected {count} finished runs, have {sorted(_runs(engine))}")


def _set_clock(path: Path, moment: datetime) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(moment.isoformat(), encoding="utf-8")
    tmp.replace(path)  # atomic: a reader never sees half a time


def test_two_schedulers_run_each_job_once_per_time_and_hand_over_on_death(pg_database,
                                                                          tmp_path):
    began = time.monotonic()
    clock_file = tmp_path / "clock.txt"
    _set_clock(clock_file, DAY_START - timedelta(seconds=30))
    env = {**os.environ, "INFUSYNC_DATABASE_URL": pg_database,
           "INFUSYNC_INSTANCE_PATH": str(tmp_path), "INFUSYNC_CLOCK_FILE": str(clock_file),
           "INFUSYNC_AGENCY_TIMEZONE": "America/New_York",
           "INFUSYNC_SCHEDULER_LEASE_SECONDS": "3"}
    engine = sa.create_engine(pg_database)
    first = Scheduler(env, tmp_path / "first.log")
    second = None
    try:
        first.wait_to_say("scheduler running")
        second = Scheduler(env, tmp_path / "second.log")
        second.wait_to_say("another scheduler holds the lease; waiting")

        # A local day in 15-minute steps; each step's runs finish before the next step.
        expected: set[tuple[str, datetime]] = set()
        now = DAY_START - timedelta(seconds=30)
        for step in range(96):
            moment = DAY_START + step * STEP
            expected |= _expected(now, moment)
            now = moment
            _set_clock(clock_file, moment)
            _wait_for_runs(engine, len(expected))
        day_took = time.monotonic() - began

        runs = _runs(engine)
        assert {(job, at) for job, at, _, _ in runs} == expected
        assert len(runs) == len(expected)  # exactly once per scheduled time
        per_job = {spec.id: sum(1 for job, *_ in runs if job == spec.id) for spec in JOBS}
        assert per_job == {"visit_horizon": 1, "training_daily": 1, "feed_compaction": 1,
                           "feed_partitions": 1, "audit_chain": 1, "job_runs_retention": 1,
                           "pump_maintenance": 1,
                           "silent_devices": 13,
                           "missed_visits": 96, "critical_escalation": 96,
                           "notification_mail": 96}
        assert {outcome for _, _, outcome, _ in runs} == {"succeeded"}
        assert {runner.rsplit(":", 1)[1] for *_, runner in runs} == {str(first.pid)}

        # The holder dies without a word; the waiting process takes the lease and goes on.
        killed_at = time.monotonic()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait(timeout=10)
        second.wait_to_say("scheduler running")
        takeover = time.monotonic() - killed_at
        moment = DAY_START + 96 * STEP  # local midnight of the next day
        expected |= _expected(now, moment)
        _set_clock(clock_file, moment)
        runs = _wait_for_runs(engine, len(expected))
        assert len(runs) == len(expected)
        [last] = [r for r in runs if r[1] == moment and r[0] == "missed_visits"]
        assert (last[0], last[2]) == ("missed_visits", "succeeded")
        assert last[3].rsplit(":", 1)[1] == str(second.pid)

        second.process.send_signal(signal.SIGTERM)  # a clean stop
        assert second.process.wait(timeout=20) == 0
        assert second.says("scheduler stopped")
        print(f"\nsimulated day: {day_took:.1f} s for {len(expected) - 1} runs; "
              f"lease takeover after kill -9: {takeover:.1f} s; "
              f"total {time.monotonic() - began:.1f} s")
    finally:
        for one in (first, second):
            if one is not None:
                one.close()
        engine.dispose()
