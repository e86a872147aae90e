"""The audit chain: every event linked to the one before; tampering with raw SQL is found."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import insert, select, text, update

from server import audit
from server.audit_chain import GENESIS_HASH, event_hash, values_of
from server.extensions import db
from server.models import AuditChainHead, AuditEvent

EVENTS = 5


@pytest.fixture
def chain(app, clock):
    """Five events: three transactions of one, one of two."""
    with app.app_context():
        session = db.session()
        actor = audit.Actor(uuid.uuid4(), "10.0.0.7", "req-1")
        for count in (1, 1, 1, 2):
            for _ in range(count):
                audit.record(session, actor, "read", "patients", at=clock.advance(seconds=1),
                             entity_id=uuid.uuid4(), patient_id=uuid.uuid4(),
                             details={"fields": ["phone"], "n": 1.5})
            session.commit()
        return {row.seq: row for row in session.scalars(select(AuditEvent))}


def _sql(app, statement, **params):
    """Tamper as someone with database access would, outside the application."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement) if isinstance(statement, str) else statement,
                           params)


def _verify(runner, *args):
    result = runner.invoke(args=["audit", "verify", *args])
    return result.exit_code, result.stdout + result.stderr


def test_events_are_numbered_and_linked_in_commit_order(chain):
    assert sorted(chain) == [1, 2, 3, 4, 5]
    assert chain[1].prev_hash == GENESIS_HASH
    for seq in range(2, EVENTS + 1):
        assert chain[seq].prev_hash == chain[seq - 1].hash
        assert chain[seq].hash == event_hash(values_of(chain[seq]))


def test_intact_chain_verifies_and_prints_the_head(chain, runner):
    code, output = _verify(runner)
    head = runner.invoke(args=["audit", "head"]).stdout.strip()

    assert code == 0, output
    assert head == f"5:{chain[5].hash}"
    assert f"5 events; head {head}" in output


def test_edited_event_is_named(app, chain, runner):
    _sql(app, "UPDATE audit_events SET outcome = 'ok', action = 'list' WHERE seq = 3")

    code, output = _verify(runner)

    assert code == 1
    assert "BROKEN at edited" in output
    assert f"seq 3 (event {chain[3].id})" in output


def test_event_edited_with_its_hash_recomputed_breaks_the_next_link(app, chain, runner):
    forged = {**values_of(chain[3]), "action": "list"}
    _sql(app, update(AuditEvent.__table__).where(AuditEvent.seq == 3).values(
        action="list", hash=event_hash(forged)))

    code, output = _verify(runner)

    assert code == 1
    assert f"seq 4 (event {chain[4].id}) does not follow seq 3" in output


def test_deleted_event_is_a_gap(app, chain, runner):
    _sql(app, "DELETE FROM audit_events WHERE seq = 2")

    code, output = _verify(runner)

    assert code == 1
    assert "BROKEN at deleted" in output
    assert f"seq 2 to 2 are missing before event {chain[3].id}" in output


def test_deleted_last_event_leaves_the_head_ahead(app, chain, runner):
    _sql(app, "DELETE FROM audit_events WHERE seq = 5")

    code, output = _verify(runner)

    assert code == 1
    assert "the head is seq 5 but the chain ends at seq 4" in output


def test_inserted_event_is_outside_the_chain(app, chain, runner, clock):
    intruder = uuid.uuid4()
    fake = {**values_of(chain[5]), "id": intruder, "seq": 6, "prev_hash": chain[5].hash,
            "at": clock() + timedelta(seconds=1)}
    _sql(app, insert(AuditEvent.__table__).values(**fake, hash=event_hash(fake)))

    code, output = _verify(runner)

    assert code == 1
    assert "BROKEN at inserted" in output
    assert f"seq 6 (event {intruder}) is past the chain's head (seq 5)" in output


def test_deleted_head_row_is_named(app, chain, runner):
    _sql(app, "DELETE FROM audit_chain_head")

    code, output = _verify(runner)

    assert (code, "head row (audit_chain_head) is missing" in output) == (1, True)


