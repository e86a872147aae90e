"""The outbox: durable first, strictly ordered, each batch resent byte-identical until answered."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline_store.client import SyncClient
from offline_store.documentation import check_in, check_out
from offline_store.errors import TransportError
from offline_store.outbox import Batch, Outbox
from offline_store.retry import RetryPolicy
from offline_store.store import Store
from tests.offline_store.conftest import PIN, DeviceClock
from tests.offline_store.fake_server import FakeServer, FaultyTransport, error_response

# A review item id as the server makes them (a UUID).
ITEM = "0193a3b4-0000-7000-8000-0000000000a1"


def _next_batch(store: Store, device_clock: DeviceClock, max_mutations: int = 50,
                max_body_bytes: int = 1_000_000) -> Batch:
    batch = Outbox(store).next_batch(max_mutations=max_mutations, app_version="9.9.9",
                                     max_body_bytes=max_body_bytes, now=device_clock())
    assert batch is not None
    return batch


def _add(store: Store, device_clock: DeviceClock, n: int = 1) -> list[str]:
    outbox = Outbox(store)
    return [outbox.add("vitals.record", f"e{i}", {"value": i}, occurred_at=device_clock(),
                       visit_id="v1").id for i in range(n)]


def test_seq_is_strictly_increasing_and_survives_reopen(
        store: Store, store_path: Path, device_clock: DeviceClock) -> None:
    outbox = Outbox(store)
    first = outbox.add("visit.check_in", "v1", {}, occurred_at=device_clock(), visit_id="v1")
    second = outbox.add("visit.check_out", "v1", {}, occurred_at=device_clock(), visit_id="v1")
    store.close()
    with Store.open(store_path, PIN) as reopened:
        third = Outbox(reopened).add("vitals.record", "e1", {}, occurred_at=device_clock())
        assert [m.seq for m in Outbox(reopened).pending()] == [1, 2, 3]
    assert (first.seq, second.seq, third.seq) == (1, 2, 3)


def test_seq_never_goes_back_after_the_outbox_empties(
        device: SyncClient, store: Store, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 2)
    device.push()
    assert Outbox(store).pending_count() == 0
    later = Outbox(store).add("vitals.record", "e9", {}, occurred_at=device_clock())
    assert later.seq == 3


def test_a_mutation_has_the_wire_shape(store: Store, device_clock: DeviceClock) -> None:
    mutation = Outbox(store).add("visit.check_in", "v1", {"at": "x"}, occurred_at=device_clock(),
                                 visit_id="v1", base_version=4)
    wire = mutation.to_wire()
    assert list(wire) == ["id", "seq", "type", "entity_id", "visit_id", "base_version",
                          "occurred_at", "data"]
    assert wire["occurred_at"] == "2026-11-23T08:00:00-05:00"
    assert wire["base_version"] == 4


def test_a_batch_plaintext_is_compact_json_with_a_utc_device_clock(
        store: Store, device_clock: DeviceClock) -> None:
    ids = _add(store, device_clock, 2)
    batch = _next_batch(store, device_clock)
    assert b", " not in batch.plaintext and b": " not in batch.plaintext
    body = json.loads(batch.plaintext)
    assert body["schema_version"] == 1
    assert body["device_clock"] == "2026-11-23T13:00:00.000Z"
    assert body["app_version"] == "9.9.9"
    assert [m["id"] for m in body["mutations"]] == ids == list(batch.mutation_ids)


def test_an_open_batch_is_returned_again_not_reformed(
        store: Store, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 2)
    first = _next_batch(store, device_clock)
    _add(store, device_clock, 1)
    device_clock.advance(minutes=5)
    assert _next_batch(store, device_clock) == first


def test_batches_respect_the_mutation_limit(store: Store, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 5)
    assert len(_next_batch(store, device_clock, max_mutations=2).mutation_ids) == 2


def test_batches_respect_the_body_size_limit(store: Store, device_clock: DeviceClock) -> None:
    outbox = Outbox(store)
    for i in range(4):
        outbox.add("note.record", f"n{i}", {"text": "x" * 1000}, occurred_at=device_clock())
    assert len(_next_batch(store, device_clock, max_body_bytes=4600).mutation_ids) == 2


def test_a_lost_response_is_asked_for_by_batch_id_not_uploaded_again(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    ids = _add(store, device_clock, 3)
    device.transport = FaultyTransport(server, ["lose_response"])
    with pytest.raises(TransportError):
        device.push()
    assert Outbox(store).pending_count() == 3  # nothing leaves without its result
    device_clock.advance(minutes=10)
    report = device.push()
    (batch_id, _), = server.pushed  # uploaded once
    assert server.requests[-1][:2] == ("GET", f"/api/v1/sync/push/{batch_id}")
    assert report.asked == 1 and report.batches == 1
    assert [r.status for r in report.results] == ["applied"] * 3
    assert list(server.applied) == ids
    assert Outbox(store).pending_count() == 0


def test_a_lost_response_from_a_server_without_the_route_resends_the_same_batch(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 3)
    server.answers_outcomes = False  # its 404 comes unsigned, from the router
    device.transport = FaultyTransport(server, ["lose_response"])
    with pytest.raises(TransportError):
        device.push()
    report = device.push()
    (first_id, first_text), (second_id, second_text) = server.pushed
    assert first_id == second_id and first_text == second_text
    assert report.asked == 0
    assert [r.status for r in report.results] == ["applied"] * 3
    assert Outbox(store).pending_count() == 0


def test_a_batch_still_being_applied_is_asked_for_again_after_a_backoff(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 2)
    device.transport = FaultyTransport(server, ["lose_response"])
    with pytest.raises(TransportError):
        device.push()
    server.fail_next("/sync/push/" + server.pushed[0][0],
                     error_response(409, "batch_in_progress"))
    sleeps: list[float] = []
    device.retry = RetryPolicy(attempts=3, sleep=sleeps.append, random=lambda: 0.5)
    report = device.sync()
    assert sleeps == [1.0]  # asked, told to wait, asked again
    asks = [path for method, path, _ in server.requests if "/sync/push/" in path]
    assert len(asks) == 2 and len(server.pushed) == 1
    assert report.push.count("applied") == 2


def test_a_lost_request_is_resent_as_the_same_batch(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 1)
    device.transport = FaultyTransport(server, ["lose_request"])
    with pytest.raises(TransportError):
        device.push()
    batch = Outbox(store).open_batch()
    assert batch is not None
    device.push()
    assert server.pushed == [(batch.id, batch.plaintext)]


def test_a_request_delivered_twice_is_applied_once(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    _add(store, device_clock, 2)
    device.transport = FaultyTransport(server, ["deliver_twice"])
    report = device.push()
    assert [r.status for r in report.results] == ["applied", "applied"]
    assert len(server.pushed) == 2 and len(server.applied) == 2


def test_a_crash_after_the_batch_is_persisted_loses_nothing(
        device: SyncClient, store: Store, store_path: Path, server: FakeServer,
        device_clock: DeviceClock) -> None:
    ids = _add(store, device_clock, 2)
    persisted = _next_batch(store, device_clock)
    store.close()  # the process dies before anything is sent
    with Store.open(store_path, PIN) as reopened:
        assert Outbox(reopened).open_batch() == persisted
        SyncClient(reopened, server, clock=device_clock, app_version="9.9.9").push()
        assert Outbox(reopened).pending_count() == 0
    assert server.pushed == [(persisted.id, persisted.plaintext)]
    assert list(server.applied) == ids


def test_mutations_without_a_result_stay_and_go_in_a_later_batch(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    ids = _add(store, device_clock, 2)
    batch = _next_batch(store, device_clock)
    Outbox(store).record_response(batch, [{"id": ids[0], "status": "applied"}], device_clock())
    assert [m.id for m in Outbox(store).pending()] == [ids[1]]
    assert Outbox(store).open_batch() is None
    device.push()
    assert Outbox(store).pending_count() == 0


def test_rejected_and_conflicting_results_are_kept_with_their_errors(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    server.verdicts["vitals.record"] = {
        "status": "rejected", "errors": {"data.value": ["Heart rate must be 20-300."]}}
    server.verdicts["visit.check_in"] = {"status": "conflict", "version": 2, "visit_version": 2,
                                         "review_item_id": ITEM}
    _add(store, device_clock, 1)
    Outbox(store).add("visit.check_in", "v1", {}, occurred_at=device_clock(), visit_id="v1")
    device.push()
    problems = Outbox(store).results(("conflict", "rejected"))
    assert [(p.type, p.status) for p in problems] == [
        ("vitals.record", "rejected"), ("visit.check_in", "conflict")]
    assert problems[0].errors == {"data.value": ["Heart rate must be 20-300."]}
    assert problems[1].review_item_id == ITEM
    assert Outbox(store).pending_count() == 0


def test_a_duplicate_of_a_rejected_mutation_still_needs_attention(
        store: Store, device_clock: DeviceClock) -> None:
    applied, repeated = _add(store, device_clock, 2)
    batch = _next_batch(store, device_clock)
    Outbox(store).record_response(batch, [
        {"id": applied, "status": "duplicate", "outcome": "applied"},
        {"id": repeated, "status": "duplicate", "outcome": "rejected",
         "errors": {"value": ["too high"]}}], device_clock())
    (problem,) = Outbox(store).problems()
    assert (problem.id, problem.outcome, problem.errors) == (
        repeated, "rejected", {"value": ["too high"]})


def test_an_applied_result_moves_the_visit_to_the_version_the_server_reports(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    """Her next edit of the visit is based on the version her check-in made (v1.1's
    ``visit_version``); a conflict leaves the visit as she last pulled it."""
    store.put("visit", "v1", {"status": "scheduled"}, version=4, synced=True)
    store.put("visit", "v2", {"status": "scheduled"}, version=4, synced=True)
    server.verdicts["visit.check_out"] = {"status": "conflict", "version": 9,
                                          "visit_version": 9, "review_item_id": ITEM}
    check_in(store, "v1", device_clock())
    check_out(store, "v2", device_clock())
    device.push()
    assert [getattr(store.get("visit", v), "version", None) for v in ("v1", "v2")] == [5, 4]
    assert [r.visit_version for r in Outbox(store).results()] == [5, 9]
    assert check_out(store, "v1", device_clock()).base_version == 5
