"""A bad network: the reference client and a real server over a slow, lossy, cut link.

The link is ``tests.impaired_link`` (a user-space proxy: this kernel has no netem). What
the nurse documented reaches the record whole and once: 0 lost, 0 applied twice, counted
in the server's own tables (ledger, inbox, vital signs), whatever the link did.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from offline_store.client import SyncClient
from offline_store.documentation import Vitals, record_vitals
from offline_store.errors import TransportError
from offline_store.outbox import Outbox
from offline_store.retry import RetryPolicy, retrying
from offline_store.store import Store
from offline_store.transport import UrllibTransport
from server.models import VisitEvent, VitalSign
from sync.ledger import InboxEntry, LedgerEntry
from tests.e2e.conftest import Server
from tests.e2e.test_device_sync import (
    FAST_SCRYPT_N,
    HOME,
    VITALS,
    _assert_clean_server_logs,
    _cli_code,
    _device,
    _ok,
    _patient,
    _visit,
)
from tests.impaired_link import CutAnswer, LinkProfile, Reset, Stall, impaired_link

pytestmark = pytest.mark.e2e


@pytest.fixture
def served(shared_served: Server) -> Server:
    """A server these tests share (each makes its own staff and patients)."""
    return shared_served


PIN = "246813"
READINGS = 5  # VITALS records five readings
LOCATION = ("--lat", HOME["lat"], "--lon", HOME["lon"], "--accuracy", "10")
# The degraded link: 300 ms each way, 2 % of segments lost.
BAD_256K = LinkProfile.kbit(256, delay_s=0.3, loss=0.02)


def _counts(database_url: str, device_id: str, visit_ids: list[str]) -> dict[str, int]:
    """What the server holds from this device: ledger, inbox, vital signs, visit events."""
    engine = sa.create_engine(database_url)
    device, visits = uuid.UUID(device_id), [uuid.UUID(v) for v in visit_ids]
    try:
        with Session(engine) as session:
            def count(model: type, where: sa.ColumnElement[bool]) -> int:
                stmt = sa.select(sa.func.count()).select_from(model).where(where)
                return int(session.scalar(stmt) or 0)
            return {
                "ledger": count(LedgerEntry, LedgerEntry.device_id == device),
                "inbox": count(InboxEntry, InboxEntry.device_id == device),
                "vitals": count(VitalSign, VitalSign.visit_id.in_(visits)),
                "events": count(VisitEvent, VisitEvent.visit_id.in_(visits)),
            }
    finally:
        engine.dispose()


def _nurse_with_visits(served: Server, hours: list[int]) -> tuple[str, list[dict[str, str]]]:
    """A coordinator's token and visits for nurse Nell at ``hours`` from now."""
    served.create_user(served.email("coord"), "coordinator")
    nurse = served.create_user(served.email("nell"), "nurse")
    coordinator = served.login(served.email("coord"))
    patients = [_patient(served, coordinator, f"NET-{i}", "Pat", f"Linkless{i}")
                for i in range(2)]
    return coordinator, [_visit(served, coordinator, patients[i % 2], nurse, h)
                         for i, h in enumerate(hours)]


def test_three_offline_days_cross_a_slow_lossy_link_that_cuts(
        served: Server, tmp_path: Path) -> None:
    coordinator, visits = _nurse_with_visits(served, [1, 4, 25, 28, 49, 52])
    store = tmp_path / "nell.sqlite3"
    port = int(served.base.rsplit(":", 1)[1])
    with impaired_link(port, BAD_256K) as link:
        out = _ok(store, "enroll", "--server", link.url, "--code",
                  _cli_code(served, served.email("nell")), "--scrypt-n", FAST_SCRYPT_N)
        device_id = re.search(r"enrolled as device (\S+);", out).group(1)
        _ok(store, "sync")

        # Three days offline: each visit checked in, five readings, checked out, signed;
        # the coordinator cancels the last visit meanwhile (its documents are conflicts).
        for visit in visits:
            _ok(store, "check-in", visit["id"], *LOCATION)
            _ok(store, "vitals", visit["id"], *VITALS)
            _ok(store, "check-out", visit["id"], *LOCATION)
            _ok(store, "sign", visit["id"])
        per_visit = 1 + READINGS + 1 + 1
        created = len(visits) * per_visit
        status, _ = served.request("PATCH", f"/api/v1/visits/{visits[-1]['id']}", {
            "status": "cancelled", "version": visits[-1]["version"],
            "cancel_reason": "Patient admitted to hospital."}, coordinator)
        assert status == 200

        # Back in coverage, on a bad link: the push stalls 5 s mid-upload (survived), then
        # the connection is torn down mid-upload (the batch is re-formed smaller).
        start = link.stats.up_bytes
        # (positions within the first upload: the batch travels zlib-compressed, ~5 KB)
        link.schedule(Stall(start + 1_500, 5.0), Reset(start + 3_500))
        report = _ok(store, "sync")
        assert link.stats.stalls == 1 and link.stats.resets == 1

    assert f"sent {created} mutation(s)" in report, report
    assert f"{created - per_visit} applied" in report and f"{per_visit} conflict" in report
    assert re.search(r"^pending\s+0 mutation", _ok(store, "status"), re.M)
    held = _counts(served.database_url, device_id, [v["id"] for v in visits])
    assert held == {"ledger": created, "inbox": created, "vitals": len(visits) * READINGS,
                    "events": len(visits) * 3}
    _assert_clean_server_logs(served.folder, "Linkless")


