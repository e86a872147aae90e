"""The pump registry through /api/v1/pumps: register, read, list, assign, and conflicts."""

from __future__ import annotations

import json
import uuid
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.models import Pump
from tests.assertions import count_rows, error_of

URL = "/api/v1/pumps"




def stored(app: Flask, *where: Any) -> int:
    """How many pump rows match ``where``."""
    return count_rows(app, Pump, *where)


def new_pump(**fields: Any) -> dict[str, Any]:
    """A valid create body; ``fields`` override."""
    body: dict[str, Any] = {
        "serial": "PMP-100", "manufacturer": "ICU Medical", "model": "Sapphire",
        "udi_di": "00840619000000", "status": "in_service", "patient_id": None,
        "last_pm_on": "2026-06-01", "next_pm_due_on": "2027-06-01",
    }
    return {**body, **fields}


def create(client: FlaskClient, headers: dict[str, str], **fields: Any) -> dict[str, Any]:
    """POST a pump and return the created record."""
    response = client.post(URL, headers=headers, json=new_pump(**fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


def test_create_echoes_the_pump_with_server_owned_fields(client, as_user, agency):
    body = new_pump(patient_id=str(agency["patient_a"]))
    response = client.post(URL, headers=as_user("coordinator"), json=body)
    assert response.status_code == 201, response.get_json()
    created = response.get_json()
    assert {k: created[k] for k in body} == body
    assert uuid.UUID(created["id"])
    assert created["version"] == 1


def test_created_pump_reads_back_the_same(client, as_user, agency, app):
    headers = as_user("coordinator")
    created = create(client, headers)
    response = client.get(f"{URL}/{created['id']}", headers=headers)
    assert response.status_code == 200
    assert response.get_json() == created
    assert stored(app, Pump.serial == "PMP-100") == 1


def test_list_filters_by_status_and_serial(client, as_user, agency):
    headers = as_user("coordinator")
    recalled = create(client, headers, status="recalled")

    def serials(**query: Any) -> list[str]:
        response = client.get(URL, headers=headers, query_string=query)
        assert response.status_code == 200, response.get_json()
        return [p["serial"] for p in response.get_json()]

    assert serials(status="recalled") == [recalled["serial"]]
    assert serials(status="in_service") == ["PMP-A", "PMP-B"]
    assert serials(serial="PMP-B") == ["PMP-B"]
    assert serials(serial="PMP") == []


def test_list_pages_with_the_x_pagination_header(client, as_user, agency):
    headers = as_user("coordinator")
    create(client, headers)
    response = client.get(URL, headers=headers, query_string={"page": 2, "page_size": 2})
    assert response.status_code == 200
    meta = json.loads(response.headers["X-Pagination"])
    assert (meta["total"], meta["total_pages"], meta["page"]) == (3, 2, 2)
    assert [p["serial"] for p in response.get_json()] == ["PMP-B"]


def test_patch_assigns_returns_and_bumps_the_version(client, as_user, agency):
    headers = as_user("coordinator")
    created = create(client, headers)
    url = f"{URL}/{created['id']}"
    assigned = client.patch(url, headers=headers,
                            json={"patient_id": str(agency["patient_b"]), "version": 1})
    assert assigned.status_code == 200, assigned.get_json()
    assert (assigned.get_json()["patient_id"], assigned.get_json()["version"]) == (
        str(agency["patient_b"]), 2)
    returned = client.patch(url, headers={**headers, "If-Match": '"2"'},
                            json={"patient_id": None, "status": "maintenance_due"})
    assert returned.status_code == 200, returned.get_json()
    read = client.get(url, headers=headers).get_json()
    assert (read["patient_id"], read["status"], read["version"]) == (None, "maintenance_due", 3)


def test_duplicate_serial_is_a_conflict_and_stored_once(client, as_user, agency, app):
    response = client.post(URL, headers=as_user("coordinator"), json=new_pump(serial="PMP-A"))
    assert "serial" in error_of(response, 409, "duplicate")["message"]
    assert stored(app, Pump.serial == "PMP-A") == 1
    assert stored(app) == 2


def test_patch_to_a_taken_serial_is_a_conflict_and_changes_nothing(client, as_user, agency, app):
    response = client.patch(f"{URL}/{agency['pump_b']}", headers=as_user("coordinator"),
                            json={"serial": "PMP-A"})
    error_of(response, 409, "duplicate")
    assert stored(app, Pump.serial == "PMP-B") == 1


def test_stale_version_is_refused_with_the_current_record(client, as_user, agency):
    headers = as_user("coordinator")
    url = f"{URL}/{agency['pump_a']}"
    assert client.patch(url, headers=headers, json={"status": "recalled"}).status_code == 200
    response = client.patch(url, headers=headers, json={"status": "in_service", "version": 1})
    current = error_of(response, 409, "stale_version")["details"]["current"]
    assert (current["version"], current["status"]) == (2, "recalled")


def test_assigning_to_an_unknown_patient_is_refused(client, as_user, agency, app):
    response = client.post(URL, headers=as_user("coordinator"),
                           json=new_pump(patient_id=str(uuid.uuid4())))
    assert "patient_id" in error_of(response, 422, "validation_failed")["details"]
    assert stored(app) == 2
