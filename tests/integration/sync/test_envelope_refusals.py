"""Push envelopes as other platforms write them: ids in either case, and every formatting
slip refused with its own code and message, nothing stored, never as a forgery."""

from __future__ import annotations

import base64
import gzip
import json
import uuid
from typing import Any

import pytest
from flask import Flask

from schemas.envelope_fields import ALPHABET_MESSAGE, PADDED_MESSAGE, UUID_MESSAGE
from server.models import AuditEvent, VitalSign
from sync import envelope
from sync.batches import SyncBatch
from sync.ledger import InboxEntry
from tests.assertions import count_rows, error_of
from tests.integration.sync.device import TestDevice

PUSH = "/api/v1/sync/push"


def _hr(device: TestDevice, visit_id: Any) -> dict[str, Any]:
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 72, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def _body(device: TestDevice, agency: Any, pad_to: int = 0) -> dict[str, Any]:
    """A valid push body; ``pad_to`` appends spaces to the plaintext (still JSON) until the
    sealed length is ``pad_to`` modulo 3, so its standard base64 needs padding."""
    plaintext = device.plaintext([_hr(device, agency["visit_a"])])
    while pad_to and (len(plaintext) + 48) % 3 != pad_to:
        plaintext += b" "
    return device.body(plaintext)


def _resigned(device: TestDevice, body: dict[str, Any], device_id: str | None = None,
              batch_id: str | None = None) -> dict[str, Any]:
    """``body`` signed again by ``device`` over the given ids' canonical form."""
    body = {**body, "device_id": device_id or body["device_id"],
            "batch_id": batch_id or body["batch_id"]}
    body["signature"] = envelope.sign_push(device.key, body["device_id"], body["batch_id"],
                                           body["key_id"], body["sealed"])
    return body


def _nothing_stored(app: Flask) -> None:
    """No batch, inbox row or vital sign, and no security event (refused push audit)."""
    assert count_rows(app, SyncBatch) == count_rows(app, InboxEntry) == 0
    assert count_rows(app, VitalSign) == 0
    assert count_rows(app, AuditEvent, AuditEvent.action == "sync.push") == 0


def _refused(app: Flask, response: Any, status: int, code: str) -> dict[str, Any]:
    error = error_of(response, status, code)
    assert "browser" not in error["message"]  # Werkzeug's generic text, not ours
    _nothing_stored(app)
    return error


def _b64u(data: bytes) -> str:
    return envelope.b64u_encode(data)


def _standard(text: str) -> str:
    """The same bytes in the standard alphabet, padded: what Java's default encoder writes."""
    return base64.b64encode(envelope.b64u_decode(text)).decode()


@pytest.mark.parametrize(("field", "value"), [
    ("device_id", "device-000001"), ("batch_id", "batch-000001"),
    ("batch_id", "{0193a3b4-5c6d-7e8f-9a0b-1c2d3e4f5a6b}"),
    ("batch_id", "0193a3b45c6d7e8f9a0b1c2d3e4f5a6b"),
], ids=["device-not-uuid", "batch-not-uuid", "braces", "no-hyphens"])
def test_an_id_that_is_no_uuid_is_a_malformed_envelope(app, enroll, agency, field, value):
    device = enroll("nurse_a")
    body = {**_body(device, agency), field: value}
    response = device.client.post(PUSH, headers=device.headers, json=body)
    error = _refused(app, response, 400, "malformed_envelope")
    assert error["details"] == {field: [UUID_MESSAGE]}


@pytest.mark.parametrize("field", ["sealed", "signature"])
def test_padded_base64_is_refused_with_its_own_code(app, enroll, agency, field):
    device = enroll("nurse_a")
    body = _body(device, agency, pad_to=1)
    padded = base64.urlsafe_b64encode(envelope.b64u_decode(body[field])).decode()
    assert padded.endswith("=") and padded.rstrip("=") == body[field]
    response = device.client.post(PUSH, headers=device.headers, json={**body, field: padded})
    error = _refused(app, response, 400, "base64_padded")
    assert error["details"] == {field: [PADDED_MESSAGE]}
    assert "without padding" in error["message"]