def test_a_link_that_stays_down_leaves_the_documentation_on_the_device(
        served: Server, tmp_path: Path) -> None:
    _, [visit] = _nurse_with_visits(served, [1])
    store = tmp_path / "nell.sqlite3"
    port = int(served.base.rsplit(":", 1)[1])
    with impaired_link(port, LinkProfile()) as link:
        _ok(store, "enroll", "--server", link.url, "--code",
            _cli_code(served, served.email("nell")), "--scrypt-n", FAST_SCRYPT_N)
        _ok(store, "sync")
        _ok(store, "vitals", visit["id"], *VITALS)
    # The link is gone (nothing listens there any more): every retry is refused.
    failed = _device(store, "sync")
    assert failed.returncode == 1
    assert failed.stderr == (
        "infusync-device: No connection to the agency. Your documentation (5 records) is "
        "safe on this device and will be sent when the connection returns.\n")
    assert "urlopen" not in failed.stderr
    status = _ok(store, "status")
    assert re.search(r"^last try\s+\S+ failed: no connection to the agency; your "
                     r"documentation \(5 records\) is safe on this device", status, re.M)


@pytest.mark.slow_link
@pytest.mark.parametrize("shared_served", ["postgresql"], indirect=True)
def test_540_mutations_reach_the_server_at_32_kbit_s(
        served: Server, tmp_path: Path) -> None:
    """The issue's nurse who could never sync: 540 pending mutations, a 32 kbit/s upload.

    Slow by nature (about 90 s at 32 kbit/s), so it runs once, on PostgreSQL. The upload
    stalls past the client's silence timeout during the first batch (re-formed smaller)
    and a later upload is cut mid-stream (smaller again); everything arrives once.
    """
    _, [visit] = _nurse_with_visits(served, [1])
    port = int(served.base.rsplit(":", 1)[1])
    store = Store.create(tmp_path / "nell.sqlite3", PIN, scrypt_n=int(FAST_SCRYPT_N))
    profile = LinkProfile.kbit(32, delay_s=0.3, events=(Stall(30_000, 22.0), Reset(45_000)))
    with impaired_link(port, LinkProfile.kbit(256, delay_s=0.3)) as fast:
        client = SyncClient(store, UrllibTransport(timeout=20.0), app_version="1.0.0")
        client.enroll(fast.url, _cli_code(served, served.email("nell")), "Nell's tablet")
        client.sync()
    for _ in range(540 // READINGS):
        record_vitals(store, visit["id"], Vitals(heart_rate=72, blood_pressure=(120, 80),
                                                temperature_c=37.1, spo2=98,
                                                respiratory_rate=16), client.clock())
    assert Outbox(store).pending_count() == 540

    with impaired_link(port, profile) as slow:
        store.set_meta("server_url", slow.url)
        client = SyncClient(store, UrllibTransport(timeout=20.0), app_version="1.0.0",
                            retry=RetryPolicy(attempts=6, base_seconds=1.0))
        report = client.sync()
        assert slow.stats.stalls == 1 and slow.stats.resets == 1

    outbox = Outbox(store)
    assert outbox.pending_count() == 0
    assert len(report.push.results) == 540 == report.push.count("applied")
    device_id = store.get_meta("device_id") or ""
    held = _counts(served.database_url, device_id, [visit["id"]])
    assert held["ledger"] == held["inbox"] == held["vitals"] == 540
    store.close()


def test_a_lost_push_answer_is_asked_for_with_a_few_hundred_bytes_not_the_batch_again(
        served: Server, tmp_path: Path) -> None:
    """Issue 13: the server applied the batch, the answer was cut on its way back. The
    client asks for the batch's results by its id: bytes up a fraction of the batch's,
    every mutation applied once, the outbox empty."""
    _, [visit] = _nurse_with_visits(served, [1])
    port = int(served.base.rsplit(":", 1)[1])
    store = Store.create(tmp_path / "nell.sqlite3", PIN, scrypt_n=int(FAST_SCRYPT_N))
    with impaired_link(port, LinkProfile.kbit(256, delay_s=0.1)) as link:
        client = SyncClient(store, UrllibTransport(timeout=20.0), app_version="1.0.0")
        client.enroll(link.url, _cli_code(served, served.email("nell")), "Nell's tablet")
        client.sync()
        for _ in range(40):
            record_vitals(store, visit["id"], Vitals(heart_rate=72, blood_pressure=(120, 80),
                                                    temperature_c=37.1, spo2=98,
                                                    respiratory_rate=16), client.clock())
        created = 40 * READINGS
        start = link.stats.up_bytes
        link.schedule(CutAnswer(start + 1))  # the push's answer, once the server sends it
        with pytest.raises(TransportError, match="no response"):
            client.push()
        upload = link.stats.up_bytes - start
        assert link.stats.resets == 1 and Outbox(store).pending_count() == created
        start = link.stats.up_bytes
        report = retrying(client.push, RetryPolicy(attempts=2, sleep=lambda _s: None))
        asked = link.stats.up_bytes - start

    assert report.asked == 1 and report.count("applied") == created
    assert upload > 10_000 and asked < 1_000 and asked * 20 < upload, (upload, asked)
    assert Outbox(store).pending_count() == 0
    held = _counts(served.database_url, store.get_meta("device_id") or "", [visit["id"]])
    assert held["ledger"] == held["inbox"] == held["vitals"] == created
    store.close()
