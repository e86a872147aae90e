"""``vitals.record``: append-only vital signs, checked against LOINC, UCUM and physiology."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from server.models import VitalSign
from server.reconcile.context import MutationContext, Result, rejected
from server.reconcile.visit_access import Standing, conflict_review, resolve
from server.reconcile.vital_ranges import BP_COMPONENTS, BP_PANEL, VITALS
from sync.ledger import Outcome


def _check_value(code: str, value: Decimal, unit: str, field: str) -> tuple[str, str] | None:
    """(field, message) when the value cannot be right; None when it can."""
    spec = VITALS.get(code)
    if spec is None:
        return field, f"Unknown LOINC code {code} for a vital sign."
    if unit not in spec.units:
        return field, f"Unit {unit!r} is not valid for {spec.name} (use {sorted(spec.units)})."
    if not spec.impossible_below <= value <= spec.impossible_above:
        return field, (f"{spec.name.capitalize()} {value} {unit} is physiologically "
                       "impossible; check the entry.")
    return None


def _is_abnormal(code: str, value: Decimal) -> bool:
    spec = VITALS[code]
    low, high = spec.normal_low, spec.normal_high
    return (low is not None and value < low) or (high is not None and value > high)


def _readings(data: dict[str, Any]) -> list[tuple[str, Decimal, str, str]] | Result:
    """(code, value, unit, field) of each reading, or a rejection."""
    if data["code"] == BP_PANEL:
        parts = data.get("components") or []
        if {p["code"] for p in parts} != BP_COMPONENTS or len(parts) != 2:
            return rejected("components", "A blood pressure needs systolic 8480-6 and "
                            "diastolic 8462-4.")
        return [(p["code"], p["value"], p["unit"], f"components.{i}")
                for i, p in enumerate(parts)]
    if data.get("value") is None:
        return rejected("value", "This vital sign needs a value.")
    return [(data["code"], data["value"], data["unit"], "value")]


def record(ctx: MutationContext) -> Result:
    """Store one vital sign on the visit; impossible values are refused, odd ones flagged."""
    access = resolve(ctx)
    visit = access.visit
    if visit is None or access.standing is Standing.NEVER:
        return rejected("visit_id", "This visit is not one you were assigned.")
    readings = _readings(ctx.data)
    if isinstance(readings, Result):
        return readings
    flags = list(ctx.flags)
    for code, value, unit, field in readings:
        problem = _check_value(code, value, unit, field)
        if problem:
            return rejected(*problem, patient_id=visit.patient_id)
        if _is_abnormal(code, value) and "abnormal" not in flags:
            flags.append("abnormal")
    conflict = access.standing is not Standing.ASSIGNED
    sign = VitalSign(
        id=ctx.mutation["entity_id"], visit_id=visit.id, patient_id=visit.patient_id,
        nurse_id=ctx.nurse_id, device_id=ctx.device.id, mutation_id=ctx.mutation_id,
        code=ctx.data["code"], value=ctx.data.get("value"),
        components=[{**p, "value": float(p["value"])} for p in ctx.data.get("components") or []],
        unit=ctx.data["unit"], taken_at=ctx.data["taken_at"],
        taken_at_text=str(ctx.raw_data.get("taken_at")), received_at=ctx.now, flags=flags,
        conflict=conflict,
    )
    try:
        with ctx.session.begin_nested():
            ctx.session.add(sign)
    except IntegrityError:
        return rejected("entity_id", "A vital sign with this id is already recorded.",
                        visit.patient_id)
    if conflict:
        item = conflict_review(ctx, access)
        return Result(Outcome.CONFLICT, 1, item.id, patient_id=visit.patient_id)
    return Result(Outcome.APPLIED, 1, patient_id=visit.patient_id)
