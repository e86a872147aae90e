"""Scheduling visits by hand: create, reassign, reschedule, cancel."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from schemas.visits import VisitSchema
from server import audit
from server.errors import Conflict, Invalid, PreconditionRequired
from server.models import Role, ServiceLocation, TherapyOrder, Visit, VisitStatus
from server.services import changes, kept_visits
from server.services.documented import documentation_on
from server.services.records import Access, Page, get_one, list_page
from server.services.references import require_patient, require_user

EDITABLE = frozenset({VisitStatus.SCHEDULED})


def _dump(visit: Visit) -> Any:
    return VisitSchema().dump(visit)


def _check_location(session: Session, patient_id: uuid.UUID, location_id: uuid.UUID) -> None:
    location = session.get(ServiceLocation, location_id)
    if location is None or location.patient_id != patient_id:
        raise Invalid("The service location must be one of the patient's.",
                      {"service_location_id": ["Not a location of this patient."]})


def _check_order(session: Session, patient_id: uuid.UUID, order_id: uuid.UUID | None) -> None:
    if order_id is None:
        return
    order = session.get(TherapyOrder, order_id)
    if order is None or order.patient_id != patient_id:
        raise Invalid("The order must be one of the patient's.",
                      {"order_id": ["Not an order of this patient."]})


def create_visit(session: Session, data: dict[str, Any], access: Access) -> Visit:
    """Schedule a visit, optionally assigned to a nurse."""
    require_patient(session, data["patient_id"])
    _check_location(session, data["patient_id"], data["service_location_id"])
    _check_order(session, data["patient_id"], data.get("order_id"))
    if data.get("nurse_id") is not None:
        require_user(session, data["nurse_id"], Role.NURSE, "nurse_id")
    visit = Visit(**data)
    session.add(visit)
    audit.record(session, access.actor, "create", "visits", at=access.now, entity_id=visit.id,
                 patient_id=visit.patient_id)
    changes.commit(session, "This visit conflicts with a stored one.", visit, _dump)
    return visit


def list_visits(session: Session, filters: dict[str, Any], access: Access, page: int,
                size: int) -> Page:
    """Visits in the user's scope, in schedule order."""
    stmt = select(Visit).order_by(Visit.scheduled_start, Visit.id)
    for name in ("nurse_id", "patient_id"):
        if name in filters:
            stmt = stmt.where(getattr(Visit, name) == filters[name])
    if "status" in filters:
        stmt = stmt.where(Visit.status == VisitStatus(filters["status"]))
    if "from_" in filters:
        stmt = stmt.where(Visit.scheduled_end > filters["from_"])
    if "to" in filters:
        stmt = stmt.where(Visit.scheduled_start < filters["to"])
    return list_page(session, stmt, access, "visits", page, size, lambda v: v.patient_id)


def update_visit(session: Session, visit_id: uuid.UUID, data: dict[str, Any],
                 expected_version: int | None, access: Access) -> Visit:
    """Reassign, reschedule or cancel a scheduled visit, based on ``expected_version``."""
    visit = get_one(session, Visit, visit_id, access, lambda v: v.patient_id, "update")
    if expected_version is None:
        raise PreconditionRequired(
            "Say which version you edited: send If-Match: \"<version>\" or a version field.",
            {"current_version": visit.version})
    changes.check_version(session, access, visit, expected_version, _dump, visit.patient_id)
    if visit.status not in EDITABLE:
        raise changes.refusal_with_current(
            session, access, visit, Conflict,
            f"A visit that is {visit.status.value} can no longer be changed here.", _dump,
            visit.patient_id, code="visit_not_editable")
    if data.get("nurse_id") is not None:
        require_user(session, data["nurse_id"], Role.NURSE, "nurse_id")
    if "service_location_id" in data:
        _check_location(session, visit.patient_id, data["service_location_id"])
    if "status" in data:
        data = {**data, "status": VisitStatus(data["status"])}
    changes.assign(visit, data)
    if visit.scheduled_end <= visit.scheduled_start:
        raise Invalid("The visit must end after it starts.", {"scheduled_end": ["Too early."]})
    if visit.status is VisitStatus.CANCELLED:
        _flag_documented(session, visit, access)
    audit.record(session, access.actor, "update", "visits", at=access.now, entity_id=visit.id,
                 patient_id=visit.patient_id, details={"fields": sorted(data)})
    changes.commit(session, "This visit conflicts with a stored one.", visit, _dump)
    return visit


def _flag_documented(session: Session, visit: Visit, access: Access) -> None:
    """A person may cancel a documented visit, but not silently: a review item says so."""
    documentation = documentation_on(session, [visit.id]).get(visit.id)
    if documentation:
        kept_visits.open_cancelled_by_hand(session, visit, tuple(sorted(documentation)),
                                           access.now)
