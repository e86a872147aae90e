"""Patients, where they are treated, and their vascular access device."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Timestamps, UUIDPrimaryKey, str_enum


class PatientStatus(StrEnum):
    """Whether the agency is treating the patient."""

    ACTIVE = "active"
    DISCHARGED = "discharged"


class LocationKind(StrEnum):
    """Nurses treat patients at home and at their workplace."""

    HOME = "home"
    WORK = "work"
    OTHER = "other"


class AccessDeviceType(StrEnum):
    """Vascular access device the infusions go through."""

    PICC = "picc"
    PORT = "port"
    MIDLINE = "midline"
    PIV = "piv"


class Patient(UUIDPrimaryKey, Timestamps, Base):
    """A patient on the agency's census."""

    __tablename__ = "patients"

    mrn: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date]
    phone: Mapped[str | None] = mapped_column(String(40))
    allergies: Mapped[list[str]] = mapped_column(JSON, default=list)
    primary_physician_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id"), index=True
    )
    referral_source: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[PatientStatus] = mapped_column(
        str_enum(PatientStatus, "patient_status"), default=PatientStatus.ACTIVE
    )
    access_type: Mapped[AccessDeviceType | None] = mapped_column(
        str_enum(AccessDeviceType, "access_device_type")
    )
    access_placed_on: Mapped[date | None]
    access_side: Mapped[str | None] = mapped_column(String(10))
    access_external_length_cm: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    version: Mapped[int] = mapped_column(default=1)

    locations: Mapped[list[ServiceLocation]] = relationship(
        back_populates="patient", cascade="all, delete-orphan", order_by="ServiceLocation.kind"
    )

    __mapper_args__ = {"version_id_col": version}


class ServiceLocation(UUIDPrimaryKey, Base):
    """A place the patient is treated, with the radius that counts as 'there' for EVV."""

    __tablename__ = "service_locations"

    patient_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[LocationKind] = mapped_column(str_enum(LocationKind, "location_kind"))
    address: Mapped[str] = mapped_column(String(400))
    latitude: Mapped[float]
    longitude: Mapped[float]
    evv_radius_m: Mapped[int] = mapped_column(default=150)
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship(back_populates="locations")

    __mapper_args__ = {"version_id_col": version}
