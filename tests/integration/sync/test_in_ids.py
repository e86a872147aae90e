"""``sync.bulk.in_ids``: the rows whose id is in a batch's list, or (``or_where``) that also
match a condition, each once, on both databases (the ledger's claim read and the batch's
check of ids already taken use it)."""

import uuid

from sqlalchemy import insert, select

from server.extensions import db
from server.models import VitalSign
from sync.bulk import in_ids
from tests.integration.sync.test_bulk_rows import _readings

TABLE = VitalSign.__table__


def _store(agency, count):
    """``count`` vital signs of one device, seqs 1..count; their rows."""
    batch_id, rows = uuid.uuid4(), []
    while len(rows) < count:
        rows += _readings(agency, batch_id, len(rows) + 1)
    device_id = rows[0]["device_id"]
    rows = [{**row, "device_id": device_id} for row in rows[:count]]
    db.session.execute(insert(TABLE), rows)
    return rows


def _ids(condition):
    return sorted(db.session.scalars(select(VitalSign.id).where(condition)), key=str)


def test_rows_whose_ids_are_listed_are_found_and_unknown_ids_ignored(app, agency):
    with app.app_context():
        rows = _store(agency, 30)
        wanted = [rows[0]["id"], rows[7]["id"], rows[29]["id"], uuid.uuid4()]
        assert _ids(in_ids(db.session, VitalSign.id, wanted)) == sorted(wanted[:3], key=str)
        assert _ids(in_ids(db.session, VitalSign.id, [uuid.uuid4()])) == []


def test_or_where_adds_its_rows_and_a_row_matched_both_ways_comes_once(app, agency):
    with app.app_context():
        rows = _store(agency, 30)
        device_id = rows[0]["device_id"]
        listed = [rows[0]["id"], rows[11]["id"], uuid.uuid4()]  # rows[11] is seq 12
        found = list(db.session.scalars(select(VitalSign.id).where(in_ids(
            db.session, VitalSign.id, listed,
            or_where=(VitalSign.device_id == device_id) & VitalSign.seq.between(10, 14)))))
        expected = [rows[0]["id"], *(row["id"] for row in rows[9:14])]
        assert sorted(found, key=str) == sorted(expected, key=str)
