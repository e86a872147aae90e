"""Pushing: enrolment, sealing and signing, and every push error the protocol defines."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from offline_store.client import SyncClient, check_server_url
from offline_store.errors import (
    AlreadyEnrolled,
    BatchTooLarge,
    DeviceWiped,
    EnrollmentRefused,
    InsecureServerUrl,
    PushRefused,
    Unauthorized,
)
from offline_store.identity import HpkeKey, load_identity
from offline_store.outbox import Outbox
from offline_store.store import Store
from tests.offline_store.conftest import SERVER_URL, DeviceClock
from tests.offline_store.fake_server import FakeServer, error_response


def _add(store: Store, device_clock: DeviceClock, n: int) -> list[str]:
    outbox = Outbox(store)
    return [outbox.add("vitals.record", f"e{i}", {"value": i}, occurred_at=device_clock()).id
            for i in range(n)]


def test_enrolment_stores_the_identity_and_sends_only_the_public_key(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    identity = load_identity(store)
    (device,) = server.devices.values()
    assert identity.device_id == device.device_id == store.get_meta("device_id")
    assert device.signing_key == json.loads(server.requests[0][2] or b"")["signing_key"]
    assert identity.current_hpke_key().key_id == "hpke-1"
    assert identity.policy.max_batch_mutations == server.max_batch_mutations
    assert store.get_meta("server_url") == SERVER_URL


def test_enrolling_twice_is_refused(device: SyncClient, server: FakeServer) -> None:
    with pytest.raises(AlreadyEnrolled):
        device.enroll(SERVER_URL, server.issue_code(), "again")


def test_an_unknown_code_is_refused_and_nothing_is_stored(
        store: Store, server: FakeServer) -> None:
    with pytest.raises(EnrollmentRefused, match="unknown_code"):
        SyncClient(store, server).enroll(SERVER_URL, "nope", "tablet")
    assert store.get_meta("device_id") is None


def test_plain_http_is_refused_except_to_loopback() -> None:
    with pytest.raises(InsecureServerUrl):
        check_server_url("http://infusync.agency.example")
    assert check_server_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    assert check_server_url("http://lan-host", allow_http=True) == "http://lan-host"


def test_the_key_marked_current_is_used_else_the_last_listed(
        device: SyncClient, store: Store) -> None:
    identity = load_identity(store)
    key = identity.hpke_keys[0]
    marked = (HpkeKey("a", key.public_key, True), HpkeKey("b", key.public_key, False))
    unmarked = (HpkeKey("a", key.public_key, False), HpkeKey("b", key.public_key, False))
    assert replace(identity, hpke_keys=marked).current_hpke_key().key_id == "a"
    assert replace(identity, hpke_keys=unmarked).current_hpke_key().key_id == "b"


def test_push_sends_everything_in_batches_of_the_policy_size(
        store: Store, device_clock: DeviceClock) -> None:
    server = FakeServer(max_batch_mutations=2)
    device = SyncClient(store, server, clock=device_clock, app_version="9.9.9")
    device.enroll(SERVER_URL, server.issue_code(), "tablet")
    ids = _add(store, device_clock, 5)
    report = device.push()
    assert report.batches == 3
    assert list(server.applied) == ids


def test_ids_kept_in_upper_case_are_signed_lowercase_and_answers_compared_by_value(
        store: Store, device_clock: DeviceClock) -> None:
    server = FakeServer(answer_ids_upper=True)  # its checks use the id it issued (lowercase)
    device = SyncClient(store, server, clock=device_clock, app_version="9.9.9")
    device.enroll(SERVER_URL, server.issue_code(), "tablet")
    store.set_meta("device_id", load_identity(store).device_id.upper())  # as Swift keeps it
    ids = _add(store, device_clock, 2)
    report = SyncClient(store, server, clock=device_clock, app_version="9.9.9").push()
    assert report.count("applied") == 2 and list(server.applied) == ids
    sent = json.loads(next(body for _, path, body in server.requests
                           if path.endswith("/push")) or b"")
    assert sent["device_id"].isupper()


def test_real_push_bodies_stay_under_the_body_limit(
        store: Store, device_clock: DeviceClock) -> None:
    server = FakeServer(max_body_bytes=6000)
    device = SyncClient(store, server, clock=device_clock, app_version="9.9.9")
    device.enroll(SERVER_URL, server.issue_code(), "tablet")
    for i in range(6):
        Outbox(store).add("note.record", f"n{i}", {"text": "é" * 600}, occurred_at=device_clock())
    report = device.push()
    assert report.batches > 1 and report.count("applied") == 6
    assert all(len(body or b"") <= 6000 for _, path, body in server.requests
               if path.endswith("/push"))


def test_unknown_key_updates_the_keys_and_resends_the_same_batch(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 1)
    new_id = server.rotate_hpke_key(drop_old=True)
    report = device.push()
    assert report.count("applied") == 1
    assert load_identity(store).current_hpke_key().key_id == new_id
    assert store.get_meta("hpke_key_id") == new_id


def test_a_413_splits_the_batch(device: SyncClient, store: Store, server: FakeServer,
                                device_clock: DeviceClock) -> None:
    ids = _add(store, device_clock, 4)
    server.max_batch_mutations = 2  # policy said 50; the server now accepts 2
    report = device.push()
    assert report.count("applied") == 4 and list(server.applied) == ids
    assert report.batches == 2


def test_a_single_mutation_too_large_is_kept_and_reported(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 1)
    server.fail_next("/push", error_response(413, "too_large"))
    with pytest.raises(BatchTooLarge):
        device.push()
    assert Outbox(store).pending_count() == 1


def test_a_422_keeps_the_batch_for_the_next_attempt(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 1)
    batch = Outbox(store).next_batch(max_mutations=9, max_body_bytes=10**6,
                                     app_version="9.9.9", now=device_clock())
    server.fail_next("/push", error_response(422, "envelope_does_not_open"))
    with pytest.raises(PushRefused, match="envelope_does_not_open"):
        device.push()
    assert Outbox(store).open_batch() == batch
    device.push()
    assert batch is not None and server.pushed == [(batch.id, batch.plaintext)]


def test_an_unknown_token_says_to_enrol_again(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 1)
    server.devices.clear()
    with pytest.raises(Unauthorized):
        device.push()
    assert Outbox(store).pending_count() == 1


def test_a_revoked_device_wipes_its_store(
        device: SyncClient, store_path: Path, store: Store, server: FakeServer,
        device_clock: DeviceClock) -> None:
    _add(store, device_clock, 1)
    next(iter(server.devices.values())).revoked = True
    with pytest.raises(DeviceWiped):
        device.push()
    assert not store_path.exists()


def test_a_server_that_reads_zlib_gets_the_batch_compressed(
        store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    server.push_encodings = ("zlib",)
    client = SyncClient(store, server, clock=device_clock, app_version="9.9.9")
    client.enroll(SERVER_URL, server.issue_code(), "tablet")
    ids = _add(store, device_clock, 3)
    assert client.push().count("applied") == 3
    (sent,) = [json.loads(body or b"") for _, path, body in server.requests
               if path.endswith("/sync/push")]
    assert sent["encoding"] == "zlib"
    (_, plaintext), = server.pushed
    assert [m["id"] for m in json.loads(plaintext)["mutations"]] == ids


def test_a_v1_server_gets_the_batch_as_plain_json(
        device: SyncClient, store: Store, server: FakeServer,
        device_clock: DeviceClock) -> None:
    _add(store, device_clock, 2)
    assert device.push().count("applied") == 2
    (sent,) = [json.loads(body or b"") for _, path, body in server.requests
               if path.endswith("/sync/push")]
    assert "encoding" not in sent
