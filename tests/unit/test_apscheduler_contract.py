"""What ``server.scheduler.process`` relies on in APScheduler beyond its documented API.

APScheduler 3 has no hook for "now", so ``ClockedScheduler`` copies its private loop step.
setup.cfg pins the minor version; these tests name each private thing used, so that an
upgrade that moves one fails here with its name instead of a scheduler that stops firing.
"""

from __future__ import annotations

import inspect
import threading
from datetime import UTC, datetime, timedelta
from importlib.metadata import version

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED, JobEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.executors.pool import BasePoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask

from server import clock as app_clock
from server.scheduler.process import AppExecutor, ClockedScheduler

PRIVATE_METHODS = [
    (BaseScheduler, "_process_jobs"),
    (BaseScheduler, "_lookup_executor"),
    (BaseScheduler, "_dispatch_event"),
    (Job, "_modify"),
    (BaseExecutor, "_do_submit_job"),
    (BaseExecutor, "_run_job_success"),
    (BaseExecutor, "_run_job_error"),
]


def test_apscheduler_is_the_minor_version_process_py_was_written_against() -> None:
    assert version("apscheduler").startswith("3.11."), (
        "server/scheduler/process.py copies APScheduler 3.11's private _process_jobs; "
        "re-read BaseScheduler._process_jobs of the new version before moving the pin")


@pytest.mark.parametrize(("owner", "name"), PRIVATE_METHODS,
                         ids=[f"{o.__name__}.{n}" for o, n in PRIVATE_METHODS])
def test_each_private_method_relied_on_still_exists(owner: type, name: str) -> None:
    assert callable(getattr(owner, name, None)), f"{owner.__name__}.{name} is gone"


def test_executor_callbacks_keep_their_signatures() -> None:
    assert list(inspect.signature(BaseExecutor._run_job_success).parameters) == [
        "self", "job_id", "events"]
    assert list(inspect.signature(BaseExecutor._run_job_error).parameters) == [
        "self", "job_id", "exc", "traceback"]
    assert list(inspect.signature(BasePoolExecutor.__init__).parameters) == ["self", "pool"]


def test_the_main_loop_sleeps_for_what_process_jobs_returns() -> None:
    source = inspect.getsource(BlockingScheduler._main_loop)
    assert "wait_seconds = self._process_jobs()" in source
    assert "self._event.wait(wait_seconds)" in source


def test_a_scheduler_has_the_job_store_table_and_its_lock() -> None:
    scheduler = BlockingScheduler()
    assert isinstance(scheduler._jobstores, dict)
    assert hasattr(scheduler._jobstores_lock, "__enter__")


def test_a_job_due_by_the_app_clock_runs_with_its_scheduled_time() -> None:
    """End to end through every private name above, on a clock 73 years ahead."""
    due = datetime(2099, 1, 1, 0, 0, tzinfo=UTC)
    now = due + timedelta(minutes=30)  # real time is decades before the job is due
    app = Flask(__name__)
    app_clock.init_app(app, lambda: now)
    received: list[datetime] = []
    events: list[int] = []
    ran = threading.Event()

    def body(scheduled_for: datetime | None = None) -> str:
        assert scheduled_for is not None
        received.append(scheduled_for)
        return "succeeded"

    def listen(event: JobEvent) -> None:
        events.append(event.code)
        if event.code == EVENT_JOB_EXECUTED:
            ran.set()

    scheduler = ClockedScheduler(lambda: now, 0.05, jobstores={"default": MemoryJobStore()},
                                 executors={"default": AppExecutor(app)}, timezone=UTC)
    scheduler.add_listener(listen, EVENT_JOB_SUBMITTED | EVENT_JOB_EXECUTED)
    scheduler.add_job(body, IntervalTrigger(hours=1, start_date=due), id="hourly",
                      next_run_time=due, misfire_grace_time=None)
    scheduler.start()
    try:
        assert ran.wait(5), "the job due by the app clock never ran"
        assert received == [due]
        # submitted is dispatched after the loop step, so it may come after executed
        assert sorted(events) == sorted([EVENT_JOB_SUBMITTED, EVENT_JOB_EXECUTED])
        assert scheduler.get_job("hourly").next_run_time == due + timedelta(hours=1)
    finally:
        scheduler.shutdown(wait=True)
