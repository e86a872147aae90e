"""Fixtures for the jobs tier: run a job body for a scheduled time, read what it did."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from server import clock as app_clock
from server.extensions import db
from server.models import JobRun
from server.scheduler import runs
from server.scheduler.jobs import BY_ID
from tests.integration.sync.device import TestDevice


@pytest.fixture
def run_job(app: Flask) -> Callable[[str, datetime], JobRun | None]:
    """``run_job("missed_visits", at)`` → the recorded run (None: already claimed)."""

    def run(job_id: str, at: datetime) -> JobRun | None:
        with app.app_context():
            return runs.run(db.session, job_id, BY_ID[job_id].body, at, app.config,
                            app_clock.now)

    return run


@pytest.fixture
def rows(app: Flask) -> Callable[..., list[Any]]:
    """``rows(Model, *conditions)`` → the matching rows, loaded and detached."""

    def query(model: Any, *conditions: Any) -> list[Any]:
        with app.app_context():
            return list(db.session.scalars(select(model).where(*conditions)))

    return query


@pytest.fixture
def row(app: Flask) -> Callable[[Any, Any], Any]:
    """``row(Model, id)`` → that row (or None)."""

    def get(model: Any, ident: Any) -> Any:
        with app.app_context():
            return db.session.get(model, uuid.UUID(str(ident)))

    return get


@pytest.fixture
def enroll(client: FlaskClient, as_user: Any, agency: Any) -> Callable[[str], TestDevice]:
    """``enroll("nurse_a")`` → an enrolled TestDevice of that nurse."""

    def make(nurse: str) -> TestDevice:
        code = client.post(f"/api/v1/users/{agency[nurse]}/enrollment-codes",
                           headers=as_user("coordinator"))
        assert code.status_code == 201, code.get_json()
        device = TestDevice(client)
        response = device.enroll(code.get_json()["code"])
        assert response.status_code == 201, response.get_json()
        return device

    return make
