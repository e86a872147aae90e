"""For any sequence of mutations for a visit, in any arrival order across batches, the final
visit state and documentation are the same.

Each example draws a plausible day at one visit from one device (check-in, some vitals,
notes and infusions, check-out, signature, maybe a note after signing, maybe "missed"),
numbers it in order, cuts it into batches and sends the batches in a random order. The same
logical day, with fresh ids, goes in order to a second, identical visit from a second
device. The two visits must end alike: status and times, the documents with their flags,
and the open review items.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from server.extensions import db
from server.models import (
    InfusionAdministration,
    ReviewItem,
    ReviewStatus,
    Visit,
    VisitEvent,
    VisitNote,
    VitalSign,
)
from tests.conftest import FakeClock
from tests.depth import examples
from tests.integration.sync.device import TestDevice

HOME = {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}  # patient_a's home
DAY = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
EASTERN = timezone(timedelta(hours=-5))  # the device's offset, kept in clinical times


@dataclass(frozen=True)
class Step:
    """One logical mutation of the day, independent of ids and seqs."""

    kind: str
    params: tuple[Any, ...] = ()


def _at(minutes: int) -> str:
    return (DAY + timedelta(minutes=minutes)).astimezone(EASTERN).isoformat()


# -- what a day at a visit may hold ------------------------------------------------------------

VITAL_STEPS = st.builds(lambda hr: Step("vitals", (hr,)), st.sampled_from([72, 120]))
NOTE_STEPS = st.builds(lambda c: Step("note", (c,)),
                       st.sampled_from(["assessment", "teaching", "communication"]))
INFUSION_STEPS = st.builds(lambda start, expired: Step("infusion", (start, expired)),
                           st.sampled_from([10, 30, 50]), st.booleans())
MISSED_STEPS = st.builds(lambda r: Step("missed", (r,)),
                         st.sampled_from(["patient_not_home", "patient_refused"]))


@st.composite
def days(draw: st.DrawFn) -> list[Step]:
    """A plausible sequence for one visit, in the order the nurse documented it."""
    steps: list[Step] = []
    if draw(st.booleans()):
        steps.append(Step("check_in", (draw(st.booleans()),)))  # with or without a location
    steps += draw(st.lists(st.one_of(VITAL_STEPS, NOTE_STEPS, INFUSION_STEPS), max_size=4))
    if steps and draw(st.booleans()):
        steps.append(Step("check_out", ()))
        if draw(st.booleans()):
            steps.append(Step("sign", ()))
            if draw(st.booleans()):
                steps.append(Step("note", ("communication",)))
    if draw(st.integers(0, 3)) == 0:
        steps.insert(draw(st.integers(0, len(steps))), draw(MISSED_STEPS))
    if not steps:
        steps.append(draw(MISSED_STEPS))
    return steps


def _data(step: Step, order_id: str) -> tuple[str, dict[str, Any], bool]:
    """(mutation type, data, whether the entity is a new record) of one step."""
    if step.kind in ("check_in", "check_out"):
        located = step.kind == "check_out" or step.params[0]
        return (f"visit.{step.kind}", {"at": _at(5 if step.kind == "check_in" else 90),
                                       "location": HOME if located else None}, False)
    if step.kind == "vitals":
        return ("vitals.record", {"code": "8867-4", "value": step.params[0], "unit": "/min",
                                  "taken_at": _at(10)}, True)
    if step.kind == "note":
        return "visit.note", {"category": step.params[0], "text": "Noted."}, True
    if step.kind == "infusion":
        start, expired = step.params
        return ("infusion.record", {
            "order_id": order_id, "medication": "ceftriaxone", "dose": 2, "dose_unit": "g",
            "route": "IV", "lot_number": "L1",
            "lot_expiry": "2026-11-01" if expired else "2027-06-30",
            "access": {"device_type": "picc", "site": "left basilic", "flushed_before": True,
                       "flushed_after": True,
                       "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
            "pump": None, "started_at": _at(start), "stopped_at": _at(start + 30),
            "volume_infused_ml": 100, "adverse_reaction": None, "notes": None}, True)
    if step.kind == "sign":
        return "visit.sign", {"at": _at(95), "attestation": "I attest."}, False
    return "visit.missed", {"at": _at(5), "reason": step.params[0], "note": None}, False


def _mutations(device: TestDevice, visit: dict[str, Any], order_id: str,
               steps: list[Step]) -> list[dict[str, Any]]:
    """The day as wire mutations of ``device``, seqs in documentation order."""
    made = []
    for step in steps:
        type_, data, new_record = _data(step, order_id)
        made.append(device.mutation(type_, visit["id"], data,
                                    entity_id=uuid.uuid4() if new_record else None,
                                    base_version=visit["version"]))
    return made


# -- the agency side ---------------------------------------------------------------------------


def _device(client: FlaskClient, staff: dict[str, str], nurse: uuid.UUID) -> TestDevice:
    code = client.post(f"/api/v1/users/{nurse}/enrollment-codes", headers=staff)
    assert code.status_code == 201, code.get_json()
    device = TestDevice(client)
    assert device.enroll(code.get_json()["code"]).status_code == 201
    return device


def _visit(client: FlaskClient, staff: dict[str, str], agency: Any) -> dict[str, Any]:
    response = client.post("/api/v1/visits", headers=staff, json={
        "patient_id": str(agency["patient_a"]), "nurse_id": str(agency["nurse_a"]),
        "order_id": str(agency["order_a"]), "service_location_id": str(agency["location_a"]),
        "scheduled_start": DAY.isoformat(),
        "scheduled_end": (DAY + timedelta(hours=2)).isoformat()})
    assert response.status_code == 201, response.get_json()
    visit: dict[str, Any] = response.get_json()
    return visit


def _push(device: TestDevice, batch: list[dict[str, Any]]) -> dict[int, str]:
    """Send one batch; return each mutation's status by seq."""
    response = device.push(batch)
    assert response.status_code == 200, response.get_json()
    return {m["seq"]: r["status"] for m, r in zip(batch, response.get_json()["results"],
                                                   strict=True)}


