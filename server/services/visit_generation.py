"""Visits from orders: each active order's occurrences over a rolling horizon.

The unique key (order_id, occurrence_at) makes generation idempotent: running it twice, or
in two processes at once, leaves one visit per occurrence. Nothing here commits; the
caller (a request, the nightly job, the seed command) owns the transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
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
from server.services.kept_visits import CANCEL, REINSTATE, RESHAPE, Held
from server.services.occurrences import is_occurrence, local_start, occurrences

# Statuses of a visit nobody started: unless documented, the generator may cancel or
# reshape it.
UNTOUCHED = (VisitStatus.SCHEDULED, VisitStatus.LATE_UNKNOWN)
REASON_ORDER_INACTIVE = "Order is {status}; visits generated from it were cancelled."
REASON_DISCHARGED = "Patient discharged; future visits were cancelled."
REASON_SCHEDULE_CHANGED = "Order schedule changed; this occurrence no longer exists."
_CHUNK = 500
T = TypeVar("T")


@dataclass(frozen=True)
class Stop:
    """Why the generator cancels visits: the review item's ``change`` and ``cause``, and
    the ``cancel_reason`` an undocumented visit gets."""

    change: str
    cause: str
    reason: str


DISCHARGED = Stop("patient_discharged", "the patient was discharged", REASON_DISCHARGED)
SCHEDULE_CHANGED = Stop("schedule_changed", "the order's schedule no longer has this "
                        "occurrence", REASON_SCHEDULE_CHANGED)


@dataclass
class _Run:
    """One pass of the generator: its clock, the documentation on the future visits it
    read (``services/documented``), what it did and what it held back."""

    now: datetime
    documented: dict[uuid.UUID, set[str]]
    counts: dict[str, int] = field(default_factory=lambda: {
        "created": 0, "cancelled": 0, "updated": 0, "reinstated": 0, "kept": 0})
    held: list[Held] = field(default_factory=list)

    def documentation(self, visit: Visit) -> tuple[str, ...]:
        """What is documented on ``visit`` (empty: nothing)."""
        kinds = set(self.documented.get(visit.id, ()))
        kinds |= {"check_in"} if visit.checked_in_at is not None else set()
        kinds |= {"sign"} if visit.signed_at is not None else set()
        return tuple(sorted(kinds))

    def hold(self, visit: Visit, action: str, change: str, cause: str,
             would_set: dict[str, Any]) -> None:
        """Leave a documented future visit as it is, for a review item instead."""
        self.held.append(Held(visit, change, action, cause, self.documentation(visit),
                              would_set))
        self.counts["kept"] += 1


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


def _untouched(run: _Run, visit: Visit) -> bool:
    """Future, not started, not documented: safe to cancel or reshape."""
    return (visit.status in UNTOUCHED and visit.scheduled_start > run.now
            and not run.documentation(visit))


def _kept(run: _Run, visit: Visit) -> bool:
    """Future, not cancelled, and documented: what an automatic change must hold back on."""
    return (visit.status is not VisitStatus.CANCELLED and visit.scheduled_start > run.now
            and bool(run.documentation(visit)))


def _cancel(visit: Visit, reason: str) -> None:
    visit.status = VisitStatus.CANCELLED
    visit.cancel_reason = reason


def _chunks(ids: list[T]) -> Iterator[list[T]]:
    for i in range(0, len(ids), _CHUNK):
        yield ids[i:i + _CHUNK]


def _start(session: Session, now: datetime, visits: Iterable[Visit]) -> _Run:
    """A run that knows the documentation on ``visits`` still ahead, one query per chunk."""
    ahead = [visit.id for visit in visits if visit.scheduled_start > now]
    documented: dict[uuid.UUID, set[str]] = {}
    for chunk in _chunks(ahead):
        documented.update(documentation_on(session, chunk))
    return _Run(now, documented)


def _finish(session: Session, run: _Run) -> None:
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


def _stop(run: _Run, visits: Iterable[Visit], stop: Stop) -> None:
    """Cancel the untouched visits; keep the documented ones, and say so."""
    for visit in visits:
        if _untouched(run, visit):
            _cancel(visit, stop.reason)
            run.counts["cancelled"] += 1
        elif _kept(run, visit):
            run.hold(visit, CANCEL, stop.change, stop.cause,
                     {"status": VisitStatus.CANCELLED.value, "cancel_reason": stop.reason})


def _stop_reason(order: TherapyOrder) -> Stop | None:
    if order.patient.status is not PatientStatus.ACTIVE:
        return DISCHARGED
    if order.status is not OrderStatus.ACTIVE:
        words = order.status.value.replace("_", " ")
        return Stop(f"order_{order.status.value}", f"the order is {words}",
                    REASON_ORDER_INACTIVE.format(status=words))
    return None


def _reinstate(run: _Run, order: TherapyOrder, visit: Visit, location_id: uuid.UUID) -> None:
    """Bring back an occurrence the generator cancelled (say, during a hold) — unless
    documentation arrived on it since: then it stays as it is, for a person."""
    assert visit.occurrence_at is not None
    end = visit.occurrence_at + timedelta(minutes=order.window_minutes)
    if run.documentation(visit):
        run.hold(visit, REINSTATE, "order_resumed", "the order has this occurrence again",
                 {"status": VisitStatus.SCHEDULED.value, "nurse_id": None,
                  "scheduled_start": visit.occurrence_at.isoformat(),
                  "scheduled_end": end.isoformat(), "service_location_id": str(location_id)})
        return
    visit.status, visit.cancel_reason, visit.nurse_id = VisitStatus.SCHEDULED, None, None
    visit.assignment_override = None
    visit.scheduled_start, visit.scheduled_end = visit.occurrence_at, end
    visit.service_location_id = location_id
    run.counts["reinstated"] += 1


def _reshape(run: _Run, order: TherapyOrder, visit: Visit, location_id: uuid.UUID) -> None:
    """Give an untouched visit the order's new window length and location; a documented
    one keeps its own. A visit a person moved (start no longer its occurrence) keeps its
    times."""
    assert visit.occurrence_at is not None
    end = visit.occurrence_at + timedelta(minutes=order.window_minutes)
    changes: dict[str, Any] = {}
    if visit.scheduled_start == visit.occurrence_at and visit.scheduled_end != end:
        changes["scheduled_end"] = end
    if visit.service_location_id != location_id:
        changes["service_location_id"] = location_id
    if changes and _untouched(run, visit):
        for name, value in changes.items():
            setattr(visit, name, value)
        run.counts["updated"] += 1
    elif changes and _kept(run, visit):
        run.hold(visit, RESHAPE, "order_reshaped",
                 "the order's window length or location changed",
                 {name: value.isoformat() if isinstance(value, datetime) else str(value)
                  for name, value in changes.items()})


def _served_days(run: _Run, order: TherapyOrder, visits: list[Visit],
                 zone: ZoneInfo) -> set[date]:
    """Local days a day-based order already has a started or documented visit on: a
    schedule change must not add a second dose that day."""
    if order.frequency_kind is FrequencyKind.EVERY_N_HOURS:
        return set()
    return {v.scheduled_start.astimezone(zone).date() for v in visits
            if v.status is not VisitStatus.CANCELLED and not _untouched(run, v)}


def _follow(run: _Run, order: TherapyOrder, visit: Visit, location_id: uuid.UUID,
            current: bool, reshape: bool) -> None:
    """One existing occurrence after an order change: stopped, brought back or reshaped."""
    if not current:
        _stop(run, [visit], SCHEDULE_CHANGED)
    elif visit.status is VisitStatus.CANCELLED:
        if visit.scheduled_start > run.now and _generated_reason(visit.cancel_reason):
            _reinstate(run, order, visit, location_id)
    elif reshape:
        _reshape(run, order, visit, location_id)


def _sync_order(session: Session, run: _Run, order: TherapyOrder, visits: list[Visit],
                last_day: date, zone: ZoneInfo, reshape: bool) -> None:
    stop = _stop_reason(order)
    location_id = _location_id(order)
    if stop is not None or location_id is None:
        _stop(run, visits, stop or SCHEDULE_CHANGED)
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
        _follow(run, order, visit, location_id, current, reshape)
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
    return run.counts


def refresh(session: Session, now: datetime, horizon: Horizon,
            order_ids: Collection[uuid.UUID], reshape: bool = False) -> dict[str, int]:
    """``extend_horizon`` for the orders a request just changed."""
    return extend_horizon(session, now, horizon.days, horizon.zone, order_ids,
                          reshape=reshape)


def cancel_unordered_for_patient(session: Session, patient_id: uuid.UUID,
                                 now: datetime) -> int:
    """Cancel a discharged patient's future untouched visits that no order produced; a
    documented one stays, with a review item."""
    visits = list(session.scalars(select(Visit).where(
        Visit.patient_id == patient_id, Visit.order_id.is_(None),
        Visit.status != VisitStatus.CANCELLED, Visit.scheduled_start > now)))
    run = _start(session, now, visits)
    _stop(run, visits, DISCHARGED)
    _finish(session, run)
    return run.counts["cancelled"]
