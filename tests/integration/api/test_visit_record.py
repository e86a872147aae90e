"""A visit's full record (GET /visits/{id}) and its EVV elements (GET /visits/{id}/evv)."""

from __future__ import annotations

import uuid
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import AuditEvent
from tests.integration.api.test_review_queue import HOME, check_in, infusion, push, vitals
from tests.integration.sync.device import TestDevice

OCCURRED = "2026-11-23T09:05:00-05:00"  # what TestDevice reports for every mutation
FAR = {"latitude": 39.79, "longitude": -89.65, "accuracy_m": 8}  # ~1.1 km north of home


def check_out(device: TestDevice, visit_id: Any, location: Any = HOME) -> dict[str, Any]:
    """A check-out an hour after the check-in."""
    return device.mutation("visit.check_out", visit_id, {
        "at": "2026-11-23T10:05:00-05:00", "location": location})


def read(client: FlaskClient, headers: dict[str, str], url: str) -> dict[str, Any]:
    """GET ``url``, which must answer 200."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def audit_count(app: Any) -> int:
    """How many audit events are stored."""
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent)) or 0


def documented_visit(enroll: Any, agency: Any) -> dict[str, Any]:
    """Nurse A's visit: check-in, heart rate, infusion, note, an amendment, check-out, sign."""
    device = enroll("nurse_a")
    visit = agency["visit_a"]
    heart_rate = vitals(device, visit, 72)
    given = infusion(device, visit, agency["order_a"], "PMP-A")
    note = device.mutation("visit.note", visit, {"category": "assessment",
                                                 "text": "PICC site clean, no redness."},
                           entity_id=uuid.uuid4())
    amend = device.mutation("record.amend", visit, {
        "target_type": "vitals", "target_id": heart_rate["entity_id"],
        "reason": "Counted for 15 s, not 30 s.", "changes": {"value": 74}},
        entity_id=uuid.uuid4())
    sign = device.mutation("visit.sign", visit, {"at": "2026-11-23T10:06:00-05:00"})
    mutations = [check_in(device, visit), heart_rate, given, note, amend,
                 check_out(device, visit), sign]
    assert {r["status"] for r in push(device, *mutations)} == {"applied"}
    return {"device": device, "vitals": heart_rate, "infusion": given, "note": note,
            "amend": amend}


def test_detail_shows_every_document_with_its_provenance(app, client, as_user, enroll, agency):
    sent = documented_visit(enroll, agency)
    before = audit_count(app)
    visit = read(client, as_user("coordinator"), f"/api/v1/visits/{agency['visit_a']}")
    assert audit_count(app) == before + 1
    assert visit["status"] == "completed"
    assert visit["signed_at"] == "2026-11-23T15:06:00+00:00"
    assert visit["missed_reason"] is None
    docs = visit["documentation"]
    assert [e["kind"] for e in docs["events"]] == ["check_in", "check_out", "sign"]
    (heart_rate,) = docs["vitals"]
    assert (heart_rate["id"], heart_rate["code"], heart_rate["value"]) == (
        sent["vitals"]["entity_id"], "8867-4", 72.0)
    assert heart_rate["taken_at_reported"] == "2026-11-23T09:10:00-05:00"
    (given,) = docs["infusions"]
    assert given["id"] == sent["infusion"]["entity_id"]
    assert (given["medication"], given["dose"], given["dose_unit"]) == ("ceftriaxone", 2.0, "g")
    assert given["pump_id"] == str(agency["pump_a"])
    assert given["started_at_reported"] == "2026-11-23T09:15:00-05:00"
    assert given["nurse_id"] == str(agency["nurse_a"])
    assert given["device_id"] == sent["device"].device_id
    assert given["mutation_id"] == sent["infusion"]["id"]
    assert given["seq"] == sent["infusion"]["seq"]
    assert given["batch_id"] is not None
    assert given["occurred_at"] == OCCURRED
    assert given["received_at"] == "2026-11-23T13:00:00+00:00"
    assert (given["flags"], given["conflict"], given["entered_in_error"]) == ([], False, False)
    (note,) = docs["notes"]
    assert note["text"] == "PICC site clean, no redness."


def test_amendment_is_shown_beside_the_untouched_original(client, as_user, enroll, agency):
    sent = documented_visit(enroll, agency)
    docs = read(client, as_user("qc"), f"/api/v1/visits/{agency['visit_a']}")["documentation"]
    (amendment,) = docs["amendments"]
    assert amendment["id"] == sent["amend"]["entity_id"]
    assert (amendment["target_type"], amendment["target_id"]) == (
        "vitals", sent["vitals"]["entity_id"])
    assert amendment["changes"] == {"value": 74}
    assert amendment["reason"] == "Counted for 15 s, not 30 s."
    assert [v["value"] for v in docs["vitals"] if v["id"] == amendment["target_id"]] == [72.0]


