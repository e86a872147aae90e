"""Visits from orders: each active order's occurrences over a rolling horizon.

The unique key (order_id, occurrence_at) makes generation idempotent: running it twice, or
in two processes at once, leaves one visit per occurrence. Nothing here commits; the
caller (a request, the nightly job, the seed command) owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from server.models import (
    FrequencyKind,
    LocationKind,
    OrderStatus,
    Patient,
    PatientStatus,
    TherapyOrder,
    Visit,
    VisitStatus,
)
from server.services.occurrences import is_occurrence, local_start, occurrences

# Visits nobody has started or documented: the generator may cancel or reshape them.
UNTOUCHED = (VisitStatus.SCHEDULED, VisitStatus.LATE_UNKNOWN)
REASON_ORDER_INACTIVE = "Order is {status}; visits generated from it were cancelled."
REASON_DISCHARGED = "Patient discharged; future visits were cancelled."
REASON_SCHEDULE_CHANGED = "Order schedule changed; this occurrence no longer exists."
_CHUNK = 500


@dataclass(frozen=True)
class Horizon:
    """How far ahead visits exist, and the zone whose local days and times they follow."""

    days: int
    zone: ZoneInfo

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Horizon:
        """``SCHEDULE_HORIZON_DAYS`` in ``AGENCY_TIMEZONE``, from the app's configuration."""
        return cls(int(config["SCHEDULE_HORIZON_DAYS"]), ZoneInfo(str(config["AGENCY_TIMEZONE"])))


def _generated_reason(reason: str | None) -> bool:
    """Whether the generator (not a person) cancelled a visit with this reason."""
    if reason is None:
        return False
    return reason in (REASON_DISCHARGED, REASON_SCHEDULE_CHANGED) or (
        reason.startswith("Order is ") and reason.endswith("generated from it were cancelled."))


def _location_id(order: TherapyOrder) -> uuid.UUID | None:
    """The order's location, else the patient's home, else any of the patient's."""
    if order.service_location_id is not None:
        return order.service_location_id
    locations = sorted(order.patient.locations, key=lambda loc: loc.kind is not LocationKind.HOME)
    return locations[0].id if locations else None


def _untouched(visit: Visit, now: datetime) -> bool:
    """Future, not started, not documented: safe to cancel or reshape."""
    return (visit.status in UNTOUCHED and visit.scheduled_start > now
            and visit.checked_in_at is None and visit.signed_at is None)


def _cancel(visit: Visit, reason: str) -> None:
    visit.status = VisitStatus.CANCELLED
    visit.cancel_reason = reason


