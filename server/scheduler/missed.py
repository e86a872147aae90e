"""The missed-visits job: a window passed with no check-in — missed, or not known yet.

A visit is *missed* only when the nurse's device has synced since its window ended (its
outbox was flushed, so documentation would have arrived). Until then it is ``late_unknown``:
the documentation may be on its way; a later run promotes it once the device syncs.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.models import Device, Visit, VisitStatus
from server.review_items import close_items, fact_key
from server.scheduler.alerts import aware, open_alert
from server.services.notifications import notify

OPEN = (VisitStatus.SCHEDULED, VisitStatus.LATE_UNKNOWN)


def _last_contact(session: Session, nurse_ids: set[uuid.UUID]) -> dict[uuid.UUID, datetime]:
    """Each nurse's latest device contact, over all her devices."""
    if not nurse_ids:
        return {}
    rows = session.execute(select(Device.user_id, func.max(Device.last_seen_at)).where(
        Device.user_id.in_(nurse_ids), Device.last_seen_at.is_not(None))
        .group_by(Device.user_id)).all()
    return {nurse: seen for nurse, seen in rows if seen is not None}


def _mark_missed(session: Session, visit: Visit, at: datetime) -> None:
    visit.status, visit.missed_reason = VisitStatus.MISSED, "no_documentation"
    close_items(session, visit.id, ("visit_late_unknown",), "promoted_to_missed", at)
    open_alert(session, "visit_missed",
               "No documentation arrived for the visit, and the nurse's device has synced "
               "since its window ended.", dedupe_key=fact_key("visit_missed", visit.id), now=at,
               patient_id=visit.patient_id, visit_id=visit.id)
    assert visit.nurse_id is not None
    notify(session, visit.nurse_id, "visit_missed", "Visit marked missed",
           "A visit's window ended with no check-in. If you saw the patient, document the "
           "visit now; otherwise your coordinator will follow up.",
           dedupe_key=f"visit_missed:{visit.id}:{visit.nurse_id}", now=at, visit_id=visit.id)


def _mark_late(session: Session, visit: Visit, at: datetime) -> None:
    visit.status = VisitStatus.LATE_UNKNOWN
    open_alert(session, "visit_late_unknown",
               "No check-in yet, and the nurse's device has not synced since the window "
               "ended: documentation may be on its way.",
               dedupe_key=fact_key("visit_late_unknown", visit.id), now=at,
               patient_id=visit.patient_id, visit_id=visit.id)


def _mark_unassigned(session: Session, visit: Visit, at: datetime) -> None:
    visit.status, visit.missed_reason = VisitStatus.MISSED, "unassigned"
    open_alert(session, "visit_missed_unassigned",
               "The visit's window ended and no nurse was ever assigned.",
               dedupe_key=fact_key("visit_missed_unassigned", visit.id), now=at,
               patient_id=visit.patient_id, visit_id=visit.id)


def run(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """Mark visits whose window ended ``MISSED_VISIT_GRACE_MINUTES`` ago without a check-in."""
    grace = timedelta(minutes=int(config["MISSED_VISIT_GRACE_MINUTES"]))
    visits = session.scalars(select(Visit).where(
        Visit.status.in_(OPEN), Visit.checked_in_at.is_(None),
        Visit.scheduled_end < at - grace).order_by(Visit.scheduled_end, Visit.id)
        .with_for_update()).all()
    contact = _last_contact(session, {v.nurse_id for v in visits if v.nurse_id is not None})
    counts = {"missed": 0, "late_unknown": 0, "unassigned": 0, "still_late": 0}
    for visit in visits:
        seen = contact.get(visit.nurse_id) if visit.nurse_id is not None else None
        if visit.nurse_id is None:
            _mark_unassigned(session, visit, at)
            counts["unassigned"] += 1
        elif seen is not None and aware(seen) >= visit.scheduled_end:
            _mark_missed(session, visit, at)
            counts["missed"] += 1
        elif visit.status is VisitStatus.SCHEDULED:
            _mark_late(session, visit, at)
            counts["late_unknown"] += 1
        else:
            counts["still_late"] += 1
    session.flush()
    return counts
