"""Push throughput: device processes pushing sealed batches of ``vitals.record`` to a real
server, beside the ceiling of inserting the same ``vital_signs`` rows with SQLAlchemy Core.
"""

from __future__ import annotations

import json
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import UniqueConstraint, create_engine, insert, select, text

from bench import agency, bulk, databases, parallel, vitals
from bench.served import serve
from bench.settings import Sizes
from bench.stats import latency_ms
from bench.transport import HttpClient
from tests.integration.sync.device import TestDevice

PATIENTS_PER_NURSE = 10
SQLITE_BUSY_TIMEOUT_MS = 15000
WARM_UP_MUTATIONS = 20  # one small untimed batch: connections and caches warm
CEILING_ROUNDS = 3  # the ceiling is the best round: it is what the database can take


@dataclass(frozen=True)
class PushJob:
    """One device process: its enrollment code and its nurse's visits."""

    base_url: str
    code: str
    visit_ids: list[str]
    batches: int
    batch_size: int


@dataclass(frozen=True)
class CeilingJob:
    """One raw-insert process: copies of rows the server stored, straight into the table."""

    url: str
    rows: list[dict[str, Any]]  # vital_signs rows as the push stored them
    batch_size: int


def _vitals(device: TestDevice, visit_id: str, now: datetime) -> dict[str, Any]:
    """A ``vitals.record`` with a fresh entity id, taken now by the nurse's phone."""
    return device.mutation("vitals.record", visit_id, vitals.reading(device.seq + 1, now),
                           entity_id=uuid.uuid4(),
                           occurred_at=now.astimezone(vitals.DEVICE_OFFSET).isoformat())


def _sealed(device: TestDevice, mutations: list[dict[str, Any]], now: datetime) -> bytes:
    """The push body, sealed and signed ahead of the timed loop so only the server is timed."""
    return json.dumps(device.body(device.plaintext(mutations, clock=now))).encode()


def _push(client: HttpClient, device: TestDevice, body: bytes) -> dict[str, Any]:
    """Push one sealed body; the decoded response (raises unless 200)."""
    response = client.post("/api/v1/sync/push", data=body, headers=device.headers)
    if response.status_code != 200:
        raise RuntimeError(f"push failed: {response.status_code} {response.get_json()}")
    return dict(response.get_json())


def push_worker(job: PushJob, barrier: Any) -> dict[str, Any]:
    """Enroll, push a small warm-up batch, wait for the others, then the timed batches."""
    client = HttpClient(job.base_url)
    device = TestDevice(client)
    enrolled = device.enroll(job.code)
    if enrolled.status_code != 201:
        raise RuntimeError(f"enrollment failed: {enrolled.status_code} {enrolled.get_json()}")
    now = datetime.now(UTC)
    bodies = [_sealed(device, [_vitals(device, job.visit_ids[i % len(job.visit_ids)], now)
                               for i in range(size)], now)
              for size in (WARM_UP_MUTATIONS, *[job.batch_size] * job.batches)]
    _push(client, device, bodies[0])
    barrier.wait(timeout=300)
    counts: Counter[str] = Counter()
    latencies = []
    start = time.perf_counter()
    for body in bodies[1:]:
        sent = time.perf_counter()
        counts.update(result["status"] for result in _push(client, device, body)["results"])
        latencies.append(time.perf_counter() - sent)
    end = time.perf_counter()
    return {"device_id": device.device_id, "applied": counts["applied"], "counts": dict(counts),
            "latencies": latencies, "start": start, "end": end}


