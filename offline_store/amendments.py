"""The ``changes`` of a ``record.amend``: which fields of a record may be corrected, and how.

A change is given as ``field=value``, typed by the field (a dose is a number, an expiry a
date), or as ``field:=json`` for structured fields (``access``, ``components``). Only the
clinical fields a nurse wrote can be amended; provenance (who, when received, flags) cannot.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from offline_store.clock import parse_rfc3339
from offline_store.contract import choices

NOTE_CATEGORIES = choices("NOTE_CATEGORIES")

NUMBER, DATE, TIME, JSON, TEXT, ID, CATEGORY = (
    "number", "date", "time", "json", "text", "id", "category")
AMENDABLE_FIELDS: dict[str, dict[str, str]] = {
    "infusion": {
        "order_id": ID, "medication": TEXT, "dose": NUMBER, "dose_unit": TEXT, "route": TEXT,
        "lot_number": TEXT, "lot_expiry": DATE, "access": JSON, "pump_serial": TEXT,
        "programmed_rate_ml_h": NUMBER, "vtbi_ml": NUMBER, "started_at": TIME,
        "stopped_at": TIME, "volume_infused_ml": NUMBER, "adverse_reaction": JSON,
        "notes": TEXT},
    "vitals": {"code": TEXT, "value": NUMBER, "components": JSON, "unit": TEXT,
               "taken_at": TIME},
    "note": {"category": CATEGORY, "text": TEXT},
}


EXPECTED = {NUMBER: "a number", DATE: "a date YYYY-MM-DD",
            TIME: "a time with its offset, e.g. 2026-11-23T09:10:00-05:00",
            ID: "a record id (UUID)", CATEGORY: f"one of {', '.join(NOTE_CATEGORIES)}"}


class ChangeError(ValueError):
    """A change that names no amendable field, or whose value does not fit the field."""


def number(text: str) -> int | float:
    """A JSON number from text: ``2`` stays an integer, ``2.5`` a float; else ValueError."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a number: {text!r}")
    return int(value) if value == value.to_integral_value() and "." not in text else float(value)


def _typed(kind: str, text: str) -> Any:
    """The value of ``text`` for a field of that kind; ValueError says what was expected."""
    try:
        if kind == NUMBER:
            return number(text)
        if kind == DATE:
            return date.fromisoformat(text).isoformat()
        if kind == TIME:
            parse_rfc3339(text)
            return text
        if kind == ID:
            return str(uuid.UUID(text))
    except ValueError as exc:
        raise ValueError(f"expected {EXPECTED[kind]}, got {text!r}") from exc
    if kind == CATEGORY and text not in NOTE_CATEGORIES:
        raise ValueError(f"expected {EXPECTED[kind]}, got {text!r}")
    if kind == JSON:
        raise ValueError("a structured field: give it as JSON with field:=value")
    return text


def _split(item: str) -> tuple[str, bool, str]:
    """(field, is_json, value text) of ``field=value`` or ``field:=json``."""
    equals = item.find("=")
    as_json = equals > 0 and item[equals - 1] == ":"
    name = item[:equals - 1 if as_json else equals].strip()
    if equals < 0 or not name:
        raise ChangeError(f"{item!r}: give a change as field=value (or field:=json)")
    return name, as_json, item[equals + 1:]


def parse_change(target_type: str, item: str) -> tuple[str, Any]:
    """``dose=2.5`` → ("dose", 2.5); ``access:={...}`` → ("access", {...})."""
    fields = AMENDABLE_FIELDS[target_type]
    name, as_json, text = _split(item)
    if name not in fields:
        raise ChangeError(f"{name!r} cannot be amended on a {target_type} record "
                          f"(amendable: {', '.join(sorted(fields))})")
    try:
        return name, json.loads(text) if as_json else _typed(fields[name], text)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError too
        raise ChangeError(f"{name}: {exc}") from exc


def parse_changes(target_type: str, items: list[str]) -> dict[str, Any]:
    """Every ``--set`` of one amendment; a field given twice is refused."""
    changes: dict[str, Any] = {}
    for item in items:
        name, value = parse_change(target_type, item)
        if name in changes:
            raise ChangeError(f"{name} is given twice")
        changes[name] = value
    return changes
