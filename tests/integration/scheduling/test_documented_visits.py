"""Documented means documented: no automatic schedule change cancels or moves a visit
anything is documented on; it opens one review item for the coordinator instead.

Documentation arrives as the nurse's device sends it (a real sealed push); the changes are
made as the coordinator makes them (the REST API), and the generator is run again as the
nightly job would.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, time, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from server.extensions import db
from server.models import (
    Patient,
    ReviewItem,
    ReviewStatus,
    User,
    Visit,
    VisitNote,
    VisitStatus,
)
from server.services.visit_generation import extend_horizon
from tests.integration.reconcile.conftest import HOME, as_ordered
from tests.integration.scheduling.helpers import NEW_YORK, generate, visit_row
from tests.integration.sync.device import TestDevice

KEPT = "documented_visit_kept"
TODAY, TOMORROW, AFTER = "2026-11-23", "2026-11-24", "2026-11-25"


@pytest.fixture
def course(app: Flask, agency: Any, clock: Any) -> dict[str, Any]:
    """Patient A's daily 10:00 order for 23-25 November, its visits assigned to nurse_a;
    ids of the order and of its visits by local day."""
    from tests.factories import make_order

    with app.app_context():
        patient = db.session.get(Patient, agency["patient_a"])
        physician = db.session.get(User, agency["physician_a"])
        assert patient is not None and physician is not None
        order = make_order(patient, physician, start_date=date(2026, 11, 23),
                           end_date=date(2026, 11, 25), window_start=time(10, 0))
        db.session.commit()
        order_id = order.id
    generate(app, clock(), [order_id])
    with app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.order_id == order_id)).all()
        for visit in visits:
            visit.nurse_id = agency["nurse_a"]
        db.session.commit()
        days = {v.scheduled_start.astimezone(NEW_YORK).date().isoformat(): v.id
                for v in visits}
    return {"order": order_id, **days}


def _note(device: TestDevice, visit_id: Any) -> dict[str, Any]:
    return device.mutation("visit.note", visit_id, {
        "category": "communication", "text": "Phoned the patient about tomorrow."},
        entity_id=uuid.uuid4())


def _amended_note(device: TestDevice, visit_id: Any) -> list[dict[str, Any]]:
    note = _note(device, visit_id)
    return [note, device.mutation("record.amend", visit_id, {
        "target_type": "note", "target_id": note["entity_id"], "reason": "Wrong day named",
        "changes": {"text": "Phoned the patient about Tuesday."}}, entity_id=uuid.uuid4())]


def _event(kind: str, **data: Any) -> Callable[[TestDevice, Any, Any], list[dict[str, Any]]]:
    return lambda device, visit_id, _course: [device.mutation(
        f"visit.{kind}", visit_id, {"at": "2026-11-23T08:30:00-05:00", **data})]


# Each kind of documentation a device sends about a visit: the mutations, and the word the
# review item uses for it.
DOCUMENTATION: dict[str, tuple[Callable[[TestDevice, Any, Any], list[dict[str, Any]]], str]] = {
    "note": (lambda device, visit_id, _course: [_note(device, visit_id)], "note"),
    "vitals": (lambda device, visit_id, _course: [device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 72, "unit": "/min",
        "taken_at": "2026-11-23T08:30:00-05:00"}, entity_id=uuid.uuid4())], "vitals"),
    "infusion": (lambda device, visit_id, course: [device.mutation(
        "infusion.record", visit_id, {**as_ordered({"order_a": course["order"]}),
                                      "started_at": "2026-11-23T08:30:00-05:00"},
        entity_id=uuid.uuid4())], "infusion"),
    "missed_report": (_event("missed", reason="hospitalised"), "missed"),
    "signature": (_event("sign"), "sign"),
    "check_in": (_event("check_in", location=HOME), "check_in"),
    # The amendment is all that stays on the visit: QC rules the note it corrects entered
    # in error (below), and a voided record alone does not make a visit documented.
    "amendment": (lambda device, visit_id, _course: _amended_note(device, visit_id),
                  "amendment"),
}


def _document(app: Flask, device: TestDevice, kind: str, visit_id: Any,
              course: dict[str, Any]) -> None:
    build, _label = DOCUMENTATION[kind]
    response = device.push(build(device, visit_id, course))
    assert response.status_code == 200, response.get_json()
    assert {r["status"] for r in response.get_json()["results"]} <= {"applied", "conflict"}
    if kind == "amendment":
        with app.app_context():
            db.session.execute(update(VisitNote).where(VisitNote.visit_id == visit_id)
                               .values(entered_in_error=True))
            db.session.commit()


def _patch(client: FlaskClient, headers: dict[str, str], url: str, **fields: Any) -> None:
    version = client.get(url, headers=headers).get_json()["version"]
    response = client.patch(url, headers=headers, json={**fields, "version": version})
    assert response.status_code == 200, response.get_json()


# Each automatic change, as the coordinator makes it: the request, the item's ``change``.
CHANGES: dict[str, tuple[str, dict[str, Any], str]] = {
    "order_discontinued": ("order", {"status": "discontinued"}, "order_discontinued"),
    "order_rescheduled": ("order", {"window_start": "14:00"}, "schedule_changed"),
    "frequency_changed": ("order", {"frequency_kind": "weekly", "weekdays": [1]},
                          "schedule_changed"),
    "patient_discharged": ("patient", {"status": "discharged"}, "patient_discharged"),
    "order_reshaped": ("order", {"window_minutes": 45}, "order_reshaped"),
}


def _change(client: FlaskClient, headers: dict[str, str], agency: Any,
            course: dict[str, Any], change: str) -> None:
    target, fields, _code = CHANGES[change]
    url = (f"/api/v1/orders/{course['order']}" if target == "order"
           else f"/api/v1/patients/{agency['patient_a']}")
    _patch(client, headers, url, **fields)


def _rerun(app: Flask, now: Any, order_id: uuid.UUID) -> None:
    """The generator again: for the order as an edit would run it, then as the nightly job."""
    with app.app_context():
        extend_horizon(db.session, now, 14, NEW_YORK, [order_id], reshape=True)
        extend_horizon(db.session, now, 14, NEW_YORK)
        db.session.commit()


def _undocumented_followed(app: Flask, course: dict[str, Any], change: str) -> None:
    """The order's undocumented visit after tomorrow changed exactly as before this rule."""
    after = visit_row(app, course[AFTER])
    if change == "order_reshaped":
        assert after["status"] == "scheduled"
        assert after["scheduled_end"] - after["scheduled_start"] == timedelta(minutes=45)
        return
    assert after["status"] == "cancelled" and after["cancel_reason"]
    with app.app_context():
        live = db.session.scalars(select(Visit).where(
            Visit.order_id == course["order"], Visit.status == VisitStatus.SCHEDULED,
            Visit.id != course[TOMORROW])).all()
        starts = sorted(v.scheduled_start.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M")
                        for v in live if v.id != course[TODAY])
    # Rescheduled: today and the day after at the new time; tomorrow keeps its documented
    # visit only (no second dose that day).
    assert starts == (["2026-11-23 14:00", "2026-11-25 14:00"]
                      if change == "order_rescheduled" else [])


