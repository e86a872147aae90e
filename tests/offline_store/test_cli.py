"""``infusync-device`` as a nurse uses it: enrol, sync, document, check status."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from offline_store.cli import main
from offline_store.store import Store
from tests.offline_store.conftest import FAST_N, PIN, SERVER_URL, DeviceClock
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_pull import page, upsert

Run = Callable[..., tuple[int, str, str]]
VISIT = "0b5c8e0e-8a1d-4c55-9a36-0d7f1d3f2c11"


@pytest.fixture(autouse=True)
def pin_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", PIN)


@pytest.fixture
def run(store_path: Path, server: FakeServer, device_clock: DeviceClock,
        capsys: pytest.CaptureFixture[str]) -> Run:
    def invoke(*argv: str) -> tuple[int, str, str]:
        code = main(["--store", str(store_path), *argv], transport=server, clock=device_clock)
        captured = capsys.readouterr()
        return code, captured.out, captured.err
    return invoke


@pytest.fixture
def enrolled(run: Run, server: FakeServer) -> None:
    server.pages[None] = page([
        upsert("patient", "p1", first_name="Ada", last_name="Lovelace", mrn="MRN-77"),
        upsert("visit", VISIT, 2, patient_id="p1", status="scheduled",
               scheduled_start="2026-11-23T14:00:00Z", scheduled_end="2026-11-23T15:00:00Z"),
    ], "c1", snapshot=True)
    code, out, _ = run("enroll", "--server", SERVER_URL, "--code", server.issue_code(),
                       "--scrypt-n", str(FAST_N))
    assert code == 0 and "enrolled as device" in out
    assert run("sync")[0] == 0


def test_visits_show_the_window_and_only_initial_and_last_name(run: Run, enrolled: None) -> None:
    code, out, _ = run("visits")
    assert code == 0
    assert VISIT in out and "Mon 23 Nov 09:00-10:00" in out and "A. Lovelace" in out
    assert "Ada" not in out and "MRN-77" not in out


def test_documentation_is_queued_then_sent(run: Run, enrolled: None, server: FakeServer) -> None:
    assert run("check-in", VISIT, "--lat", "40.7", "--lon", "-74.0", "--accuracy", "9")[0] == 0
    code, out, _ = run("vitals", VISIT, "--hr", "72", "--bp", "120/80", "--temp", "37.1")
    assert code == 0 and "3 reading(s)" in out
    assert "unsent: check-in, vitals x3" in run("visits")[1]
    assert "pending    4 mutation(s)" in run("status")[1]
    code, out, _ = run("sync")
    assert "sent 4 mutation(s) in 1 batch(es): 4 applied" in out
    assert "pending    0 mutation(s)" in run("status")[1]
    check_in = next(m for m in server.applied.values() if m["type"] == "visit.check_in")
    assert check_in["base_version"] == 2 and check_in["visit_id"] == VISIT


def test_status_lists_rejections_with_their_errors(
        run: Run, enrolled: None, server: FakeServer) -> None:
    server.verdicts["vitals.record"] = {"status": "rejected",
                                        "errors": {"value": ["out of range"]}}
    run("vitals", VISIT, "--spo2", "98")
    assert "needs attention" in run("sync")[1]
    out = run("status")[1]
    assert "rejected" in out and "vitals.record" in out and "out of range" in out
    assert "last sync  2026-11-23T13:00:00.000Z" in out


def test_a_wrong_pin_is_one_clear_line(
        run: Run, enrolled: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFUSYNC_DEVICE_PIN", "999999")
    code, _, err = run("status")
    assert code == 1 and err.strip() == "infusync-device: the PIN is not correct"


def test_a_failed_enrolment_leaves_no_store_behind(run: Run, store_path: Path) -> None:
    code, _, err = run("enroll", "--server", SERVER_URL, "--code", "wrong",
                       "--scrypt-n", str(FAST_N))
    assert code == 1 and "unknown_code" in err
    assert not store_path.exists()


def test_vitals_need_at_least_one_reading(run: Run, enrolled: None) -> None:
    code, _, err = run("vitals", VISIT)
    assert code == 1 and "at least one" in err


def test_wipe_needs_confirmation(run: Run, enrolled: None, store_path: Path) -> None:
    assert run("wipe")[0] == 1 and store_path.exists()
    assert run("wipe", "--yes")[0] == 0 and not store_path.exists()


def test_the_console_script_reads_the_pin_from_stdin(store_path: Path) -> None:
    Store.create(store_path, PIN, scrypt_n=FAST_N).close()
    script = Path(sys.executable).parent / "infusync-device"
    done = subprocess.run([str(script), "--store", str(store_path), "--pin-stdin", "status"],
                          input=f"{PIN}\n", capture_output=True, text=True, check=False,
                          env={"PATH": str(script.parent)})
    assert done.returncode == 0, done.stderr
    assert "not enrolled" in done.stdout and "pending    0 mutation(s)" in done.stdout
