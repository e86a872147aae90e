"""The client on a bad link: silence, not slowness, ends a request; a cut upload re-forms
smaller batches; retries back off with jitter; the nurse reads what is safe."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest

from offline_store.cli import main
from offline_store.client import SyncClient
from offline_store.errors import TransportError, UploadIncomplete
from offline_store.identity import load_identity
from offline_store.outbox import Outbox
from offline_store.push import batch_limit
from offline_store.retry import RetryPolicy, retrying
from offline_store.store import Store
from offline_store.transport import Response, UrllibTransport
from sync import envelope
from tests.impaired_link import LinkProfile, Stall, impaired_link
from tests.offline_store.conftest import FAST_N, PIN, SERVER_URL, DeviceClock
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_pull import page, upsert
from tests.offline_store.test_transport import http_server  # noqa: F401 - a fixture

BODY = b"x" * 120_000


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def test_a_slow_upload_longer_than_the_timeout_still_arrives(
        http_server: tuple[str, list[str]]) -> None:  # noqa: F811
    url, seen = http_server
    # 120 KB at 40 KB/s: three seconds of upload against a two-second timeout of silence.
    # (Not shorter: the last ~25 KB sit in the link's buffers after the client's last
    # send, over half a second of silence before the answer.)
    with impaired_link(_port(url), LinkProfile(up_bytes_per_s=40_000.0)) as link:
        reply = UrllibTransport(timeout=2.0).request(
            "POST", f"{link.url}/anything", {"Content-Type": "application/json"}, BODY)
        assert link.stats.up_bytes > len(BODY)
    assert reply.status == 401 and seen == ["/anything"]


def test_a_stalled_upload_is_reported_as_cut_off(http_server: tuple[str, list[str]]) -> None:  # noqa: F811
    url, _ = http_server
    stall = LinkProfile(up_bytes_per_s=200_000.0, events=(Stall(20_000, 3.0),))
    with impaired_link(_port(url), stall) as link:
        with pytest.raises(UploadIncomplete, match=r"cut off \(timed out\)"):
            UrllibTransport(timeout=1.0).request("POST", f"{link.url}/x", {}, BODY)
        assert link.stats.up_bytes < len(BODY)  # the server never had the whole body


class CutUploads:
    """A transport whose first ``cuts`` pushes are cut off mid-upload (nothing arrives)."""

    def __init__(self, inner: FakeServer, cuts: int) -> None:
        self.inner, self.cuts = inner, cuts

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        if url.endswith("/sync/push") and self.cuts:
            self.cuts -= 1
            raise UploadIncomplete("the upload was cut off (timed out)")
        return self.inner.request(method, url, headers, body)


def _pending(store: Store, n: int, clock: DeviceClock) -> None:
    """``n`` pending mutations, written in one transaction: days of a nurse's documenting,
    which one commit each (an fsync each) made take 5-10 s on a loaded machine."""
    with store.transaction():
        for i in range(n):
            Outbox(store).add("vitals.record", f"e{i}", {"value": i}, occurred_at=clock())


def test_a_cut_upload_is_sent_again_in_smaller_batches(
        store: Store, server: FakeServer, device_clock: DeviceClock) -> None:
    server.max_batch_mutations = 40
    device = SyncClient(store, CutUploads(server, cuts=2), clock=device_clock)
    device.enroll(SERVER_URL, server.issue_code(), "tablet")
    _pending(store, 100, device_clock)
    sleeps: list[float] = []
    device.retry = RetryPolicy(attempts=3, sleep=sleeps.append, random=lambda: 0.5)
    report = device.sync()
    # 40 cut, 20 cut, then 10, 20, 40 (doubling back to the policy), 30 left.
    assert [len(b) for b in _batches(server)] == [10, 20, 40, 30]
    assert report.push.count("applied") == 100 and len(server.applied) == 100
    assert sleeps == [1.0, 2.0]  # half of 2 s, half of 4 s: backoff with (fixed) jitter
    assert batch_limit(store, load_identity(store)) == 40


def _batches(server: FakeServer) -> list[list[str]]:
    return [list(results["results"]) for _, results in server.batches.values()]


def test_backoff_is_jittered_and_capped() -> None:
    policy = RetryPolicy(base_seconds=2.0, cap_seconds=30.0, random=lambda: 1.0)
    assert [policy.delay(n) for n in range(6)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert RetryPolicy(random=lambda: 0.0).delay(3) == 0.0


def test_retrying_gives_up_after_its_attempts_and_never_on_a_refusal() -> None:
    calls: list[int] = []

    def lost() -> None:
        calls.append(1)
        raise TransportError("no response from the server (timed out)")

    with pytest.raises(TransportError):
        retrying(lost, RetryPolicy(attempts=3, sleep=lambda _s: None))
    assert len(calls) == 3


Run = tuple[int, str, str]


def _run(store_path: Path, transport: object, clock: DeviceClock,
         capsys: pytest.CaptureFixture[str], *argv: str) -> Run:
    code = main(["--store", str(store_path), *argv], transport=transport,  # type: ignore[arg-type]
                clock=clock, retry=RetryPolicy(attempts=2, sleep=lambda _s: None))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class Down:
    """No connection at all; ``after`` requests go through first."""

    def __init__(self, inner: FakeServer, after: int = 0, error: BaseException | None = None):
        self.inner, self.after = inner, after
        self.error = error or TransportError("no response from the server (timed out)")

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        if self.after <= 0:
            raise self.error
        self.after -= 1
        return self.inner.request(method, url, headers, body)


@pytest.fixture
def enrolled_store(store_path: Path, server: FakeServer, device_clock: DeviceClock,
                   monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Path:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", PIN)
    server.pages[None] = page([upsert("visit", "v1", 2)], "c1", snapshot=True)
    code, _, err = _run(store_path, server, device_clock, capsys, "enroll", "--server",
                        SERVER_URL, "--code", server.issue_code(), "--scrypt-n", str(FAST_N))
    assert code == 0, err
    with Store.open(store_path, PIN) as store:
        _pending(store, 540, device_clock)
    return store_path


def test_no_connection_tells_the_nurse_her_documentation_is_safe(
        enrolled_store: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(enrolled_store, Down(server), device_clock, capsys, "sync")
    assert code == 1 and out == ""
    assert err == ("infusync-device: No connection to the agency. Your documentation "
                   "(540 records) is safe on this device and will be sent when the "
                   "connection returns.\n")
    code, out, _ = _run(enrolled_store, server, device_clock, capsys, "status")
    assert code == 0
    assert ("last try   2026-11-23T13:00:00.000Z failed: no connection to the agency; your "
            "documentation (540 records) is safe on this device") in out
    # A sync that goes through clears it.
    assert _run(enrolled_store, server, device_clock, capsys, "sync")[0] == 0
    assert "last try" not in _run(enrolled_store, server, device_clock, capsys, "status")[1]


def test_a_failed_pull_does_not_hide_the_push_that_went_through(
        enrolled_store: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    # The keys, then 540 at the fake's 50 a batch: eleven pushes answered, then the link goes.
    code, out, err = _run(enrolled_store, Down(server, after=12), device_clock, capsys, "sync")
    assert code == 1
    assert out.startswith("sent 540 mutation(s) in 11 batch(es): 540 applied")
    assert err == ("infusync-device: Your documentation was sent (540 records answered). "
                   "Updates from the agency could not be received (no connection); they "
                   "will come at the next sync.\n")


def test_ctrl_c_during_a_sync_says_what_is_safe(
        enrolled_store: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(enrolled_store, Down(server, error=KeyboardInterrupt()), device_clock,
                        capsys, "sync")
    assert code == 130
    assert err == ("infusync-device: Sync stopped. Your documentation (540 records) is safe "
                   "on this device and will be sent at the next sync.\n")


def test_an_unanswered_enrollment_can_be_run_again_with_the_same_code(
        store_path: Path, server: FakeServer, device_clock: DeviceClock,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", PIN)
    code_text = server.issue_code()
    args = ("enroll", "--server", SERVER_URL, "--code", code_text, "--scrypt-n", str(FAST_N))
    code, _, err = _run(store_path, Down(server), device_clock, capsys, *args)
    assert code == 1 and "not enrolled yet. Run the same enroll command again" in err
    sent = [r for r in server.requests if r[1].endswith("/enroll")]
    assert sent == []  # Down: nothing reached the fake; the store and its keys are kept
    assert store_path.exists()
    with Store.open(store_path, PIN) as store:
        kept = store.get_value("secrets", "pending_enrollment")
    code, out, _ = _run(store_path, server, device_clock, capsys, *args)
    assert code == 0 and "enrolled as device" in out
    [device] = server.devices.values()
    assert device.signing_key == _public(kept["signing_key"])


def _public(private_b64u: str) -> str:
    key = envelope.ed25519_private_key_from_b64u(private_b64u)
    return envelope.ed25519_public_key_to_b64u(key.public_key())
