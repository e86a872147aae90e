"""What the nurse reads on her device about the review items her documentation raised.

Each result of a push carries ``flags: [{code, severity, message}]``, one per review item
its mutation opened (or found open) — critical first. ``code`` is the item's kind and
``severity`` its severity from ``review_items.FINDINGS``; ``message`` comes from the table
below, worded for a nurse in a patient's home: what happened, then what to do now. A
template names fields of the item's ``details`` (the evidence its check stored);
``{name!w}`` writes ``out_of_service`` as "out of service", ``{name!h}`` ``check_in`` as
"check-in", ``{name!n}`` a stored amount ``2.000 g`` as "2 g". A kind without a template,
or whose details lack a field, reads as the item's summary, so a kind added elsewhere still
reaches the device in words.

Messages hold what the nurse herself documented (a lot number, a pump serial, her vital
signs): they answer her own device's push, and are stored with the ledger's outcome, like
the item's summary. They never go to a log.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from typing import Any

from server.models import ReviewItem, Severity

_OFFICE = "the office will review it."
MESSAGES: dict[str, str] = {
    # infusion against the order, the lot and the pump registry
    "pump_not_in_service": "Pump {serial} is {status!w}: stop using it and call the pharmacy.",
    "drug_expired": "Lot {lot_number} expired on {expiry}: do not infuse it; call the "
                    "pharmacy.",
    "medication_mismatch": "{given} does not match the order ({ordered}): stop the infusion "
                           "if it is running and call the pharmacy.",
    "adverse_reaction": "Adverse reaction documented: follow the agency's reaction protocol "
                        "and call the physician.",
    "dose_outside_order": "Dose {given!n} differs from the order ({ordered!n}): check the "
                          "order before the next dose.",
    "rate_differs_from_order": "Pump rate {programmed_ml_h!n} mL/h differs from the order "
                               "({ordered_ml_h!n} mL/h): check the pump programming.",
    "no_active_order": "No active order covers this infusion: call the office before the "
                       "next dose.",
    "possible_duplicate_administration": "Another infusion of this order overlaps this one: "
                                         "check it was not documented twice.",
    "pump_unknown": "Pump {serial} is not in the agency's pump list: check the serial "
                    "number and call the office.",
    "pump_assigned_elsewhere": "Pump {serial} is assigned to another patient: check the "
                               f"serial number; {_OFFICE}",
    "pump_maintenance_overdue": "Pump {serial} is overdue for maintenance: call the office "
                                "to have it replaced.",
    # early-warning scores (reconcile.early_warning)
    "news2_critical": "NEWS2 score {score} ({chart}): emergency response. Follow your "
                      "escalation protocol now (call 911 if the patient is unstable) and "
                      "call the physician.",
    "news2_warning": "NEWS2 score {score} ({chart}): urgent response. Recheck the vital "
                     "signs and call the physician.",
    # EVV, and documentation the visit's state puts in doubt
    "evv_exception": f"Your {{kind!h}} location could not be verified: {_OFFICE}",
    "documentation_on_reassigned_visit": "This visit was reassigned while you were offline: "
                                         f"your documentation is kept and {_OFFICE}",
    "documentation_on_rescheduled_visit": "This visit was rescheduled while you were "
                                          f"offline: your documentation is kept and {_OFFICE}",
    "documentation_on_cancelled_visit": "This visit was cancelled while you were offline: "
                                        f"your documentation is kept and {_OFFICE}",
    "check_in_on_closed_visit": "This visit was reported missed: your check-in is kept and "
                                f"{_OFFICE}",
    "missed_but_documented": f"This visit is reported missed and also checked in: {_OFFICE}",
    "documentation_after_signature": "This was documented after you signed the visit: it "
                                     "is kept for review; correct a record with an "
                                     "amendment.",
}
_RANK = {Severity.CRITICAL.value: 0, Severity.WARNING.value: 1, Severity.INFO.value: 2}


_TRAILING_ZEROS = re.compile(r"\b(\d+)\.(\d*?)0+\b")


class _Wording(string.Formatter):
    """``str.format`` with three conversions for the values stored in details."""

    def convert_field(self, value: Any, conversion: str | None) -> Any:
        if conversion == "w":
            return str(value).replace("_", " ")
        if conversion == "h":
            return str(value).replace("_", "-")
        if conversion == "n":
            return _TRAILING_ZEROS.sub(
                lambda m: m[1] + (f".{m[2]}" if m[2] else ""), str(value))
        return super().convert_field(value, conversion)


_WORDING = _Wording()


def message(item: ReviewItem) -> str:
    """The item in the nurse's words; its summary when the table cannot word it."""
    template = MESSAGES.get(item.kind)
    if template is None:
        return item.summary
    evidence = {key: value for key, value in item.details.items() if value is not None}
    try:
        return _WORDING.vformat(template, (), evidence)
    except (KeyError, IndexError, ValueError, AttributeError):
        return item.summary


def flag(item: ReviewItem) -> dict[str, str]:
    """The flag of one review item, as a push result carries it."""
    return {"code": item.kind, "severity": item.severity.value, "message": message(item)}


def ordered(flags: list[dict[str, str]]) -> list[dict[str, str]]:
    """Critical first, then warnings, then the rest; otherwise in the order raised."""
    return sorted(flags, key=lambda one: _RANK.get(one["severity"], len(_RANK)))


def merged(flags: list[dict[str, str]], items: Iterable[ReviewItem]) -> list[dict[str, str]]:
    """``flags`` with those of ``items`` added (each once), critical first."""
    if not flags and not items:  # a mutation that raised nothing (most of them)
        return []
    out = list(flags)
    for item in items:
        one = flag(item)
        if one not in out:
            out.append(one)
    return ordered(out)
