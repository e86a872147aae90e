"""Checks that ids in a request point at records of the right kind."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from server.errors import Invalid
from server.models import Patient, Role, User


def require_user(session: Session, user_id: uuid.UUID, role: Role, field: str) -> User:
    """The active user ``user_id`` holding ``role``, or a 422 naming ``field``."""
    user = session.get(User, user_id)
    if user is None or user.role is not role or not user.active:
        raise Invalid(f"{field} must name an active {role.value}.",
                      {field: [f"Not an active {role.value}."]})
    return user


def require_patient(session: Session, patient_id: uuid.UUID, field: str = "patient_id") -> Patient:
    """The patient ``patient_id``, or a 422 naming ``field``."""
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise Invalid("No such patient.", {field: ["Unknown patient."]})
    return patient
