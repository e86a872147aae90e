"""Histories kept by the database itself: every visit version, every pump assignment.

A SQLAlchemy ``after_flush`` hook, like the feed fan-out, so that whatever changes a visit
or moves a pump (API, sync, jobs) leaves its trace in the same transaction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, event, insert, inspect, update
from sqlalchemy.orm import Session

from server.models import Pump, PumpAssignment, Visit, VisitRevision
from server.models.base import utcnow


def _now() -> datetime:
    from flask import has_app_context

    if has_app_context():
        from server import clock

        return clock.now()
    return utcnow()


def _revision(visit: Visit, now: datetime) -> dict[str, Any]:
    return {"id": uuid.uuid4(), "visit_id": visit.id, "version": visit.version,
            "nurse_id": visit.nurse_id, "status": visit.status.value,
            "scheduled_start": visit.scheduled_start, "scheduled_end": visit.scheduled_end,
            "service_location_id": visit.service_location_id, "changed_at": now}


def _record_pump(connection: Connection, pump: Pump, now: datetime) -> None:
    history = inspect(pump).attrs.patient_id.history
    if not history.added and not history.deleted:
        return
    for old in history.deleted or ():
        if old is not None:
            connection.execute(update(PumpAssignment).where(
                PumpAssignment.pump_id == pump.id, PumpAssignment.patient_id == old,
                PumpAssignment.unassigned_at.is_(None)).values(unassigned_at=now))
    if pump.patient_id is not None:
        connection.execute(insert(PumpAssignment).values(
            id=uuid.uuid4(), pump_id=pump.id, patient_id=pump.patient_id, assigned_at=now))


def write_revisions(connection: Connection, visits: list[Visit]) -> None:
    """A revision for each of these just-updated visits, in one statement: what
    ``after_flush`` writes for visits a caller updated itself (``reconcile.visit_writes``)."""
    if visits:
        now = _now()
        connection.execute(insert(VisitRevision), [_revision(visit, now) for visit in visits])


def after_flush(session: Session, _context: Any) -> None:
    """Write a revision for each changed visit (one statement for all: a push settles its
    visits in one flush) and an assignment for each moved pump."""
    now = _now()
    connection = session.connection()
    changed = [*session.new, *(o for o in session.dirty if session.is_modified(o))]
    revisions = [_revision(obj, now) for obj in changed if isinstance(obj, Visit)]
    if revisions:
        connection.execute(insert(VisitRevision), revisions)
    for obj in changed:
        if isinstance(obj, Pump):
            _record_pump(connection, obj, now)


def init_app() -> None:
    """Install the hook once per process."""
    if not event.contains(Session, "after_flush", after_flush):
        event.listen(Session, "after_flush", after_flush)
