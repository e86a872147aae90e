"""The pull benchmark's agency: many nurses' visits, and one measured nurse's caseload.

Loaded with COPY (PostgreSQL) or Core. The measured nurse's patients are hers alone, so
growing the agency around her changes nothing in what her device is sent.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from bench import agency, bulk
from bench.agency import Row

VISITS_PER_PATIENT = 20  # over the year of history the background agency holds
VISITS_PER_NURSE = 500
FEED_EVERY = 5  # one recent feed entry per this many background visits
HISTORY_DAYS, AHEAD_DAYS = 330, 30
CASELOAD_DAYS = (-20, -3, 2, 9)  # the first lies outside her window [now-7d, now+14d)
CASELOAD_FEED = 200  # older entries already in her feed before the measured changes


@dataclass
class Caseload:
    """What the measured nurse holds: ids to change and to check against."""

    nurse_id: uuid.UUID
    patient_ids: list[uuid.UUID] = field(default_factory=list)
    location_ids: list[uuid.UUID] = field(default_factory=list)
    window_visit_ids: list[uuid.UUID] = field(default_factory=list)


def _models() -> dict[str, Any]:
    from server.models import (
        FeedEntry,
        FeedHead,
        Patient,
        Pump,
        ServiceLocation,
        TherapyOrder,
        User,
        Visit,
    )

    return {"users": User, "patients": Patient, "locations": ServiceLocation,
            "orders": TherapyOrder, "pumps": Pump, "visits": Visit, "feed": FeedEntry,
            "heads": FeedHead}


def _load_people(connection: Connection, people: agency.Patients) -> None:
    models = _models()
    for name, rows in (("patients", people.patients), ("locations", people.locations),
                       ("orders", people.orders), ("pumps", people.pumps)):
        bulk.load(connection, models[name], rows)


class _Feed:
    """Feed entries and heads written in position order per nurse."""

    def __init__(self) -> None:
        self.entries: list[Row] = []
        self.heads: dict[uuid.UUID, int] = {}

    def add(self, nurse: uuid.UUID, kind: str, entity: uuid.UUID, at: datetime) -> None:
        position = self.heads.get(nurse, 0) + 1
        self.heads[nurse] = position
        self.entries.append({"nurse_id": nurse, "position": position, "entity_type": kind,
                             "entity_id": entity, "created_at": at})

    def load(self, connection: Connection) -> None:
        models = _models()
        bulk.load(connection, models["feed"], self.entries)
        bulk.load(connection, models["heads"], [
            {"nurse_id": nurse, "position": last, "compacted_through": 0}
            for nurse, last in self.heads.items()])


def background(connection: Connection, visits: int, tag: str, physicians: list[uuid.UUID],
               password_hash: str, now: datetime) -> None:
    """``visits`` visits of many nurses and patients (about 20 visits a patient)."""
    from server.models import Role, VisitStatus

    rng = random.Random(tag)  # noqa: S311 - synthetic data, reproducible on purpose
    nurses = agency.staff(Role.NURSE, max(10, visits // VISITS_PER_NURSE), tag, password_hash,
                          now)
    people = agency.patients(max(1, visits // VISITS_PER_PATIENT), tag, physicians, now)
    bulk.load(connection, _models()["users"], nurses)
    _load_people(connection, people)
    feed = _Feed()

    def rows() -> Any:
        for i in range(visits):
            p = rng.randrange(len(people.patients))
            nurse = nurses[p % len(nurses)]["id"]
            start = agency.random_start(rng, now, HISTORY_DAYS, AHEAD_DAYS)
            row = agency.visit(people.patients[p], people.homes[p], people.orders[p], nurse,
                               start, now)
            if rng.random() < 0.03:
                row.update(status=VisitStatus.CANCELLED, cancel_reason="Patient hospitalised")
            if i % FEED_EVERY == 0:
                feed.add(nurse, "visit", row["id"], now - timedelta(hours=rng.randint(1, 300)))
            yield row

    bulk.load(connection, _models()["visits"], rows())
    feed.load(connection)


def caseload(connection: Connection, nurse_id: uuid.UUID, size: int,
             physicians: list[uuid.UUID], now: datetime) -> Caseload:
    """``size`` patients of the measured nurse, four visits each (three in her window)."""
    people = agency.patients(size, "case", physicians, now, work_every=4, pump_every=2)
    _load_people(connection, people)
    out = Caseload(nurse_id, [p["id"] for p in people.patients],
                   [loc["id"] for loc in people.locations])
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    visits = []
    for i, patient in enumerate(people.patients):
        for offset in CASELOAD_DAYS:
            start = day + timedelta(days=offset, hours=9 + i % 8)
            visits.append(agency.visit(patient, people.homes[i], people.orders[i], nurse_id,
                                       start, now))
            if offset != CASELOAD_DAYS[0]:
                out.window_visit_ids.append(visits[-1]["id"])
    bulk.load(connection, _models()["visits"], visits)
    feed = _Feed()
    for n in range(CASELOAD_FEED):
        feed.add(nurse_id, "visit", visits[n % len(visits)]["id"],
                 now - timedelta(hours=CASELOAD_FEED - n))
    feed.load(connection)
    return out
