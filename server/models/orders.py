"""Therapy orders: what the physician prescribed and how often it is given."""

from __future__ import annotations

import uuid
from datetime import date, time
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Timestamps, UUIDPrimaryKey, str_enum
from server.models.patients import Patient


class FrequencyKind(StrEnum):
    """How an order repeats; ``frequency_interval`` gives N where the kind needs one."""

    EVERY_N_HOURS = "every_n_hours"
    DAILY = "daily"
    WEEKLY = "weekly"
    EVERY_N_DAYS = "every_n_days"


class OrderStatus(StrEnum):
    """Lifecycle of an order; only ``active`` orders produce visits."""

    ACTIVE = "active"
    ON_HOLD = "on_hold"
    DISCONTINUED = "discontinued"
    COMPLETED = "completed"


class TherapyOrder(UUIDPrimaryKey, Timestamps, Base):
    """A prescribed infusion therapy for one patient."""

    __tablename__ = "therapy_orders"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    physician_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"), index=True)
    medication: Mapped[str] = mapped_column(String(200))
    dose: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    dose_unit: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20), default="IV")
    rate_ml_h: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    volume_ml: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    frequency_kind: Mapped[FrequencyKind] = mapped_column(
        str_enum(FrequencyKind, "frequency_kind")
    )
    frequency_interval: Mapped[int] = mapped_column(default=1)
    start_date: Mapped[date]
    end_date: Mapped[date | None]
    # The visits it produces: where, and in which local window (agency time zone).
    service_location_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("service_locations.id"))
    window_start: Mapped[time] = mapped_column(default=time(9, 0))
    window_minutes: Mapped[int] = mapped_column(default=120)
    # ISO weekdays (1 = Monday) for ``weekly``; empty means the start date's weekday.
    weekdays: Mapped[list[int]] = mapped_column(JSON, default=list)
    pump_required: Mapped[bool] = mapped_column(default=False)
    required_competency: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus, "order_status"), default=OrderStatus.ACTIVE
    )
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()

    __mapper_args__ = {"version_id_col": version}
