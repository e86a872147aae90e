"""The privacy officer reads the audit trail: a patient's accounting, filters, CSV."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from server.services.audit_trail import CSV_COLUMNS
from tests.factories import PASSWORD, totp_code

API = "/api/v1"
URL = f"{API}/audit-events"


@pytest.fixture
def officer(client, agency, as_user):
    """A privacy officer created by the admin through the users API, logged in: her role
    requires a second factor, which she sets up at this first login."""
    created = client.post(f"{API}/users", headers=as_user("admin"), json={
        "email": "privacy@agency.test", "name": "Pat Privacy", "role": "privacy_officer",
        "password": PASSWORD})
    assert created.status_code == 201, created.get_json()
    held = client.post(f"{API}/auth/login", json={"email": "privacy@agency.test",
                                                  "password": PASSWORD}).get_json()
    assert held["status"] == "mfa_enrollment_required", held
    secret = client.post(f"{API}/auth/mfa/enroll",
                         json={"mfa_token": held["mfa_token"]}).get_json()["secret"]
    confirmed = client.post(f"{API}/auth/mfa/confirm", json={
        "mfa_token": held["mfa_token"], "code": totp_code(client.application, secret)})
    assert confirmed.status_code == 200, confirmed.get_json()
    return {"Authorization": f"Bearer {confirmed.get_json()['token']}",
            "id": created.get_json()["id"]}


@pytest.fixture
def accesses(client, agency, as_user, clock):
    """Several people touch patient A (one is refused); the coordinator also reads B."""
    coordinator, nurse, lead = as_user("coordinator"), as_user("nurse_a"), as_user("training_lead")
    for url, headers in ((f"{API}/patients/{agency['patient_a']}", coordinator),
                         (f"{API}/patients/{agency['patient_a']}", nurse),
                         (f"{API}/visits/{agency['visit_a']}", nurse),
                         (f"{API}/patients/{agency['patient_b']}", coordinator),
                         (f"{API}/patients/{agency['patient_a']}", lead)):
        clock.advance(minutes=1)
        assert client.get(url, headers=headers).status_code in (200, 403)
    clock.advance(minutes=1)


def _get(client, headers, **query):
    response = client.get(URL, headers={"Authorization": headers["Authorization"]},
                          query_string=query)
    assert response.status_code == 200, response.get_json()
    return response


def test_officer_reads_a_patients_accounting(client, agency, officer, accesses):
    response = _get(client, officer, patient_id=agency["patient_a"])
    events = response.get_json()

    assert {event["patient_id"] for event in events} == {str(agency["patient_a"])}
    seen = [(e["actor_user_id"], e["actor_role"], e["action"], e["entity_type"], e["entity_id"],
             e["outcome"]) for e in events]
    assert seen == [
        (str(agency["coordinator"]), "coordinator", "read", "patients", str(agency["patient_a"]),
         "ok"),
        (str(agency["nurse_a"]), "nurse", "read", "patients", str(agency["patient_a"]), "ok"),
        (str(agency["nurse_a"]), "nurse", "read", "visits", str(agency["visit_a"]), "ok"),
        (str(agency["training_lead"]), "training_lead", "read", "patients",
         str(agency["patient_a"]), "forbidden")]
    assert events[0]["actor_name"] and events[0]["at"] < events[-1]["at"]
    assert json.loads(response.headers["X-Pagination"])["total"] == 4


def test_reading_the_trail_is_audited_with_its_filters(app, client, agency, officer, accesses):
    _get(client, officer, patient_id=agency["patient_a"], outcome="ok")

    with app.app_context():
        event = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "audit_read")).one()
    assert (str(event.actor_user_id), event.entity_type, event.patient_id) == (
        officer["id"], "audit_events", agency["patient_a"])
    assert event.details == {"format": "json", "count": 3, "filters": {
        "outcome": "ok", "patient_id": str(agency["patient_a"])}}


def test_csv_has_a_header_and_the_same_rows(client, agency, officer, accesses):
    query = {"patient_id": agency["patient_a"], "action": "read"}
    listed = _get(client, officer, **query).get_json()

    response = client.get(f"{URL}.csv", headers={"Authorization": officer["Authorization"]},
                          query_string=query)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert tuple(rows[0]) == CSV_COLUMNS
    by_name = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    assert [(r["seq"], r["actor_user_id"], r["action"], r["entity_id"], r["outcome"])
            for r in by_name] == [
        (str(e["seq"]), e["actor_user_id"], e["action"], e["entity_id"], e["outcome"])
        for e in listed]
    assert by_name[0]["actor_name"] and by_name[0]["at"].startswith("2026-11-23T13:01")


def test_a_nurse_is_refused_and_the_refusal_is_in_the_trail(app, client, agency, as_user):
    headers = as_user("nurse_a")

    response = client.get(URL, headers=headers, query_string={"patient_id": agency["patient_a"]})
    csv_response = client.get(f"{URL}.csv", headers=headers)

    assert (response.status_code, csv_response.status_code) == (403, 403)
    with app.app_context():
        refused = db.session.execute(select(
            AuditEvent.actor_user_id, AuditEvent.action, AuditEvent.entity_type,
            AuditEvent.outcome).where(AuditEvent.outcome == "forbidden")).all()
    assert [tuple(row) for row in refused] == [
        (agency["nurse_a"], "list", "audit_events", "forbidden"),
        (agency["nurse_a"], "list", "audit_events", "forbidden")]


def test_filters_by_user_outcome_action_and_time(client, agency, officer, accesses, clock):
    def seen(**query):
        return [(e["actor_user_id"], e["action"], e["entity_id"], e["outcome"])
                for e in _get(client, officer, **query).get_json()]

    nurse = seen(user_id=agency["nurse_a"], action="read")
    refused = seen(outcome="forbidden")
    start = clock() - timedelta(minutes=6)  # the first access was at 13:01
    window = seen(since=(start + timedelta(minutes=2)).isoformat(),
                  until=(start + timedelta(minutes=4)).isoformat())

    assert nurse == [(str(agency["nurse_a"]), "read", str(agency["patient_a"]), "ok"),
                     (str(agency["nurse_a"]), "read", str(agency["visit_a"]), "ok")]
    assert refused == [(str(agency["training_lead"]), "read", str(agency["patient_a"]),
                        "forbidden")]
    assert window == [(str(agency["nurse_a"]), "read", str(agency["patient_a"]), "ok"),
                      (str(agency["nurse_a"]), "read", str(agency["visit_a"]), "ok")]


def test_bad_filters_are_422(client, officer, clock):
    headers = {"Authorization": officer["Authorization"]}
    empty_window = client.get(URL, headers=headers, query_string={
        "since": clock().isoformat(), "until": clock().isoformat()})
    unknown = client.get(URL, headers=headers, query_string={"patient": "x"})
    naive = client.get(f"{URL}.csv", headers=headers, query_string={"since": "2026-11-23T10:00"})

    assert [r.status_code for r in (empty_window, unknown, naive)] == [422, 422, 422]
    assert empty_window.get_json()["error"]["details"]["query"]["until"] == [
        "Must be after since."]
    assert unknown.get_json()["error"]["details"]["query"]["patient"] == [
        "Unknown query parameter."]


def test_admin_reads_the_trail_too(client, agency, as_user, accesses):
    response = client.get(URL, headers=as_user("admin"),
                          query_string={"patient_id": agency["patient_b"]})

    assert response.status_code == 200
    assert [e["entity_id"] for e in response.get_json()] == [str(agency["patient_b"])]
