"""Alerts the jobs raise: a review item for the office, once per fact.

The writer and its key format are ``server.review_items``; an alert keeps its key in its
details too, where the review queue has always shown it.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from server.models import ReviewItem
from server.review_items import open_item


def open_alert(session: Session, kind: str, summary: str, *, dedupe_key: str, now: datetime,
               patient_id: uuid.UUID | None = None, visit_id: uuid.UUID | None = None,
               device_id: uuid.UUID | None = None,
               details: dict[str, Any] | None = None) -> ReviewItem | None:
    """Queue a review item unless one with ``dedupe_key`` is stored (then None)."""
    opened = open_item(session, kind, summary, dedupe_key=dedupe_key, now=now,
                       patient_id=patient_id, visit_id=visit_id, device_id=device_id,
                       details={**(details or {}), "dedupe_key": dedupe_key})
    return opened.item if opened.new else None


def aware(moment: datetime) -> datetime:
    """UTC-aware: SQLite hands back naive UTC datetimes (from aggregates, too)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
