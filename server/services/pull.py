"""Pull: a page of changes for one device, from its nurse's feed or a fresh snapshot.

Cost follows the nurse's changes: a delta reads her feed by ``(nurse, position)`` and the
visits that entered or left her window since the cursor's time; a snapshot walks her scope
by keyset. Neither touches anything proportional to the size of the agency.
"""

from __future__ import annotations

import functools
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from server import audit, review_delivery
from server.errors import AppError
from server.metrics import instruments
from server.models import Device, DeviceCommand, Patient, User, Visit
from server.services.sync_scope import (
    AHEAD,
    BACK,
    CHILD_MODELS,
    ChangeList,
    Scope,
    Terms,
    notifications_query,
    patient_ids_query,
    resolve,
    upsert,
    visits_query,
)
from server.training import delivery as training_delivery
from sync import cursor as cursors
from sync import feed

# Ranks the request holds already (``_in_hand``); the others are read by ``_rank_statements``.
IN_HAND = ("profile", "training")

# New ranks go last: a snapshot cursor names its rank by position.
SNAPSHOT_RANKS = ("profile", "training", "training_status", "patient", "service_location",
                  "order", "pump", "visit",
                  "device_command", "notification", review_delivery.KIND)


class CursorExpired(AppError):
    """The feed behind this cursor was compacted: push the outbox, then pull from scratch."""

    status = 410
    code = "cursor_expired"


# ``details.reason`` of a 410 whose cursor is ahead of the feed (docs/operations.md).
FEED_BEHIND_CURSOR = "feed_behind_cursor"


class InvalidCursor(AppError):
    """A cursor this server did not issue for this nurse."""

    status = 400
    code = "invalid_cursor"


@dataclass(frozen=True)
class Page:
    """One pull response before signing."""

    changes: list[dict[str, Any]]
    cursor: str
    has_more: bool
    snapshot: bool


def _decode(text: str, key: bytes, nurse_id: uuid.UUID) -> cursors.Cursor:
    try:
        cursor = cursors.decode(text, key)
    except cursors.InvalidCursor as exc:
        raise InvalidCursor(f"This cursor is not valid: {exc}.") from exc
    if cursor.nurse_id != str(nurse_id):
        raise InvalidCursor("This cursor belongs to another nurse's feed.")
    return cursor


def _rank_query(kind: str, terms: Terms) -> Any:
    """The statement that reads one snapshot rank (before its keyset and limit)."""
    if kind == "patient":
        return select(Patient).where(Patient.id.in_(patient_ids_query(terms)))
    if kind == "training_status":
        return training_delivery.statuses_query(terms.nurse_id)
    if kind == "visit":
        return visits_query(terms)
    if kind == "device_command":
        return select(DeviceCommand).where(DeviceCommand.device_id == terms.device_id,
                                           DeviceCommand.delivered_at.is_(None))
    if kind == "notification":
        return notifications_query(terms)
    if kind == review_delivery.KIND:
        return review_delivery.snapshot_query(terms.nurse_id, terms.resolved_since)
    model = dict(CHILD_MODELS)[kind]
    return select(model).where(model.patient_id.in_(patient_ids_query(terms)))


@functools.cache
def _rank_statements() -> dict[str, tuple[Any, Any]]:
    """Each queried rank's statement, built once per process on bind parameters.

    Building them (and their cache keys) for every pull was about a sixth of a snapshot
    pull's CPU; the scope's terms, the keyset's ``after`` and the ``limit`` are bound at
    execution instead. Each rank has its first page's statement and its resumed pages'.
    """
    out = {}
    for kind in SNAPSHOT_RANKS:
        if kind not in IN_HAND:
            stmt = _rank_query(kind, Terms.bound())
            entity = stmt.column_descriptions[0]["entity"]
            first = stmt.order_by(entity.id).limit(bindparam("limit"))
            # A rank's first page reads without a keyset, as before: the same SQL, and
            # the same plans, as when each pull built it.
            out[kind] = (first, first.where(entity.id > bindparam("after")))
    return out


def _in_hand(session: Session, scope: Scope, kind: str) -> list[Any] | None:
    """The rows of a rank already read for this request, in id order; None for the others.

    Her profile was loaded with the device (``devices.authenticate``) and her modules are
    chosen from the published ones in Python (audiences): reading either again by id was
    a round trip per pull for rows the session held.
    """
    if kind not in IN_HAND:
        return None
    if kind == "profile":
        return [session.get_one(User, scope.nurse_id)]
    return training_delivery.modules_for(session, session.get_one(User, scope.nurse_id))


def _snapshot_keys(session: Session, scope: Scope, rank: int, after: str | None,
                   limit: int) -> list[Any]:
    """Up to ``limit`` entities of one snapshot rank with ids after ``after``."""
    kind = SNAPSHOT_RANKS[rank]
    rows = _in_hand(session, scope, kind)
    if rows is not None:
        # UUIDs order alike here and in both databases (bytes, or lower-case hex on SQLite).
        return [row for row in rows if after is None or row.id > uuid.UUID(after)][:limit]
    first, resumed = _rank_statements()[kind]
    if after is None:
        return list(session.scalars(first, {**scope.terms.params(), "limit": limit}))
    return list(session.scalars(resumed, {**scope.terms.params(), "after": uuid.UUID(after),
                                          "limit": limit}))


