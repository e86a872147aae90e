"""Two pushes at once carrying the same mutation id (PostgreSQL, two real connections).

Both read the ledger before either writes it (a third connection holds the rows of their
visits, which a push locks right after reading the ledger), both apply, and the ledger's
unique key decides: the loser's transaction rolls back whole and its push runs
again, answering the shared mutation as a duplicate with the original outcome.
"""

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, func, select, text

from server.extensions import db
from server.models import Patient, ReviewItem, ReviewStatus, User, Visit, VitalSign
from sync.ledger import InboxEntry, LedgerEntry
from tests.factories import make_visit

# SQLite runs one write transaction at a time: these races exist on PostgreSQL only.
ONLY_POSTGRES = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)


def _hr(device, visit_id, value=72):
    return device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": value, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())


def _count(model, *where):
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _waiting_on_locks() -> int:
    """How many connections to this database wait for a lock right now."""
    return db.session.scalar(text(
        "SELECT count(*) FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock'"))


def _ledger_reads(engine, reads: list[int]):
    """Count the pushes' reads of the ledger (the claim reads whole rows; the seq-gap check
    reads only seqs)."""
    def count(_conn, _cursor, statement, *_args):
        if statement.startswith("SELECT") and "sync_ledger.content_hash" in statement:
            reads.append(1)
    event.listen(engine, "before_cursor_execute", count)
    return count


def _race(app, device, bodies, visit_ids):
    """Post both bodies at once, both reading the ledger before either writes it: the
    visits' rows are held until both pushes wait for them. The responses and how many
    times the ledger was read."""
    reads: list[int] = []
    responses: list = [None, None]

    def post(i):
        responses[i] = app.test_client().post(
            "/api/v1/sync/push", headers=device.headers, json=bodies[i])

    with app.app_context():
        listener = _ledger_reads(db.engine, reads)
        with db.engine.connect() as holder:
            holder.execute(select(Visit.id).where(Visit.id.in_(visit_ids)).with_for_update())
            threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + 20
            while _waiting_on_locks() < 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            both_waited = len(reads) == 2
            holder.rollback()
        for thread in threads:
            thread.join(60)
        event.remove(db.engine, "before_cursor_execute", listener)
    assert both_waited, "both pushes read the ledger, then waited for the visits"
    return responses, len(reads)


@ONLY_POSTGRES
def test_same_mutation_id_in_two_concurrent_pushes_is_applied_once(
        app, enroll, agency, database_url):
    device = enroll("nurse_a")
    for _ in range(3):
        shared = _hr(device, agency["visit_a"])
        own = [_hr(device, agency["visit_a"], 80), _hr(device, agency["visit_a"], 81)]
        bodies = [device.body(device.plaintext([shared, own[0]])),
                  device.body(device.plaintext([own[1], shared]))]
        responses, reads = _race(app, device, bodies, [agency["visit_a"]])
        assert [r.status_code for r in responses] == [200, 200]
        results = [r for response in responses for r in response.get_json()["results"]]
        shared_results = [r for r in results if r["id"] == shared["id"]]
        assert sorted(r["status"] for r in shared_results) == ["applied", "duplicate"]
        duplicate = next(r for r in shared_results if r["status"] == "duplicate")
        assert duplicate["outcome"] == "applied"
        assert [r["status"] for r in results if r["id"] != shared["id"]] == [
            "applied", "applied"]
        assert reads == 3  # the loser read the ledger again
        with app.app_context():
            for mutation in (shared, *own):
                entity = uuid.UUID(mutation["entity_id"])
                mutation_id = uuid.UUID(mutation["id"])
                assert _count(VitalSign, VitalSign.id == entity) == 1
                assert _count(LedgerEntry, LedgerEntry.mutation_id == mutation_id) == 1
                assert _count(InboxEntry, InboxEntry.mutation_id == mutation_id) == 1


@ONLY_POSTGRES
def test_same_batch_pushed_twice_at_once_is_applied_once(app, enroll, agency, database_url):
    device = enroll("nurse_a")
    mutations = [_hr(device, agency["visit_a"]) for _ in range(50)]
    body = device.body(device.plaintext(mutations))
    start = threading.Barrier(2, timeout=20)
    responses: list = [None, None]

    def post(i):
        client = app.test_client()
        start.wait()
        responses[i] = client.post("/api/v1/sync/push", headers=device.headers, json=body)

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert [r.status_code for r in responses] == [200, 200]
    assert responses[0].get_json() == responses[1].get_json()
    assert {r["status"] for r in responses[0].get_json()["results"]} == {"applied"}
    with app.app_context():
        assert _count(VitalSign) == 50
        assert _count(LedgerEntry) == 50
        assert _count(InboxEntry) == 50


@ONLY_POSTGRES
def test_two_pushes_of_one_device_at_once_leave_the_gap_item_the_ledger_count_says(
        app, enroll, agency, database_url, clock):
    device = enroll("nurse_a")
    device_id = uuid.UUID(device.device_id)
    with app.app_context():  # a second visit of hers: the batches lock no visit in common
        patient = db.session.get(Patient, agency["patient_a"])
        other = make_visit(patient, db.session.get(User, agency["nurse_a"]),
                           clock() + timedelta(hours=5))
        db.session.commit()
        other_id = other.id
    for _ in range(3):
        first = [_hr(device, agency["visit_a"]) for _ in range(3)]
        second = [_hr(device, other_id) for _ in range(3)]
        bodies = [device.body(device.plaintext(first)), device.body(device.plaintext(second))]
        responses, reads = _race(app, device, bodies, [agency["visit_a"], other_id])
        assert [r.status_code for r in responses] == [200, 200]
        assert reads == 2
        with app.app_context():
            highest, count = db.session.execute(select(
                func.max(LedgerEntry.seq), func.count()).where(
                LedgerEntry.device_id == device_id)).one()
            assert highest - count == 0
            assert _count(ReviewItem, ReviewItem.kind == "seq_gap",
                          ReviewItem.status == ReviewStatus.OPEN) == 0
