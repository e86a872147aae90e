"""Patients through /api/v1/patients: create, read, list, change, and the conflicts."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.extensions import db
from server.models import Patient, ServiceLocation
from tests.assertions import count_rows, error_of

URL = "/api/v1/patients"




def stored(app: Flask, *where: Any) -> int:
    """How many patient rows match ``where``."""
    return count_rows(app, Patient, *where)


def new_patient(**fields: Any) -> dict[str, Any]:
    """A valid create body; ``fields`` override."""
    body: dict[str, Any] = {
        "mrn": "MRN-100", "first_name": "Grace", "last_name": "Okafor",
        "birth_date": "1948-03-09", "phone": "555-0100", "allergies": ["penicillin"],
        "locations": [{"kind": "home", "address": "12 Birch Rd", "latitude": 40.1,
                       "longitude": -88.2, "evv_radius_m": 200}],
        "vascular_access": {"type": "picc", "placed_on": "2026-11-01", "side": "left",
                            "external_length_cm": 2.5},
    }
    return {**body, **fields}


def create(client: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """POST a patient and return the created record."""
    response = client.post(URL, headers=headers, json=new_patient(**fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_create_echoes_the_patient_with_server_owned_fields(client, as_user, agency):
    body = new_patient(primary_physician_id=str(agency["physician_a"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    for name in ("mrn", "first_name", "last_name", "birth_date", "phone", "allergies",
                 "vascular_access", "primary_physician_id"):
        assert created[name] == body[name], name
    assert uuid.UUID(created["id"])
    assert created["version"] == 1
    assert created["status"] == "active"
    assert created["created_at"].endswith("+00:00")
    [home] = created["locations"]
    assert uuid.UUID(home["id"])
    assert {k: home[k] for k in body["locations"][0]} == body["locations"][0]


def test_created_patient_reads_back_the_same(client, as_user, agency, app):
    headers = as_user("coordinator")
    created = create(client, headers)
    response = client.get(f"{URL}/{created['id']}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == created
    assert stored(app, Patient.mrn == "MRN-100") == 1


def test_list_filters_by_status(client, as_user, agency):
    headers = as_user("coordinator")
    create(client, headers, mrn="MRN-GONE", status="discharged")
    discharged = client.get(URL, headers=headers, query_string={"status": "discharged"})
    active = client.get(URL, headers=headers, query_string={"status": "active"})
    assert [p["mrn"] for p in discharged.get_json()] == ["MRN-GONE"]
    assert {p["mrn"] for p in active.get_json()} == {"MRN-A", "MRN-B"}


def test_list_q_matches_the_mrn_or_the_start_of_the_last_name(client, as_user, agency):
    headers = as_user("coordinator")
    create(client, headers)

    def found(q: str) -> list[str]:
        response = client.get(URL, headers=headers, query_string={"q": q})
        assert response.status_code == 200, response.get_json()
        return sorted(p["mrn"] for p in response.get_json())

    assert found("MRN-B") == ["MRN-B"]
    assert found("oka") == ["MRN-100"]
    assert found("kafor") == []


def test_list_q_takes_like_wildcards_literally(client, as_user, agency):
    headers = as_user("coordinator")
    for q in ("_", "%", "P_tient"):
        response = client.get(URL, headers=headers, query_string={"q": q})
        assert response.status_code == 200
        assert response.get_json() == [], q


def test_list_pages_with_the_x_pagination_header(client, as_user, agency):
    headers = as_user("coordinator")
    for n in range(3):
        create(client, headers, mrn=f"MRN-P{n}", last_name=f"Zed{n}")
    pages = []
    for page in (1, 2, 3):
        response = client.get(URL, headers=headers,
                              query_string={"page": page, "page_size": 2})
        assert response.status_code == 200
        meta = json.loads(response.headers["X-Pagination"])
        assert (meta["total"], meta["total_pages"], meta["page"]) == (5, 3, page)
        pages.append([p["mrn"] for p in response.get_json()])
    assert [len(p) for p in pages] == [2, 2, 1]
    assert sorted(mrn for page in pages for mrn in page) == [
        "MRN-A", "MRN-B", "MRN-P0", "MRN-P1", "MRN-P2"]


def test_patch_changes_a_field_and_bumps_the_version(client, as_user, agency):
    headers = as_user("coordinator")
    url = f"{URL}/{agency['patient_a']}"
    response = client.patch(url, headers=headers, json={"phone": "555-0199", "version": 1})
    assert response.status_code == 200, response.get_json()
    assert (response.get_json()["phone"], response.get_json()["version"]) == ("555-0199", 2)
    assert client.get(url, headers=headers).get_json()["phone"] == "555-0199"


def test_patch_adds_a_work_location_and_updates_the_home_one(client, as_user, agency, app):
    headers = as_user("coordinator")
    url = f"{URL}/{agency['patient_a']}"
    work = {"kind": "work", "address": "400 Plant Way", "latitude": 39.8, "longitude": -89.6}
    home = {"id": str(agency["location_a"]), "address": "2 Oak St", "evv_radius_m": 300}
    response = client.patch(url, headers=headers, json={"locations": [home, work]})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 2
    by_kind = {loc["kind"]: loc for loc in client.get(url, headers=headers).get_json()["locations"]}
    assert set(by_kind) == {"home", "work"}
    assert by_kind["home"]["id"] == str(agency["location_a"])
    assert (by_kind["home"]["address"], by_kind["home"]["evv_radius_m"]) == ("2 Oak St", 300)
    assert by_kind["work"]["address"] == "400 Plant Way"
    assert by_kind["work"]["evv_radius_m"] == 150


def test_patch_cannot_touch_another_patients_location(client, as_user, agency, app):
    headers = as_user("coordinator")
    foreign = {"id": str(agency["location_b"]), "address": "Hijacked"}
    response = client.patch(f"{URL}/{agency['patient_a']}", headers=headers,
                            json={"locations": [foreign]})
    assert "locations" in error_of(response, 422, "validation_failed")["details"]
    with app.app_context():
        location = db.session.get(ServiceLocation, agency["location_b"])
        assert location.address == "1 Elm St, Springfield"


def test_patch_new_location_without_its_address_is_refused(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['patient_a']}", headers=as_user("coordinator"),
                            json={"locations": [{"kind": "work"}]})
    error = error_of(response, 422, "validation_failed")
    assert "address" in error["details"]["locations"][0]
    with app.app_context():
        count = select(func.count()).select_from(ServiceLocation)
        mine = count.where(ServiceLocation.patient_id == agency["patient_a"])
        assert db.session.scalar(mine) == 1


def test_duplicate_mrn_is_a_conflict_and_stored_once(client, as_user, agency, app):
    response = client.post(URL, headers=as_user("coordinator"), json=new_patient(mrn="MRN-A"))
    error = error_of(response, 409, "duplicate")
    assert "MRN" in error["message"]
    assert stored(app, Patient.mrn == "MRN-A") == 1
    assert stored(app) == 2


def test_patch_to_a_taken_mrn_is_a_conflict_and_changes_nothing(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['patient_b']}", headers=as_user("coordinator"),
                            json={"mrn": "MRN-A"})
    error_of(response, 409, "duplicate")
    assert stored(app, Patient.mrn == "MRN-B") == 1


def test_patch_on_a_stale_version_is_refused_with_the_current_record(client, as_user, agency):
    headers = as_user("coordinator")
    url = f"{URL}/{agency['patient_a']}"
    assert client.patch(url, headers=headers, json={"phone": "1", "version": 1}).status_code == 200
    response = client.patch(url, headers=headers, json={"phone": "2", "version": 1})
    current = error_of(response, 409, "stale_version")["details"]["current"]
    assert (current["version"], current["phone"]) == (2, "1")


def test_patch_null_vascular_access_removes_the_device(client, as_user, agency):
    headers = as_user("coordinator")
    created = create(client, headers)
    url = f"{URL}/{created['id']}"
    response = client.patch(url, headers=headers, json={"vascular_access": None})
    assert response.status_code == 200, response.get_json()
    assert client.get(url, headers=headers).get_json()["vascular_access"] is None


def test_patch_replaces_the_device_whole(client, as_user, agency):
    headers = as_user("coordinator")
    created = create(client, headers)
    url = f"{URL}/{created['id']}"
    response = client.patch(url, headers=headers, json={"vascular_access": {"type": "port"}})
    assert response.status_code == 200, response.get_json()
    assert client.get(url, headers=headers).get_json()["vascular_access"] == {
        "type": "port", "placed_on": None, "side": None, "external_length_cm": None,
    }


def test_primary_physician_must_be_a_physician(client, as_user, agency, app):
    body = new_patient(primary_physician_id=str(agency["nurse_a"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert "primary_physician_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2


def test_unknown_patient_is_not_found(client, as_user, agency):
    response = client.get(f"{URL}/{uuid.uuid4()}", headers=as_user("coordinator"))
    error_of(response, 404, "not_found")
