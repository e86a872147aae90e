"""Keeping each nurse's ``TrainingStatus`` true: who must take what, by when, and how she stands.

Eligibility for visits reads these rows (an OVERDUE status of a ``required`` module with
competency C makes her ineligible for visits needing C), so they must never lie: a status
exists exactly for each member of a published module's audience, and points at the
lineage's current version.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import (
    ModuleStatus,
    TrainingModule,
    TrainingState,
    TrainingStatus,
    User,
)
from server.training import rules


def published_modules(session: Session) -> list[TrainingModule]:
    """Every module version on devices now."""
    return list(session.scalars(select(TrainingModule).where(
        TrainingModule.status == ModuleStatus.PUBLISHED).order_by(TrainingModule.id)))


def active_users(session: Session) -> list[User]:
    """Everyone who could be in an audience."""
    return list(session.scalars(select(User).where(User.active.is_(True)).order_by(User.id)))


def first_due(module: TrainingModule, today: date, zone: ZoneInfo) -> date | None:
    """The due date of a status opened ``today`` (an agency-local date) on this module."""
    published_on = today if module.published_at is None else rules.local_date(
        module.published_at, zone)
    return rules.first_due(module.due_rule, published_on, today)


def align(session: Session, module: TrainingModule, users: list[User], today: date,
          zone: ZoneInfo,
          existing: dict[tuple[uuid.UUID, uuid.UUID], TrainingStatus]) -> tuple[int, int]:
    """Create statuses for new members of a published module, drop those of ex-members.

    A status still pointing at an older version is moved to this one and starts over: a
    pass of a superseded version is not a pass of the current one. ``zone`` is the
    agency's, whose calendar dates due dates are.
    Returns (created or restarted, removed).
    """
    wanted = {user.id for user in rules.members(module.audience, users)}
    created = removed = 0
    for user_id in sorted(wanted, key=str):
        status = existing.get((user_id, module.lineage_id))
        due = first_due(module, today, zone)
        if status is None:
            status = TrainingStatus(nurse_id=user_id, lineage_id=module.lineage_id,
                                    module_id=module.id, state=TrainingState.NOT_STARTED,
                                    due_on=due)
            session.add(status)
            existing[(user_id, module.lineage_id)] = status
            created += 1
        elif status.module_id != module.id:
            status.module_id, status.due_on = module.id, due
            status.state = TrainingState.NOT_STARTED
            status.passed_at, status.reminded_for = None, None
            created += 1
    for (user_id, lineage_id), status in list(existing.items()):
        if lineage_id == module.lineage_id and user_id not in wanted:
            session.delete(status)
            del existing[(user_id, lineage_id)]
            removed += 1
    return created, removed


def statuses_by_key(session: Session, lineage_id: uuid.UUID | None = None
                    ) -> dict[tuple[uuid.UUID, uuid.UUID], TrainingStatus]:
    """Statuses keyed by (nurse, lineage), of one lineage or all."""
    stmt = select(TrainingStatus)
    if lineage_id is not None:
        stmt = stmt.where(TrainingStatus.lineage_id == lineage_id)
    return {(s.nurse_id, s.lineage_id): s for s in session.scalars(stmt)}


def align_module(session: Session, module: TrainingModule, now: datetime,
                 zone: ZoneInfo) -> tuple[int, int]:
    """Align the statuses of one lineage with its (just published) current version."""
    return align(session, module, active_users(session), rules.local_date(now, zone), zone,
                 statuses_by_key(session, module.lineage_id))


def drop_lineage(session: Session, lineage_id: uuid.UUID) -> int:
    """Remove the statuses of a lineage no longer published (retired): nobody owes it."""
    statuses = list(statuses_by_key(session, lineage_id).values())
    for status in statuses:
        session.delete(status)
    return len(statuses)


def advance(status: TrainingStatus, module: TrainingModule, today: date) -> str | None:
    """Move a status along the calendar; returns what happened ('overdue', 'reopened')."""
    if (status.state is TrainingState.PASSED and rules.is_recurring(module.due_rule)
            and status.due_on is not None and today >= status.due_on):
        status.state = TrainingState.NOT_STARTED  # a new cycle is open
        if status.due_on < today:
            status.state = TrainingState.OVERDUE
            return "overdue"
        return "reopened"
    if (status.state in (TrainingState.NOT_STARTED, TrainingState.FAILED)
            and status.due_on is not None and status.due_on < today):
        status.state = TrainingState.OVERDUE
        return "overdue"
    if (status.state is TrainingState.OVERDUE and status.due_on is not None
            and status.due_on >= today):
        status.state = TrainingState.NOT_STARTED  # a new version moved the date later
        return "reopened"
    return None


def record_attempt(status: TrainingStatus, module: TrainingModule, passed: bool,
                   now: datetime, zone: ZoneInfo) -> None:
    """Her standing after an attempt at the current version, scored by the server.

    A pass of a recurring module comes due again counted from her local date in ``zone``.
    """
    status.attempts += 1
    status.last_attempt_at = now
    if passed:
        status.state, status.passed_at = TrainingState.PASSED, now
        status.due_on = rules.next_due_after_pass(module.due_rule,
                                                  rules.local_date(now, zone), status.due_on)
        status.reminded_for = None if rules.is_recurring(module.due_rule) else status.reminded_for
    elif status.state is TrainingState.NOT_STARTED:
        status.state = TrainingState.FAILED
    # A failed retake leaves a pass standing and an overdue module overdue.
