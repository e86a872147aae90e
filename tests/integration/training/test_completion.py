"""Completing a module offline: the server scores, the result returns in the next pull."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import select

from server.extensions import db
from server.models import InboxEntry, TrainingAttempt
from tests.assertions import count_rows
from tests.integration.training.conftest import complete
from tests.integration.training.modules import RIGHT, WRONG


def _results(response: Any) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.get_json()
    return list(response.get_json()["results"])


def _status(held: dict[tuple[str, str], Any]) -> dict[str, Any]:
    (data,) = [v for (kind, _id), v in held.items() if kind == "training_status"]
    return dict(data)


def test_right_answers_pass_and_the_verdict_reaches_the_device(lead: Any, enroll: Any) -> None:
    module = lead.publish()
    device = enroll("nurse_a")
    held, cursor = device.pull_all()
    assert _status(held)["state"] == "not_started"
    (result,) = _results(device.push([complete(device, module, RIGHT)]))
    assert result["status"] == "applied"
    held, _cursor = device.pull_all(cursor)
    status = _status(held)
    assert status["state"] == "passed"
    assert status["last_attempt"]["score_percent"] == 100.0
    assert status["last_attempt"]["passed"] is True


def test_wrong_answers_fail_and_a_tampered_passed_claim_is_refused(
        app: Flask, lead: Any, enroll: Any, agency: Any) -> None:
    module = lead.publish()
    device = enroll("nurse_a")
    held, cursor = device.pull_all()
    (failed,) = _results(device.push([complete(device, module, WRONG)]))
    assert failed["status"] == "applied"
    tampered = complete(device, module, WRONG, passed=True, score_percent=100)
    (refused,) = _results(device.push([tampered]))
    assert refused["status"] == "rejected"
    assert refused["errors"] == {"data.passed": ["Unknown field."],
                                 "data.score_percent": ["Unknown field."]}
    held, _ = device.pull_all(cursor)
    status = _status(held)
    assert status["state"] == "failed" and status["attempts"] == 1
    assert status["last_attempt"]["score_percent"] == 0.0
    assert status["last_attempt"]["passed"] is False
    assert count_rows(app, TrainingAttempt) == 1
    assert count_rows(app, InboxEntry, InboxEntry.outcome == "rejected") == 1
    (row,) = lead.status(nurse_id=str(agency["nurse_a"]))
    assert row["state"] == "failed"


def test_partly_right_scores_the_share_of_questions_exactly_right(
        lead: Any, enroll: Any) -> None:
    module = lead.publish()
    device = enroll("nurse_a")
    half = {"q1": ["yes"], "q2": ["red"]}  # q2 needs red and warm: a subset is wrong
    device.push([complete(device, module, half)])
    status = _status(device.pull_all()[0])
    assert status["last_attempt"]["score_percent"] == 50.0
    assert status["state"] == "failed"


def test_the_same_completion_twice_is_one_attempt(app: Flask, lead: Any, enroll: Any) -> None:
    module = lead.publish()
    device = enroll("nurse_a")
    mutation = complete(device, module, RIGHT)
    assert _results(device.push([mutation]))[0]["status"] == "applied"
    again = _results(device.push([mutation]))[0]
    assert (again["status"], again["outcome"]) == ("duplicate", "applied")
    assert count_rows(app, TrainingAttempt) == 1
    assert _status(device.pull_all()[0])["attempts"] == 1


def test_an_attempt_at_a_superseded_version_is_kept_marked_and_not_a_pass(
        app: Flask, lead: Any, enroll: Any) -> None:
    v1 = lead.publish()
    device = enroll("nurse_a")
    device.pull_all()
    v2 = lead.post(f"/modules/{v1['id']}/versions").get_json()
    lead.post(f"/modules/{v2['id']}/publish")
    (result,) = _results(device.push([complete(device, v1, RIGHT)]))  # taken offline on v1
    assert result["status"] == "applied"
    with app.app_context():
        attempt = db.session.scalars(select(TrainingAttempt)).one()
        assert (attempt.version, attempt.passed, attempt.on_retired_version) == (1, True, True)
    status = _status(device.pull_all()[0])
    assert status["state"] == "not_started" and status["module_id"] == v2["id"]
    assert status["last_attempt"]["on_retired_version"] is True


def test_unknown_modules_and_modules_for_others_are_refused_with_reasons(
        lead: Any, enroll: Any) -> None:
    module = lead.publish()
    draft = lead.draft(title="Not yet")
    bea = enroll("nurse_b")
    fake = {**module, "id": "00000000-0000-4000-8000-000000000000"}
    results = _results(bea.push([
        complete(bea, module, RIGHT), complete(bea, fake, RIGHT),
        complete(bea, {**draft, "version": 1}, RIGHT),
        complete(bea, {**module, "version": 7}, RIGHT)]))
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert results[0]["errors"] == {"data.module_id": ["This module is not assigned to you."]}
    assert "data.module_id" in results[1]["errors"] and "data.module_id" in results[2]["errors"]
    ann = enroll("nurse_a")
    results = _results(ann.push([
        complete(ann, {**module, "version": 7}, RIGHT),
        complete(ann, module, {"q9": ["yes"]}), complete(ann, module, {"q1": ["yes", "no"]}),
        complete(ann, module, RIGHT, completed_at="2026-11-23T08:00:00-05:00")]))
    assert [r["status"] for r in results] == ["rejected"] * 4
    assert "data.version" in results[0]["errors"]
    assert results[1]["errors"] == {"data.answers": ["Question 'q9' is not in this module's quiz."]}
    assert results[2]["errors"] == {"data.answers": ["Question 'q1' takes a single answer."]}
    assert "data.completed_at" in results[3]["errors"]
