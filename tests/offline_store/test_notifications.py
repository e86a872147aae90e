"""Notifications arrive in the pull, are kept in the store and listed newest first."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from offline_store.cli import main
from tests.offline_store.conftest import FAST_N, PIN, SERVER_URL, DeviceClock
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_pull import page, remove

Run = Callable[..., tuple[int, str, str]]
VISIT = "0b5c8e0e-8a1d-4c55-9a36-0d7f1d3f2c11"
PUMP = "7d1e0c55-3b7a-4f7e-9d52-2f5c1e9a0b33"


@pytest.fixture
def run(store_path: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", PIN)

    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["--store", str(store_path), *argv], transport=server, clock=device_clock)
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return invoke


def _note(note_id: str, kind: str, title: str, created_at: str, **about: str) -> dict:
    data = {"id": note_id, "kind": kind, "title": title, "body": f"{title}: details",
            "visit_id": None, "pump_id": None, "module_id": None, "created_at": created_at}
    return {"type": "notification", "id": note_id, "op": "upsert", "version": 1,
            "data": {**data, **about}}


def test_notifications_are_listed_newest_first(run: Run, server: FakeServer) -> None:
    server.pages[None] = page([
        _note("n1", "visit_missed", "Visit marked missed", "2026-11-23T22:30:00+00:00",
              visit_id=VISIT),
        _note("n2", "pump_pm_due", "Pump maintenance due", "2026-11-24T11:00:00+00:00",
              pump_id=PUMP),
    ], "c1", snapshot=True)
    code, _, _ = run("enroll", "--server", SERVER_URL, "--code", server.issue_code(),
                     "--scrypt-n", str(FAST_N))
    assert code == 0 and run("sync")[0] == 0
    code, out, _ = run("notifications")
    assert code == 0
    lines = out.splitlines()
    assert "pump_pm_due" in lines[0] and f"(pump {PUMP})" in lines[0]
    assert lines[1].strip() == "Pump maintenance due: details"
    assert "visit_missed" in lines[2] and f"(visit {VISIT})" in lines[2]
    # the server removes one (out of scope): the device forgets it
    server.pages["c1"] = page([remove("notification", "n1")], "c2")
    assert run("sync")[0] == 0
    assert "visit_missed" not in run("notifications")[1]


def test_no_notifications_says_so(run: Run, server: FakeServer) -> None:
    server.pages[None] = page([], "c1", snapshot=True)
    run("enroll", "--server", SERVER_URL, "--code", server.issue_code(),
        "--scrypt-n", str(FAST_N))
    code, out, _ = run("notifications")
    assert code == 0 and "no notifications on this device" in out
