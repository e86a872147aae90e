"""``sync.bulk.sqlite_insert`` stores exactly what SQLAlchemy's own insert stores: the same
bytes in every column (uuids, enums, JSON, timezone-aware times)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import insert, select

from server.extensions import db
from sync.bulk import sqlite_insert
from sync.ledger import InboxEntry, Outcome

ONLY_SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@ONLY_SQLITE
def test_sqlite_insert_stores_what_sqlalchemy_stores(app, database_url) -> None:
    table = InboxEntry.__table__
    now = datetime(2026, 11, 22, 14, 15, 0, 123456, tzinfo=UTC)
    shared = {"device_id": uuid.uuid4(), "batch_id": uuid.uuid4(), "received_at": now}
    rows = [{"id": uuid.uuid4(), "mutation_id": mutation_id, "outcome": outcome,
             "reasons": reasons, "payload": b"\x00sealed"}
            for mutation_id, outcome, reasons in [
                (uuid.uuid4(), Outcome.APPLIED, {}), (None, Outcome.REJECTED, {"id": ["x"]}),
                (uuid.uuid4(), None, {"data": {"value": ["é"]}})]]
    names = ("id", "mutation_id", "outcome", "reasons", "payload")
    with app.app_context():
        sqlite_insert(db.session, table, shared, names,
                      [tuple(row[name] for name in names) for row in rows])
        by_driver = _stored()
        loaded = {r.id: r.outcome for r in db.session.execute(select(table))}
        db.session.execute(table.delete())
        db.session.execute(insert(table), [{**row, **shared} for row in rows])
        by_sqlalchemy = _stored()
        db.session.rollback()
    assert len(by_driver) == 3 and by_driver == by_sqlalchemy
    assert loaded[rows[1]["id"]] is Outcome.REJECTED


def _stored() -> list[tuple[object, ...]]:
    """The table's rows as the database holds them (no type processing on the way out)."""
    return [tuple(row) for row in db.session.connection().exec_driver_sql(
        "SELECT id, mutation_id, device_id, batch_id, received_at, payload, outcome, reasons "
        "FROM sync_inbox ORDER BY id")]
