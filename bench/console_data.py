"""The console benchmark's agency: years of visits, one busy measured day, a review queue.

Rows are built as dicts and loaded with COPY (PostgreSQL) or Core ``executemany`` (SQLite)
through ``bench.bulk``, never the ORM row by row, so a million visits load in minutes.
The measured day holds exactly ``DAY_NURSES`` x ``DAY_VISITS`` visits; the background
visits fall on every other day of about three years (most past, a month ahead).
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection

from bench import agency, bulk
from bench.agency import Row

PATIENTS = 2_000
NURSES = 120  # the agency's nurses; the measured day staffs DAY_NURSES of them
DAY_NURSES, DAY_VISITS = 60, 8
HISTORY_DAYS, AHEAD_DAYS = 1_065, 30  # about three years in all
OPEN_SHARE = 0.1  # of review items still open
# The review queue's kinds and their usual severity (server/review_items.py FINDINGS);
# the recall kinds are left out: their items must name a real recalled pump.
REVIEW_KINDS = (("medication_mismatch", "critical"), ("dose_outside_order", "warning"),
                ("evv_exception", "warning"), ("visit_missed", "warning"),
                ("visit_late_unknown", "info"), ("silent_device", "warning"),
                ("pump_pm_due", "info"), ("adverse_reaction", "critical"),
                ("documentation_on_cancelled_visit", "warning"), ("seq_gap", "warning"))
PASSWORD = "bench password 246810"  # noqa: S105 - the synthetic staff's, for the login form


@dataclass(frozen=True)
class ConsoleAgency:
    """What was loaded, and who signs in to measure it."""

    day: date
    visits: int
    day_visits: int
    review_items: int
    open_items: int
    coordinator_email: str
    qc_email: str


def _models() -> dict[str, Any]:
    from server.models import (
        Device,
        Patient,
        Pump,
        ReviewItem,
        ServiceLocation,
        TherapyOrder,
        User,
        Visit,
    )

    return {"users": User, "patients": Patient, "locations": ServiceLocation,
            "orders": TherapyOrder, "pumps": Pump, "visits": Visit, "devices": Device,
            "review_items": ReviewItem}


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    """Midnight of the agency-local ``day``, in UTC."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def _background(people: agency.Patients, nurses: list[Row], count: int, day: date,
                zone: ZoneInfo, now: datetime, rng: random.Random) -> Iterator[Row]:
    """``count`` one-hour visits on any day but ``day`` (08:00 to 17:00 local)."""
    for _ in range(count):
        offset = rng.randint(-HISTORY_DAYS, AHEAD_DAYS) or 1  # never the measured day
        start = _day_start(day + timedelta(days=offset), zone) + timedelta(
            hours=rng.randint(8, 17))
        p = rng.randrange(PATIENTS)
        yield agency.visit(people.patients[p], people.homes[p], people.orders[p],
                           nurses[rng.randrange(len(nurses))]["id"], start, now)


def _measured_day(people: agency.Patients, nurses: list[Row], day: date, zone: ZoneInfo,
                  now: datetime) -> list[Row]:
    """``DAY_NURSES`` nurses with ``DAY_VISITS`` visits each, every patient seen once."""
    rows, midnight = [], _day_start(day, zone)
    for n, nurse in enumerate(nurses[:DAY_NURSES]):
        for v in range(DAY_VISITS):
            p = n * DAY_VISITS + v
            rows.append(agency.visit(people.patients[p], people.homes[p], people.orders[p],
                                     nurse["id"], midnight + timedelta(hours=8 + v), now))
    return rows


def _devices(nurses: list[Row], now: datetime, rng: random.Random) -> list[Row]:
    """One tablet per nurse, last seen within the past day (the board's last sync)."""
    return [{"id": uuid.uuid4(), "user_id": nurse["id"], "name": "tablet", "platform": "android",
             "app_version": "1.0.0", "signing_key": "k" * 43,
             "token_hash": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "status": "active",
             "enrolled_at": now - timedelta(days=400),
             "last_seen_at": now - timedelta(minutes=rng.randrange(60 * 24))}
            for nurse in nurses]


def _review_items(count: int, people: agency.Patients, now: datetime,
                  rng: random.Random) -> Iterator[Row]:
    """``count`` items of mixed kinds and severities over three years, ``OPEN_SHARE`` open."""
    for _ in range(count):
        kind, severity = REVIEW_KINDS[rng.randrange(len(REVIEW_KINDS))]
        is_open = rng.random() < OPEN_SHARE
        created = now - timedelta(minutes=rng.randrange(60 * 24 * HISTORY_DAYS))
        yield {"id": uuid.uuid4(), "kind": kind, "summary": f"A bench {kind.replace('_', ' ')}",
               "details": {}, "severity": severity, "status": "open" if is_open else "resolved",
               "patient_id": people.patients[rng.randrange(PATIENTS)]["id"],
               "created_at": created,
               "resolved_at": None if is_open else created + timedelta(hours=4),
               "resolution": None if is_open else "Checked with the nurse."}


def load(connection: Connection, visits: int, review_items: int, day: date, zone: ZoneInfo,
         now: datetime) -> ConsoleAgency:
    """The whole agency, in one transaction on ``connection``."""
    from server.models import Role
    from server.passwords import hash_password

    rng = random.Random(14)  # noqa: S311 - synthetic data, reproducible on purpose
    models, password = _models(), hash_password(PASSWORD)
    physicians = agency.staff(Role.PHYSICIAN, 10, "cdoc", password, now)
    nurses = agency.staff(Role.NURSE, NURSES, "cb", password, now)
    office = [*agency.staff(Role.COORDINATOR, 1, "cb", password, now),
              *agency.staff(Role.QC, 1, "cb", password, now)]
    bulk.load(connection, models["users"], [*physicians, *nurses, *office])
    people = agency.patients(PATIENTS, "cb", [p["id"] for p in physicians], now)
    for name, rows in (("patients", people.patients), ("locations", people.locations),
                       ("orders", people.orders), ("pumps", people.pumps)):
        bulk.load(connection, models[name], rows)
    bulk.load(connection, models["devices"], _devices(nurses, now, rng))
    day_rows = _measured_day(people, nurses, day, zone, now)
    bulk.load(connection, models["visits"], day_rows)
    bulk.load(connection, models["visits"], _background(
        people, nurses, visits - len(day_rows), day, zone, now, rng))
    opened = 0

    def items() -> Iterator[Row]:
        nonlocal opened
        for row in _review_items(review_items, people, now, rng):
            opened += row["status"] == "open"
            yield row

    bulk.load(connection, models["review_items"], items())
    return ConsoleAgency(day, visits, len(day_rows), review_items, opened,
                         office[0]["email"], office[1]["email"])
