"""Pull latency: a nurse's delta pull and initial snapshot, small agency versus large.

Two PostgreSQL databases hold the same measured nurse (same caseload, same feed, same
changes) inside agencies of ``visits_small`` and ``visits_large`` visits. A fresh process
measures both through the in-process app's test client, alternating small and large, so
load on the machine falls on both alike and the loader's memory does not.
"""

from __future__ import annotations

import tempfile
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import func, select

from bench import agency, bulk, databases, parallel, pull_data, queries
from bench.puller import Puller, enroll
from bench.settings import Sizes
from bench.stats import latency_ms

TABLES = ("users", "patients", "service_locations", "therapy_orders", "pumps", "visits",
          "sync_feed", "sync_feed_heads")
SIZES = ("small", "large")
WARM_UP = 3
STATEMENT_RUNS = 5


@dataclass(frozen=True)
class Agency:
    """One built database and the measured device's state in it."""

    url: str
    instance: str
    enrollment: dict[str, Any]
    delta_cursor: str  # where her device stood before the measured changes
    load_s: float


def _populate(app: Flask, visits: int, caseload_size: int, now: datetime
              ) -> tuple[pull_data.Caseload, str]:
    """Physicians, the measured nurse, her caseload and the agency around her; her code."""
    from server import audit
    from server.extensions import db
    from server.models import Role, User
    from server.passwords import hash_password
    from server.services import devices
    from server.services.records import Access

    password = hash_password("bench password 246810")
    physicians = agency.staff(Role.PHYSICIAN, 20, "doc", password, now)
    nurse = agency.staff(Role.NURSE, 1, "measured", password, now)[0]
    doctors = [p["id"] for p in physicians]
    with app.app_context():
        with db.engine.begin() as connection:
            bulk.load(connection, User, [*physicians, nurse])
            caseload = pull_data.caseload(connection, nurse["id"], caseload_size, doctors, now)
            own = caseload_size * len(pull_data.CASELOAD_DAYS)
            pull_data.background(connection, visits - own, "bg", doctors, password, now)
        code, _ = devices.issue_code(db.session(), nurse["id"],
                                     Access(audit.Actor(None, "bench"), now, None),
                                     timedelta(hours=1))
        db.session.remove()
    return caseload, code


def _make_changes(app: Flask, caseload: pull_data.Caseload, count: int) -> None:
    """Reschedule visits, edit patients and locations through the ORM (the feed fan-out)."""
    from server.extensions import db
    from server.models import Patient, ServiceLocation, Visit

    with app.app_context():
        for i in range(count):
            kind = i % 4
            if kind < 2:
                visit = db.session.get_one(Visit, caseload.window_visit_ids[i * 5])
                visit.scheduled_start += timedelta(minutes=30)
                visit.scheduled_end += timedelta(minutes=30)
            elif kind == 2:
                db.session.get_one(Patient, caseload.patient_ids[i]).phone = f"555-02{i:02d}"
            else:
                db.session.get_one(ServiceLocation, caseload.location_ids[i]).evv_radius_m = 200
            db.session.commit()
        db.session.remove()


def build(url: str, instance: Path, visits: int, sizes: Sizes) -> Agency:
    """Migrate, load, enroll her device, sync it, then make the changes it will pull."""

    start = time.perf_counter()
    app = databases.bench_app(url, instance)
    databases.migrate(app)
    caseload, code = _populate(app, visits, sizes.caseload, datetime.now(UTC))
    client = app.test_client()
    enrollment = enroll(client, code)
    cursor = Puller(client, enrollment).pull_all("", sizes.page_size)["cursor"]
    _make_changes(app, caseload, sizes.changes)
    databases.dispose(app)
    databases.vacuum_analyze(url, TABLES)
    return Agency(url, str(instance), enrollment, cursor, time.perf_counter() - start)


