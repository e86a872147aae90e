"""The flags a push result carries: one wording per kind, critical first, never a blank."""

from typing import Any

import pytest

from server.models import ReviewItem, Severity
from server.reconcile import flags
from server.review_items import FINDINGS


def _item(kind: str, details: dict[str, Any], summary: str = "The summary.") -> ReviewItem:
    return ReviewItem(kind=kind, severity=FINDINGS[kind].severity if kind in FINDINGS
                      else Severity.WARNING, summary=summary, details=details)


@pytest.mark.parametrize(("kind", "details", "message"), [
    ("pump_not_in_service", {"serial": "DEMO-CS-0031", "status": "recalled"},
     "Pump DEMO-CS-0031 is recalled: stop using it and call the pharmacy."),
    ("pump_not_in_service", {"serial": "CS-9", "status": "out_of_service"},
     "Pump CS-9 is out of service: stop using it and call the pharmacy."),
    ("drug_expired", {"lot_number": "L123", "expiry": "2026-12-01"},
     "Lot L123 expired on 2026-12-01: do not infuse it; call the pharmacy."),
    ("dose_outside_order", {"given": "1 g", "ordered": "2.000 g"},
     "Dose 1 g differs from the order (2 g): check the order before the next dose."),
    ("rate_differs_from_order", {"programmed_ml_h": 250.0, "ordered_ml_h": 100.5},
     "Pump rate 250 mL/h differs from the order (100.5 mL/h): check the pump programming."),
    ("evv_exception", {"kind": "check_out", "distance_m": 1100.0},
     "Your check-out location could not be verified: the office will review it."),
])
def test_each_finding_is_worded_from_its_evidence(kind, details, message):
    assert flags.flag(_item(kind, details)) == {
        "code": kind, "severity": FINDINGS[kind].severity.value, "message": message}


def test_every_finding_reconciliation_raises_has_a_wording():
    raised_by_pushes = {kind for kind in FINDINGS if kind not in {
        "seq_gap", "visit_missed", "visit_missed_unassigned", "visit_late_unknown",
        "silent_device", "pump_pm_due", "documented_visit_kept", "documented_visit_cancelled",
        # opened by a pump's withdrawal and by the nightly audit-chain check, not by a push
        "pump_recalled", "pump_out_of_service", "audit_chain_broken"}}
    assert raised_by_pushes <= set(flags.MESSAGES)


@pytest.mark.parametrize(("kind", "details"), [
    ("pump_not_in_service", {"status": "recalled"}),  # no serial stored
    ("pump_not_in_service", {"serial": None, "status": "recalled"}),
    ("a_kind_added_later", {}),  # no wording yet: the summary still reaches the nurse
])
def test_a_message_the_table_cannot_word_is_the_items_summary(kind, details):
    assert flags.message(_item(kind, details, "Pump is recalled.")) == "Pump is recalled."


def test_flags_are_ordered_critical_first_and_each_given_once():
    warning = _item("dose_outside_order", {"given": "1 g", "ordered": "2 g"})
    critical = _item("drug_expired", {"lot_number": "L1", "expiry": "2026-01-01"})
    merged = flags.merged([flags.flag(warning)], [critical, warning])
    assert [one["code"] for one in merged] == ["drug_expired", "dose_outside_order"]
