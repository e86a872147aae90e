"""The module editor's plain HTML form, both ways: a module (or what was typed) as flat
form values, and those values as the data ``ModuleUpdateSchema`` loads.

A form without script cannot post nested JSON, so each question, option and audience
entry has its own field (``q1_text``, ``q1_opt2``, ``q1_correct``…); the API's schema then
checks the result, and its nested errors come back here under the form's field names.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict

from server.models import TrainingModule

OPTION_SLOTS = 4  # blank option fields shown per question (more once a question has more)
OPTION_IDS = "abcdefghijklmnopqrst"  # 20, the schema's most options
MULTI = ("audience_roles", "audience_competencies", "audience_nurses", "attachment",
         "remove_attachment")
# Top-level names of the service's publish problems and schema errors → the form's fields.
FIELDS = {"title": "title", "summary": "summary", "body_md": "body_md",
          "competency": "competency", "required": "required", "audience": "audience_roles",
          "due_rule": "due_kind", "quiz": "questions", "attachments": "attachments"}


def _join(values: Iterable[str]) -> str:
    return ",".join(values)


def question_count(values: Mapping[str, str]) -> int:
    """How many question blocks the values hold (at least one, for the first)."""
    text = values.get("questions", "")
    return max(int(text) if text.isascii() and text.isdigit() else 0, 1)


def option_count(values: Mapping[str, str], number: int) -> int:
    """How many option fields question ``number`` shows."""
    filled = [j for j in range(1, len(OPTION_IDS) + 1) if values.get(f"q{number}_opt{j}")]
    return min(max(OPTION_SLOTS, (filled[-1] + 1) if filled else 0), len(OPTION_IDS))


def _due_values(rule: Mapping[str, Any]) -> dict[str, str]:
    return {"due_kind": str(rule.get("kind", "")), "due_date": str(rule.get("date") or ""),
            "due_days": "" if rule.get("days") is None else str(rule["days"]),
            "due_months": "" if rule.get("months") is None else str(rule["months"])}


def _question_values(number: int, question: Mapping[str, Any]) -> dict[str, str]:
    ids = [option["id"] for option in question.get("options", ())]
    values = {f"q{number}_text": str(question.get("text", "")),
              f"q{number}_kind": str(question.get("kind", "single")),
              f"q{number}_correct": _join([str(ids.index(c) + 1)
                                           for c in question.get("correct", ()) if c in ids])}
    for j, option in enumerate(question.get("options", ()), start=1):
        values[f"q{number}_opt{j}"] = str(option.get("text", ""))
    return values


def values_of_module(module: TrainingModule) -> dict[str, str]:
    """The saved module as the editor's field values."""
    quiz, audience = module.quiz or {}, module.audience or {}
    values = {"title": module.title, "summary": module.summary or "",
              "body_md": module.body_md or "", "competency": module.competency or "",
              "required": "yes" if module.required else "", "revision": str(module.revision),
              "pass_mark": str(quiz.get("pass_mark_percent") or ""),
              "audience_roles": _join(audience.get("roles", [])),
              "audience_competencies": _join(audience.get("competencies", [])),
              "audience_nurses": _join(audience.get("nurse_ids", [])),
              "attachment": _join(f"{a['sha256']}:{a['name']}"
                                  for a in module.attachments or []),
              "questions": str(len(quiz.get("questions", [])))}
    values.update(_due_values(module.due_rule or {}))
    for number, question in enumerate(quiz.get("questions", []), start=1):
        values.update(_question_values(number, question))
    return values


def values_of_request(form: MultiDict[str, str]) -> dict[str, str]:
    """What was typed, as flat values (a ticked group joined by commas; no CSRF token)."""
    values = {key: form.get(key, "") for key in form if key not in MULTI and key != "csrf_token"}
    for key in MULTI:
        values[key] = _join(form.getlist(key))
    for number in range(1, question_count(values) + 1):
        values[f"q{number}_correct"] = _join(form.getlist(f"q{number}_correct"))
    return values


def split(values: Mapping[str, str], name: str) -> list[str]:
    """A ticked group's values (``a,b`` → ``["a", "b"]``)."""
    return [part for part in values.get(name, "").split(",") if part]


def _number(text: str) -> int | str | None:
    """Digits as a number; anything else as typed (the schema names it); blank as None."""
    text = text.strip()
    if not text:
        return None
    return int(text) if text.isascii() and text.isdigit() else text


