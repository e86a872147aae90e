"""Gauges read from the database at scrape time: what every worker would agree on.

Kept in no process's memory (a worker would only know what it saw): each scrape asks the
database with a few cheap queries, all on indexed columns or small tables — review items
open by severity (``ix_review_items_status_severity``), each nurse's devices (one row per
device), the feed heads (one row per nurse: the feed's size is what each head handed out
less what compaction removed, without counting the feed's rows), and the job runs (through
their ``(job_id, scheduled_for)`` index, never the whole table).

A nurse is named by her user id, never her name: the scrape holds no staff or patient data.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import String, func, select, text
from sqlalchemy.orm import Session

from server.models import Device, DeviceStatus, JobRun, ReviewItem, ReviewStatus, Severity
from sync.feed import FeedHead
from sync.orm import UTCDateTime


class DatabaseCollector(Collector):
    """The database's gauges, read with ``session`` as of ``now`` at each collect()."""

    def __init__(self, session: Session, now: datetime) -> None:
        self.session = session
        self.now = now

    def collect(self) -> Iterator[GaugeMetricFamily]:
        """Each gauge family, read now (the session's transaction ends afterwards)."""
        try:
            yield self.review_items_open()
            yield self.device_sync_age()
            yield self.feed_entries()
            yield from self.job_runs()
        finally:
            self.session.rollback()

    def review_items_open(self) -> GaugeMetricFamily:
        """Open review items by severity (every severity, 0 included)."""
        family = GaugeMetricFamily("infusync_review_items_open",
                                   "Review items open, by severity.", labels=["severity"])
        counts = dict(self.session.execute(
            select(ReviewItem.severity, func.count()).where(ReviewItem.status == ReviewStatus.OPEN)
            .group_by(ReviewItem.severity)).all())
        for severity in Severity:
            family.add_metric([severity.value], counts.get(severity, 0))
        return family

    def device_sync_age(self) -> GaugeMetricFamily:
        """Per nurse, the age of the last sync of her active device that synced longest ago
        (a device never synced counts from its enrollment)."""
        family = GaugeMetricFamily(
            "infusync_nurse_oldest_device_sync_age_seconds",
            "Per nurse (user id), seconds since the last sync of her active device that "
            "synced longest ago.", labels=["nurse_id"])
        oldest = func.min(func.coalesce(Device.last_seen_at, Device.enrolled_at))
        rows = self.session.execute(
            select(Device.user_id, oldest).where(Device.status == DeviceStatus.ACTIVE)
            .group_by(Device.user_id)).all()
        for nurse_id, last_sync in rows:
            family.add_metric([str(nurse_id)], _age(self.now, last_sync))
        return family

    def feed_entries(self) -> GaugeMetricFamily:
        """Rows in the change feed, from the heads alone."""
        total = self.session.scalar(
            select(func.coalesce(func.sum(FeedHead.position - FeedHead.compacted_through), 0)))
        return GaugeMetricFamily("infusync_feed_entries",
                                 "Entries in the nurses' change feeds (sync_feed rows).",
                                 value=int(total or 0))

    def job_runs(self) -> Iterator[GaugeMetricFamily]:
        """Each job's runs of the last hour by outcome, and its last success.

        ``job_runs`` holds months of runs (two jobs run every minute; pruned nightly past
        ``JOB_RUNS_KEEP_DAYS``), so nothing here reads the whole table: one statement walks the
        ``(job_id, scheduled_for)`` unique index for the job ids, one probe per job, with a
        backward scan of each job's runs to its last success; a second counts each job's
        range of the last hour.

        The label is ``job_id``: Prometheus gives every series of a target its scrape job's
        ``job`` label, and would rename ours to ``exported_job``.
        """
        runs = GaugeMetricFamily(
            "infusync_job_runs_last_hour", "Runs of each job scheduled in the last hour, by "
            "outcome (running, succeeded, failed, interrupted).", labels=["job_id", "outcome"])
        last = GaugeMetricFamily("infusync_job_last_success_timestamp_seconds",
                                 "Unix time each job last finished successfully.",
                                 labels=["job_id"])
        jobs = self.session.execute(JOBS_WITH_LAST_SUCCESS, {"succeeded": SUCCEEDED}).all()
        counts = {(job, outcome): count for job, outcome, count in self.session.execute(
            select(JobRun.job_id, JobRun.outcome, func.count())
            .where(JobRun.job_id.in_([job for job, _ in jobs]),
                   JobRun.scheduled_for >= self.now - timedelta(hours=1))
            .group_by(JobRun.job_id, JobRun.outcome))}
        for job, finished in jobs:
            for outcome in JOB_OUTCOMES:
                runs.add_metric([job, outcome], counts.get((job, outcome), 0))
            if finished is not None:
                last.add_metric([job], finished.timestamp())
        yield runs
        yield last


# Distinct job ids by a loose index scan (from each id, the next one the index holds), each
# with the end of its latest successful run.
JOBS_WITH_LAST_SUCCESS = text("""
WITH RECURSIVE jobs(id) AS (
    SELECT MIN(job_id) FROM job_runs
    UNION ALL
    SELECT (SELECT MIN(job_id) FROM job_runs WHERE job_id > jobs.id) FROM jobs
    WHERE jobs.id IS NOT NULL
)
SELECT id, (SELECT finished_at FROM job_runs
            WHERE job_id = jobs.id AND outcome = :succeeded
            ORDER BY scheduled_for DESC LIMIT 1) AS finished_at
FROM jobs WHERE id IS NOT NULL
""").columns(id=String(), finished_at=UTCDateTime())
SUCCEEDED = "succeeded"
JOB_OUTCOMES = ("running", SUCCEEDED, "failed", "interrupted")


def _age(now: datetime, then: datetime) -> float:
    """Seconds from ``then`` to ``now``, never negative (a clock ahead is age 0)."""
    return max(0.0, (now - then).total_seconds())