def _outcome(visit_id: str) -> dict[str, Any]:
    """What the visit ended as: state, documents with their flags, open review items."""
    vid = uuid.UUID(visit_id)
    visit = db.session.get(Visit, vid)
    assert visit is not None
    db.session.refresh(visit)
    documents: Counter[tuple[Any, ...]] = Counter()
    for event in db.session.scalars(select(VisitEvent).where(VisitEvent.visit_id == vid)):
        documents["event", event.kind, event.evv_status, tuple(sorted(event.flags)),
                  event.conflict] += 1
    for sign in db.session.scalars(select(VitalSign).where(VitalSign.visit_id == vid)):
        documents["vitals", float(sign.value or 0), tuple(sorted(sign.flags)),
                  sign.conflict] += 1
    for note in db.session.scalars(select(VisitNote).where(VisitNote.visit_id == vid)):
        documents["note", note.category, tuple(sorted(note.flags)), note.conflict] += 1
    for infusion in db.session.scalars(select(InfusionAdministration).where(
            InfusionAdministration.visit_id == vid)):
        documents["infusion", infusion.started_at_text, str(infusion.lot_expiry),
                  tuple(sorted(infusion.flags)), infusion.conflict] += 1
    review = Counter(db.session.scalars(select(ReviewItem.kind).where(
        ReviewItem.visit_id == vid, ReviewItem.status == ReviewStatus.OPEN)))
    return {"status": visit.status.value, "checked_in_at": visit.checked_in_at,
            "checked_out_at": visit.checked_out_at, "signed_at": visit.signed_at,
            "missed_reason": visit.missed_reason, "documents": documents,
            "review_items": review}


def _open_seq_gaps(device: TestDevice) -> int:
    return len(db.session.scalars(select(ReviewItem).where(
        ReviewItem.device_id == uuid.UUID(device.device_id), ReviewItem.kind == "seq_gap",
        ReviewItem.status == ReviewStatus.OPEN)).all())


@st.composite
def arrivals(draw: st.DrawFn) -> tuple[list[Step], list[list[int]]]:
    """A day, cut into batches (of step indexes), the batches in a random arrival order."""
    steps = draw(days())
    cuts = sorted(draw(st.sets(st.integers(1, len(steps) - 1), max_size=len(steps) - 1))
                  if len(steps) > 1 else set())
    bounds = [0, *cuts, len(steps)]
    batches = [list(range(a, b)) for a, b in itertools.pairwise(bounds)]
    return steps, draw(st.permutations(batches))


# Counterexamples the property found, tried on every run. The first two failed against an
# earlier server (check_in_on_closed_visit only when "missed" arrived first; the third of
# three overlapping infusions flagged twice); the chain still fails (one review item when
# the middle infusion arrives last, two when it arrives second).
MISSED_THEN_CHECKED_IN = (
    [Step("missed", ("patient_not_home",)), Step("check_in", (True,))], [[1], [0]])
THREE_AT_ONCE = ([Step("infusion", (10, False)), Step("infusion", (10, False)),
                  Step("infusion", (10, True))], [[0], [2], [1]])
# 10-40, 30-60 and 50-80 min: the first and last each overlap the middle one only.
OVERLAP_CHAIN = ([Step("infusion", (10, False)), Step("infusion", (30, False)),
                  Step("infusion", (50, False))], [[0], [2], [1]])


# Every example enrolls two devices and schedules two visits: every run draws a share of
# the days make test-deep draws (tests/depth.py); the counterexamples below run in both.
@settings(max_examples=examples(every_run=10, deep=25), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(arrival=MISSED_THEN_CHECKED_IN)
@example(arrival=THREE_AT_ONCE)
@example(arrival=OVERLAP_CHAIN)
@given(arrival=arrivals())
def test_arrival_order_does_not_change_the_record(
        app: Flask, client: FlaskClient, clock: FakeClock, agency: Any, as_user: Any,
        arrival: tuple[list[Step], list[list[int]]]) -> None:
    steps, shuffled = arrival
    staff = as_user("coordinator")
    late, timely = _device(client, staff, agency["nurse_a"]), _device(
        client, staff, agency["nurse_a"])
    late_visit, timely_visit = _visit(client, staff, agency), _visit(client, staff, agency)
    order_id = str(agency["order_a"])
    late_day = _mutations(late, late_visit, order_id, steps)
    timely_day = _mutations(timely, timely_visit, order_id, steps)

    late_status: dict[int, str] = {}
    for batch in shuffled:
        late_status.update(_push(late, [late_day[i] for i in batch]))
    timely_status: dict[int, str] = {}
    for batch in sorted(shuffled):
        timely_status.update(_push(timely, [timely_day[i] for i in batch]))

    assert late_status == timely_status
    with app.app_context():
        assert _outcome(late_visit["id"]) == _outcome(timely_visit["id"])
        assert _open_seq_gaps(late) == _open_seq_gaps(timely) == 0
