"""Review items in the pull: a nurse's device hears of the doubts about her documentation
and of their resolution, and never of another nurse's (issue 11, item 4)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.extensions import db
from server.models import AuditEvent
from tests.integration.api.test_review_queue import check_in, listed, push, reassign, resolve
from tests.integration.sync.device import TestDevice

KIND = "review_item"
NOTE = "She was there that morning; the visit moved after she left."


def _items(changes: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The review item upserts of a page, by id."""
    return {c["id"]: c for c in changes if c["type"] == KIND and c["op"] == "upsert"}


def _conflict(client, as_user, enroll, agency) -> tuple[TestDevice, str, dict[str, Any], str]:
    """Nurse B, offline, checks in to her visit after it went to nurse A.

    Returns her device, its cursor before the push, the mutation and the result's item id.
    """
    device = enroll("nurse_b")
    _, cursor = device.pull_all()
    reassign(client, as_user, agency["visit_b"], agency["nurse_a"])
    mutation = check_in(device, agency["visit_b"])
    (result,) = push(device, mutation)
    assert result["status"] == "conflict"
    return device, cursor, mutation, result["review_item_id"]


def test_a_conflict_and_its_resolution_reach_the_nurses_device(client, as_user, enroll,
                                                                agency):
    device, cursor, mutation, item_id = _conflict(client, as_user, enroll, agency)

    opened = device.pull(cursor).get_json()
    change = _items(opened["changes"])[item_id]
    assert change["version"] == 1
    assert change["data"] == {
        "id": item_id, "kind": "documentation_on_reassigned_visit", "severity": "warning",
        "status": "open", "summary": change["data"]["summary"],
        "visit_id": str(agency["visit_b"]), "record_id": change["data"]["record_id"],
        "mutation_id": mutation["id"], "created_at": change["data"]["created_at"],
        "resolved_at": None, "resolution": None, "resolved_by": None, "note": None}
    assert "reassigned" in change["data"]["summary"]
    assert change["data"]["record_id"]  # her check-in event's id

    resolved = resolve(client, as_user("qc"), item_id, resolution="accept", comment=NOTE)
    assert resolved.status_code == 200, resolved.get_json()
    change = _items(device.pull(opened["cursor"]).get_json()["changes"])[item_id]
    assert change["version"] == 2
    data = change["data"]
    assert (data["status"], data["resolution"], data["note"]) == ("resolved", "accept", NOTE)
    assert data["resolved_by"] == {"name": "Qc", "role": "qc"}
    assert data["resolved_at"] == resolved.get_json()["resolved_at"]


def test_every_item_about_her_mutation_arrives_not_only_the_one_the_result_names(
        client, as_user, enroll, agency):
    device = enroll("nurse_b")
    _, cursor = device.pull_all()
    reassign(client, as_user, agency["visit_b"], agency["nurse_a"])
    (result,) = push(device, check_in(device, agency["visit_b"], location=None))
    kinds = {item["id"]: item["kind"] for item in listed(client, as_user("qc"))}
    assert sorted(kinds.values()) == ["documentation_on_reassigned_visit", "evv_exception"]
    delivered = _items(device.pull(cursor).get_json()["changes"])
    assert set(delivered) == set(kinds)
    assert result["review_item_id"] in delivered


def test_an_item_about_another_nurses_record_never_reaches_her(client, as_user, enroll,
                                                               agency):
    holder = enroll("nurse_a")  # the visit is now hers, the documentation is nurse B's
    _, cursor = holder.pull_all()
    _device, _cursor, _mutation, item_id = _conflict(client, as_user, enroll, agency)
    delta = holder.pull(cursor).get_json()
    assert ("visit", str(agency["visit_b"])) in {(c["type"], c["id"]) for c in delta["changes"]}
    assert resolve(client, as_user("qc"), item_id, resolution="accept",
                   comment=NOTE).status_code == 200
    later = holder.pull(delta["cursor"]).get_json()["changes"]
    snapshot, _ = holder.pull_all()
    assert _items(delta["changes"]) == {} and _items(later) == {}
    assert not [key for key in snapshot if key[0] == KIND]


def test_a_snapshot_holds_her_open_items_and_those_resolved_in_the_last_14_days(
        client, as_user, enroll, agency, clock):
    device, _cursor, _mutation, item_id = _conflict(client, as_user, enroll, agency)
    held, _ = device.pull_all()
    assert held[(KIND, item_id)]["status"] == "open"
    assert resolve(client, as_user("qc"), item_id, resolution="accept",
                   comment=NOTE).status_code == 200
    clock.advance(days=13)
    held, _ = device.pull_all()
    assert held[(KIND, item_id)]["status"] == "resolved"
    clock.advance(days=2)
    held, _ = device.pull_all()
    assert (KIND, item_id) not in held


def test_the_pull_that_carries_an_item_is_audited_with_its_id(app, client, as_user, enroll,
                                                              agency):
    device, cursor, _mutation, item_id = _conflict(client, as_user, enroll, agency)
    device.pull(cursor)
    with app.app_context():
        pulls = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "sync.pull").order_by(AuditEvent.at)).all()
        assert pulls[-1].details["review_item_ids"] == [item_id]


def test_an_item_about_no_documentation_stays_with_the_office(client, as_user, enroll,
                                                              agency):
    device = enroll("nurse_a")
    _, cursor = device.pull_all()
    device.seq = 1  # seq 1 never sent: a gap on her device, an item naming no mutation
    assert push(device, check_in(device, agency["visit_a"]))[0]["status"] == "applied"
    assert [item["kind"] for item in listed(client, as_user("qc"))] == ["seq_gap"]
    assert _items(device.pull(cursor).get_json()["changes"]) == {}
