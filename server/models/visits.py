"""Visits: a nurse at a patient's location in a scheduled window."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.models.base import Base, Timestamps, UUIDPrimaryKey, str_enum
from server.models.patients import Patient, ServiceLocation


class VisitStatus(StrEnum):
    """Where a visit stands; the server alone moves it (check-in, check-out, jobs)."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    MISSED = "missed"
    # The window passed without a check-in, but the device has not synced since: the
    # documentation may be on its way, so nobody calls it missed yet.
    LATE_UNKNOWN = "late_unknown"
    CANCELLED = "cancelled"


class Visit(UUIDPrimaryKey, Timestamps, Base):
    """A scheduled visit. ``version`` rises on every change (optimistic concurrency, sync)."""

    __tablename__ = "visits"

    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id"))
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("therapy_orders.id"))
    # The order occurrence this visit is (UTC start of its window); unique per order, so
    # generating the horizon twice never makes a second visit.
    occurrence_at: Mapped[datetime | None]
    nurse_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    service_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("service_locations.id"))
    scheduled_start: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    status: Mapped[VisitStatus] = mapped_column(
        str_enum(VisitStatus, "visit_status"), default=VisitStatus.SCHEDULED
    )
    cancel_reason: Mapped[str | None] = mapped_column(String(400))
    checked_in_at: Mapped[datetime | None]
    checked_out_at: Mapped[datetime | None]
    signed_at: Mapped[datetime | None]
    missed_reason: Mapped[str | None] = mapped_column(String(40))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    # Why a coordinator assigned a nurse the eligibility rules refused (also audited).
    assignment_override: Mapped[str | None] = mapped_column(String(400))
    version: Mapped[int] = mapped_column(default=1)

    patient: Mapped[Patient] = relationship()
    service_location: Mapped[ServiceLocation] = relationship()

    __table_args__ = (
        Index("ix_visits_nurse_start", "nurse_id", "scheduled_start"),
        Index("ix_visits_patient_start", "patient_id", "scheduled_start"),
        Index("ix_visits_status_end", "status", "scheduled_end"),
        # A day of the whole agency (the board, its stamp): a range over a million rows;
        # with the version on PostgreSQL, the stamp's sum is read from the index alone.
        Index("ix_visits_start", "scheduled_start", postgresql_include=["version"]),
        UniqueConstraint("order_id", "occurrence_at", name="uq_visits_order_occurrence"),
    )
    __mapper_args__ = {"version_id_col": version}


class VisitRevision(UUIDPrimaryKey, Base):
    """The visit as it was at each version: who had it, when, where.

    Documentation from a nurse who *was* assigned is a conflict for review, from one who
    never was, a refusal; and a device's ``base_version`` shows what she saw when she
    documented (a reschedule made since is a conflict with both sides shown).
    """

    __tablename__ = "visit_revisions"

    visit_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("visits.id"))
    version: Mapped[int]
    nurse_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(20))
    scheduled_start: Mapped[datetime]
    scheduled_end: Mapped[datetime]
    service_location_id: Mapped[uuid.UUID]
    changed_at: Mapped[datetime]

    __table_args__ = (
        UniqueConstraint("visit_id", "version", name="uq_visit_revisions_visit_version"),
        Index("ix_visit_revisions_visit_nurse", "visit_id", "nurse_id"),
    )