@dataclass(frozen=True)
class MeasureJob:
    """Both agencies, measured by one fresh process."""

    agencies: dict[str, Agency]
    sizes: Sizes


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    last = results[-1]
    return {**latency_ms([r["seconds"] for r in results]),
            **{key: last[key] for key in ("pages", "changes", "wire_bytes", "json_bytes")}}


def _alternating(pullers: dict[str, Puller], cursors: dict[str, str], limit: int,
                 runs: int) -> dict[str, dict[str, Any]]:
    """``runs`` timed pulls on each agency, small and large in turn, after a warm-up."""
    for _ in range(WARM_UP):
        for name in SIZES:
            pullers[name].pull_all(cursors[name], limit)
    results: dict[str, list[dict[str, Any]]] = {name: [] for name in SIZES}
    for run in range(runs):
        for name in SIZES if run % 2 == 0 else SIZES[::-1]:
            results[name].append(pullers[name].pull_all(cursors[name], limit))
    return {name: _summary(results[name]) for name in SIZES}


def _statements(app: Flask, puller: Puller, cursor: str, limit: int) -> dict[str, Any]:
    """Where the database time of a few more pulls goes (recorded apart from the timing)."""
    with queries.recording(app) as recorded:
        for _ in range(STATEMENT_RUNS):
            puller.pull_all(cursor, limit)
    return {"per_pull": recorded.totals(STATEMENT_RUNS), "top_statements": recorded.top(4)}


def _visits(app: Flask) -> int:
    from server.extensions import db
    from server.models import Visit

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Visit))
        db.session.remove()
    return int(count or 0)


def measure_worker(job: MeasureJob, barrier: Any) -> dict[str, Any]:
    """Time delta pulls and snapshots on both agencies (runs in its own process)."""
    apps = {name: databases.bench_app(a.url, Path(a.instance))
            for name, a in job.agencies.items()}
    pullers = {name: Puller(apps[name].test_client(), a.enrollment)
               for name, a in job.agencies.items()}
    limit = job.sizes.page_size
    barrier.wait(timeout=60)
    out: dict[str, Any] = {name: {"visits": _visits(apps[name])} for name in SIZES}
    for kind, runs in (("delta", job.sizes.delta_pulls), ("snapshot", job.sizes.snapshots)):
        cursors = {name: a.delta_cursor if kind == "delta" else ""
                   for name, a in job.agencies.items()}
        for name, summary in _alternating(pullers, cursors, limit, runs).items():
            summary.update(_statements(apps[name], pullers[name], cursors[name], limit))
            out[name][kind] = summary
    for app in apps.values():
        databases.dispose(app)
    return out


def run(sizes: Sizes) -> dict[str, Any]:
    """Build both agencies, measure them side by side, drop them."""
    with ExitStack() as stack:
        agencies = {}
        for name, visits in zip(SIZES, (sizes.visits_small, sizes.visits_large), strict=True):
            url = stack.enter_context(databases.postgres_database())
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="infusync-bench-"))
            agencies[name] = build(url, Path(folder), visits, sizes)
        measured = parallel.run(measure_worker, [MeasureJob(agencies, sizes)])[0]
    small, large = measured["small"], measured["large"]
    for name in SIZES:
        measured[name]["load_s"] = round(agencies[name].load_s, 1)
    return {
        "method": "in-process Flask test client (server time, no network), PostgreSQL",
        "page_size": sizes.page_size, "caseload_patients": sizes.caseload,
        "changes": sizes.changes, **measured,
        "delta_p50_ratio": round(large["delta"]["p50_ms"] / small["delta"]["p50_ms"], 3),
        "snapshot_p50_ratio": round(large["snapshot"]["p50_ms"] / small["snapshot"]["p50_ms"],
                                    3),
        "same_delta": (small["delta"]["changes"], small["delta"]["json_bytes"])
        == (large["delta"]["changes"], large["delta"]["json_bytes"]),
    }