def test_the_standard_alphabet_is_refused_as_not_base64url(app, enroll, agency):
    device = enroll("nurse_a")
    body = _body(device, agency)
    while not {"-", "_"} & set(body["sealed"]):  # sealing is random: one in a thousand
        body = _body(device, agency)
    sealed = _standard(body["sealed"])
    response = device.client.post(PUSH, headers=device.headers, json={**body, "sealed": sealed})
    error = _refused(app, response, 400, "base64_invalid")
    assert error["details"] == {"sealed": [ALPHABET_MESSAGE]}


@pytest.mark.parametrize(("field", "size", "message"), [
    ("signature", 63, "Must be 64 bytes (86 base64url characters); this is 63."),
    ("signature", 65, "Must be 64 bytes (86 base64url characters); this is 65."),
    ("sealed", 47, "Too short: at least 48 bytes (64 base64url characters); this is 47."),
])
def test_a_value_of_the_wrong_length_is_a_malformed_envelope(app, enroll, agency, field, size,
                                                             message):
    device = enroll("nurse_a")
    body = {**_body(device, agency), field: _b64u(bytes(size))}
    response = device.client.post(PUSH, headers=device.headers, json=body)
    assert _refused(app, response, 400, "malformed_envelope")["details"] == {field: [message]}


def test_unknown_and_missing_fields_are_named(app, enroll, agency):
    device = enroll("nurse_a")
    body = {**_body(device, agency), "compression": "zlib"}
    del body["key_id"]
    response = device.client.post(PUSH, headers=device.headers, json=body)
    error = _refused(app, response, 400, "malformed_envelope")
    assert error["details"] == {"compression": ["Unknown field."],
                                "key_id": ["Missing data for required field."]}
    assert error["message"] == ("The push body is not a well-formed envelope; details names "
                                "each field.")


def test_a_malformed_id_beside_padding_is_a_malformed_envelope(app, enroll, agency):
    device = enroll("nurse_a")
    body = _body(device, agency)
    body = {**body, "batch_id": "batch-000001", "signature": body["signature"] + "=="}
    error = _refused(app, device.client.post(PUSH, headers=device.headers, json=body), 400,
                     "malformed_envelope")
    assert error["details"] == {"batch_id": [UUID_MESSAGE], "signature": [PADDED_MESSAGE]}


def test_a_body_that_is_not_json_is_malformed_json(app, enroll, agency):
    device = enroll("nurse_a")
    data = gzip.compress(json.dumps(_body(device, agency)).encode())
    response = device.client.post(PUSH, data=data, headers={
        **device.headers, "Content-Type": "application/json"})
    error = _refused(app, response, 400, "malformed_json")
    assert error["message"] == "The request body is not valid JSON."


def test_a_compressed_body_is_refused_by_name(app, enroll, agency):
    device = enroll("nurse_a")
    data = gzip.compress(json.dumps(_body(device, agency)).encode())
    response = device.client.post(PUSH, data=data, headers={
        **device.headers, "Content-Type": "application/json", "Content-Encoding": "gzip"})
    error = _refused(app, response, 415, "unsupported_content_encoding")
    assert "uncompressed" in error["message"]
    assert error["details"] == {"content_encoding": "gzip"}


def test_uppercase_ids_signed_in_their_canonical_form_are_accepted(app, enroll, agency):
    device = enroll("nurse_a")
    batch_id = str(uuid.uuid4())
    body = _body(device, agency)
    upper = _resigned(device, device.body(device.plaintext([_hr(device, agency["visit_a"])]),
                                          batch_id=batch_id),
                      device_id=device.device_id.upper(), batch_id=batch_id.upper())
    response = device.client.post(PUSH, headers=device.headers, json=upper)
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["batch_id"] == batch_id  # answered in the canonical form
    assert response.get_json()["results"][0]["status"] == "applied"
    assert count_rows(app, SyncBatch, SyncBatch.batch_id == uuid.UUID(batch_id)) == 1
    assert count_rows(app, VitalSign) == 1
    lower = device.client.post(PUSH, headers=device.headers, json=body)  # a v1 device's body
    assert lower.status_code == 200 and count_rows(app, VitalSign) == 2


