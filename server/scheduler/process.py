"""The APScheduler 3 scheduler of ``infusync scheduler``: job store in the app's database.

Two things APScheduler does not do for us:

- ``AppExecutor`` runs each job inside the app context and hands the body the time the run
  was *scheduled for* (APScheduler passes only the job's own arguments). Custom executors
  are a documented extension point ("Extending APScheduler": subclass ``BaseExecutor``,
  implement ``_do_submit_job``, report results with ``_run_job_success`` /
  ``_run_job_error`` as the bundled executors do).
- ``ClockedScheduler`` reads "now" from the app clock, so a test that moves the clock file
  of a real scheduler process moves its schedule too. In production that clock is the
  system's UTC time, and the scheduler behaves as a stock ``BackgroundScheduler``.
  APScheduler 3 has **no** documented hook for this: its ``_process_jobs`` calls
  ``datetime.now`` itself. So ``ClockedScheduler._process_jobs`` is a copy of that private
  loop step, relying on private names of APScheduler 3.11: ``BaseScheduler._process_jobs``
  (the main loop sleeps for what it returns), ``_jobstores``, ``_jobstores_lock``,
  ``_lookup_executor``, ``_dispatch_event`` and ``Job._modify``. That is why setup.cfg pins
  ``apscheduler`` to the 3.11 minor and ``tests/unit/test_apscheduler_contract.py`` checks
  each of these names: an upgrade fails there, not in production. Revisit on APScheduler 4
  (its data store API differs entirely).
"""

from __future__ import annotations

import concurrent.futures
import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from threading import TIMEOUT_MAX
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.base import MaxInstancesReachedError
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.base import STATE_PAUSED
from flask import Flask, current_app

from server import clock as app_clock
from server.extensions import current_session, db
from server.scheduler import runs
from server.scheduler.jobs import BY_ID, JOBS

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
JOBSTORE = "default"  # the only job store (and so every job's alias)


def fire(job_id: str, scheduled_for: datetime | None = None) -> str | None:
    """What the job store names as every job's function: one recorded run (app context).

    ``scheduled_for`` is given by ``AppExecutor`` (a default, because APScheduler checks
    that the job's stored arguments alone satisfy the signature).
    """
    if scheduled_for is None:
        raise TypeError("fire() runs under AppExecutor, which passes scheduled_for")
    run = runs.run(current_session(), job_id, BY_ID[job_id].body, scheduled_for, current_app.config,
                   app_clock.now)
    return run.outcome if run else None


class AppExecutor(BasePoolExecutor):  # type: ignore[misc]
    """Runs jobs in a small thread pool, in the app context, given their scheduled time."""

    def __init__(self, app: Flask, max_workers: int = 2) -> None:
        self.pool = concurrent.futures.ThreadPoolExecutor(max_workers)
        super().__init__(self.pool)  # the base class shuts the pool down with the scheduler
        self.app = app

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def done(future: concurrent.futures.Future[list[JobExecutionEvent]]) -> None:
            error = future.exception()
            if error is not None:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self.pool.submit(self._run, job, run_times).add_done_callback(done)

    def _run(self, job: Job, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events = []
        with self.app.app_context():
            for run_time in run_times:
                late = app_clock.now() - run_time
                if job.misfire_grace_time is not None and late > timedelta(
                        seconds=job.misfire_grace_time):
                    log.warning("job run missed", extra={"job_id": job.id,
                                                         "late_seconds": late.total_seconds()})
                    events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, JOBSTORE,
                                                    run_time))
                    continue
                outcome = job.func(*job.args, scheduled_for=run_time.astimezone(UTC),
                                   **job.kwargs)
                events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, JOBSTORE,
                                                run_time, retval=outcome))
        return events


def due_run_times(job: Job, now: datetime) -> list[datetime]:
    """The run times of ``job`` due by ``now``, from its public trigger (``Job._get_run_times``)."""
    times: list[datetime] = []
    following = job.next_run_time
    while following is not None and following <= now:
        times.append(following)
        following = job.trigger.get_next_fire_time(following, now)
    return times


