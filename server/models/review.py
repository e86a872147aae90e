"""The review queue: every doubt about synced data, in front of a person."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, str_enum, utcnow


class Severity(StrEnum):
    """How urgently a person must look."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class ReviewStatus(StrEnum):
    """Open until a coordinator or QC nurse (or the system, for a healed gap) resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


class ReviewItem(UUIDPrimaryKey, Base):
    """Something a person must look at, pointing at what it is about.

    ``dedupe_key`` is unique: the fact an item stands for is flagged once, however many
    runs, pushes or concurrent transactions find it (``server.review_items`` writes it).
    NULL never clashes: an item without a key is not deduplicated.
    """

    __tablename__ = "review_items"

    kind: Mapped[str] = mapped_column(String(40))
    severity: Mapped[Severity] = mapped_column(str_enum(Severity, "severity"))
    status: Mapped[ReviewStatus] = mapped_column(
        str_enum(ReviewStatus, "review_status"), default=ReviewStatus.OPEN
    )
    summary: Mapped[str] = mapped_column(String(300))
    patient_id: Mapped[uuid.UUID | None]
    visit_id: Mapped[uuid.UUID | None]
    device_id: Mapped[uuid.UUID | None]
    mutation_id: Mapped[uuid.UUID | None]
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None]
    resolved_by: Mapped[uuid.UUID | None]
    resolution: Mapped[str | None] = mapped_column(String(1000))
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # Someone owning the item has seen it (a resolution counts too); until then a critical
    # item escalates to the coordinators once (``escalated_at``, server/scheduler/escalation).
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[uuid.UUID | None]
    escalated_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_review_items_status_severity", "status", "severity"),
        Index("ix_review_items_device_kind", "device_id", "kind"),
        # The review queue's filter choices: the kinds and the patients items are about,
        # read by index probes rather than a scan of every item (bench/console.py).
        Index("ix_review_items_kind", "kind"),
        Index("ix_review_items_patient", "patient_id"),
        # Open items newest first: the board's alerts and its stamp (bench/console.py).
        Index("ix_review_items_status_created", "status", "created_at"),
    )
