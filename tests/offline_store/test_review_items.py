"""Review items in the pull: ``status`` shows the open ones and how the office resolved the
others, and a resolved conflict no longer needs her attention (issue 11, item 4)."""

from __future__ import annotations

from typing import Any

from tests.offline_store.fake_server import FakeServer
from tests.offline_store.test_cli import VISIT, Run, enrolled, pin_in_environment, run
from tests.offline_store.test_pull import page, remove

__all__ = ["enrolled", "pin_in_environment", "run"]  # the fixtures, shared with test_cli

NOTE = "She was there that morning; the visit moved after she left."

# Review item ids as the server makes them (UUIDs: the push result schema says so).
R1 = "0193a3b4-0000-7000-8000-0000000000a1"
R2 = "0193a3b4-0000-7000-8000-0000000000a2"


def _item(item_id: str, mutation_id: str, status: str = "open", **fields: Any) -> dict:
    data = {"id": item_id, "kind": "documentation_on_reassigned_visit", "severity": "warning",
            "status": status, "summary": "Documentation (visit.check_in) arrived for a visit "
            "that was reassigned while the nurse was offline.", "visit_id": VISIT,
            "record_id": "e1", "mutation_id": mutation_id,
            "created_at": "2026-11-23T13:05:00+00:00", "resolved_at": None, "resolution": None,
            "resolved_by": None, "note": None, **fields}
    return {"type": "review_item", "id": item_id, "op": "upsert",
            "version": 2 if status == "resolved" else 1, "data": data}


def _resolved(item_id: str, mutation_id: str, **fields: Any) -> dict:
    return _item(item_id, mutation_id, "resolved", resolved_at="2026-11-23T14:30:00+00:00",
                 resolution="accept", resolved_by={"name": "Quinn", "role": "qc"}, note=NOTE,
                 **fields)


def _conflicting_check_in(run: Run, server: FakeServer, item_id: str = R1) -> str:
    """She checks in; the server answers conflict with ``item_id``; the mutation's id."""
    server.verdicts["visit.check_in"] = {"status": "conflict", "version": 2, "visit_version": 2,
                                         "review_item_id": item_id}
    assert run("check-in", VISIT)[0] == 0
    assert "1 conflict" in run("sync")[1]
    ((_plaintext, answer),) = server.batches.values()
    return str(answer["results"][0]["id"])


def test_a_resolution_pulled_once_shows_resolved_by_whom_and_how(
        run: Run, enrolled: None, server: FakeServer) -> None:
    mutation_id = _conflicting_check_in(run, server)
    server.pages["c1"] = page([_item(R1, mutation_id)], "c2")
    run("sync")
    out = run("status")[1]
    assert "needs attention:" in out and "conflict" in out
    assert f"  open      check-in on visit {VISIT}: documented on a visit reassigned while " \
           "you were offline" in out

    # The visit left her device too: her local check-in is pruned, its result stays.
    server.pages["c2"] = page([remove("visit", VISIT), _resolved(R1, mutation_id)], "c3")
    assert run("sync")[0] == 0
    assert run("visits")[1].startswith("no visits")
    out = run("status")[1]
    assert "needs attention" not in out
    assert "  open  " not in out
    assert f"  resolved  check-in on visit {VISIT}: documented on a visit reassigned" in out
    assert (f"resolved by Quinn (qc) on 2026-11-23 09:30: accepted as documented — {NOTE}"
            in out)


def test_a_conflict_stays_open_while_another_item_about_it_is_open(
        run: Run, enrolled: None, server: FakeServer) -> None:
    mutation_id = _conflicting_check_in(run, server)
    server.pages["c1"] = page([
        _resolved(R1, mutation_id),
        _item(R2, mutation_id, kind="evv_exception", severity="critical")], "c2")
    run("sync")
    out = run("status")[1]
    assert "needs attention:" in out
    assert f"  open      check-in on visit {VISIT}: CRITICAL: check-in or check-out " \
           "location not verified" in out
    assert "resolved by Quinn (qc)" in out


def test_items_she_got_no_result_for_are_shown_and_old_resolutions_fade(
        run: Run, enrolled: None, server: FakeServer, device_clock: Any) -> None:
    server.pages["c1"] = page([
        _item("r9", "m-from-another-device", kind="possible_duplicate_administration"),
        _resolved("r8", "m-older")], "c2")
    run("sync")
    out = run("status")[1]
    assert f"  open      documentation on visit {VISIT}: possible duplicate administration" \
           in out
    assert "resolved by Quinn" in out
    device_clock.advance(days=15)
    assert "resolved by Quinn" not in run("status")[1]


def test_a_change_type_the_client_does_not_know_is_ignored(
        run: Run, enrolled: None, server: FakeServer) -> None:
    server.pages["c1"] = page([{"type": "something_newer", "id": "x1", "op": "upsert",
                                "version": 1, "data": {"anything": True}}], "c2")
    code, out, err = run("sync")
    assert code == 0, err
    assert "received 1 update(s)" in out
