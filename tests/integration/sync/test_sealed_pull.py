"""Protocol v1.1: a device that enrolled an X25519 key gets its pulls sealed to it.

What a TLS-terminating proxy sees is the point: the raw bytes on the wire must not hold
the patient's name for a v1.1 device (and still do for a v1 device, which keeps working as
before), the device verifies the signature over those sealed bytes before opening them, and
a sealed body only opens for the device and cursor it was made for.
"""

import gzip
import json
from dataclasses import dataclass, field

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from server.models import Device, Patient
from sync import envelope, sealed_pull


def _signing_key(device):
    return envelope.ed25519_public_key_from_b64u(
        device.enrollment["server"]["signing_key"]["public_key"])


def _enroll_body(client, as_user, agency, **keys):
    code = client.post(f"/api/v1/users/{agency['nurse_a']}/enrollment-codes",
                       headers=as_user("coordinator")).get_json()["code"]
    signing = envelope.ed25519_public_key_to_b64u(
        envelope.ed25519_private_key_from_b64u(envelope.b64u_encode(bytes(32))).public_key())
    return {"code": code, "name": "Tablet", "platform": "android", "app_version": "1.1.0",
            "signing_key": signing, **keys}


def test_a_v1_1_pull_carries_no_patient_name_on_the_wire(enroll, agency, row):
    last_name = row(Patient, agency["patient_a"]).last_name.encode()
    sealed, plain = enroll("nurse_a", sealed=True), enroll("nurse_a")
    sealed_response, plain_response = sealed.pull(), plain.pull()
    assert last_name in plain_response.data  # a v1 device: exactly as before
    assert last_name not in sealed_response.data
    assert json.loads(sealed_response.data).keys() == {"protocol", "sealed"}
    page = sealed.opened(sealed_response)
    patient = next(c for c in page["changes"] if c["type"] == "patient")
    assert patient["data"]["last_name"] == last_name.decode()


def test_the_sealed_body_opens_to_the_same_json_a_v1_device_gets(enroll, agency):
    sealed, plain = enroll("nurse_a", sealed=True), enroll("nurse_a")
    response = sealed.pull()
    opened = sealed_pull.open_pull(response.data, sealed.hpke, sealed.device_id, "")
    # Same nurse, same frozen clock: the v1 body and the v1.1 plaintext are the same bytes.
    assert opened == plain.pull().data
    cursor = json.loads(opened)["cursor"]
    assert sealed.opened(sealed.pull(cursor), cursor) == plain.pull(cursor).get_json()


def test_the_signature_covers_the_sealed_bytes_and_one_changed_byte_fails(enroll):
    device = enroll("nurse_a", sealed=True)
    response = device.pull()  # verifies the signature over the sealed body
    _, sig = envelope.parse_pull_signature_header(response.headers["Infusync-Signature"])
    body = bytearray(response.data)
    index = body.index(b'"sealed":"') + len(b'"sealed":"') + 20
    body[index] = ord("A") if body[index] != ord("A") else ord("B")
    with pytest.raises(envelope.BadSignature):
        envelope.verify_pull(_signing_key(device), bytes(body), sig)


