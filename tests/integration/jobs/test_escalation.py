"""The escalation job: a critical item unacknowledged for 30 minutes goes to every active
coordinator and onto the board, once."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.extensions import db
from server.models import Notification, ReviewItem, Role
from server.review_items import fact_key, open_item
from server.scheduler import escalation
from tests.factories import make_user


@pytest.fixture
def coordinators(app: Flask, agency: Any) -> list[uuid.UUID]:
    """The agency's coordinator, a second one, and one who left (inactive)."""
    with app.app_context():
        second = make_user(Role.COORDINATOR, "coord2@agency.test")
        gone = make_user(Role.COORDINATOR, "gone@agency.test", active=False)
        db.session.commit()
        return [agency["coordinator"], second.id, gone.id]


def _open(app: Flask, at: Any, kind: str = "adverse_reaction", **about: Any) -> uuid.UUID:
    with app.app_context():
        opened = open_item(db.session, kind, f"{kind} found.", now=at,
                           dedupe_key=fact_key(kind, uuid.uuid4()), **about)
        db.session.commit()
        return opened.item.id


def _escalations(app: Flask) -> list[tuple[uuid.UUID, uuid.UUID | None]]:
    with app.app_context():
        return sorted(((n.user_id, n.review_item_id) for n in db.session.scalars(
            select(Notification).where(Notification.kind == "critical_escalation"))), key=str)


def _alerts(client: Any, as_user: Any) -> list[dict[str, Any]]:
    board = client.get("/api/v1/board", headers=as_user("coordinator"))
    assert board.status_code == 200, board.get_json()
    return [a for a in board.get_json()["alerts"] if a["escalated_at"] is not None]


def test_escalation_fires_once_per_item_run_the_job_twice(app, client, agency, clock, as_user,
                                                          run_job, coordinators):
    item = _open(app, clock(), patient_id=agency["patient_a"])
    first = run_job("critical_escalation", clock() + timedelta(minutes=30))
    second = run_job("critical_escalation", clock() + timedelta(minutes=31))
    assert (first.outcome, first.counts) == ("succeeded", {"escalated": 1, "notified": 2})
    assert (second.outcome, second.counts) == ("succeeded", {"escalated": 0, "notified": 0})
    assert _escalations(app) == sorted([(coordinators[0], item), (coordinators[1], item)],
                                       key=str)
    with app.app_context():
        stored = db.session.get(ReviewItem, item)
        assert stored.escalated_at == clock() + timedelta(minutes=30)
        title = db.session.scalars(select(Notification.title).where(
            Notification.kind == "critical_escalation")).first()
        assert title == ("Critical review item unacknowledged after 30 minutes: "
                         "adverse reaction")
    [alert] = _alerts(client, as_user)
    assert (alert["id"], alert["kind"], alert["severity"]) == (str(item), "adverse_reaction",
                                                              "critical")
    # Once someone takes it, it leaves the board (it stays in the queue until resolved).
    taken = client.post(f"/api/v1/review-items/{item}/acknowledge", headers=as_user("qc"))
    assert taken.status_code == 200, taken.get_json()
    assert _alerts(client, as_user) == []


def test_an_acknowledged_item_never_escalates(app, client, agency, clock, as_user, run_job,
                                              coordinators):
    item = _open(app, clock(), patient_id=agency["patient_a"])
    taken = client.post(f"/api/v1/review-items/{item}/acknowledge", headers=as_user("qc"))
    assert taken.status_code == 200, taken.get_json()
    run = run_job("critical_escalation", clock() + timedelta(hours=5))
    assert run.counts == {"escalated": 0, "notified": 0}
    assert _escalations(app) == [] and _alerts(client, as_user) == []


def test_a_resolved_item_never_escalates(app, client, agency, clock, as_user, run_job,
                                         coordinators):
    item = _open(app, clock(), patient_id=agency["patient_a"])
    resolved = client.post(f"/api/v1/review-items/{item}/resolve", headers=as_user("qc"),
                           json={"resolution": "accept", "comment": "Handled by phone."})
    assert resolved.status_code == 200, resolved.get_json()
    assert run_job("critical_escalation", clock() + timedelta(hours=5)).counts["escalated"] == 0
    assert _escalations(app) == []


def test_an_item_younger_than_the_threshold_waits(app, agency, clock, run_job, coordinators):
    item = _open(app, clock(), patient_id=agency["patient_a"])
    early = run_job("critical_escalation", clock() + timedelta(minutes=29, seconds=59))
    assert early.counts == {"escalated": 0, "notified": 0}
    assert run_job("critical_escalation", clock() + timedelta(minutes=30)).counts == {
        "escalated": 1, "notified": 2}
    assert {ref for _, ref in _escalations(app)} == {item}


def test_only_critical_items_escalate_and_the_threshold_is_configuration(
        app, agency, clock, run_job, coordinators):
    app.config["CRITICAL_ESCALATION_MINUTES"] = 5
    _open(app, clock(), "dose_outside_order", patient_id=agency["patient_a"])  # a warning
    unassigned = _open(app, clock(), "visit_missed_unassigned", visit_id=agency["visit_b"])
    run = run_job("critical_escalation", clock() + timedelta(minutes=5))
    assert run.counts == {"escalated": 1, "notified": 2}
    assert {ref for _, ref in _escalations(app)} == {unassigned}
    with app.app_context():  # the notification points at the patient through the visit
        assert {n.patient_id for n in db.session.scalars(select(Notification).where(
            Notification.kind == "critical_escalation"))} == {agency["patient_b"]}


def test_two_runs_at_once_escalate_the_item_once(app, database_url, agency, clock,
                                                 coordinators):
    item = _open(app, clock(), patient_id=agency["patient_a"])
    at = clock() + timedelta(minutes=30)
    engine = sa.create_engine(database_url)
    first_updated, counts = threading.Event(), []

    def first() -> None:
        with Session(engine) as session:
            counts.append(escalation.run(session, at, app.config))
            first_updated.set()
            time.sleep(0.5)  # the second run's UPDATE meets this uncommitted one
            session.commit()

    def second() -> None:
        first_updated.wait(10)
        with Session(engine) as session:
            counts.append(escalation.run(session, at, app.config))
            session.commit()

    try:
        threads = [threading.Thread(target=first), threading.Thread(target=second)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        engine.dispose()
    assert sorted(c["escalated"] for c in counts) == [0, 1]
    assert {ref for _, ref in _escalations(app)} == {item} and len(_escalations(app)) == 2
