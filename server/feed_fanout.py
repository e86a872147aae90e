"""Fan-out at write time: every change to synced data lands in the affected nurses' feeds.

A SQLAlchemy ``after_flush`` hook, so no service can forget it: whatever changes a visit,
patient, location, order, pump, nurse profile, device command or review item — API, sync,
jobs — writes the feed entries in the same transaction (a review item *opened* is told by
``review_items.open_item``: its insert statement is no flush). Histories (visit revisions,
pump assignments) are kept by ``server.history``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any

from flask import has_app_context
from sqlalchemy import Connection, event, inspect, select
from sqlalchemy.orm import Session

from server import review_delivery
from server.models import (
    Device,
    DeviceCommand,
    Notification,
    Patient,
    Pump,
    Role,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
    VisitStatus,
)
from server.models.base import utcnow
from server.training.fanout import changes as training_changes
from sync import feed

# A patient change reaches nurses with a visit from this far back onwards (see pull scope).
LOOKBACK = timedelta(days=7)


def _now() -> datetime:
    if has_app_context():
        from server import clock

        return clock.now()
    return utcnow()


def _history(obj: Any, name: str) -> tuple[list[Any], list[Any]]:
    """(new values, old values) of an attribute changed in this flush."""
    history = inspect(obj).attrs[name].history
    return list(history.added or ()), list(history.deleted or ())


def nurses_of_patient(connection: Connection, patient_id: uuid.UUID,
                      now: datetime) -> set[uuid.UUID]:
    """Nurses whose current scope may hold this patient (recent or future visits)."""
    rows = connection.execute(
        select(Visit.nurse_id).distinct().where(
            Visit.patient_id == patient_id, Visit.nurse_id.is_not(None),
            Visit.status != VisitStatus.CANCELLED, Visit.scheduled_start >= now - LOOKBACK)
    ).scalars()
    return {nurse for nurse in rows if nurse is not None}


def _is_nurse(connection: Connection, user_id: uuid.UUID) -> bool:
    role = connection.execute(select(User.role).where(User.id == user_id)).scalar_one()
    return bool(role == Role.NURSE)


def _may_enter_scope(visit: Visit) -> bool:
    """True when this change may bring the visit into its nurse's scope (new to her,
    moved in time, or no longer cancelled): her device may not hold its patient yet.
    A status moved by her own documentation is not such a change."""
    if _history(visit, "nurse_id")[0] or _history(visit, "scheduled_start")[1]:
        return True
    return VisitStatus.CANCELLED in _history(visit, "status")[1]


def _visit_changes(visit: Visit) -> Iterator[feed.Change]:
    _added, removed = _history(visit, "nurse_id")
    for old in removed:
        if old is not None:
            yield old, "visit", visit.id
    if visit.nurse_id is not None:
        yield visit.nurse_id, "visit", visit.id
        # The patient with her locations, orders and pumps goes out only then: a delta
        # about a visit she holds carries the visit alone (issue 12, item 8).
        if _may_enter_scope(visit):
            yield visit.nurse_id, "patient", visit.patient_id


def _changes_for(connection: Connection, obj: Any, now: datetime) -> Iterator[feed.Change]:
    yield from training_changes(connection, obj)
    yield from review_delivery.changes(connection, obj)
    if isinstance(obj, Visit):
        yield from _visit_changes(obj)
    elif isinstance(obj, Patient | ServiceLocation | TherapyOrder):
        kind = {Patient: "patient", ServiceLocation: "service_location",
                TherapyOrder: "order"}[type(obj)]
        patient_id = obj.id if isinstance(obj, Patient) else obj.patient_id
        for nurse in nurses_of_patient(connection, patient_id, now):
            yield nurse, kind, obj.id
    elif isinstance(obj, Pump):
        added, removed = _history(obj, "patient_id")
        for patient_id in {obj.patient_id, *added, *removed} - {None}:
            for nurse in nurses_of_patient(connection, patient_id, now):
                yield nurse, "pump", obj.id
    elif isinstance(obj, User) and obj.role is Role.NURSE:
        yield obj.id, "profile", obj.id
    elif isinstance(obj, DeviceCommand):
        owner = connection.execute(select(Device.user_id).where(Device.id == obj.device_id))
        yield owner.scalar_one(), "device_command", obj.id
    elif isinstance(obj, Notification) and _is_nurse(connection, obj.user_id):
        # Feeds are nurses' (devices): a staff member's notifications wait in her inbox,
        # and a push that notifies a physician must not lock a feed nobody pulls.
        yield obj.user_id, "notification", obj.id


def _touched(session: Session) -> Iterable[Any]:
    yield from session.new
    yield from (obj for obj in session.dirty if session.is_modified(obj))
    yield from session.deleted


def changes_of(connection: Connection, objs: Iterable[Any]) -> tuple[list[feed.Change],
                                                                        datetime]:
    """The feed entries these changed objects call for, and the time to write them at:
    what ``after_flush`` writes for them. Read while their changes are still pending (a
    visit's entries depend on what changed), for a caller that writes them itself
    (``reconcile.visit_writes``), with ``feed.append``."""
    now = _now()
    return [change for obj in objs for change in _changes_for(connection, obj, now)], now


def after_flush(session: Session, _context: Any) -> None:
    """Write feed entries for everything this flush changed."""
    connection = session.connection()
    changes, now = changes_of(connection, _touched(session))
    if changes:
        feed.append(connection, changes, now)


def init_app() -> None:
    """Install the hook once per process (it applies to every SQLAlchemy session)."""
    if not event.contains(Session, "after_flush", after_flush):
        event.listen(Session, "after_flush", after_flush)
