"""Giving visits to nurses: eligibility, the coordinator's audited override, bulk."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from schemas.assignment import OVERRIDE_MIN, AssignedVisitSchema
from server import audit
from server.errors import AppError, Conflict, Invalid, PreconditionRequired
from server.models import TherapyOrder, User, Visit, VisitStatus
from server.services import changes, eligibility
from server.services.records import Access, get_one

# A visit someone already started belongs to her documentation; moving it needs a reason.
STARTED = frozenset({VisitStatus.IN_PROGRESS})
CLOSED = frozenset({VisitStatus.CANCELLED, VisitStatus.COMPLETED, VisitStatus.MISSED})
DOCUMENTED = "documented"


def _dump(visit: Visit) -> Any:
    return AssignedVisitSchema().dump(visit)


@dataclass(frozen=True)
class Request:
    """One assignment asked for."""

    visit_id: uuid.UUID
    nurse_id: uuid.UUID
    override_reason: str | None = None
    expected_version: int | None = None


def _override_text(reason: str | None) -> str | None:
    if reason is None:
        return None
    text = reason.strip()
    if len(text) < OVERRIDE_MIN:
        raise Invalid("Say why you override the rules.", {"override_reason": [
            f"Say why, in {OVERRIDE_MIN} to 400 characters."]})
    return text


def _load(session: Session, visit_id: uuid.UUID, expected: int | None, access: Access,
          require_version: bool) -> Visit:
    """The visit to change, at the version the caller saw, and still open."""
    visit = get_one(session, Visit, visit_id, access, lambda v: v.patient_id, "update")
    if expected is None and require_version:
        raise PreconditionRequired(
            "Say which version you edited: send If-Match: \"<version>\" or a version field.",
            {"current_version": visit.version})
    changes.check_version(session, access, visit, expected, _dump, visit.patient_id)
    if visit.status in CLOSED:
        raise changes.refusal_with_current(
            session, access, visit, Conflict,
            f"A visit that is {visit.status.value} cannot be assigned.", _dump,
            visit.patient_id, code="visit_not_assignable")
    return visit


def _nurse(session: Session, nurse_id: uuid.UUID) -> User:
    nurse = session.get(User, nurse_id)
    if nurse is None:
        raise Invalid("nurse_id must name a staff member.", {"nurse_id": ["Unknown user."]})
    return nurse


def _refusals(session: Session, visit: Visit, nurse: User) -> list[str]:
    order = session.get(TherapyOrder, visit.order_id) if visit.order_id else None
    found = eligibility.reasons(session, nurse, order)
    if visit.status in STARTED or visit.checked_in_at is not None:
        found.append(DOCUMENTED)
    return found


def _refuse(session: Session, access: Access, visit: Visit, nurse: User,
            found: list[str], override: str | None) -> AppError:
    """A 409 naming the reasons; audited, since a refusal is an attempt on patient data."""
    audit.record(session, access.actor, "assign", "visits", at=access.now, entity_id=visit.id,
                 patient_id=visit.patient_id, outcome="not_eligible",
                 details={"nurse_id": str(nurse.id), "reasons": found})
    session.commit()
    lifted = eligibility.overridable(found)
    if override is not None:
        message = "No override can assign this visit to that user."
    elif DOCUMENTED in found:
        message = ("The visit is already started; give override_reason to move it to "
                   "another nurse.")
    else:
        message = f"The nurse may not take this visit: {', '.join(found)}."
    details = {"reasons": found, "nurse_id": str(nurse.id), "overridable": lifted}
    return Conflict(message, details, code="not_eligible")


def assign(session: Session, req: Request, access: Access, require_version: bool = True
           ) -> Visit:
    """Give the visit to the nurse, or refuse with reasons; an override is audited."""
    override = _override_text(req.override_reason)
    visit = _load(session, req.visit_id, req.expected_version, access, require_version)
    nurse = _nurse(session, req.nurse_id)
    found = _refusals(session, visit, nurse)
    if found and (override is None or not eligibility.overridable(found)):
        raise _refuse(session, access, visit, nurse, found, override)
    if visit.nurse_id == nurse.id and not found:
        return visit
    previous = visit.nurse_id
    visit.nurse_id = nurse.id
    visit.assignment_override = override if found else None
    details: dict[str, Any] = {"nurse_id": str(nurse.id),
                               "previous_nurse_id": str(previous) if previous else None}
    if found:
        details.update(overridden=found, override_reason=override)
    audit.record(session, access.actor, "assign_override" if found else "assign", "visits",
                 at=access.now, entity_id=visit.id, patient_id=visit.patient_id,
                 details=details)
    changes.commit(session, "This visit conflicts with a stored one.", visit, _dump)
    return visit


def unassign(session: Session, visit_id: uuid.UUID, expected_version: int | None,
             access: Access) -> Visit:
    """Take a not-yet-started visit back to the unassigned list."""
    visit = _load(session, visit_id, expected_version, access, require_version=True)
    if visit.status in STARTED or visit.checked_in_at is not None:
        raise changes.refusal_with_current(
            session, access, visit, Conflict,
            "The visit is already started; assign it to another nurse instead.", _dump,
            visit.patient_id, code="visit_not_assignable")
    previous, visit.nurse_id, visit.assignment_override = visit.nurse_id, None, None
    audit.record(session, access.actor, "unassign", "visits", at=access.now,
                 entity_id=visit.id, patient_id=visit.patient_id,
                 details={"previous_nurse_id": str(previous) if previous else None})
    changes.commit(session, "This visit conflicts with a stored one.", visit, _dump)
    return visit


def assign_many(session: Session, items: list[dict[str, Any]], override_reason: str | None,
                access: Access) -> dict[str, Any]:
    """Each item assigned on its own (its own commit): one refusal never blocks the rest."""
    _override_text(override_reason)
    results: list[dict[str, Any]] = []
    for item in items:
        req = Request(item["visit_id"], item["nurse_id"], override_reason, item.get("version"))
        try:
            visit = assign(session, req, access, require_version=False)
        except AppError as error:
            session.rollback()
            results.append({"visit_id": req.visit_id, "outcome": "refused", "visit": None,
                            "error": {"code": error.code, "message": error.message,
                                      "details": error.details}})
            continue
        results.append({"visit_id": req.visit_id, "outcome": "assigned", "visit": visit,
                        "error": None})
    assigned = sum(r["outcome"] == "assigned" for r in results)
    return {"assigned": assigned, "refused": len(results) - assigned, "results": results}
