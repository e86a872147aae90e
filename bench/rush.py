"""The morning rush: every device of an agency pulls today's schedule and pushes yesterday's
documentation at once, against ``infusync serve`` on PostgreSQL (issue 13, item 1).

Each device is its own nurse with her caseload (``PATIENTS`` patients, a visit yesterday and
one today for each). Yesterday's documentation is a realistic mix per visit: check-in,
vitals (four readings), an infusion, a note, check-out and signature, in one batch sealed
(compressed, v1.1) and signed before the clock starts. The driver is one process of its own
with a thread pool, each thread a keep-alive connection, so the server's workers and the
driver share the two cores visibly: its CPU time is reported beside the figures.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import make_url

from bench import agency, bulk, databases, lock_waits, process_cpu, vitals
from bench.served import serve
from bench.settings import FULL
from bench.stats import latency_ms, percentile
from bench.transport import HttpClient
from server.cli.serve import DEFAULT_THREADS
from tests.integration.sync.device import TestDevice

PATIENTS = 6  # a home-infusion nurse's day: five to seven visits
DRIVER_THREADS = 32
ROLES = ("pull", "push")


@dataclass(frozen=True)
class Device:
    """One device ready to rush: its token and its sealed push body."""

    headers: dict[str, str]
    push_body: bytes
    mutations: int


def _visit_mutations(device: TestDevice, visit: dict[str, Any]) -> list[dict[str, Any]]:
    """Yesterday's documentation of one visit, in the order the nurse made it: at the
    patient's home, under her order (else every visit opens review items, which a real
    morning does not)."""
    visit_id, at = visit["id"], visit["start"].astimezone(vitals.DEVICE_OFFSET)

    def stamp(minutes: int) -> str:
        return str((at + timedelta(minutes=minutes)).isoformat())

    location = {"latitude": visit["latitude"], "longitude": visit["longitude"],
                "accuracy_m": 8}
    mutations = [device.mutation("visit.check_in", visit_id, {"at": stamp(0),
                                                              "location": location},
                                 occurred_at=stamp(0))]
    mutations += [device.mutation("vitals.record", visit_id,
                                  vitals.reading(i, at + timedelta(minutes=5)),
                                  entity_id=uuid.uuid4(), occurred_at=stamp(5))
                  for i in range(4)]
    mutations.append(device.mutation("infusion.record", visit_id, {
        "order_id": visit["order_id"], "medication": "ceftriaxone", "dose": 2, "dose_unit": "g",
        "route": "IV", "lot_number": "L1234", "lot_expiry": "2027-12-31",
        "access": {"device_type": "picc", "site": "right basilic", "flushed_before": True,
                   "flushed_after": True,
                   "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
        "pump": None, "started_at": stamp(10), "stopped_at": stamp(60),
        "volume_infused_ml": 100,
        "adverse_reaction": {"occurred": False, "description": None, "actions_taken": None},
        "notes": "Tolerated well."}, entity_id=uuid.uuid4(), occurred_at=stamp(40)))
    mutations.append(device.mutation("visit.note", visit_id, {
        "category": "assessment", "text": "PICC site clean, dry and intact."},
        entity_id=uuid.uuid4(), occurred_at=stamp(45)))
    mutations.append(device.mutation("visit.check_out", visit_id, {"at": stamp(65),
                                                                   "location": location},
                                     occurred_at=stamp(65)))
    mutations.append(device.mutation("visit.sign", visit_id, {
        "at": stamp(66), "attestation": "I attest this documentation is accurate."},
        occurred_at=stamp(66)))
    return mutations


def _populate(url: str, instance: Path, devices: int) -> list[dict[str, Any]]:
    """Nurses, their patients, a visit yesterday (to document) and today (to pull) each."""
    from server import audit
    from server.extensions import db
    from server.models import Patient, Role, ServiceLocation, TherapyOrder, User, Visit
    from server.models.visits import VisitStatus
    from server.passwords import hash_password
    from server.services import devices as device_service
    from server.services.records import Access

    app = databases.bench_app(url, instance)
    databases.migrate(app)
    now = datetime.now(UTC)
    password = hash_password("bench password 246810")
    nurses = agency.staff(Role.NURSE, devices, "rush", password, now)
    physicians = agency.staff(Role.PHYSICIAN, 1, "rush", password, now)
    people = agency.patients(devices * PATIENTS, "rush", [p["id"] for p in physicians], now,
                             pump_every=0)
    homes = {row["id"]: row for row in people.locations}
    caseloads = []
    for n, nurse in enumerate(nurses):
        mine = range(n * PATIENTS, (n + 1) * PATIENTS)
        rows = [{**agency.visit(people.patients[i], people.homes[i], people.orders[i],
                                nurse["id"], now + timedelta(days=day, hours=h), now),
                 "status": VisitStatus.SCHEDULED}
                for h, i in enumerate(mine) for day in (-1, 0)]
        caseloads.append({"nurse_id": nurse["id"], "rows": rows, "yesterday": [
            {"id": str(r["id"]), "start": r["scheduled_start"], "order_id": str(r["order_id"]),
             "latitude": homes[r["service_location_id"]]["latitude"],
             "longitude": homes[r["service_location_id"]]["longitude"]}
            for r in rows[0::2]]})
    with app.app_context():
        with db.engine.begin() as connection:
            for model, rows in ((User, nurses + physicians), (Patient, people.patients),
                                (ServiceLocation, people.locations),
                                (TherapyOrder, people.orders)):
                bulk.load(connection, model, rows)
        db.session.add_all(Visit(**row) for c in caseloads for row in c.pop("rows"))
        db.session.commit()
        access = Access(audit.Actor(None, "bench"), now, None)
        for caseload in caseloads:
            caseload["code"] = device_service.issue_code(
                db.session(), caseload["nurse_id"], access, timedelta(hours=1))[0]
        db.engine.dispose()
    return caseloads


def _prepare(base: str, caseload: dict[str, Any]) -> Device:
    """Enroll and seal the push body: everything before the rush is untimed."""
    device = TestDevice(HttpClient(base))
    enrolled = device.enroll(caseload["code"])
    if enrolled.status_code != 201:
        raise RuntimeError(f"enrollment failed: {enrolled.status_code}")
    mutations = [m for visit in caseload["yesterday"]
                 for m in _visit_mutations(device, visit)]
    from sync import compression

    plaintext = compression.compress(device.plaintext(mutations, clock=datetime.now(UTC)))
    body = json.dumps(device.body(plaintext, encoding=compression.ZLIB)).encode()
    return Device(device.headers, body, len(mutations))


def _one_device(base: str, device: Device) -> dict[str, Any]:
    """Pull the first page of the schedule, then push: each timed, each status kept."""
    client = HttpClient(base)
    out: dict[str, Any] = {"errors": [], "applied": 0}
    start = time.perf_counter()
    response = client.get("/api/v1/sync/pull", headers=device.headers,
                          query_string={"cursor": "", "limit": 200})
    out["pull_s"] = time.perf_counter() - start
    if response.status_code != 200:
        out["errors"].append(f"pull {response.status_code}")
    sent = time.perf_counter()
    response = client.post("/api/v1/sync/push", data=device.push_body, headers=device.headers)
    out["push_s"] = time.perf_counter() - sent
    if response.status_code != 200:
        out["errors"].append(f"push {response.status_code}")
    else:
        statuses = [r["status"] for r in response.get_json()["results"]]
        out["applied"] = sum(s in ("applied", "conflict") for s in statuses)
        out["errors"] += [f"mutation {s}" for s in statuses if s == "rejected"][:1]
    out["end"] = time.perf_counter()
    client.connection.close()
    return out


def _drive(base: str, devices: list[Device], results: Any) -> None:
    """The driver process: every device at once over a thread pool; its own CPU measured."""
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    with ThreadPoolExecutor(DRIVER_THREADS) as pool:
        outcomes = list(pool.map(lambda d: _one_device(base, d), devices))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF)
    results.put({"outcomes": outcomes, "wall_s": wall,
                 "driver_cpu_s": (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime)})


def _latency(seconds: list[float]) -> dict[str, float]:
    """p50, p95, p99 (the issue's goal: under 2 s), mean and max, in milliseconds."""
    return {**latency_ms(seconds), "p99_ms": round(percentile(seconds, 0.99) * 1000, 2)}


def _rush(base: str, devices: list[Device], database: str) -> dict[str, Any]:
    port = int(base.rsplit(":", 1)[1])
    cpu_before = process_cpu.snapshot(port, database)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    process = context.Process(target=_drive, args=(base, devices, results))
    process.start()  # before the sampler's thread and connection exist: a clean fork
    with lock_waits.sampled(database) as locks:
        ran = results.get(timeout=900)
    process.join(timeout=30)
    cpu = process_cpu.spent(cpu_before, process_cpu.snapshot(port, database))
    outcomes, wall = ran["outcomes"], ran["wall_s"]
    errors = [e for o in outcomes for e in o["errors"]]
    applied = sum(o["applied"] for o in outcomes)
    return {"devices": len(devices), "wall_s": round(wall, 2), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5],
            "mutations": sum(d.mutations for d in devices), "applied": applied,
            "applied_per_s": round(applied / wall, 1),
            "pull": _latency([o["pull_s"] for o in outcomes]),
            "push": _latency([o["push_s"] for o in outcomes]),
            "driver_cpu_s": round(ran["driver_cpu_s"], 2),
            "driver_cpu_share": round(ran["driver_cpu_s"] / wall / (os.cpu_count() or 1), 3),
            "lock_waits": locks.report(), **_sizing(cpu, len(devices))}


