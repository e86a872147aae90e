"""NEWS2 of the vital-sign sets a batch added readings to: stored beside the vitals, and a
review item when the score calls for a person.

A *set* is a visit's readings with the same ``taken_at``: the reference client records a
round of vital signs as one ``vitals.record`` per reading, all taken at one time, and a
set may reach the server over several batches. Each batch merges its new readings into
the set's stored score (``early_warning_scores``, unique per visit and ``taken_at``)
instead of reading the whole set again: per parameter the reading with more points is
kept, which makes the result independent of arrival order. Readings documented on a visit
that left the nurse (``conflict``) are scored too: they are still the patient's.

The cost is one query per batch that holds NEWS2 readings (the stored scores of its
visits), the new and changed score rows, and a review item only for a set whose level
calls for one; the visit rows are already locked by the batch, so no other push scores
the same set at the same time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server import review_items
from server.models import EarlyWarningLevel, EarlyWarningScore, ReviewItem
from server.reconcile import news2
from server.reconcile.vital_ranges import BP_PANEL, CONSCIOUSNESS

# LOINC code of a reading → the NEWS2 parameter it documents.
PARAMETER_OF = {"9279-1": "respiration_rate", "2708-6": "spo2", "3151-8": "supplemental_oxygen",
                "8480-6": "systolic_bp", "8867-4": "pulse", CONSCIOUSNESS: "consciousness",
                "8310-5": "temperature"}
SYSTOLIC = "8480-6"
_WORDS = {"respiration_rate": "respiration {}/min", "spo2": "SpO2 {} %",
          "supplemental_oxygen": "oxygen {} L/min", "systolic_bp": "systolic {} mmHg",
          "pulse": "pulse {}/min", "consciousness": "{}", "temperature": "temperature {} °C"}
_NAMES = {"respiration_rate": "respiration", "spo2": "SpO2",
          "supplemental_oxygen": "air or oxygen", "systolic_bp": "systolic BP",
          "pulse": "pulse", "consciousness": "consciousness", "temperature": "temperature"}
SetKey = tuple[uuid.UUID, datetime]
# A new vital-sign row and its ``parameter_reading`` (worked out once per row).
Member = tuple[Mapping[str, Any], tuple[str, Any, int]]


def _number(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _plain(value: Decimal) -> int | float:
    """A JSON number: 24 rather than 24.0, 36.8 as is."""
    return int(value) if value == value.to_integral_value() else float(value)


def parameter_reading(row: Mapping[str, Any]) -> tuple[str, Any, int] | None:
    """(parameter, value as stored in the parts, points) of one vital-sign row, or None
    when it documents no NEWS2 parameter."""
    code = row["code"]
    if code == BP_PANEL:
        systolic = next((p["value"] for p in row["components"] if p["code"] == SYSTOLIC), None)
        if systolic is None:
            return None
        code, value = SYSTOLIC, _number(systolic)
    elif code == CONSCIOUSNESS:
        answer = row.get("answer")
        return None if answer is None else ("consciousness", answer,
                                            news2.points_of("consciousness", answer))
    elif code in PARAMETER_OF and row.get("value") is not None:
        value = _number(row["value"])
    else:
        return None
    parameter = PARAMETER_OF[code]
    if parameter == "supplemental_oxygen":
        return parameter, _plain(value), news2.points_of(parameter, value > 0)
    return parameter, _plain(value), news2.numeric_points(parameter, value)


def _sets(rows: Iterable[Mapping[str, Any]]) -> dict[SetKey, list[Member]]:
    """The batch's new readings that NEWS2 scores, by set, in device seq order."""
    found: dict[SetKey, list[Member]] = {}
    for row in sorted(rows, key=lambda r: r["seq"]):
        reading = parameter_reading(row)
        if reading is not None:
            key = (row["visit_id"], row["taken_at"].astimezone(UTC))
            found.setdefault(key, []).append((row, reading))
    return found


def _stored(session: Session, keys: Iterable[SetKey]) -> dict[SetKey, EarlyWarningScore]:
    visit_ids = sorted({visit_id for visit_id, _t in keys}, key=str)
    return {(score.visit_id, score.taken_at.astimezone(UTC)): score
            for score in session.scalars(select(EarlyWarningScore).where(
                EarlyWarningScore.visit_id.in_(visit_ids)))}


