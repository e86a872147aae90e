"""A visit's day of documentation is written a statement per table, not one per mutation.

The morning rush is bounded by round trips to the database (README, "The morning rush";
``bench/push_profile.py``): these pin what made a push of a day's work cost 46 statements
instead of 123 — no autoflush between mutations, every new record of a table in one
statement, the touched visits settled in one flush — and then 37 instead of 47 (the rush's
batch on PostgreSQL): what a push reads once per batch, whatever its size, read once; then
32 instead of 37: the day's six visits updated in one statement on PostgreSQL.
"""

import re
import uuid
from collections import Counter
from datetime import timedelta

from sqlalchemy import event, select

from server.extensions import db
from server.models import (
    InfusionAdministration,
    Patient,
    User,
    Visit,
    VisitEvent,
    VisitNote,
    VisitRevision,
    VitalSign,
)
from sync.feed import FeedEntry
from tests.factories import make_visit
from tests.integration.reconcile.conftest import HOME, as_ordered

INSERT = re.compile(r"^\s*INSERT INTO\s+\"?(\w+)", re.IGNORECASE)
SHAPE = re.compile(r"^\s*(INSERT INTO|UPDATE|DELETE FROM|SELECT\s.*?\sFROM)\s+\"?(\w+)",
                   re.IGNORECASE | re.DOTALL)


def _day(device, agency, visit=None):
    """Check-in, four vital signs, an infusion under the order, a note, check-out, sign."""
    visit = visit or agency["visit_a"]
    at = "2026-11-23T{}-05:00".format
    return [
        device.mutation("visit.check_in", visit, {"at": at("09:55:00"), "location": HOME}),
        *(device.mutation("vitals.record", visit, {"code": "8867-4", "value": 70 + n,
                                                    "unit": "/min", "taken_at": at("10:00:00")},
                          entity_id=uuid.uuid4()) for n in range(4)),
        device.mutation("infusion.record", visit, {
            **as_ordered(agency), "stopped_at": at("11:05:00"), "volume_infused_ml": 100},
            entity_id=uuid.uuid4()),
        device.mutation("visit.note", visit, {"category": "assessment",
                                              "text": "PICC site clean, dry and intact."},
                        entity_id=uuid.uuid4()),
        device.mutation("visit.check_out", visit, {"at": at("11:10:00"), "location": HOME}),
        device.mutation("visit.sign", visit, {"at": at("11:15:00")}),
    ]


def test_a_days_documentation_inserts_each_table_once(app, enroll, agency, rows):
    device = enroll("nurse_a")
    inserts: Counter[str] = Counter()
    with app.app_context():
        engine = db.engine

    def seen(_conn, _cursor, statement, *_args):
        if (found := INSERT.match(statement)) is not None:
            inserts[found.group(1)] += 1

    event.listen(engine, "before_cursor_execute", seen)
    try:
        response = device.push(_day(device, agency))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {"applied"}
    assert [len(rows(model)) for model in (VisitEvent, VitalSign, InfusionAdministration,
                                           VisitNote)] == [3, 4, 1, 1]
    for table in ("visit_events", "vital_signs", "infusion_administrations", "visit_notes",
                  "visit_revisions", "sync_ledger", "sync_inbox"):
        assert inserts[table] == 1, (table, inserts)


def _statements(app, push):
    """Every statement ``push()`` sends (transaction control left out), as (verb, table)."""
    seen: list[tuple[str, str]] = []
    with app.app_context():
        engine = db.engine

    def sent(_conn, _cursor, statement, *_args):
        if (found := SHAPE.match(statement)) is not None:
            seen.append((found.group(1).split()[0].upper(), found.group(2)))
        elif not statement.lstrip().upper().startswith(("BEGIN", "SAVEPOINT", "RELEASE")):
            seen.append((statement.split(None, 1)[0].upper(), "?"))

    event.listen(engine, "before_cursor_execute", sent)
    try:
        response = push()
    finally:
        event.remove(engine, "before_cursor_execute", sent)
    assert response.status_code == 200
    assert {r["status"] for r in response.get_json()["results"]} == {"applied"}
    return Counter(seen)


