"""Every kind of review item reconciliation opens: its severity and allowed resolutions.

One table, so QC can read what the system flags and how each flag may be resolved.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ReviewItem, Severity, Visit
from server.reconcile.context import MutationContext

ACCEPT, AMEND, REASSIGN, IN_ERROR = "accept", "amend", "reassign_documentation", "entered_in_error"


@dataclass(frozen=True)
class Finding:
    """A kind of doubt: how serious, and what a person may do about it."""

    severity: Severity
    resolutions: tuple[str, ...]


_DOC = (ACCEPT, AMEND, REASSIGN, IN_ERROR)
FINDINGS: dict[str, Finding] = {
    # the visit left the nurse while she documented it offline
    "documentation_on_reassigned_visit": Finding(Severity.WARNING, _DOC),
    "documentation_on_rescheduled_visit": Finding(Severity.WARNING, _DOC),
    "documentation_on_cancelled_visit": Finding(Severity.WARNING, _DOC),
    # visit state machine
    "check_in_on_closed_visit": Finding(Severity.WARNING, _DOC),
    "documentation_after_signature": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR)),
    "missed_but_documented": Finding(Severity.WARNING, _DOC),
    # EVV
    "evv_exception": Finding(Severity.WARNING, (ACCEPT, IN_ERROR)),
    # infusion against the order
    "no_active_order": Finding(Severity.WARNING, _DOC),
    "medication_mismatch": Finding(Severity.CRITICAL, (ACCEPT, AMEND, IN_ERROR)),
    "dose_outside_order": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR)),
    "rate_differs_from_order": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR)),
    "drug_expired": Finding(Severity.CRITICAL, (ACCEPT, AMEND, IN_ERROR)),
    "possible_duplicate_administration": Finding(Severity.WARNING, (ACCEPT, IN_ERROR)),
    "adverse_reaction": Finding(Severity.CRITICAL, (ACCEPT, AMEND)),
    # pump verification
    "pump_unknown": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR)),
    "pump_assigned_elsewhere": Finding(Severity.WARNING, (ACCEPT, AMEND, IN_ERROR)),
    "pump_maintenance_overdue": Finding(Severity.WARNING, (ACCEPT, AMEND)),
    "pump_not_in_service": Finding(Severity.CRITICAL, (ACCEPT, AMEND)),
    # sync
    "seq_gap": Finding(Severity.WARNING, (ACCEPT,)),
    # scheduled jobs (server/scheduler): acknowledged, or closed by the system when
    # documentation arrives
    "visit_missed": Finding(Severity.WARNING, (ACCEPT,)),
    "visit_missed_unassigned": Finding(Severity.CRITICAL, (ACCEPT,)),
    "visit_late_unknown": Finding(Severity.INFO, (ACCEPT,)),
    "silent_device": Finding(Severity.WARNING, (ACCEPT,)),
    "pump_pm_due": Finding(Severity.INFO, (ACCEPT,)),
}


def open_review(session: Session, visit: Visit, kind: str, summary: str, *,
                details: dict[str, Any] | None, record_id: Any, device_id: uuid.UUID | None,
                mutation_id: uuid.UUID | None, now: datetime) -> ReviewItem:
    """Queue a review item, once per kind, visit and record (re-evaluation is idempotent)."""
    record = str(record_id) if record_id is not None else None
    for item in session.scalars(select(ReviewItem).where(
            ReviewItem.kind == kind, ReviewItem.visit_id == visit.id)):
        if item.details.get("record_id") == record:
            return item
    finding = FINDINGS[kind]
    item = ReviewItem(
        kind=kind, severity=finding.severity, summary=summary[:300],
        patient_id=visit.patient_id, visit_id=visit.id, device_id=device_id,
        mutation_id=mutation_id, created_at=now,
        details={**(details or {}), "record_id": record,
                 "allowed_resolutions": list(finding.resolutions)})
    session.add(item)
    return item


def open_item(ctx: MutationContext, visit: Visit, kind: str, summary: str,
              details: dict[str, Any] | None = None, record_id: Any = None) -> ReviewItem:
    """Queue a review item about the mutation being applied."""
    return open_review(ctx.session, visit, kind, summary, details=details, record_id=record_id,
                       device_id=ctx.device.id, mutation_id=ctx.mutation_id, now=ctx.now)


def most_severe(items: list[ReviewItem]) -> ReviewItem | None:
    """The item to report back to the device (critical before warning)."""
    rank = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
    return min(items, key=lambda item: rank[item.severity], default=None)
