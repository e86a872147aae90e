"""Everything the console's patient page shows, read as one audited access to the patient.

The chart (``patients.get_patient``: demographics, service locations, vascular access
device) with what a coordinator needs around it: the patient's orders, the pumps she has,
her visits ahead and behind, and the names of the staff those name. The patient is read in
the user's scope first; the rest belongs to that patient, so it needs no scope of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.models import Patient, Pump, TherapyOrder, User, Visit
from server.services import patients
from server.services.records import Access

# How many visits each way the page lists (the board and the visit pages hold the rest).
VISITS_SHOWN = 20


@dataclass(frozen=True)
class PatientPage:
    """The chart and its context; ``staff`` names the physicians and nurses it mentions."""

    patient: Patient
    orders: list[TherapyOrder]
    pumps: list[Pump]
    upcoming: list[Visit]
    past: list[Visit]
    staff: dict[uuid.UUID, str]


def staff_names(session: Session, ids: set[uuid.UUID | None]) -> dict[uuid.UUID, str]:
    """The names of the staff with ``ids`` (None ignored)."""
    wanted = [i for i in ids if i is not None]
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def _visits(session: Session, patient_id: uuid.UUID, access: Access,
            ahead: bool) -> list[Visit]:
    stmt = select(Visit).where(Visit.patient_id == patient_id)
    if ahead:
        stmt = stmt.where(Visit.scheduled_start >= access.now).order_by(
            Visit.scheduled_start, Visit.id)
    else:
        stmt = stmt.where(Visit.scheduled_start < access.now).order_by(
            Visit.scheduled_start.desc(), Visit.id)
    return list(session.scalars(stmt.limit(VISITS_SHOWN)))


def patient_page(session: Session, patient_id: uuid.UUID, access: Access) -> PatientPage:
    """One patient in the user's scope with her orders, pumps and visits (one ``read``
    audit event, as ``GET /api/v1/patients/<id>``)."""
    patient = patients.get_patient(session, patient_id, access)
    orders = list(session.scalars(select(TherapyOrder).where(
        TherapyOrder.patient_id == patient.id).order_by(
        TherapyOrder.start_date.desc(), TherapyOrder.id)))
    pumps = list(session.scalars(select(Pump).where(Pump.patient_id == patient.id)
                                 .order_by(Pump.serial)))
    upcoming = _visits(session, patient.id, access, ahead=True)
    past = _visits(session, patient.id, access, ahead=False)
    staff = staff_names(session, {patient.primary_physician_id,
                                  *(o.physician_id for o in orders),
                                  *(v.nurse_id for v in upcoming + past)})
    return PatientPage(patient, orders, pumps, upcoming, past, staff)
