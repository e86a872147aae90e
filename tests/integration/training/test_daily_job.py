"""The daily job: statuses for the audience, overdue marks, reminders, idempotence."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import Notification, TrainingState, TrainingStatus, User
from server.scheduler.jobs import training_daily
from tests.conftest import FakeClock
from tests.integration.training.modules import published_module


def _statuses() -> dict[Any, TrainingStatus]:
    return {s.nurse_id: s for s in db.session.scalars(select(TrainingStatus))}


def test_daily_job_creates_statuses_marks_overdue_and_reminds_once(
        app: Flask, agency: Any, clock: FakeClock) -> None:
    with app.app_context():
        published_module(clock(), due_rule={"kind": "after_publication", "days": 10})
        db.session.commit()
        first = training_daily(db.session, clock(), app.config)
        db.session.commit()
        statuses = _statuses()
        assert set(statuses) == {agency["nurse_a"]}  # only the picc-care nurse
        status = statuses[agency["nurse_a"]]
        assert status.state is TrainingState.NOT_STARTED
        assert status.due_on is not None and status.due_on.isoformat() == "2026-12-03"
        assert first["created"] == 1 and first["reminded"] == 0

        clock.advance(days=4)  # 6 days before the due date: inside the 7-day window
        assert training_daily(db.session, clock(), app.config)["reminded"] == 1
        db.session.commit()
        assert training_daily(db.session, clock(), app.config)["reminded"] == 0
        db.session.commit()
        notes = list(db.session.scalars(select(Notification)))
        assert [(n.user_id, n.kind) for n in notes] == [(agency["nurse_a"], "training_reminder")]
        assert "2026-12-03" in notes[0].body

        clock.advance(days=7)  # past the due date
        assert training_daily(db.session, clock(), app.config)["overdue"] == 1
        db.session.commit()
        assert _statuses()[agency["nurse_a"]].state is TrainingState.OVERDUE
        again = training_daily(db.session, clock(), app.config)
        assert again == {"created": 0, "removed": 0, "overdue": 0, "reopened": 0,
                         "reminded": 0}


def test_a_nurse_who_leaves_the_audience_loses_her_status(
        app: Flask, agency: Any, clock: FakeClock) -> None:
    with app.app_context():
        published_module(clock(), due_rule={"kind": "after_publication", "days": 1})
        db.session.commit()
        training_daily(db.session, clock(), app.config)
        db.session.commit()
        clock.advance(days=3)
        assert training_daily(db.session, clock(), app.config)["overdue"] == 1
        db.session.commit()
        nurse = db.session.get_one(User, agency["nurse_a"])
        nurse.competencies = ["tpn"]  # no longer picc-care: the module is not hers
        db.session.commit()
        assert training_daily(db.session, clock(), app.config)["removed"] == 1
        db.session.commit()
        assert _statuses() == {}


def test_a_passed_recurring_module_is_reminded_before_it_comes_due_again(
        app: Flask, agency: Any, clock: FakeClock) -> None:
    with app.app_context():
        published_module(clock(), due_rule={"kind": "recurring", "months": 6, "days": 30})
        db.session.commit()
        training_daily(db.session, clock(), app.config)
        status = _statuses()[agency["nurse_a"]]
        status.state, status.due_on = TrainingState.PASSED, date(2027, 5, 23)
        db.session.commit()
        clock.advance(days=175)  # 2027-05-17: six days before the renewal
        counts = training_daily(db.session, clock(), app.config)
        db.session.commit()
        assert (counts["reminded"], counts["reopened"]) == (1, 0)
        assert _statuses()[agency["nurse_a"]].state is TrainingState.PASSED