@pytest.mark.parametrize("change", list(CHANGES))
@pytest.mark.parametrize("kind", list(DOCUMENTATION))
def test_a_documented_visit_is_kept_and_the_change_opens_one_review_item(
        app, client, as_user, agency, clock, enroll, rows, course, kind, change):
    _document(app, enroll("nurse_a"), kind, course[TOMORROW], course)
    before = visit_row(app, course[TOMORROW])
    _change(client, as_user("coordinator"), agency, course, change)
    _rerun(app, clock(), course["order"])

    after = visit_row(app, course[TOMORROW])
    assert {k: after[k] for k in ("status", "scheduled_start", "scheduled_end",
                                  "service_location_id", "nurse_id", "cancel_reason")} == {
        k: before[k] for k in ("status", "scheduled_start", "scheduled_end",
                               "service_location_id", "nurse_id", "cancel_reason")}
    [item] = rows(ReviewItem, ReviewItem.kind == KEPT)
    assert (item.visit_id, item.patient_id, item.status, item.severity.value) == (
        course[TOMORROW], agency["patient_a"], ReviewStatus.OPEN, "warning")
    assert item.details["change"] == CHANGES[change][2]
    assert DOCUMENTATION[kind][1] in item.details["documentation"]
    assert item.details["order_id"] == str(course["order"])
    _undocumented_followed(app, course, change)


def test_the_issue_a_phoned_note_without_check_in_survives_the_discontinuation(
        app, client, as_user, agency, enroll, course):
    phone = enroll("nurse_a")
    _, cursor = phone.pull_all()
    response = phone.push([_note(phone, course[TOMORROW])])
    assert response.get_json()["results"][0]["status"] == "applied"
    coordinator = as_user("coordinator")
    _patch(client, coordinator, f"/api/v1/orders/{course['order']}", status="discontinued")

    assert visit_row(app, course[TOMORROW])["status"] == "scheduled"
    assert visit_row(app, course[AFTER])["status"] == "cancelled"
    page = phone.pull(cursor).get_json()
    ops = {(c["id"], c["op"]) for c in page["changes"] if c["type"] == "visit"}
    assert (str(course[AFTER]), "remove") in ops
    assert (str(course[TOMORROW]), "remove") not in ops
    held, _ = phone.pull_all()  # a fresh snapshot of her schedule
    assert held[("visit", str(course[TOMORROW]))]["status"] == "scheduled"
    assert ("visit", str(course[AFTER])) not in held
    queue = client.get("/api/v1/review-items", headers=coordinator,
                       query_string={"kind": KEPT, "status": "open"}).get_json()
    assert [(i["visit_id"], i["details"]["change"], i["details"]["documentation"])
            for i in queue] == [(str(course[TOMORROW]), "order_discontinued", ["note"])]
    assert "discontinued" in queue[0]["summary"] and "Phoned" not in queue[0]["summary"]


