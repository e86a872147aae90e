"""Building training modules for tests, through the models or the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from server.extensions import db
from server.models import ModuleStatus, TrainingModule

QUIZ: dict[str, Any] = {
    "pass_mark_percent": 80,
    "questions": [
        {"id": "q1", "text": "Flush a PICC before and after each use?", "kind": "single",
         "options": [{"id": "yes", "text": "Yes"}, {"id": "no", "text": "No"}],
         "correct": ["yes"]},
        {"id": "q2", "text": "Signs of phlebitis?", "kind": "multiple",
         "options": [{"id": "red", "text": "Redness"}, {"id": "warm", "text": "Warmth"},
                     {"id": "cold", "text": "Cold fingers"}],
         "correct": ["red", "warm"]},
    ],
}
RIGHT = {"q1": ["yes"], "q2": ["red", "warm"]}
WRONG = {"q1": ["no"], "q2": ["cold"]}


def module_body(**overrides: Any) -> dict[str, Any]:
    """A complete draft, as the training lead would POST it."""
    body: dict[str, Any] = {
        "title": "PICC line care refresher", "summary": "Flushing and site checks",
        "body_md": "# PICC care\nFlush with 10 mL saline.", "quiz": QUIZ,
        "competency": "picc-care", "audience": {"competencies": ["picc-care"]},
        "due_rule": {"kind": "after_publication", "days": 14}, "required": True,
    }
    return {**body, **overrides}


def published_module(published_at: datetime, **overrides: Any) -> TrainingModule:
    """A published version 1, stored straight through the model (call in an app context)."""
    values: dict[str, Any] = {
        key: value for key, value in module_body().items()}
    values.update(lineage_id=uuid.uuid4(), version=1, status=ModuleStatus.PUBLISHED,
                  published_at=published_at)
    values.update(overrides)
    module = TrainingModule(**values)
    db.session.add(module)
    return module
