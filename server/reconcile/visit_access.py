"""May this nurse document on this visit? Assigned, formerly assigned, or never."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import select

from server.models import ReviewItem, Severity, Visit, VisitAssignment, VisitStatus
from server.reconcile.context import MutationContext


class Standing(StrEnum):
    """The nurse's relation to the visit when her documentation arrives."""

    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    CANCELLED = "cancelled"
    NEVER = "never"


@dataclass(frozen=True)
class VisitAccess:
    """The visit (locked for this transaction) and the nurse's standing on it."""

    visit: Visit | None
    standing: Standing


def resolve(ctx: MutationContext) -> VisitAccess:
    """Load and lock the visit, and decide the nurse's standing on it."""
    visit_id = ctx.mutation.get("visit_id")
    visit = ctx.session.get(Visit, visit_id, with_for_update=True) if visit_id else None
    if visit is None:
        return VisitAccess(None, Standing.NEVER)
    was_assigned = ctx.session.scalar(select(VisitAssignment.id).where(
        VisitAssignment.visit_id == visit.id, VisitAssignment.nurse_id == ctx.nurse_id
    ).limit(1)) is not None
    if not was_assigned:
        return VisitAccess(visit, Standing.NEVER)
    if visit.status is VisitStatus.CANCELLED:
        return VisitAccess(visit, Standing.CANCELLED)
    if visit.nurse_id != ctx.nurse_id:
        return VisitAccess(visit, Standing.REASSIGNED)
    return VisitAccess(visit, Standing.ASSIGNED)


def open_review(ctx: MutationContext, visit: Visit, kind: str, severity: Severity,
                summary: str, details: dict[str, Any] | None = None) -> ReviewItem:
    """Queue a review item about this mutation on this visit."""
    item = ReviewItem(kind=kind, severity=severity, summary=summary, patient_id=visit.patient_id,
                      visit_id=visit.id, device_id=ctx.device.id, mutation_id=ctx.mutation_id,
                      details=details or {}, created_at=ctx.now)
    ctx.session.add(item)
    ctx.session.flush()
    return item


def conflict_review(ctx: MutationContext, access: VisitAccess) -> ReviewItem:
    """The review item for documentation that arrived after the visit left the nurse."""
    assert access.visit is not None
    reason = ("was cancelled" if access.standing is Standing.CANCELLED
              else "was reassigned to another nurse")
    return open_review(
        ctx, access.visit, f"documentation_on_{access.standing.value}_visit", Severity.WARNING,
        f"Documentation ({ctx.mutation['type']}) arrived for a visit that {reason} while "
        "the nurse was offline.",
        {"type": ctx.mutation["type"], "seq": ctx.mutation["seq"]},
    )
