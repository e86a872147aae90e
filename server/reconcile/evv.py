"""``visit.check_in`` and ``visit.check_out``: the EVV events that move a visit along.

The visit's status is derived from the events recorded, not from their arrival order:
a check-out that arrives before its check-in (batches reordered, a lost request) waits
for it, and the visit completes when both are there.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from server.models import Severity, Visit, VisitEvent, VisitStatus
from server.reconcile.context import MutationContext, Result, rejected
from server.reconcile.visit_access import Standing, conflict_review, open_review, resolve
from sync.ledger import Outcome

OPEN_FOR_EVV = frozenset({VisitStatus.SCHEDULED, VisitStatus.IN_PROGRESS, VisitStatus.COMPLETED})


def check_in(ctx: MutationContext) -> Result:
    """Record a check-in."""
    return _record(ctx, "check_in")


def check_out(ctx: MutationContext) -> Result:
    """Record a check-out."""
    return _record(ctx, "check_out")


def _event(ctx: MutationContext, kind: str, visit_id: uuid.UUID, conflict: bool) -> VisitEvent:
    location = ctx.data.get("location") or {}
    event = VisitEvent(
        visit_id=visit_id, kind=kind, nurse_id=ctx.nurse_id, device_id=ctx.device.id,
        mutation_id=ctx.mutation_id, seq=ctx.mutation["seq"], at=ctx.data["at"],
        at_text=str(ctx.raw_data.get("at")), latitude=location.get("latitude"),
        longitude=location.get("longitude"), accuracy_m=location.get("accuracy_m"),
        received_at=ctx.now, conflict=conflict,
    )
    ctx.session.add(event)
    return event


def _record(ctx: MutationContext, kind: str) -> Result:
    access = resolve(ctx)
    visit = access.visit
    if visit is None or access.standing is Standing.NEVER:
        return rejected("visit_id", "This visit is not one you were assigned.")
    if access.standing is not Standing.ASSIGNED or visit.status not in OPEN_FOR_EVV:
        _event(ctx, kind, visit.id, conflict=True)
        item = (conflict_review(ctx, access) if access.standing is not Standing.ASSIGNED
                else open_review(ctx, visit, f"{kind}_on_{visit.status.value}_visit",
                                 Severity.WARNING, f"A {kind.replace('_', '-')} arrived for a "
                                 f"visit that is {visit.status.value}."))
        return Result(Outcome.CONFLICT, visit.version, item.id, patient_id=visit.patient_id)
    _event(ctx, kind, visit.id, conflict=False)
    ctx.session.flush()
    _derive_status(ctx, visit)
    ctx.session.flush()
    return Result(Outcome.APPLIED, visit.version, patient_id=visit.patient_id)


def _derive_status(ctx: MutationContext, visit: Visit) -> None:
    """in_progress once checked in; completed once checked in and out."""
    events = ctx.session.scalars(select(VisitEvent).where(
        VisitEvent.visit_id == visit.id, VisitEvent.conflict.is_(False)
    ).order_by(VisitEvent.device_id, VisitEvent.seq)).all()
    check_ins = [e for e in events if e.kind == "check_in"]
    check_outs = [e for e in events if e.kind == "check_out"]
    if check_ins:
        visit.checked_in_at = check_ins[0].at
        visit.status = VisitStatus.IN_PROGRESS
    if check_ins and check_outs:
        visit.checked_out_at = check_outs[-1].at
        visit.status = VisitStatus.COMPLETED