class ClockedScheduler(BackgroundScheduler):  # type: ignore[misc]
    """A BackgroundScheduler whose "now" is the app clock, waking at least every ``poll`` s."""

    def __init__(self, clock: Clock, poll: float, **options: Any) -> None:
        super().__init__(**options)
        self.clock, self.poll = clock, poll

    def now(self) -> datetime:
        """The app clock in the scheduler's zone."""
        return self.clock().astimezone(self.timezone)

    def _submit(self, job: Job, alias: str, store: BaseJobStore,
                now: datetime) -> JobSubmissionEvent | None:
        run_times = due_run_times(job, now)
        run_times = run_times[-1:] if run_times and job.coalesce else run_times
        if not run_times:
            return None
        try:
            self._lookup_executor(job.executor).submit_job(job, run_times)
            event = JobSubmissionEvent(EVENT_JOB_SUBMITTED, job.id, alias, run_times)
        except MaxInstancesReachedError:
            log.warning("job still running; run skipped", extra={"job_id": job.id})
            event = JobSubmissionEvent(EVENT_JOB_MAX_INSTANCES, job.id, alias, run_times)
        following = job.trigger.get_next_fire_time(run_times[-1], now)
        if following:
            job._modify(next_run_time=following)
            store.update_job(job)
        else:
            self.remove_job(job.id, alias)
        return event

    def _process_jobs(self) -> float | None:
        """APScheduler's loop step, with the app clock for now (see BaseScheduler)."""
        if self.state == STATE_PAUSED:
            return None
        now, wakeup = self.now(), None
        events: list[JobSubmissionEvent] = []
        with self._jobstores_lock:
            for alias, store in self._jobstores.items():
                try:
                    due = store.get_due_jobs(now)
                except Exception as exc:  # the database may be restarting
                    log.warning("job store unavailable", extra={"error_type": type(exc).__name__})
                    continue
                for job in due:
                    try:
                        event = self._submit(job, alias, store, now)
                    except Exception as exc:  # the store may fail mid-way: retry next poll
                        log.warning("job not submitted", extra={
                            "job_id": job.id, "error_type": type(exc).__name__})
                        continue
                    if event is not None:
                        events.append(event)
                following = store.get_next_run_time()
                if following and (wakeup is None or following < wakeup):
                    wakeup = following
        for event in events:
            self._dispatch_event(event)
        if wakeup is None:
            return self.poll
        wait = max(float(wakeup.timestamp()) - self.now().timestamp(), 0.0)
        return min(wait, self.poll, TIMEOUT_MAX)


def build(app: Flask, poll: float) -> ClockedScheduler:
    """A scheduler on the app's database, not started."""
    config = app.config
    with app.app_context():
        engine = db.engine
    return ClockedScheduler(
        app_clock.app_clock(app), poll,
        jobstores={JOBSTORE: SQLAlchemyJobStore(engine=engine)},
        executors={"default": AppExecutor(app)},
        job_defaults={"coalesce": True, "max_instances": 1,
                      "misfire_grace_time": int(config["JOB_MISFIRE_GRACE_SECONDS"])},
        timezone=ZoneInfo(str(config["AGENCY_TIMEZONE"])))


def register_jobs(scheduler: ClockedScheduler, zone: ZoneInfo) -> None:
    """Put every job in the store under its id, keeping a pending run time it already has.

    Kept, a run that fell due while no scheduler was alive still runs (within the misfire
    grace); recomputed from now, it would be skipped silently.
    """
    now = scheduler.now()
    for job in scheduler.get_jobs():
        if job.id not in BY_ID:
            scheduler.remove_job(job.id)
    for spec in JOBS:
        trigger = spec.trigger(zone)
        stored = scheduler.get_job(spec.id)
        next_run = (stored.next_run_time if stored is not None and stored.next_run_time
                    and str(stored.trigger) == str(trigger)
                    else trigger.get_next_fire_time(None, now))
        scheduler.add_job(fire, trigger=trigger, args=[spec.id], id=spec.id, name=spec.id,
                          replace_existing=True, next_run_time=next_run)


def start(app: Flask, poll: float) -> ClockedScheduler:
    """Build, fill and start the scheduler (the caller holds the lease)."""
    scheduler = build(app, poll)
    scheduler.start(paused=True)  # starts the job store (creates its table) first
    register_jobs(scheduler, ZoneInfo(str(app.config["AGENCY_TIMEZONE"])))
    scheduler.resume()
    return scheduler
