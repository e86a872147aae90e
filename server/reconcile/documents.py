"""``visit.note``, ``visit.sign``, ``visit.missed`` and ``record.amend``."""

from __future__ import annotations

from typing import Any

from server.models import Amendment, InfusionAdministration, VisitEvent, VisitNote, VitalSign
from server.reconcile.context import MutationContext, Result, rejected
from server.reconcile.outcomes import applied_result, conflict_result, standing_review
from server.reconcile.visit_access import Standing, VisitAccess, resolve

AMENDABLE: dict[str, Any] = {"infusion": InfusionAdministration, "vitals": VitalSign,
                             "note": VisitNote}
RECORD_NAMES = {"infusion": "an infusion", "vitals": "a vitals", "note": "a note"}
# Who documented what, where and when is the record's provenance: a correction of its
# clinical content must not rewrite it (QC moves or voids records through review instead).
SERVER_OWNED = frozenset({
    "id", "patient_id", "pump_id", "visit_id", "nurse_id", "device_id", "mutation_id",
    "batch_id", "seq", "occurred_at_text", "received_at", "flags", "conflict",
    "entered_in_error"})


def _store(ctx: MutationContext, access: VisitAccess, document: Any) -> Result:
    """Add a document; conflict when the visit left the nurse, else re-derive the visit."""
    assert access.visit is not None
    if not ctx.store_new(document):
        return rejected("entity_id", "A record with this id is already stored.",
                        access.visit.patient_id)
    if document.conflict:
        return conflict_result(ctx, access, [standing_review(ctx, access, document.id)],
                               record_id=document.id)
    ctx.rederive(access.visit)
    return applied_result(ctx, access, [], record_id=document.id)


def _access(ctx: MutationContext) -> VisitAccess | Result:
    access = resolve(ctx)
    if access.visit is None or access.standing is Standing.NEVER:
        return rejected("visit_id", "This visit is not one you were assigned.")
    return access


def note(ctx: MutationContext) -> Result:
    """A free-text note on the visit (append-only)."""
    access = _access(ctx)
    if isinstance(access, Result):
        return access
    assert access.visit is not None
    conflict = access.standing is not Standing.ASSIGNED
    return _store(ctx, access, VisitNote(
        id=ctx.mutation["entity_id"], patient_id=access.visit.patient_id,
        category=ctx.data["category"], text=ctx.data["text"],
        **ctx.provenance(access.visit.id, conflict)))


def _event(ctx: MutationContext, kind: str, details: dict[str, Any]) -> Result:
    access = _access(ctx)
    if isinstance(access, Result):
        return access
    assert access.visit is not None
    conflict = access.standing is not Standing.ASSIGNED
    return _store(ctx, access, VisitEvent(
        kind=kind, at=ctx.data["at"], at_text=str(ctx.raw_data.get("at")), details=details,
        **ctx.provenance(access.visit.id, conflict)))


def sign(ctx: MutationContext) -> Result:
    """The nurse's signature: locks the documentation once the visit is checked out."""
    return _event(ctx, "sign", {"attestation": ctx.data["attestation"]})


def missed(ctx: MutationContext) -> Result:
    """The visit could not be performed."""
    return _event(ctx, "missed", {"reason": ctx.data["reason"], "note": ctx.data.get("note")})


def amend(ctx: MutationContext) -> Result:
    """A correction of a record of this visit; the original stays as it was."""
    access = _access(ctx)
    if isinstance(access, Result):
        return access
    assert access.visit is not None
    model = AMENDABLE[ctx.data["target_type"]]
    target_id = ctx.data["target_id"]
    if ctx.cache.document_visit_id(model, target_id) != access.visit.id:
        return rejected("data.target_id", "There is no such record on this visit to amend.",
                        access.visit.patient_id)
    amendable = set(model.__table__.columns.keys()) - SERVER_OWNED
    refused = sorted(set(ctx.data["changes"]) - amendable)
    if refused:
        return rejected("data.changes", "Not fields a nurse may amend on "
                        f"{RECORD_NAMES[ctx.data['target_type']]} record: "
                        f"{', '.join(refused)}.", access.visit.patient_id)
    conflict = access.standing is not Standing.ASSIGNED
    return _store(ctx, access, Amendment(
        id=ctx.mutation["entity_id"], patient_id=access.visit.patient_id,
        target_type=ctx.data["target_type"], target_id=target_id, reason=ctx.data["reason"],
        changes=ctx.raw_data.get("changes", {}), **ctx.provenance(access.visit.id, conflict)))
