"""Visits through /api/v1/visits: schedule, read, list, reassign, reschedule, cancel."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Visit, VisitStatus
from tests.assertions import count_rows, error_of

URL = "/api/v1/visits"




def stored(app: Flask, *where: Any) -> int:
    """How many visit rows match ``where``."""
    return count_rows(app, Visit, *where)


def row(app: Flask, visit_id: Any) -> Visit:
    """The stored visit."""
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit is not None
        return visit


def new_visit(agency: Any, **fields: Any) -> dict[str, Any]:
    """A valid create body: patient A at home with nurse A, Tuesday morning."""
    body: dict[str, Any] = {
        "patient_id": str(agency["patient_a"]), "order_id": str(agency["order_a"]),
        "nurse_id": str(agency["nurse_a"]), "service_location_id": str(agency["location_a"]),
        "scheduled_start": "2026-11-24T14:00:00+00:00",
        "scheduled_end": "2026-11-24T15:30:00+00:00",
    }
    return {**body, **fields}


def create(client: FlaskClient, headers: dict[str, str], agency: Any,
           **fields: Any) -> dict[str, Any]:
    """POST a visit and return the created record."""
    response = client.post(URL, headers=headers, json=new_visit(agency, **fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def patch(client: FlaskClient, headers: dict[str, str], visit_id: Any, **body: Any) -> Any:
    """PATCH a visit with ``body``."""
    return client.patch(f"{URL}/{visit_id}", headers=headers, json=body)


def test_create_echoes_the_visit_with_server_owned_fields(client, as_user, agency):
    body = new_visit(agency)
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert {k: created[k] for k in body} == body
    assert uuid.UUID(created["id"])
    assert (created["version"], created["status"], created["cancel_reason"]) == (
        1, "scheduled", None)


def test_times_with_an_offset_are_stored_in_utc(client, as_user, agency):
    created = create(client, as_user("coordinator"), agency,
                     scheduled_start="2026-11-24T09:00:00-05:00",
                     scheduled_end="2026-11-24T10:00:00-05:00")
    assert created["scheduled_start"] == "2026-11-24T14:00:00+00:00"
    assert created["scheduled_end"] == "2026-11-24T15:00:00+00:00"


def test_created_visit_reads_back_the_same(client, as_user, agency, app):
    headers = as_user("coordinator")
    created = create(client, headers, agency)
    response = client.get(f"{URL}/{created['id']}", headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert {key: body[key] for key in created} == created
    assert body["documentation"]["vitals"] == []
    assert stored(app) == 3


def test_list_filters_by_nurse_patient_status_and_window(app, client, as_user, agency):
    headers = as_user("coordinator")
    tuesday = create(client, headers, agency)
    with app.app_context():  # as the missed-visits job leaves a visit its device hasn't synced
        db.session.get(Visit, uuid.UUID(tuesday["id"])).status = VisitStatus.LATE_UNKNOWN
        db.session.commit()
    cancel = patch(client, headers, agency["visit_b"], version=1, status="cancelled",
                   cancel_reason="Patient in hospital")
    assert cancel.status_code == 200, cancel.get_json()

    def ids(**query: Any) -> set[str]:
        response = client.get(URL, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        return {v["id"] for v in response.get_json()}

    a, b = str(agency["visit_a"]), str(agency["visit_b"])
    assert ids(nurse_id=agency["nurse_a"]) == {a, tuesday["id"]}
    assert ids(patient_id=agency["patient_b"]) == {b}
    assert ids(status="cancelled") == {b}
    assert ids(status="scheduled") == {a}
    assert ids(status="late_unknown") == {tuesday["id"]}
    monday = {"from": "2026-11-23T00:00:00+00:00", "to": "2026-11-24T00:00:00+00:00"}
    assert ids(**monday) == {a, b}
    assert ids(**{"from": "2026-11-24T00:00:00+00:00"}) == {tuesday["id"]}
    # The window is about overlap: a visit 15:00-16:00 is inside 15:30-15:45.
    assert ids(**{"from": "2026-11-23T15:30:00+00:00", "to": "2026-11-23T15:45:00+00:00"}) == {a}


def test_list_pages_in_schedule_order(client, as_user, agency):
    headers = as_user("coordinator")
    tuesday = create(client, headers, agency)
    response = client.get(URL, headers=headers, query_string={"page": 2, "page_size": 2})
    meta = json.loads(response.headers["X-Pagination"])
    assert (meta["total"], meta["total_pages"], meta["page"]) == (3, 2, 2)
    assert [v["id"] for v in response.get_json()] == [tuesday["id"]]


def test_location_of_another_patient_is_refused(client, as_user, agency, app):
    body = new_visit(agency, service_location_id=str(agency["location_b"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "service_location_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_order_of_another_patient_is_refused(client, as_user, agency, app):
    body = new_visit(agency, order_id=str(agency["order_b"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "order_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_nurse_id_of_a_non_nurse_is_refused(client, as_user, agency, app):
    body = new_visit(agency, nurse_id=str(agency["physician_a"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "nurse_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_end_before_start_is_refused(client, as_user, agency, app):
    body = new_visit(agency, scheduled_end="2026-11-24T14:00:00+00:00")
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "scheduled_end" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_reassign_to_another_nurse_bumps_the_version(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     nurse_id=str(agency["nurse_b"]))
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["nurse_id"], response.get_json()["version"]) == (
        str(agency["nurse_b"]), 2)
    stored_visit = row(app, agency["visit_a"])
    assert (stored_visit.nurse_id, stored_visit.version) == (agency["nurse_b"], 2)


def test_reassign_to_a_non_nurse_is_refused(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     nurse_id=str(agency["coordinator"]))
    assert "nurse_id" in error_of(response, 422, "validation_failed")["details"]
    assert row(app, agency["visit_a"]).nurse_id == agency["nurse_a"]


def test_reschedule_moves_the_window(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     scheduled_start="2026-11-25T08:00:00-05:00",
                     scheduled_end="2026-11-25T09:00:00-05:00")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["scheduled_start"] == "2026-11-25T13:00:00+00:00"
    assert row(app, agency["visit_a"]).scheduled_end.isoformat() == "2026-11-25T14:00:00+00:00"


def test_reschedule_end_before_the_stored_start_is_refused(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     scheduled_end="2026-11-23T14:00:00+00:00")
    assert "scheduled_end" in error_of(response, 422, "validation_failed")["details"]
    assert row(app, agency["visit_a"]).version == 1


def test_cancel_with_a_reason(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     status="cancelled", cancel_reason="Admitted to hospital")
    assert response.status_code == 200, response.get_json()
    visit = row(app, agency["visit_a"])
    assert (visit.status, visit.cancel_reason, visit.version) == (
        VisitStatus.CANCELLED, "Admitted to hospital", 2)


def test_cancel_without_a_reason_is_refused(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     status="cancelled")
    assert "cancel_reason" in error_of(response, 422, "validation_failed")["details"]
    assert row(app, agency["visit_a"]).status is VisitStatus.SCHEDULED


def test_a_reason_without_cancelling_is_refused(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     cancel_reason="Just because")
    assert "cancel_reason" in error_of(response, 422, "validation_failed")["details"]
    assert row(app, agency["visit_a"]).cancel_reason is None


def test_only_cancelled_may_be_set_as_status(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"], version=1,
                     status="completed")
    assert "status" in error_of(response, 422, "validation_failed")["details"]
    assert row(app, agency["visit_a"]).status is VisitStatus.SCHEDULED


def test_stale_version_is_refused_with_the_current_record(client, as_user, agency, app):
    headers = as_user("coordinator")
    first = patch(client, headers, agency["visit_a"], version=1, nurse_id=str(agency["nurse_b"]))
    assert first.status_code == 200
    response = patch(client, headers, agency["visit_a"], version=1, nurse_id=None)
    error = error_of(response, 409, "stale_version")
    assert error["details"]["current"]["version"] == 2
    assert error["details"]["current"]["nurse_id"] == str(agency["nurse_b"])
    assert row(app, agency["visit_a"]).nurse_id == agency["nurse_b"]


def test_edit_without_a_version_is_refused(client, as_user, agency, app):
    response = patch(client, as_user("coordinator"), agency["visit_a"],
                     nurse_id=str(agency["nurse_b"]))
    error = error_of(response, 428, "version_required")
    assert "If-Match" in error["message"]
    assert row(app, agency["visit_a"]).nurse_id == agency["nurse_a"]


def test_if_match_header_carries_the_version(client, as_user, agency, app):
    headers = {**as_user("coordinator"), "If-Match": '"1"'}
    response = client.patch(f"{URL}/{agency['visit_a']}", headers=headers,
                            json={"nurse_id": None})
    assert response.status_code == 200, response.get_json()
    assert row(app, agency["visit_a"]).nurse_id is None
    stale = client.patch(f"{URL}/{agency['visit_a']}", headers=headers,
                         json={"nurse_id": str(agency["nurse_a"])})
    assert error_of(stale, 409, "stale_version")["details"]["current"]["version"] == 2


def test_if_match_that_is_not_a_number_is_refused(client, as_user, agency, app):
    for value in ('"abc"', "*", '""', '"\u00b3"', "-1"):
        headers = {**as_user("coordinator"), "If-Match": value}
        response = client.patch(f"{URL}/{agency['visit_a']}", headers=headers, json={})
        assert "If-Match" in error_of(response, 422, "validation_failed")["details"], value
    assert row(app, agency["visit_a"]).version == 1


def test_weak_if_match_carries_the_version_too(client, as_user, agency, app):
    headers = {**as_user("coordinator"), "If-Match": 'W/"1"'}
    response = client.patch(f"{URL}/{agency['visit_a']}", headers=headers,
                            json={"nurse_id": str(agency["nurse_b"])})
    assert response.status_code == 200, response.get_json()
    assert row(app, agency["visit_a"]).nurse_id == agency["nurse_b"]


def test_if_match_and_version_that_disagree_are_refused(client, as_user, agency, app):
    headers = {**as_user("coordinator"), "If-Match": '"1"'}
    response = client.patch(f"{URL}/{agency['visit_a']}", headers=headers,
                            json={"version": 2, "nurse_id": None})
    assert "version" in error_of(response, 422, "validation_failed")["details"]
    assert row(app, agency["visit_a"]).nurse_id == agency["nurse_a"]


def test_a_cancelled_visit_cannot_be_changed(client, as_user, agency, app):
    headers = as_user("coordinator")
    cancelled = patch(client, headers, agency["visit_a"], version=1, status="cancelled",
                      cancel_reason="Discharged")
    assert cancelled.status_code == 200
    response = patch(client, headers, agency["visit_a"], version=2,
                     nurse_id=str(agency["nurse_b"]))
    error = error_of(response, 409, "visit_not_editable")
    assert error["details"]["current"]["status"] == "cancelled"
    visit = row(app, agency["visit_a"])
    assert (visit.nurse_id, visit.version) == (agency["nurse_a"], 2)
