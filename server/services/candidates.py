"""Nurses who could take a visit: eligibility, their load that day, how far they come from."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.models import Role, ServiceLocation, TherapyOrder, User, Visit, VisitStatus
from server.reconcile.geo import distance_m
from server.services import eligibility
from server.services.records import Access, contains, get_one


def local_day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """[start, end) of a local day, in UTC (23 or 25 hours long across a DST change)."""
    start = datetime.combine(day, time(0, 0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=zone).astimezone(UTC)
    return start, end


def _loads(session: Session, nurse_ids: list[uuid.UUID], start: datetime,
           end: datetime) -> dict[uuid.UUID, int]:
    stmt = (select(Visit.nurse_id, func.count())
            .where(Visit.nurse_id.in_(nurse_ids), Visit.status != VisitStatus.CANCELLED,
                   Visit.scheduled_start >= start, Visit.scheduled_start < end)
            .group_by(Visit.nurse_id))
    return {nurse_id: count for nurse_id, count in session.execute(stmt) if nurse_id}


def _previous_places(session: Session, nurse_ids: list[uuid.UUID], visit: Visit,
                     start: datetime) -> dict[uuid.UUID, tuple[float, float]]:
    """Where each nurse's latest visit that day before this one takes place."""
    stmt = (select(Visit.nurse_id, ServiceLocation.latitude, ServiceLocation.longitude)
            .join(ServiceLocation, ServiceLocation.id == Visit.service_location_id)
            .where(Visit.nurse_id.in_(nurse_ids), Visit.id != visit.id,
                   Visit.status != VisitStatus.CANCELLED, Visit.scheduled_start >= start,
                   Visit.scheduled_start < visit.scheduled_start)
            .order_by(Visit.scheduled_start))
    # Ordered by start: the last row per nurse wins.
    return {nurse_id: (lat, lon) for nurse_id, lat, lon in session.execute(stmt) if nurse_id}


def _sort_key(row: dict[str, Any]) -> tuple[Any, ...]:
    distance = row["distance_km"]
    return (not row["eligible"], distance is None, distance or 0.0, row["load"],
            row["nurse"]["name"])


def candidates(session: Session, visit_id: uuid.UUID, include_ineligible: bool,
               zone: ZoneInfo, access: Access) -> dict[str, Any]:
    """Active nurses for the visit: eligible first, then nearest, then least loaded."""
    visit = get_one(session, Visit, visit_id, access, lambda v: v.patient_id)
    return for_visit(session, visit, include_ineligible, zone)


def _nurses(session: Session, search: str | None) -> list[User]:
    """Active nurses by name; ``search`` any part of the name or e-mail."""
    stmt = select(User).where(User.role == Role.NURSE, User.active.is_(True))
    if search:
        pattern = contains(search)
        stmt = stmt.where(or_(User.name.ilike(pattern, escape="\\"),
                              User.email.ilike(pattern, escape="\\")))
    return list(session.scalars(stmt.order_by(User.name)))


def for_visit(session: Session, visit: Visit, include_ineligible: bool,
              zone: ZoneInfo, search: str | None = None,
              keep: Collection[uuid.UUID] = ()) -> dict[str, Any]:
    """``candidates`` of a visit the caller has already read (and audited) in scope, of the
    nurses ``search`` finds by name or e-mail when given; the nurses in ``keep`` (the one
    assigned, the one a refused form chose) are listed even when not eligible.
    ``left_out`` counts the ineligible ones not listed (a search reaches them)."""
    order = session.get(TherapyOrder, visit.order_id) if visit.order_id else None
    here = session.get(ServiceLocation, visit.service_location_id)
    day = visit.scheduled_start.astimezone(zone).date()
    start, end = local_day_bounds(day, zone)
    nurses = _nurses(session, search)
    ids = [nurse.id for nurse in nurses]
    refusals = eligibility.reasons_for_many(session, nurses, order)
    loads = _loads(session, ids, start, end)
    places = _previous_places(session, ids, visit, start)
    rows = []
    for nurse in nurses:
        if refusals[nurse.id] and not include_ineligible and nurse.id not in keep:
            continue
        place = places.get(nurse.id)
        distance = None
        if place is not None and here is not None:
            distance = round(distance_m(*place, here.latitude, here.longitude) / 1000, 1)
        rows.append({"nurse": {"id": nurse.id, "name": nurse.name},
                     "eligible": not refusals[nurse.id], "reasons": refusals[nurse.id],
                     "load": loads.get(nurse.id, 0), "distance_km": distance,
                     "assigned": nurse.id == visit.nurse_id})
    return {"visit_id": visit.id, "date": day, "candidates": sorted(rows, key=_sort_key),
            "left_out": len(nurses) - len(rows)}
