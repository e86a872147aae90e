"""``infusync scheduler`` (the one process that runs jobs) and ``infusync jobs run``."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click
from flask import Flask, current_app

from server import clock
from server.cli.database_check import with_migrated_database
from server.extensions import current_session, db
from server.scheduler import lease as leases
from server.scheduler import runs
from server.scheduler.jobs import BY_ID

log = logging.getLogger("server.scheduler")


def _stop_on_signals(stop: threading.Event) -> None:
    def handler(signum: int, _frame: FrameType | None) -> None:
        log.info("scheduler stopping", extra={"signal": signum})
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _hold(app: Flask, lease: leases.Lease, stop: threading.Event, every: float,
          poll: float) -> None:
    """Run the scheduler while the lease holds; shut it down when it is lost or we stop."""
    from server.scheduler import process

    with app.app_context():
        runs.close_interrupted(current_session(), clock.now())
    scheduler = process.start(app, poll)
    log.info("scheduler running", extra={"runner": runs.runner_name()})
    try:
        while not stop.wait(every):
            if not lease.renew():
                log.error("scheduler lease lost; stopping jobs and waiting again")
                return
    finally:
        scheduler.shutdown(wait=True)


def run_scheduler(app: Flask, stop: threading.Event) -> None:
    """Wait for the lease, run jobs while holding it, until ``stop`` is set."""
    config = app.config
    every = max(int(config["SCHEDULER_LEASE_SECONDS"]) / 3, 0.5)
    # Under a test clock file, look at the clock often: the test moves it in jumps.
    poll = 0.1 if config.get("INFUSYNC_CLOCK_FILE") else 60.0
    with app.app_context():
        engine = db.engine
    lease = leases.for_engine(engine, runs.runner_name(), int(config["SCHEDULER_LEASE_SECONDS"]))
    waiting = False
    while not stop.is_set():
        if not lease.acquire():
            if not waiting:
                log.info("another scheduler holds the lease; waiting")
                waiting = True
            stop.wait(every)
            continue
        waiting = False
        log.info("scheduler lease acquired", extra={"runner": runs.runner_name()})
        _hold(app, lease, stop, every, poll)
    lease.release()
    log.info("scheduler stopped")


@click.command("scheduler")
@with_migrated_database
def scheduler() -> None:
    """Run the scheduled jobs (one process per deployment; a second one waits)."""
    stop = threading.Event()
    _stop_on_signals(stop)
    # current_app is typed as the Flask it proxies; the proxy's own method is untyped.
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    run_scheduler(app, stop)


jobs_group = click.Group("jobs", help="Scheduled jobs: run one now, for operations.")


@jobs_group.command("run")
@click.argument("job_id", type=click.Choice(sorted(BY_ID)))
@with_migrated_database
def run_job(job_id: str) -> None:
    """Run JOB_ID now, recorded like a scheduled run (scheduled for the current time)."""
    run = runs.run(current_session(), job_id, BY_ID[job_id].body, clock.now(), current_app.config,
                   clock.now)
    if run is None:
        raise click.ClickException("a run of this job for this time was already claimed")
    counts = ", ".join(f"{key}={value}" for key, value in sorted(run.counts.items()))
    click.echo(f"{job_id} {run.outcome}" + (f" ({run.error})" if run.error else "")
               + (f": {counts}" if counts else ""))
    if run.outcome != runs.SUCCEEDED:
        raise SystemExit(1)
