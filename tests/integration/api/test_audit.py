"""Every read or write of patient data leaves exactly one audit event, naming ids only."""

import uuid

import pytest
from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent

API = "/api/v1"
ENTITY_TYPES = {"patients": "patients", "orders": "therapy_orders", "pumps": "pumps",
                "visits": "visits"}
RECORDS_A = {"patients": "patient_a", "orders": "order_a", "pumps": "pump_a",
             "visits": "visit_a"}
RECORDS_B = {"patients": "patient_b", "orders": "order_b", "pumps": "pump_b",
             "visits": "visit_b"}


def _new_event(app, before_ids):
    """The one audit row written since ``before_ids`` were taken."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent)).all()
        new = [row for row in rows if row.id not in before_ids]
        assert len(new) == 1, [(r.action, r.entity_type, r.outcome) for r in new]
        db.session.expunge(new[0])
        return new[0]


def _ids(app):
    with app.app_context():
        return set(db.session.scalars(select(AuditEvent.id)))


def _create_body(family, agency):
    return {
        "patients": {"mrn": "MRN-NEW", "first_name": "New", "last_name": "Patient",
                     "birth_date": "1970-01-01",
                     "locations": [{"kind": "home", "address": "2 Oak St", "latitude": 39.7,
                                    "longitude": -89.6}]},
        "orders": {"patient_id": str(agency["patient_a"]),
                   "physician_id": str(agency["physician_a"]), "medication": "vancomycin",
                   "dose": "1", "dose_unit": "g", "frequency_kind": "daily",
                   "start_date": "2026-11-24"},
        "pumps": {"serial": "PMP-NEW", "manufacturer": "Moog", "model": "CADD-Solis",
                  "patient_id": str(agency["patient_a"])},
        "visits": {"patient_id": str(agency["patient_a"]),
                   "service_location_id": str(agency["location_a"]),
                   "nurse_id": str(agency["nurse_a"]),
                   "scheduled_start": "2026-11-25T15:00:00+00:00",
                   "scheduled_end": "2026-11-25T16:00:00+00:00"},
    }[family]


PATCH_BODIES = {
    "patients": {"phone": "555-0100", "version": 1},
    "orders": {"dose": "3", "version": 1},
    "pumps": {"status": "maintenance_due", "version": 1},
    "visits": {"nurse_id": None, "version": 1},
}
FAMILIES = list(ENTITY_TYPES)


@pytest.mark.parametrize("family", FAMILIES)
def test_list_writes_one_event_naming_the_patients_returned(app, client, agency, as_user,
                                                            family):
    headers = as_user("nurse_a")
    before = _ids(app)

    response = client.get(f"{API}/{family}", headers=headers)

    assert response.status_code == 200
    event = _new_event(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.outcome) == (
        agency["nurse_a"], "list", ENTITY_TYPES[family], "ok")
    assert event.details["patient_ids"] == [str(agency["patient_a"])]


def test_agency_wide_list_names_every_patient(app, client, agency, as_user):
    headers = as_user("coordinator")
    before = _ids(app)

    client.get(f"{API}/visits", headers=headers)

    event = _new_event(app, before)
    assert sorted(event.details["patient_ids"]) == sorted(
        [str(agency["patient_a"]), str(agency["patient_b"])])


@pytest.mark.parametrize("family", FAMILIES)
def test_read_writes_one_event(app, client, agency, as_user, family):
    headers = as_user("nurse_a")
    record = agency[RECORDS_A[family]]
    before = _ids(app)

    response = client.get(f"{API}/{family}/{record}", headers=headers)

    assert response.status_code == 200
    event = _new_event(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.entity_id,
            event.patient_id, event.outcome) == (
        agency["nurse_a"], "read", ENTITY_TYPES[family], record, agency["patient_a"], "ok")


@pytest.mark.parametrize("family", FAMILIES)
def test_create_writes_one_event(app, client, agency, as_user, family):
    headers = as_user("coordinator")
    before = _ids(app)

    response = client.post(f"{API}/{family}", headers=headers,
                           json=_create_body(family, agency))

    assert response.status_code == 201, response.get_json()
    created = uuid.UUID(response.get_json()["id"])
    patient = created if family == "patients" else agency["patient_a"]
    event = _new_event(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.entity_id,
            event.patient_id, event.outcome) == (
        agency["coordinator"], "create", ENTITY_TYPES[family], created, patient, "ok")


@pytest.mark.parametrize("family", FAMILIES)
def test_update_writes_one_event(app, client, agency, as_user, family):
    headers = as_user("coordinator")
    record = agency[RECORDS_A[family]]
    before = _ids(app)

    response = client.patch(f"{API}/{family}/{record}", headers=headers,
                            json=PATCH_BODIES[family])

    assert response.status_code == 200, response.get_json()
    event = _new_event(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.entity_id,
            event.patient_id, event.outcome) == (
        agency["coordinator"], "update", ENTITY_TYPES[family], record, agency["patient_a"],
        "ok")
    changed = [name for name in PATCH_BODIES[family] if name != "version"]
    assert event.details["fields"] == changed


@pytest.mark.parametrize("family", FAMILIES)
def test_refused_out_of_scope_read_writes_one_not_found_event(app, client, agency, as_user,
                                                              family):
    headers = as_user("nurse_a")
    record = agency[RECORDS_B[family]]
    before = _ids(app)

    response = client.get(f"{API}/{family}/{record}", headers=headers)

    assert response.status_code == 404
    event = _new_event(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.entity_id,
            event.outcome) == (
        agency["nurse_a"], "read", ENTITY_TYPES[family], record, "not_found")


def test_role_refusal_writes_one_forbidden_event(app, client, agency, as_user):
    headers = as_user("training_lead")
    before = _ids(app)

    response = client.get(f"{API}/patients/{agency['patient_a']}", headers=headers)

    assert response.status_code == 403
    event = _new_event(app, before)
    assert (event.actor_user_id, event.entity_id, event.outcome) == (
        agency["training_lead"], agency["patient_a"], "forbidden")


def test_audit_trail_holds_no_names_or_mrns(app, client, agency, as_user):
    coordinator, nurse = as_user("coordinator"), as_user("nurse_a")
    created = client.post(f"{API}/patients", headers=coordinator, json={
        "mrn": "MRN-ZQ-991", "first_name": "Zebediah", "last_name": "Quuxworth",
        "birth_date": "1944-02-29", "phone": "555-0147",
        "locations": [{"kind": "home", "address": "77 Juniper Lane", "latitude": 39.7,
                       "longitude": -89.6}],
    }).get_json()
    url = f"{API}/patients/{created['id']}"
    client.patch(url, headers=coordinator, json={"last_name": "Quuxworth-Smythe",
                                                 "phone": "555-0148", "version": 1})
    client.get(url, headers=coordinator)
    client.get(f"{API}/patients", headers=coordinator, query_string={"q": "Quux"})
    client.get(url, headers=nurse)

    with app.app_context():
        rows = db.session.scalars(select(AuditEvent)).all()
        trail = " ".join(
            f"{row.action} {row.entity_type} {row.outcome} {row.details}" for row in rows
        )
    assert len(rows) >= 7
    for secret in ("MRN-ZQ-991", "Zebediah", "Quuxworth", "Quux", "1944-02-29", "555-014",
                   "Juniper", "MRN-A", "MRN-B"):
        assert secret not in trail


@pytest.mark.parametrize("family", FAMILIES)
def test_stale_edit_that_returns_the_record_is_audited(app, client, agency, as_user, family):
    headers = as_user("coordinator")
    record = agency[RECORDS_A[family]]
    before = _ids(app)

    response = client.patch(f"{API}/{family}/{record}", headers=headers,
                            json={**PATCH_BODIES[family], "version": 7})

    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["current"]["id"] == str(record)
    event = _new_event(app, before)
    assert (event.actor_user_id, event.entity_id, event.patient_id) == (
        agency["coordinator"], record, agency["patient_a"])
