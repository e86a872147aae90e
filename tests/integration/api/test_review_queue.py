"""The review queue through /api/v1/review-items, fed by real pushes from a nurse's device."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent, InfusionAdministration, Visit, VisitEvent, VitalSign
from tests.integration.sync.device import TestDevice

URL = "/api/v1/review-items"
HOME = {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}
ALL_RESOLUTIONS = ["accept", "amend", "reassign_documentation", "entered_in_error"]


def vitals(device: TestDevice, visit_id: Any, value: int = 72) -> dict[str, Any]:
    """A heart rate on the visit."""
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def check_in(device: TestDevice, visit_id: Any, location: Any = HOME) -> dict[str, Any]:
    """A check-in at ``location`` (None: no GPS fix)."""
    return device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T09:05:00-05:00", "location": location})


def infusion(device: TestDevice, visit_id: Any, order_id: Any, serial: str,
             hour: int = 9) -> dict[str, Any]:
    """Ceftriaxone 2 g as ordered, through pump ``serial``, starting at ``hour`` local."""
    return device.mutation("infusion.record", visit_id, {
        "order_id": str(order_id), "medication": "ceftriaxone", "dose": 2, "dose_unit": "g",
        "route": "IV", "lot_number": "L-1", "lot_expiry": "2027-06-30",
        "access": {"device_type": "picc", "site": "right upper arm", "flushed_before": True,
                   "flushed_after": True,
                   "site_assessment": {"phlebitis_score": 0, "infiltration_score": 0}},
        "pump": {"serial": serial, "programmed_rate_ml_h": 100},
        "started_at": f"2026-11-23T{hour:02d}:15:00-05:00",
        "stopped_at": f"2026-11-23T{hour:02d}:45:00-05:00"}, entity_id=uuid.uuid4())


def push(device: TestDevice, *mutations: dict[str, Any]) -> list[dict[str, Any]]:
    """Push ``mutations``; their results."""
    response = device.push(list(mutations))
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]  # type: ignore[no-any-return]


def reassign(client: FlaskClient, as_user: Any, visit_id: Any, nurse_id: Any) -> None:
    """The coordinator hands the visit to another nurse."""
    moved = client.patch(f"/api/v1/visits/{visit_id}", headers=as_user("coordinator"),
                         json={"nurse_id": str(nurse_id), "version": 1})
    assert moved.status_code == 200, moved.get_json()


def listed(client: FlaskClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """The queue, filtered by ``query``."""
    response = client.get(URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def resolve(client: FlaskClient, headers: dict[str, str], item_id: Any, **body: Any) -> Any:
    """POST a resolution (a comment unless one is given)."""
    return client.post(f"{URL}/{item_id}/resolve", headers=headers,
                       json={"comment": "Checked with the nurse by phone.", **body})


def conflicting_vitals(client: FlaskClient, as_user: Any, enroll: Any,
                       agency: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Nurse A documents vitals offline on visit A after it went to nurse B: (mutation, item)."""
    device = enroll("nurse_a")
    reassign(client, as_user, agency["visit_a"], agency["nurse_b"])
    mutation = vitals(device, agency["visit_a"])
    assert push(device, mutation)[0]["status"] == "conflict"
    (item,) = listed(client, as_user("coordinator"), kind="documentation_on_reassigned_visit")
    return mutation, item


