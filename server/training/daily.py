"""The daily training job: statuses for every audience member, overdue marks, reminders.

Registered by the scheduler as ``training_daily``. Idempotent: a second run on the same day
changes nothing and notifies nobody twice (``reminded_for`` and the notification's unique
``dedupe_key``). It does not commit; the caller does.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from server.models import TrainingModule, TrainingState, TrainingStatus
from server.services.notifications import notify
from server.training import rules, standing

REMINDER_KIND = "training_reminder"


def dedupe_key(status: TrainingStatus, due_on: date) -> str:
    """One reminder per nurse, module lineage and due date."""
    return f"{REMINDER_KIND}:{status.nurse_id}:{status.lineage_id}:{due_on.isoformat()}"


def _remind(session: Session, status: TrainingStatus, module: TrainingModule,
            today: date, days: int, now: datetime) -> bool:
    """Notify her devices once when the due date is ``days`` away or closer."""
    due = status.due_on
    if due is None or status.reminded_for == due or not today <= due <= today + timedelta(days):
        return False
    if status.state is TrainingState.PASSED and not rules.is_recurring(module.due_rule):
        return False
    status.reminded_for = due
    left = (due - today).days
    when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
    body = f"Complete '{module.title}' by {due.isoformat()}."
    if module.required:
        body += " It is required for visits needing this competency."
    sent = notify(session, status.nurse_id, REMINDER_KIND,
                  f"Training due {when}: {module.title}", body,
                  dedupe_key=dedupe_key(status, due), now=now, module_id=module.id)
    return sent is not None


def run_daily(session: Session, now: datetime, zone: ZoneInfo,
              reminder_days: int) -> dict[str, int]:
    """Create missing statuses, mark overdue, reopen recurring cycles, send reminders.

    ``zone`` is the agency's (due dates are its calendar dates); reminders go out
    ``reminder_days`` before a due date.
    """
    today = rules.local_date(now, zone)
    counts = {"created": 0, "removed": 0, "overdue": 0, "reopened": 0, "reminded": 0}
    users = standing.active_users(session)
    existing = standing.statuses_by_key(session)
    current: dict[uuid.UUID, TrainingModule] = {}
    for module in standing.published_modules(session):
        created, removed = standing.align(session, module, users, today, zone, existing)
        counts["created"] += created
        counts["removed"] += removed
        current[module.lineage_id] = module
    for (_nurse, lineage_id), status in sorted(existing.items(), key=lambda kv: str(kv[0])):
        found = current.get(lineage_id)
        if found is None:  # nothing published in this lineage any more
            session.delete(status)
            counts["removed"] += 1
            continue
        moved = standing.advance(status, found, today)
        if moved:
            counts[moved] += 1
        if _remind(session, status, found, today, reminder_days, now):
            counts["reminded"] += 1
    session.flush()
    return counts

