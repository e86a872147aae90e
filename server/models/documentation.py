"""What nurses document on a visit, each record with its provenance.

Every document keeps its author, device, the clinical time as the device reported it (with
its offset), the server's receipt time, and the mutation and batch that carried it. Nothing
is ever deleted: a record found to be wrong is marked ``entered_in_error`` or amended.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, str_enum


class Provenance:
    """Who documented it, from which device and mutation, when (as reported and received)."""

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"), index=True)
    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID]
    mutation_id: Mapped[uuid.UUID]
    batch_id: Mapped[uuid.UUID]
    seq: Mapped[int]
    occurred_at_text: Mapped[str] = mapped_column(String(40))
    received_at: Mapped[datetime]
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    conflict: Mapped[bool] = mapped_column(default=False)
    entered_in_error: Mapped[bool] = mapped_column(default=False)


class VisitEvent(UUIDPrimaryKey, Provenance, Base):
    """A step of the visit: check-in, check-out (with EVV location), signature, missed."""

    __tablename__ = "visit_events"

    kind: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]
    at_text: Mapped[str] = mapped_column(String(40))
    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    evv_status: Mapped[str | None] = mapped_column(String(20))
    evv_distance_m: Mapped[float | None]
    evv_location_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class VitalSign(Provenance, Base):
    """One vital sign (append-only); its id is the device's, so a replay cannot double it."""

    __tablename__ = "vital_signs"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    value: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    components: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    unit: Mapped[str] = mapped_column(String(20))
    taken_at: Mapped[datetime]
    taken_at_text: Mapped[str] = mapped_column(String(40))
    # A coded reading's answer instead of a value: the ACVPU level of consciousness (67775-7).
    answer: Mapped[str | None] = mapped_column(String(20))


class EarlyWarningLevel(StrEnum):
    """What a NEWS2 score called for, under the agency's thresholds when it was scored."""

    NONE = "none"
    WARNING = "warning"
    CRITICAL = "critical"


class EarlyWarningScore(UUIDPrimaryKey, Base):
    """The NEWS2 score of one set of vital signs: a visit's readings taken at one time.

    ``parts`` holds, per NEWS2 parameter documented, the reading scored (``value``, its
    ``points`` and ``vital_sign_id``); ``missing`` the parameters the set lacks. When a
    parameter was documented twice in the set, the reading with more points is the one
    scored, so the result does not depend on the order readings arrived in.
    """

    __tablename__ = "early_warning_scores"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"))
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    taken_at: Mapped[datetime]
    score: Mapped[int]
    parts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    missing: Mapped[list[str]] = mapped_column(JSON, default=list)
    level: Mapped[EarlyWarningLevel] = mapped_column(
        str_enum(EarlyWarningLevel, "early_warning_level"))
    # The review item the score opened (the critical one when it rose that far), if any.
    review_item_id: Mapped[uuid.UUID | None]
    scored_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("visit_id", "taken_at",
                                       name="uq_early_warning_scores_visit_taken_at"),)


class InfusionAdministration(Provenance, Base):
    """One infusion given: drug and lot, access, the pump that infused it, the outcome."""

    __tablename__ = "infusion_administrations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    order_id: Mapped[uuid.UUID | None]
    medication: Mapped[str] = mapped_column(String(200))
    dose: Mapped[Decimal] = mapped_column(Numeric(12, 3))
    dose_unit: Mapped[str] = mapped_column(String(20))
    route: Mapped[str] = mapped_column(String(20))
    lot_number: Mapped[str] = mapped_column(String(60))
    lot_expiry: Mapped[date]
    access: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    pump_serial: Mapped[str | None] = mapped_column(String(60))
    pump_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    programmed_rate_ml_h: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    vtbi_ml: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    started_at: Mapped[datetime]
    started_at_text: Mapped[str] = mapped_column(String(40))
    stopped_at: Mapped[datetime | None]
    stopped_at_text: Mapped[str | None] = mapped_column(String(40))
    volume_infused_ml: Mapped[Decimal | None] = mapped_column(Numeric(8, 1))
    adverse_reaction: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    notes: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (Index("ix_infusion_administrations_pump_serial", "pump_serial"),)


class VisitNote(Provenance, Base):
    """A free-text note: assessment, teaching or communication."""

    __tablename__ = "visit_notes"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    category: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)


class Amendment(Provenance, Base):
    """A correction of a record: the original stays untouched and both are shown.

    A nurse's amendment arrives from her device; a reviewer's correction (resolving a review
    item) is written at a desk: it has an author (``nurse_id`` holds the staff author) but
    no device, mutation, batch or seq, and those stay empty rather than invented.
    """

    __tablename__ = "amendments"

    # Nullable here though Provenance's are not (a desk correction has no device); nothing
    # reads these columns through the Provenance mixin, so the narrower base type misleads no one.
    device_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)  # type: ignore[assignment]
    mutation_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)  # type: ignore[assignment]
    batch_id: Mapped[uuid.UUID | None] = mapped_column(nullable=True)  # type: ignore[assignment]
    seq: Mapped[int | None] = mapped_column(nullable=True)  # type: ignore[assignment]
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"), index=True)
    target_type: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[uuid.UUID] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(String(1000))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
