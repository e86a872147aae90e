"""A physician's own patients and inbox: only the patients the treating-physician rule
gives him (``scope.patient_scope``: his primary patients and those he ordered for), each
with its active orders and latest visit (with its NEWS2 score), and his notifications.

Each part is read as the API reads it, scoped and audited: one ``list`` of patients, one of
therapy orders, one of visits (naming the patients whose latest visit is shown), one of
notifications.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from server import audit
from server.models import (
    EarlyWarningScore,
    OrderStatus,
    Patient,
    TherapyOrder,
    User,
    Visit,
    VisitStatus,
)
from server.services import inbox, orders, patients, scope
from server.services.records import Access, Page, scoped

PATIENTS_PER_PAGE = 25
INBOX_SIZE = 20
MAX_ORDERS = 500  # active orders of 25 patients; far above what a page holds
Rule = Callable[[User], ColumnElement[bool] | None]


@dataclass(frozen=True)
class PatientSummary:
    """One of his patients with her active orders, latest visit and its latest NEWS2."""

    patient: Patient
    orders: list[TherapyOrder] = field(default_factory=list)
    latest_visit: Visit | None = None
    news2: EarlyWarningScore | None = None


@dataclass(frozen=True)
class PhysicianHome:
    """What the physician's first page shows."""

    patients: list[PatientSummary]
    patients_total: int
    inbox: Page
    unread: int


def _scoped(access: Access, physician: User, rule: Rule) -> Access:
    return Access(access.actor, access.now, rule(physician))


def _latest_visits(session: Session, patient_ids: list[uuid.UUID], access: Access
                   ) -> dict[uuid.UUID, Visit]:
    """Each patient's latest visit begun by now (cancelled ones aside); one audited list."""
    if not patient_ids:
        return {}
    rank = func.row_number().over(partition_by=Visit.patient_id,
                                  order_by=(Visit.scheduled_start.desc(), Visit.id.desc()))
    ranked = scoped(select(Visit.id, rank.label("rank"))
                    .where(Visit.patient_id.in_(patient_ids),
                           Visit.status != VisitStatus.CANCELLED,
                           Visit.scheduled_start <= access.now), access.condition).subquery()
    latest = session.scalars(select(Visit).join(ranked, ranked.c.id == Visit.id)
                             .where(ranked.c.rank == 1))
    found = {visit.patient_id: visit for visit in latest}
    audit.record(session, access.actor, "list", "visits", at=access.now,
                 details={"count": len(found), "view": "latest",
                          "patient_ids": sorted(str(p) for p in found)})
    return found


def _latest_scores(session: Session, visit_ids: Iterable[uuid.UUID]
                   ) -> dict[uuid.UUID, EarlyWarningScore]:
    """The last NEWS2 score of each visit (vital signs are scored per set taken)."""
    found: dict[uuid.UUID, EarlyWarningScore] = {}
    for score in session.scalars(select(EarlyWarningScore)
                                 .where(EarlyWarningScore.visit_id.in_(list(visit_ids)))
                                 .order_by(EarlyWarningScore.taken_at)):
        found[score.visit_id] = score
    return found


def _summaries(session: Session, physician: User, shown: list[Patient],
               access: Access) -> list[PatientSummary]:
    ids = [patient.id for patient in shown]
    active = orders.list_orders(session, {"status": OrderStatus.ACTIVE.value,
                                          "patient_ids": ids},
                                _scoped(access, physician, scope.order_condition), 1,
                                MAX_ORDERS).items if ids else []
    latest = _latest_visits(session, ids, _scoped(access, physician, scope.visit_condition))
    scores = _latest_scores(session, [visit.id for visit in latest.values()])
    session.commit()
    summaries = []
    for patient in shown:
        visit = latest.get(patient.id)
        summaries.append(PatientSummary(
            patient, [order for order in active if order.patient_id == patient.id], visit,
            scores.get(visit.id) if visit is not None else None))
    return summaries


def physician_home(session: Session, physician: User, access: Access, page: int
                   ) -> PhysicianHome:
    """His patients (``page`` of them, by last name) with their orders and latest visit,
    and his newest notifications."""
    found = patients.list_patients(session, {}, _scoped(access, physician, scope.patient_scope),
                                   page, PATIENTS_PER_PAGE)
    summaries = _summaries(session, physician, list(found.items), access)
    own = inbox.list_own(session, access, None, 1, INBOX_SIZE)
    return PhysicianHome(summaries, found.total, own, inbox.unread_count(session, access))
