"""Everything the console's visit page shows, read as one audited access to the visit.

The record (``visit_record.get_visit_record``: schedule, documentation, review items),
plus what a person needs to read it and act on it: the order, the patient's places (to name
the location a check-in matched), the visit's history (every version: who had it, when,
its status) with the names of the staff in it, and, for those who assign, the candidates.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import ServiceLocation, TherapyOrder, User, VisitRevision
from server.services import candidates
from server.services.records import Access
from server.services.visit_record import VisitRecord, get_visit_record


@dataclass(frozen=True)
class VisitPage:
    """The record and its context; ``candidates`` is None for those who may not assign."""

    record: VisitRecord
    order: TherapyOrder | None
    places: dict[uuid.UUID, ServiceLocation]
    revisions: list[VisitRevision]
    staff: dict[uuid.UUID, str]
    candidates: dict[str, Any] | None


def _staff_names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def visit_page(session: Session, visit_id: uuid.UUID, zone: ZoneInfo, access: Access,
               with_candidates: bool, nurse_search: str = "",
               chosen: uuid.UUID | None = None) -> VisitPage:
    """One visit in the user's scope with its context (one ``read`` audit event). The
    candidates are the eligible nurses (with the one assigned and the one ``chosen`` on a
    refused form), or every nurse ``nurse_search`` finds by name or e-mail, eligible or not
    with the reasons: sixty rows to scroll help nobody."""
    record = get_visit_record(session, visit_id, access)
    visit = record.visit
    order = session.get(TherapyOrder, visit.order_id) if visit.order_id else None
    places = {p.id: p for p in session.scalars(select(ServiceLocation).where(
        ServiceLocation.patient_id == visit.patient_id))}
    revisions = list(session.scalars(select(VisitRevision).where(
        VisitRevision.visit_id == visit.id).order_by(VisitRevision.version.desc())))
    documented_by = {row.nurse_id for rows in record.documentation.values() for row in rows
                     if hasattr(row, "nurse_id")}
    staff = _staff_names(session, {visit.nurse_id, *(r.nurse_id for r in revisions),
                                   *documented_by})
    keep = {i for i in (visit.nurse_id, chosen) if i is not None}
    found = candidates.for_visit(session, visit, bool(nurse_search), zone,
                                 nurse_search or None, keep) if with_candidates else None
    return VisitPage(record, order, places, revisions, staff, found)
