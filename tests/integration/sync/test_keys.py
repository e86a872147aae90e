"""Rotating the server's HPKE key: devices sealing to the old key get a grace period."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskCliRunner

from server.extensions import db
from server.models import AuditEvent, KeyPurpose, ServerKey, Visit
from sync import envelope, response_signature
from tests.assertions import error_of
from tests.integration.sync.device import TestDevice

GRACE = timedelta(hours=168)  # SYNC_MAX_OFFLINE_HOURS by default




def rotate(runner: FlaskCliRunner) -> str:
    """Run ``infusync keys rotate`` and return what it printed."""
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0, result.output
    return result.output


def key_list(runner: FlaskCliRunner) -> list[str]:
    """The lines ``infusync keys list`` printed."""
    result = runner.invoke(args=["keys", "list"])
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()  # stderr names the instance and database


def current_hpke(app: Flask) -> ServerKey:
    """The current HPKE key as stored."""
    with app.app_context():
        key = db.session.scalars(sa.select(ServerKey).where(
            ServerKey.purpose == KeyPurpose.HPKE, ServerKey.current.is_(True))).one()
        db.session.expunge(key)
        return key


def push_sealed_to(device: TestDevice, hpke_key: dict[str, Any], key_id: str,
                   mutations: list[dict[str, Any]]) -> Any:
    """Push ``mutations`` sealed to ``hpke_key``'s public key and signed naming ``key_id``."""
    batch_id = str(uuid.uuid4())
    public = envelope.x25519_public_key_from_b64u(hpke_key["public_key"])
    sealed = envelope.seal(device.plaintext(mutations), public, device.device_id, batch_id)
    signature = envelope.sign_push(device.key, device.device_id, batch_id, key_id, sealed)
    body = {"protocol": 1, "device_id": device.device_id, "batch_id": batch_id,
            "key_id": key_id, "sealed": sealed, "signature": signature}
    return device.client.post("/api/v1/sync/push", headers=device.headers, json=body)


def check_in(device: TestDevice, visit_id: Any) -> dict[str, Any]:
    """A check-in mutation for ``visit_id``."""
    return device.mutation("visit.check_in", visit_id, {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})


def visit_status(app: Flask, visit_id: Any) -> str:
    """The visit's status as stored."""
    with app.app_context():
        return str(db.session.get(Visit, visit_id).status.value)


def old_key_of(device: TestDevice) -> dict[str, Any]:
    """The HPKE key the device was given at enrollment."""
    (key,) = device.enrollment["server"]["hpke_keys"]
    return key  # type: ignore[no-any-return]


def test_rotate_adds_a_new_current_key_and_schedules_the_old_ones_retirement(
        runner, enroll, app, clock):
    old = old_key_of(enroll("nurse_a"))
    output = rotate(runner)
    new = current_hpke(app)
    assert new.key_id != old["key_id"]
    assert f"current HPKE key: {new.key_id}" in output
    assert (clock() + GRACE).isoformat() in output
    with app.app_context():
        previous = db.session.get(ServerKey, old["key_id"])
        assert (previous.current, previous.retire_after) == (False, clock() + GRACE)


def test_a_device_enrolled_after_rotation_seals_to_the_new_key(runner, enroll, app):
    old = old_key_of(enroll("nurse_a"))
    rotate(runner)
    new_id = current_hpke(app).key_id
    keys = enroll("nurse_b").enrollment["server"]["hpke_keys"]
    assert {(k["key_id"], k["current"]) for k in keys} == {(old["key_id"], False), (new_id, True)}


def test_the_old_key_still_opens_pushes_within_the_grace_period(runner, enroll, agency, app,
                                                               clock):
    device = enroll("nurse_a")
    old = old_key_of(device)
    rotate(runner)
    clock.advance(hours=167)
    response = push_sealed_to(device, old, old["key_id"], [check_in(device, agency["visit_a"])])
    assert response.status_code == 200, response.get_json()
    assert [r["status"] for r in response.get_json()["results"]] == ["applied"]
    assert visit_status(app, agency["visit_a"]) == "in_progress"


