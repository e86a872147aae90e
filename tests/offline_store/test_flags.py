"""Flags from the server: printed at ``sync`` (critical first), kept encrypted in ``status``
until the nurse acknowledges them."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline_store.flags import FLAG
from offline_store.store import Store
from tests.offline_store.conftest import PIN
from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_cli import VISIT, Run, enrolled, pin_in_environment, run

__all__ = ["enrolled", "pin_in_environment", "run"]  # the CLI fixtures, reused

EVV = {"code": "evv_exception", "severity": "warning",
       "message": "Your check-in location could not be verified: the office will review it."}
RECALL = {"code": "pump_not_in_service", "severity": "critical",
          "message": "Pump CS-0031 is recalled: stop using it and call the pharmacy."}


@pytest.fixture
def flagged(run: Run, enrolled: None, server: FakeServer) -> str:
    """A check-in (seq 1) answered with a warning, a reading (seq 2) with a critical flag;
    the output of the sync that sent them."""
    # Beside them, flags no server may send (the client must skip them): off the contract.
    server.shapes_checked = False
    server.verdicts["visit.check_in"] = {"status": "applied", "version": 3, "flags": [EVV]}
    server.verdicts["vitals.record"] = {"status": "applied", "version": 1, "flags": [
        RECALL, {"code": "broken"}, "not a flag"]}
    assert run("check-in", VISIT)[0] == 0
    assert run("vitals", VISIT, "--spo2", "97")[0] == 0
    code, out, _ = run("sync")
    assert code == 0
    return out


def test_sync_prints_the_flags_critical_first_with_the_patient(flagged: str) -> None:
    lines = flagged.splitlines()
    start = lines.index("the server flagged 2 thing(s) to act on:")
    assert lines[start + 1].split() == ["2.1", "CRITICAL", "A.", "Lovelace", *RECALL[
        "message"].split()]
    assert lines[start + 2].split()[:4] == ["1.1", "WARNING", "A.", "Lovelace"]
    assert "flags ack" in lines[start + 3]


def test_status_keeps_them_until_acknowledged(run: Run, flagged: str) -> None:
    out = run("status")[1]
    assert out.index(RECALL["message"]) < out.index(EVV["message"])
    assert run("flags", "ack", "2.1") == (0, "acknowledged\n", "")
    out = run("status")[1]
    assert RECALL["message"] not in out and EVV["message"] in out
    assert run("sync")[1].count("flagged") == 0  # nothing new
    assert run("flags", "ack", "all")[0] == 0
    assert "flags (" not in run("status")[1]
    assert run("flags")[1] == "no flags to act on\n"


def test_an_unknown_flag_id_is_refused_by_name(run: Run, flagged: str) -> None:
    code, _, err = run("flags", "ack", "9.9", "1.1")
    assert code == 1 and "no such flag: 9.9" in err
    assert EVV["message"] in run("flags")[1]  # nothing acknowledged on a refusal


def test_flags_are_stored_encrypted(flagged: str, store_path: Path) -> None:
    assert b"recalled" not in store_path.read_bytes()
    with Store.open(store_path, PIN) as store:
        assert sorted(record.id for record in store.all(FLAG)) == ["1.1", "2.1"]


def test_an_old_server_without_flags_shows_none(run: Run, enrolled: None) -> None:
    run("vitals", VISIT, "--hr", "72")
    assert "flagged" not in run("sync")[1]
    assert "flags (" not in run("status")[1]


def test_vitals_send_oxygen_and_consciousness_for_news2(run: Run, enrolled: None,
                                                        server: FakeServer) -> None:
    assert run("vitals", VISIT, "--o2", "2", "--acvpu", "confusion")[0] == 0
    run("sync")
    sent = sorted((m["data"]["code"], m["data"].get("value"), m["data"].get("answer"),
                   m["data"]["unit"]) for m in server.applied.values())
    assert sent == [("3151-8", 2.0, None, "L/min"), ("67775-7", None, "confusion", "{ACVPU}")]
