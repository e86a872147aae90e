"""The demo agency's week: which nurse takes each order, at what time, and its visits.

The visits are the orders' own occurrences (``services.occurrences``), so a visit
starts at its order's ``window_start`` by construction. What keeps a nurse from being in
two homes at once is the order's time: each order is given to a qualified nurse, at the
first time of day at which none of its occurrences in the assigned weeks overlaps
another of her visits (travel between homes included).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.models import (
    FrequencyKind,
    LocationKind,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
    VisitStatus,
)
from server.services.occurrences import occurrences

# Time between two of a nurse's visits: she drives from one home to the next.
TRAVEL = timedelta(minutes=30)
# A visit starts and ends within the nurse's working day (local time).
DAY_STARTS, DAY_ENDS = time(6, 30), time(22, 0)
SLOT = timedelta(minutes=30)


@dataclass(frozen=True)
class Span:
    """The demo's visits: from ``since`` through local day ``last_day``; those before
    local day ``assigned_before`` have a nurse, later ones wait on the board."""

    since: datetime
    assigned_before: date
    last_day: date
    zone: ZoneInfo


@dataclass
class Round:
    """One nurse's booked visits (start, end plus travel) and her doses per day."""

    nurse: User
    booked: list[tuple[datetime, datetime]] = field(default_factory=list)
    load: float = 0.0

    def fits(self, starts: Sequence[datetime], length: timedelta) -> bool:
        """Whether visits at ``starts`` leave travel time before and after her others."""
        return not any(start < busy_end and busy_start < start + length + TRAVEL
                       for start in starts for busy_start, busy_end in self.booked)


def _candidate_times(preferred: time) -> list[time]:
    """Every half hour of the working day, the therapy's preferred time first."""
    slots: list[time] = []
    moment = datetime.combine(date.min, DAY_STARTS)
    while moment.time() < DAY_ENDS:
        slots.append(moment.time())
        moment += SLOT
    anchor = datetime.combine(date.min, preferred)
    return sorted(slots, key=lambda t: (abs(datetime.combine(date.min, t) - anchor), t))


def _within_day(starts: Sequence[datetime], length: timedelta, zone: ZoneInfo) -> bool:
    """Every visit starts and ends inside the working day (no 2 a.m. dose visits)."""
    for start in starts:
        local = start.astimezone(zone)
        end = local + length
        if local.time() < DAY_STARTS or end.date() != local.date() or end.time() > DAY_ENDS:
            return False
    return True


def _assigned_starts(order: TherapyOrder, span: Span) -> list[datetime]:
    """The order's occurrences that get a nurse, under its current ``window_start``."""
    last = span.assigned_before - timedelta(days=1)
    return occurrences(order, span.since, last, span.zone)


def _first_fit(order: TherapyOrder, preferred: time, rounds: Sequence[Round],
               span: Span) -> tuple[Round, time, list[datetime]] | None:
    """The least-loaded nurse and earliest-preferred time at which the order fits."""
    length = timedelta(minutes=order.window_minutes)
    for nurse_round in sorted(rounds, key=lambda r: (r.load, r.nurse.email)):
        for candidate in _candidate_times(preferred):
            order.window_start = candidate
            starts = _assigned_starts(order, span)
            if _within_day(starts, length, span.zone) and nurse_round.fits(starts, length):
                return nurse_round, candidate, starts
    return None


def plan_rounds(orders: Sequence[tuple[TherapyOrder, time]], nurses: Sequence[User],
                span: Span) -> dict[uuid.UUID, uuid.UUID]:
    """Set each order's ``window_start`` and give it one nurse (continuity of care).

    Orders needing a competency go first, and among them the longest visits, so the
    nurses who hold it still have room. Returns the nurse of each order.
    """
    rounds = {nurse.id: Round(nurse) for nurse in nurses}
    nurse_of: dict[uuid.UUID, uuid.UUID] = {}
    for order, preferred in sorted(orders, key=lambda pair: _urgency(pair[0])):
        needed = order.required_competency
        qualified = [r for r in rounds.values()
                     if needed is None or needed in (r.nurse.competencies or [])]
        fit = _first_fit(order, preferred, qualified, span)
        if fit is None:
            raise RuntimeError(f"demo order {order.id} fits no nurse's day; "
                               "fewer patients or more nurses")
        nurse_round, order.window_start, starts = fit
        length = timedelta(minutes=order.window_minutes)
        nurse_round.booked.extend((start, start + length + TRAVEL) for start in starts)
        nurse_round.load += timedelta(days=1) / _dose_interval(order)
        nurse_of[order.id] = nurse_round.nurse.id
    return nurse_of


def _urgency(order: TherapyOrder) -> tuple[bool, int, str]:
    return (order.required_competency is None, -order.window_minutes, str(order.id))


def _dose_interval(order: TherapyOrder) -> timedelta:
    """Time between doses; daily and weekly step in local calendar days."""
    if order.frequency_kind is FrequencyKind.EVERY_N_HOURS:
        return timedelta(hours=order.frequency_interval)
    if order.frequency_kind is FrequencyKind.WEEKLY:
        return timedelta(weeks=order.frequency_interval)
    if order.frequency_kind is FrequencyKind.EVERY_N_DAYS:
        return timedelta(days=order.frequency_interval)
    return timedelta(days=1)


def span_of(today: date, days_back: int, days_ahead: int, horizon: int,
            zone: ZoneInfo) -> Span:
    """The demo's span around local day ``today``."""
    since = datetime.combine(today - timedelta(days=days_back), time(), zone).astimezone(UTC)
    return Span(since, today + timedelta(days=days_ahead), today + timedelta(days=horizon),
                zone)


@dataclass(frozen=True)
class Placed:
    """An order as the visit builder needs it: its patient, nurse and where she goes."""

    order: TherapyOrder
    nurse_id: uuid.UUID
    place: Callable[[datetime], ServiceLocation]


def build_visits(placed: Sequence[Placed], span: Span,
                 demo_id: Callable[[str, object], uuid.UUID]) -> list[Visit]:
    """One scheduled visit per occurrence of each order over the span, with fixed ids."""
    return [visit for one in placed for visit in _visits_of(one, span, demo_id)]


def _visits_of(placed: Placed, span: Span,
               demo_id: Callable[[str, object], uuid.UUID]) -> Iterator[Visit]:
    order = placed.order
    length = timedelta(minutes=order.window_minutes)
    for start in occurrences(order, span.since, span.last_day, span.zone):
        local_start = start.astimezone(span.zone)
        assigned = local_start.date() < span.assigned_before
        yield Visit(
            id=demo_id("visit", f"{order.id}:{local_start:%Y%m%dT%H%M}"),
            patient_id=order.patient_id, order_id=order.id, occurrence_at=start,
            nurse_id=placed.nurse_id if assigned else None, scheduled_start=start,
            scheduled_end=start + length, service_location_id=placed.place(local_start).id,
            # Every visit starts scheduled: documentation, not the seed, completes it.
            status=VisitStatus.SCHEDULED)


def at_work(home: ServiceLocation, work: ServiceLocation | None, minutes: int,
            local_start: datetime) -> ServiceLocation:
    """Short weekday daytime visits happen at work for patients who gave a workplace."""
    if (work is not None and work.kind is LocationKind.WORK and local_start.weekday() < 5
            and 9 <= local_start.hour < 17 and minutes <= 60):
        return work
    return home
