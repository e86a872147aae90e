"""The database half of a /metrics scrape on a large agency, on both databases.

A year of job runs (the two every-minute jobs alone write about a million rows), a caseload
of review items mostly resolved, two devices per nurse: what ``DatabaseCollector`` reads at
each scrape, timed as Prometheus would call it (every 15 s or so), beside the one query it
avoids (counting every job run by job and outcome) for scale.
"""

from __future__ import annotations

import hashlib
import random
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench import bulk, databases
from bench.agency import staff
from bench.report import BACKENDS
from bench.settings import Sizes
from bench.stats import latency_ms

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
NURSES = 500
SCRAPES = 30
# (job, minutes between runs): the scheduler's table (server/scheduler/jobs.py).
JOBS = (("critical_escalation", 1), ("notification_mail", 1), ("missed_visits", 15),
        ("silent_devices", 60), ("visit_horizon", 1440), ("training_daily", 1440),
        ("feed_compaction", 1440), ("audit_chain", 1440), ("pump_maintenance", 1440))


def _job_runs(total: int) -> Iterator[dict[str, Any]]:
    """About ``total`` runs, the newest now, each job at its own pace (1 in 500 failed)."""
    per_minute = sum(1 / every for _job, every in JOBS)
    minutes = int(total / per_minute)
    for job, every in JOBS:
        for step in range(0, minutes, every):
            at = NOW - timedelta(minutes=step)
            outcome = "failed" if step % 500 == 7 else "succeeded"
            yield {"id": uuid.uuid4(), "job_id": job, "scheduled_for": at, "started_at": at,
                   "finished_at": at + timedelta(seconds=2), "outcome": outcome,
                   "counts": {}, "runner": "bench", "error": None}


def _devices(nurses: list[uuid.UUID], rng: random.Random) -> Iterator[dict[str, Any]]:
    for nurse in nurses:
        for n in range(2):
            seen = NOW - timedelta(minutes=rng.randrange(60 * 24 * 7))
            yield {"id": uuid.uuid4(), "user_id": nurse, "name": f"tablet {n}",
                   "platform": "android", "app_version": "1.0.0", "signing_key": "k" * 43,
                   "token_hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
                   "status": "active", "enrolled_at": NOW - timedelta(days=30),
                   "last_seen_at": seen}


def _review_items(count: int, rng: random.Random) -> Iterator[dict[str, Any]]:
    for _ in range(count):
        yield {"id": uuid.uuid4(), "kind": "bench", "summary": "A bench item", "details": {},
               "severity": rng.choice(("info", "warning", "critical")),
               "status": "open" if rng.random() < 0.02 else "resolved",
               "created_at": NOW - timedelta(days=rng.randrange(365))}


def _load(app: Any, sizes: Sizes) -> dict[str, int]:
    from server.extensions import db
    from server.models import Device, JobRun, ReviewItem, Role, User
    from sync.feed import FeedHead

    rng = random.Random(13)  # noqa: S311 - synthetic data, reproducible on purpose
    nurses = staff(Role.NURSE, NURSES, "m", "x", NOW)
    with app.app_context(), db.engine.begin() as connection:
        bulk.load(connection, User, nurses)
        ids = [row["id"] for row in nurses]
        loaded = {"devices": bulk.load(connection, Device, _devices(ids, rng)),
                  "review_items": bulk.load(connection, ReviewItem,
                                            _review_items(sizes.review_items, rng)),
                  "job_runs": bulk.load(connection, JobRun, _job_runs(sizes.job_runs)),
                  "feed_heads": bulk.load(connection, FeedHead, (
                      {"nurse_id": nurse, "position": 5000, "compacted_through": 3000}
                      for nurse in ids))}
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
    return loaded


def _time_scrapes(app: Any) -> dict[str, Any]:
    from server.extensions import db
    from server.metrics.database import DatabaseCollector
    from server.models import JobRun

    with app.app_context():
        session = db.session()
        families = list(DatabaseCollector(session, NOW).collect())  # warm
        took = []
        for _ in range(SCRAPES):
            start = time.perf_counter()
            list(DatabaseCollector(session, NOW).collect())
            took.append(time.perf_counter() - start)
        start = time.perf_counter()
        session.execute(select(JobRun.job_id, JobRun.outcome, func.count())
                        .group_by(JobRun.job_id, JobRun.outcome)).all()
        whole_table = time.perf_counter() - start
        session.rollback()
    return {"scrape": latency_ms(took), "series": sum(len(f.samples) for f in families),
            "count_every_job_run_ms": round(whole_table * 1000, 1)}


def _one(backend: str, sizes: Sizes, stack: ExitStack) -> dict[str, Any]:
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="infusync-bench-")))
    url = (stack.enter_context(databases.postgres_database()) if backend == "postgresql"
           else databases.sqlite_url(folder))
    app = databases.bench_app(url, folder)
    databases.migrate(app)
    try:
        return {"rows": _load(app, sizes), **_time_scrapes(app)}
    finally:
        databases.dispose(app)


def run(sizes: Sizes) -> dict[str, Any]:
    """The scrape's database gauges timed on each backend."""
    with ExitStack() as stack:
        return {backend: _one(backend, sizes, stack) for backend in BACKENDS}
