"""What nurses document on a visit: EVV check-in/out events and vital signs."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey


class VisitEvent(UUIDPrimaryKey, Base):
    """An EVV check-in or check-out as the device recorded it, with where it happened."""

    __tablename__ = "visit_events"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID]
    mutation_id: Mapped[uuid.UUID]
    seq: Mapped[int]
    at: Mapped[datetime]
    at_text: Mapped[str] = mapped_column(String(40))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    received_at: Mapped[datetime]
    conflict: Mapped[bool] = mapped_column(default=False)


class VitalSign(Base):
    """One vital sign (append-only); its id is the device's, so a replay cannot double it."""

    __tablename__ = "vital_signs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"), index=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID]
    mutation_id: Mapped[uuid.UUID]
    code: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    unit: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[datetime]
    taken_at_text: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    conflict: Mapped[bool] = mapped_column(default=False)