def test_the_same_batch_in_the_other_case_is_the_same_batch(app, enroll, agency):
    device = enroll("nurse_a")
    body = _body(device, agency)
    first = device.client.post(PUSH, headers=device.headers, json=body)
    upper = _resigned(device, body, device.device_id.upper(), body["batch_id"].upper())
    again = device.client.post(PUSH, headers=device.headers, json=upper)
    assert first.status_code == again.status_code == 200
    assert again.get_json() == first.get_json()
    assert count_rows(app, VitalSign) == count_rows(app, SyncBatch) == 1


def test_ids_signed_as_sent_in_upper_case_are_a_slip_not_a_forgery(app, enroll, agency):
    device = enroll("nurse_a")
    body = _body(device, agency)
    device_id, batch_id = device.device_id.upper(), body["batch_id"].upper()
    as_sent = "\n".join(["infusync/push/v1", device_id, batch_id, body["key_id"],
                         body["sealed"]]).encode()
    swift = {**body, "device_id": device_id, "batch_id": batch_id,
             "signature": _b64u(device.key.sign(as_sent))}
    response = device.client.post(PUSH, headers=device.headers, json=swift)
    error = _refused(app, response, 422, "identifiers_not_canonical")
    assert "lowercase" in error["message"]


def test_a_batch_sealed_to_ids_as_sent_in_upper_case_is_a_slip_too(app, enroll, agency):
    device = enroll("nurse_a")
    device_id, batch_id = device.device_id.upper(), str(uuid.uuid4()).upper()
    hpke = next(k for k in device.enrollment["server"]["hpke_keys"] if k["current"])
    info = b"\x00".join([b"infusync/push/v1", device_id.encode(), batch_id.encode()])
    sealed = envelope.seal_with_info(device.plaintext([_hr(device, agency["visit_a"])]),
                                     envelope.x25519_public_key_from_b64u(hpke["public_key"]),
                                     info)
    body = _resigned(device, {"protocol": 1, "key_id": hpke["key_id"], "sealed": sealed},
                     device_id, batch_id)
    response = device.client.post(PUSH, headers=device.headers, json=body)
    error = _refused(app, response, 422, "identifiers_not_canonical")
    assert "sealed with device_id and batch_id as sent" in error["message"]


def test_a_forged_signature_is_still_a_security_event(app, enroll, agency):
    device, thief = enroll("nurse_a"), enroll("nurse_b")
    body = _body(device, agency)
    forged = _resigned(thief, body, body["device_id"].upper(), body["batch_id"].upper())
    response = device.client.post(PUSH, headers=device.headers, json=forged)
    error_of(response, 422, "bad_signature")
    assert count_rows(app, AuditEvent, AuditEvent.action == "sync.push",
                      AuditEvent.outcome == "refused") == 1


def test_a_revoked_device_naming_another_device_is_told_to_wipe(app, client, as_user, enroll,
                                                                agency):
    device, other = enroll("nurse_a"), enroll("nurse_b")
    assert client.post(f"/api/v1/devices/{device.device_id}/revoke",
                       headers=as_user("coordinator")).status_code == 200
    body = {**_body(device, agency), "device_id": other.device_id}
    response = device.client.post(PUSH, headers=device.headers, json=body)
    assert error_of(response, 403, "device_revoked")["details"] == {
        "command": {"type": "wipe"}}
    assert count_rows(app, SyncBatch) == count_rows(app, VitalSign) == 0


def test_an_active_device_naming_another_device_is_a_mismatch(app, enroll, agency):
    device, other = enroll("nurse_a"), enroll("nurse_b")
    body = _resigned(device, _body(device, agency), device_id=other.device_id.upper())
    response = device.client.post(PUSH, headers=device.headers, json=body)
    _refused(app, response, 401, "device_mismatch")


@pytest.mark.parametrize(("query", "field"), [
    ({"limit": 0}, "limit"), ({"limit": 2001}, "limit"), ({"cursor": "a" * 2001}, "cursor"),
    ({"limt": 10}, "limt"),
])
def test_pull_query_out_of_range_is_a_documented_422(enroll, query, field):
    device = enroll("nurse_a")
    response = device.client.get("/api/v1/sync/pull", headers=device.headers,
                                 query_string=query)
    error = error_of(response, 422, "validation_failed")
    assert error["message"] == "Some fields are invalid; see details."
    assert list(error["details"]["query"]) == [field], error
