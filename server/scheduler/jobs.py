"""The jobs: explicit ids, cron triggers in the agency's zone, and their bodies.

A body takes ``(session, at, config)`` — ``at`` is the time the run was scheduled for —
returns counts, and never commits (``runs.run`` does). Running it twice for the same time
changes nothing: what it writes is keyed by the fact it records.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session

from server.scheduler import (
    audit_chain_check,
    escalation,
    job_run_retention,
    missed,
    notification_mail,
    pump_maintenance,
    silent_devices,
)
from server.scheduler.runs import Body
from sync import feed, feed_partitions


def visit_horizon(session: Session, at: datetime, config: Mapping[str, Any]) -> dict[str, int]:
    """Generate order occurrences through today + ``SCHEDULE_HORIZON_DAYS``."""
    from server.services.visit_generation import Horizon, extend_horizon

    horizon = Horizon.from_config(config)
    return extend_horizon(session, at, horizon.days, horizon.zone)


def feed_retention(config: Mapping[str, Any]) -> timedelta:
    """How long feed entries live: never shorter than a device may stay offline."""
    return timedelta(hours=max(int(config["SYNC_FEED_RETENTION_HOURS"]),
                               int(config["SYNC_MAX_OFFLINE_HOURS"])))


def feed_compaction(session: Session, at: datetime,
                    config: Mapping[str, Any]) -> dict[str, int]:
    """Drop feed entries older than the retention window (``infusync sync compact`` too)."""
    return {"removed": feed.compact(session, at - feed_retention(config))}


def feed_partition_upkeep(session: Session, at: datetime,
                          config: Mapping[str, Any]) -> dict[str, int]:
    """PostgreSQL: make the feed's day partitions a week ahead and drop past days that
    compaction has covered (after ``feed_compaction``; nothing on SQLite)."""
    done = feed_partitions.maintain(session.connection(), at, feed_retention(config))
    return {"created": done.created, "dropped": done.dropped, "kept": done.kept}


def training_daily(session: Session, at: datetime,
                   config: Mapping[str, Any]) -> dict[str, int]:
    """Training due dates, reminders and overdue flags (server.training.daily)."""
    from server.training import daily

    counts: dict[str, int] = daily.run_daily(session, at, ZoneInfo(str(config["AGENCY_TIMEZONE"])),
                                             int(config["TRAINING_REMINDER_DAYS"]))
    return counts


@dataclass(frozen=True)
class JobSpec:
    """A job: its id in the job store, when it fires (local time), what it does."""

    id: str
    trigger: Callable[[ZoneInfo], BaseTrigger]
    body: Body


def _cron(**fields: Any) -> Callable[[ZoneInfo], BaseTrigger]:
    return lambda zone: CronTrigger(timezone=zone, **fields)


JOBS: tuple[JobSpec, ...] = (
    JobSpec("visit_horizon", _cron(hour=1, minute=0), visit_horizon),
    JobSpec("training_daily", _cron(hour=2, minute=0), training_daily),
    JobSpec("feed_compaction", _cron(hour=3, minute=30), feed_compaction),
    # After compaction, in a transaction of its own: a DROP waits for the feed's lock, and
    # must not wait holding the head rows compaction updates (a push may wait on those).
    JobSpec("feed_partitions", _cron(hour=3, minute=45), feed_partition_upkeep),
    JobSpec("audit_chain", _cron(hour=4, minute=0), audit_chain_check.run),
    JobSpec("job_runs_retention", _cron(hour=4, minute=30), job_run_retention.run),
    JobSpec("pump_maintenance", _cron(hour=6, minute=0), pump_maintenance.run),
    # Hourly through the working day: at night nobody could act on it, and nurses sleep.
    JobSpec("silent_devices", _cron(hour="8-20", minute=5), silent_devices.run),
    JobSpec("missed_visits", _cron(minute="*/15"), missed.run),
    # Safety signals (issue 11): a critical item waits unacknowledged at most a minute past
    # its threshold before the coordinators hear of it; e-mails leave within a minute.
    JobSpec("critical_escalation", _cron(minute="*"), escalation.run),
    JobSpec("notification_mail", _cron(minute="*"), notification_mail.run),
)
BY_ID: dict[str, JobSpec] = {job.id: job for job in JOBS}
