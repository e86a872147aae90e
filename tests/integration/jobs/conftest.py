"""Fixtures for the jobs tier: run a job body for a scheduled time, read what it did."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from flask import Flask

from server import clock as app_clock
from server.extensions import db
from server.models import JobRun
from server.scheduler import runs
from server.scheduler.jobs import BY_ID


@pytest.fixture
def run_job(app: Flask) -> Callable[[str, datetime], JobRun | None]:
    """``run_job("missed_visits", at)`` → the recorded run (None: already claimed)."""

    def run(job_id: str, at: datetime) -> JobRun | None:
        with app.app_context():
            return runs.run(db.session, job_id, BY_ID[job_id].body, at, app.config,
                            app_clock.now)

    return run
