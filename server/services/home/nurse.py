"""A nurse's own week: her visits, her devices and her training due, read as the API reads
them (``visits.list_visits``, ``devices.list_devices``, ``training.report.rows``), each an
audited list of her own records only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.models import Device, TrainingState, User, Visit
from server.services import devices, scope, visits
from server.services.records import Access
from server.training import report

DAYS_AHEAD = 7
MAX_VISITS = 200  # far more than a nurse's fortnight; the page says when some are left out
MAX_DEVICES = 20
# The training she still owes: anything not passed (a failed attempt is still due).
OWED = frozenset({TrainingState.NOT_STARTED.value, TrainingState.FAILED.value,
                  TrainingState.OVERDUE.value})


@dataclass(frozen=True)
class NurseHome:
    """What the nurse's first page shows."""

    first_day: date
    last_day: date
    visits: list[Visit]
    visits_total: int
    devices: list[Device]
    training: list[dict[str, Any]] = field(default_factory=list)


def _window(now: datetime, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """Today in the agency's zone, and the UTC bounds of today and the next 7 days."""
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time.min, zone)
    end = datetime.combine(today + timedelta(days=DAYS_AHEAD + 1), time.min, zone)
    return today, start, end


def nurse_home(session: Session, nurse: User, access: Access, zone: ZoneInfo) -> NurseHome:
    """The nurse's visits today and the next 7 days (patient, window, status), her devices
    (last sync) and the modules she owes, due date first; three audited lists."""
    today, start, end = _window(access.now, zone)
    mine = Access(access.actor, access.now, scope.visit_condition(nurse))
    week = visits.list_visits(session, {"nurse_id": nurse.id, "from_": start, "to": end},
                              mine, 1, MAX_VISITS)
    own_devices = devices.list_devices(session, {"user_id": nurse.id}, access, 1, MAX_DEVICES)
    owed = [row for row in report.rows(session, {"nurse_id": nurse.id}, access)
            if row["state"] in OWED]
    owed.sort(key=lambda row: (row["due_on"] is None, row["due_on"] or today,
                               row["module_title"]))
    return NurseHome(today, today + timedelta(days=DAYS_AHEAD), list(week.items), week.total,
                     list(own_devices.items), owed)
