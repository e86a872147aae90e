"""Tracking: status per nurse and module, the surveyor's CSV, overdue and eligibility,
reminders reaching the device."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from server.extensions import db
from server.models import TherapyOrder, Visit
from server.scheduler.jobs import training_daily
from tests.assertions import error_of
from tests.conftest import FakeClock
from tests.factories import login
from tests.integration.training.conftest import complete
from tests.integration.training.modules import RIGHT, WRONG


def _daily(app: Flask, clock: FakeClock) -> dict[str, int]:
    with app.app_context():
        counts = training_daily(db.session, clock(), app.config)
        db.session.commit()
        return counts


def test_status_lists_each_nurse_and_module_with_filters_and_csv(
        client: FlaskClient, lead: Any, enroll: Any, agency: Any, as_user: Any) -> None:
    picc = lead.publish()
    everyone = lead.publish(title="Hand hygiene", audience={"roles": ["nurse"]},
                            competency=None, required=False,
                            due_rule={"kind": "date", "date": "2026-12-31"})
    ann = enroll("nurse_a")
    ann.push([complete(ann, picc, RIGHT)])
    rows = lead.status()
    assert {(r["module_title"], r["nurse_name"], r["state"]) for r in rows} == {
        ("PICC line care refresher", "Ann", "passed"), ("Hand hygiene", "Ann", "not_started"),
        ("Hand hygiene", "Bea", "not_started")}
    passed = lead.status(state="passed")
    assert [(r["nurse_id"], r["last_score_percent"]) for r in passed] == [
        (str(agency["nurse_a"]), 100.0)]
    assert passed[0]["due_on"] == "2026-12-07" and passed[0]["passed_at"]
    assert len(lead.status(module_id=everyone["id"])) == 2
    assert len(lead.status(nurse_id=str(agency["nurse_b"]))) == 1
    error_of(client.get("/api/v1/training/status", query_string={"state": "done"},
                        headers=lead.headers), 422)

    for url, query in (("/api/v1/training/status", {"format": "csv"}),
                       ("/api/v1/training/status.csv", {})):
        response = client.get(url, query_string=query, headers=as_user("qc"))
        assert response.status_code == 200 and response.mimetype == "text/csv"
        table = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
        assert len(table) == 3
        ann_picc = next(r for r in table if r["module_title"] == "PICC line care refresher")
        assert (ann_picc["nurse_name"], ann_picc["state"], ann_picc["last_score_percent"],
                ann_picc["due_on"]) == ("Ann", "passed", "100.0", "2026-12-07")


def test_overdue_makes_her_ineligible_until_she_passes(
        app: Flask, client: FlaskClient, clock: FakeClock, lead: Any, enroll: Any,
        agency: Any) -> None:
    with app.app_context():
        order = db.session.get_one(TherapyOrder, agency["order_a"])
        order.required_competency = "picc-care"
        visit = Visit(patient_id=agency["patient_a"], order_id=order.id,
                      service_location_id=agency["location_a"],
                      scheduled_start=clock() + timedelta(days=20),
                      scheduled_end=clock() + timedelta(days=20, hours=1))
        db.session.add(visit)
        db.session.commit()
        visit_id = visit.id
    module = lead.publish(due_rule={"kind": "after_publication", "days": 3})
    ann = enroll("nurse_a")
    ann.pull_all()
    clock.advance(days=5)
    assert _daily(app, clock)["overdue"] == 1
    assert [r["state"] for r in lead.status(nurse_id=str(agency["nurse_a"]))] == ["overdue"]

    def assign() -> Any:
        return client.post(f"/api/v1/visits/{visit_id}/assign",
                           headers=login(client, "coordinator"),
                           json={"nurse_id": str(agency["nurse_a"]), "version": 1})

    error = error_of(assign(), 409)
    assert "training_overdue: PICC line care refresher" in str(error["details"])
    ann.push([complete(ann, module, WRONG)])  # failing does not cure overdue
    assert lead.status(nurse_id=str(agency["nurse_a"]))[0]["state"] == "overdue"
    error_of(assign(), 409)
    ann.push([complete(ann, module, RIGHT)])
    assert lead.status(nurse_id=str(agency["nurse_a"]))[0]["state"] == "passed"
    assert _daily(app, clock)["overdue"] == 0  # a pass stays a pass
    response = assign()
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["nurse_id"] == str(agency["nurse_a"])


def test_a_reminder_reaches_the_device_before_the_due_date(
        app: Flask, clock: FakeClock, lead: Any, enroll: Any) -> None:
    lead.publish(due_rule={"kind": "after_publication", "days": 10})
    ann = enroll("nurse_a")
    _held, cursor = ann.pull_all()
    assert _daily(app, clock)["reminded"] == 0  # 10 days out: the window is 7
    clock.advance(days=3)
    assert _daily(app, clock)["reminded"] == 1
    held, cursor = ann.pull_all(cursor)
    (note,) = [v for (kind, _id), v in held.items() if kind == "notification"]
    assert note["kind"] == "training_reminder"
    assert "PICC line care refresher" in note["title"] and "2026-12-03" in note["body"]
    assert _daily(app, clock)["reminded"] == 0
    held, _ = ann.pull_all(cursor)
    assert not [k for k in held if k[0] == "notification"]


def test_recurring_modules_come_due_again_after_their_period(
        app: Flask, clock: FakeClock, lead: Any, enroll: Any, agency: Any) -> None:
    module = lead.publish(due_rule={"kind": "recurring", "months": 12, "days": 30})
    ann = enroll("nurse_a")
    (row,) = lead.status()
    assert row["due_on"] == "2026-12-23"
    ann.push([complete(ann, module, RIGHT)])
    (row,) = lead.status()
    assert (row["state"], row["due_on"]) == ("passed", "2027-11-23")
    clock.advance(days=365)
    assert _daily(app, clock)["reopened"] == 1
    assert lead.status()[0]["state"] == "not_started"
    clock.advance(days=1)
    assert _daily(app, clock)["overdue"] == 1
    assert lead.status(nurse_id=str(agency["nurse_a"]))[0]["state"] == "overdue"
