"""Synthetic agency rows for bulk loading: staff, patients and what hangs off them, visits.

Every row carries every NOT NULL column explicitly, so the same dicts load through COPY
(which knows no Python-side defaults) and through Core.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from server.models import (
    AccessDeviceType,
    FrequencyKind,
    LocationKind,
    OrderStatus,
    PatientStatus,
    PumpStatus,
    Role,
    VisitStatus,
)

PHYSICIAN_NPI = "1234567893"  # passes the NPI check digit
Row = dict[str, Any]


def _stamps(now: datetime) -> Row:
    return {"version": 1, "created_at": now, "updated_at": now}


def staff(role: Role, count: int, tag: str, password_hash: str, now: datetime) -> list[Row]:
    """``count`` active staff members of ``role`` with emails ``<tag>-<role>-<i>@bench.test``."""
    return [{"id": uuid.uuid4(), "email": f"{tag}-{role.value}-{i}@bench.test",
             "name": f"{role.value.title()} {tag} {i}", "role": role,
             "password_hash": password_hash, "active": True, "competencies": [],
             "npi": PHYSICIAN_NPI if role is Role.PHYSICIAN else None, **_stamps(now)}
            for i in range(count)]


@dataclass
class Patients:
    """Rows for patients with a home location, one order each, and pumps for some."""

    patients: list[Row] = field(default_factory=list)
    locations: list[Row] = field(default_factory=list)
    orders: list[Row] = field(default_factory=list)
    pumps: list[Row] = field(default_factory=list)
    homes: list[uuid.UUID] = field(default_factory=list)  # home location of each patient


def _patient(tag: str, i: int, physician: uuid.UUID, now: datetime) -> Row:
    return {"id": uuid.uuid4(), "mrn": f"{tag}-{i:07d}", "first_name": "Pat",
            "last_name": f"Bench{i}", "birth_date": date(1940, 1, 1) + timedelta(days=i % 20000),
            "phone": "555-0100", "allergies": ["penicillin"] if i % 5 == 0 else [],
            "primary_physician_id": physician, "status": PatientStatus.ACTIVE,
            "access_type": AccessDeviceType.PICC, "access_placed_on": date(2026, 10, 1),
            "access_side": "right", "access_external_length_cm": Decimal("2.0"),
            **_stamps(now)}


def _location(patient: uuid.UUID, kind: LocationKind, i: int) -> Row:
    return {"id": uuid.uuid4(), "patient_id": patient, "kind": kind,
            "address": f"{i} Elm St, Springfield", "latitude": 39.78 + (i % 100) / 1000,
            "longitude": -89.65 - (i % 100) / 1000, "evv_radius_m": 150, "version": 1}


def _order(patient: uuid.UUID, physician: uuid.UUID, now: datetime) -> Row:
    return {"id": uuid.uuid4(), "patient_id": patient, "physician_id": physician,
            "medication": "ceftriaxone", "dose": Decimal("2"), "dose_unit": "g", "route": "IV",
            "rate_ml_h": Decimal("100"), "volume_ml": Decimal("100"),
            "frequency_kind": FrequencyKind.DAILY, "frequency_interval": 1,
            "start_date": date(2026, 10, 1), "pump_required": False,
            "status": OrderStatus.ACTIVE, **_stamps(now)}


def _pump(patient: uuid.UUID, tag: str, i: int, now: datetime) -> Row:
    return {"id": uuid.uuid4(), "serial": f"{tag}-PMP-{i:07d}", "manufacturer": "Moog",
            "model": "CADD-Solis", "status": PumpStatus.IN_SERVICE, "patient_id": patient,
            **_stamps(now)}


def patients(count: int, tag: str, physicians: list[uuid.UUID], now: datetime,
             *, work_every: int = 0, pump_every: int = 10) -> Patients:
    """``count`` patients; every ``work_every``-th also has a work location."""
    out = Patients()
    for i in range(count):
        physician = physicians[i % len(physicians)]
        patient = _patient(tag, i, physician, now)
        out.patients.append(patient)
        home = _location(patient["id"], LocationKind.HOME, i)
        out.locations.append(home)
        out.homes.append(home["id"])
        if work_every and i % work_every == 0:
            out.locations.append(_location(patient["id"], LocationKind.WORK, i))
        out.orders.append(_order(patient["id"], physician, now))
        if pump_every and i % pump_every == 0:
            out.pumps.append(_pump(patient["id"], tag, i, now))
    return out


def visit(patient: Row, location: uuid.UUID, order: Row | None, nurse: uuid.UUID,
          start: datetime, now: datetime) -> Row:
    """A one-hour visit; completed when it lies in the past, else scheduled."""
    status = VisitStatus.COMPLETED if start < now else VisitStatus.SCHEDULED
    return {"id": uuid.uuid4(), "patient_id": patient["id"],
            "order_id": order["id"] if order else None, "nurse_id": nurse,
            "service_location_id": location, "scheduled_start": start,
            "scheduled_end": start + timedelta(hours=1), "status": status,
            "cancel_reason": None, **_stamps(now)}


def random_start(rng: random.Random, now: datetime, back_days: int, ahead_days: int) -> datetime:
    """A start on the hour between 08:00 and 17:00, ``back_days`` ago to ``ahead_days`` on."""
    day = (now + timedelta(days=rng.randint(-back_days, ahead_days))).replace(
        hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(hours=rng.randint(8, 17))
