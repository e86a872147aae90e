"""``python -m bench.operations [--rows N]``: the figures docs/operations.md sizes from.

- bytes a change-feed row takes on PostgreSQL (table and index, per row);
- retiring one day of the feed: ``DELETE`` of its rows (the plain table, SQLite's way)
  against ``DROP`` of its partition (PostgreSQL, ``sync/feed_partitions.py``);
- ``infusync backup``'s SQLite online copy of a database that size, and its speed.

Prints one JSON line. Run on a quiet machine; the numbers say which machine they are from.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import sqlalchemy as sa

from bench import machine
from bench.databases import (
    ADMIN_URL,
    bench_app,
    dispose,
    migrate,
    postgres_database,
    sqlite_url,
    vacuum_analyze,
)
from server.backup import sqlite_online
from sync import feed, feed_partitions

DAY = datetime(2027, 1, 4, tzinfo=UTC)
NURSES = 500


def _rows(count: int, day: datetime) -> list[dict[str, Any]]:
    nurses = [uuid.uuid4() for _ in range(NURSES)]
    return [{"nurse_id": nurses[i % NURSES], "position": i // NURSES + 1 + int(day.day) * 10**6,
             "entity_type": "visit", "entity_id": uuid.uuid4(),
             "created_at": day + timedelta(seconds=i * 86_000 / count)} for i in range(count)]


def _load(engine: sa.Engine, count: int) -> None:
    # the model's types: UUIDs as SQLite stores them
    table = cast(sa.Table, feed.FeedEntry.__table__)
    for day in (DAY, DAY + timedelta(days=1)):
        rows = _rows(count, day)
        with engine.begin() as connection:
            for start in range(0, count, 20_000):
                connection.execute(sa.insert(table), rows[start:start + 20_000])


def _timed(engine: sa.Engine, sql: str) -> float:
    started = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(sa.text(sql))
    return time.perf_counter() - started


def postgresql(count: int, folder: Path) -> dict[str, Any]:
    """Feed bytes per row, and retiring a day by DELETE and by DROP."""
    with postgres_database() as url:
        app = bench_app(url, folder)
        migrate(app)
        dispose(app)
        engine = sa.create_engine(url)
        with engine.begin() as connection:
            for offset in range(2):
                feed_partitions.create_day(connection, (DAY + timedelta(days=offset)).date())
        _load(engine, count)
        vacuum_analyze(url, ["sync_feed"])
        with engine.connect() as connection:
            size = connection.execute(sa.text(
                "SELECT sum(pg_total_relation_size(inhrelid)) FROM pg_inherits "
                "WHERE inhparent = 'sync_feed'::regclass")).scalar_one()
        first = feed_partitions.partition_name(DAY.date())
        second = feed_partitions.partition_name((DAY + timedelta(days=1)).date())
        deleted = _timed(engine, f"DELETE FROM {second}")  # noqa: S608 - our partition name
        dropped = _timed(engine, f"DROP TABLE {first}")
        engine.dispose()
    return {"rows_per_day": count, "bytes_per_row": round(int(size) / (2 * count), 1),
            "delete_day_s": round(deleted, 3), "drop_day_s": round(dropped, 4)}


def sqlite_backup(count: int, folder: Path) -> dict[str, Any]:
    """The online copy of a SQLite database holding two days of feed."""
    url = sqlite_url(folder)
    app = bench_app(url, folder)
    migrate(app)
    dispose(app)
    engine = sa.create_engine(url)
    _load(engine, count)
    engine.dispose()
    source = Path(url.removeprefix("sqlite:///"))
    started = time.perf_counter()
    copied = sqlite_online.copy(source, folder / "backup.sqlite3")
    took = time.perf_counter() - started
    mib = copied.path.stat().st_size / 2**20
    return {"database_mib": round(mib, 1), "backup_s": round(took, 3),
            "mib_per_s": round(mib / took, 1)}


def main() -> None:
    """Measure and print one JSON line."""
    parser = argparse.ArgumentParser(prog="python -m bench.operations")
    parser.add_argument("--rows", type=int, default=200_000, help="feed rows per day")
    rows = parser.parse_args().rows
    with tempfile.TemporaryDirectory() as pg_folder, tempfile.TemporaryDirectory() as sq:
        result = {"measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                  "machine": machine.describe(ADMIN_URL),
                  "feed_postgresql": postgresql(rows, Path(pg_folder)),
                  "sqlite_backup": sqlite_backup(rows, Path(sq))}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
