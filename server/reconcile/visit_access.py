"""May this nurse document on this visit? Assigned, reassigned, rescheduled, cancelled, never.

Decided from the visit's revisions: she *was* assigned if any revision names her, and her
``base_version`` says what she saw when she documented.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from server.models import Visit, VisitRevision, VisitStatus
from server.reconcile.context import MutationContext


class Standing(StrEnum):
    """The nurse's relation to the visit when her documentation arrives."""

    ASSIGNED = "assigned"
    REASSIGNED = "reassigned"
    RESCHEDULED = "rescheduled"
    CANCELLED = "cancelled"
    NEVER = "never"


@dataclass(frozen=True)
class VisitAccess:
    """The visit (locked for this transaction), her standing, and the version she saw."""

    visit: Visit | None
    standing: Standing
    seen: VisitRevision | None = None

    def both_sides(self) -> dict[str, Any]:
        """What the nurse saw and what the visit is now, for the review item."""
        assert self.visit is not None
        now = self.visit
        side: dict[str, Any] = {"now": _describe(now.version, now.nurse_id, now.status.value,
                                                 now.scheduled_start, now.scheduled_end)}
        if self.seen is not None:
            seen = self.seen
            side["device_saw"] = _describe(seen.version, seen.nurse_id, seen.status,
                                           seen.scheduled_start, seen.scheduled_end)
        return side


def _describe(version: int, nurse: Any, status: str, start: Any, end: Any) -> dict[str, Any]:
    return {"version": version, "nurse_id": str(nurse) if nurse else None, "status": status,
            "scheduled_start": start.isoformat(), "scheduled_end": end.isoformat()}




def resolve(ctx: MutationContext) -> VisitAccess:
    """Load and lock the visit, and decide the nurse's standing on it.

    In a batch the answer is kept per (visit, base version): one device, one nurse, and
    nothing it depends on changes before the batch's end (revisions are read at its start,
    and visits are re-derived only once every handler has run).
    """
    key = (ctx.mutation.get("visit_id"), ctx.mutation.get("base_version"))
    access = ctx.cache.accesses.get(key)
    if access is None:
        access = ctx.cache.accesses[key] = _resolve(ctx)
    return access


def _resolve(ctx: MutationContext) -> VisitAccess:
    visit = ctx.cache.visit(ctx.mutation.get("visit_id"))
    if visit is None:
        return VisitAccess(None, Standing.NEVER)
    revisions = ctx.cache.revisions(visit.id)
    base = ctx.mutation.get("base_version")
    seen = next((r for r in revisions if r.version == base), None)
    if not any(r.nurse_id == ctx.nurse_id for r in revisions):
        return VisitAccess(visit, Standing.NEVER)
    if visit.status is VisitStatus.CANCELLED:
        return VisitAccess(visit, Standing.CANCELLED, seen)
    if visit.nurse_id != ctx.nurse_id:
        return VisitAccess(visit, Standing.REASSIGNED, seen)
    if seen is not None and (seen.scheduled_start, seen.scheduled_end) != (
            visit.scheduled_start, visit.scheduled_end):
        return VisitAccess(visit, Standing.RESCHEDULED, seen)
    return VisitAccess(visit, Standing.ASSIGNED, seen)