def test_what_a_push_needs_once_is_read_once(app, enroll, agency):
    """The device, the HPKE keys, the seq_gap item, the feed head, the new documents'
    ids and the documents after a signature: each one statement per push, however many
    tables or mutations it spans (SQLite reads the device and keys again in its write
    transaction, which begins after the envelope is opened; PostgreSQL locks the device
    for the seq_gap check instead)."""
    device = enroll("nurse_a")
    sent = _statements(app, lambda: device.push(_day(device, agency)))
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert sent["SELECT", "devices"] == (2 if postgresql else 3), sent  # + FOR UPDATE on PG
    # The usable HPKE keys, and the signing keys (a worker reads them for its first answer,
    # then keeps them 10 s: server_keys.SigningKeyring).
    assert sent["SELECT", "server_keys"] == 2, sent
    assert sent["SELECT", "review_items"] == 1, sent
    assert sent["INSERT", "sync_feed_heads"] == 1 and not sent["UPDATE", "sync_feed_heads"]
    # Taken ids (vital signs, infusion, note) in one query, the documents after the
    # signature (the three tables) in another: the first table names each UNION ALL.
    assert sent["SELECT", "vital_signs"] == 2, sent
    assert sent["SELECT", "visit_notes"] == 0, sent
    # 43 on each before the third and fourth rounds (README, "The morning rush").
    assert sum(sent.values()) == (34 if postgresql else 36), sent


def _second_visit(app, agency, clock):
    """Another visit of nurse_a's patient, later the same day."""
    with app.app_context():
        patient = db.session.get(Patient, agency["patient_a"])
        nurse = db.session.get(User, agency["nurse_a"])
        visit = make_visit(patient, nurse, clock() + timedelta(hours=5))
        db.session.commit()
        return visit.id


def test_the_visits_of_a_day_are_updated_in_one_statement_on_postgresql(app, enroll, agency,
                                                                         clock, rows):
    """Two visits documented in one batch: one version-checked UPDATE for both on
    PostgreSQL (reconcile.visit_writes), one per visit on SQLite, and each visit as the
    ORM's flush left it: completed at version 2, a revision of that version, a feed entry
    for the nurse, and the answers carrying that version."""
    second = _second_visit(app, agency, clock)
    device = enroll("nurse_a")
    day = [*_day(device, agency), *_day(device, agency, second)]
    sent = _statements(app, lambda: device.push(day))
    postgresql = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")
    assert sent["UPDATE", "visits"] == (1 if postgresql else 2), sent
    assert sent["INSERT", "visit_revisions"] == 1, sent
    # A one-visit day's 34 / 36 (above), the second administration's pump check and, on
    # SQLite only, the second visit's UPDATE: 36 on PostgreSQL before its visits went out
    # in one statement (the rush's day of six visits: 37 -> 32; SQLite's 42 unchanged).
    assert sum(sent.values()) == (35 if postgresql else 38), sent
    visits = {visit.id: visit for visit in rows(Visit, Visit.id.in_([agency["visit_a"], second]))}
    assert {(v.status.value, v.version) for v in visits.values()} == {("completed", 2)}
    assert all(v.updated_at > v.created_at for v in visits.values())
    revisions = rows(VisitRevision, VisitRevision.visit_id.in_(list(visits)),
                     VisitRevision.version == 2)
    assert sorted((r.visit_id, r.status) for r in revisions) == sorted(
        (visit_id, "completed") for visit_id in visits)
    feed = rows(FeedEntry, FeedEntry.nurse_id == agency["nurse_a"],
                FeedEntry.entity_type == "visit")
    assert set(visits) <= {entry.entity_id for entry in feed}


def test_a_visit_changed_since_it_was_read_is_not_overwritten(app, agency, clock):
    """The version check: a visit whose stored version moved on after it was read raises
    StaleDataError on either database (one statement's count on PostgreSQL, the ORM's
    per-row check on SQLite), and the push that read it would roll back and retry."""
    from sqlalchemy.orm.exc import StaleDataError

    from server.reconcile.visit_state import recompute_many

    second = _second_visit(app, agency, clock)
    with app.app_context():
        visits = list(db.session.scalars(select(Visit).where(
            Visit.id.in_([agency["visit_a"], second]))))
        events = {visit.id: [VisitEvent(kind="check_in", at=clock(), visit_id=visit.id)]
                  for visit in visits}
        db.session.execute(Visit.__table__.update().where(Visit.id == second)
                           .values(version=Visit.version + 1))
        try:
            recompute_many(db.session, visits, clock(), events)
        except StaleDataError:
            db.session.rollback()
        else:
            raise AssertionError("a stale visit was written")
        stored = db.session.scalars(select(Visit).order_by(Visit.id)).all()
        assert {(v.status.value, v.version) for v in stored} == {("scheduled", 1)}
