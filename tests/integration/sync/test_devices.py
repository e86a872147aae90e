"""Managing enrolled devices: listing, retiring, revoking, and who a token speaks for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import Device, DeviceCommand, Visit
from tests.assertions import error_of
from tests.integration.sync.device import TestDevice

URL = "/api/v1/devices"




def check_in(device: TestDevice, visit_id: Any) -> dict[str, Any]:
    """A check-in mutation for ``visit_id``."""
    return device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})


def visit_status(app: Flask, visit_id: Any) -> str:
    """The visit's status as stored."""
    with app.app_context():
        return str(db.session.get(Visit, visit_id).status.value)


def stored_device(app: Flask, device: TestDevice) -> Device:
    """The device row, detached from any session."""
    with app.app_context():
        row = db.session.get(Device, uuid.UUID(device.device_id))
        db.session.expunge(row)
        return row


def act(client: FlaskClient, as_user: Any, device: TestDevice, action: str,
        who: str = "coordinator") -> Any:
    """Retire or revoke ``device`` as ``who``."""
    return client.post(f"{URL}/{device.device_id}/{action}", headers=as_user(who))


def listed(client: FlaskClient, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """The devices listed for ``query``."""
    response = client.get(URL, headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()  # type: ignore[no-any-return]


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_staff_writers_see_every_nurses_devices(client, as_user, agency, enroll, who):
    device_a, device_b = enroll("nurse_a"), enroll("nurse_b")
    items = listed(client, as_user(who))
    assert {(d["id"], d["user_id"]) for d in items} == {
        (device_a.device_id, str(agency["nurse_a"])), (device_b.device_id, str(agency["nurse_b"]))}
    for item in items:
        assert item["status"] == "active"
        assert not {"token", "token_hash", "signing_key"} & set(item)


def test_devices_filter_by_nurse_and_by_status(client, as_user, agency, enroll):
    device_a, device_b = enroll("nurse_a"), enroll("nurse_b")
    headers = as_user("coordinator")
    assert [d["id"] for d in listed(client, headers, user_id=agency["nurse_b"])] == [
        device_b.device_id]
    assert act(client, as_user, device_a, "retire").status_code == 200
    assert [d["id"] for d in listed(client, headers, status="retired")] == [device_a.device_id]
    assert [d["id"] for d in listed(client, headers, status="active")] == [device_b.device_id]
    assert listed(client, headers, status="revoked") == []
    assert listed(client, headers, user_id=agency["nurse_a"], status="active") == []


def test_an_unknown_status_filter_is_refused(client, as_user, agency, enroll):
    enroll("nurse_a")
    response = client.get(URL, headers=as_user("coordinator"), query_string={"status": "lost"})
    error_of(response, 422, "validation_failed")


@pytest.mark.parametrize("who", ["nurse_a", "qc", "physician_a", "training_lead"])
def test_other_roles_may_not_list_devices(client, as_user, agency, enroll, who):
    enroll("nurse_a")
    error_of(client.get(URL, headers=as_user(who)), 403, "forbidden")


def test_a_retired_device_may_push_but_not_pull(client, as_user, agency, enroll, app, clock):
    device = enroll("nurse_a")
    response = act(client, as_user, device, "retire")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "retired"
    assert datetime.fromisoformat(response.get_json()["retired_at"]) == clock()

    pushed = device.push([check_in(device, agency["visit_a"])])
    assert pushed.status_code == 200, pushed.get_json()
    assert [r["status"] for r in pushed.get_json()["results"]] == ["applied"]
    assert visit_status(app, agency["visit_a"]) == "in_progress"

    error = error_of(device.pull(), 403, "device_retired")
    assert "push" in error["message"]


def test_a_revoked_device_is_refused_and_told_to_wipe(client, as_user, agency, enroll, app):
    device = enroll("nurse_a")
    response = act(client, as_user, device, "revoke")
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "revoked"

    pushed = device.push([check_in(device, agency["visit_a"])])
    assert error_of(pushed, 403, "device_revoked")["details"] == {"command": {"type": "wipe"}}
    assert error_of(device.pull(), 403, "device_revoked")["details"] == {
        "command": {"type": "wipe"}}
    assert visit_status(app, agency["visit_a"]) == "scheduled"


def test_revoking_queues_one_wipe_delivered_on_first_contact(client, as_user, enroll, app,
                                                             clock):
    device = enroll("nurse_a")
    act(client, as_user, device, "revoke")
    assert stored_device(app, device).wipe_delivered_at is None

    first_contact = clock.advance(hours=2)
    error_of(device.pull(), 403, "device_revoked")
    clock.advance(hours=1)
    error_of(device.pull(), 403, "device_revoked")

    assert stored_device(app, device).wipe_delivered_at == first_contact
    with app.app_context():
        commands = db.session.scalars(sa.select(DeviceCommand)).all()
        assert [(c.device_id, c.kind, c.delivered_at) for c in commands] == [
            (uuid.UUID(device.device_id), "wipe", first_contact)]
    # The coordinator's staff session went idle meanwhile; the admin logs in fresh.
    listed_device = listed(client, as_user("admin"))[0]
    assert datetime.fromisoformat(listed_device["wipe_delivered_at"]) == first_contact


def test_the_api_says_wipe_delivered_at_is_when_the_order_was_sent_not_a_wipe(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    described = spec["components"]["schemas"]["Device"]["properties"]["wipe_delivered_at"]
    assert described["description"].startswith("When the wipe order was sent")
    assert "Not a confirmation that it wiped" in described["description"]


def test_revoking_twice_is_a_conflict(client, as_user, enroll, app):
    device = enroll("nurse_a")
    assert act(client, as_user, device, "revoke").status_code == 200
    error_of(act(client, as_user, device, "revoke", "admin"), 409, "device_revoked")
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(DeviceCommand)) == 1


def test_a_revoked_device_cannot_be_retired_back_into_pushing(client, as_user, agency, enroll):
    device = enroll("nurse_a")
    act(client, as_user, device, "revoke")
    error_of(act(client, as_user, device, "retire"), 409, "device_revoked")
    error_of(device.push([check_in(device, agency["visit_a"])]), 403, "device_revoked")


def test_a_retired_device_can_still_be_revoked(client, as_user, agency, enroll):
    device = enroll("nurse_a")
    act(client, as_user, device, "retire")
    assert act(client, as_user, device, "revoke").status_code == 200
    error_of(device.push([check_in(device, agency["visit_a"])]), 403, "device_revoked")


@pytest.mark.parametrize("action", ["retire", "revoke"])
def test_nurses_may_not_retire_or_revoke(client, as_user, enroll, app, action):
    device = enroll("nurse_a")
    error_of(act(client, as_user, device, action, "nurse_a"), 403, "forbidden")
    assert stored_device(app, device).status.value == "active"
    assert device.pull().status_code == 200


def test_an_unknown_device_cannot_be_revoked(client, as_user, agency):
    response = client.post(f"{URL}/{uuid.uuid4()}/revoke", headers=as_user("coordinator"))
    error_of(response, 404, "not_found")


def test_an_unknown_token_is_unauthorized(client, agency, enroll, app):
    device = enroll("nurse_a")
    device.enrollment["token"] = "not-a-token-we-issued"
    error_of(device.push([check_in(device, agency["visit_a"])]), 401, "unauthorized")
    error_of(device.pull(), 401, "unauthorized")
    assert visit_status(app, agency["visit_a"]) == "scheduled"


def test_a_missing_token_is_unauthorized(client, agency, enroll):
    enroll("nurse_a")
    response = client.get("/api/v1/sync/pull", query_string={"cursor": "", "limit": 10})
    error_of(response, 401, "unauthorized")


def test_a_token_cannot_push_for_another_device(client, agency, enroll, app):
    device_a, device_b = enroll("nurse_a"), enroll("nurse_b")
    body = device_b.body(device_b.plaintext([check_in(device_b, agency["visit_b"])]))
    response = client.post("/api/v1/sync/push", headers=device_a.headers, json=body)
    error_of(response, 401, "device_mismatch")
    assert visit_status(app, agency["visit_b"]) == "scheduled"


def test_the_list_shows_when_a_device_last_pushed_and_pulled(client, as_user, agency, enroll,
                                                             clock):
    device = enroll("nurse_a")
    enrolled_at = clock()
    pushed_at = clock.advance(minutes=5)
    assert device.push([check_in(device, agency["visit_a"])]).status_code == 200
    pulled_at = clock.advance(minutes=5)
    assert device.pull().status_code == 200
    (item,) = listed(client, as_user("coordinator"))
    times = {name: datetime.fromisoformat(item[name]) for name in (
        "enrolled_at", "last_push_at", "last_pull_at", "last_seen_at")}
    assert times == {"enrolled_at": enrolled_at, "last_push_at": pushed_at,
                     "last_pull_at": pulled_at, "last_seen_at": pulled_at}


def test_disabled_nurse_device_may_push_but_not_pull(client, enroll, agency, as_user):
    device = enroll("nurse_a")
    admin = as_user("admin")
    disabled = client.patch(f"/api/v1/users/{agency['nurse_a']}", headers=admin,
                            json={"active": False})
    assert disabled.status_code == 200
    vitals = device.mutation("vitals.record", agency["visit_a"], {
        "code": "8867-4", "value": 70, "unit": "/min", "taken_at": "2026-11-23T09:00:00Z"},
        entity_id="0193a3b4-0000-7000-8000-0000000000b7")
    pushed = device.push([vitals])
    assert pushed.status_code == 200
    assert pushed.get_json()["results"][0]["status"] == "applied"
    pulled = device.pull()
    assert pulled.status_code == 403
    assert pulled.get_json()["error"]["code"] == "account_disabled"
