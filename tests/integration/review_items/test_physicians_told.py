"""A critical review item about a patient notifies the physicians treating her, once.

The rule lives in the one writer (``review_items.open_item``): these tests open items
through it, as every rule and job does, and read what the physicians got.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import (
    EmailOutbox,
    FeedEntry,
    Notification,
    OrderStatus,
    Patient,
    Role,
    User,
)
from server.review_items import FINDINGS, fact_key, open_item
from tests.factories import make_order, make_user


def _open(app: Flask, clock: Any, kind: str, **about: Any) -> uuid.UUID:
    with app.app_context():
        opened = open_item(db.session, kind, f"{kind} found.", now=clock(),
                           dedupe_key=fact_key(kind, about.get("visit_id") or uuid.uuid4()),
                           **about)
        db.session.commit()
        return opened.item.id


def _told(app: Flask) -> list[tuple[uuid.UUID, str, uuid.UUID | None, uuid.UUID | None]]:
    with app.app_context():
        return sorted(((n.user_id, n.kind, n.patient_id, n.review_item_id)
                       for n in db.session.scalars(select(Notification))), key=str)


def _add_order(app: Flask, agency: Any, patient: str, physician: User | str,
               status: OrderStatus) -> None:
    with app.app_context():
        doctor = db.session.get(User, agency[physician]) if isinstance(physician, str) \
            else physician
        order = make_order(db.session.get(Patient, agency[patient]), doctor,
                           start_date=date(2026, 11, 1))
        order.status = status
        db.session.commit()


def test_an_adverse_reaction_on_a_visit_tells_the_patients_physician(app, agency, clock):
    # visit_a: patient_a, whose primary physician and prescriber is physician_a.
    item = _open(app, clock, "adverse_reaction", visit_id=agency["visit_a"])
    assert _told(app) == [(agency["physician_a"], "critical_finding", agency["patient_a"],
                           item)]
    with app.app_context():
        [note] = db.session.scalars(select(Notification)).all()
        assert note.title == "Critical finding on a patient of yours: adverse reaction"
        assert note.read_at is None
        [mail] = db.session.scalars(select(EmailOutbox)).all()
        assert (mail.notification_id, mail.user_id, mail.status) == (
            note.id, agency["physician_a"], "pending")


def test_the_same_fact_found_again_tells_nobody_twice(app, agency, clock):
    with app.app_context():
        key = fact_key("drug_expired", agency["visit_a"], "record-1")
        for _ in range(2):
            open_item(db.session, "drug_expired", "Expired lot.", dedupe_key=key,
                      now=clock(), visit_id=agency["visit_a"], patient_id=agency["patient_a"])
            db.session.commit()
        assert len(db.session.scalars(select(Notification)).all()) == 1
        assert len(db.session.scalars(select(EmailOutbox)).all()) == 1


@pytest.mark.parametrize("kind", sorted(k for k, f in FINDINGS.items()
                                        if f.severity.value != "critical"))
def test_items_below_critical_tell_no_physician(app, agency, clock, kind):
    _open(app, clock, kind, visit_id=agency["visit_a"], patient_id=agency["patient_a"])
    assert _told(app) == []


def test_an_item_about_no_patient_tells_nobody(app, agency, clock):
    _open(app, clock, "visit_missed_unassigned", visit_id=uuid.uuid4())  # no such visit
    _open(app, clock, "pump_not_in_service", device_id=uuid.uuid4())
    assert _told(app) == []


def test_primary_physician_and_current_prescribers_only(app, agency, clock):
    with app.app_context():
        doctors = {name: make_user(Role.PHYSICIAN, f"{name}@agency.test") for name in
                   ("onhold", "ended", "retired")}
        db.session.commit()
    _add_order(app, agency, "patient_a", "physician_b", OrderStatus.ACTIVE)
    for name, status in (("onhold", OrderStatus.ON_HOLD), ("ended", OrderStatus.DISCONTINUED),
                         ("retired", OrderStatus.ACTIVE)):
        _add_order(app, agency, "patient_a", doctors[name], status)
    with app.app_context():  # a physician who left: no notification to a closed account
        db.session.get(User, doctors["retired"].id).active = False
        db.session.commit()
    item = _open(app, clock, "medication_mismatch", patient_id=agency["patient_a"])
    told = {user for user, *_ in _told(app)}
    assert told == {agency["physician_a"], agency["physician_b"], doctors["onhold"].id}
    assert {kind for _, kind, *_ in _told(app)} == {"critical_finding"}
    assert {ref for *_, ref in _told(app)} == {item}


def test_every_physician_told_may_open_the_patient(app, client, agency, clock, as_user):
    _add_order(app, agency, "patient_a", "physician_b", OrderStatus.ACTIVE)
    _open(app, clock, "adverse_reaction", patient_id=agency["patient_a"])
    for who in ("physician_a", "physician_b"):
        [note] = client.get("/api/v1/notifications", headers=as_user(who)).get_json()
        opened = client.get(f"/api/v1/patients/{note['patient_id']}", headers=as_user(who))
        assert opened.status_code == 200, (who, opened.get_json())


def test_a_physicians_notification_reaches_no_device_feed(app, agency, clock):
    _open(app, clock, "adverse_reaction", patient_id=agency["patient_a"])
    with app.app_context():
        assert db.session.scalars(select(FeedEntry).where(
            FeedEntry.nurse_id == agency["physician_a"])).all() == []
