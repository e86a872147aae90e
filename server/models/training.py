"""Training: versioned refresher modules, their attachments, nurses' attempts and standing."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey, str_enum, utcnow


class ModuleStatus(StrEnum):
    """A draft is editable; a published version is frozen; a retired one leaves devices."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class TrainingState(StrEnum):
    """A nurse's standing on one module (all its versions)."""

    NOT_STARTED = "not_started"
    PASSED = "passed"
    FAILED = "failed"
    OVERDUE = "overdue"


class TrainingModule(UUIDPrimaryKey, Base):
    """One version of a module. Versions of the same module share ``lineage_id``.

    ``version`` is the published version number (null while a draft); ``revision`` guards
    concurrent edits of a draft. Quiz answers (``quiz``) never leave the server: devices
    receive the questions without the correct options.
    """

    __tablename__ = "training_modules"

    lineage_id: Mapped[uuid.UUID] = mapped_column(index=True)
    version: Mapped[int | None]
    status: Mapped[ModuleStatus] = mapped_column(
        str_enum(ModuleStatus, "module_status"), default=ModuleStatus.DRAFT)
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(String(1000), default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    quiz: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    competency: Mapped[str | None] = mapped_column(String(40))
    audience: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    required: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None]
    published_by: Mapped[uuid.UUID | None]
    retired_at: Mapped[datetime | None]
    revision: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        UniqueConstraint("lineage_id", "version", name="uq_training_modules_lineage_version"),
    )
    __mapper_args__ = {"version_id_col": revision}


class TrainingAsset(Base):
    """An attachment's bytes, stored once under their SHA-256 (content-addressed)."""

    __tablename__ = "training_assets"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TrainingAttempt(UUIDPrimaryKey, Base):
    """A quiz taken on a device, scored by the server (``mutation_id`` makes it once-only)."""

    __tablename__ = "training_attempts"

    mutation_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    device_id: Mapped[uuid.UUID | None]
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_modules.id"))
    lineage_id: Mapped[uuid.UUID]
    version: Mapped[int]
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime]
    completed_at: Mapped[datetime]
    score_percent: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    passed: Mapped[bool]
    # Taken on a version retired (or superseded) before it arrived: kept, and marked.
    on_retired_version: Mapped[bool] = mapped_column(default=False)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (Index("ix_training_attempts_nurse_lineage", "nurse_id", "lineage_id"),)


class TrainingStatus(UUIDPrimaryKey, Base):
    """Where one nurse stands on one module, kept current by attempts and the daily job."""

    __tablename__ = "training_statuses"

    nurse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    lineage_id: Mapped[uuid.UUID]
    module_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("training_modules.id"))
    state: Mapped[TrainingState] = mapped_column(
        str_enum(TrainingState, "training_state"), default=TrainingState.NOT_STARTED)
    due_on: Mapped[date | None]
    passed_at: Mapped[datetime | None]
    last_attempt_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(default=0)
    reminded_for: Mapped[date | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(default=1)

    __table_args__ = (
        UniqueConstraint("nurse_id", "lineage_id", name="uq_training_statuses_nurse_lineage"),
        Index("ix_training_statuses_state", "state"),
    )
    __mapper_args__ = {"version_id_col": version}
