"""Training rules without a database: due dates, months, scoring, the device's quiz."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from server.training import rules
from tests.integration.training.modules import QUIZ


def test_months_clamp_to_the_end_of_the_month() -> None:
    assert rules.add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert rules.add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert rules.add_months(date(2026, 11, 23), 12) == date(2027, 11, 23)
    assert rules.add_months(date(2026, 12, 15), 2) == date(2027, 2, 15)


def test_a_nurse_who_joins_later_counts_from_the_day_she_joined() -> None:
    published, joined = date(2026, 11, 1), date(2026, 11, 20)
    rule = {"kind": "after_publication", "days": 14}
    assert rules.first_due(rule, published, published) == date(2026, 11, 15)
    assert rules.first_due(rule, published, joined) == date(2026, 12, 4)
    assert rules.first_due({"kind": "date", "date": "2026-12-31"}, published, joined) == \
        date(2026, 12, 31)
    assert rules.first_due({"kind": "recurring", "months": 12}, published, published) == \
        date(2026, 12, 1)  # the first cycle is due 30 days after publication by default


def test_scoring_counts_exact_sets_only() -> None:
    assert rules.score(QUIZ, {"q1": ["yes"], "q2": ["warm", "red"]}).percent == Decimal(100)
    half = rules.score(QUIZ, {"q1": ["yes"], "q2": ["red", "warm", "cold"]})
    assert (half.percent, half.passed, half.correct, half.total) == (
        Decimal("50.0"), False, 1, 2)
    assert rules.score(QUIZ, {}).percent == Decimal(0)
    third = {"pass_mark_percent": 33, "questions": [*QUIZ["questions"], {
        "id": "q3", "text": "?", "kind": "single",
        "options": [{"id": "a", "text": "A"}, {"id": "b", "text": "B"}], "correct": ["a"]}]}
    result = rules.score(third, {"q3": ["a"]})
    assert (result.percent, result.passed) == (Decimal("33.3"), True)


def test_devices_get_the_quiz_without_answers() -> None:
    sent = rules.quiz_for_device(QUIZ)
    assert sent["pass_mark_percent"] == 80
    assert [q["id"] for q in sent["questions"]] == ["q1", "q2"]
    assert all("correct" not in q for q in sent["questions"])
    assert "correct" in QUIZ["questions"][0]  # the stored quiz is untouched


def test_audience_by_role_competency_or_id_and_only_active_users() -> None:
    nurse = SimpleNamespace(id="u1", role="nurse", competencies=["tpn"], active=True)
    assert rules.in_audience({"roles": ["nurse"]}, nurse)
    assert rules.in_audience({"competencies": ["tpn", "picc-care"]}, nurse)
    assert rules.in_audience({"nurse_ids": ["u1"]}, nurse)
    assert not rules.in_audience({"competencies": ["picc-care"]}, nurse)
    assert not rules.in_audience({}, nurse)
    assert not rules.in_audience({"roles": ["nurse"]}, SimpleNamespace(**{
        **vars(nurse), "active": False}))
