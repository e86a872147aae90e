"""Results stored before protocol v1.1, answered again, come out in the v1.1 shape.

The ledger and the batch table keep the answer each mutation and batch was given, and a
resend gets it again. A v1 server stored schema refusals nested (``{"data": {"taken_at":
[…]}}``) and a note's ``version`` as the visit's; replayed as stored, a v1.1 device's typed
decoder would fail on the whole 200 and resend forever. Here the rows are written as v1
stored them, then the device resends: the answers validate (the suite's wire check runs on
every push) and say what v1.1 says.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import update

from server.extensions import db
from sync.batches import SyncBatch
from sync.ledger import LedgerEntry

MISSING = "Missing data for required field."
HOME = {"latitude": 39.78, "longitude": -89.65, "accuracy_m": 5.0}  # the test patient's


def _batch(device: Any, visit_id: Any) -> list[dict[str, Any]]:
    check_in = device.mutation("visit.check_in", visit_id,
                               {"at": "2026-11-23T09:02:00-05:00", "location": HOME})
    note = device.mutation("visit.note", visit_id, {"category": "assessment", "text": "Fine."},
                           entity_id=uuid.uuid4())
    no_time = device.mutation("vitals.record", visit_id,
                              {"code": "8867-4", "value": 72, "unit": "/min"},
                              entity_id=uuid.uuid4())
    return [check_in, note, no_time]


def _store_as_v1(app: Any, device: Any, batch_id: str, sent: list[dict[str, Any]],
                 answered: list[dict[str, Any]]) -> None:
    """Rewrite the stored batch response and ledger rows as a v1 server wrote them."""
    visit_version = answered[0]["version"]
    v1 = [{"id": sent[0]["id"], "status": "applied", "version": visit_version, "flags": []},
          {"id": sent[1]["id"], "status": "applied", "version": visit_version, "flags": []},
          {"id": sent[2]["id"], "status": "rejected", "errors": {"data": {"taken_at": [MISSING]}},
           "flags": []}]
    with app.app_context():
        db.session.execute(update(SyncBatch).where(
            SyncBatch.batch_id == uuid.UUID(batch_id)).values(response={
                "batch_id": batch_id, "results": v1, "server_time": "2026-11-23T13:00:00+00:00"}))
        for result in v1[:2]:
            db.session.execute(update(LedgerEntry).where(
                LedgerEntry.mutation_id == uuid.UUID(result["id"])).values(result={
                    "status": "applied", "version": visit_version, "flags": [],
                    "record_flags": []}))
        db.session.commit()


@pytest.fixture
def stored_by_v1(app: Any, enroll: Any, agency: Any) -> Any:
    """A device, the batch it sent, its plaintext, and the v1.1 answer it first got."""
    device = enroll("nurse_a")
    sent = _batch(device, agency["visit_a"])
    plaintext, batch_id = device.plaintext(sent), str(uuid.uuid4())
    first = device.client.post("/api/v1/sync/push", headers=device.headers,
                               json=device.body(plaintext, batch_id=batch_id)).get_json()
    _store_as_v1(app, device, batch_id, sent, first["results"])
    return device, sent, plaintext, batch_id, first["results"]


def test_a_batch_answered_by_v1_and_sent_again_gets_the_v1_1_shape(stored_by_v1):
    device, _sent, plaintext, batch_id, first = stored_by_v1
    again = device.client.post("/api/v1/sync/push", headers=device.headers,
                               json=device.body(plaintext, batch_id=batch_id))
    assert again.status_code == 200
    check_in, note, no_time = again.get_json()["results"]
    visit_version = first[0]["visit_version"]
    assert (check_in["version"], check_in["visit_version"]) == (visit_version, visit_version)
    assert (note["version"], note["visit_version"]) == (1, visit_version)
    assert no_time["errors"] == {"data.taken_at": [MISSING]}
    assert [check_in, note, no_time] == first  # what v1.1 answered the first time


def test_mutations_answered_by_v1_and_sent_again_are_duplicates_in_the_v1_1_shape(
        stored_by_v1):
    device, sent, _plaintext, _batch_id, first = stored_by_v1
    results = device.push(sent[:2]).get_json()["results"]
    visit_version = first[0]["visit_version"]
    assert [(r["status"], r["outcome"], r["version"], r["visit_version"]) for r in results] == [
        ("duplicate", "applied", visit_version, visit_version),
        ("duplicate", "applied", 1, visit_version)]
