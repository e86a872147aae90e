"""A nurse's sync scope, and turning feed entries into the changes her device applies.

Scope: her visits from 7 days back to 14 days ahead (not cancelled); the patients of those
visits with their service locations, orders and pumps; her own profile; commands for this
device. Whatever a feed entry names is checked against the scope *now*: in scope it goes out
as an upsert with its current data, out of scope as a remove — never as data she may not see.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from schemas.notifications import NotificationSchema
from schemas.orders import OrderSchema
from schemas.patients import PatientSchema, SyncServiceLocationSchema
from schemas.pumps import PumpSchema
from schemas.users import UserBriefSchema
from schemas.visits import VisitSchema
from server import review_delivery
from server.models import (
    DeviceCommand,
    Notification,
    Patient,
    Pump,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
    VisitStatus,
)
from server.training import delivery as training_delivery

BACK = timedelta(days=7)
AHEAD = timedelta(days=14)
CHILD_MODELS: tuple[tuple[str, Any], ...] = (
    ("service_location", ServiceLocation), ("order", TherapyOrder), ("pump", Pump),
)
DUMPERS: dict[str, Any] = {
    "visit": VisitSchema(), "patient": PatientSchema(exclude=("locations",)),
    "service_location": SyncServiceLocationSchema(), "order": OrderSchema(), "pump": PumpSchema(),
    "profile": UserBriefSchema(), "notification": NotificationSchema(),
}
# A snapshot carries the notifications of this many days; older ones are history.
NOTIFICATION_DAYS = timedelta(days=14)


@dataclass(frozen=True)
class Terms:
    """What a scope's statements compare with: a scope's values, or (``bound``) bind
    parameters of the same names, for statements built once and given the values later."""

    nurse_id: Any
    device_id: Any
    visits_from: Any
    visits_until: Any
    notified_since: Any
    resolved_since: Any

    @classmethod
    def bound(cls) -> Terms:
        """Each term as the bind parameter of its name."""
        return cls(*(bindparam(term.name) for term in fields(cls)))

    def params(self) -> dict[str, Any]:
        """The terms by name, to execute a statement built on ``bound()``."""
        return {term.name: getattr(self, term.name) for term in fields(self)}


def visits_query(terms: Terms) -> Select[Visit]:
    """Her visits inside the window."""
    return select(Visit).where(
        Visit.nurse_id == terms.nurse_id, Visit.status != VisitStatus.CANCELLED,
        Visit.scheduled_start >= terms.visits_from, Visit.scheduled_start < terms.visits_until)


def notifications_query(terms: Terms) -> Select[Notification]:
    """Her notifications of the last ``NOTIFICATION_DAYS`` (the snapshot's)."""
    return select(Notification).where(Notification.user_id == terms.nurse_id,
                                      Notification.created_at >= terms.notified_since)


def patient_ids_query(terms: Terms) -> Select[uuid.UUID]:
    """Ids of the patients of her visits inside the window."""
    return visits_query(terms).with_only_columns(Visit.patient_id).distinct()


@dataclass(frozen=True)
class Scope:
    """Whose scope, for which device, at which moment."""

    nurse_id: uuid.UUID
    device_id: uuid.UUID
    at: datetime

    @cached_property
    def terms(self) -> Terms:
        """Her windows at ``at``: visits, notifications and review items."""
        return Terms(self.nurse_id, self.device_id, self.at - BACK, self.at + AHEAD,
                     self.at - NOTIFICATION_DAYS, self.at - review_delivery.RESOLVED_DAYS)

    def visits(self) -> Select[Visit]:
        """Her visits inside the window."""
        return visits_query(self.terms)

    def notifications(self) -> Select[Notification]:
        """Her notifications of the last ``NOTIFICATION_DAYS`` (the snapshot's)."""
        return notifications_query(self.terms)

    def patient_ids(self) -> Select[uuid.UUID]:
        """Ids of the patients of her visits inside the window."""
        return patient_ids_query(self.terms)


def upsert(kind: str, entity: Any) -> dict[str, Any]:
    """An upsert change carrying the entity's current data."""
    if kind in training_delivery.TRAINING_KINDS:
        return training_delivery.upsert(kind, entity)
    if kind == review_delivery.KIND:
        return review_delivery.upsert(entity)
    if kind == "device_command":
        data = {"type": entity.kind, "created_at": entity.created_at.isoformat()}
        return {"type": kind, "id": str(entity.id), "op": "upsert", "version": 1, "data": data}
    return {"type": kind, "id": str(entity.id), "op": "upsert",
            "version": getattr(entity, "version", 1), "data": DUMPERS[kind].dump(entity)}


def remove(kind: str, entity_id: uuid.UUID) -> dict[str, Any]:
    """A remove change: the device purges the record."""
    return {"type": kind, "id": str(entity_id), "op": "remove", "version": None, "data": None}


class ChangeList:
    """Changes of one page, each entity once, in the order of its last mention."""

    def __init__(self) -> None:
        self._changes: dict[tuple[str, str], dict[str, Any]] = {}

    def add(self, change: dict[str, Any]) -> None:
        """Add or move ``change`` to the end."""
        key = (change["type"], change["id"])
        self._changes.pop(key, None)
        self._changes[key] = change

    def items(self) -> list[dict[str, Any]]:
        """The changes, in order."""
        return list(self._changes.values())


def _by_id(session: Session, model: Any, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
    wanted = set(ids)
    if not wanted:
        return {}
    return {row.id: row for row in session.scalars(select(model).where(model.id.in_(wanted)))}


def _patients_in_scope(session: Session, scope: Scope, ids: set[uuid.UUID]) -> set[uuid.UUID]:
    if not ids:
        return set()
    return set(session.scalars(scope.patient_ids().where(Visit.patient_id.in_(ids))))


def add_patient_closure(session: Session, scope: Scope, patient_ids: set[uuid.UUID],
                        out: ChangeList) -> None:
    """Upsert in-scope patients with their locations, orders and pumps; remove the rest."""
    inside = _patients_in_scope(session, scope, patient_ids)
    for patient in _by_id(session, Patient, inside).values():
        out.add(upsert("patient", patient))
    for kind, model in CHILD_MODELS:
        for child in session.scalars(select(model).where(model.patient_id.in_(patient_ids))):
            out.add(upsert(kind, child) if child.patient_id in inside else remove(kind, child.id))
    for patient_id in sorted(patient_ids - inside, key=str):
        out.add(remove("patient", patient_id))


def resolve(session: Session, scope: Scope, mentions: list[tuple[str, uuid.UUID]],
            out: ChangeList) -> None:
    """Turn feed mentions ``(type, id)`` into upserts and removes for this device."""
    by_type: dict[str, set[uuid.UUID]] = {}
    for kind, entity_id in mentions:
        by_type.setdefault(kind, set()).add(entity_id)
    # The patients mentioned, and those of mentioned records: each is resolved whole, once.
    # A visit's patient only when the visit left her scope and the patient with it: one
    # that entered is mentioned with its patient (feed_fanout), and one that changed
    # within her scope changes nothing else she holds.
    patients = set(by_type.get("patient", set()))
    left = _resolve_visits(session, scope, by_type.get("visit", set()), out)
    patients |= left - _patients_in_scope(session, scope, left)
    patients |= _resolve_children(session, by_type, out)
    add_patient_closure(session, scope, patients, out)
    training_delivery.resolve(session, scope.nurse_id, by_type, out.add)
    _resolve_personal(session, scope, by_type, out)
    review_delivery.resolve(session, scope.nurse_id, by_type.get(review_delivery.KIND, set()),
                            out.add)


def _resolve_visits(session: Session, scope: Scope, visit_ids: set[uuid.UUID],
                    out: ChangeList) -> set[uuid.UUID]:
    """Upsert the visits in her window now, remove the others; the removed ones' patients."""
    visits = _by_id(session, Visit, visit_ids)
    in_window = set(session.scalars(scope.visits().with_only_columns(Visit.id).where(
        Visit.id.in_(visits)))) if visits else set()
    patients: set[uuid.UUID] = set()
    for visit_id in visit_ids:
        visit = visits.get(visit_id)
        out.add(upsert("visit", visit) if visit_id in in_window else remove("visit", visit_id))
        if visit is not None and visit_id not in in_window:
            patients.add(visit.patient_id)
    return patients


def _resolve_children(session: Session, by_type: dict[str, set[uuid.UUID]],
                      out: ChangeList) -> set[uuid.UUID]:
    """The patients of mentioned locations, orders and pumps (resolved with the patient);
    a pump assigned to nobody any more is removed here, as no patient will carry it."""
    patients: set[uuid.UUID] = set()
    for kind, model in CHILD_MODELS:
        for child in _by_id(session, model, by_type.get(kind, set())).values():
            if child.patient_id is not None:
                patients.add(child.patient_id)
            elif kind == "pump":
                out.add(remove(kind, child.id))
    return patients


def _resolve_personal(session: Session, scope: Scope, by_type: dict[str, set[uuid.UUID]],
                      out: ChangeList) -> None:
    """Her profile, this device's commands and her notifications; anyone else's are skipped."""
    if scope.nurse_id in by_type.get("profile", set()):
        out.add(upsert("profile", session.get_one(User, scope.nurse_id)))
    for command in _by_id(session, DeviceCommand, by_type.get("device_command", set())).values():
        if command.device_id == scope.device_id:
            out.add(upsert("device_command", command))
    for note in _by_id(session, Notification, by_type.get("notification", set())).values():
        if note.user_id == scope.nurse_id:
            out.add(upsert("notification", note))
