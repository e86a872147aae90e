"""``vitals.record``: append-only vital signs, checked against LOINC, UCUM and physiology."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from server.models import VitalSign
from server.reconcile.context import MutationContext, Result, rejected
from server.reconcile.outcomes import applied_result, conflict_result, standing_review
from server.reconcile.visit_access import Standing, resolve
from server.reconcile.vital_ranges import BP_COMPONENTS, BP_PANEL, CODED_UNITS, VITALS


def _check_value(code: str, value: Decimal, unit: str, prefix: str) -> tuple[str, str] | None:
    """(field, message) when the reading cannot be right; None when it can."""
    spec = VITALS.get(code)
    if spec is None:
        return f"{prefix}code", f"Unknown LOINC code {code} for a vital sign."
    if unit not in spec.units:
        return (f"{prefix}unit",
                f"Unit {unit!r} is not valid for {spec.name} (use {sorted(spec.units)}).")
    if not spec.impossible_below <= value <= spec.impossible_above:
        return f"{prefix}value", (f"{spec.name.capitalize()} {value} {unit} is "
                                  "physiologically impossible; check the entry.")
    return None


def _is_abnormal(code: str, value: Decimal) -> bool:
    spec = VITALS[code]
    low, high = spec.normal_low, spec.normal_high
    return (low is not None and value < low) or (high is not None and value > high)


def _coded(data: dict[str, Any]) -> list[str] | tuple[str, str]:
    """The flags of a coded reading (consciousness), or the (field, reason) refusing it."""
    code, unit = data["code"], data["unit"]
    if code not in CODED_UNITS:
        return "data.answer", f"LOINC code {code} takes a value, not an answer."
    if unit != CODED_UNITS[code]:
        return "data.unit", f"Unit {unit!r} is not valid for {code} (use {CODED_UNITS[code]!r})."
    if data.get("answer") is None:
        return "data.answer", f"LOINC code {code} needs an answer (ACVPU), not a value."
    return [] if data["answer"] == "alert" else ["abnormal"]


def _readings(data: dict[str, Any]) -> list[tuple[str, Decimal, str, str]] | Result:
    """(code, value, unit, field prefix) of each reading, or a rejection."""
    if data["code"] == BP_PANEL:
        parts = data.get("components") or []
        if {p["code"] for p in parts} != BP_COMPONENTS or len(parts) != 2:
            return rejected("data.components", "A blood pressure needs systolic 8480-6 and "
                            "diastolic 8462-4.")
        return [(p["code"], p["value"], p["unit"], f"data.components.{i}.")
                for i, p in enumerate(parts)]
    if data.get("value") is None:
        return rejected("data.value", "This vital sign needs a value.")
    return [(data["code"], data["value"], data["unit"], "data.")]


def _flags(readings: list[tuple[str, Decimal, str, str]]) -> list[str] | tuple[str, str]:
    """``["abnormal"]`` or ``[]``, or the (field, reason) of an impossible reading."""
    abnormal = False
    for code, value, unit, prefix in readings:
        problem = _check_value(code, value, unit, prefix)
        if problem:
            return problem
        abnormal = abnormal or _is_abnormal(code, value)
    return ["abnormal"] if abnormal else []


def record(ctx: MutationContext) -> Result:
    """Store one vital sign on the visit; impossible values are refused, odd ones flagged."""
    access = resolve(ctx)
    visit = access.visit
    if visit is None or access.standing is Standing.NEVER:
        return rejected("visit_id", "This visit is not one you were assigned.")
    if ctx.data.get("answer") is not None or ctx.data["code"] in CODED_UNITS:
        flags = _coded(ctx.data)
    else:
        readings = _readings(ctx.data)
        if isinstance(readings, Result):
            return readings
        flags = _flags(readings)
    if isinstance(flags, tuple):
        return rejected(*flags, patient_id=visit.patient_id)
    conflict = access.standing is not Standing.ASSIGNED
    sign_id, data = ctx.mutation["entity_id"], ctx.data
    row = {
        "id": sign_id, "patient_id": visit.patient_id, "code": data["code"],
        "value": data.get("value"),
        "components": [{**p, "value": float(p["value"])} for p in data.get("components") or []],
        "unit": data["unit"], "taken_at": data["taken_at"],
        "taken_at_text": str(ctx.raw_data.get("taken_at")), "answer": data.get("answer"),
        "entered_in_error": False, **ctx.provenance(visit.id, conflict)}
    row["flags"].extend(flags)  # the provenance's own list: the record's flags, then these
    # Vital signs are the most frequent mutation: stored as plain rows, inserted in bulk.
    if not ctx.store_row(VitalSign, row):
        return rejected("entity_id", "A record with this id is already stored.",
                        visit.patient_id)
    if conflict:
        return conflict_result(ctx, access, [standing_review(ctx, access, sign_id)],
                               record_id=sign_id)
    ctx.rederive(visit)
    return applied_result(ctx, access, [], record_id=sign_id)
