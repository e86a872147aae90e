"""The change feed's daily partitions on PostgreSQL: made ahead, dropped once compacted.

On PostgreSQL ``sync_feed`` is partitioned by range of ``created_at`` (migration
``a7d3c5e9f184``), one partition per UTC day, named ``sync_feed_pYYYYMMDD``, with a
``sync_feed_default`` partition that catches a row no day partition covers (should the
job that makes them ahead stop running) — compaction empties it by DELETE. Retiring a day
is then ``DROP TABLE`` of its partition: no dead rows, no vacuum, no WAL per row.

A partition is dropped only when every row in it is at or below its nurse's
``compacted_through``: the compaction job has told the heads, so a cursor into those rows
is answered ``410 cursor_expired`` instead of silently skipping them. The drop runs in a
job of its own, holding no head row: ``DROP`` takes an exclusive lock on ``sync_feed``,
and waiting for it while holding head rows that a push waits for would deadlock.
SQLite keeps the plain table; every function here does nothing there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Connection, text

PARENT = "sync_feed"
DEFAULT = "sync_feed_default"
AHEAD_DAYS = 7
_NAME = re.compile(r"^sync_feed_p(\d{8})$")


@dataclass(frozen=True)
class Maintenance:
    """What one pass did: partitions made, dropped, and kept for rows not yet compacted."""

    created: int
    dropped: int
    kept: int


def is_partitioned(connection: Connection) -> bool:
    """True on PostgreSQL once the partitioning migration has run."""
    if connection.dialect.name != "postgresql":
        return False
    kind = connection.execute(text(
        "SELECT relkind FROM pg_class WHERE oid = to_regclass(:name)"), {"name": PARENT}).scalar()
    return kind == "p"


def partition_name(day: date) -> str:
    """The name of ``day``'s partition."""
    return f"sync_feed_p{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``: partition bounds are UTC days."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def day_partitions(connection: Connection) -> dict[date, str]:
    """The existing day partitions by day (the default partition is not one)."""
    names = connection.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = to_regclass(:parent)"), {"parent": PARENT}).scalars()
    found: dict[date, str] = {}
    for name in names:
        match = _NAME.match(name)
        if match:
            found[datetime.strptime(match.group(1), "%Y%m%d").replace(tzinfo=UTC).date()] = name
    return found


def create_day(connection: Connection, day: date) -> bool:
    """Make ``day``'s partition unless it exists or the default partition already holds
    rows of that day (PostgreSQL would refuse it; they stay there, compacted by DELETE);
    True when it was made."""
    if day in day_partitions(connection):
        return False
    start, end = day_start(day), day_start(day + timedelta(days=1))
    stranded = connection.execute(text(
        "SELECT 1 FROM sync_feed_default WHERE created_at >= :start AND created_at < :end "
        "LIMIT 1"), {"start": start, "end": end}).first()
    if stranded is not None:
        return False
    connection.execute(text(
        f"CREATE TABLE IF NOT EXISTS {partition_name(day)} PARTITION OF {PARENT} "
        f"FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"))
    return True


def create_ahead(connection: Connection, today: date, days: int = AHEAD_DAYS) -> int:
    """Make the partitions of ``today`` and the ``days`` after it; how many were new."""
    if not is_partitioned(connection):
        return 0
    return sum(create_day(connection, today + timedelta(days=offset))
               for offset in range(days + 1))


def _fully_compacted(connection: Connection, name: str) -> bool:
    """Every row of partition ``name`` is at or below its nurse's ``compacted_through``."""
    # ``name`` is a catalog name that matched ``_NAME``: digits, never user input.
    query = (f"SELECT 1 FROM {name} f "  # noqa: S608
             "LEFT JOIN sync_feed_heads h ON h.nurse_id = f.nurse_id "
             "WHERE h.nurse_id IS NULL OR f.position > h.compacted_through LIMIT 1")
    behind = connection.execute(text(query)).first()
    return behind is None


def drop_before(connection: Connection, before: datetime) -> tuple[int, int]:
    """Drop the day partitions that end at or before ``before`` and hold only compacted
    rows; (dropped, kept because some row was not compacted yet)."""
    dropped = kept = 0
    for day, name in sorted(day_partitions(connection).items()):
        if day_start(day + timedelta(days=1)) > before:
            continue
        if not _fully_compacted(connection, name):
            kept += 1
            continue
        connection.execute(text(f"DROP TABLE {name}"))
        dropped += 1
    return dropped, kept


def maintain(connection: Connection, now: datetime, retention: timedelta) -> Maintenance:
    """The daily pass: partitions ahead of ``now``, and old compacted ones dropped."""
    if not is_partitioned(connection):
        return Maintenance(0, 0, 0)
    created = create_ahead(connection, now.astimezone(UTC).date())
    dropped, kept = drop_before(connection, now - retention)
    return Maintenance(created, dropped, kept)


def compaction_floor(connection: Connection, before: datetime) -> datetime | None:
    """Rows created before this instant lie in day partitions that ``drop_before`` removes
    whole, so compaction need not DELETE them (None: delete everything, as on SQLite)."""
    if not is_partitioned(connection):
        return None
    return day_start(before.astimezone(UTC).date())