def _sizing(cpu: dict[str, float], devices: int) -> dict[str, Any]:
    """CPU seconds the rush cost the server's workers and PostgreSQL's backends, and the
    devices one core serves per minute at that cost (the load-independent sizing rule)."""
    per_device = (cpu["server"] + cpu["database"]) / devices
    return {"server_cpu_s": cpu["server"], "database_cpu_s": cpu["database"],
            "cpu_ms_per_device": round(per_device * 1000, 1),
            "devices_per_core_minute": round(60 / per_device) if per_device else None}


def run(device_counts: tuple[int, ...], workers: int,
        threads: int = DEFAULT_THREADS) -> dict[str, Any]:
    """The rush at each size, each on a fresh PostgreSQL database and server."""
    sizes = {}
    for count in device_counts:
        with tempfile.TemporaryDirectory(prefix="infusync-rush-") as folder, \
                databases.postgres_database() as url:
            instance = Path(folder)
            caseloads = _populate(url, instance, count)
            with serve(url, instance, workers, threads) as base:
                with ThreadPoolExecutor(4) as pool:
                    devices = list(pool.map(lambda c: _prepare(base, c), caseloads))
                sizes[str(count)] = _rush(base, devices, make_url(url).database or "")
    return {"workers": workers, "threads": threads, "driver_threads": DRIVER_THREADS,
            "sizes": sizes}


def main() -> None:
    """``python -m bench.rush [--devices N ...] [--workers W] [--threads T]``: the rush alone,
    to compare server shapes (workers x threads) in one sitting; prints the JSON."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--devices", type=int, nargs="+", default=[300])
    parser.add_argument("--workers", type=int, default=FULL.rush_workers)
    parser.add_argument("--threads", type=int, default=DEFAULT_THREADS)
    args = parser.parse_args()
    print(json.dumps(run(tuple(args.devices), args.workers, args.threads), indent=2))


if __name__ == "__main__":
    main()
