"""When an order's visits fall: its occurrences in the agency's local days and times.

Pure functions of the order and the zone (no database), so the generator, the seed and
the tests agree on one reading of a schedule. Day-based orders (daily, every N days,
weekly) keep their local wall-clock time across a DST change; every-N-hours orders keep
their spacing in elapsed hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.models import FrequencyKind, TherapyOrder


def local_start(day: date, at: time, zone: ZoneInfo) -> datetime:
    """``day`` at local ``at`` in ``zone``, as UTC."""
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def _days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


def _week_start(day: date) -> date:
    return day - timedelta(days=day.isoweekday() - 1)


def _on_day(order: TherapyOrder, day: date) -> bool:
    """Whether a day-based order (daily, every N days, weekly) occurs on ``day``."""
    interval = max(order.frequency_interval or 1, 1)
    if order.frequency_kind is FrequencyKind.DAILY:
        return True
    if order.frequency_kind is FrequencyKind.EVERY_N_DAYS:
        return (day - order.start_date).days % interval == 0
    weekdays = set(order.weekdays or ()) or {order.start_date.isoweekday()}
    weeks = (_week_start(day) - _week_start(order.start_date)).days // 7
    return day.isoweekday() in weekdays and weeks % interval == 0


def occurrences(order: TherapyOrder, lower: datetime, last_day: date,
                zone: ZoneInfo) -> list[datetime]:
    """UTC starts of ``order``'s occurrences from ``lower`` through local day ``last_day``."""
    first_day = max(order.start_date, lower.astimezone(zone).date())
    if order.end_date is not None:
        last_day = min(last_day, order.end_date)
    if first_day > last_day:
        return []
    if order.frequency_kind is FrequencyKind.EVERY_N_HOURS:
        return _hourly(order, lower, last_day, zone)
    starts = (local_start(day, order.window_start, zone) for day in _days(first_day, last_day)
              if _on_day(order, day))
    return [start for start in starts if start >= lower]


def _hourly(order: TherapyOrder, lower: datetime, last_day: date,
            zone: ZoneInfo) -> list[datetime]:
    """Every N elapsed hours (doses keep their spacing across a DST change)."""
    step = timedelta(hours=max(order.frequency_interval or 1, 1))
    anchor = local_start(order.start_date, order.window_start, zone)
    upper = local_start(last_day + timedelta(days=1), time(0, 0), zone)
    skip = max(0, -(-(lower - anchor) // step))  # ceiling division of timedeltas
    result, current = [], anchor + skip * step
    while current < upper:
        result.append(current)
        current += step
    return result


def is_occurrence(order: TherapyOrder, start: datetime, zone: ZoneInfo) -> bool:
    """Whether ``start`` (UTC) is one of ``order``'s occurrences under its current schedule."""
    local = start.astimezone(zone).date()
    return start in occurrences(order, start, local, zone)