def test_a_record_entered_in_error_alone_does_not_hold_the_visit(app, client, as_user, agency,
                                                                 enroll, rows, course):
    phone = enroll("nurse_a")
    assert phone.push([_note(phone, course[TOMORROW])]).status_code == 200
    with app.app_context():
        db.session.execute(update(VisitNote).values(entered_in_error=True))
        db.session.commit()
    _patch(client, as_user("coordinator"), f"/api/v1/orders/{course['order']}",
           status="discontinued")
    assert visit_row(app, course[TOMORROW])["status"] == "cancelled"
    assert rows(ReviewItem, ReviewItem.kind == KEPT) == []


def test_discharge_keeps_a_documented_visit_no_order_produced(app, client, as_user, agency,
                                                              enroll, rows, clock):
    from tests.factories import make_visit

    with app.app_context():
        patient = db.session.get(Patient, agency["patient_a"])
        assert patient is not None
        other = make_visit(patient, None, clock() + timedelta(days=2))
        db.session.commit()
        other_id = other.id
    phone = enroll("nurse_a")
    assert phone.push([_note(phone, agency["visit_a"])]).status_code == 200
    _patch(client, as_user("coordinator"), f"/api/v1/patients/{agency['patient_a']}",
           status="discharged")
    assert visit_row(app, agency["visit_a"])["status"] == "scheduled"
    assert visit_row(app, other_id)["status"] == "cancelled"
    [item] = rows(ReviewItem, ReviewItem.kind == KEPT)
    assert (item.visit_id, item.details["change"], item.details["order_id"]) == (
        agency["visit_a"], "patient_discharged", None)


def test_resuming_an_order_leaves_a_cancelled_visit_documented_since_as_it_is(
        app, client, as_user, agency, enroll, rows, course):
    coordinator = as_user("coordinator")
    url = f"/api/v1/orders/{course['order']}"
    phone = enroll("nurse_a")
    _patch(client, coordinator, url, status="on_hold")
    # Offline, she documented tomorrow's visit before the hold reached her device.
    result = phone.push([_note(phone, course[TOMORROW])]).get_json()["results"][0]
    assert result["status"] == "conflict"
    _patch(client, coordinator, url, status="active")

    assert visit_row(app, course[TOMORROW])["status"] == "cancelled"
    assert visit_row(app, course[AFTER])["status"] == "scheduled"
    [item] = rows(ReviewItem, ReviewItem.kind == KEPT)
    assert (item.visit_id, item.details["change"], item.details["held_back"]) == (
        course[TOMORROW], "order_resumed", "reinstate")


def test_documentation_is_read_in_one_statement_per_chunk_of_visits(app, clock, course):
    from sqlalchemy import event

    generate(app, clock())  # order_a's 15 visits join the course's 3
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    with app.app_context():
        engine = db.engine
        event.listen(engine, "before_cursor_execute", seen)
        try:
            extend_horizon(db.session, clock(), 14, NEW_YORK)
            db.session.rollback()
        finally:
            event.remove(engine, "before_cursor_execute", seen)
    assert len([s for s in statements if "visit_notes" in s]) == 1


def test_a_coordinator_may_cancel_a_documented_visit_but_not_silently(
        app, client, as_user, agency, enroll, rows, course):
    phone = enroll("nurse_a")
    assert phone.push([_note(phone, course[TOMORROW])]).status_code == 200
    coordinator = as_user("coordinator")
    for day in (TOMORROW, AFTER):
        url = f"/api/v1/visits/{course[day]}"
        version = client.get(url, headers=coordinator).get_json()["version"]
        response = client.patch(url, headers=coordinator, json={
            "status": "cancelled", "cancel_reason": "Patient in hospital", "version": version})
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == "cancelled"
    [item] = rows(ReviewItem, ReviewItem.kind == "documented_visit_cancelled")
    assert (item.visit_id, item.status, item.details["documentation"]) == (
        course[TOMORROW], ReviewStatus.OPEN, ["note"])
    assert rows(ReviewItem, ReviewItem.kind == KEPT) == []