def test_detail_lists_review_items_and_evv_results(client, as_user, enroll, agency):
    device = enroll("nurse_a")
    push(device, check_in(device, agency["visit_a"], location=FAR))
    visit = read(client, as_user("nurse_a"), f"/api/v1/visits/{agency['visit_a']}")
    (event,) = visit["documentation"]["events"]
    assert event["evv_status"] == "exception"
    assert 1100 < event["evv_distance_m"] < 1125
    assert event["at_reported"] == "2026-11-23T09:05:00-05:00"
    (item,) = visit["review_items"]
    assert (item["kind"], item["severity"], item["status"]) == (
        "evv_exception", "warning", "open")
    assert item["record_id"] == event["id"]


def test_list_stays_light(client, as_user, enroll, agency):
    documented_visit(enroll, agency)
    (visit,) = read(client, as_user("nurse_a"), "/api/v1/visits")
    assert "documentation" not in visit
    assert "review_items" not in visit


def test_detail_follows_visit_scope(client, as_user, agency):
    url = f"/api/v1/visits/{agency['visit_a']}"
    assert client.get(url, headers=as_user("nurse_b")).status_code == 404
    assert client.get(url, headers=as_user("physician_b")).status_code == 404
    assert client.get(url, headers=as_user("training_lead")).status_code == 403
    assert read(client, as_user("physician_a"), url)["documentation"]["vitals"] == []


def test_evv_verified_visit_gives_the_six_elements(client, as_user, enroll, agency):
    device = enroll("nurse_a")
    push(device, check_in(device, agency["visit_a"]), check_out(device, agency["visit_a"]))
    evv = read(client, as_user("coordinator"), f"/api/v1/visits/{agency['visit_a']}/evv")
    assert evv["type_of_service"] == "home infusion nursing visit"
    assert evv["patient"] == {"id": str(agency["patient_a"]), "mrn": "MRN-A"}
    assert evv["date"] == "2026-11-23"
    assert evv["location"] == {
        "service_location_id": str(agency["location_a"]), "kind": "home",
        "address": "1 Elm St, Springfield", "latitude": 39.78, "longitude": -89.65,
        "evv_radius_m": 150}
    assert evv["nurse"] == {"id": str(agency["nurse_a"]), "name": "Ann"}
    assert (evv["start_time"], evv["end_time"]) == (
        "2026-11-23T09:05:00-05:00", "2026-11-23T10:05:00-05:00")
    check = evv["verification"]
    assert check["verified"] is True
    assert check["check_in"] == {"status": "verified", "distance_m": 0.0,
                                 "matched_location_id": str(agency["location_a"]),
                                 "matched_location_kind": "home"}
    assert check["check_out"]["status"] == "verified"


def test_evv_exception_and_missing_check_out(client, as_user, enroll, agency):
    device = enroll("nurse_a")
    push(device, check_in(device, agency["visit_a"], location=FAR))
    evv = read(client, as_user("nurse_a"), f"/api/v1/visits/{agency['visit_a']}/evv")
    check = evv["verification"]
    assert check["verified"] is False
    assert check["check_in"]["status"] == "exception"
    assert 1100 < check["check_in"]["distance_m"] < 1125
    assert check["check_in"]["matched_location_id"] is None
    assert check["check_out"] == {"status": "missing", "distance_m": None,
                                  "matched_location_id": None, "matched_location_kind": None}
    assert (evv["start_time"], evv["end_time"]) == ("2026-11-23T09:05:00-05:00", None)


def test_evv_type_of_service_is_the_ordered_therapy(client, as_user, agency):
    created = client.post("/api/v1/visits", headers=as_user("coordinator"), json={
        "patient_id": str(agency["patient_a"]), "order_id": str(agency["order_a"]),
        "service_location_id": str(agency["location_a"]),
        "scheduled_start": "2026-11-24T15:00:00+00:00",
        "scheduled_end": "2026-11-24T16:00:00+00:00"}).get_json()
    evv = read(client, as_user("qc"), f"/api/v1/visits/{created['id']}/evv")
    assert evv["type_of_service"] == "ceftriaxone"
    assert evv["date"] == "2026-11-24"
    assert evv["nurse"] is None
    assert evv["verification"]["verified"] is False


def test_evv_follows_visit_scope_and_is_audited_once(app, client, as_user, agency):
    url = f"/api/v1/visits/{agency['visit_a']}/evv"
    assert client.get(url, headers=as_user("nurse_b")).status_code == 404
    assert client.get(url, headers=as_user("training_lead")).status_code == 403
    assert client.get(f"/api/v1/visits/{uuid.uuid4()}/evv",
                      headers=as_user("coordinator")).status_code == 404
    nurse = as_user("nurse_a")  # logged in before counting: a login is audited too
    before = audit_count(app)
    read(client, nurse, url)
    assert audit_count(app) == before + 1