def test_after_the_grace_period_the_old_key_is_refused_with_the_keys_to_use(
        runner, enroll, agency, app, clock):
    device = enroll("nurse_a")
    old = old_key_of(device)
    rotate(runner)
    new = current_hpke(app)
    clock.advance(hours=169)
    response = push_sealed_to(device, old, old["key_id"], [check_in(device, agency["visit_a"])])
    error = error_of(response, 409, "unknown_key")
    assert [(k["key_id"], k["public_key"], k["current"]) for k in error["details"]["hpke_keys"]
            ] == [(new.key_id, new.public_key, True)]
    assert visit_status(app, agency["visit_a"]) == "scheduled"
    with app.app_context():
        refused = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "sync.push")).all()
        assert [(e.outcome, e.details) for e in refused] == [
            ("refused", {"reason": "unknown_key"})]

    # Sealing the same changes again to the key the refusal named gets them through.
    response = push_sealed_to(device, error["details"]["hpke_keys"][0], new.key_id,
                              [check_in(device, agency["visit_a"])])
    assert response.status_code == 200, response.get_json()
    assert visit_status(app, agency["visit_a"]) == "in_progress"


def test_an_unknown_key_id_is_refused_with_the_current_key(enroll, agency, app):
    device = enroll("nurse_a")
    current = old_key_of(device)
    response = push_sealed_to(device, current, "hpke-never-issued",
                              [check_in(device, agency["visit_a"])])
    error = error_of(response, 409, "unknown_key")
    assert [k["key_id"] for k in error["details"]["hpke_keys"]] == [current["key_id"]]
    assert visit_status(app, agency["visit_a"]) == "scheduled"


def test_the_signing_key_id_naming_a_signing_key_is_not_an_hpke_key(enroll, agency, app):
    device = enroll("nurse_a")
    signing_id = device.enrollment["server"]["signing_key"]["key_id"]
    response = push_sealed_to(device, old_key_of(device), signing_id,
                              [check_in(device, agency["visit_a"])])
    error_of(response, 409, "unknown_key")
    assert visit_status(app, agency["visit_a"]) == "scheduled"


def test_keys_list_shows_both_keys_during_the_grace_period_and_then_only_the_new(
        runner, enroll, app, clock):
    old = old_key_of(enroll("nurse_a"))
    rotate(runner)
    new_id = current_hpke(app).key_id
    lines = key_list(runner)
    assert f"hpke    {old['key_id']}" in lines
    assert f"hpke    {new_id} (current)" in lines
    assert any(line.startswith("signing ") for line in lines)

    clock.advance(hours=169)
    lines = key_list(runner)
    assert [line for line in lines if line.startswith("hpke")] == [f"hpke    {new_id} (current)"]


def test_keys_list_on_a_fresh_server_creates_the_first_keys(runner, app):
    lines = key_list(runner)
    assert lines == ["hpke    hpke-initial (current)", "signing signing-initial"]


def test_rotating_twice_keeps_both_older_keys_until_their_own_deadlines(runner, enroll, app,
                                                                       clock):
    first = old_key_of(enroll("nurse_a"))["key_id"]
    rotate(runner)
    second = current_hpke(app).key_id
    clock.advance(hours=100)
    rotate(runner)
    third = current_hpke(app).key_id
    with app.app_context():
        deadlines = {k.key_id: k.retire_after for k in db.session.scalars(sa.select(ServerKey))
                     if k.purpose is KeyPurpose.HPKE}
    start = clock() - timedelta(hours=100)
    assert deadlines == {first: start + GRACE, second: clock() + GRACE, third: None}


def rotate_signing(runner: FlaskCliRunner, *args: str) -> Any:
    """Run ``infusync keys rotate-signing``; the click result."""
    return runner.invoke(args=["keys", "rotate-signing", *args])


def test_rotate_signing_announces_an_endorsed_key_that_signs_after_the_grace_period(
        runner, app, clock):
    key_list(runner)  # the first keys
    result = rotate_signing(runner)
    assert result.exit_code == 0, result.output
    with app.app_context():
        new = db.session.scalars(sa.select(ServerKey).where(
            ServerKey.endorsed_by == "signing-initial")).one()
        initial = db.session.get(ServerKey, "signing-initial")
        response_signature.verify_endorsement(
            envelope.ed25519_public_key_from_b64u(initial.public_key), new.endorsement,
            new.key_id, new.public_key)
        assert new.not_before == clock() + GRACE
    assert f"signing {new.key_id} (announced; signs from {(clock() + GRACE).isoformat()})" \
        in key_list(runner)
    clock.advance(hours=169)
    lines = key_list(runner)
    assert "signing signing-initial (replaced)" in lines and f"signing {new.key_id}" in lines


def test_a_second_signing_rotation_may_not_start_before_the_announced_key(runner, app):
    key_list(runner)
    assert rotate_signing(runner).exit_code == 0
    refused = rotate_signing(runner, "--grace-hours", "0")
    assert refused.exit_code == 1
    assert "is announced to sign from" in refused.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ServerKey).where(
            ServerKey.purpose == KeyPurpose.SIGNING)) == 2
