"""A batch's new records, inserted in bulk, are stored exactly as SQLAlchemy's own insert
stores them, on both databases (``BatchCache.insert_pending``, ``sync.bulk``)."""

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from sqlalchemy import String, cast, insert, select

from server.extensions import db
from server.models import VitalSign
from server.reconcile.batch_cache import BatchCache

TABLE = VitalSign.__table__
ON_PHONE = timezone(timedelta(hours=-5))
JSON_COLUMNS = ("components", "flags")


def _readings(agency, batch_id, first_seq):
    """A pulse, a blood pressure panel and a coded reading, as vitals.record stores them."""
    now = datetime(2026, 11, 23, 15, 0, 0, 123456, tzinfo=UTC)
    taken = datetime(2026, 11, 23, 10, 0, 0, 500, tzinfo=ON_PHONE)
    shared = {"patient_id": agency["patient_a"], "visit_id": agency["visit_a"],
              "nurse_id": agency["nurse_a"], "device_id": uuid.uuid4(), "batch_id": batch_id,
              "taken_at": taken, "taken_at_text": taken.isoformat(), "received_at": now,
              "occurred_at_text": "2026-11-23T10:00:00.000500-05:00",
              "entered_in_error": False}
    readings = [
        {"code": "8867-4", "value": Decimal("72.5"), "components": [], "unit": "/min",
         "answer": None, "flags": [], "conflict": False},
        {"code": "85354-9", "value": None, "unit": "mm[Hg]", "answer": None,
         "components": [{"code": "8480-6", "value": 182.0, "unit": "mm[Hg]"},
                        {"code": "8462-4", "value": 95.5, "unit": "mm[Hg]"}],
         "flags": ["abnormal", "device_clock_skew"], "conflict": True},
        {"code": "67775-7", "value": None, "components": [], "unit": "{ACVPU}",
         "answer": "voice", "flags": ["abnormal"], "conflict": False},
    ]
    return [{**shared, **reading, "id": uuid.uuid4(), "mutation_id": uuid.uuid4(),
             "seq": first_seq + n} for n, reading in enumerate(readings)]


def _stored(batch_id):
    """Every column of the batch's rows as the database holds them (JSON as its text), in
    seq order, without the per-row ids."""
    columns = [cast(column, String) if column.key in JSON_COLUMNS else column
               for column in TABLE.columns]
    found = db.session.execute(select(*columns).where(TABLE.c.batch_id == batch_id)
                               .order_by(TABLE.c.seq)).all()
    skip = {"id", "mutation_id", "seq", "device_id", "batch_id"}
    return [{key: value for key, value in zip(TABLE.columns.keys(), row, strict=True)
             if key not in skip} for row in found]


def test_bulk_rows_are_stored_as_sqlalchemy_stores_them(app, agency):
    bulk, core = uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        cache = BatchCache(db.session)
        for row in _readings(agency, bulk, 1):
            cache.store_row(VitalSign, row)
        cache.insert_pending()
        db.session.execute(insert(TABLE), _readings(agency, core, 1))
        db.session.commit()
        by_bulk, by_core = _stored(bulk), _stored(core)
    assert len(by_bulk) == 3
    assert by_bulk == by_core
    assert by_bulk[0]["value"] == Decimal("72.5")
    assert by_bulk[0]["taken_at"] == datetime(2026, 11, 23, 15, 0, 0, 500, tzinfo=UTC)
    assert by_bulk[1]["flags"] == '["abnormal", "device_clock_skew"]'


def test_text_beyond_ascii_is_stored_as_sqlalchemy_stores_it(app, agency):
    """On PostgreSQL the rows go as orjson writes them (UTF-8, not escaped): the stored text,
    in text and JSON columns, is still what SQLAlchemy's own insert stores."""
    bulk, core = uuid.uuid4(), uuid.uuid4()
    odd = {"unit": "°C ✓", "taken_at_text": "2026-11-23T10:00:00-05:00 (heure d'été)",
           "components": [{"code": "8480-6", "value": 1e16, "unit": "mm[Hg] ü"}],
           "flags": ["abnormal", "note: é\u00e9\n"]}
    with app.app_context():
        cache = BatchCache(db.session)
        for row in _readings(agency, bulk, 1):
            cache.store_row(VitalSign, {**row, **odd})
        cache.insert_pending()
        db.session.execute(insert(TABLE), [{**row, **odd} for row in _readings(agency, core, 1)])
        db.session.commit()
        by_bulk, by_core = _stored(bulk), _stored(core)
    assert by_bulk == by_core
    assert by_bulk[0]["unit"] == "°C ✓"
    assert json.loads(by_bulk[0]["components"])[0]["unit"] == "mm[Hg] ü"


def test_a_null_json_value_is_stored_as_sqlalchemy_stores_it(app, agency):
    """None in a JSON column is JSON null to SQLAlchemy: such rows take its path."""
    bulk, core = uuid.uuid4(), uuid.uuid4()
    with app.app_context():
        rows = [{**row, "components": None} for row in _readings(agency, bulk, 1)]
        cache = BatchCache(db.session)
        for row in rows:
            cache.store_row(VitalSign, row)
        cache.insert_pending()
        db.session.execute(insert(TABLE), [{**row, "components": None} for row
                                           in _readings(agency, core, 1)])
        db.session.commit()
        by_bulk, by_core = _stored(bulk), _stored(core)
    assert [row["components"] for row in by_bulk] == ["null"] * 3
    assert by_bulk == by_core


def test_ledger_and_inbox_json_is_the_text_sqlalchemy_sends(app, enroll, agency):
    """The ledger's results and the inbox's reasons, written in one statement each, hold
    the text ``json.dumps`` makes of them (what SQLAlchemy's JSON type sends)."""
    from sync.ledger import InboxEntry, LedgerEntry

    device = enroll("nurse_a")
    at = "2026-11-23T10:00:00-05:00"
    response = device.push([
        device.mutation("vitals.record", agency["visit_a"], {
            "code": "8867-4", "value": 131, "unit": "/min", "taken_at": at},
            entity_id=uuid.uuid4()),
        device.mutation("vitals.record", agency["visit_a"], {
            "code": "8867-4", "value": 900, "unit": "/min", "taken_at": at},
            entity_id=uuid.uuid4()),
    ])
    assert [r["status"] for r in response.get_json()["results"]] == ["applied", "rejected"]
    with app.app_context():
        results = db.session.scalars(select(cast(LedgerEntry.result, String))).all()
        reasons = db.session.scalars(select(cast(InboxEntry.reasons, String))).all()
    assert len(results) == 2 and len(reasons) == 2
    for text in (*results, *reasons):
        assert text == json.dumps(json.loads(text))
    assert any('"status": "applied"' in text for text in results)
    assert any("physiologically impossible" in text for text in reasons)
