"""The EHR core's tables. Importing this package registers every model on the metadata."""

from server.models.audit import AuditEvent
from server.models.base import Base
from server.models.orders import FrequencyKind, OrderStatus, TherapyOrder
from server.models.patients import (
    AccessDeviceType,
    LocationKind,
    Patient,
    PatientStatus,
    ServiceLocation,
)
from server.models.pumps import Pump, PumpStatus
from server.models.users import AuthToken, LoginFailure, Role, User
from server.models.visits import Visit, VisitStatus

__all__ = [
    "AccessDeviceType",
    "AuditEvent",
    "AuthToken",
    "Base",
    "FrequencyKind",
    "LocationKind",
    "LoginFailure",
    "OrderStatus",
    "Patient",
    "PatientStatus",
    "Pump",
    "PumpStatus",
    "Role",
    "ServiceLocation",
    "TherapyOrder",
    "User",
    "Visit",
    "VisitStatus",
]
