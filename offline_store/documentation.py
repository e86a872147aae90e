"""What a nurse documents at a visit, as outbox mutations: EVV check-in/out, vitals,
infusions, notes, signature, a missed visit and amendments.

Vitals are coded with LOINC and UCUM units so the server stores them without guessing. Every
mutation's data is checked against the wire schema before it is queued, so the nurse hears
about a mistake while she can still fix it, not days later as a rejection. Each mutation is
also kept as a local document (``local_document``, never purged by a snapshot) so the
device can show what was documented, and the ids a later amendment needs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from offline_store.clock import local_rfc3339
from offline_store.contract import data_errors
from offline_store.errors import OfflineStoreError, UnknownVisit
from offline_store.infusion import Infusion, infusion_data
from offline_store.outbox import Mutation, Outbox
from offline_store.store import Store

CHECK_IN = "visit.check_in"
CHECK_OUT = "visit.check_out"
VITALS = "vitals.record"
INFUSION = "infusion.record"
NOTE = "visit.note"
SIGN = "visit.sign"
MISSED = "visit.missed"
AMEND = "record.amend"
# The mutation type that creates each kind of record an amendment may target.
TARGET_TYPES = {"infusion": INFUSION, "vitals": VITALS, "note": NOTE}
LOCAL_DOCUMENT = "local_document"
DEFAULT_ATTESTATION = "I attest that this documentation is accurate."

HEART_RATE = ("8867-4", "/min")
BLOOD_PRESSURE = ("85354-9", "mm[Hg]")
SYSTOLIC = "8480-6"
DIASTOLIC = "8462-4"
TEMPERATURE = ("8310-5", "Cel")
SPO2 = ("2708-6", "%")
RESPIRATORY_RATE = ("9279-1", "/min")
OXYGEN_FLOW = ("3151-8", "L/min")  # NEWS2's "air or oxygen?": 0 on room air
CONSCIOUSNESS = ("67775-7", "{ACVPU}")  # a coded answer: schemas.mutations.CONSCIOUSNESS_LEVELS


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
    oxygen_l_min: float | None = None
    consciousness: str | None = None  # ACVPU: alert, confusion, voice, pain, unresponsive


def parse_blood_pressure(text: str) -> tuple[int, int]:
    """``"120/80"`` → (120, 80); anything else is refused with a message a nurse can act on."""
    systolic, sep, diastolic = text.partition("/")
    try:
        if not sep:
            raise ValueError(text)
        return int(systolic), int(diastolic)
    except ValueError as exc:
        raise ValueError("blood pressure must look like 120/80") from exc


class InvalidDocumentation(OfflineStoreError):
    """Documentation the server would refuse; nothing was queued. ``errors``: field → why."""

    def __init__(self, type_: str, errors: dict[str, list[str]]) -> None:
        self.type = type_
        self.errors = errors
        reasons = "; ".join(f"{name}: {' '.join(why)}" for name, why in errors.items())
        super().__init__(f"{type_} not recorded: {reasons}")


def check_data(type_: str, data: dict[str, Any]) -> None:
    """Refuse data the server's schema for that mutation type would refuse."""
    errors = data_errors(type_, data)
    if errors:
        raise InvalidDocumentation(type_, errors)


def parse_clinical_time(text: str, now: datetime) -> datetime:
    """RFC 3339 with offset; without one, in the device's zone; ``HH:MM`` is today."""
    text = text.strip()
    try:
        if len(text) <= 5 and ":" in text:
            hour, minute = (int(part) for part in text.split(":"))
            return now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"not a time: {text!r} (use 09:10 or 2026-11-23T09:10-05:00)") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=now.tzinfo)


def _visit_version(store: Store, visit_id: str) -> int | None:
    """The locally known version of a visit: the base the server checks the edit against."""
    visit = store.get("visit", visit_id)
    if visit is None:
        raise UnknownVisit(f"visit {visit_id} is not on this device")
    return visit.version


def _document(store: Store, type_: str, visit_id: str, data: dict[str, Any], at: datetime,
              entity_id: str | None = None) -> Mutation:
    """Check, queue and keep one mutation about a visit (entity: the visit, or a new id)."""
    base_version = _visit_version(store, visit_id)
    check_data(type_, data)
    with store.transaction():
        mutation = Outbox(store).add(type_, entity_id or visit_id, data, occurred_at=at,
                                     visit_id=visit_id, base_version=base_version)
        store.put(LOCAL_DOCUMENT, mutation.id, mutation.to_wire())
    return mutation


def local_documents(store: Store, visit_id: str | None = None) -> list[dict[str, Any]]:
    """Mutations documented on this device (wire form), of one visit or all, in seq order."""
    found = [record.data for record in store.all(LOCAL_DOCUMENT)
             if visit_id is None or record.data.get("visit_id") == visit_id]
    return sorted(found, key=lambda wire: int(wire["seq"]))


