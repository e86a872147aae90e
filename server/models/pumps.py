"""The ambulatory infusion pump registry."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, Timestamps, UUIDPrimaryKey, str_enum


class PumpStatus(StrEnum):
    """Whether a pump may infuse; ``recalled`` and ``out_of_service`` never may."""

    IN_SERVICE = "in_service"
    MAINTENANCE_DUE = "maintenance_due"
    OUT_OF_SERVICE = "out_of_service"
    RECALLED = "recalled"


class Pump(UUIDPrimaryKey, Timestamps, Base):
    """One pump, identified by its serial and UDI device identifier."""

    __tablename__ = "pumps"

    serial: Mapped[str] = mapped_column(String(60), unique=True)
    manufacturer: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    udi_di: Mapped[str | None] = mapped_column(String(60), index=True)
    status: Mapped[PumpStatus] = mapped_column(
        str_enum(PumpStatus, "pump_status"), default=PumpStatus.IN_SERVICE
    )
    patient_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("patients.id"), index=True)
    last_pm_on: Mapped[date | None]
    next_pm_due_on: Mapped[date | None]
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}


class PumpAssignment(UUIDPrimaryKey, Base):
    """Which patient had a pump, from when to when (the pump's history)."""

    __tablename__ = "pump_assignments"

    pump_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pumps.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    assigned_at: Mapped[datetime]
    unassigned_at: Mapped[datetime | None]


class PumpRecall(UUIDPrimaryKey, Base):
    """One moment a pump was withdrawn: it became ``recalled`` or ``out_of_service``.

    The event the traced review items and notifications hang on (their dedupe keys name
    it): the same pump recalled again after a return to service is a new event, a recall
    list imported twice is not.
    """

    __tablename__ = "pump_recalls"

    pump_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("pumps.id"), index=True)
    status: Mapped[PumpStatus] = mapped_column(str_enum(PumpStatus, "pump_recall_status"))
    recall_number: Mapped[str | None] = mapped_column(String(60))
    reason: Mapped[str | None] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(20))  # api, cli or recall_list
    recorded_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
