"""What a demo nurse documents on one visit, as her device would send it.

Each visit becomes a list of ``Step``s: one sync mutation (wire format, times with the
agency's local offset as a device reports them) and the moment she did it. Check-in at the
patient's door, vital signs (LOINC codes, UCUM units, as ``reconcile.vitals`` stores
them), the infusion with its order, drug lot and the patient's pump, a note on some visits,
check-out and signature. Values come from a generator seeded by the visit's id, so the
same visit is always charted the same way.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.models import Patient, ServiceLocation, TherapyOrder, Visit

DemoId = Callable[[str, object], uuid.UUID]
# Within this many degrees of the door (~20 m): inside any EVV radius.
GPS_JITTER = 0.0002
NOTES = (
    ("assessment", "Dressing clean, dry and intact; no redness or swelling at the site."),
    ("teaching", "Reviewed line care and when to call the agency; patient repeated it back."),
    ("assessment", "Patient tolerated the infusion well; no complaints."),
    ("communication", "Caregiver asked about next week's supplies; passed to the pharmacy."),
)


@dataclass(frozen=True)
class Chart:
    """One visit to document: the visit, its order, patient, place and pump."""

    visit: Visit
    order: TherapyOrder
    patient: Patient
    place: ServiceLocation
    pump_serial: str | None


@dataclass(frozen=True)
class Step:
    """One mutation (without its ``seq``, which the device numbers when it sends) and
    when the nurse did what it records."""

    at: datetime
    mutation: dict[str, Any]


class Charting:
    """Builds a visit's steps: its ids, local times and the visit version the nurse saw."""

    def __init__(self, chart: Chart, zone: ZoneInfo, demo_id: DemoId) -> None:
        self.chart, self.zone, self.demo_id = chart, zone, demo_id
        self.rng = random.Random(str(chart.visit.id))  # noqa: S311 - demo values

    def local(self, at: datetime) -> str:
        """The time as a device reports it: local, with its offset."""
        return at.astimezone(self.zone).isoformat()

    def step(self, kind: str, at: datetime, data: dict[str, Any], key: str = "") -> Step:
        """One mutation of this visit; ids are fixed by visit, kind and ``key``."""
        visit = self.chart.visit
        name = f"{visit.id}:{kind}:{key}"
        return Step(at, {
            "id": str(self.demo_id("mutation", name)), "type": kind,
            "entity_id": str(self.demo_id("record", name)), "visit_id": str(visit.id),
            "base_version": visit.version, "occurred_at": self.local(at), "data": data})

    def check(self, kind: str, at: datetime) -> Step:
        """A check-in or check-out from the patient's door."""
        place = self.chart.place
        location = {
            "latitude": round(place.latitude + self.rng.uniform(-GPS_JITTER, GPS_JITTER), 6),
            "longitude": round(place.longitude + self.rng.uniform(-GPS_JITTER, GPS_JITTER), 6),
            "accuracy_m": float(self.rng.randint(5, 25))}
        return self.step(kind, at, {"at": self.local(at), "location": location})


def steps(chart: Chart, zone: ZoneInfo, demo_id: DemoId) -> list[Step]:
    """Everything the nurse documents on the visit, in the order she does it."""
    charting = Charting(chart, zone, demo_id)
    rng, visit = charting.rng, chart.visit
    checked_in = visit.scheduled_start + timedelta(minutes=rng.randint(-5, 10))
    infusion, stopped = _infusion(charting, checked_in + timedelta(minutes=15))
    ends = visit.scheduled_end - timedelta(minutes=rng.randint(0, 8))
    checked_out = max(ends, stopped + timedelta(minutes=5))
    result = [charting.check("visit.check_in", checked_in),
              *_vitals(charting, checked_in + timedelta(minutes=5)), infusion]
    if rng.random() < 0.35:
        category, text = rng.choice(NOTES)
        result.append(charting.step("visit.note", checked_out - timedelta(minutes=3),
                                    {"category": category, "text": text}))
    signed = checked_out + timedelta(minutes=2)
    return [*result, charting.check("visit.check_out", checked_out),
            charting.step("visit.sign", signed, {"at": charting.local(signed)})]


def _vitals(charting: Charting, at: datetime) -> list[Step]:
    """Blood pressure, pulse, temperature and oxygen saturation, in the normal ranges."""
    rng = charting.rng
    readings: list[tuple[str, dict[str, Any]]] = [
        ("85354-9", {"components": [
            {"code": "8480-6", "value": rng.randint(104, 136), "unit": "mm[Hg]"},
            {"code": "8462-4", "value": rng.randint(62, 86), "unit": "mm[Hg]"}],
            "unit": "mm[Hg]"}),
        ("8867-4", {"value": rng.randint(60, 88), "unit": "/min"}),
        ("8310-5", {"value": round(rng.uniform(36.3, 37.5), 1), "unit": "Cel"}),
        ("2708-6", {"value": rng.randint(96, 99), "unit": "%"}),
    ]
    result = []
    for minute, (code, values) in enumerate(readings):
        taken = at + timedelta(minutes=minute)
        data = {"code": code, **values, "taken_at": charting.local(taken)}
        result.append(charting.step("vitals.record", taken, data, code))
    return result


def _infusion(charting: Charting, started: datetime) -> tuple[Step, datetime]:
    """The administration as ordered, and when the nurse is done with it: at the end of
    the infusion, or (a bag that runs on after she leaves) once it is running."""
    chart, rng = charting.chart, charting.rng
    order = chart.order
    lot = random.Random(str(order.id))  # noqa: S311 - one lot per patient's supply
    volume = float(order.volume_ml) if order.volume_ml is not None else None
    rate = float(order.rate_ml_h) if order.rate_ml_h is not None else None
    runs = timedelta(hours=volume / rate) if volume and rate else timedelta(minutes=30)
    stops: datetime | None = started + runs
    if stops is not None and stops > chart.visit.scheduled_end - timedelta(minutes=10):
        stops = None  # a long bag: it is still running when she checks out
    data: dict[str, Any] = {
        "order_id": str(order.id), "medication": order.medication, "dose": float(order.dose),
        "dose_unit": order.dose_unit, "route": order.route,
        "lot_number": f"{order.medication[:3].upper()}{lot.randint(10000, 99999)}",
        "lot_expiry": (order.start_date + timedelta(days=lot.randint(120, 540))).isoformat(),
        "access": _access(chart.patient), "started_at": charting.local(started),
        "stopped_at": charting.local(stops) if stops else None,
        "volume_infused_ml": volume if stops else None,
        "adverse_reaction": {"occurred": False}}
    if chart.pump_serial is not None and rate is not None:
        data["pump"] = {"serial": chart.pump_serial, "programmed_rate_ml_h": rate,
                        "vtbi_ml": volume}
    done = stops or started + timedelta(minutes=rng.randint(2, 6))
    return charting.step("infusion.record", done, data), done


def _access(patient: Patient) -> dict[str, Any]:
    """The patient's line, flushed before and after, its site calm."""
    kind = patient.access_type.value if patient.access_type else "piv"
    where = {"port": "chest", "piv": "forearm"}.get(kind, "upper arm")
    return {"device_type": kind, "site": f"{patient.access_side or 'right'} {where}",
            "flushed_before": True, "flushed_after": True,
            "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}}
