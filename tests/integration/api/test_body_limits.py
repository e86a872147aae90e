"""Body limits as documented: 2 MiB for the API, 8 MiB for a device's push."""

from __future__ import annotations

from tests.assertions import error_of

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
