"""A lost enrollment answer: the same request again is answered again, for a short while.

The device keeps its keys until an answer arrives, so its retry is the same request. The
server recognises it (code used moments ago, same public keys, device never used since),
answers with the same device and a new token, and records no second device.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from server.models import AuditEvent, Device
from server.services.enrollment_retry import RETRY_WINDOW
from tests.assertions import error_of
from tests.conftest import FakeClock
from tests.integration.sync.device import TestDevice
from tests.integration.sync.test_enrollment import code_for, count


@pytest.fixture
def first(client: FlaskClient, as_user: Any, agency: Any) -> tuple[TestDevice, str]:
    """A device enrolled with a code whose answer it then "lost"."""
    code = code_for(client, as_user, agency)
    device = TestDevice(client, sealed=True)
    assert device.enroll(code).status_code == 201
    return device, code


def test_the_same_request_again_gets_the_same_device_and_a_working_token(
        client: FlaskClient, app: Flask, first: tuple[TestDevice, str]) -> None:
    device, code = first
    lost = device.enrollment
    again = device.enroll(code)
    assert again.status_code == 201, again.get_json()
    assert again.get_json()["device_id"] == lost["device_id"]
    assert again.get_json()["token"] != lost["token"]
    assert count(app, Device) == 1
    assert device.pull().status_code == 200  # the new token works
    stale = client.get("/api/v1/sync/pull", headers={"Authorization": f"Bearer {lost['token']}"})
    error_of(stale, 401)
    assert count(app, AuditEvent, AuditEvent.action == "enroll_retry",
                 AuditEvent.entity_id == uuid.UUID(lost["device_id"])) == 1


def test_other_keys_with_a_used_code_are_refused(
        client: FlaskClient, app: Flask, first: tuple[TestDevice, str]) -> None:
    _, code = first
    error_of(TestDevice(client, sealed=True).enroll(code), 401, "invalid_enrollment_code")
    assert count(app, Device) == 1


def test_no_retry_once_the_device_has_used_its_token(
        client: FlaskClient, app: Flask, first: tuple[TestDevice, str]) -> None:
    device, code = first
    assert device.pull().status_code == 200
    error_of(device.enroll(code), 401, "invalid_enrollment_code")


def test_no_retry_after_the_window(client: FlaskClient, app: Flask, clock: FakeClock,
                                   first: tuple[TestDevice, str]) -> None:
    device, code = first
    clock.advance(seconds=RETRY_WINDOW.total_seconds() + 1)
    error_of(device.enroll(code), 401, "invalid_enrollment_code")
    assert count(app, Device) == 1


def test_no_retry_for_a_revoked_device(client: FlaskClient, app: Flask, as_user: Any,
                                       first: tuple[TestDevice, str]) -> None:
    device, code = first
    revoked = client.post(f"/api/v1/devices/{device.device_id}/revoke",
                          headers=as_user("coordinator"))
    assert revoked.status_code in (200, 204), revoked.get_json()
    error_of(device.enroll(code), 401, "invalid_enrollment_code")
