"""The staff directory: who works here, in what role, with which competencies, and how
each stands on her training.

Coordinators need it to turn a name into the id an assignment takes, the training lead to
see who is behind. It shows no e-mail, password or second-factor detail: only what the
office needs to know of a colleague. Reading it is one ``list`` audit event on ``users``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server import audit
from server.errors import Invalid
from server.models import Role, TrainingModule, TrainingState, TrainingStatus, User
from server.services.records import MAX_PAGE, Access, Page, contains


@dataclass(frozen=True)
class StaffEntry:
    """One colleague: her id (what an assignment takes), name, role and standing."""

    id: uuid.UUID
    name: str
    role: Role
    active: bool
    competencies: list[str]
    standing: dict[TrainingState, int] = field(default_factory=dict)
    overdue: list[str] = field(default_factory=list)


def _statuses(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
    """Each person's training statuses with their module's title."""
    found: dict[uuid.UUID, list[Any]] = {}
    if not ids:
        return found
    rows = session.execute(select(TrainingStatus.nurse_id, TrainingStatus.state,
                                  TrainingModule.title)
                           .join(TrainingModule, TrainingModule.id == TrainingStatus.module_id)
                           .where(TrainingStatus.nurse_id.in_(ids))
                           .order_by(TrainingModule.title))
    for nurse_id, state, title in rows:
        found.setdefault(nurse_id, []).append((state, title))
    return found


def _entry(user: User, statuses: list[Any]) -> StaffEntry:
    return StaffEntry(user.id, user.name, user.role, user.active, list(user.competencies),
                      dict(Counter(state for state, _title in statuses)),
                      [title for state, title in statuses if state is TrainingState.OVERDUE])


def staff_directory(session: Session, filters: dict[str, Any], access: Access, page: int,
                    size: int) -> Page:
    """Active staff by name, filtered by ``role`` and a ``q`` part of the name, a page of
    ``size`` at a time (an agency has sixty nurses and more)."""
    if page > MAX_PAGE:
        raise Invalid("The page number is too large.",
                      {"query": {"page": [f"Must be at most {MAX_PAGE}."]}})
    stmt = select(User).where(User.active.is_(True))
    if "role" in filters:
        stmt = stmt.where(User.role == Role(filters["role"]))
    if "q" in filters:
        stmt = stmt.where(User.name.ilike(contains(filters["q"]), escape="\\"))
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    users = list(session.scalars(stmt.order_by(User.name, User.id)
                                 .limit(size).offset((page - 1) * size)))
    statuses = _statuses(session, [u.id for u in users])
    entries = [_entry(user, statuses.get(user.id, [])) for user in users]
    audit.record(session, access.actor, "list", "users", at=access.now,
                 details={"count": len(entries), "view": "directory"})
    session.commit()
    return Page(items=entries, total=total)


def physicians(session: Session) -> list[tuple[uuid.UUID, str]]:
    """Active physicians by name, for the forms that name one (no patient data)."""
    rows = session.execute(select(User.id, User.name).where(
        User.role == Role.PHYSICIAN, User.active.is_(True)).order_by(User.name, User.id))
    return [(user_id, name) for user_id, name in rows]
