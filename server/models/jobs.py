"""Scheduled jobs: the record of every run, and the lease that keeps one scheduler alive."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.models.base import Base, UUIDPrimaryKey


class JobRun(UUIDPrimaryKey, Base):
    """One run of a job for one scheduled time.

    Unique per ``(job_id, scheduled_for)``: a second run for the same time (a restarted or
    second scheduler) finds the row taken and does nothing.
    """

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(60))
    scheduled_for: Mapped[datetime]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(20))  # running, succeeded, failed
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(300))
    runner: Mapped[str] = mapped_column(String(120))

    __table_args__ = (
        UniqueConstraint("job_id", "scheduled_for", name="uq_job_runs_job_scheduled"),
    )


class SchedulerLease(Base):
    """Who runs the scheduler, until when (SQLite; PostgreSQL uses an advisory lock)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    holder: Mapped[str] = mapped_column(String(120))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]
