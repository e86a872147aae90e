"""Patients: coordinators and admins write; nurses and physicians read their own."""

from __future__ import annotations

from typing import Any

from schemas.patients import PatientQuerySchema, PatientSchema, PatientUpdateSchema
from server.api.blueprint import Blueprint
from server.api.guards import PATIENT_READERS, STAFF_WRITERS
from server.api.resource import Resource, register_crud
from server.models import Patient, User
from server.services import patients, scope

blp = Blueprint("patients", __name__, url_prefix="/patients", description="Patients")


def _scope(user: User) -> Any:
    return scope.patient_condition(user, Patient.id)


register_crud(blp, Resource(
    noun="patient",
    schema=PatientSchema,
    update_schema=PatientUpdateSchema,
    query_schema=PatientQuerySchema,
    create=patients.create_patient,
    list=patients.list_patients,
    get=patients.get_patient,
    update=patients.update_patient,
    readers=PATIENT_READERS,
    writers=STAFF_WRITERS,
    scope=_scope,
))
