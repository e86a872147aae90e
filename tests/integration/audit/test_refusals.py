"""Every refusal (403, 404) of a route is one audit event, with its outcome and ids only."""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent

API = "/api/v1"


def _ids(app):
    with app.app_context():
        return set(db.session.scalars(select(AuditEvent.id)))


def _new_events(app, before):
    with app.app_context():
        rows = [row for row in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq))
                if row.id not in before]
        for row in rows:
            db.session.expunge(row)
        return rows


def test_training_leads_403_on_a_patient_is_one_forbidden_event(app, client, agency, as_user):
    headers = {**as_user("training_lead"), "X-Request-Id": "req-403"}
    before = _ids(app)

    response = client.get(f"{API}/patients/{agency['patient_a']}", headers=headers)

    assert response.status_code == 403
    [event] = _new_events(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.entity_id,
            event.patient_id, event.outcome) == (
        agency["training_lead"], "read", "patients", agency["patient_a"], agency["patient_a"],
        "forbidden")
    assert (event.request_id, event.remote_addr) == ("req-403", "127.0.0.1")
    assert event.details == {"method": "GET", "route": "/api/v1/patients/<uuid:entity_id>",
                             "status": 403, "code": "forbidden"}


def test_nurses_404_on_another_nurses_patient_is_one_not_found_event(app, client, agency,
                                                                     as_user):
    headers = as_user("nurse_a")
    before = _ids(app)

    response = client.get(f"{API}/patients/{agency['patient_b']}", headers=headers)

    assert response.status_code == 404
    [event] = _new_events(app, before)
    assert (event.actor_user_id, event.action, event.entity_type, event.entity_id,
            event.patient_id, event.outcome) == (
        agency["nurse_a"], "read", "patients", agency["patient_b"], agency["patient_b"],
        "not_found")


def test_a_refused_order_names_its_patient(app, client, agency, as_user):
    headers = as_user("nurse_a")
    before = _ids(app)

    response = client.get(f"{API}/orders/{agency['order_b']}", headers=headers)

    assert response.status_code == 404
    [event] = _new_events(app, before)
    assert (event.entity_type, event.entity_id, event.patient_id) == (
        "therapy_orders", agency["order_b"], agency["patient_b"])


def test_an_id_the_server_does_not_know_names_no_patient(app, client, agency, as_user):
    unknown, headers = uuid.uuid4(), as_user("nurse_a")
    before = _ids(app)

    response = client.get(f"{API}/patients/{unknown}", headers=headers)

    assert response.status_code == 404
    [event] = _new_events(app, before)
    assert (event.entity_id, event.patient_id, event.outcome) == (unknown, None, "not_found")


def test_a_refused_action_on_a_record_is_named_after_the_route(app, client, agency, as_user):
    headers = as_user("nurse_a")
    before = _ids(app)

    response = client.post(f"{API}/visits/{agency['visit_b']}/assign", headers=headers,
                           json={"nurse_id": str(agency["nurse_a"]), "version": 1})

    assert response.status_code == 403
    [event] = _new_events(app, before)
    assert (event.action, event.entity_type, event.entity_id, event.patient_id,
            event.outcome) == ("assign", "visits", agency["visit_b"], agency["patient_b"],
                               "forbidden")


def test_a_refused_list_is_audited_without_an_id(app, client, agency, as_user):
    headers = as_user("training_lead")
    before = _ids(app)

    response = client.get(f"{API}/patients", headers=headers)

    assert response.status_code == 403
    [event] = _new_events(app, before)
    assert (event.action, event.entity_type, event.entity_id, event.outcome) == (
        "list", "patients", None, "forbidden")


def test_a_revoked_devices_refusal_names_the_device(app, client, agency, as_user, enroll):
    device = enroll("nurse_a")
    client.post(f"{API}/devices/{device.device_id}/revoke", headers=as_user("coordinator"))
    before = _ids(app)

    response = device.pull()

    assert response.status_code == 403
    [event] = _new_events(app, before)
    assert (str(event.actor_device_id), event.actor_user_id, event.outcome,
            event.details["code"]) == (device.device_id, agency["nurse_a"], "forbidden",
                                       "device_revoked")


def test_unknown_urls_and_missing_credentials_are_not_audited(app, client, agency, as_user):
    headers = as_user("nurse_a")
    before = _ids(app)

    unknown_url = client.get(f"{API}/no-such-thing/{uuid.uuid4()}", headers=headers)
    no_token = client.get(f"{API}/patients/{agency['patient_a']}")

    assert (unknown_url.status_code, no_token.status_code) == (404, 401)
    assert _new_events(app, before) == []
