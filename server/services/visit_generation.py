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
from typing import Any, TypeVar
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
from server.services import kept_visits
from server.services.documented import documentation_on
from server.services.existing_visits import (
    DISCHARGED,
    SCHEDULE_CHANGED,
    UNTOUCHED,
    Run,
    follow,
    stop,
    stop_for,
    untouched,
)
from server.services.occurrences import is_occurrence, local_start, occurrences

_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class Horizon:
    """How far ahead visits exist, and the zone whose local days and times they follow."""

    days: int
    zone: ZoneInfo

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Horizon:
        """``SCHEDULE_HORIZON_DAYS`` in ``AGENCY_TIMEZONE``, from the app's configuration."""
        return cls(int(config["SCHEDULE_HORIZON_DAYS"]), ZoneInfo(str(config["AGENCY_TIMEZONE"])))


def _location_id(order: TherapyOrder) -> uuid.UUID | None:
    """The order's location, else the patient's home, else any of the patient's."""
    if order.service_location_id is not None:
        return order.service_location_id
    locations = sorted(order.patient.locations, key=lambda loc: loc.kind is not LocationKind.HOME)
    return locations[0].id if locations else None


def _chunks(ids: list[T]) -> Iterator[list[T]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _start(session: Session, now: datetime, visits: Iterable[Visit]) -> Run:
    """A run that knows the documentation on ``visits`` still ahead, one query per chunk."""
    ahead = [visit.id for visit in visits if visit.scheduled_start > now]
    documented: dict[uuid.UUID, set[str]] = {}
    for chunk in _chunks(ahead):
        documented.update(documentation_on(session, chunk))
    return Run(now, documented)


def _finish(session: Session, run: Run) -> None:
    """Open the review items for what the run held back, a chunk at a time."""
    for batch in _chunks(run.held):
        kept_visits.open_items(session, batch, run.now)


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


def _served_days(run: Run, order: TherapyOrder, visits: list[Visit],
                 zone: ZoneInfo) -> set[date]:
    """Local days a day-based order already has a started or documented visit on: a
    schedule change must not add a second dose that day."""
    if order.frequency_kind is FrequencyKind.EVERY_N_HOURS:
        return set()
    return {v.scheduled_start.astimezone(zone).date() for v in visits
            if v.status is not VisitStatus.CANCELLED and not untouched(run, v)}


def _sync_order(session: Session, run: Run, order: TherapyOrder, visits: list[Visit],
                last_day: date, zone: ZoneInfo, reshape: bool) -> None:
    why = stop_for(order)
    location_id = _location_id(order)
    if why is not None or location_id is None:
        stop(run, visits, why or SCHEDULE_CHANGED)
        return
    wanted = occurrences(order, run.now, last_day, zone)
    wanted_set = set(wanted)
    served = _served_days(run, order, visits, zone)
    by_occurrence = {v.occurrence_at: v for v in visits if v.occurrence_at is not None}
    for visit in by_occurrence.values():
        assert visit.occurrence_at is not None
        current = visit.occurrence_at in wanted_set or (
            visit.occurrence_at.astimezone(zone).date() > last_day
            and is_occurrence(order, visit.occurrence_at, zone))
        follow(run, order, visit, location_id, current, reshape)
    new = [Visit(patient_id=order.patient_id, order_id=order.id, occurrence_at=start,
                 nurse_id=None, service_location_id=location_id, scheduled_start=start,
                 scheduled_end=start + timedelta(minutes=order.window_minutes))
           for start in wanted
           if start not in by_occurrence and start.astimezone(zone).date() not in served]
    run.counts["created"] += _insert(session, new)


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
    """The counts of ``run_horizon`` (what the nightly job and the seed command log)."""
    return run_horizon(session, now, horizon_days, zone, order_ids, reshape=reshape).counts


def run_horizon(session: Session, now: datetime, horizon_days: int, zone: ZoneInfo,
                order_ids: Collection[uuid.UUID] | None = None, *,
                reshape: bool = False) -> Run:
    """Bring orders' visits up to date through local day today + ``horizon_days``.

    Active orders of active patients get one visit per occurrence (new ones unassigned);
    other orders, and occurrences a schedule change removed, lose their future untouched
    visits; ``reshape`` (an order just edited) also gives untouched visits its new window
    length and location. Started or documented visits (``services/documented``) are never
    changed: each change held back on one opens a ``documented_visit_kept`` review item
    (counted as ``kept``). Does not commit.
    """
    last_day = now.astimezone(zone).date() + timedelta(days=horizon_days)
    orders = _orders(session, order_ids, now)
    since = local_start(now.astimezone(zone).date(), time(0, 0), zone)
    existing = _existing(session, [order.id for order in orders], now, since)
    run = _start(session, now, (visit for visits in existing.values() for visit in visits))
    for order in orders:
        _sync_order(session, run, order, existing[order.id], last_day, zone, reshape)
    _finish(session, run)
    session.flush()
    return run


def refresh(session: Session, now: datetime, horizon: Horizon,
            order_ids: Collection[uuid.UUID], reshape: bool = False) -> Run:
    """``run_horizon`` for the orders a request just changed: the run says what it held
    back (the console's preview shows those visits)."""
    return run_horizon(session, now, horizon.days, horizon.zone, order_ids, reshape=reshape)


def cancel_unordered_for_patient(session: Session, patient_id: uuid.UUID,
                                 now: datetime) -> int:
    """Cancel a discharged patient's future untouched visits that no order produced; a
    documented one stays, with a review item."""
    visits = list(session.scalars(select(Visit).where(
        Visit.patient_id == patient_id, Visit.order_id.is_(None),
        Visit.status != VisitStatus.CANCELLED, Visit.scheduled_start > now)))
    run = _start(session, now, visits)
    stop(run, visits, DISCHARGED)
    _finish(session, run)
    return run.counts["cancelled"]