def _fresh_keys(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copies of ``rows`` with new values in every primary-key and unique UUID column."""
    unique = {column.name for column in table.primary_key.columns}
    for constraint in table.constraints:
        if isinstance(constraint, UniqueConstraint):
            unique.update(column.name for column in constraint.columns)
    unique.update(c.name for index in table.indexes if index.unique for c in index.columns)
    return [{**row, **{name: uuid.uuid4() for name in unique}} for row in rows]


def ceiling_worker(job: CeilingJob, barrier: Any) -> dict[str, Any]:
    """Insert as many ``vital_signs`` rows as were pushed, a transaction per batch, in
    ``CEILING_ROUNDS`` rounds that all processes start together."""
    from server.database import configure_engine
    from server.models import VitalSign

    table = bulk.table(VitalSign)
    engine = create_engine(job.url)
    configure_engine(engine, SQLITE_BUSY_TIMEOUT_MS)  # the server's SQLite pragmas
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))
    rounds = []
    for _ in range(CEILING_ROUNDS):
        rows = _fresh_keys(table, job.rows)
        barrier.wait(timeout=300)
        start = time.perf_counter()
        for first in range(0, len(rows), job.batch_size):
            with engine.begin() as connection:
                connection.execute(insert(table), rows[first:first + job.batch_size])
        rounds.append((start, time.perf_counter()))
    engine.dispose()
    return {"rows": len(job.rows), "rounds": rounds}


def _stored_vitals(url: str, count: int) -> list[dict[str, Any]]:
    """``count`` vital_signs rows exactly as the server stored them from the pushes."""
    from server.models import VitalSign

    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [dict(row._mapping) for row in connection.execute(
            select(bulk.table(VitalSign)).limit(count))]
    engine.dispose()
    if len(rows) != count:
        raise RuntimeError(f"{len(rows)} vital signs stored; {count} expected")
    return rows


def _caseloads(nurses: list[agency.Row], people: agency.Patients,
               now: datetime) -> list[dict[str, Any]]:
    """Each nurse's own patients, with a visit yesterday and one tomorrow for each."""
    caseloads = []
    for n, nurse in enumerate(nurses):
        mine = range(n * PATIENTS_PER_NURSE, (n + 1) * PATIENTS_PER_NURSE)
        rows = [agency.visit(people.patients[i], people.homes[i], people.orders[i],
                             nurse["id"], now + timedelta(days=day, hours=1), now)
                for i in mine for day in (-1, 1)]
        caseloads.append({"nurse_id": nurse["id"], "visit_rows": rows,
                          "visits": [(r["id"], r["patient_id"]) for r in rows]})
    return caseloads


def _populate(url: str, instance: Path, sizes: Sizes) -> list[dict[str, Any]]:
    """Nurses with their own patients and visits; one enrollment code per nurse.

    Visits go through the ORM, so the app's own hooks record who they are assigned to
    (documentation is accepted only from an assigned nurse); the rest is bulk-loaded.
    """
    from server import audit
    from server.extensions import db
    from server.models import Patient, Role, ServiceLocation, TherapyOrder, User, Visit
    from server.passwords import hash_password
    from server.services import devices
    from server.services.records import Access

    app = databases.bench_app(url, instance)
    databases.migrate(app)
    now = datetime.now(UTC)
    password = hash_password("bench password 246810")
    nurses = agency.staff(Role.NURSE, sizes.devices, "push", password, now)
    physicians = agency.staff(Role.PHYSICIAN, 1, "push", password, now)
    people = agency.patients(sizes.devices * PATIENTS_PER_NURSE, "push",
                             [p["id"] for p in physicians], now, pump_every=0)
    caseloads = _caseloads(nurses, people, now)
    with app.app_context():
        with db.engine.begin() as connection:
            for model, rows in ((User, nurses + physicians), (Patient, people.patients),
                                (ServiceLocation, people.locations),
                                (TherapyOrder, people.orders)):
                bulk.load(connection, model, rows)
        db.session.add_all(Visit(**row) for c in caseloads for row in c.pop("visit_rows"))
        db.session.commit()
        access = Access(audit.Actor(None, "bench"), now, None)
        for caseload in caseloads:
            caseload["code"] = devices.issue_code(db.session(), caseload["nurse_id"], access,
                                                  timedelta(hours=1))[0]
        db.engine.dispose()
    return caseloads


def _pushes(base: str, caseloads: list[dict[str, Any]], sizes: Sizes) -> dict[str, Any]:
    jobs = [PushJob(base, c["code"], [str(v) for v, _ in c["visits"]], sizes.batches,
                    sizes.batch_size) for c in caseloads]
    outcomes = parallel.run(push_worker, jobs)
    applied, wall, per_s = parallel.rate(outcomes, "applied")
    expected = len(jobs) * sizes.batches * sizes.batch_size
    if applied != expected:
        counts = [o["counts"] for o in outcomes]
        raise RuntimeError(f"{applied} of {expected} mutations applied: {counts}")
    latencies = [s for outcome in outcomes for s in outcome["latencies"]]
    return {"mutations": applied, "wall_s": round(wall, 3), "per_s": round(per_s, 1),
            "batch_latency": latency_ms(latencies)}


def _ceiling(url: str, sizes: Sizes) -> dict[str, Any]:
    share = sizes.batches * sizes.batch_size
    rows = _stored_vitals(url, sizes.devices * share)
    jobs = [CeilingJob(url, rows[i * share:(i + 1) * share], sizes.batch_size)
            for i in range(sizes.devices)]
    outcomes = parallel.run(ceiling_worker, jobs)
    rates = [parallel.rate([{"rows": o["rows"], "start": o["rounds"][r][0],
                             "end": o["rounds"][r][1]} for o in outcomes], "rows")
             for r in range(CEILING_ROUNDS)]
    count, wall, per_s = max(rates, key=lambda rate: rate[2])
    return {"rows": count, "wall_s": round(wall, 3), "per_s": round(per_s, 1),
            "rounds_per_s": [round(rate[2], 1) for rate in rates]}


def run(backend: str, sizes: Sizes) -> dict[str, Any]:
    """Push throughput and the raw-insert ceiling on ``backend`` (postgresql or sqlite)."""
    with tempfile.TemporaryDirectory(prefix="infusync-bench-") as folder:
        instance = Path(folder)
        if backend == "sqlite":
            return _measure(databases.sqlite_url(instance), instance, sizes)
        with databases.postgres_database() as url:
            return _measure(url, instance, sizes)


def _measure(url: str, instance: Path, sizes: Sizes) -> dict[str, Any]:
    caseloads = _populate(url, instance, sizes)
    with serve(url, instance, sizes.workers) as base:
        pushed = _pushes(base, caseloads, sizes)
    ceiling = _ceiling(url, sizes)
    return {"devices": sizes.devices, "workers": sizes.workers, "batches": sizes.batches,
            "batch_size": sizes.batch_size, "push": pushed, "ceiling": ceiling,
            "ratio": round(pushed["per_s"] / ceiling["per_s"], 4)}
