"""Orders through the API carry their visit schedule, and visits follow them at once."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import LocationKind, ServiceLocation, Visit, VisitStatus
from tests.assertions import count_rows, error_of
from tests.integration.scheduling.helpers import NEW_YORK

URL = "/api/v1/orders"


def body(agency: Any, **fields: Any) -> dict[str, Any]:
    """A weekly order for patient A; ``fields`` override."""
    return {"patient_id": str(agency["patient_a"]), "physician_id": str(agency["physician_a"]),
            "medication": "ertapenem", "dose": 1, "dose_unit": "g",
            "frequency_kind": "weekly", "weekdays": [2, 4], "start_date": "2026-11-23",
            "end_date": "2026-12-03", "window_start": "10:15", "window_minutes": 60,
            "required_competency": "picc-care", **fields}


def test_created_order_shows_its_window_and_produces_its_visits(client, as_user, agency, app):
    response = client.post(URL, headers=as_user("coordinator"), json=body(agency))
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert (order["window_start"], order["window_minutes"], order["weekdays"]) == (
        "10:15", 60, [2, 4])
    with app.app_context():
        visits = db.session.scalars(select(Visit).where(Visit.order_id == uuid.UUID(order["id"]))
                                    .order_by(Visit.scheduled_start)).all()
        assert [v.scheduled_start.astimezone(NEW_YORK).strftime("%a %d %H:%M")
                for v in visits] == ["Tue 24 10:15", "Thu 26 10:15", "Tue 01 10:15",
                                     "Thu 03 10:15"]
        assert {v.nurse_id for v in visits} == {None}
        assert {v.service_location_id for v in visits} == {agency["location_a"]}


def test_schedule_fields_are_validated_with_messages(client, as_user, agency):
    cases = [
        ({"window_start": "25:00"}, "window_start"),
        ({"window_start": "9am"}, "window_start"),
        ({"window_minutes": 10}, "window_minutes"),
        ({"window_minutes": 721}, "window_minutes"),
        ({"weekdays": [0]}, "weekdays"),
        ({"weekdays": [2, 2]}, "weekdays"),
        ({"frequency_kind": "daily", "weekdays": [1]}, "weekdays"),
        ({"frequency_kind": "daily", "frequency_interval": 2}, "frequency_interval"),
        ({"frequency_kind": "every_n_hours", "frequency_interval": 36}, "frequency_interval"),
        ({"frequency_kind": "weekly", "frequency_interval": 13}, "frequency_interval"),
    ]
    for fields, name in cases:
        response = client.post(URL, headers=as_user("coordinator"), json=body(agency, **fields))
        details = error_of(response, 422, "validation_failed")["details"]
        assert name in details, (fields, details)


def test_service_location_of_another_patient_is_refused(client, as_user, agency, app):
    response = client.post(URL, headers=as_user("coordinator"),
                           json=body(agency, service_location_id=str(agency["location_b"])))
    error = error_of(response, 422, "validation_failed")
    assert error["details"] == {"service_location_id": ["Not a location of this patient."]}
    assert count_rows(app, Visit, Visit.patient_id == agency["patient_a"],
                      Visit.order_id.is_not(None)) == 0


def test_patch_kind_with_an_interval_that_no_longer_fits_is_refused(client, as_user, agency):
    headers = as_user("coordinator")
    order = client.post(URL, headers=headers, json=body(
        agency, frequency_kind="every_n_hours", frequency_interval=12, weekdays=[])).get_json()
    response = client.patch(f"{URL}/{order['id']}", headers=headers,
                            json={"frequency_kind": "daily", "version": order["version"]})
    error = error_of(response, 422, "validation_failed")
    assert "frequency_interval" in error["details"]


def test_order_location_is_used_for_its_visits(client, as_user, agency, app):
    with app.app_context():
        work = ServiceLocation(patient_id=agency["patient_a"], kind=LocationKind.WORK,
                               address="2 Office Park", latitude=39.8, longitude=-89.6)
        db.session.add(work)
        db.session.commit()
        work_id = work.id
    order = client.post(URL, headers=as_user("coordinator"),
                        json=body(agency, service_location_id=str(work_id))).get_json()
    with app.app_context():
        assert set(db.session.scalars(select(Visit.service_location_id).where(
            Visit.order_id == uuid.UUID(order["id"])))) == {work_id}


def test_discontinuing_through_the_api_cancels_its_future_visits(client, as_user, agency, app):
    headers = as_user("coordinator")
    order = client.post(URL, headers=headers, json=body(agency)).get_json()
    response = client.patch(f"{URL}/{order['id']}", headers=headers,
                            json={"status": "discontinued", "version": order["version"]})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        statuses = set(db.session.scalars(select(Visit.status).where(
            Visit.order_id == uuid.UUID(order["id"]))))
    assert statuses == {VisitStatus.CANCELLED}


def test_changing_the_window_through_the_api_moves_untouched_visits(client, as_user, agency,
                                                                      app):
    headers = as_user("coordinator")
    order = client.post(URL, headers=headers, json=body(agency)).get_json()
    response = client.patch(f"{URL}/{order['id']}", headers=headers,
                            json={"window_start": "16:00", "version": order["version"]})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        times = {v.scheduled_start.astimezone(NEW_YORK).strftime("%H:%M")
                 for v in db.session.scalars(select(Visit).where(
                     Visit.order_id == uuid.UUID(order["id"]),
                     Visit.status == VisitStatus.SCHEDULED))}
    assert times == {"16:00"}


def test_discharge_cancels_future_visits_including_hand_scheduled(client, as_user, agency, app):
    headers = as_user("coordinator")
    client.post(URL, headers=headers, json=body(agency))
    patient = client.get(f"/api/v1/patients/{agency['patient_a']}", headers=headers).get_json()
    response = client.patch(f"/api/v1/patients/{agency['patient_a']}", headers=headers,
                            json={"status": "discharged", "version": patient["version"]})
    assert response.status_code == 200, response.get_json()
    assert count_rows(app, Visit, Visit.patient_id == agency["patient_a"],
                      Visit.status != VisitStatus.CANCELLED) == 0
    with app.app_context():
        visit_a = db.session.get(Visit, agency["visit_a"])
        assert visit_a is not None
        assert visit_a.cancel_reason == "Patient discharged; future visits were cancelled."


def test_a_new_window_length_reaches_existing_visits(client, as_user, agency, app):
    headers = as_user("coordinator")
    order = client.post(URL, headers=headers, json=body(agency)).get_json()
    response = client.patch(f"{URL}/{order['id']}", headers=headers,
                            json={"window_minutes": 180, "version": order["version"]})
    assert response.status_code == 200, response.get_json()
    with app.app_context():
        lengths = {v.scheduled_end - v.scheduled_start for v in db.session.scalars(
            select(Visit).where(Visit.order_id == uuid.UUID(order["id"])))}
    assert lengths == {timedelta(minutes=180)}
