"""Body limits as documented: 2 MiB for the API, 8 MiB for a device's push."""

from __future__ import annotations

import io
import json

from server.models import Patient
from tests.assertions import count_rows, error_of

MIB = 1024 * 1024


def test_an_api_body_over_two_mib_is_refused(client, as_user, agency):
    body = {"mrn": "MRN-BIG", "first_name": "x" * (3 * MIB)}
    response = client.post("/api/v1/patients", headers=as_user("coordinator"), json=body)
    error_of(response, 413, "body_too_large")


def test_a_push_of_3_7_mb_is_read_and_one_over_8_mib_is_not(client, enroll):
    device = enroll("nurse_a")
    read = client.post("/api/v1/sync/push", headers=device.headers,
                       json={"protocol": 1, "padding": "x" * 3_700_000})
    assert error_of(read, 400)["code"] != "body_too_large"
    refused = client.post("/api/v1/sync/push", headers=device.headers,
                          json={"protocol": 1, "padding": "x" * (8 * MIB + 1)})
    error_of(refused, 413, "body_too_large")


def chunked(client, path, headers, data, **kwargs):
    """POST ``data`` without Content-Length, as gunicorn hands a chunked body to the app
    (``wsgi.input_terminated``: the server ends the stream)."""
    return client.post(path, input_stream=io.BytesIO(data), environ_overrides={
        "wsgi.input_terminated": True}, headers={**headers, "Transfer-Encoding": "chunked",
                                                 "Content-Type": "application/json"}, **kwargs)


def test_a_chunked_body_over_the_limit_is_413_not_malformed_json(client, as_user, agency, app):
    headers = as_user("coordinator")
    body = json.dumps({"mrn": "MRN-BIG", "first_name": "x" * (3 * MIB)}).encode()
    error_of(chunked(client, "/api/v1/patients", headers, body), 413, "body_too_large")
    assert count_rows(app, Patient) == 2


def test_a_chunked_body_of_exactly_the_limit_is_read(client, as_user, agency, app):
    body = json.dumps({"mrn": "MRN-CHUNK", "first_name": "A", "last_name": "B",
                       "birth_date": "1950-12-10", "locations": [
                           {"kind": "home", "address": "1 Main St", "latitude": 1.5,
                            "longitude": 2.5}]}).encode()
    headers = as_user("coordinator")
    app.config["MAX_CONTENT_LENGTH"] = len(body)
    created = chunked(client, "/api/v1/patients", headers, body)
    assert created.status_code == 201, created.get_json()
    app.config["MAX_CONTENT_LENGTH"] = len(body) - 1
    error_of(chunked(client, "/api/v1/patients", headers, body), 413, "body_too_large")
    assert count_rows(app, Patient) == 3


def test_a_chunked_push_over_8_mib_is_413(client, enroll):
    device = enroll("nurse_a")
    body = json.dumps({"protocol": 1, "padding": "x" * (8 * MIB + 1)}).encode()
    error_of(chunked(client, "/api/v1/sync/push", device.headers, body), 413, "body_too_large")


class CountingStream(io.BytesIO):
    """A request body that counts the bytes the server reads of it."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        count = super().readinto(buffer)
        self.bytes_read += count
        return count


def test_a_huge_push_with_a_bad_token_is_401_without_reading_the_body(client, enroll):
    device = enroll("nurse_a")
    body = json.dumps({"protocol": 1, "padding": "x" * (7 * MIB)}).encode()
    for token in ("bogus", device.headers["Authorization"].split()[1] + "x"):
        stream = CountingStream(body)
        response = client.post("/api/v1/sync/push", input_stream=stream,
                               content_length=len(body), content_type="application/json",
                               headers={"Authorization": f"Bearer {token}"})
        error_of(response, 401, "unauthorized")
        assert stream.bytes_read == 0
    no_token = client.post("/api/v1/sync/push", data=body, content_type="application/json")
    error_of(no_token, 401, "unauthorized")
