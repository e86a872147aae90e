"""``infusion.record``: one administration into the record, every doubt flagged for review."""

from __future__ import annotations

from typing import Any

from server.models import InfusionAdministration, Visit
from server.reconcile import infusion_checks as checks
from server.reconcile.context import MutationContext, Result, rejected
from server.reconcile.findings import open_item, open_review
from server.reconcile.outcomes import applied_result, conflict_result, standing_review
from server.reconcile.visit_access import Standing, resolve


def _build(ctx: MutationContext, visit_id: Any, patient_id: Any, conflict: bool
           ) -> InfusionAdministration:
    data, raw = ctx.data, ctx.raw_data
    access = data["access"]
    pump_use = data.get("pump") or {}
    return InfusionAdministration(
        id=ctx.mutation["entity_id"], patient_id=patient_id, order_id=data.get("order_id"),
        medication=data["medication"], dose=data["dose"], dose_unit=data["dose_unit"],
        route=data["route"], lot_number=data["lot_number"], lot_expiry=data["lot_expiry"],
        access={**access, "site_assessment": dict(access["site_assessment"])},
        pump_serial=pump_use.get("serial"),
        programmed_rate_ml_h=pump_use.get("programmed_rate_ml_h"),
        vtbi_ml=pump_use.get("vtbi_ml"), started_at=data["started_at"],
        started_at_text=str(raw.get("started_at")), stopped_at=data.get("stopped_at"),
        stopped_at_text=str(raw["stopped_at"]) if raw.get("stopped_at") else None,
        volume_infused_ml=data.get("volume_infused_ml"),
        adverse_reaction=dict(data.get("adverse_reaction") or {}), notes=data.get("notes"),
        **ctx.provenance(visit_id, conflict))


def _flag_the_other_administrations(ctx: MutationContext, visit: Visit,
                                    infusion: InfusionAdministration,
                                    findings: list[Any]) -> None:
    """A likely duplicate is flagged, with a review item, on every record involved —
    whichever arrived first, each overlapping record ends with one flag and one item."""
    for kind, _summary, evidence in findings:
        if kind != "possible_duplicate_administration":
            continue
        for named in evidence["others"]:
            other = next((o for o in ctx.cache.infusions_on(visit.id)
                          if str(o.id) == named["id"]), None)
            if other is None:
                continue
            if kind not in other.flags:
                other.flags = [*other.flags, kind]
            open_review(ctx.session, visit, kind, "Another administration of this order "
                        "overlaps this one.",
                        details={"others": [{"id": str(infusion.id),
                                             "device_id": str(infusion.device_id)}]},
                        record_id=other.id, device_id=other.device_id,
                        mutation_id=other.mutation_id, now=ctx.now)


def record(ctx: MutationContext) -> Result:
    """Record an administration; order, lot, pump and duplicate checks become review items."""
    access = resolve(ctx)
    visit = access.visit
    if visit is None or access.standing is Standing.NEVER:
        return rejected("visit_id", "This visit is not one you were assigned.")
    conflict = access.standing is not Standing.ASSIGNED
    infusion = _build(ctx, visit.id, visit.patient_id, conflict)
    # The clinical day is the nurse's local day, as her device reported the start time.
    day = ctx.data["started_at"].date()
    pump, pump_findings = checks.pump(ctx.session, visit, ctx.data, day)
    infusion.pump_id = pump.id if pump else None
    if not ctx.store_new(infusion):
        return rejected("entity_id", "A record with this id is already stored.",
                        visit.patient_id)
    ctx.cache.add_infusion(infusion)
    findings = [*checks.against_order(ctx.session, visit, ctx.data, day),
                *checks.lot(ctx.data, day), *pump_findings, *checks.adverse(ctx.data),
                *checks.duplicates(infusion, ctx.cache.infusions_on(visit.id))]
    infusion.flags = [*infusion.flags, *(kind for kind, _s, _e in findings)]
    _flag_the_other_administrations(ctx, visit, infusion, findings)
    items = [open_item(ctx, visit, kind, summary, evidence, record_id=infusion.id)
             for kind, summary, evidence in findings]
    if conflict:
        return conflict_result(ctx, access, [*items, standing_review(ctx, access, infusion.id)],
                               record_id=infusion.id)
    ctx.rederive(visit)
    return applied_result(ctx, access, items, record_id=infusion.id)
