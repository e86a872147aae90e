"""The rules of training, free of HTTP and of the session: audience, due dates, scoring.

Audience JSON: ``{"roles": [...], "competencies": [...], "nurse_ids": [...]}`` — an active
user belongs when any one of the three names her. Due rule JSON, one of:
``{"kind": "date", "date": "YYYY-MM-DD"}``, ``{"kind": "after_publication", "days": N}``,
``{"kind": "recurring", "months": N, "days": D}`` (first due D days after publication, then
N months after each pass). Dates are the agency's local dates.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from server.models import ModuleStatus, TrainingModule, User

DEFAULT_FIRST_DUE_DAYS = 30


def in_audience(audience: Mapping[str, Any], user: User | Any) -> bool:
    """True when the audience names the user by role, competency or id (active users only).

    ``user`` is a ``User`` or anything with its ``id``, ``role``, ``competencies`` and
    ``active`` (the feed hook passes plain rows).
    """
    if not user.active:
        return False
    if getattr(user.role, "value", user.role) in audience.get("roles", ()):
        return True
    if set(user.competencies or ()) & set(audience.get("competencies", ())):
        return True
    return str(user.id) in {str(n) for n in audience.get("nurse_ids", ())}


def members(audience: Mapping[str, Any], users: Iterable[User]) -> list[User]:
    """The users of ``users`` inside the audience."""
    return [user for user in users if in_audience(audience, user)]


def delivered(module: TrainingModule, user: User) -> bool:
    """True when the module belongs on this user's devices: published and for her."""
    return module.status is ModuleStatus.PUBLISHED and in_audience(module.audience, user)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The agency's calendar date at ``moment``."""
    return moment.astimezone(zone).date()


def add_months(day: date, months: int) -> date:
    """``day`` plus whole months, clamped to the month's end (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def first_due(rule: Mapping[str, Any], published_on: date, joined_on: date) -> date | None:
    """The first due date for a nurse who joined the audience on ``joined_on``.

    Relative rules count from publication, or from the day she joined the audience when
    that is later (a nurse hired after publication is not overdue on her first day).
    """
    kind = rule.get("kind")
    if kind == "date":
        return date.fromisoformat(str(rule["date"]))
    start = max(published_on, joined_on)
    if kind == "after_publication":
        return start + timedelta(days=int(rule["days"]))
    if kind == "recurring":
        return start + timedelta(days=int(rule.get("days", DEFAULT_FIRST_DUE_DAYS)))
    return None


def next_due_after_pass(rule: Mapping[str, Any], passed_on: date,
                        current: date | None) -> date | None:
    """The due date once she passed: recurring modules come due again N months later."""
    if rule.get("kind") == "recurring":
        return add_months(passed_on, int(rule["months"]))
    return current


def is_recurring(rule: Mapping[str, Any]) -> bool:
    """True for a module taken again every N months."""
    return rule.get("kind") == "recurring"


@dataclass(frozen=True)
class Score:
    """The server's verdict on one attempt."""

    percent: Decimal
    passed: bool
    correct: int
    total: int


def answer_errors(quiz: Mapping[str, Any], answers: Mapping[str, list[str]]) -> list[str]:
    """Messages for answers naming questions or options the quiz does not have."""
    questions = {q["id"]: q for q in quiz.get("questions", ())}
    errors = []
    for question_id, chosen in answers.items():
        question = questions.get(question_id)
        if question is None:
            errors.append(f"Question {question_id!r} is not in this module's quiz.")
            continue
        options = {o["id"] for o in question.get("options", ())}
        unknown = sorted(set(chosen) - options)
        if unknown:
            errors.append(f"Question {question_id!r} has no option {unknown[0]!r}.")
        elif question.get("kind") == "single" and len(set(chosen)) > 1:
            errors.append(f"Question {question_id!r} takes a single answer.")
    return errors


def score(quiz: Mapping[str, Any], answers: Mapping[str, list[str]]) -> Score:
    """A question counts when the chosen set equals the correct set; unanswered is wrong."""
    questions = list(quiz.get("questions", ()))
    right = sum(1 for q in questions
                if set(answers.get(q["id"], ())) == set(q.get("correct", ())))
    total = len(questions)
    percent = (Decimal(100 * right) / Decimal(total)).quantize(
        Decimal("0.1"), ROUND_HALF_UP) if total else Decimal(0)
    return Score(percent, percent >= Decimal(int(quiz.get("pass_mark_percent", 100))),
                 right, total)


def quiz_for_device(quiz: Mapping[str, Any]) -> dict[str, Any]:
    """The quiz without its answers: what devices receive."""
    return {
        "pass_mark_percent": quiz.get("pass_mark_percent"),
        "questions": [{k: v for k, v in q.items() if k != "correct"}
                      for q in quiz.get("questions", ())],
    }
