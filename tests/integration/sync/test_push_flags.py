"""Each push result carries ``flags`` for the review items its mutation raised, worded for
the nurse, critical first; replays answer them word for word."""

from __future__ import annotations

import uuid

from sqlalchemy import select, update

from server.extensions import db
from server.models import Pump, PumpStatus
from sync.ledger import LedgerEntry
from tests.integration.reconcile.conftest import as_ordered

RECALLED = "Pump PMP-A is recalled: stop using it and call the pharmacy."
EXPIRED = "Lot L123 expired on 2026-11-01: do not infuse it; call the pharmacy."


def _recall(app, serial="PMP-A"):
    with app.app_context():
        db.session.execute(update(Pump).where(Pump.serial == serial).values(
            status=PumpStatus.RECALLED))
        db.session.commit()


def _infusion(device, agency, **overrides):
    return device.mutation("infusion.record", agency["visit_a"], {
        **as_ordered(agency), "stopped_at": "2026-11-23T11:05:00-05:00",
        "volume_infused_ml": 100, **overrides}, entity_id=uuid.uuid4())


def test_an_infusion_on_a_recalled_pump_with_an_expired_lot_is_flagged_to_the_nurse(
        app, enroll, agency):
    _recall(app)
    device = enroll("nurse_a")
    given = _infusion(device, agency, lot_number="L123", lot_expiry="2026-11-01",
                      adverse_reaction={"occurred": False}, dose=1)
    (result,) = device.push([given]).get_json()["results"]
    assert result["status"] == "applied"
    assert result["flags"] == [
        {"code": "drug_expired", "severity": "critical", "message": EXPIRED},
        {"code": "pump_not_in_service", "severity": "critical", "message": RECALLED},
        {"code": "dose_outside_order", "severity": "warning",
         "message": "Dose 1 g differs from the order (2 g): check the order before the next "
                    "dose."}]


def test_a_clean_mutation_and_a_rejected_one_carry_empty_flags(enroll, agency):
    device = enroll("nurse_a")
    clean = _infusion(device, agency)
    broken = device.mutation("vitals.record", agency["visit_a"], {
        "code": "8867-4", "value": 400, "unit": "/min", "taken_at": "2026-11-23T10:10:00Z"},
        entity_id=uuid.uuid4())
    results = device.push([clean, broken]).get_json()["results"]
    assert [(r["status"], r["flags"]) for r in results] == [("applied", []), ("rejected", [])]


def test_a_replay_in_another_batch_or_the_same_batch_answers_the_same_flags(
        app, enroll, agency):
    _recall(app)
    device = enroll("nurse_a")
    given = _infusion(device, agency)
    batch_id = str(uuid.uuid4())
    first = device.push([given, dict(given)], batch_id=batch_id)
    original, repeat = first.get_json()["results"]
    assert [f["message"] for f in original["flags"]] == [RECALLED]
    assert (repeat["status"], repeat["flags"]) == ("duplicate", original["flags"])
    later = device.push([given]).get_json()["results"][0]
    assert (later["status"], later["flags"]) == ("duplicate", original["flags"])
    # The same batch again: the stored response, byte for byte.
    assert device.push([given, dict(given)], batch_id=batch_id).data == first.data


def test_a_ledger_row_stored_before_flags_replays_with_none(app, enroll, agency):
    device = enroll("nurse_a")
    given = _infusion(device, agency)
    device.push([given])
    with app.app_context():  # as rows were written before: provenance strings under "flags"
        row = db.session.get(LedgerEntry, uuid.UUID(given["id"]))
        row.result = {"status": "applied", "version": 1, "flags": ["device_clock_skew"]}
        db.session.commit()
    again = device.push([given]).get_json()["results"][0]
    assert again == {"id": given["id"], "status": "duplicate", "outcome": "applied",
                     "version": 1, "flags": []}
    with app.app_context():
        assert db.session.scalars(select(LedgerEntry)).one().result["flags"] == [
            "device_clock_skew"]
