"""Patients: coordinators and admins write; nurses and physicians read their own."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import Session

from schemas.patients import PatientQuerySchema, PatientSchema, PatientUpdateSchema
from server.api import schedule_settings
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS
from server.api.resource import Resource, register_crud
from server.models import Patient
from server.services import patients, scope
from server.services.records import Access

blp = Blueprint("patients", __name__, url_prefix="/patients", description="Patients")


def _update(session: Session, patient_id: uuid.UUID, data: dict[str, Any],
            expected_version: int | None, access: Access) -> Patient:
    """Update; a discharge or readmission moves visits over the app's schedule horizon."""
    return patients.update_patient(session, patient_id, data, expected_version, access,
                                   schedule_settings.horizon())


register_crud(blp, Resource(
    noun="patient",
    schema=PatientSchema,
    update_schema=PatientUpdateSchema,
    query_schema=PatientQuerySchema,
    create=patients.create_patient,
    list=patients.list_patients,
    get=patients.get_patient,
    update=_update,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=scope.patient_scope,
    create_refusals=(409,),  # a unique key (e-mail, MRN, serial) already taken
))
