"""A visit's record as staff read it: all its documentation, and its EVV elements.

Each read is one audited access to the visit (``get_one``); the documentation loaded after it
belongs to the same visit and patient, so it adds no events of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import (
    Amendment,
    EarlyWarningScore,
    InfusionAdministration,
    ReviewItem,
    ServiceLocation,
    TherapyOrder,
    User,
    Visit,
    VisitEvent,
    VisitNote,
    VitalSign,
)
from server.services.records import Access, get_one

NO_ORDER_SERVICE = "home infusion nursing visit"


@dataclass(frozen=True)
class VisitRecord:
    """The visit, everything documented on it by kind, and its review items."""

    visit: Visit
    documentation: dict[str, list[Any]]
    review_items: list[ReviewItem]


def _rows(session: Session, model: Any, visit_id: uuid.UUID, *order: Any) -> list[Any]:
    return list(session.scalars(select(model).where(model.visit_id == visit_id)
                                .order_by(*order, model.received_at, model.id)))


def _documentation(session: Session, visit_id: uuid.UUID) -> dict[str, list[Any]]:
    return {
        "events": _rows(session, VisitEvent, visit_id, VisitEvent.at),
        "vitals": _rows(session, VitalSign, visit_id, VitalSign.taken_at),
        "infusions": _rows(session, InfusionAdministration, visit_id,
                           InfusionAdministration.started_at),
        "notes": _rows(session, VisitNote, visit_id),
        "amendments": _rows(session, Amendment, visit_id),
        # NEWS2 per set of vital signs (reconcile.early_warning): scored, not documented,
        # but read beside the vitals they score.
        "early_warning_scores": list(session.scalars(select(EarlyWarningScore).where(
            EarlyWarningScore.visit_id == visit_id).order_by(EarlyWarningScore.taken_at,
                                                             EarlyWarningScore.id))),
    }


def get_visit_record(session: Session, visit_id: uuid.UUID, access: Access) -> VisitRecord:
    """One visit in the user's scope with all its documentation (one audit event)."""
    visit = get_one(session, Visit, visit_id, access, lambda v: v.patient_id)
    items = list(session.scalars(select(ReviewItem).where(ReviewItem.visit_id == visit.id)
                                 .order_by(ReviewItem.created_at, ReviewItem.id)))
    return VisitRecord(visit, _documentation(session, visit.id), items)


def _evv_events(session: Session, visit_id: uuid.UUID) -> tuple[VisitEvent | None,
                                                                 VisitEvent | None]:
    """The check-in and check-out that count (as the visit's state derives them)."""
    events = list(session.scalars(select(VisitEvent).where(
        VisitEvent.visit_id == visit_id, VisitEvent.kind.in_(("check_in", "check_out")),
        VisitEvent.conflict.is_(False), VisitEvent.entered_in_error.is_(False))
        .order_by(VisitEvent.device_id, VisitEvent.seq)))
    check_ins = [e for e in events if e.kind == "check_in"]
    check_outs = [e for e in events if e.kind == "check_out"]
    return (check_ins[0] if check_ins else None), (check_outs[-1] if check_outs else None)


def _verification(session: Session, event: VisitEvent | None) -> dict[str, Any]:
    if event is None:
        return {"status": "missing", "distance_m": None, "matched_location_id": None,
                "matched_location_kind": None}
    verified = event.evv_status == "verified"
    place = (session.get(ServiceLocation, event.evv_location_id)
             if verified and event.evv_location_id else None)
    return {"status": event.evv_status, "distance_m": event.evv_distance_m,
            "matched_location_id": place.id if place else None,
            "matched_location_kind": place.kind.value if place else None}


def _nurse(session: Session, nurse_id: uuid.UUID | None) -> dict[str, Any] | None:
    nurse = session.get(User, nurse_id) if nurse_id else None
    return {"id": nurse.id, "name": nurse.name} if nurse else None


def get_evv(session: Session, visit_id: uuid.UUID, access: Access) -> dict[str, Any]:
    """The six federal EVV elements of a visit in the user's scope, and their verification."""
    visit = get_one(session, Visit, visit_id, access, lambda v: v.patient_id)
    order = session.get(TherapyOrder, visit.order_id) if visit.order_id else None
    check_in, check_out = _evv_events(session, visit.id)
    place = visit.service_location
    checks = {"check_in": _verification(session, check_in),
              "check_out": _verification(session, check_out)}
    return {
        "visit_id": visit.id,
        "type_of_service": order.medication if order else NO_ORDER_SERVICE,
        "patient": {"id": visit.patient_id, "mrn": visit.patient.mrn},
        "date": visit.scheduled_start.date(),
        "location": {"service_location_id": place.id, "kind": place.kind.value,
                     "address": place.address, "latitude": place.latitude,
                     "longitude": place.longitude, "evv_radius_m": place.evv_radius_m},
        # The individual who provided the service: whoever checked in, else the assignee.
        "nurse": _nurse(session, check_in.nurse_id if check_in else visit.nurse_id),
        "start_time": check_in.at_text if check_in else None,
        "end_time": check_out.at_text if check_out else None,
        "verification": {**checks, "verified": all(
            check["status"] == "verified" for check in checks.values())},
    }
