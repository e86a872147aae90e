"""Fixtures for scheduling: an order needing TPN competency with its generated visits."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import (
    ModuleStatus,
    Patient,
    Role,
    TherapyOrder,
    TrainingModule,
    TrainingState,
    TrainingStatus,
    User,
    Visit,
)
from tests.factories import make_order, make_user
from tests.integration.scheduling.helpers import generate


@pytest.fixture
def tpn_visits(app: Flask, agency: Any, clock: Any) -> list[uuid.UUID]:
    """Patient A's TPN order (daily 10:00, 23-25 Nov) and its three visits, unassigned."""
    with app.app_context():
        patient = db.session.get(Patient, agency["patient_a"])
        physician = db.session.get(User, agency["physician_a"])
        assert patient is not None and physician is not None
        order = make_order(patient, physician, medication="TPN", required_competency="tpn",
                           start_date=date(2026, 11, 23), end_date=date(2026, 11, 25),
                           window_start=time(10, 0))
        db.session.commit()
        order_id = order.id
    generate(app, clock(), [order_id])
    with app.app_context():
        return list(db.session.scalars(select(Visit.id).where(Visit.order_id == order_id)
                                       .order_by(Visit.scheduled_start)))


def make_overdue(app: Flask, nurse_id: uuid.UUID, competency: str, title: str,
                 required: bool = True, state: TrainingState = TrainingState.OVERDUE) -> None:
    """Record the nurse as ``state`` on a published module for ``competency``."""
    with app.app_context():
        module = TrainingModule(lineage_id=uuid.uuid4(), version=1,
                                status=ModuleStatus.PUBLISHED, title=title,
                                competency=competency, required=required)
        db.session.add(module)
        db.session.flush()
        db.session.add(TrainingStatus(nurse_id=nurse_id, lineage_id=module.lineage_id,
                                      module_id=module.id, state=state))
        db.session.commit()


def add_nurse(app: Flask, email: str, **fields: Any) -> uuid.UUID:
    """Another nurse of the agency."""
    with app.app_context():
        nurse = make_user(Role.NURSE, email, **fields)
        db.session.commit()
        return nurse.id


def order_of(app: Flask, visit_id: uuid.UUID) -> TherapyOrder:
    """The order of a visit (detached)."""
    with app.app_context():
        visit = db.session.get(Visit, visit_id)
        assert visit is not None and visit.order_id is not None
        order = db.session.get(TherapyOrder, visit.order_id)
        assert order is not None
        db.session.expunge(order)
        return order
