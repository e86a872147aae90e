"""Documented visits an automatic schedule change left alone, put in front of a coordinator.

When an order stops or changes, or a patient is discharged, the generator cancels or moves
the future visits it reaches; a documented one (``services/documented``) it keeps as it
is, and opens one ``documented_visit_kept`` review item per visit and change instead, so
the note a nurse wrote on tomorrow's visit never hangs on a visit nobody looks at.

A coordinator may still cancel a documented visit by hand (a person decided); that opens
a ``documented_visit_cancelled`` item, so the documentation left on the cancelled visit is
not silent either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ReviewItem, Visit
from server.review_items import fact_key, open_item

KIND = "documented_visit_kept"
CANCELLED_BY_HAND = "documented_visit_cancelled"
CANCEL, RESHAPE, REINSTATE = "cancel", "reshape", "reinstate"
WOULD_HAVE = {
    CANCEL: "cancelled it",
    RESHAPE: "given it the order's new window length or location",
    REINSTATE: "brought it back, unassigned, at its occurrence time",
}


@dataclass(frozen=True)
class Held:
    """An automatic change not made to a documented visit, and why it was due.

    ``change`` names the cause (``order_discontinued``, ``patient_discharged``,
    ``schedule_changed``, ``order_reshaped``, ``order_resumed``) and is the item's dedupe
    qualifier; ``cause`` says it in words; ``would_set`` is what the visit would have become.
    """

    visit: Visit
    change: str
    action: str
    cause: str
    documentation: tuple[str, ...]
    would_set: dict[str, Any]


def _summary(held: Held) -> str:
    return (f"Documented visit kept: {held.cause}, and the system would have "
            f"{WOULD_HAVE[held.action]}. It holds {', '.join(held.documentation)}; cancel "
            "or move it by hand if it should not stand.")


def _details(held: Held) -> dict[str, Any]:
    """Ids, the change and what it would have set: no clinical value."""
    return {"change": held.change, "held_back": held.action,
            "order_id": str(held.visit.order_id) if held.visit.order_id else None,
            "scheduled_start": held.visit.scheduled_start.isoformat(),
            "documentation": list(held.documentation), "would_set": held.would_set}


def open_items(session: Session, batch: list[Held], now: datetime) -> int:
    """One item per held-back change (stored ones read in one query); how many are new.

    ``batch`` is bounded by the caller (the generator's chunks).
    """
    keys = [fact_key(KIND, held.visit.id, held.change) for held in batch]
    if not keys:
        return 0
    known = {item.dedupe_key: item for item in session.scalars(
        select(ReviewItem).where(ReviewItem.dedupe_key.in_(keys)))
        if item.dedupe_key is not None}
    opened = 0
    for held, key in zip(batch, keys, strict=True):
        opened += open_item(session, KIND, _summary(held), dedupe_key=key, now=now,
                            patient_id=held.visit.patient_id, visit_id=held.visit.id,
                            details=_details(held), known=known).new
    return opened



def open_cancelled_by_hand(session: Session, visit: Visit, documentation: tuple[str, ...],
                           now: datetime) -> None:
    """The item for a documented visit a coordinator cancelled: once per visit."""
    open_item(session, CANCELLED_BY_HAND,
              f"A visit holding documentation ({', '.join(documentation)}) was cancelled by "
              "hand; the documentation stays on the cancelled visit.",
              dedupe_key=fact_key(CANCELLED_BY_HAND, visit.id), now=now,
              patient_id=visit.patient_id, visit_id=visit.id,
              details={"order_id": str(visit.order_id) if visit.order_id else None,
                       "scheduled_start": visit.scheduled_start.isoformat(),
                       "documentation": list(documentation)})
