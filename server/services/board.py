"""The coordinator's board: one local day, per nurse, with what needs attention."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Row, and_, func, or_, select
from sqlalchemy.orm import Session

from server import audit
from server.models import (
    Device,
    DeviceStatus,
    Patient,
    ReviewItem,
    ReviewStatus,
    ServiceLocation,
    Severity,
    User,
    Visit,
    VisitEvent,
    VisitStatus,
)
from server.services.candidates import local_day_bounds
from server.services.recalls.board import recalled_pumps
from server.services.recalls.trace import KINDS as RECALL_KINDS
from server.services.records import Access

# Review items the scheduling jobs raise; the board shows them beside the day.
ALERT_KINDS = ("silent_device", "visit_missed", "visit_late_unknown", "pump_pm_due",
               *RECALL_KINDS.values())
# A critical item nobody acknowledged in time (server/scheduler/escalation), until someone
# does or resolves it: whatever its kind, the coordinators must see it.
ESCALATED = and_(ReviewItem.escalated_at.is_not(None), ReviewItem.acknowledged_at.is_(None))
MAX_ALERTS = 200
# How far back today's board looks for visits still waiting on a device (late_unknown).
LATE_LOOKBACK = timedelta(days=7)
_SEVERITY_ORDER = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


# Whether a visit's check-in or check-out was outside every service location: a column of
# the day's read (an index probe per visit) rather than a second statement naming the day's
# hundreds of visit ids as parameters (bench/console.py).
_EVV_EXCEPTION = (select(VisitEvent.id).where(
    VisitEvent.visit_id == Visit.id, VisitEvent.kind.in_(("check_in", "check_out")),
    VisitEvent.evv_status == "exception", VisitEvent.conflict.is_(False),
    VisitEvent.entered_in_error.is_(False)).exists().label("evv_exception"))

# What a lane shows of a visit, its patient and its location: plain rows, not entities.
_LANE_COLUMNS = (Visit.id, Visit.version, Visit.order_id, Visit.patient_id, Visit.nurse_id,
                 Visit.scheduled_start, Visit.scheduled_end, Visit.status,
                 Visit.checked_in_at, Visit.checked_out_at, Visit.service_location_id,
                 Visit.assignment_override, Patient.first_name, Patient.last_name,
                 ServiceLocation.kind.label("location_kind"), _EVV_EXCEPTION)

_ALERT_COLUMNS = (ReviewItem.id, ReviewItem.kind, ReviewItem.severity, ReviewItem.summary,
                  ReviewItem.visit_id, ReviewItem.device_id, ReviewItem.created_at,
                  ReviewItem.escalated_at)


def _day_visits(session: Session, start: datetime, end: datetime,
                today: bool) -> list[Row[Any]]:
    """The day's visits; today's board also carries earlier ones still late_unknown.

    Read as rows of the columns a lane shows, not as visits with their patient and location
    loaded: a busy day is some 500 visits, and building 1,500 entities (whole patient rows)
    was most of the board's time at agency scale (bench/console.py).
    """
    in_day = and_(Visit.scheduled_start >= start, Visit.scheduled_start < end,
                  Visit.status != VisitStatus.CANCELLED)
    unresolved = and_(Visit.status == VisitStatus.LATE_UNKNOWN,
                      Visit.scheduled_start >= start - LATE_LOOKBACK,
                      Visit.scheduled_start < start)
    stmt = (select(*_LANE_COLUMNS).join(Visit.patient).join(Visit.service_location)
            .where(or_(in_day, unresolved) if today else in_day)
            .order_by(Visit.scheduled_start, Visit.id))
    return list(session.execute(stmt))


def _evv(visit: Row[Any]) -> dict[str, Any]:
    if visit.evv_exception:
        state = "exception"
    elif visit.checked_out_at is not None:
        state = "checked_out"
    elif visit.checked_in_at is not None:
        state = "checked_in"
    else:
        state = "not_started"
    return {"state": state, "checked_in_at": visit.checked_in_at,
            "checked_out_at": visit.checked_out_at}


def _item(visit: Row[Any]) -> dict[str, Any]:
    return {"id": visit.id, "version": visit.version, "order_id": visit.order_id,
            "patient": {"id": visit.patient_id,
                        "name": f"{visit.first_name} {visit.last_name}"},
            "scheduled_start": visit.scheduled_start, "scheduled_end": visit.scheduled_end,
            "status": visit.status.value, "evv": _evv(visit),
            "service_location": {"id": visit.service_location_id,
                                 "kind": visit.location_kind.value},
            "assignment_override": visit.assignment_override}


def _nurse_rows(session: Session,
                nurse_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, tuple[str, datetime | None]]:
    """Each nurse's name and her devices' last sync (revoked ones left out), in one read."""
    synced = and_(Device.user_id == User.id, Device.status != DeviceStatus.REVOKED)
    stmt = (select(User.id, User.name, func.max(Device.last_seen_at))
            .outerjoin(Device, synced).where(User.id.in_(list(nurse_ids)))
            .group_by(User.id, User.name))
    return {user_id: (name, seen) for user_id, name, seen in session.execute(stmt)}


def _nurses(session: Session, visits: list[Row[Any]]) -> list[dict[str, Any]]:
    by_nurse: dict[uuid.UUID, list[Row[Any]]] = {}
    for visit in visits:
        if visit.nurse_id is not None:
            by_nurse.setdefault(visit.nurse_id, []).append(visit)
    nurses = _nurse_rows(session, by_nurse)
    rows = [{"nurse": {"id": nurse_id, "name": nurses[nurse_id][0]},
             "last_sync_at": nurses[nurse_id][1],
             "visits": [_item(v) for v in own]}
            for nurse_id, own in by_nurse.items()]
    return sorted(rows, key=lambda row: (row["nurse"]["name"], str(row["nurse"]["id"])))


def _review(session: Session) -> tuple[dict[str, int], list[dict[str, Any]]]:
    counts = dict.fromkeys((s.value for s in Severity), 0)
    for severity, count in session.execute(
            select(ReviewItem.severity, func.count()).where(
                ReviewItem.status == ReviewStatus.OPEN).group_by(ReviewItem.severity)):
        counts[severity.value] = count
    # The columns shown, not items with their JSON details: up to MAX_ALERTS rows a board.
    items = session.execute(select(*_ALERT_COLUMNS).where(
        ReviewItem.status == ReviewStatus.OPEN, or_(ReviewItem.kind.in_(ALERT_KINDS), ESCALATED))
        .order_by(ReviewItem.created_at.desc()).limit(MAX_ALERTS))
    alerts = [{"id": i.id, "kind": i.kind, "severity": i.severity.value, "summary": i.summary,
               "visit_id": i.visit_id, "device_id": i.device_id, "created_at": i.created_at,
               "escalated_at": i.escalated_at}
              for i in items]
    alerts.sort(key=lambda a: _SEVERITY_ORDER[Severity(str(a["severity"]))])
    return counts, alerts


def stamp(session: Session, day: date, zone: ZoneInfo, now: datetime) -> str:
    """A short fingerprint of what the board of ``day`` shows, without patient data.

    It changes when a visit of the day (or, today, a late one) changes (every change bumps
    its version), a device syncs, or a review item opens or closes; the console polls it
    and re-reads the board only then, so an unchanged board costs no audit event.
    """
    start, end = local_day_bounds(day, zone)
    if day == now.astimezone(zone).date():
        start -= LATE_LOOKBACK
    visits = session.execute(select(func.count(), func.coalesce(func.sum(Visit.version), 0))
                             .where(Visit.scheduled_start >= start,
                                    Visit.scheduled_start < end)).one()
    synced = session.scalar(select(func.max(Device.last_seen_at)))
    review = session.execute(select(func.count(), func.max(ReviewItem.created_at)).where(
        ReviewItem.status == ReviewStatus.OPEN)).one()
    parts = (day, *visits, synced, *review)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def board(session: Session, day: date | None, zone: ZoneInfo, access: Access) -> dict[str, Any]:
    """The day's visits per nurse (time order), the unassigned ones, open review counts and
    scheduling alerts, and the ``stamp`` they were read at (taken first: a change made
    while reading shows at the next poll); audited as one list naming the patients shown."""
    today = access.now.astimezone(zone).date()
    day = day or today
    fingerprint = stamp(session, day, zone, access.now)
    start, end = local_day_bounds(day, zone)
    visits = _day_visits(session, start, end, day == today)
    counts, alerts = _review(session)
    recalls = recalled_pumps(session)
    result = {"date": day, "time_zone": zone.key, "nurses": _nurses(session, visits),
              "unassigned": [_item(v) for v in visits if v.nurse_id is None],
              "review_counts": counts, "alerts": alerts, "recalled_pumps": recalls,
              "stamp": fingerprint}
    patients = sorted({str(v.patient_id) for v in visits}
                      | {str(p["id"]) for r in recalls for p in r["patients"]})
    audit.record(session, access.actor, "list", "visits", at=access.now,
                 details={"view": "board", "date": day.isoformat(), "count": len(visits),
                          "patient_ids": patients})
    session.commit()
    return result
