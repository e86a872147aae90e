"""Results shared by handlers: a conflict keeps the document and queues it for a person."""

from __future__ import annotations

import uuid
from typing import Any

from schemas.result_shapes import VISIT_ENTITY_TYPES
from server.models import ReviewItem
from server.reconcile.context import MutationContext, Result
from server.reconcile.findings import most_severe, open_item
from server.reconcile.visit_access import Standing, VisitAccess
from sync.ledger import Outcome

REASONS = {
    Standing.REASSIGNED: "was reassigned to another nurse",
    Standing.RESCHEDULED: "was rescheduled",
    Standing.CANCELLED: "was cancelled",
}


def standing_review(ctx: MutationContext, access: VisitAccess,
                    record_id: uuid.UUID) -> ReviewItem:
    """The review item for documentation on a visit that changed while she was offline."""
    assert access.visit is not None
    visit = access.visit
    if "documentation_conflict" not in visit.flags:
        visit.flags = [*visit.flags, "documentation_conflict"]
    return open_item(
        ctx, visit, f"documentation_on_{access.standing.value}_visit",
        f"Documentation ({ctx.mutation['type']}) arrived for a visit that "
        f"{REASONS[access.standing]} while the nurse was offline.",
        {"type": ctx.mutation["type"], "seq": ctx.mutation["seq"], **access.both_sides()},
        record_id=record_id)


def record_version(ctx: MutationContext) -> int | None:
    """The result's ``version``: the version of what ``entity_id`` names. A new record's is
    1; the visit's (None here) is only known once the batch has settled it."""
    return None if ctx.mutation["type"] in VISIT_ENTITY_TYPES else 1


def conflict_result(ctx: MutationContext, access: VisitAccess,
                    items: list[ReviewItem], record_id: Any = None) -> Result:
    """``conflict``: stored and attached, with the most severe review item reported."""
    assert access.visit is not None
    item = most_severe(items)
    return Result(Outcome.CONFLICT, record_version(ctx), item.id if item else None,
                  patient_id=access.visit.patient_id, visit=access.visit, record_id=record_id)


def applied_result(ctx: MutationContext, access: VisitAccess, items: list[ReviewItem],
                   record_id: Any = None) -> Result:
    """``applied``, with the most severe review item when something was flagged."""
    assert access.visit is not None
    item = most_severe(items)
    return Result(Outcome.APPLIED, record_version(ctx), item.id if item else None,
                  patient_id=access.visit.patient_id, visit=access.visit,
                  record_id=record_id)