def test_a_gzipped_sealed_pull_is_signed_over_the_decoded_sealed_body(client, enroll):
    device = enroll("nurse_a", sealed=True)
    response = client.get("/api/v1/sync/pull", headers={**device.headers,
                                                         "Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.headers["Content-Type"] == "application/json"
    body = gzip.decompress(response.data)
    _, sig = envelope.parse_pull_signature_header(response.headers["Infusync-Signature"])
    envelope.verify_pull(_signing_key(device), body, sig)
    assert json.loads(sealed_pull.open_pull(body, device.hpke, device.device_id, ""))["snapshot"]


def test_a_body_sealed_for_another_device_or_cursor_does_not_open(enroll):
    device, other = enroll("nurse_a", sealed=True), enroll("nurse_a", sealed=True)
    first = device.pull()
    cursor = device.opened(first)["cursor"]
    later = device.pull(cursor)
    with pytest.raises(envelope.EnvelopeDoesNotOpen):  # replayed as the answer to another cursor
        sealed_pull.open_pull(later.data, device.hpke, device.device_id, "")
    with pytest.raises(envelope.EnvelopeDoesNotOpen):
        sealed_pull.open_pull(first.data, device.hpke, device.device_id, cursor)
    with pytest.raises(envelope.EnvelopeDoesNotOpen):  # the right key, another device's name
        sealed_pull.open_pull(first.data, device.hpke, other.device_id, "")
    with pytest.raises(envelope.EnvelopeDoesNotOpen):  # another device's key
        sealed_pull.open_pull(first.data, other.hpke, device.device_id, "")


def test_a_v1_device_pulls_plain_pages_through_the_whole_feed(enroll, agency):
    held, _ = enroll("nurse_a").pull_all()
    assert ("patient", str(agency["patient_a"])) in held
    held_sealed, _ = enroll("nurse_a", sealed=True).pull_all()
    assert held_sealed == held


def test_the_enrolled_key_is_stored_and_shown_to_staff_as_the_protocol(
        client, enroll, as_user, row):
    v11, v1 = enroll("nurse_a", sealed=True), enroll("nurse_a")
    stored = row(Device, v11.device_id)
    assert stored.hpke_public_key == envelope.x25519_public_key_to_b64u(v11.hpke.public_key())
    assert row(Device, v1.device_id).hpke_public_key is None
    listed = client.get("/api/v1/devices", headers=as_user("coordinator")).get_json()
    protocols = {d["id"]: d["pull_protocol"] for d in listed}
    assert protocols[v11.device_id] == "1.1" and protocols[v1.device_id] == "1"


@pytest.mark.parametrize("hpke_key", [
    "not a key",
    "A" * 42 + "B",  # 43 characters whose unused trailing bits are not zero
    envelope.b64u_encode(bytes(32)),  # low-order point: nothing could be sealed to it
    envelope.b64u_encode(bytes([1]) + bytes(31)),  # another low-order point
], ids=["garbage", "non-canonical", "all-zero", "order-4"])
def test_a_malformed_hpke_key_is_refused_and_the_code_stays_usable(
        client, as_user, agency, hpke_key):
    body = _enroll_body(client, as_user, agency, hpke_key=hpke_key)
    response = client.post("/api/v1/devices/enroll", json=body)
    assert response.status_code == 422, response.get_json()
    assert "hpke_key" in response.get_json()["error"]["details"]
    body["hpke_key"] = envelope.x25519_public_key_to_b64u(X25519PrivateKey.generate().public_key())
    assert client.post("/api/v1/devices/enroll", json=body).status_code == 201


def test_the_reference_client_pulls_sealed_from_the_real_server(
        client, as_user, agency, row, tmp_path):
    from offline_store.api import decoded_body
    from offline_store.client import SyncClient
    from offline_store.store import Store
    from tests.integration.sync.flask_transport import FlaskTransport

    @dataclass
    class Recorder:
        inner: FlaskTransport
        bodies: list = field(default_factory=list)

        def request(self, method, url, headers, body):
            response = self.inner.request(method, url, headers, body)
            self.bodies.append(decoded_body(response))  # gzip would hide the name anyway
            return response

    code = client.post(f"/api/v1/users/{agency['nurse_a']}/enrollment-codes",
                       headers=as_user("coordinator")).get_json()["code"]
    store = Store.create(tmp_path / "device.sqlite3", "135790", scrypt_n=2**10)
    wire = Recorder(FlaskTransport(client))
    try:
        device = SyncClient(store, wire, app_version="1.1.0")
        identity = device.enroll("http://localhost", code, "Ann's tablet")
        assert row(Device, identity.device_id).hpke_public_key is not None
        device.pull()
        last_name = row(Patient, agency["patient_a"]).last_name
        pulls = [json.loads(body) for body in wire.bodies[1:]]
        assert pulls and all(page["protocol"] == "1.1" for page in pulls)
        assert all(last_name.encode() not in body for body in wire.bodies[1:])
        assert store.get("patient", str(agency["patient_a"])).data["last_name"] == last_name
    finally:
        store.close()
