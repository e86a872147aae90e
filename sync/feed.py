"""The per-nurse change feed: written with each change, read by ``(nurse, position)``.

Positions are handed out under the nurse's head row lock (``UPDATE … RETURNING``), held to
commit: a later position can never commit before an earlier one, so a reader that has seen
position N has seen everything up to N, and never skips a row that commits late.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Connection,
    String,
    and_,
    bindparam,
    delete,
    false,
    func,
    insert,
    literal_column,
    not_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from sync import feed_partitions
from sync.orm import Base

Change = tuple[uuid.UUID, str, uuid.UUID]
"""(nurse id, entity type, entity id): 'this entity changed; tell this nurse's devices'."""


class FeedHead(Base):
    """A nurse's last handed-out position and how far the feed has been compacted."""

    __tablename__ = "sync_feed_heads"

    nurse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    compacted_through: Mapped[int] = mapped_column(default=0)


class FeedEntry(Base):
    """'Entity X changed' at position N of a nurse's feed. What it is now is read at pull."""

    __tablename__ = "sync_feed"

    nurse_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(30))
    entity_id: Mapped[uuid.UUID]
    created_at: Mapped[datetime]


def _reserve(connection: Connection, nurse_id: uuid.UUID, count: int) -> int:
    """Take ``count`` positions for ``nurse_id``; returns the last. Locks the head row.

    One upsert, creating the head at ``count`` or moving it on by ``count``: an insert
    that did nothing then an update was two of every push's round trips.
    """
    maker = pg_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = maker(FeedHead).values(nurse_id=nurse_id, position=count, compacted_through=0)
    last = connection.execute(statement.on_conflict_do_update(
        index_elements=["nurse_id"],
        set_={"position": FeedHead.position + statement.excluded.position},
    ).returning(FeedHead.position)).scalar_one()
    return int(last)


def append(connection: Connection, changes: Iterable[Change], now: datetime) -> int:
    """Write ``changes`` to the feeds, nurse by nurse in id order (no lock cycles)."""
    by_nurse: dict[uuid.UUID, list[tuple[str, uuid.UUID]]] = {}
    for nurse_id, entity_type, entity_id in changes:
        items = by_nurse.setdefault(nurse_id, [])
        if (entity_type, entity_id) not in items:
            items.append((entity_type, entity_id))
    rows: list[dict[str, object]] = []
    for nurse_id in sorted(by_nurse, key=str):
        items = by_nurse[nurse_id]
        last = _reserve(connection, nurse_id, len(items))
        first = last - len(items) + 1
        rows.extend(
            {"nurse_id": nurse_id, "position": first + offset, "entity_type": kind,
             "entity_id": entity_id, "created_at": now}
            for offset, (kind, entity_id) in enumerate(items)
        )
    if rows:
        connection.execute(insert(FeedEntry), rows)
    return len(rows)


_HEAD = select(FeedHead).where(FeedHead.nurse_id == bindparam("nurse_id"))


def head(session: Session, nurse_id: uuid.UUID) -> FeedHead | None:
    """The nurse's head row (None before her first change).

    A statement built once, not ``session.get``: every pull reads a head, and ``get`` built
    its SELECT (and cache key) each time, for a row never in a fresh request's session.
    """
    return session.scalar(_HEAD, {"nurse_id": nurse_id})


# Built once on bind parameters: every pull reads the feed (building a statement and its
# cache key each time cost more CPU than sending it).
_READ = (select(FeedEntry)
         .where(FeedEntry.nurse_id == bindparam("nurse_id"),
                FeedEntry.position > bindparam("after"))
         .order_by(FeedEntry.position).limit(bindparam("limit")))


def read(session: Session, nurse_id: uuid.UUID, after: int, limit: int) -> Sequence[FeedEntry]:
    """Entries after position ``after``, oldest first, at most ``limit``."""
    return session.scalars(_READ, {"nurse_id": nurse_id, "after": after, "limit": limit}).all()


def compact(session: Session, before: datetime) -> int:
    """Delete entries older than ``before``; cursors older than what is left get 410.

    On PostgreSQL the rows of day partitions wholly older than ``before`` are left to
    ``feed_partitions.drop_before`` (the ``feed_partitions`` job), which drops them whole
    once the heads below say they are compacted; only the boundary day and the default
    partition are deleted row by row.
    """
    cutoff = (
        select(FeedEntry.nurse_id, func.max(FeedEntry.position).label("through"))
        .where(FeedEntry.created_at < before).group_by(FeedEntry.nurse_id)
    ).subquery()
    marks = session.execute(select(cutoff.c.nurse_id, cutoff.c.through)).all()
    spared = _left_to_partition_drop(session.connection(), before)
    removed = 0
    for nurse_id, through in marks:
        session.execute(update(FeedHead).where(FeedHead.nurse_id == nurse_id)
                        .values(compacted_through=through))
        result = session.execute(delete(FeedEntry).where(
            FeedEntry.nurse_id == nurse_id, FeedEntry.position <= through, not_(spared)))
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed


def _left_to_partition_drop(connection: Connection, before: datetime) -> ColumnElement[bool]:
    """Rows a partition drop removes (never any on SQLite, nor in the default partition)."""
    floor = feed_partitions.compaction_floor(connection, before)
    if floor is None:
        return false()
    in_default = literal_column("tableoid") == literal_column(
        f"'{feed_partitions.DEFAULT}'::regclass")
    return and_(FeedEntry.created_at < floor, not_(in_default))
