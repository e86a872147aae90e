"""The demo agency ships one published, required training module."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskCliRunner
from sqlalchemy import select

from server.extensions import db
from server.models import ModuleStatus, TrainingModule, TrainingStatus, User


def test_the_demo_has_a_published_module_for_its_picc_nurses(
        app: Flask, runner: FlaskCliRunner) -> None:
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        (module,) = db.session.scalars(select(TrainingModule))
        assert (module.status, module.version, module.required) == (
            ModuleStatus.PUBLISHED, 1, True)
        nurses = {u.id for u in db.session.scalars(select(User))
                  if "picc-care" in (u.competencies or [])}
        statuses = list(db.session.scalars(select(TrainingStatus)))
        assert {s.nurse_id for s in statuses} == nurses and len(nurses) == 4
        assert all(s.module_id == module.id for s in statuses)
