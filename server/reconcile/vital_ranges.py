"""Vital signs: LOINC codes, UCUM units, impossible limits and normal adult ranges.

Impossible limits refuse a value outright (no living patient, or a typing slip); values
outside the normal range are kept and flagged ``abnormal`` for the QC view.
Sources: LOINC vital signs panel 85353-1 (codes, units). Normal adult resting ranges: the
NEWS2 zero-score bands (Royal College of Physicians, 2017) for respiration 12-20, SpO2
96-100, pulse 51-90, temperature 36.1-38.0 Cel; blood pressure per the AHA/ACC 2017 adult
categories (systolic 90-139, diastolic 60-89; below 90 systolic is hypotension); pain on the
0-10 numeric rating scale (LOINC 72514-3), above 3 flagged. Inhaled oxygen flow (LOINC
3151-8, L/min) and the ACVPU level of consciousness (LOINC 67775-7, a coded answer) are what
NEWS2 adds to those (``reconcile.news2``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class VitalSpec:
    """What a LOINC code may carry."""

    name: str
    units: frozenset[str]
    impossible_below: Decimal
    impossible_above: Decimal
    normal_low: Decimal | None
    normal_high: Decimal | None


def _spec(name: str, units: set[str], limits: tuple[str, str],
          normal: tuple[str, str] | None) -> VitalSpec:
    low, high = (Decimal(normal[0]), Decimal(normal[1])) if normal else (None, None)
    return VitalSpec(name, frozenset(units), Decimal(limits[0]), Decimal(limits[1]), low, high)


VITALS: dict[str, VitalSpec] = {
    "8867-4": _spec("heart rate", {"/min"}, ("1", "300"), ("51", "90")),
    "9279-1": _spec("respiratory rate", {"/min"}, ("1", "80"), ("12", "20")),
    "2708-6": _spec("oxygen saturation", {"%"}, ("30", "100"), ("96", "100")),
    "8310-5": _spec("body temperature", {"Cel"}, ("25", "45"), ("36.1", "38.0")),
    "29463-7": _spec("body weight", {"kg"}, ("0.3", "500"), None),
    "72514-3": _spec("pain severity", {"{score}"}, ("0", "10"), ("0", "3")),
    "8480-6": _spec("systolic blood pressure", {"mm[Hg]"}, ("40", "300"), ("90", "139")),
    "8462-4": _spec("diastolic blood pressure", {"mm[Hg]"}, ("20", "200"), ("60", "89")),
    # NEWS2's "air or oxygen?": the flow the patient breathes, 0 on room air. No abnormal
    # range: oxygen at home is an ordered therapy, scored by NEWS2 rather than flagged.
    "3151-8": _spec("inhaled oxygen flow rate", {"L/min"}, ("0", "80"), None),
}

BP_PANEL = "85354-9"
BP_COMPONENTS = frozenset({"8480-6", "8462-4"})
# Readings with a coded ``answer`` instead of a value: LOINC 67775-7, level of
# responsiveness, answered on NEWS2's ACVPU scale (anything but "alert" is flagged).
CONSCIOUSNESS = "67775-7"
CODED_UNITS = {CONSCIOUSNESS: "{ACVPU}"}