def _snapshot_page(session: Session, scope: Scope, start: cursors.Cursor, limit: int,
                   key: bytes, now: datetime) -> Page:
    rank, after_text = start.snapshot_after or (0, "")
    after: str | None = after_text or None
    out, count = ChangeList(), 0
    while rank < len(SNAPSHOT_RANKS) and count < limit:
        budget = limit - count
        rows = _snapshot_keys(session, scope, rank, after, budget)
        for row in rows:
            out.add(upsert(SNAPSHOT_RANKS[rank], row))
        count += len(rows)
        if len(rows) == budget:  # this rank may hold more: continue it next page
            after = str(rows[-1].id)
            break
        rank, after = rank + 1, None
    done = rank >= len(SNAPSHOT_RANKS)
    next_cursor = cursors.Cursor(start.nurse_id, start.position, start.window_at,
                                 None if done else (rank, after or ""))
    # A snapshot resumed later was taken on its starting window: time has passed since, so
    # one more (delta) page follows to bring visits in and out of the window.
    has_more = (not done or now > start.window_at
                or bool(feed.read(session, scope.nurse_id, start.position, 1)))
    return Page(out.items(), cursors.encode(next_cursor, key), has_more, snapshot=True)


def _window_mentions(session: Session, scope: Scope, since: datetime) -> list[Any]:
    """Her visits that entered or left the window since ``since`` (time passing, no write)."""
    if scope.at <= since:
        return []
    entering = (Visit.scheduled_start >= since + AHEAD) & (Visit.scheduled_start < scope.at + AHEAD)
    leaving = (Visit.scheduled_start >= since - BACK) & (Visit.scheduled_start < scope.at - BACK)
    mentions: list[Any] = []
    for visit_id, patient_id, entered in session.execute(
            select(Visit.id, Visit.patient_id, entering).where(
                Visit.nurse_id == scope.nurse_id, entering | leaving)):
        mentions.append(("visit", visit_id))
        if entered:  # her device may not hold this patient yet
            mentions.append(("patient", patient_id))
    return mentions


def _delta_page(session: Session, scope: Scope, start: cursors.Cursor, limit: int,
                key: bytes) -> Page:
    head = feed.head(session, scope.nurse_id)
    if head is not None and start.position < head.compacted_through:
        raise CursorExpired("Changes since this cursor were compacted; push your outbox, "
                            "then pull without a cursor for a fresh snapshot.")
    if start.position > (head.position if head is not None else 0):
        # Positions this feed will hand out again: reading on would skip them forever.
        raise CursorExpired("This server's feed is behind your cursor: it was restored from "
                            "a backup. Resend what you sent since, push your outbox, then "
                            "pull without a cursor.", details={"reason": FEED_BEHIND_CURSOR})
    entries = feed.read(session, scope.nurse_id, start.position, limit + 1)
    page, has_more = entries[:limit], len(entries) > limit
    mentions = _window_mentions(session, scope, start.window_at)
    mentions += [(e.entity_type, e.entity_id) for e in page]
    out = ChangeList()
    resolve(session, scope, mentions, out)
    position = page[-1].position if page else start.position
    next_cursor = cursors.Cursor(start.nurse_id, position, scope.at)
    return Page(out.items(), cursors.encode(next_cursor, key), has_more, snapshot=False)


def pull(session: Session, device: Device, cursor_text: str, limit: int, now: datetime,
         key: bytes, actor: audit.Actor) -> Page:
    """The next page for ``device``: a snapshot from an empty cursor, else its feed.

    Timed and counted for /metrics by kind of page; a cursor refused is counted by its code.
    """
    started = time.perf_counter()
    try:
        page = _pull(session, device, cursor_text, limit, now, key, actor)
    except (CursorExpired, InvalidCursor) as refused:
        instruments.pull_refusals.labels(refused.code).inc()
        raise
    kind = "snapshot" if page.snapshot else "delta"
    instruments.pull_duration.labels(kind).observe(time.perf_counter() - started)
    instruments.pull_changes.labels(kind).inc(len(page.changes))
    return page


# Built once on bind parameters (names that are no column's, as an UPDATE requires).
_TOUCH = (update(Device).where(Device.id == bindparam("touched_id"))
          .values(last_pull_at=bindparam("touched_at"), last_seen_at=bindparam("touched_at")))


def _touch(session: Session, device: Device, now: datetime) -> None:
    """Note the device's pull (its last sync, on the board) with one UPDATE of its own.

    Set on the ORM object, the two columns made the commit's flush run the unit of work
    and every flush hook for one row, about a twentieth of a pull's CPU; the object is
    given the values as already stored, so it reads as the database does.
    """
    session.connection().execute(_TOUCH, {"touched_id": device.id, "touched_at": now})
    set_committed_value(device, "last_pull_at", now)
    set_committed_value(device, "last_seen_at", now)


def _pull(session: Session, device: Device, cursor_text: str, limit: int, now: datetime,
          key: bytes, actor: audit.Actor) -> Page:
    nurse_id = device.user_id
    if cursor_text:
        start = _decode(cursor_text, key, nurse_id)
    else:
        head = feed.head(session, nurse_id)
        start = cursors.Cursor(str(nurse_id), head.position if head else 0, now, (0, ""))
    if start.snapshot_after is not None:
        scope = Scope(nurse_id, device.id, start.window_at)
        page = _snapshot_page(session, scope, start, limit, key, now)
    else:
        page = _delta_page(session, Scope(nurse_id, device.id, now), start, limit, key)
    _touch(session, device, now)
    patients = sorted({c["id"] for c in page.changes
                       if c["type"] == "patient" and c["op"] == "upsert"})
    items = sorted(c["id"] for c in page.changes
                   if c["type"] == review_delivery.KIND and c["op"] == "upsert")
    audit.record(session, actor, "sync.pull", "devices", at=now, entity_id=device.id,
                 details={"changes": len(page.changes), "patient_ids": patients,
                          **({"review_item_ids": items} if items else {})})
    session.commit()
    return page