def _merge(parts: dict[str, Any], members: list[Member]) -> dict[str, Any]:
    """The set's parts with the new readings in: per parameter, the most points wins."""
    merged = dict(parts)
    for row, (parameter, value, points) in members:
        if parameter not in merged or points > merged[parameter]["points"]:
            merged[parameter] = {"value": value, "points": points,
                                 "vital_sign_id": str(row["id"])}
    return merged


def chart(parts: Mapping[str, Any], missing: Iterable[str]) -> str:
    """The set in a few words: each parameter with its value and points, then what is
    missing (``respiration 24/min: 2, SpO2 91 %: 3; not documented: temperature``)."""
    given = ", ".join(f"{_WORDS[name].format(parts[name]['value'])}: {parts[name]['points']}"
                      for name in news2.PARAMETERS if name in parts)
    absent = ", ".join(_NAMES[name] for name in missing)
    return f"{given}; not documented: {absent}" if absent else given


def _level(result: news2.Score, thresholds: news2.Thresholds) -> EarlyWarningLevel:
    found = news2.level(result, thresholds)
    return EarlyWarningLevel.NONE if found is None else EarlyWarningLevel(found)


def _score_set(session: Session, key: SetKey, members: list[Member],
               stored: EarlyWarningScore | None, now: datetime,
               thresholds: news2.Thresholds) -> tuple[EarlyWarningScore, news2.Score]:
    """Merge the rows into the set's score row (created when new); assign only what
    changed, so an unchanged set costs no UPDATE."""
    parts = _merge(stored.parts if stored else {}, members)
    result = news2.from_points({name: part["points"] for name, part in parts.items()})
    if stored is None:
        stored = EarlyWarningScore(visit_id=key[0], patient_id=members[0][0]["patient_id"],
                                   taken_at=key[1], parts={}, missing=[], score=0,
                                   level=EarlyWarningLevel.NONE, scored_at=now)
        session.add(stored)
    if stored.parts != parts:
        stored.parts, stored.missing, stored.score = parts, list(result.missing), result.total
        stored.level, stored.scored_at = _level(result, thresholds), now
    return stored, result


def _open(session: Session, score: EarlyWarningScore, result: news2.Score,
          trigger: Mapping[str, Any], now: datetime) -> ReviewItem:
    """The set's review item of its level (the stored one when it exists)."""
    kind = f"news2_{score.level.value}"
    taken_at = score.taken_at.isoformat()
    words = chart(score.parts, result.missing)
    item = review_items.open_item(
        session, kind, f"NEWS2 score {result.total} ({words}).",
        dedupe_key=review_items.fact_key(kind, score.visit_id, taken_at), now=now,
        patient_id=score.patient_id, visit_id=score.visit_id, device_id=trigger["device_id"],
        mutation_id=trigger["mutation_id"],
        details={"score": result.total, "level": score.level.value, "taken_at": taken_at,
                 "points": {name: part["points"] for name, part in score.parts.items()},
                 "missing": list(result.missing), "chart": words,
                 "record_id": str(trigger["id"]), "score_id": str(score.id)}).item
    score.review_item_id = item.id
    return item


def score_sets(session: Session, rows: Iterable[Mapping[str, Any]], now: datetime,
               thresholds: news2.Thresholds) -> dict[str, list[ReviewItem]]:
    """Score every set the batch's new vital-sign ``rows`` belong to; the review items
    opened (or found) by the id of the reading that raised them — the set's last reading
    in this batch, whose result then carries the flag."""
    sets = _sets(rows)
    if not sets:
        return {}
    stored = _stored(session, sets)
    found: dict[str, list[ReviewItem]] = {}
    for key, members in sets.items():
        score, result = _score_set(session, key, members, stored.get(key), now, thresholds)
        if score.level is not EarlyWarningLevel.NONE:
            trigger = members[-1][0]
            item = _open(session, score, result, trigger, now)
            found.setdefault(str(trigger["id"]), []).append(item)
    return found
