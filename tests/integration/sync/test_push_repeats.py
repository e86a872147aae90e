"""One batch that repeats a mutation, reuses its id or its seq, or holds invalid ids."""

import uuid

from sqlalchemy import select

from server.extensions import db
from server.models import VitalSign
from sync.ledger import InboxEntry, LedgerEntry, Outcome


def _hr(device, visit_id, value=72):
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def test_repeats_in_one_batch_are_answered_each_and_the_ledger_keeps_the_first(
        app, enroll, agency):
    device = enroll("nurse_a")
    first = _hr(device, agency["visit_a"])
    forged = {**first, "data": {**first["data"], "value": 80}}
    same_seq = {**_hr(device, agency["visit_a"], 90), "seq": first["seq"]}
    invalid = {**_hr(device, agency["visit_a"]), "id": "not-a-uuid"}
    later = _hr(device, agency["visit_a"], 75)
    results = device.push([first, dict(first), forged, same_seq, invalid, later]).get_json()[
        "results"]
    assert [r["status"] for r in results] == [
        "applied", "duplicate", "rejected", "rejected", "rejected", "applied"]
    # The second copy repeats the first's whole result, as a replay from another batch does.
    assert results[1] == {"id": first["id"], "status": "duplicate", "outcome": "applied",
                          "version": 1, "visit_version": results[0]["visit_version"],
                          "flags": []}
    assert "different content" in results[2]["errors"]["id"][0]
    assert results[3]["errors"] == {
        "id": ["This seq was already used by another mutation of this device."]}
    assert results[4]["id"] == "not-a-uuid" and "id" in results[4]["errors"]
    with app.app_context():
        ledger = {row.mutation_id: row for row in db.session.scalars(select(LedgerEntry))}
        assert set(ledger) == {uuid.UUID(first["id"]), uuid.UUID(later["id"])}
        # The outcome of the mutation that was applied, not of a later copy in the batch.
        assert ledger[uuid.UUID(first["id"])].outcome is Outcome.APPLIED
        assert ledger[uuid.UUID(first["id"])].result["status"] == "applied"
        assert ledger[uuid.UUID(later["id"])].outcome is Outcome.APPLIED
        inbox = db.session.scalars(select(InboxEntry)).all()
        # Every distinct mutation is kept: all but the exact copy.
        assert len(inbox) == 5
        assert sorted(str(e.outcome) for e in inbox) == [
            "applied", "applied", "rejected", "rejected", "rejected"]
        assert next(e for e in inbox if e.mutation_id is None).reasons == results[4]["errors"]
        assert sorted(db.session.scalars(select(VitalSign.value))) == [72, 75]
    again = device.push([first]).get_json()["results"][0]
    assert again["status"] == "duplicate" and again["outcome"] == "applied"


def test_a_batch_of_only_invalid_ids_is_kept_in_the_inbox(app, enroll, agency):
    device = enroll("nurse_a")
    bad = [{**_hr(device, agency["visit_a"]), "id": None} for _ in range(3)]
    results = device.push(bad).get_json()["results"]
    assert [r["status"] for r in results] == ["rejected"] * 3
    with app.app_context():
        inbox = db.session.scalars(select(InboxEntry)).all()
        assert len(inbox) == 3 and all(e.mutation_id is None for e in inbox)
        assert db.session.scalars(select(LedgerEntry)).all() == []


def test_an_id_first_sent_with_a_taken_seq_then_with_a_free_one_is_claimed_once(
        app, enroll, agency):
    # Pins what both databases do (PostgreSQL claims with ON CONFLICT DO NOTHING, SQLite
    # decides the same under its write lock): the row that lands is the one with a free seq.
    device = enroll("nurse_a")
    earlier = _hr(device, agency["visit_a"])
    device.push([earlier])
    taken = {**_hr(device, agency["visit_a"]), "seq": earlier["seq"]}
    free = {**taken, "seq": device.seq + 1}
    results = device.push([taken, free]).get_json()["results"]
    assert [r["status"] for r in results] == ["applied", "rejected"]
    with app.app_context():
        row = db.session.get(LedgerEntry, uuid.UUID(taken["id"]))
        assert (row.seq, row.outcome) == (free["seq"], Outcome.APPLIED)
