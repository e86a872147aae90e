"""Protocol v1.1 on the device: an X25519 key at enrolment, sealed pulls, no downgrade.

The reference client enrolls an X25519 key, keeps its private half sealed in the store like
the signing key, opens each pull only after verifying its signature, and refuses a signed
body that is not sealed to it for the cursor it sent: a plain one (downgrade) or one sealed
for another cursor or device (replay). A store enrolled by a v1 client keeps pulling plain.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from offline_store.client import SyncClient
from offline_store.errors import ProtocolViolation, PullNotSealed
from offline_store.identity import load_identity
from offline_store.store import Store
from offline_store.transport import Response
from sync import envelope
from tests.offline_store.conftest import PIN
from tests.offline_store.fake_server import Device, FakeServer
from tests.offline_store.test_pull import PATIENT, page, upsert


@dataclass
class Recorder:
    """Passes requests to the fake server and keeps every response as it crossed the wire."""

    inner: FakeServer
    responses: list[Response] = field(default_factory=list)

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        response = self.inner.request(method, url, headers, body)
        self.responses.append(response)
        return response


def _enrolled(server: FakeServer) -> Device:
    (device,) = server.devices.values()
    return device


def test_enrolment_sends_an_x25519_key_and_keeps_its_private_half_sealed(
        device: SyncClient, store: Store, store_path: Path, server: FakeServer) -> None:
    identity = load_identity(store)
    assert identity.hpke_key is not None
    public = envelope.x25519_public_key_to_b64u(identity.hpke_key.public_key())
    assert _enrolled(server).hpke_key == public
    private = envelope.x25519_private_key_to_b64u(identity.hpke_key).encode()
    store.close()
    assert private not in store_path.read_bytes()
    reopened = Store.open(store_path, PIN)
    try:
        again = load_identity(reopened).hpke_key
        assert again is not None
        assert envelope.x25519_private_key_to_b64u(again).encode() == private
    finally:
        reopened.close()


def test_a_sealed_pull_carries_no_name_on_the_wire_and_is_applied(
        store: Store, server: FakeServer) -> None:
    recorder = Recorder(server)
    client = SyncClient(store, recorder, app_version="9.9.9")
    client.enroll("https://infusync.test", server.issue_code(), "tablet")
    server.pages[None] = page([upsert("patient", "p1", **PATIENT)], "c1", snapshot=True)
    client.pull()
    wire = recorder.responses[-1].body
    assert b"Lovelace" not in wire and json.loads(wire)["protocol"] == "1.1"
    patient = store.get("patient", "p1")
    assert patient is not None and patient.data["last_name"] == "Lovelace"


def test_a_plain_page_signed_by_the_server_is_refused_once_enrolled_with_a_key(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    server.seal_pulls = False  # a downgrade: signed, but readable by any proxy on the way
    server.pages[None] = page([upsert("patient", "p1", **PATIENT)], "c1", snapshot=True)
    with pytest.raises(PullNotSealed):
        device.pull()
    assert store.all("patient") == []
    assert store.get_value("sync_state", "cursor") is None


def test_a_page_sealed_for_another_cursor_is_refused(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    # A proxy replays the (signed, sealed) answer to cursor c1 as the answer to a first pull.
    plaintext = json.dumps(page([upsert("visit", "v9")], "c2")).encode()
    server.fail_next("/pull", server.signed(server.sealed(plaintext, _enrolled(server), "c1")))
    with pytest.raises(PullNotSealed):
        device.pull()
    assert store.all("visit") == []


def test_a_page_sealed_for_another_device_is_refused(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    other = Device("6f1c2b1e-8a4b-4c1e-9d7a-0c5b8f1e2a33", "unused",
                   envelope.x25519_public_key_to_b64u(X25519PrivateKey.generate().public_key()))
    plaintext = json.dumps(page([upsert("visit", "v9")], "c1")).encode()
    server.fail_next("/pull", server.signed(server.sealed(plaintext, other, "")))
    with pytest.raises(PullNotSealed):
        device.pull()
    assert store.all("visit") == []


def test_a_store_enrolled_by_a_v1_client_keeps_pulling_plain_pages(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    store.set_value("secrets", "device_hpke_key", None)  # as a v1 client left it
    _enrolled(server).hpke_key = None
    assert load_identity(store).hpke_key is None
    server.pages[None] = page([upsert("patient", "p1", **PATIENT)], "c1", snapshot=True)
    device.pull()
    assert [record.id for record in store.all("patient")] == ["p1"]


def test_a_v1_store_cannot_read_a_sealed_page(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    store.set_value("secrets", "device_hpke_key", None)
    server.pages[None] = page([upsert("patient", "p1", **PATIENT)], "c1", snapshot=True)
    with pytest.raises(ProtocolViolation):
        device.pull()
    assert store.all("patient") == []
