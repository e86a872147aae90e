"""Reconciliation's review items: one per kind, visit and record, about the mutation applied.

The kinds, their severities and resolutions, and the writer live in ``server.review_items``
(below reconcile and the scheduler, which both raise items); this module keys an item by
the record it is about and reports the most severe to the device (and every one, worded
for the nurse, in the result's flags: ``reconcile.flags``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from server import review_items
from server.models import ReviewItem, Severity, Visit
from server.reconcile.context import MutationContext


def open_review(session: Session, visit: Visit, kind: str, summary: str, *,
                details: dict[str, Any] | None, record_id: Any, device_id: uuid.UUID | None,
                mutation_id: uuid.UUID | None, now: datetime,
                known: Mapping[str, ReviewItem] | None = None) -> ReviewItem:
    """Queue a review item, once per kind, visit and record (re-evaluation is idempotent).

    ``known``: the visit's items from ``review_items.keyed_items``, when re-opening many.
    """
    record = str(record_id) if record_id is not None else None
    return review_items.open_item(
        session, kind, summary, dedupe_key=review_items.fact_key(kind, visit.id, record),
        now=now, patient_id=visit.patient_id, visit_id=visit.id, device_id=device_id,
        mutation_id=mutation_id, details={**(details or {}), "record_id": record},
        known=known).item


def open_item(ctx: MutationContext, visit: Visit, kind: str, summary: str,
              details: dict[str, Any] | None = None, record_id: Any = None) -> ReviewItem:
    """Queue a review item about the mutation being applied; its result flags it."""
    item = open_review(ctx.session, visit, kind, summary, details=details, record_id=record_id,
                       device_id=ctx.device.id, mutation_id=ctx.mutation_id, now=ctx.now)
    ctx.raised.append(item)
    return item


_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


def most_severe(items: list[ReviewItem]) -> ReviewItem | None:
    """The item to report back to the device (critical before warning)."""
    if not items:  # most mutations raise nothing: no ranking to build
        return None
    return min(items, key=lambda item: _RANK[item.severity])
