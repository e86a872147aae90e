"""Who may take a visit: an active nurse with the order's competency, not overdue on the
training that keeps it current. Each refusal is a short, stable reason string."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Role, TherapyOrder, TrainingModule, TrainingState, TrainingStatus, User

NOT_A_NURSE = "not_a_nurse"
INACTIVE = "inactive"
MISSING_COMPETENCY = "missing_competency"
TRAINING_OVERDUE = "training_overdue"
# Reasons no override can lift: the visit would go to someone who cannot sync it.
BINDING = frozenset({NOT_A_NURSE, INACTIVE})


def code_of(reason: str) -> str:
    """``missing_competency: tpn`` → ``missing_competency``."""
    return reason.split(":", 1)[0]


def overridable(reasons: Sequence[str]) -> bool:
    """Whether a coordinator's override may lift every one of ``reasons``."""
    return not any(code_of(reason) in BINDING for reason in reasons)


def _overdue(session: Session, nurse_ids: Sequence[uuid.UUID],
             competency: str) -> dict[uuid.UUID, list[str]]:
    """Titles of required modules for ``competency`` each nurse is overdue on (one query)."""
    found: dict[uuid.UUID, list[str]] = {}
    if not nurse_ids:
        return found
    stmt = (select(TrainingStatus.nurse_id, TrainingModule.title)
            .join(TrainingModule, TrainingModule.id == TrainingStatus.module_id)
            .where(TrainingStatus.nurse_id.in_(list(nurse_ids)),
                   TrainingStatus.state == TrainingState.OVERDUE,
                   TrainingModule.required.is_(True),
                   TrainingModule.competency == competency)
            .order_by(TrainingModule.title))
    for nurse_id, title in session.execute(stmt):
        found.setdefault(nurse_id, []).append(title)
    return found


def _own(nurse: User, competency: str | None) -> list[str]:
    """Reasons that need nothing but the nurse's own record."""
    if nurse.role is not Role.NURSE:
        return [NOT_A_NURSE]
    result = [] if nurse.active else [INACTIVE]
    if competency and competency not in (nurse.competencies or ()):
        result.append(f"{MISSING_COMPETENCY}: {competency}")
    return result


def reasons_for_many(session: Session, nurses: Sequence[User],
                     order: TherapyOrder | None) -> dict[uuid.UUID, list[str]]:
    """Why each of ``nurses`` may not take a visit of ``order`` (empty list: eligible)."""
    competency = order.required_competency if order is not None else None
    result = {nurse.id: _own(nurse, competency) for nurse in nurses}
    if competency:
        nurse_ids = [n.id for n in nurses if result[n.id] != [NOT_A_NURSE]]
        for nurse_id, titles in _overdue(session, nurse_ids, competency).items():
            result[nurse_id].extend(f"{TRAINING_OVERDUE}: {title}" for title in titles)
    return result


def reasons(session: Session, nurse: User, order: TherapyOrder | None) -> list[str]:
    """Why ``nurse`` may not take a visit of ``order``, e.g. ``["missing_competency: tpn"]``."""
    return reasons_for_many(session, [nurse], order)[nurse.id]
