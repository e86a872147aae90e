"""Therapy orders through /api/v1/orders: create, read, list, change, and the rules."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import TherapyOrder
from tests.assertions import error_of

URL = "/api/v1/orders"




def stored(app: Flask, *where: Any) -> int:
    """How many order rows match ``where``."""
    with app.app_context():
        stmt = select(func.count()).select_from(TherapyOrder).where(*where)
        return db.session.scalar(stmt) or 0


def new_order(agency: Any, **fields: Any) -> dict[str, Any]:
    """A valid create body for patient A; ``fields`` override."""
    body: dict[str, Any] = {
        "patient_id": str(agency["patient_a"]), "physician_id": str(agency["physician_a"]),
        "medication": "vancomycin", "dose": 1.25, "dose_unit": "g", "route": "IV",
        "rate_ml_h": 125.5, "volume_ml": 250.0, "frequency_kind": "every_n_hours",
        "frequency_interval": 12, "start_date": "2026-11-24", "end_date": "2026-12-08",
        "pump_required": True, "required_competency": "picc-care",
    }
    return {**body, **fields}


def create(client: FlaskClient, headers: dict[str, str], agency: Any,
           **fields: Any) -> dict[str, Any]:
    """POST an order and return the created record."""
    response = client.post(URL, headers=headers, json=new_order(agency, **fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_create_echoes_the_order_with_server_owned_fields(client, as_user, agency):
    body = new_order(agency)
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert {k: created[k] for k in body} == body
    assert uuid.UUID(created["id"])
    assert (created["version"], created["status"]) == (1, "active")


def test_created_order_reads_back_and_keeps_exact_quantities(client, as_user, agency, app):
    headers = as_user("coordinator")
    created = create(client, headers, agency, dose="0.125")
    response = client.get(f"{URL}/{created['id']}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == created
    with app.app_context():
        assert db.session.get(TherapyOrder, uuid.UUID(created["id"])).dose == Decimal("0.125")


def test_list_filters_by_patient_and_status(client, as_user, agency):
    headers = as_user("coordinator")
    held = create(client, headers, agency, status="on_hold")

    def ids(**query: Any) -> set[str]:
        response = client.get(URL, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        return {o["id"] for o in response.get_json()}

    for_a = ids(patient_id=agency["patient_a"])
    assert for_a == {str(agency["order_a"]), held["id"]}
    assert ids(patient_id=agency["patient_a"], status="on_hold") == {held["id"]}
    assert ids(status="active") == {str(agency["order_a"]), str(agency["order_b"])}


def test_list_pages_with_the_x_pagination_header(client, as_user, agency):
    headers = as_user("coordinator")
    create(client, headers, agency)
    seen = []
    for page in (1, 2):
        response = client.get(URL, headers=headers, query_string={"page": page, "page_size": 2})
        meta = json.loads(response.headers["X-Pagination"])
        assert (meta["total"], meta["total_pages"], meta["page"]) == (3, 2, page)
        seen += [o["id"] for o in response.get_json()]
    assert len(seen) == len(set(seen)) == 3


def test_patch_changes_a_field_and_bumps_the_version(client, as_user, agency):
    headers = as_user("coordinator")
    url = f"{URL}/{agency['order_a']}"
    response = client.patch(url, headers=headers, json={"status": "discontinued"})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["status"], response.get_json()["version"]) == ("discontinued", 2)
    assert client.get(url, headers=headers).get_json()["status"] == "discontinued"


def test_patch_with_if_match_of_an_old_version_is_stale(client, as_user, agency):
    headers = as_user("coordinator")
    url = f"{URL}/{agency['order_a']}"
    assert client.patch(url, headers=headers, json={"dose": 3}).status_code == 200
    response = client.patch(url, headers={**headers, "If-Match": '"1"'}, json={"dose": 4})
    current = error_of(response, 409, "stale_version")["details"]["current"]
    assert (current["version"], current["dose"]) == (2, 3.0)


def test_end_date_before_start_date_is_refused(client, as_user, agency, app):
    body = new_order(agency, start_date="2026-12-01", end_date="2026-11-30")
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "end_date" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_patch_end_date_before_the_stored_start_is_refused(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['order_a']}", headers=as_user("coordinator"),
                            json={"end_date": "2026-11-01"})
    assert "end_date" in error_of(response, 422, "validation_failed")["details"]
    with app.app_context():
        order = db.session.get(TherapyOrder, agency["order_a"])
        assert (order.end_date, order.version) == (None, 1)


def test_physician_id_must_name_a_physician(client, as_user, agency, app):
    body = new_order(agency, physician_id=str(agency["nurse_a"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "physician_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_unknown_patient_is_refused_naming_patient_id(client, as_user, agency, app):
    body = new_order(agency, patient_id=str(uuid.uuid4()))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "patient_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_dose_beyond_what_is_stored_is_refused(client, as_user, agency, app):
    headers = as_user("coordinator")
    for dose in (1e15, "1e400", 10**9):
        response = client.post(URL, headers=headers, json=new_order(agency, dose=dose))
        assert "dose" in error_of(response, 422, "validation_failed")["details"], dose
    assert stored(app) == 2


def test_more_decimals_than_stored_are_refused_not_rounded(client, as_user, agency, app):
    headers = as_user("coordinator")
    cases = {"dose": "0.0001", "rate_ml_h": 33.333, "volume_ml": 100.05}
    for field, value in cases.items():
        response = client.post(URL, headers=headers, json=new_order(agency, **{field: value}))
        details = error_of(response, 422, "validation_failed")["details"]
        assert details[field][0].startswith("At most"), field
    assert stored(app) == 2


def test_fractional_frequency_interval_is_refused_not_truncated(client, as_user, agency, app):
    body = new_order(agency, frequency_interval=5.5)
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "frequency_interval" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2
