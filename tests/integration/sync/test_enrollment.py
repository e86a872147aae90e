"""Enrollment codes and device enrollment: who may issue a code, and what a code buys."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import AuditEvent, Base, Device, EnrollmentCode
from sync import envelope
from tests.assertions import error_of
from tests.integration.sync.device import TestDevice

ENROLL_URL = "/api/v1/devices/enroll"
CODE_FORMAT = re.compile(r"[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}-[A-HJKMNP-Z2-9]{4}")
SUITE = "DHKEM(X25519, HKDF-SHA256)/HKDF-SHA256/AES-256-GCM"




def issue(client: FlaskClient, as_user: Any, user_id: Any, who: str = "coordinator") -> Any:
    """Ask for an enrollment code for ``user_id`` as ``who``."""
    return client.post(f"/api/v1/users/{user_id}/enrollment-codes", headers=as_user(who))


def code_for(client: FlaskClient, as_user: Any, agency: Any, nurse: str = "nurse_a") -> str:
    """A fresh code for ``nurse``, issued by the coordinator."""
    response = issue(client, as_user, agency[nurse])
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["code"])


def enroll_body(code: str, signing_key: str) -> dict[str, str]:
    """An enrollment request with ``signing_key`` as given."""
    return {"code": code, "name": "Ann's phone", "platform": "android", "app_version": "1.0.0",
            "signing_key": signing_key}


def count(app: Flask, model: Any, *where: Any) -> int:
    """How many ``model`` rows match ``where``."""
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


@pytest.mark.parametrize("who", ["coordinator", "admin"])
def test_staff_writer_gets_a_readable_code_valid_fifteen_minutes(client, as_user, agency, clock,
                                                                 who):
    response = issue(client, as_user, agency["nurse_a"], who)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"code", "expires_at"}
    assert CODE_FORMAT.fullmatch(body["code"]), body["code"]
    assert datetime.fromisoformat(body["expires_at"]) == clock() + timedelta(minutes=15)


def test_two_codes_for_the_same_nurse_differ(client, as_user, agency):
    assert code_for(client, as_user, agency) != code_for(client, as_user, agency)


@pytest.mark.parametrize("who", ["nurse_a", "qc", "physician_a", "training_lead"])
def test_other_roles_may_not_issue_codes(client, as_user, agency, app, who):
    error_of(issue(client, as_user, agency["nurse_a"], who), 403, "forbidden")
    assert count(app, EnrollmentCode) == 0


@pytest.mark.parametrize("target", ["coordinator", "admin", "qc", "physician_a", "training_lead"])
def test_a_code_is_only_for_a_nurse(client, as_user, agency, app, target):
    error = error_of(issue(client, as_user, agency[target]), 422, "validation_failed")
    assert "user_id" in error["details"]
    assert count(app, EnrollmentCode) == 0


def test_a_code_for_an_unknown_user_is_refused(client, as_user, agency, app):
    error = error_of(issue(client, as_user, uuid.uuid4()), 422, "validation_failed")
    assert "user_id" in error["details"]
    assert count(app, EnrollmentCode) == 0


def test_enrollment_returns_identity_keys_and_policy(client, as_user, agency, app):
    device = TestDevice(client)
    response = device.enroll(code_for(client, as_user, agency))
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert set(body) == {"device_id", "token", "server", "policy"}
    hpke_keys = body["server"]["hpke_keys"]
    assert [k["current"] for k in hpke_keys] == [True]
    assert hpke_keys[0]["suite"] == SUITE
    assert len(envelope.b64u_decode(hpke_keys[0]["public_key"])) == 32
    signing = body["server"]["signing_key"]
    assert signing["key_id"] and len(envelope.b64u_decode(signing["public_key"])) == 32
    assert body["policy"] == {"max_offline_hours": 168,
                              "max_batch_mutations": app.config["SYNC_MAX_BATCH_MUTATIONS"],
                              "max_body_bytes": app.config["SYNC_MAX_BODY_BYTES"]}
    with app.app_context():
        stored = db.session.get(Device, uuid.UUID(body["device_id"]))
        assert stored.user_id == agency["nurse_a"]
        assert (stored.name, stored.platform, stored.status.value) == (
            "Test phone", "android", "active")


def test_the_token_is_stored_only_as_its_sha256(client, as_user, agency, app):
    code = code_for(client, as_user, agency)
    device = TestDevice(client)
    assert device.enroll(code).status_code == 201
    token = device.enrollment["token"]
    with app.app_context():
        stored = db.session.get(Device, uuid.UUID(device.device_id))
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
        # Neither the token nor the code may appear in clear anywhere in the database.
        for table in Base.metadata.sorted_tables:
            for row in db.session.execute(sa.select(table)):
                text = repr(tuple(row))
                assert token not in text, table.name
                assert code.replace("-", "") not in text, table.name


def test_a_code_is_single_use(client, as_user, agency, app):
    code = code_for(client, as_user, agency)
    assert TestDevice(client).enroll(code).status_code == 201
    error = error_of(TestDevice(client).enroll(code), 401, "invalid_enrollment_code")
    assert "coordinator" in error["message"]
    assert count(app, Device) == 1
    assert count(app, AuditEvent, AuditEvent.action == "enroll", AuditEvent.outcome == "ok") == 1
    assert count(app, AuditEvent, AuditEvent.action == "enroll",
                 AuditEvent.outcome == "refused") == 1


def test_an_expired_code_is_refused(client, as_user, agency, app, clock):
    code = code_for(client, as_user, agency)
    clock.advance(minutes=16)
    error_of(TestDevice(client).enroll(code), 401, "invalid_enrollment_code")
    assert count(app, Device) == 0


def test_a_code_still_works_just_before_it_expires(client, as_user, agency, clock):
    code = code_for(client, as_user, agency)
    clock.advance(minutes=14, seconds=59)
    assert TestDevice(client).enroll(code).status_code == 201


def test_an_unknown_code_is_refused(client, as_user, agency, app):
    code_for(client, as_user, agency)
    error_of(TestDevice(client).enroll("ABCD-EFGH-JKMN"), 401, "invalid_enrollment_code")
    assert count(app, Device) == 0


def test_a_code_typed_in_lowercase_without_dashes_works(client, as_user, agency, app):
    code = code_for(client, as_user, agency)
    response = TestDevice(client).enroll(code.replace("-", "").lower())
    assert response.status_code == 201, response.get_json()
    assert count(app, Device, Device.user_id == agency["nurse_a"]) == 1


def _key_of_length(size: int) -> str:
    return envelope.b64u_encode(bytes(range(1, size + 1)))


@pytest.mark.parametrize("signing_key", [
    _key_of_length(31),  # too short
    _key_of_length(33),  # too long
    _key_of_length(32) + "=",  # padded
    "!" * 43,  # not base64 at all
    "+/" + _key_of_length(32)[2:],  # standard base64, not base64url
    "",
], ids=["31-bytes", "33-bytes", "padded", "garbage", "base64-not-url", "empty"])
def test_a_malformed_signing_key_is_refused_and_the_code_stays_usable(client, as_user, agency,
                                                                      app, signing_key):
    code = code_for(client, as_user, agency)
    response = client.post(ENROLL_URL, json=enroll_body(code, signing_key))
    error = error_of(response, 422, "validation_failed")
    assert "signing_key" in error["details"]
    assert count(app, Device) == 0
    assert TestDevice(client).enroll(code).status_code == 201


def test_a_disabled_nurse_cannot_enroll_with_a_code_issued_earlier(client, as_user, agency, app):
    code = code_for(client, as_user, agency)
    disabled = client.patch(f"/api/v1/users/{agency['nurse_a']}", headers=as_user("admin"),
                            json={"active": False})
    assert disabled.status_code == 200, disabled.get_json()
    error = error_of(TestDevice(client).enroll(code), 403, "forbidden")
    assert "disabled" in error["message"]
    assert count(app, Device) == 0


def test_a_disabled_nurse_gets_no_code(client, as_user, agency, app):
    client.patch(f"/api/v1/users/{agency['nurse_a']}", headers=as_user("admin"),
                 json={"active": False})
    error_of(issue(client, as_user, agency["nurse_a"]), 422, "validation_failed")
    assert count(app, EnrollmentCode) == 0


def test_cli_prints_a_code_that_enrolls_the_nurse(runner, client, agency, app, clock):
    result = runner.invoke(args=["devices", "enrollment-code", "--email", "Ann@Agency.test"])
    assert result.exit_code == 0, result.output
    code = result.stdout.strip()
    assert CODE_FORMAT.fullmatch(code), result.stdout
    assert (clock() + timedelta(minutes=15)).isoformat() in result.stderr
    device = TestDevice(client)
    assert device.enroll(code).status_code == 201
    with app.app_context():
        assert db.session.get(Device, uuid.UUID(device.device_id)).user_id == agency["nurse_a"]


def test_cli_refuses_an_unknown_email(runner, agency, app):
    result = runner.invoke(args=["devices", "enrollment-code", "--email", "nobody@agency.test"])
    assert result.exit_code != 0
    assert "no user with email nobody@agency.test" in result.output
    assert count(app, EnrollmentCode) == 0


def test_cli_refuses_a_user_who_is_not_a_nurse(runner, agency, app):
    result = runner.invoke(args=["devices", "enrollment-code", "--email", "qc@agency.test"])
    assert result.exit_code != 0
    assert "nurse" in result.output
    assert count(app, EnrollmentCode) == 0


def test_issuing_a_code_is_audited_once(client, as_user, agency, app):
    code_for(client, as_user, agency)
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "issue_enrollment_code")).all()
        assert [(e.actor_user_id, e.entity_id, e.outcome) for e in events] == [
            (agency["coordinator"], agency["nurse_a"], "ok")]


def test_enrolling_is_audited_once_as_the_nurse_on_the_new_device(client, as_user, agency, app):
    device = TestDevice(client)
    device.enroll(code_for(client, as_user, agency))
    device_id = uuid.UUID(device.device_id)
    with app.app_context():
        events = db.session.scalars(sa.select(AuditEvent).where(
            AuditEvent.action == "enroll")).all()
        assert [(e.actor_user_id, e.actor_device_id, e.entity_type, e.entity_id)
                for e in events] == [(agency["nurse_a"], device_id, "devices", device_id)]
