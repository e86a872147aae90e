"""Shared steps for the scheduling tests: run the generator, read visits in local time."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import Visit, VisitStatus
from server.services.visit_generation import extend_horizon

NEW_YORK = ZoneInfo("America/New_York")


def generate(app: Flask, now: datetime, order_ids: Collection[uuid.UUID] | None = None,
             horizon: int = 14) -> dict[str, int]:
    """Run the generator and commit, as the nightly job does."""
    with app.app_context():
        counts = extend_horizon(db.session, now, horizon, NEW_YORK, order_ids)
        db.session.commit()
        return counts


def local_starts(app: Flask, order_id: uuid.UUID,
                 statuses: Collection[VisitStatus] = (VisitStatus.SCHEDULED,)) -> list[str]:
    """The order's visits as local 'YYYY-MM-DD HH:MM' strings, in time order."""
    with app.app_context():
        rows = db.session.scalars(select(Visit).where(
            Visit.order_id == order_id, Visit.status.in_(list(statuses)))
            .order_by(Visit.scheduled_start))
        return [v.scheduled_start.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M") for v in rows]


def visit_row(app: Flask, visit_id: uuid.UUID) -> dict[str, Any]:
    """The stored visit's user-visible fields."""
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit is not None
        return {"status": visit.status.value, "nurse_id": visit.nurse_id,
                "cancel_reason": visit.cancel_reason,
                "assignment_override": visit.assignment_override,
                "scheduled_start": visit.scheduled_start, "scheduled_end": visit.scheduled_end,
                "service_location_id": visit.service_location_id, "version": visit.version}
