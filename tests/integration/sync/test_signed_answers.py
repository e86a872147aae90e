"""Protocol v1.1 signs every answer a device acts on, errors and the wipe included.

The server signs each answer of /sync/* over the device its token belongs to, the request's
``Infusync-Nonce``, the status and the body. The reference client obeys a wipe only when
that signature holds for its own id and the nonce it just sent: an unsigned wipe, or a
signed one recorded for another device or an earlier request, is not obeyed and the nurse
is told so in plain words.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from offline_store.errors import DeviceWiped, StoreNotFound, UnverifiedResponse, UnverifiedWipe
from offline_store.outbox import Outbox
from offline_store.store import Store
from offline_store.transport import Response
from server.models import Device, DeviceStatus
from sync import envelope, response_signature
from tests.assertions import error_of
from tests.integration.sync.reference_device import PIN, enroll_reference_device
from tests.sync.make_vectors_v1_1 import WIPE_BODY

OCCURRED_AT = datetime(2026, 11, 23, 9, 5, tzinfo=timezone(timedelta(hours=-5)))
NONCE = "Zmlyc3QtcmVxdWVzdC1vZi10aGUtdGVzdA"
LATER = "c2Vjb25kLXJlcXVlc3Qtb2YtdGhlLXRlc3Q"
URL = "/api/v1/devices"


def signed_headers(device: Any, nonce: str = NONCE) -> dict[str, str]:
    return {**device.headers, "Infusync-Nonce": nonce}


def check_signed(response: Any, enrollment: dict[str, Any], device_id: str,
                 nonce: str) -> None:
    """Assert the answer is signed by the enrolled key for ``device_id`` and ``nonce``."""
    key_id, sig = envelope.parse_pull_signature_header(response.headers["Infusync-Signature"])
    signing = enrollment["server"]["signing_key"]
    assert key_id == signing["key_id"]
    response_signature.verify_response(
        envelope.ed25519_public_key_from_b64u(signing["public_key"]), sig, device_id, nonce,
        response.status_code, response.data)


def fails_for(response: Any, enrollment: dict[str, Any], device_id: str, nonce: str) -> bool:
    try:
        check_signed(response, enrollment, device_id, nonce)
    except envelope.BadSignature:
        return True
    return False


def revoke(client: Any, as_user: Any, device_id: str) -> None:
    response = client.post(f"{URL}/{device_id}/revoke", headers=as_user("coordinator"))
    assert response.status_code == 200, response.get_json()


def test_the_wipe_is_signed_for_the_revoked_device_and_this_request_only(
        client, as_user, enroll):
    device, other = enroll("nurse_a"), enroll("nurse_a")
    revoke(client, as_user, device.device_id)
    for response in (
            client.get("/api/v1/sync/pull", headers=signed_headers(device)),
            client.post("/api/v1/sync/push", headers=signed_headers(device),
                        json=device.body(device.plaintext([])))):
        error = error_of(response, 403, "device_revoked")
        assert error["details"] == {"command": {"type": "wipe"}}
        assert response.data.decode() == WIPE_BODY  # the vectors' wipe, byte for byte
        check_signed(response, device.enrollment, device.device_id, NONCE)
        # Replayed to another device, or to the same device's next request: it fails.
        assert fails_for(response, device.enrollment, other.device_id, NONCE)
        assert fails_for(response, device.enrollment, device.device_id, LATER)


@pytest.mark.parametrize(("status", "code", "act"), [
    (403, "device_retired", "retire"),
    (401, "unauthorized", None),
    (400, "invalid_cursor", None),
])
def test_pull_errors_are_signed(client, as_user, enroll, status, code, act):
    device = enroll("nurse_a")
    headers, device_id = signed_headers(device), device.device_id
    if act:
        client.post(f"{URL}/{device.device_id}/{act}", headers=as_user("coordinator"))
    if status == 401:  # a token nobody holds names no device: signed for none
        headers, device_id = {"Authorization": "Bearer not-a-token",
                              "Infusync-Nonce": NONCE}, ""
    response = client.get("/api/v1/sync/pull", headers=headers,
                          query_string={"cursor": "bm90LWEtY3Vyc29y" if status == 400 else ""})
    error_of(response, status, code)
    check_signed(response, device.enrollment, device_id, NONCE)


def test_push_answers_are_signed_the_results_and_the_refusals(client, enroll, agency):
    device = enroll("nurse_a")
    mutation = device.mutation("visit.check_in", agency["visit_a"], {
        "at": "2026-11-23T09:05:00-05:00",
        "location": {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 8}})
    applied = client.post("/api/v1/sync/push", headers=signed_headers(device),
                          json=device.body(device.plaintext([mutation])))
    assert [r["status"] for r in applied.get_json()["results"]] == ["applied"]
    check_signed(applied, device.enrollment, device.device_id, NONCE)

    forged = {**device.body(device.plaintext([])), "signature": envelope.b64u_encode(bytes(64))}
    refused = client.post("/api/v1/sync/push", headers=signed_headers(device, LATER),
                          json=forged)
    error_of(refused, 422, "bad_signature")
    check_signed(refused, device.enrollment, device.device_id, LATER)


def test_the_keys_are_signed_for_the_request(client, enroll):
    device = enroll("nurse_a")
    response = client.get("/api/v1/sync/keys", headers=signed_headers(device))
    assert response.status_code == 200, response.get_json()
    check_signed(response, device.enrollment, device.device_id, NONCE)
    keys = response.get_json()
    assert keys["signing_key"] == device.enrollment["server"]["signing_key"]
    assert [k["key_id"] for k in keys["hpke_keys"]] == [
        k["key_id"] for k in device.enrollment["server"]["hpke_keys"]]
    assert [(k["key_id"], k["endorsed_by"]) for k in keys["signing_keys"]] == [
        ("signing-initial", None)]


def test_a_malformed_nonce_is_refused_before_any_work(client, enroll, row):
    device = enroll("nurse_a")
    response = client.get("/api/v1/sync/pull", headers=signed_headers(device, "too short"))
    error = error_of(response, 400, "bad_request")
    assert "Infusync-Nonce" in error["details"]
    check_signed(response, device.enrollment, device.device_id, "")
    assert row(Device, uuid.UUID(device.device_id)).last_pull_at is None


# The reference client, against the real app.


def test_a_signed_wipe_destroys_the_store(client, as_user, agency, tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    Outbox(phone.store).add("visit.note", str(agency["visit_a"]), {"text": "x"},
                            occurred_at=OCCURRED_AT)
    revoke(client, as_user, phone.device_id)
    with pytest.raises(DeviceWiped):
        phone.sync.sync()
    with pytest.raises(StoreNotFound):
        Store.open(phone.path, PIN)


def _strip_signature(_path: str, response: Response) -> Response:
    headers = {k: v for k, v in response.headers.items() if k != "Infusync-Signature"}
    return replace(response, headers=headers)


def test_an_unsigned_wipe_is_not_obeyed_and_the_nurse_is_told(client, as_user, agency,
                                                             tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    Outbox(phone.store).add("visit.note", str(agency["visit_a"]), {"text": "x"},
                            occurred_at=OCCURRED_AT)
    revoke(client, as_user, phone.device_id)
    phone.wire.rewrite = _strip_signature
    with pytest.raises(UnverifiedWipe) as refused:
        phone.sync.push()
    assert "nothing was wiped" in str(refused.value)
    assert "Tell your coordinator" in str(refused.value)
    assert Outbox(phone.store).pending_count() == 1  # the store is whole, her note kept


def test_a_recorded_signed_wipe_is_not_obeyed_by_another_device(
        client, as_user, agency, tmp_path):
    stolen = enroll_reference_device(client, as_user, agency, tmp_path)
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    revoke(client, as_user, stolen.device_id)
    recorded: list[Response] = []

    def record(_path: str, response: Response) -> Response:
        recorded.append(response)
        return response

    stolen.wire.rewrite = record
    with pytest.raises(DeviceWiped):
        stolen.sync.pull()
    assert recorded[-1].status == 403  # the server did answer with a signed wipe

    # Someone on the path replays it as the answer to another device's pull.
    phone.wire.rewrite = lambda _path, _response: recorded[-1]
    with pytest.raises(UnverifiedWipe):
        phone.sync.pull()
    assert Store.open(phone.path, PIN).get_meta("device_id") == phone.device_id


def test_an_answer_recorded_for_an_earlier_request_is_not_acted_on(client, as_user, agency,
                                                                  tmp_path):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    Outbox(phone.store).add("visit.note", str(agency["visit_a"]), {"text": "x"},
                            occurred_at=OCCURRED_AT)
    phone.sync.push()
    (earlier,) = [e.response for e in phone.wire.to("/sync/push")]
    Outbox(phone.store).add("visit.note", str(agency["visit_a"]), {"text": "y"},
                            occurred_at=OCCURRED_AT)
    phone.wire.rewrite = lambda _path, _response: earlier  # the old "200" for the new batch
    with pytest.raises(UnverifiedResponse, match="could not be verified"):
        phone.sync.push()
    assert Outbox(phone.store).pending_count() == 1


def test_the_server_marks_the_wipe_delivered_even_when_the_device_refuses_a_forged_one(
        client, as_user, agency, tmp_path, row):
    phone = enroll_reference_device(client, as_user, agency, tmp_path)
    revoke(client, as_user, phone.device_id)
    phone.wire.rewrite = _strip_signature
    with pytest.raises(UnverifiedWipe):
        phone.sync.pull()
    stored = row(Device, uuid.UUID(phone.device_id))
    assert stored.status is DeviceStatus.REVOKED and stored.wipe_delivered_at is not None
