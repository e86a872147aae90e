"""The seq-gap review item, worked out per batch, says what counting the ledger says."""

import random
import uuid

from sqlalchemy import event, func, select

from server.extensions import db
from server.models import ReviewItem, ReviewStatus
from sync.ledger import LedgerEntry


def _hr(device, visit_id, seq):
    mutation = device.mutation("vitals.record", visit_id, {
        "code": "8867-4", "value": 72, "unit": "/min",
        "taken_at": "2026-11-23T09:10:00-05:00"}, entity_id=uuid.uuid4())
    return {**mutation, "seq": seq}


def _state(app, device_id):
    """(missing by counting the ledger, highest seq, the open items' (missing, highest))."""
    with app.app_context():
        highest, count = db.session.execute(select(
            func.max(LedgerEntry.seq), func.count()).where(
            LedgerEntry.device_id == device_id)).one()
        open_items = [(i.details["missing"], i.details["highest_seq"]) for i in
                      db.session.scalars(select(ReviewItem).where(
                          ReviewItem.device_id == device_id, ReviewItem.kind == "seq_gap",
                          ReviewItem.status == ReviewStatus.OPEN))]
        return (highest or 0) - count, highest, open_items


def _accept(app, device_id):
    """What a reviewer's accept leaves on the open item (services/review.resolve_item)."""
    with app.app_context():
        item = db.session.scalars(select(ReviewItem).where(
            ReviewItem.device_id == device_id, ReviewItem.kind == "seq_gap",
            ReviewItem.status == ReviewStatus.OPEN)).first()
        if item is not None:
            item.status, item.resolved_by = ReviewStatus.RESOLVED, uuid.uuid4()
            item.resolution = "Lost phone; the nurse re-documented on paper."
            item.details = {**item.details, "resolved_with": {"resolution": "accept"}}
            db.session.commit()


def _counting(app):
    """How many statements counted the ledger (the fallback), as a one-item list."""
    counted = [0]
    with app.app_context():
        engine = db.engine

    def seen(conn, cursor, statement, *args):
        if "count(*)" in statement and "FROM sync_ledger" in statement:
            counted[0] += 1

    event.listen(engine, "before_cursor_execute", seen)
    return counted


def test_gap_item_matches_the_ledger_count_through_gaps_fills_repeats_and_accepts(
        app, enroll, agency):
    device = enroll("nurse_a")
    counted = _counting(app)
    device_id = uuid.UUID(device.device_id)
    rng = random.Random(7)
    unsent = list(range(1, 61))
    sent = []
    accepted_with_gap = False
    for step in range(30):
        if step in (9, 19):
            before = _state(app, device_id)
            _accept(app, device_id)
            accepted_with_gap = accepted_with_gap or before[0] > 0
        pick = sorted(rng.sample(unsent, min(len(unsent), rng.randint(0, 4))))
        for seq in pick:
            unsent.remove(seq)
        mutations = [_hr(device, agency["visit_a"], seq) for seq in pick]
        if sent and rng.random() < 0.3:
            mutations.append(rng.choice(sent))  # a replay: no new ledger row
        if rng.random() < 0.2:  # refused before the ledger: no row either
            mutations.append({**_hr(device, agency["visit_a"], 999), "type": "nope"})
        assert device.push(mutations).status_code == 200
        sent.extend(m for m in mutations if m["type"] != "nope")
        missing, highest, open_items = _state(app, device_id)
        assert open_items == ([(missing, highest)] if missing > 0 else []), step
    assert accepted_with_gap
    # The pushes count the ledger only after an accept, until the items can tell again
    # (and _state counts it after every push).
    assert 30 <= counted[0] <= 30 + 12


def test_an_accepted_gap_that_stays_open_reopens_on_the_next_push(app, enroll, agency):
    device = enroll("nurse_a")
    device_id = uuid.UUID(device.device_id)
    device.push([_hr(device, agency["visit_a"], 1), _hr(device, agency["visit_a"], 3)])
    _accept(app, device_id)
    device.push([_hr(device, agency["visit_a"], 4)])
    assert _state(app, device_id)[2] == [(1, 4)]
    device.push([_hr(device, agency["visit_a"], 2)])
    assert _state(app, device_id)[2] == []
    with app.app_context():
        statuses = sorted(i.status.value for i in db.session.scalars(select(ReviewItem).where(
            ReviewItem.kind == "seq_gap")))
    assert statuses == ["resolved", "resolved"]


def test_the_push_response_says_how_many_seqs_the_server_lacks(app, enroll, agency):
    """After a restore from a backup the device learns it must resend (offline_store.sent)."""
    device = enroll("nurse_a")
    whole = device.push([_hr(device, agency["visit_a"], 1)]).get_json()
    assert "missing_seqs" not in whole
    gap = device.push([_hr(device, agency["visit_a"], 4)]).get_json()
    assert gap["missing_seqs"] == 2
    healed = device.push([_hr(device, agency["visit_a"], 2),
                          _hr(device, agency["visit_a"], 3)]).get_json()
    assert "missing_seqs" not in healed
