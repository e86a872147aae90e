"""Two pushes at once carrying the same mutation id (PostgreSQL, two real connections).

Both read the ledger before either writes it (a barrier holds them there), both apply, and
the ledger's unique key decides: the loser's transaction rolls back whole and its push runs
again, answering the shared mutation as a duplicate with the original outcome.
"""

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from server.extensions import db
from server.models import Patient, ReviewItem, ReviewStatus, User, VitalSign
from server.services import apply
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


def _race(app, device, bodies, monkeypatch):
    """Post both bodies at once, both reading the ledger before either writes it; the
    responses and how many times the ledger was read."""
    barrier = threading.Barrier(2, timeout=20)
    reads: list[int] = []
    original = apply._claim_by_reading

    def claim_then_wait(*args, **kwargs):
        claims = original(*args, **kwargs)
        reads.append(1)
        if len(reads) <= 2:  # the first attempts: both have read before either writes
            barrier.wait()
        return claims

    monkeypatch.setattr(apply, "_claim_by_reading", claim_then_wait)
    responses: list = [None, None]

    def post(i):
        responses[i] = app.test_client().post(
            "/api/v1/sync/push", headers=device.headers, json=bodies[i])

    threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    monkeypatch.setattr(apply, "_claim_by_reading", original)
    return responses, len(reads)


@ONLY_POSTGRES
def test_same_mutation_id_in_two_concurrent_pushes_is_applied_once(
        app, enroll, agency, database_url, monkeypatch):
    device = enroll("nurse_a")
    for _ in range(3):
        shared = _hr(device, agency["visit_a"])
        own = [_hr(device, agency["visit_a"], 80), _hr(device, agency["visit_a"], 81)]
        bodies = [device.body(device.plaintext([shared, own[0]])),
                  device.body(device.plaintext([own[1], shared]))]
        responses, reads = _race(app, device, bodies, monkeypatch)
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
        app, enroll, agency, database_url, monkeypatch, clock):
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
        responses, reads = _race(app, device, bodies, monkeypatch)
        assert [r.status_code for r in responses] == [200, 200]
        assert reads == 2
        with app.app_context():
            highest, count = db.session.execute(select(
                func.max(LedgerEntry.seq), func.count()).where(
                LedgerEntry.device_id == device_id)).one()
            assert highest - count == 0
            assert _count(ReviewItem, ReviewItem.kind == "seq_gap",
                          ReviewItem.status == ReviewStatus.OPEN) == 0