def _rewrite_from(app, seq):
    """Edit event ``seq`` and re-hash it and every later event and the head: a forgery
    that verifies on its own."""
    with app.app_context():
        session = db.session()
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.seq >= seq - 1)
                                    .order_by(AuditEvent.seq)))
        previous, forged = rows[0].hash, []
        for row in rows[1:]:
            values = {**values_of(row), "prev_hash": previous}
            if row.seq == seq:
                values["outcome"] = "not_found"
            previous = event_hash(values)
            forged.append({**values, "hash": previous})
        session.rollback()
    for values in forged:
        _sql(app, update(AuditEvent.__table__).where(AuditEvent.seq == values["seq"]).values(
            outcome=values["outcome"], prev_hash=values["prev_hash"], hash=values["hash"]))
    _sql(app, update(AuditChainHead.__table__).values(hash=previous))


def test_anchor_catches_a_rewritten_chain_that_verifies_alone(app, chain, runner):
    anchor = runner.invoke(args=["audit", "head"]).stdout.strip()
    _rewrite_from(app, 2)

    alone, _ = _verify(runner)
    code, output = _verify(runner, "--anchor", anchor)

    assert alone == 0
    assert code == 1
    assert f"seq 5 (event {chain[5].id}) does not hold the anchored hash" in output


def test_anchor_still_in_the_chain_verifies(chain, runner):
    code, output = _verify(runner, "--anchor", f"3:{chain[3].hash}")

    assert code == 0, output
    assert "anchor 3 holds" in output


def test_anchor_past_the_end_means_events_were_deleted(app, chain, runner):
    anchor = f"5:{chain[5].hash}"
    _sql(app, "DELETE FROM audit_events WHERE seq = 5")
    _sql(app, update(AuditChainHead.__table__).values(seq=4, hash=chain[4].hash))

    alone, _ = _verify(runner)
    code, output = _verify(runner, "--anchor", anchor)

    assert (alone, code) == (0, 1)
    assert "the anchor's seq 5 is past the chain's last event (seq 4)" in output


def test_malformed_anchor_is_refused(chain, runner):
    code, output = _verify(runner, "--anchor", "five:abc")

    assert code == 2
    assert "an anchor is SEQ:HASH" in output


def test_events_of_a_rolled_back_transaction_are_not_chained(app, chain, clock):
    with app.app_context():
        session = db.session()
        audit.record(session, audit.Actor(None), "read", "patients", at=clock())
        session.rollback()
        audit.record(session, audit.Actor(None), "list", "patients", at=clock())
        session.commit()
        rows = session.execute(select(AuditEvent.seq, AuditEvent.action)
                               .where(AuditEvent.seq > EVENTS)).all()
    assert [tuple(row) for row in rows] == [(6, "list")]


def test_an_event_added_to_the_session_directly_is_chained(app, chain, clock):
    with app.app_context():
        session = db.session()
        session.add(AuditEvent(at=clock(), action="seed", entity_type="demo", outcome="ok",
                               details={}))
        session.flush()  # it waits for the commit instead of being inserted unchained
        session.commit()
        row = session.scalar(select(AuditEvent).where(AuditEvent.seq == EVENTS + 1))
    assert (row.action, row.prev_hash) == ("seed", chain[EVENTS].hash)


def test_an_insert_statement_around_the_chain_is_refused(app, chain, clock):
    with app.app_context(), pytest.raises(RuntimeError, match=r"only through server\.audit"):
        db.session.execute(insert(AuditEvent).values(
            at=clock(), action="x", entity_type="y", outcome="ok", details={}))


def test_a_commit_of_more_events_than_one_insert_holds_is_one_chain(app, chain, clock, runner):
    # PostgreSQL sends a commit's events as multi-row INSERTs of at most 1,000 rows, each
    # moving the head: past that many, the chain must still be whole and the head its last.
    with app.app_context():
        session = db.session()
        actor = audit.Actor(uuid.uuid4(), "10.0.0.7", "req-2")
        for index in range(1_200):
            audit.record(session, actor, "sync.mutation", "sync_ledger", at=clock(),
                         entity_id=uuid.uuid4(), details={"index": index})
        session.commit()
        last = session.scalar(select(AuditEvent).where(AuditEvent.seq == EVENTS + 1_200))
        indexes = session.scalars(select(AuditEvent.details).where(AuditEvent.seq > EVENTS)
                                  .order_by(AuditEvent.seq)).all()
    code, output = _verify(runner)

    assert [details["index"] for details in indexes] == list(range(1_200))
    assert code == 0, output
    assert runner.invoke(args=["audit", "head"]).stdout.strip() == f"{EVENTS + 1_200}:{last.hash}"
