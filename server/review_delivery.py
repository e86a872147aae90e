"""Review items on the nurse's devices: the doubts about her own documentation, and how
a person resolved them (issue 11, item 4).

An item is *hers* when it is about a mutation one of her devices sent (``device_id`` and
``mutation_id`` set, on a visit): the reconciliation findings and conflicts, including
those opened later about her record (a re-derivation, a duplicate found by another
nurse's push). Alerts of the office (a missed visit, a silent device, a documented visit
kept) name no mutation and stay with the office.

It stays hers when the visit is reassigned away from her: the conflict is about her own
documentation, and a reassignment while she was offline is the commonest cause of one, so
cutting the item off there would leave exactly those conflicts listed on her device for
ever. What travels is ids and words (kind, the system's summary, the resolution, the
resolver's name and role, the resolver's comment) — never the visit or patient records
her scope no longer holds, and nothing about another nurse's documentation.

The feed is told twice: ``announce`` when ``review_items.open_item`` stores a new item
(an ``INSERT ... ON CONFLICT`` statement, which ``after_flush`` never sees), and
``changes`` from ``feed_fanout`` when a stored item changes (a person's resolution, the
system closing it). At pull time ``resolve`` turns mentions into upserts of her items.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Select, or_, select
from sqlalchemy.orm import Session, object_session

from server.models import Device, ReviewItem, ReviewStatus, User
from sync import feed

KIND = "review_item"
# A snapshot carries her open items and those resolved in this many days (as notifications).
RESOLVED_DAYS = timedelta(days=14)


def delivered(item: ReviewItem) -> bool:
    """Whether the item is about documentation a device sent (so it has a nurse)."""
    return (item.device_id is not None and item.mutation_id is not None
            and item.visit_id is not None)


def _nurse_of(connection: Connection, item: ReviewItem) -> uuid.UUID | None:
    """The nurse whose device sent the documentation the item is about."""
    if not delivered(item):
        return None
    return connection.execute(
        select(Device.user_id).where(Device.id == item.device_id)).scalar_one_or_none()


def changes(connection: Connection, obj: Any) -> Iterator[feed.Change]:
    """The feed entry a changed item calls for (``feed_fanout``'s ``after_flush`` hook)."""
    if isinstance(obj, ReviewItem) and (nurse := _nurse_of(connection, obj)) is not None:
        yield nurse, KIND, obj.id


def announce(session: Session, item: ReviewItem, now: datetime) -> None:
    """Tell her devices of a newly stored item (``review_items.open_item``)."""
    # A push's own device is in the session already: no query for the common case.
    device = session.get(Device, item.device_id) if delivered(item) else None
    if device is not None:
        feed.append(session.connection(), [(device.user_id, KIND, item.id)], now)


def _hers(nurse_id: Any) -> Select[ReviewItem]:
    """Items about documentation her devices sent."""
    return (select(ReviewItem).join(Device, Device.id == ReviewItem.device_id)
            .where(Device.user_id == nurse_id, ReviewItem.mutation_id.is_not(None),
                   ReviewItem.visit_id.is_not(None)))


def snapshot_query(nurse_id: Any, resolved_since: Any) -> Select[ReviewItem]:
    """Her open items, and those resolved since ``resolved_since`` (now - ``RESOLVED_DAYS``;
    values or bind parameters: ``sync_scope.Terms``), keyset on id."""
    return _hers(nurse_id).where(or_(ReviewItem.status == ReviewStatus.OPEN,
                                     ReviewItem.resolved_at >= resolved_since))


def _resolver(session: Session, item: ReviewItem) -> dict[str, str] | None:
    """Who resolved it, as a nurse of the agency may know: name and role (None: the system)."""
    user = session.get(User, item.resolved_by) if item.resolved_by is not None else None
    return None if user is None else {"name": user.name, "role": user.role.value}


def item_data(session: Session, item: ReviewItem) -> dict[str, Any]:
    """The item as her device receives it: ids, words and the resolution, no evidence."""
    resolved_with = item.details.get("resolved_with") or {}
    by_person = item.resolved_by is not None
    return {
        "id": str(item.id), "kind": item.kind, "severity": item.severity.value,
        "status": item.status.value, "summary": item.summary, "visit_id": str(item.visit_id),
        "record_id": item.details.get("record_id"), "mutation_id": str(item.mutation_id),
        "created_at": item.created_at.isoformat(),
        "resolved_at": item.resolved_at.isoformat() if item.resolved_at else None,
        "resolution": resolved_with.get("resolution"),
        "resolved_by": _resolver(session, item) if by_person else None,
        # The reviewer's comment, in her words; the system's closing reason is no comment.
        "note": item.resolution if by_person else None,
    }


def upsert(item: ReviewItem) -> dict[str, Any]:
    """An upsert change for one of her items (version 1 while open, 2 once resolved)."""
    session = object_session(item)
    assert session is not None
    version = 2 if item.status is ReviewStatus.RESOLVED else 1
    return {"type": KIND, "id": str(item.id), "op": "upsert", "version": version,
            "data": item_data(session, item)}


def resolve(session: Session, nurse_id: uuid.UUID, item_ids: set[uuid.UUID],
            add: Callable[[dict[str, Any]], None]) -> None:
    """Mentions of items → upserts of hers; anything else is a remove (never its data)."""
    if not item_ids:
        return
    found = {item.id: item for item in session.scalars(
        _hers(nurse_id).where(ReviewItem.id.in_(item_ids)))}
    for item_id in sorted(item_ids, key=str):
        item = found.get(item_id)
        add(upsert(item) if item is not None else {
            "type": KIND, "id": str(item_id), "op": "remove", "version": None, "data": None})
