"""A pump's history (GET /pumps/{id}/history): its assignments and what it infused."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests.integration.api.test_review_queue import infusion, push


def history(client: FlaskClient, headers: dict[str, str], pump_id: Any) -> Any:
    """GET the pump's history."""
    return client.get(f"/api/v1/pumps/{pump_id}/history", headers=headers)


def move(client: FlaskClient, as_user: Any, pump_id: Any, patient_id: Any,
         version: int) -> None:
    """The coordinator assigns the pump to ``patient_id`` (None: returned to stock)."""
    response = client.patch(f"/api/v1/pumps/{pump_id}", headers=as_user("coordinator"),
                            json={"patient_id": str(patient_id) if patient_id else None,
                                  "version": version})
    assert response.status_code == 200, response.get_json()


def test_history_shows_assignment_changes_made_through_the_api(client, as_user, agency, clock):
    pump = agency["pump_a"]
    clock.advance(minutes=10)
    move(client, as_user, pump, agency["patient_b"], 1)
    clock.advance(minutes=10)
    move(client, as_user, pump, None, 2)
    clock.advance(minutes=10)
    move(client, as_user, pump, agency["patient_a"], 3)
    response = history(client, as_user("coordinator"), pump)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["pump"]["serial"] == "PMP-A"
    assert body["pump"]["patient_id"] == str(agency["patient_a"])
    assert body["assignments"] == [
        {"patient_id": str(agency["patient_a"]), "assigned_at": "2026-11-23T13:00:00+00:00",
         "unassigned_at": "2026-11-23T13:10:00+00:00"},
        {"patient_id": str(agency["patient_b"]), "assigned_at": "2026-11-23T13:10:00+00:00",
         "unassigned_at": "2026-11-23T13:20:00+00:00"},
        {"patient_id": str(agency["patient_a"]), "assigned_at": "2026-11-23T13:30:00+00:00",
         "unassigned_at": None},
    ]
    assert body["administrations"] == []


def test_history_shows_the_administrations_the_pump_gave(client, as_user, enroll, agency):
    device = enroll("nurse_a")
    sent = infusion(device, agency["visit_a"], agency["order_a"], "PMP-A")
    other_pump = infusion(device, agency["visit_a"], agency["order_a"], "PMP-B", 11)
    push(device, sent, other_pump)
    body = history(client, as_user("qc"), agency["pump_a"]).get_json()
    assert body["administrations"] == [{
        "id": sent["entity_id"], "visit_id": str(agency["visit_a"]),
        "patient_id": str(agency["patient_a"]), "medication": "ceftriaxone", "dose": 2.0,
        "dose_unit": "g", "started_at": "2026-11-23T14:15:00+00:00",
        "stopped_at": "2026-11-23T14:45:00+00:00", "flags": [], "entered_in_error": False}]
    flagged = history(client, as_user("qc"), agency["pump_b"]).get_json()["administrations"]
    assert [a["flags"] for a in flagged] == [["pump_assigned_elsewhere"]]


def test_nurse_sees_her_patients_pump_without_its_earlier_patients(client, as_user, agency,
                                                                   clock):
    pump = agency["pump_b"]
    clock.advance(minutes=10)
    move(client, as_user, pump, agency["patient_a"], 1)
    body = history(client, as_user("nurse_a"), pump).get_json()
    assert [a["patient_id"] for a in body["assignments"]] == [str(agency["patient_a"])]
    everyone = history(client, as_user("admin"), pump).get_json()
    assert [a["patient_id"] for a in everyone["assignments"]] == [
        str(agency["patient_b"]), str(agency["patient_a"])]


def test_history_follows_pump_scope(client, as_user, agency):
    pump = agency["pump_a"]
    assert history(client, as_user("nurse_b"), pump).status_code == 404
    assert history(client, as_user("physician_b"), pump).status_code == 404
    assert history(client, as_user("training_lead"), pump).status_code == 403
    assert history(client, as_user("physician_a"), pump).status_code == 200
    assert history(client, as_user("nurse_a"), pump).status_code == 200


def test_history_read_is_one_audit_event_naming_the_patients(app, client, as_user, agency):
    move(client, as_user, agency["pump_a"], agency["patient_b"], 1)
    history(client, as_user("qc"), agency["pump_a"])
    with app.app_context():
        (event,) = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "read", AuditEvent.entity_type == "pumps")).all()
        assert event.entity_id == agency["pump_a"]
        assert event.patient_id == agency["patient_b"]
        assert event.details["patient_ids"] == sorted(
            [str(agency["patient_a"]), str(agency["patient_b"])])