def _question(values: Mapping[str, str], number: int) -> dict[str, Any] | None:
    """One question block as the schema's question, or None when left entirely blank."""
    options = [{"id": OPTION_IDS[j - 1], "text": values.get(f"q{number}_opt{j}", "")}
               for j in range(1, option_count(values, number) + 1)
               if values.get(f"q{number}_opt{j}", "").strip()]
    text = values.get(f"q{number}_text", "")
    if not text.strip() and not options:
        return None
    correct = [OPTION_IDS[int(j) - 1] for j in split(values, f"q{number}_correct")
               if j.isdigit() and 0 < int(j) <= len(OPTION_IDS)]
    return {"id": f"q{number}", "text": text,
            "kind": values.get(f"q{number}_kind", "single"), "options": options,
            "correct": correct}


def _due_rule(values: Mapping[str, str]) -> dict[str, Any] | None:
    kind = values.get("due_kind", "")
    if not kind:
        return None
    rule: dict[str, Any] = {"kind": kind}
    if kind == "date":
        rule["date"] = values.get("due_date", "").strip() or None
    elif kind == "after_publication":
        rule["days"] = _number(values.get("due_days", ""))
    else:
        rule["months"] = _number(values.get("due_months", ""))
        rule["days"] = _number(values.get("due_days", ""))
    return rule


def _attachments(values: Mapping[str, str]) -> list[dict[str, str]]:
    removed = set(split(values, "remove_attachment"))
    kept = []
    for entry in split(values, "attachment"):
        sha256, _, name = entry.partition(":")
        if sha256 not in removed:
            kept.append({"sha256": sha256, "name": name})
    return kept


def data_of(values: Mapping[str, str]) -> dict[str, Any]:
    """The values as the body of ``PATCH /training/modules/<id>`` (before its schema)."""
    questions = [q for number in range(1, question_count(values) + 1)
                 if (q := _question(values, number)) is not None]
    return {
        "title": values.get("title", ""), "summary": values.get("summary", ""),
        "body_md": values.get("body_md", ""),
        "competency": values.get("competency") or None,
        "required": values.get("required") == "yes",
        "audience": {"roles": split(values, "audience_roles"),
                     "competencies": split(values, "audience_competencies"),
                     "nurse_ids": split(values, "audience_nurses")},
        "due_rule": _due_rule(values),
        "quiz": {"pass_mark_percent": _number(values.get("pass_mark", "")),
                 "questions": questions},
        "attachments": _attachments(values),
    }


def _nested_field(path: list[str]) -> str:
    """A schema error's path (``quiz.questions.0.options.1.text``) → the form's field."""
    head = path[0]
    if head == "due_rule" and len(path) > 1:
        return {"date": "due_date", "days": "due_days", "months": "due_months"}.get(
            path[1], "due_kind")
    if head == "audience" and len(path) > 1:
        return {"roles": "audience_roles", "competencies": "audience_competencies",
                "nurse_ids": "audience_nurses"}.get(path[1], "audience_roles")
    if head == "quiz" and len(path) > 1:
        return _quiz_field(path[1:])
    return FIELDS.get(head, head)


def _quiz_field(path: list[str]) -> str:
    if path[0] == "pass_mark_percent":
        return "pass_mark"
    if path[0] != "questions" or len(path) < 2 or not path[1].isdigit():
        return "questions"
    number = int(path[1]) + 1
    rest = path[2:]
    if rest[:1] == ["options"] and len(rest) > 1 and rest[1].isdigit():
        return f"q{number}_opt{int(rest[1]) + 1}"
    return {"text": f"q{number}_text", "kind": f"q{number}_kind",
            "correct": f"q{number}_correct"}.get(rest[0] if rest else "", f"q{number}_opt1")


def field_errors(messages: Any, path: list[str] | None = None) -> dict[str, list[str]]:
    """Nested marshmallow errors (or a refusal's details) flattened onto form fields."""
    path = path or []
    found: dict[str, list[str]] = {}
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            for name, texts in field_errors(value, [*path, str(key)]).items():
                found.setdefault(name, []).extend(texts)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages) and path:
        found[_nested_field(path)] = list(messages)
    return found


QUESTION_FIELD = re.compile(r"^q(\d+)_(text|kind|opt(\d+)|correct)$")


def labels_for(names: Iterable[str], fixed: Mapping[str, str]) -> dict[str, str]:
    """``fixed`` plus the words for the question fields among ``names`` (the summary's)."""
    labels = dict(fixed)
    for name in names:
        found = QUESTION_FIELD.match(name)
        if found:
            number, part, option = found.groups()
            labels[name] = {"text": f"Question {number} text", "kind": f"Question {number} kind",
                            "correct": f"Question {number}: the correct option(s)"}.get(
                part, f"Question {number} option {option}")
    return labels
