"""What a nurse documents at a visit, as outbox mutations: EVV check-in/out and vitals.

Vitals are coded with LOINC and UCUM units so the server stores them without guessing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from offline_store.clock import local_rfc3339
from offline_store.errors import UnknownVisit
from offline_store.outbox import Mutation, Outbox
from offline_store.store import Store

CHECK_IN = "visit.check_in"
CHECK_OUT = "visit.check_out"
VITALS = "vitals.record"

HEART_RATE = ("8867-4", "/min")
BLOOD_PRESSURE = ("85354-9", "mm[Hg]")
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
TEMPERATURE = ("8310-5", "Cel")
SPO2 = ("2708-6", "%")
RESPIRATORY_RATE = ("9279-1", "/min")


@dataclass(frozen=True)
class Location:
    """Where the device was for an EVV event."""

    latitude: float
    longitude: float
    accuracy_m: float | None = None


@dataclass(frozen=True)
class Vitals:
    """One set of readings; each reading given becomes one mutation."""

    heart_rate: int | None = None
    blood_pressure: tuple[int, int] | None = None
    temperature_c: float | None = None
    spo2: int | None = None
    respiratory_rate: int | None = None


def parse_blood_pressure(text: str) -> tuple[int, int]:
    """``"120/80"`` → (120, 80); anything else is refused with a message a nurse can act on."""
    systolic, sep, diastolic = text.partition("/")
    try:
        if not sep:
            raise ValueError(text)
        return int(systolic), int(diastolic)
    except ValueError as exc:
        raise ValueError("blood pressure must look like 120/80") from exc


def _visit_version(store: Store, visit_id: str) -> int | None:
    """The locally known version of a visit: the base the server checks the edit against."""
    visit = store.get("visit", visit_id)
    if visit is None:
        raise UnknownVisit(f"visit {visit_id} is not on this device")
    return visit.version


def _evv(at: datetime, location: Location | None) -> dict[str, Any]:
    """The data of a check-in or check-out."""
    where = None if location is None else {
        "latitude": location.latitude, "longitude": location.longitude,
        "accuracy_m": location.accuracy_m}
    return {"at": local_rfc3339(at), "location": where}


def check_in(store: Store, visit_id: str, at: datetime,
             location: Location | None = None) -> Mutation:
    """Record arrival at the visit (EVV)."""
    return Outbox(store).add(CHECK_IN, visit_id, _evv(at, location), occurred_at=at,
                             visit_id=visit_id, base_version=_visit_version(store, visit_id))


def check_out(store: Store, visit_id: str, at: datetime,
              location: Location | None = None) -> Mutation:
    """Record departure from the visit (EVV)."""
    return Outbox(store).add(CHECK_OUT, visit_id, _evv(at, location), occurred_at=at,
                             visit_id=visit_id, base_version=_visit_version(store, visit_id))


def _reading(coding: tuple[str, str], value: float) -> dict[str, Any]:
    """A single-valued reading."""
    code, unit = coding
    return {"code": code, "value": value, "unit": unit}


def _blood_pressure(systolic: int, diastolic: int) -> dict[str, Any]:
    """The blood pressure panel with its two components."""
    code, unit = BLOOD_PRESSURE
    return {"code": code, "unit": unit, "components": [
        {"code": SYSTOLIC, "value": systolic, "unit": unit},
        {"code": DIASTOLIC, "value": diastolic, "unit": unit}]}


def vital_readings(vitals: Vitals) -> list[dict[str, Any]]:
    """The coded readings (without ``taken_at``) of every vital sign given, in chart order."""
    readings: list[dict[str, Any]] = []
    if vitals.heart_rate is not None:
        readings.append(_reading(HEART_RATE, vitals.heart_rate))
    if vitals.blood_pressure is not None:
        readings.append(_blood_pressure(*vitals.blood_pressure))
    if vitals.temperature_c is not None:
        readings.append(_reading(TEMPERATURE, vitals.temperature_c))
    if vitals.spo2 is not None:
        readings.append(_reading(SPO2, vitals.spo2))
    if vitals.respiratory_rate is not None:
        readings.append(_reading(RESPIRATORY_RATE, vitals.respiratory_rate))
    return readings


def record_vitals(store: Store, visit_id: str, vitals: Vitals, at: datetime) -> list[Mutation]:
    """One ``vitals.record`` mutation per reading, all durable together or not at all."""
    _visit_version(store, visit_id)
    outbox = Outbox(store)
    with store.transaction():
        return [outbox.add(VITALS, str(uuid.uuid4()), {**reading, "taken_at": local_rfc3339(at)},
                           occurred_at=at, visit_id=visit_id)
                for reading in vital_readings(vitals)]
