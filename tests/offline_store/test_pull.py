"""Pulling: only pages the server signed are applied, each atomically with its cursor."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from offline_store.client import SyncClient
from offline_store.errors import BadPullSignature, DeviceWiped, TransportError
from offline_store.outbox import Outbox
from offline_store.store import Store
from offline_store.transport import Response
from tests.offline_store.conftest import DeviceClock
from tests.offline_store.fake_server import FakeServer, FaultyTransport, error_response

PATIENT = {"first_name": "Ada", "last_name": "Lovelace", "mrn": "M-1"}


def upsert(kind: str, record_id: str, version: int = 1, **data: Any) -> dict[str, Any]:
    return {"type": kind, "id": record_id, "op": "upsert", "version": version, "data": data}


def remove(kind: str, record_id: str) -> dict[str, Any]:
    return {"type": kind, "id": record_id, "op": "remove", "version": None, "data": None}


def page(changes: list[dict[str, Any]], cursor: str, *, has_more: bool = False,
         snapshot: bool = False) -> dict[str, Any]:
    return {"changes": changes, "cursor": cursor, "has_more": has_more, "snapshot": snapshot}


def ids(store: Store, kind: str) -> list[str]:
    return [record.id for record in store.all(kind)]


def test_upserts_are_stored_with_their_version(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    server.pages[None] = page([upsert("patient", "p1", 3, **PATIENT),
                               upsert("visit", "v1", 7, patient_id="p1")], "c1", snapshot=True)
    report = device.pull()
    visit = store.get("visit", "v1")
    assert visit is not None and visit.version == 7 and visit.synced
    assert visit.data == {"patient_id": "p1"}
    assert report.upserts == 2 and store.get_value("sync_state", "cursor") == "c1"


def _tampered(server: FakeServer, body: bytes) -> Response:
    signed = server.signed(body)
    return Response(200, body.replace(b"Ada", b"Eve"), signed.headers)


def test_a_tampered_body_is_refused_whole(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    body = json.dumps(page([upsert("visit", "v1", patient_id="p1"),
                            upsert("patient", "p1", **PATIENT)], "c1")).encode()
    server.fail_next("/pull", _tampered(server, body))
    with pytest.raises(BadPullSignature):
        device.pull()
    assert store.all("visit") == [] and store.all("patient") == []
    assert store.get_value("sync_state", "cursor") is None


@pytest.mark.parametrize("headers", [
    {},
    {"Infusync-Signature": "key_id=sig-1"},
    {"Infusync-Signature": "key_id=other-key, sig=AAAA"},
])
def test_a_missing_malformed_or_foreign_signature_is_refused(
        device: SyncClient, store: Store, server: FakeServer, headers: dict[str, str]) -> None:
    body = json.dumps(page([upsert("visit", "v1")], "c1")).encode()
    server.fail_next("/pull", Response(200, body, headers))
    with pytest.raises(BadPullSignature):
        device.pull()
    assert store.all("visit") == []


def test_a_signature_by_another_key_under_the_right_id_is_refused(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    impostor = FakeServer(signing_key=Ed25519PrivateKey.generate())
    body = json.dumps(page([upsert("visit", "v1")], "c1")).encode()
    server.fail_next("/pull", impostor.signed(body))
    with pytest.raises(BadPullSignature):
        device.pull()
    assert store.all("visit") == []


def test_gzip_pages_are_verified_over_the_decoded_bytes(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    server.gzip_pulls = True
    server.pages[None] = page([upsert("visit", "v1")], "c1")
    device.pull()
    assert ids(store, "visit") == ["v1"]
    assert any(path.endswith("/pull") for _, path, _ in server.requests)


def test_removing_a_patient_purges_its_locations_orders_and_pumps(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    server.pages[None] = page([
        upsert("patient", "p1", **PATIENT), upsert("patient", "p2", **PATIENT),
        upsert("service_location", "l1", patient_id="p1"),
        upsert("service_location", "l2", patient_id="p2"),
        upsert("service_location", "l3"),  # names no patient; p1's visit names it
        upsert("order", "o1", patient_id="p1"), upsert("pump", "u1", patient_id="p1"),
        upsert("pump", "u2", patient_id=None), upsert("visit", "v1", patient_id="p2"),
        upsert("visit", "v3", patient_id="p1", service_location_id="l3"),
    ], "c1", has_more=True)
    server.pages["c1"] = page([remove("patient", "p1"), remove("visit", "v1")], "c2")
    report = device.pull()
    assert ids(store, "patient") == ["p2"]
    assert ids(store, "service_location") == ["l2"]
    assert ids(store, "order") == [] and ids(store, "pump") == ["u2"]
    assert ids(store, "visit") == ["v3"]  # visits are removed by their own changes
    assert report.pages == 2 and report.removals == 6


def test_each_page_commits_with_its_cursor_and_a_lost_page_is_pulled_again(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    server.pages[None] = page([upsert("visit", "v1")], "c1", has_more=True)
    server.pages["c1"] = page([upsert("visit", "v2")], "c2")
    device.transport = FaultyTransport(server, ["ok", "lose_response"])
    with pytest.raises(TransportError):
        device.pull()
    assert ids(store, "visit") == ["v1"] and store.get_value("sync_state", "cursor") == "c1"
    device.pull()
    assert ids(store, "visit") == ["v1", "v2"]
    assert server.pulled_cursors == [None, "c1", "c1"]


def test_a_snapshot_purges_synced_records_it_did_not_contain(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    store.put("visit", "stale", {}, version=1, synced=True)
    store.put("pump", "stale-pump", {}, version=1, synced=True)
    store.put("vitals", "local-note", {"value": 1})  # documented here, never synced
    server.pages[None] = page([upsert("visit", "v1")], "s1", has_more=True, snapshot=True)
    server.pages["s1"] = page([upsert("visit", "v2")], "s2", snapshot=True)
    report = device.pull()
    assert ids(store, "visit") == ["v1", "v2"]
    assert ids(store, "pump") == [] and ids(store, "vitals") == ["local-note"]
    assert report.snapshot and report.purged == 2


def test_a_snapshot_interrupted_midway_still_purges_correctly(
        device: SyncClient, store: Store, store_path: Path, server: FakeServer,
        device_clock: DeviceClock) -> None:
    store.put("visit", "stale", {}, version=1, synced=True)
    server.pages[None] = page([upsert("visit", "v1")], "s1", has_more=True, snapshot=True)
    server.pages["s1"] = page([upsert("visit", "v2")], "s2", snapshot=True)
    device.transport = FaultyTransport(server, ["ok", "lose_request"])
    with pytest.raises(TransportError):
        device.pull()
    assert ids(store, "visit") == ["stale", "v1"]  # nothing purged before the snapshot ends
    device.transport = server
    device.pull()
    assert ids(store, "visit") == ["v1", "v2"]


def test_a_wipe_command_wipes_the_device_and_applies_nothing(
        device: SyncClient, store_path: Path, server: FakeServer) -> None:
    server.pages[None] = page([upsert("visit", "v1"),
                               upsert("device_command", "cmd-1", type="wipe")], "c1")
    with pytest.raises(DeviceWiped):
        device.pull()
    assert not store_path.exists()


def test_an_expired_cursor_pushes_first_then_restarts_from_a_snapshot(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    store.set_value("sync_state", "cursor", "old")
    store.put("visit", "gone", {}, version=1, synced=True)
    Outbox(store).add("vitals.record", "e1", {}, occurred_at=device_clock())
    server.expired_cursors.add("old")
    server.pages[None] = page([upsert("visit", "v1")], "c1", snapshot=True)
    device.pull()
    paths = [path.rsplit("/", 1)[-1] for _, path, _ in server.requests[1:]]
    assert paths == ["pull", "push", "pull"]
    assert ids(store, "visit") == ["v1"] and Outbox(store).pending_count() == 0


def test_an_invalid_cursor_also_restarts_from_a_snapshot(
        device: SyncClient, store: Store, server: FakeServer) -> None:
    store.set_value("sync_state", "cursor", "another-nurses")
    server.fail_next("/pull", error_response(400, "invalid_cursor"))
    server.pages[None] = page([upsert("visit", "v1")], "c1", snapshot=True)
    report = device.pull()
    assert report.snapshot and ids(store, "visit") == ["v1"]
    assert server.pulled_cursors == [None]


def test_a_retired_device_stops_pulling_but_still_pushes(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    next(iter(server.devices.values())).retired = True
    Outbox(store).add("vitals.record", "e1", {}, occurred_at=device_clock())
    report = device.sync()
    assert report.pull.retired and report.push.count("applied") == 1
    assert store.get_value("sync_state", "retired") is True


def test_sync_learns_the_keys_pushes_then_pulls_and_records_the_time(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    Outbox(store).add("vitals.record", "e1", {}, occurred_at=device_clock())
    server.pages[None] = page([upsert("visit", "v1")], "c1", snapshot=True)
    report = device.sync()
    paths = [path.rsplit("/", 1)[-1] for _, path, _ in server.requests[1:]]
    assert paths == ["keys", "push", "pull"]
    assert report.synced_at == "2026-11-23T13:00:00.000Z"
    assert store.get_value("sync_state", "last_sync_at") == report.synced_at
