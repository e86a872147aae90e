"""Rate limits: per staff token, per device, per address; 429 in the one shape, Retry-After.

The limits are read from the app's configuration at each request, so a test lowers the one
it exercises on the running app (the defaults are far above what any test sends).
"""

from __future__ import annotations

import secrets
import socket
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.conftest import FakeClock, app_on

PATIENTS = "/api/v1/patients"
ELSEWHERE = {"REMOTE_ADDR": "192.0.2.7"}


def assert_throttled(response: Any, limit: str) -> None:
    """A 429 in the one error shape that says the limit and when to come back."""
    assert response.status_code == 429, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "too_many_requests"
    assert error["details"]["limit"] == limit
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= 60
    assert error["details"]["retry_after"] == seconds
    assert f"try again in {seconds} seconds" in error["message"]


def test_a_token_over_its_limit_is_refused_while_another_token_is_not(
        app: Flask, client: FlaskClient, as_user: Any) -> None:
    coordinator, qc = as_user("coordinator"), as_user("qc")
    app.config["RATE_LIMIT_PER_TOKEN"] = "3/minute"
    for _ in range(3):
        assert client.get(PATIENTS, headers=coordinator).status_code == 200
    # Every route shares the token's count: another route is refused too.
    assert_throttled(client.get(PATIENTS, headers=coordinator), "3 per 1 minute")
    assert_throttled(client.get("/api/v1/visits", headers=coordinator), "3 per 1 minute")
    assert client.get(PATIENTS, headers=qc).status_code == 200


def test_a_device_over_its_limit_is_refused_while_its_nurse_is_not(
        app: Flask, client: FlaskClient, enroll: Any, as_user: Any) -> None:
    device = enroll("nurse_a")
    nurse = as_user("nurse_a")
    app.config["RATE_LIMIT_PER_DEVICE"] = "2/minute"
    app.config["RATE_LIMIT_PER_TOKEN"] = "600/minute"
    assert device.pull().status_code == 200
    assert device.push([]).status_code == 200
    assert_throttled(device.pull(), "2 per 1 minute")
    assert client.get(PATIENTS, headers=nurse).status_code == 200


def test_an_address_over_its_unauthenticated_limit_is_refused_while_another_is_not(
        app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_PER_ADDRESS"] = "3/minute"
    for _ in range(3):
        assert client.get(PATIENTS).status_code == 401
    assert_throttled(client.get(PATIENTS), "3 per 1 minute")
    assert_throttled(client.post("/api/v1/auth/login", json={}), "3 per 1 minute")
    assert client.get(PATIENTS, environ_base=ELSEWHERE).status_code == 401


def test_invented_tokens_count_against_the_address(app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_PER_ADDRESS"] = "3/minute"
    for _ in range(3):
        invented = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
        assert client.get(PATIENTS, headers=invented).status_code == 401
    invented = {"Authorization": f"Bearer {secrets.token_urlsafe(32)}"}
    assert_throttled(client.get(PATIENTS, headers=invented), "3 per 1 minute")


def test_authenticated_requests_leave_the_address_its_unauthenticated_budget(
        app: Flask, client: FlaskClient, as_user: Any) -> None:
    """An office behind one address: its staff's work never uses up the address's limit."""
    coordinator = as_user("coordinator")
    app.config["RATE_LIMIT_PER_ADDRESS"] = "3/minute"
    for _ in range(5):
        assert client.get(PATIENTS, headers=coordinator).status_code == 200
    for _ in range(3):
        assert client.get(PATIENTS).status_code == 401
    assert client.get(PATIENTS).status_code == 429


def test_health_probes_are_never_limited(app: Flask, client: FlaskClient) -> None:
    app.config["RATE_LIMIT_PER_ADDRESS"] = "1/minute"
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
    assert client.get(PATIENTS).status_code == 401
    assert client.get(PATIENTS).status_code == 429
    assert client.get("/healthz").status_code == 200


def test_limits_switched_off_count_nothing(database_url: str, tmp_path: Path,
                                           clock: FakeClock) -> None:
    with app_on(database_url, tmp_path, clock, RATE_LIMIT_ENABLED=False,
                RATE_LIMIT_PER_ADDRESS="1/minute") as app:
        client = app.test_client()
        for _ in range(3):
            assert client.get(PATIENTS).status_code == 401


def test_a_storage_that_does_not_answer_never_fails_a_request(
        database_url: str, tmp_path: Path, clock: FakeClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Redis down: the limits are counted in the process's memory until it is back."""
    with app_on(database_url, tmp_path, clock, RATE_LIMIT_PER_ADDRESS="2/minute",
                RATE_LIMIT_STORAGE_URL=f"redis://127.0.0.1:{closed_port()}/0") as app:
        client = app.test_client()
        assert [client.get(PATIENTS).status_code for _ in range(3)] == [401, 401, 429]
    assert "falling back to in-memory storage" in capsys.readouterr().err


def closed_port() -> int:
    """A loopback port nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