def audit_events(app: Flask, action: str) -> list[AuditEvent]:
    """Audit events of ``action`` on review items."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == action, AuditEvent.entity_type == "review_items")).all()
        db.session.expunge_all()
        return list(rows)


def test_item_names_the_records_the_evidence_and_what_may_be_done(client, as_user, enroll,
                                                                  agency):
    mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    assert item["status"] == "open"
    assert item["severity"] == "warning"
    assert "reassigned" in item["summary"]
    assert item["visit_id"] == str(agency["visit_a"])
    assert item["patient_id"] == str(agency["patient_a"])
    assert item["record_id"] == mutation["entity_id"]
    assert item["mutation_id"] == mutation["id"]
    assert item["device_id"] is not None
    assert item["details"]["now"]["nurse_id"] == str(agency["nurse_b"])
    assert item["allowed_resolutions"] == ALL_RESOLUTIONS
    one = client.get(f"{URL}/{item['id']}", headers=as_user("qc"))
    assert one.status_code == 200
    assert one.get_json() == item


def test_filters_by_status_kind_severity_patient_and_visit(client, as_user, enroll, agency):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    coordinator = as_user("coordinator")
    assert [i["id"] for i in listed(client, coordinator, status="open")] == [item["id"]]
    assert listed(client, coordinator, status="resolved") == []
    assert listed(client, coordinator, kind="pump_unknown") == []
    assert listed(client, coordinator, severity="critical") == []
    assert len(listed(client, coordinator, visit_id=agency["visit_a"])) == 1
    assert listed(client, coordinator, visit_id=agency["visit_b"]) == []
    assert listed(client, coordinator, patient_id=agency["patient_b"]) == []
    bad = client.get(URL, headers=coordinator, query_string={"severity": "urgent"})
    assert bad.status_code == 422
    assert "severity" in bad.get_json()["error"]["details"]["query"]


def test_pump_findings_are_listed_most_severe_first_and_counted(client, as_user, enroll,
                                                               agency):
    recalled = client.patch(f"/api/v1/pumps/{agency['pump_a']}", headers=as_user("coordinator"),
                            json={"status": "recalled", "version": 1})
    assert recalled.status_code == 200
    device = enroll("nurse_a")
    results = push(device, infusion(device, agency["visit_a"], agency["order_a"], "PMP-ZZZ", 9),
                   infusion(device, agency["visit_a"], agency["order_a"], "PMP-A", 11))
    assert [r["status"] for r in results] == ["applied", "applied"]
    # The recall itself opened a critical item for the pump's patient (issue 11, item 1);
    # the push found the two infusions' pumps. Critical first (the two critical items were
    # opened at the same instant of the test clock, so their order is not asserted).
    queue = listed(client, as_user("qc"), status="open")
    by_kind = {i["kind"]: i for i in queue}
    assert [i["severity"] for i in queue] == ["critical", "critical", "warning"]
    assert {i["kind"] for i in queue[:2]} == {"pump_recalled", "pump_not_in_service"}
    assert by_kind["pump_not_in_service"]["details"]["status"] == "recalled"
    assert queue[2]["kind"] == "pump_unknown" and queue[2]["details"]["serial"] == "PMP-ZZZ"
    counts = client.get(f"{URL}/counts", headers=as_user("coordinator"))
    assert counts.status_code == 200
    assert counts.get_json() == {
        "open": 3, "by_severity": {"critical": 2, "warning": 1, "info": 0},
        "by_kind": {"pump_recalled": 1, "pump_not_in_service": 1, "pump_unknown": 1}}
    critical = listed(client, as_user("admin"), severity="critical")
    assert {i["kind"] for i in critical} == {"pump_recalled", "pump_not_in_service"}


@pytest.mark.parametrize("who", ["nurse_a", "physician_a", "training_lead"])
def test_clinicians_and_training_lead_may_not_see_the_queue(client, as_user, agency, who):
    headers = as_user(who)
    item_id = uuid.uuid4()
    assert client.get(URL, headers=headers).status_code == 403
    assert client.get(f"{URL}/counts", headers=headers).status_code == 403
    assert client.get(f"{URL}/{item_id}", headers=headers).status_code == 403
    assert resolve(client, headers, item_id, resolution="accept").status_code == 403


@pytest.mark.parametrize("who", ["coordinator", "qc", "admin"])
def test_coordinators_qc_and_admins_see_the_queue(client, as_user, agency, who):
    assert listed(client, as_user(who)) == []
    assert client.get(f"{URL}/counts", headers=as_user(who)).get_json()["open"] == 0
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=as_user(who)).status_code == 404


def test_reads_are_audited_once_naming_the_patients(app, client, as_user, enroll, agency):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    before = len(audit_events(app, "list"))
    listed(client, as_user("qc"))
    lists = audit_events(app, "list")
    assert len(lists) == before + 1
    assert lists[-1].details["patient_ids"] == [str(agency["patient_a"])]
    client.get(f"{URL}/{item['id']}", headers=as_user("qc"))
    (read,) = audit_events(app, "read")
    assert read.patient_id == agency["patient_a"]
    assert str(read.entity_id) == item["id"]


def test_accept_resolves_once_and_is_audited(app, client, as_user, enroll, agency):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    response = resolve(client, as_user("qc"), item["id"], resolution="accept")
    assert response.status_code == 200, response.get_json()
    resolved = response.get_json()
    assert resolved["status"] == "resolved"
    assert resolved["resolution"] == "accept"
    assert resolved["resolution_comment"] == "Checked with the nurse by phone."
    assert resolved["resolved_by"] == str(agency["qc"])
    assert resolved["resolved_at"] is not None
    (event,) = audit_events(app, "resolve")
    assert event.patient_id == agency["patient_a"]
    assert str(event.entity_id) == item["id"]
    assert event.details["resolution"] == "accept"
    again = resolve(client, as_user("coordinator"), item["id"], resolution="accept")
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "already_resolved"
    assert len(audit_events(app, "resolve")) == 1
    assert listed(client, as_user("qc"), status="open") == []
    assert client.get(f"{URL}/counts", headers=as_user("qc")).get_json()["open"] == 0


def test_a_resolution_the_item_does_not_allow_is_422_and_leaves_it_open(client, as_user,
                                                                        enroll, agency):
    device = enroll("nurse_a")
    push(device, check_in(device, agency["visit_a"], location=None))
    (item,) = listed(client, as_user("qc"), kind="evv_exception")
    assert item["allowed_resolutions"] == ["accept", "entered_in_error"]
    wrong = resolve(client, as_user("qc"), item["id"], resolution="reassign_documentation",
                    target_visit_id=str(agency["visit_a"]))
    assert wrong.status_code == 422
    assert "resolution" in wrong.get_json()["error"]["details"]
    no_comment = client.post(f"{URL}/{item['id']}/resolve", headers=as_user("qc"),
                             json={"resolution": "accept"})
    assert no_comment.status_code == 422
    assert "comment" in no_comment.get_json()["error"]["details"]
    unknown = resolve(client, as_user("qc"), item["id"], resolution="accept", urgent=True)
    assert unknown.status_code == 422
    assert "urgent" in unknown.get_json()["error"]["details"]
    assert listed(client, as_user("qc"), status="open")[0]["id"] == item["id"]


def test_entered_in_error_marks_the_check_in_and_the_visit_is_missed_again(app, client,
                                                                          as_user, enroll,
                                                                          agency):
    device = enroll("nurse_a")
    push(device, device.mutation("visit.missed", agency["visit_a"], {
        "at": "2026-11-23T09:00:00-05:00", "reason": "patient_not_home"}))
    push(device, check_in(device, agency["visit_a"]))
    visit = client.get(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("qc")).get_json()
    assert visit["status"] == "in_progress"
    (item,) = listed(client, as_user("qc"), kind="check_in_on_closed_visit")
    response = resolve(client, as_user("qc"), item["id"], resolution="entered_in_error")
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        event = db.session.get(VisitEvent, uuid.UUID(item["record_id"]))
        assert event is not None  # never deleted
        assert event.entered_in_error is True
        assert event.kind == "check_in"
    visit = client.get(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("qc")).get_json()
    assert visit["status"] == "missed"
    assert visit["missed_reason"] == "patient_not_home"


def test_entered_in_error_of_the_only_check_in_returns_the_visit_to_scheduled(
        client, as_user, enroll, agency):
    device = enroll("nurse_a")
    push(device, check_in(device, agency["visit_a"], location=None))
    (item,) = listed(client, as_user("qc"), kind="evv_exception")
    assert resolve(client, as_user("qc"), item["id"],
                   resolution="entered_in_error").status_code == 200
    visit = client.get(f"/api/v1/visits/{agency['visit_a']}", headers=as_user("qc")).get_json()
    assert (visit["status"], visit["checked_in_at"]) == ("scheduled", None)


def test_entered_in_error_of_conflicting_vitals_clears_the_visit_conflict(app, client,
                                                                         as_user, enroll,
                                                                         agency):
    mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    visit_url = f"/api/v1/visits/{agency['visit_a']}"
    assert "documentation_conflict" in client.get(
        visit_url, headers=as_user("qc")).get_json()["flags"]
    assert resolve(client, as_user("qc"), item["id"],
                   resolution="entered_in_error").status_code == 200
    detail = client.get(visit_url, headers=as_user("qc")).get_json()
    assert detail["flags"] == []
    (sign,) = detail["documentation"]["vitals"]
    assert (sign["id"], sign["entered_in_error"]) == (mutation["entity_id"], True)


def test_reassign_moves_the_check_in_and_recomputes_both_visits(app, client, as_user, enroll,
                                                                agency):
    device = enroll("nurse_a")
    reassign(client, as_user, agency["visit_a"], agency["nurse_b"])
    assert push(device, check_in(device, agency["visit_a"]))[0]["status"] == "conflict"
    created = client.post("/api/v1/visits", headers=as_user("coordinator"), json={
        "patient_id": str(agency["patient_a"]), "nurse_id": str(agency["nurse_a"]),
        "service_location_id": str(agency["location_a"]),
        "scheduled_start": "2026-11-23T14:00:00+00:00",
        "scheduled_end": "2026-11-23T15:00:00+00:00"}).get_json()
    (item,) = listed(client, as_user("coordinator"), kind="documentation_on_reassigned_visit")
    other_patient = resolve(client, as_user("coordinator"), item["id"],
                            resolution="reassign_documentation",
                            target_visit_id=str(agency["visit_b"]))
    assert other_patient.status_code == 422
    assert "target_visit_id" in other_patient.get_json()["error"]["details"]
    moved = resolve(client, as_user("coordinator"), item["id"],
                    resolution="reassign_documentation", target_visit_id=created["id"])
    assert moved.status_code == 200, moved.get_json()
    assert moved.get_json()["details"]["resolved_with"]["target_visit_id"] == created["id"]
    with app.app_context():
        event = db.session.get(VisitEvent, uuid.UUID(item["record_id"]))
        assert (str(event.visit_id), event.conflict) == (created["id"], False)
        target = db.session.get(Visit, uuid.UUID(created["id"]))
        assert target.status.value == "in_progress"
        assert target.checked_in_at is not None
        source = db.session.get(Visit, agency["visit_a"])
        assert source.status.value == "scheduled"
        assert "documentation_conflict" not in source.flags
    (event,) = audit_events(app, "resolve")
    assert event.details["target_visit_id"] == created["id"]


def test_reassign_needs_a_target_visit(client, as_user, enroll, agency):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    response = resolve(client, as_user("coordinator"), item["id"],
                       resolution="reassign_documentation")
    assert response.status_code == 422
    assert "target_visit_id" in response.get_json()["error"]["details"]
    missing = resolve(client, as_user("coordinator"), item["id"],
                      resolution="reassign_documentation", target_visit_id=str(uuid.uuid4()))
    assert missing.status_code == 422


def test_amend_records_the_correction_and_leaves_the_original(app, client, as_user, enroll,
                                                              agency):
    device = enroll("nurse_a")
    push(device, infusion(device, agency["visit_a"], agency["order_a"], "PMP-A0"))
    (item,) = listed(client, as_user("qc"), kind="pump_unknown")
    bad = resolve(client, as_user("qc"), item["id"], resolution="amend",
                  changes={"nurse_id": str(agency["nurse_b"])})
    assert bad.status_code == 422
    assert "changes" in bad.get_json()["error"]["details"]
    response = resolve(client, as_user("qc"), item["id"], resolution="amend",
                       comment="Serial mistyped: the label reads PMP-A.",
                       changes={"pump_serial": "PMP-A"})
    assert response.status_code == 200, response.get_json()
    done = response.get_json()
    assert done["resolution"] == "amend"
    assert done["details"]["resolved_with"]["changes"] == {"pump_serial": "PMP-A"}
    assert done["resolution_comment"] == "Serial mistyped: the label reads PMP-A."
    with app.app_context():
        given = db.session.get(InfusionAdministration, uuid.UUID(item["record_id"]))
        assert given.pump_serial == "PMP-A0"
    record = client.get(f"/api/v1/visits/{agency['visit_a']}",
                        headers=as_user("coordinator")).get_json()
    (amendment,) = record["documentation"]["amendments"]
    assert amendment["id"] == done["details"]["resolved_with"]["amendment_id"]
    assert (amendment["target_id"], amendment["changes"]) == (item["record_id"],
                                                              {"pump_serial": "PMP-A"})
    assert amendment["reason"] == "Serial mistyped: the label reads PMP-A."
    assert amendment["nurse_id"] == str(agency["qc"])
    assert amendment["device_id"] is None


def test_unknown_item_is_404(client, as_user, agency):
    response = resolve(client, as_user("qc"), uuid.uuid4(), resolution="accept")
    assert response.status_code == 404


def test_vitals_stay_untouched_by_accept(app, client, as_user, enroll, agency):
    mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    resolve(client, as_user("qc"), item["id"], resolution="accept")
    with app.app_context():
        sign = db.session.get(VitalSign, uuid.UUID(mutation["entity_id"]))
        assert (sign.visit_id, sign.entered_in_error) == (agency["visit_a"], False)


def test_filters_by_nurse_and_by_when_the_item_was_raised(client, as_user, enroll, agency,
                                                          clock):
    _mutation, item = conflicting_vitals(client, as_user, enroll, agency)
    qc = as_user("qc")
    # Sent by nurse A's device; the visit is nurse B's now: it is about both of them.
    assert [i["id"] for i in listed(client, qc, nurse_id=agency["nurse_a"])] == [item["id"]]
    assert [i["id"] for i in listed(client, qc, nurse_id=agency["nurse_b"])] == [item["id"]]
    assert listed(client, qc, nurse_id=agency["qc"]) == []
    raised = clock()
    assert len(listed(client, qc, created_from=raised.isoformat())) == 1
    assert listed(client, qc, created_from=(raised + timedelta(seconds=1)).isoformat()) == []
    assert listed(client, qc, created_before=raised.isoformat()) == []