def _evv(at: datetime, location: Location | None) -> dict[str, Any]:
    """The data of a check-in or check-out."""
    where = None if location is None else {
        "latitude": location.latitude, "longitude": location.longitude,
        "accuracy_m": location.accuracy_m}
    return {"at": local_rfc3339(at), "location": where}


def check_in(store: Store, visit_id: str, at: datetime,
             location: Location | None = None) -> Mutation:
    """Record arrival at the visit (EVV)."""
    return _document(store, CHECK_IN, visit_id, _evv(at, location), at)


def check_out(store: Store, visit_id: str, at: datetime,
              location: Location | None = None) -> Mutation:
    """Record departure from the visit (EVV)."""
    return _document(store, CHECK_OUT, visit_id, _evv(at, location), at)


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
    if vitals.oxygen_l_min is not None:
        readings.append(_reading(OXYGEN_FLOW, vitals.oxygen_l_min))
    if vitals.consciousness is not None:
        code, unit = CONSCIOUSNESS
        readings.append({"code": code, "unit": unit, "answer": vitals.consciousness})
    return readings


def record_vitals(store: Store, visit_id: str, vitals: Vitals, at: datetime) -> list[Mutation]:
    """One ``vitals.record`` mutation per reading, all durable together or not at all."""
    _visit_version(store, visit_id)
    with store.transaction():
        return [_document(store, VITALS, visit_id, {**reading, "taken_at": local_rfc3339(at)},
                          at, entity_id=str(uuid.uuid4()))
                for reading in vital_readings(vitals)]


def record_infusion(store: Store, visit_id: str, infusion: Infusion) -> Mutation:
    """One administration; its clinical time is when it started. Entity: a new record id."""
    return _document(store, INFUSION, visit_id, infusion_data(infusion), infusion.started_at,
                     entity_id=str(uuid.uuid4()))


def add_note(store: Store, visit_id: str, category: str, text: str, at: datetime) -> Mutation:
    """A free-text note (assessment, teaching or communication). Entity: a new record id."""
    return _document(store, NOTE, visit_id, {"category": category, "text": text}, at,
                     entity_id=str(uuid.uuid4()))


def sign_visit(store: Store, visit_id: str, at: datetime,
               attestation: str = DEFAULT_ATTESTATION) -> Mutation:
    """The nurse attests the visit's documentation; after it, corrections are amendments."""
    return _document(store, SIGN, visit_id,
                     {"at": local_rfc3339(at), "attestation": attestation}, at)


def report_missed(store: Store, visit_id: str, reason: str, at: datetime,
                  note: str | None = None) -> Mutation:
    """The visit could not be performed, and why."""
    return _document(store, MISSED, visit_id,
                     {"at": local_rfc3339(at), "reason": reason, "note": note}, at)


def _check_target(store: Store, visit_id: str, target_type: str, target_id: str) -> None:
    """A target documented on this device must be of that type and on that visit."""
    for wire in local_documents(store):
        if wire["entity_id"] != target_id or wire["type"] not in TARGET_TYPES.values():
            continue
        errors: dict[str, list[str]] = {}
        if wire["type"] != TARGET_TYPES.get(target_type):
            kind = next(k for k, t in TARGET_TYPES.items() if t == wire["type"])
            errors["target_type"] = [f"record {target_id} is a {kind} record, "
                                     f"not a {target_type} record."]
        if wire["visit_id"] != visit_id:
            errors["target_id"] = [f"record {target_id} belongs to visit {wire['visit_id']}."]
        if errors:
            raise InvalidDocumentation(AMEND, errors)


def amend_record(store: Store, visit_id: str, target_type: str, target_id: str, reason: str,
                 changes: dict[str, Any], at: datetime) -> Mutation:
    """A correction of a record of this visit; the original stays. Entity: a new id."""
    _visit_version(store, visit_id)
    _check_target(store, visit_id, target_type, target_id)
    return _document(store, AMEND, visit_id, {
        "target_type": target_type, "target_id": target_id, "reason": reason,
        "changes": changes}, at, entity_id=str(uuid.uuid4()))


def prune_local_documents(store: Store) -> int:
    """Forget answered documents of visits no longer on the device; return how many.

    The server holds them; a visit that left the device (reassigned, cancelled, out of the
    window) takes its clinical content with it, as its patient's records do.
    """
    pending = {mutation.id for mutation in Outbox(store).pending()}
    visits = {record.id for record in store.all("visit")}
    with store.transaction():
        return sum(store.delete(LOCAL_DOCUMENT, wire["id"]) for wire in local_documents(store)
                   if wire["id"] not in pending and wire["visit_id"] not in visits)
