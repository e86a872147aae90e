"""What the server acknowledged is kept 14 days and sent again when a restored server shows
it lost it (``offline_store.sent``): a push answering ``missing_seqs``, a pull answering
``feed_behind_cursor``, or ``infusync-device resend``."""

from __future__ import annotations

from offline_store.client import SyncClient
from offline_store.outbox import Outbox
from offline_store.store import Store
from tests.offline_store.conftest import DeviceClock
from tests.offline_store.fake_server import FakeServer


def _add(store: Store, device_clock: DeviceClock, n: int) -> list[str]:
    outbox = Outbox(store)
    return [outbox.add("vitals.record", f"e{i}", {"value": i}, occurred_at=device_clock(),
                       visit_id="v1").id for i in range(n)]


def _restore(server: FakeServer, kept: list[str]) -> None:
    """The server comes back from a backup holding only ``kept``."""
    server.applied = {i: m for i, m in server.applied.items() if i in kept}


def test_a_push_answered_missing_seqs_sends_the_acknowledged_again(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock):
    first = _add(store, device_clock, 3)
    device.push()
    _restore(server, first[:1])
    server.missing_seqs = 2
    later = _add(store, device_clock, 1)
    report = device.push()
    assert report.resent == 3  # ``later`` was just answered: not sent twice
    assert set(server.applied) == set(first + later)
    statuses = {result.id: result.status for result in report.results}
    assert statuses[first[0]] == "duplicate" and statuses[first[1]] == "applied"
    assert Outbox(store).pending_count() == 0


def test_a_pull_behind_the_cursor_sends_the_acknowledged_again(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock):
    sent = _add(store, device_clock, 2)
    device.sync()
    _restore(server, [])
    server.behind_cursors.add(store.get_value("sync_state", "cursor"))
    device.sync()
    assert set(server.applied) == set(sent)
    assert Outbox(store).pending_count() == 0


def test_what_was_acknowledged_more_than_14_days_ago_is_forgotten(
        device: SyncClient, store: Store, server: FakeServer, device_clock: DeviceClock):
    old = _add(store, device_clock, 2)
    device.push()
    device_clock.advance(days=15)
    recent = _add(store, device_clock, 1)
    device.push()
    _restore(server, [])
    server.missing_seqs = 3
    report = device.push()  # nothing pending: no push, so no resend
    assert report.resent == 0
    again = _add(store, device_clock, 1)
    server.missing_seqs = 4
    report = device.push()
    assert report.resent == 1  # ``recent``: ``again`` was just answered, ``old`` forgotten
    assert set(server.applied) == set(recent + again) and not set(old) & set(server.applied)
