"""Training on the device: modules from the pull, quizzes queued for the server to score,
attachments fetched in ranges that resume after a lost signal, checked by SHA-256."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline_store import training
from offline_store.api import ServerApi
from offline_store.cli import main
from offline_store.errors import TransportError
from offline_store.outbox import Outbox
from offline_store.store import Store
from offline_store.transport import Response
from tests.offline_store.conftest import FAST_N, PIN, SERVER_URL, DeviceClock
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_pull import page, upsert

MODULE_ID = "5b1f7f7e-2f4e-4d8e-9a51-7c1d2e3f4a5b"
LINEAGE = "9d0c1b2a-3e4f-4a5b-8c7d-6e5f4a3b2c1d"
BLOB = bytes(range(256)) * 1200  # 300 KiB: two ranges of 256 KiB
SHA = hashlib.sha256(BLOB).hexdigest()
QUIZ = {"pass_mark_percent": 80, "questions": [
    {"id": "q1", "text": "Flush before use?", "kind": "single",
     "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}]},
    {"id": "q2", "text": "Signs of phlebitis?", "kind": "multiple",
     "options": [{"id": "red", "text": "Redness"}, {"id": "warm", "text": "Warmth"}]}]}
MODULE = {"id": MODULE_ID, "lineage_id": LINEAGE, "version": 1, "title": "PICC care",
          "summary": "Flushing", "body_md": "# PICC", "quiz": QUIZ, "required": True,
          "competency": "picc-care", "due_rule": {"kind": "after_publication", "days": 14},
          "published_at": "2026-11-23T13:00:00+00:00",
          "attachments": [{"sha256": SHA, "name": "picc.pdf", "content_type": "application/pdf",
                           "size": len(BLOB)}]}
STATUS = {"module_id": MODULE_ID, "lineage_id": LINEAGE, "state": "not_started",
          "due_on": "2026-12-07", "passed_at": None, "attempts": 0, "last_attempt": None}


class AssetServer:
    """Serves one attachment with Range; can drop the connection after some requests."""

    def __init__(self, blob: bytes, inner: Any = None) -> None:
        self.blob, self.inner = blob, inner
        self.ranges: list[str] = []
        self.fail_after: int | None = None

    def request(self, method: str, url: str, headers: Mapping[str, str],
                body: bytes | None) -> Response:
        if "/api/v1/sync/assets/" not in url:
            return self.inner.request(method, url, headers, body)  # type: ignore[no-any-return]
        if self.fail_after is not None and len(self.ranges) >= self.fail_after:
            raise TransportError("no response from the server: signal lost")
        self.ranges.append(headers["Range"])
        match = re.fullmatch(r"bytes=(\d+)-(\d+)", headers["Range"])
        assert match is not None
        start, end = int(match.group(1)), int(match.group(2))
        if start >= len(self.blob):
            return Response(416, b"")
        end = min(end, len(self.blob) - 1)
        return Response(206, self.blob[start:end + 1],
                        {"Content-Range": f"bytes {start}-{end}/{len(self.blob)}"})


def _synced(store: Store) -> None:
    with store.transaction():
        store.put(training.MODULE, MODULE_ID, MODULE, version=1, synced=True)
        store.put(training.STATUS, "s1", STATUS, version=1, synced=True)


def test_taking_a_quiz_queues_the_answers_and_no_verdict(
        store: Store, device_clock: DeviceClock) -> None:
    _synced(store)
    answers = training.parse_answers(["q1=yes", "q2=red,warm"])
    mutation = training.take_quiz(store, MODULE_ID[:8], answers, device_clock(), device_clock())
    (queued,) = Outbox(store).pending()
    assert queued.type == "training.complete" and queued.visit_id is None
    assert queued.data == {"module_id": MODULE_ID, "version": 1,
                           "answers": {"q1": ["yes"], "q2": ["red", "warm"]},
                           "started_at": "2026-11-23T08:00:00-05:00",
                           "completed_at": "2026-11-23T08:00:00-05:00"}
    assert mutation.entity_id != MODULE_ID
    (line,) = training.list_modules(store)
    assert (line.state, line.pending, line.due_on) == ("not_started", 1, "2026-12-07")


@pytest.mark.parametrize(("texts", "message"), [
    (["q1=yes"], "missing: q2"),
    (["q1=yes,no", "q2=red"], "single answer"),
    (["q1=maybe", "q2=red"], "no option 'maybe'"),
    (["q9=yes", "q1=yes", "q2=red"], "not in this module's quiz"),
    (["q1"], "looks like q1=a"),
])
def test_answers_the_quiz_cannot_take_are_refused_before_queueing(
        store: Store, device_clock: DeviceClock, texts: list[str], message: str) -> None:
    _synced(store)
    with pytest.raises(training.InvalidAnswers, match=message):
        training.take_quiz(store, MODULE_ID, training.parse_answers(texts),
                           device_clock(), device_clock())
    assert Outbox(store).pending() == []


def test_an_attachment_cut_by_a_lost_signal_resumes_and_is_hash_checked(store: Store) -> None:
    _synced(store)
    server = AssetServer(BLOB)
    api = ServerApi(server, SERVER_URL, "token")
    server.fail_after = 1  # the first range arrives, then the signal drops
    with pytest.raises(TransportError):
        training.fetch_attachments(store, api)
    assert training.attachment(store, SHA) is None
    server.fail_after = None
    report = training.fetch_attachments(store, api)
    assert (report.fetched, report.resumed) == (1, 1)
    assert server.ranges == [f"bytes=0-{training.CHUNK_BYTES - 1}",
                             f"bytes={training.CHUNK_BYTES}-{len(BLOB) - 1}"]
    assert training.attachment(store, SHA) == BLOB
    assert training.fetch_attachments(store, api).present == 1
    with store.transaction():  # the module was retired: its attachment goes with it
        store.delete(training.MODULE, MODULE_ID)
    assert training.fetch_attachments(store, api).present == 0
    assert training.attachment(store, SHA) is None


def test_an_attachment_that_does_not_match_its_hash_is_discarded(store: Store) -> None:
    _synced(store)
    api = ServerApi(AssetServer(BLOB[:-1] + b"X"), SERVER_URL, "token")
    with pytest.raises(training.AssetCorrupt, match="did not match its SHA-256"):
        training.fetch_attachments(store, api)
    assert training.attachment(store, SHA) is None
    assert store.get(training.PART, SHA) is None


def test_the_command_line_lists_shows_takes_and_fetches(
        store_path: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", PIN)
    transport = AssetServer(BLOB, server)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--store", str(store_path), *argv], transport=transport,
                    clock=device_clock)
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    module = {"type": "training", "id": MODULE_ID, "op": "upsert", "version": 1,
              "data": MODULE}
    server.pages[None] = page([module, upsert("training_status", "s1", 1, **STATUS)], "c1",
                              snapshot=True)
    assert run("enroll", "--server", SERVER_URL, "--code", server.issue_code(),
               "--scrypt-n", str(FAST_N))[0] == 0
    assert run("sync")[0] == 0
    code, out, _ = run("training", "list")
    assert code == 0 and "PICC care" in out and "not_started" in out and "2026-12-07" in out
    code, out, _ = run("training", "show", MODULE_ID)
    assert "q2: Signs of phlebitis? (all that apply)" in out and "not fetched" in out
    assert "correct" not in out
    code, out, _ = run("training", "fetch")
    assert code == 0 and "1 attachment(s) fetched" in out
    shown = run("training", "show", MODULE_ID)[1]
    assert "picc.pdf" in shown and "not fetched" not in shown
    code, _out, err = run("training", "take", MODULE_ID, "--answer", "q1=yes")
    assert code == 1 and "missing: q2" in err
    code, out, _ = run("training", "take", MODULE_ID, "--answer", "q1=yes",
                       "--answer", "q2=red,warm")
    assert code == 0 and "scores them at the next sync" in out
    assert "1 attempt(s) not yet sent" in run("training", "list")[1]
    code, _out, err = run("training", "show", "nope")
    assert code == 1 and "no training module 'nope'" in err