def _chunks(ids: list[uuid.UUID]) -> Iterator[list[uuid.UUID]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _orders(session: Session, order_ids: Collection[uuid.UUID] | None,
            now: datetime) -> list[TherapyOrder]:
    """The given orders, or every producing order plus those with visits left to stop."""
    load = (selectinload(TherapyOrder.patient).selectinload(Patient.locations),)
    if order_ids is not None:
        ids = list(order_ids)
        return [order for chunk in _chunks(ids) for order in session.scalars(
            select(TherapyOrder).options(*load).where(TherapyOrder.id.in_(chunk)))]
    producing = and_(TherapyOrder.status == OrderStatus.ACTIVE,
                     Patient.status == PatientStatus.ACTIVE)
    stopping = TherapyOrder.id.in_(select(Visit.order_id).where(
        Visit.status.in_(UNTOUCHED), Visit.scheduled_start > now))
    stmt = (select(TherapyOrder).join(Patient, TherapyOrder.patient_id == Patient.id)
            .options(*load).where(or_(producing, stopping)).order_by(TherapyOrder.id))
    return list(session.scalars(stmt))


def _existing(session: Session, order_ids: list[uuid.UUID], now: datetime,
              since: datetime) -> dict[uuid.UUID, list[Visit]]:
    """Each order's visits from ``since`` (start of the local day) or still ahead, in one
    query per chunk of orders."""
    found: dict[uuid.UUID, list[Visit]] = {order_id: [] for order_id in order_ids}
    for chunk in _chunks(order_ids):
        stmt = select(Visit).where(Visit.order_id.in_(chunk), or_(
            Visit.occurrence_at >= since, Visit.scheduled_start > now))
        for visit in session.scalars(stmt):
            found[visit.order_id].append(visit)  # type: ignore[index]
    return found


def _stop(visits: Iterable[Visit], now: datetime, reason: str) -> int:
    count = 0
    for visit in visits:
        if _untouched(visit, now):
            _cancel(visit, reason)
            count += 1
    return count


def _stop_reason(order: TherapyOrder) -> str | None:
    if order.patient.status is not PatientStatus.ACTIVE:
        return REASON_DISCHARGED
    if order.status is not OrderStatus.ACTIVE:
        return REASON_ORDER_INACTIVE.format(status=order.status.value.replace("_", " "))
    return None


def _follow(order: TherapyOrder, visit: Visit, location_id: uuid.UUID, reshape: bool,
            counts: dict[str, int]) -> None:
    """Bring back an occurrence the generator cancelled (say, during a hold); with
    ``reshape``, give an untouched visit the order's new window length and location.

    A visit a person moved (start no longer its occurrence) keeps its times.
    """
    assert visit.occurrence_at is not None
    end = visit.occurrence_at + timedelta(minutes=order.window_minutes)
    if visit.status is VisitStatus.CANCELLED:
        visit.status, visit.cancel_reason, visit.nurse_id = VisitStatus.SCHEDULED, None, None
        visit.assignment_override = None
        visit.scheduled_start, visit.scheduled_end = visit.occurrence_at, end
        visit.service_location_id = location_id
        counts["reinstated"] += 1
        return
    if not reshape:
        return
    changed = False
    if visit.scheduled_start == visit.occurrence_at and visit.scheduled_end != end:
        visit.scheduled_end, changed = end, True
    if visit.service_location_id != location_id:
        visit.service_location_id, changed = location_id, True
    counts["updated"] += changed


def _served_days(order: TherapyOrder, visits: list[Visit], now: datetime,
                 zone: ZoneInfo) -> set[date]:
    """Local days a day-based order already has a started or documented visit on: a
    schedule change must not add a second dose that day."""
    if order.frequency_kind is FrequencyKind.EVERY_N_HOURS:
        return set()
    return {v.scheduled_start.astimezone(zone).date() for v in visits
            if v.status is not VisitStatus.CANCELLED and not _untouched(v, now)}


def _sync_order(session: Session, order: TherapyOrder, visits: list[Visit], now: datetime,
                last_day: date, zone: ZoneInfo, reshape: bool, counts: dict[str, int]) -> None:
    reason = _stop_reason(order)
    location_id = _location_id(order)
    if reason is not None or location_id is None:
        counts["cancelled"] += _stop(visits, now, reason or REASON_SCHEDULE_CHANGED)
        return
    wanted = occurrences(order, now, last_day, zone)
    wanted_set = set(wanted)
    served = _served_days(order, visits, now, zone)
    by_occurrence = {v.occurrence_at: v for v in visits if v.occurrence_at is not None}
    for visit in by_occurrence.values():
        assert visit.occurrence_at is not None
        current = visit.occurrence_at in wanted_set or (
            visit.occurrence_at.astimezone(zone).date() > last_day
            and is_occurrence(order, visit.occurrence_at, zone))
        revivable = (visit.status is VisitStatus.CANCELLED and visit.scheduled_start > now
                     and _generated_reason(visit.cancel_reason))
        if current and (_untouched(visit, now) or revivable):
            _follow(order, visit, location_id, reshape, counts)
        elif not current:
            counts["cancelled"] += _stop([visit], now, REASON_SCHEDULE_CHANGED)
    new = [Visit(patient_id=order.patient_id, order_id=order.id, occurrence_at=start,
                 nurse_id=None, service_location_id=location_id, scheduled_start=start,
                 scheduled_end=start + timedelta(minutes=order.window_minutes))
           for start in wanted
           if start not in by_occurrence and start.astimezone(zone).date() not in served]
    counts["created"] += _insert(session, new)


def _insert(session: Session, visits: list[Visit]) -> int:
    """Add ``visits``; an occurrence another generator stored meanwhile is skipped."""
    if not visits:
        return 0
    # Changes made so far must not ride in a savepoint that may be rolled back.
    session.flush()
    try:
        with session.begin_nested():
            session.add_all(visits)
            session.flush()
        return len(visits)
    except IntegrityError:
        pass
    created = 0
    for visit in visits:  # a concurrent run got some of them first: one at a time
        fresh = Visit(**{c: getattr(visit, c) for c in (
            "patient_id", "order_id", "occurrence_at", "nurse_id", "service_location_id",
            "scheduled_start", "scheduled_end")})
        try:
            with session.begin_nested():
                session.add(fresh)
                session.flush()
            created += 1
        except IntegrityError:
            continue
    return created


def extend_horizon(session: Session, now: datetime, horizon_days: int, zone: ZoneInfo,
                   order_ids: Collection[uuid.UUID] | None = None, *,
                   reshape: bool = False) -> dict[str, int]:
    """Bring orders' visits up to date through local day today + ``horizon_days``.

    Active orders of active patients get one visit per occurrence (new ones unassigned);
    other orders, and occurrences a schedule change removed, lose their future untouched
    visits; ``reshape`` (an order just edited) also gives untouched visits its new window
    length and location. Documented or started visits are never changed. Does not commit.
    """
    counts = {"created": 0, "cancelled": 0, "updated": 0, "reinstated": 0}
    last_day = now.astimezone(zone).date() + timedelta(days=horizon_days)
    orders = _orders(session, order_ids, now)
    since = local_start(now.astimezone(zone).date(), time(0, 0), zone)
    existing = _existing(session, [order.id for order in orders], now, since)
    for order in orders:
        _sync_order(session, order, existing[order.id], now, last_day, zone, reshape, counts)
    session.flush()
    return counts


def refresh(session: Session, now: datetime, horizon: Horizon,
            order_ids: Collection[uuid.UUID], reshape: bool = False) -> dict[str, int]:
    """``extend_horizon`` for the orders a request just changed."""
    return extend_horizon(session, now, horizon.days, horizon.zone, order_ids,
                          reshape=reshape)


def cancel_unordered_for_patient(session: Session, patient_id: uuid.UUID,
                                 now: datetime) -> int:
    """Cancel a discharged patient's future untouched visits that no order produced."""
    stmt = select(Visit).where(Visit.patient_id == patient_id, Visit.order_id.is_(None),
                               Visit.status.in_(UNTOUCHED), Visit.scheduled_start > now)
    return _stop(session.scalars(stmt), now, REASON_DISCHARGED)
