"""Enrollment codes cannot be guessed without limit: failed codes are throttled per address."""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from flask.testing import FlaskClient

from server.models import EnrollmentFailure
from sync import envelope
from tests.assertions import count_rows, error_of
from tests.integration.sync.test_enrollment import code_for, enroll_body

ENROLL_URL = "/api/v1/devices/enroll"
GUESSER = "192.0.2.44"
OFFICE = "198.51.100.7"


def signing_key() -> str:
    """A fresh device's public signing key, as enrollment takes it."""
    raw = Ed25519PrivateKey.generate().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return envelope.b64u_encode(raw)


def enroll(client: FlaskClient, code: str, addr: str) -> Any:
    """Enroll a new device with ``code`` from ``addr``."""
    return client.post(ENROLL_URL, json=enroll_body(code, signing_key()),
                       environ_base={"REMOTE_ADDR": addr})


def guess(client: FlaskClient, addr: str, times: int) -> None:
    """``times`` wrong codes, each refused as an unknown code."""
    for number in range(times):
        error_of(enroll(client, f"AAAA-BBBB-{number:04d}", addr), 401, "invalid_enrollment_code")


def test_twenty_wrong_codes_hold_that_address_even_with_a_right_code(client, as_user, agency):
    code = code_for(client, as_user, agency)
    guess(client, GUESSER, 20)

    response = enroll(client, code, GUESSER)

    error = error_of(response, 429, "too_many_requests")
    assert error["details"]["retry_after_s"] == 15 * 60
    assert response.headers["Retry-After"] == "900"
    assert enroll(client, code, OFFICE).status_code == 201


def test_the_wait_is_the_time_left_and_then_codes_work_again(client, as_user, agency, clock):
    guess(client, GUESSER, 20)
    clock.advance(minutes=6)
    code = code_for(client, as_user, agency)

    response = enroll(client, code, GUESSER)
    assert response.headers["Retry-After"] == str(9 * 60)

    clock.advance(minutes=9)
    assert enroll(client, code, GUESSER).status_code == 201


def test_refused_attempts_are_not_counted_and_old_ones_are_dropped(app, client, agency, clock):
    guess(client, GUESSER, 20)
    error_of(enroll(client, "AAAA-BBBB-CCCC", GUESSER), 429)
    assert count_rows(app, EnrollmentFailure) == 20

    clock.advance(minutes=16)
    guess(client, GUESSER, 1)

    assert count_rows(app, EnrollmentFailure) == 1
