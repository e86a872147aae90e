"""The vital signs a benchmark device records (``vitals.record`` data)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

DEVICE_OFFSET = timezone(timedelta(hours=-5))  # the nurse's phone keeps its local offset

READINGS: tuple[dict[str, Any], ...] = (
    {"code": "8867-4", "value": 72, "unit": "/min"},
    {"code": "2708-6", "value": 97, "unit": "%"},
    {"code": "8310-5", "value": 36.8, "unit": "Cel"},
    {"code": "85354-9", "unit": "mm[Hg]", "components": [
        {"code": "8480-6", "value": 122, "unit": "mm[Hg]"},
        {"code": "8462-4", "value": 78, "unit": "mm[Hg]"}]},
)


def reading(index: int, taken_at: datetime) -> dict[str, Any]:
    """The ``vitals.record`` data of the ``index``-th reading a nurse takes."""
    data = dict(READINGS[index % len(READINGS)])
    data["taken_at"] = taken_at.astimezone(DEVICE_OFFSET).isoformat()
    return data
