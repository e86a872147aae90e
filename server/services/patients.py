"""Patients and their service locations."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from schemas.patients import PatientSchema
from server import audit
from server.errors import Invalid
from server.models import (
    LocationKind,
    Patient,
    PatientStatus,
    Role,
    ServiceLocation,
    TherapyOrder,
)
from server.services import changes, visit_generation
from server.services.records import Access, Page, get_one, list_page
from server.services.references import require_user
from server.services.visit_generation import Horizon

DUPLICATE_MRN = "A patient with this MRN exists."
ACCESS_COLUMNS = ("access_type", "access_placed_on", "access_side", "access_external_length_cm")


def _dump(patient: Patient) -> Any:
    return PatientSchema().dump(patient)


def _flatten(data: dict[str, Any]) -> dict[str, Any]:
    """Spread the nested vascular access onto the patient's columns.

    The device is replaced whole: details left out are cleared, and null removes it.
    """
    data = dict(data)
    if "vascular_access" in data:
        data.update(dict.fromkeys(ACCESS_COLUMNS), **(data.pop("vascular_access") or {}))
    if "status" in data:
        data["status"] = PatientStatus(data["status"])
    return data


def _check_physician(session: Session, physician_id: uuid.UUID | None) -> None:
    if physician_id is not None:
        require_user(session, physician_id, Role.PHYSICIAN, "primary_physician_id")


def _location(data: dict[str, Any]) -> ServiceLocation:
    return ServiceLocation(**{**data, "kind": LocationKind(data["kind"])})


def create_patient(session: Session, data: dict[str, Any], access: Access) -> Patient:
    """Admit a patient with at least one service location."""
    data = _flatten(data)
    _check_physician(session, data.get("primary_physician_id"))
    locations = [_location(loc) for loc in data.pop("locations")]
    patient = Patient(**data, locations=locations)
    session.add(patient)
    audit.record(session, access.actor, "create", "patients", at=access.now,
                 entity_id=patient.id, patient_id=patient.id)
    changes.commit(session, DUPLICATE_MRN, patient, _dump)
    return patient


def list_patients(session: Session, filters: dict[str, Any], access: Access, page: int,
                  size: int) -> Page:
    """Patients in the user's scope, by last name."""
    stmt = (select(Patient).options(selectinload(Patient.locations))
            .order_by(Patient.last_name, Patient.first_name, Patient.id))
    if "status" in filters:
        stmt = stmt.where(Patient.status == PatientStatus(filters["status"]))
    if "mrn" in filters:
        stmt = stmt.where(Patient.mrn == filters["mrn"])
    if "q" in filters:
        prefix = _like_prefix(filters["q"])
        stmt = stmt.where(or_(Patient.mrn == filters["q"],
                              Patient.last_name.ilike(prefix, escape="\\"),
                              Patient.first_name.ilike(prefix, escape="\\")))
    return list_page(session, stmt, access, "patients", page, size, lambda p: p.id)


def _like_prefix(text: str) -> str:
    """A LIKE pattern matching names that start with ``text`` taken literally."""
    for char in ("\\", "%", "_"):
        text = text.replace(char, "\\" + char)
    return text + "%"


def get_patient(session: Session, patient_id: uuid.UUID, access: Access) -> Patient:
    """One patient in the user's scope."""
    return get_one(session, Patient, patient_id, access, lambda p: p.id)


def _patch_locations(patient: Patient, items: list[dict[str, Any]]) -> None:
    by_id = {loc.id: loc for loc in patient.locations}
    for item in items:
        if "id" in item:
            location = by_id.get(item["id"])
            if location is None:
                raise Invalid("A location to update is not this patient's.",
                              {"locations": [f"Unknown location {item['id']}."]})
            changes.assign(location, {k: v for k, v in item.items() if k != "id"})
        else:
            missing = {"kind", "address", "latitude", "longitude"} - set(item)
            if missing:
                raise Invalid("A new location needs kind, address, latitude and longitude.",
                              {"locations": [f"Missing: {', '.join(sorted(missing))}."]})
            patient.locations.append(_location(item))


def _follow_status(session: Session, patient: Patient, access: Access,
                   horizon: Horizon) -> None:
    """Discharge cancels future unstarted visits; readmission brings the orders' back."""
    changes.flush(session, patient, DUPLICATE_MRN)
    order_ids = list(session.scalars(
        select(TherapyOrder.id).where(TherapyOrder.patient_id == patient.id)))
    visit_generation.refresh(session, access.now, horizon, order_ids)
    if patient.status is PatientStatus.DISCHARGED:
        visit_generation.cancel_unordered_for_patient(session, patient.id, access.now)


def update_patient(session: Session, patient_id: uuid.UUID, data: dict[str, Any],
                   expected_version: int | None, access: Access,
                   horizon: Horizon) -> Patient:
    """Change demographics, status, access device or locations."""
    patient = get_one(session, Patient, patient_id, access, lambda p: p.id, action="update")
    changes.check_version(session, access, patient, expected_version, _dump, patient.id)
    data = _flatten(data)
    if "primary_physician_id" in data:
        _check_physician(session, data["primary_physician_id"])
    if data.get("locations"):
        _patch_locations(patient, data.pop("locations"))
        # The patient's own row (and so its version) must change when only a location did.
        patient.updated_at = access.now
    data.pop("locations", None)
    changes.assign(patient, data)
    if "status" in data:
        _follow_status(session, patient, access, horizon)
    audit.record(session, access.actor, "update", "patients", at=access.now,
                 entity_id=patient.id, patient_id=patient.id, details={"fields": sorted(data)})
    changes.commit(session, DUPLICATE_MRN, patient, _dump)
    return patient
