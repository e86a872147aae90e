"""What saving an order would do to its visits, shown before it is saved.

The preview runs the very change the save would make (``orders.apply_create`` /
``orders.apply_update``: the same checks, the same visit generation), reads the order's
future visits before and after, and rolls the transaction back: nothing is stored but one
audit event, since the preview shows the patient's schedule. Documented visits the change
would have cancelled or moved are listed as kept (the generator never touches them; saving
opens a review item for each instead).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import audit
from server.models import TherapyOrder, Visit, VisitStatus
from server.services import orders
from server.services.existing_visits import Run
from server.services.kept_visits import WOULD_HAVE
from server.services.records import Access
from server.services.visit_generation import Horizon


@dataclass(frozen=True)
class VisitLine:
    """One future visit of the preview: when, who has it, and (for kept ones) why."""

    start: datetime
    end: datetime
    nurse_id: uuid.UUID | None
    note: str = ""


@dataclass(frozen=True)
class OrderPreview:
    """The visits a save would create, cancel, bring back, move, or keep as they are."""

    created: list[VisitLine]
    cancelled: list[VisitLine]
    reinstated: list[VisitLine]
    moved: list[VisitLine]
    kept: list[VisitLine]

    @property
    def unchanged(self) -> bool:
        """True when the save leaves every visit as it is."""
        return not (self.created or self.cancelled or self.reinstated or self.moved
                    or self.kept)


Snapshot = dict[uuid.UUID, tuple[VisitStatus, datetime, datetime, uuid.UUID, uuid.UUID | None]]


def _future(session: Session, order_id: uuid.UUID | None, now: datetime) -> list[Visit]:
    if order_id is None:
        return []
    return list(session.scalars(select(Visit).where(
        Visit.order_id == order_id, Visit.scheduled_start > now).order_by(
        Visit.scheduled_start, Visit.id)))


def _snapshot(visits: list[Visit]) -> Snapshot:
    return {v.id: (v.status, v.scheduled_start, v.scheduled_end, v.service_location_id,
                   v.nurse_id) for v in visits}


def _line(visit: Visit, note: str = "") -> VisitLine:
    return VisitLine(visit.scheduled_start, visit.scheduled_end, visit.nurse_id, note)


def _diff(before: Snapshot, after: list[Visit], run: Run) -> OrderPreview:
    """Sort each future visit by what the change did to it."""
    cancelled = VisitStatus.CANCELLED
    created, gone, back, moved = [], [], [], []
    for visit in after:
        old = before.get(visit.id)
        if old is None:
            created.append(_line(visit))
        elif old[0] is not cancelled and visit.status is cancelled:
            gone.append(_line(visit))
        elif old[0] is cancelled and visit.status is not cancelled:
            back.append(_line(visit))
        elif old[1:4] != (visit.scheduled_start, visit.scheduled_end,
                          visit.service_location_id):
            moved.append(_line(visit))
    kept = [_line(held.visit, f"documented ({', '.join(held.documentation)}); the change "
                              f"would have {WOULD_HAVE[held.action]}")
            for held in run.held]
    return OrderPreview(created, gone, back, moved, sorted(kept, key=lambda k: k.start))


def _preview(session: Session, order_id: uuid.UUID | None, access: Access,
             apply: Callable[[], tuple[TherapyOrder, Run]]) -> OrderPreview:
    """Run ``apply`` inside the transaction, read what it did, then roll it all back."""
    before = _snapshot(_future(session, order_id, access.now))
    try:
        order, run = apply()
        found = _diff(before, _future(session, order.id, access.now), run)
        patient_id = order.patient_id
    finally:
        session.rollback()
    audit.record(session, access.actor, "preview", "therapy_orders", at=access.now,
                 entity_id=order_id, patient_id=patient_id)
    session.commit()
    return found


def preview_create(session: Session, data: dict[str, Any], access: Access,
                   horizon: Horizon) -> OrderPreview:
    """The visits a new order would bring (nothing is stored)."""
    return _preview(session, None, access,
                    lambda: orders.apply_create(session, data, access, horizon))


def preview_update(session: Session, order_id: uuid.UUID, data: dict[str, Any],
                   expected_version: int | None, access: Access,
                   horizon: Horizon) -> OrderPreview:
    """What changing an order would do to its future visits (nothing is stored)."""
    return _preview(session, order_id, access, lambda: orders.apply_update(
        session, order_id, data, expected_version, access, horizon))
