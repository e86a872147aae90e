"""PostgreSQL: the change feed in day partitions — rows land in their day, compaction drops a
whole day once the heads say so, a pull reads across a day boundary in order, and the
migration goes down and up again with the rows.

Each test has a database of its own: the partitions it makes must not meet other tests'
rows (the shared database keeps every row in the default partition).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from server import create_app
from server.scheduler.jobs import feed_compaction, feed_partition_upkeep
from sync import feed, feed_partitions
from tests.conftest import fresh_postgres_database

DAY = date(2027, 3, 10)
NURSE = uuid.UUID("00000000-0000-4000-8000-00000000000a")
CONFIG = {"SYNC_FEED_RETENTION_HOURS": 336, "SYNC_MAX_OFFLINE_HOURS": 168}


@pytest.fixture
def pg(tmp_path: Path) -> Iterator[sa.Engine]:
    with fresh_postgres_database("infusync_parts", tmp_path) as url:
        engine = sa.create_engine(url)
        yield engine
        engine.dispose()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def write(engine: sa.Engine, moment: datetime, count: int = 1) -> None:
    with engine.begin() as connection:
        feed.append(connection, [(NURSE, "visit", uuid.uuid4()) for _ in range(count)], moment)


def where_rows_are(engine: sa.Engine) -> dict[str, list[int]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT tableoid::regclass::text, position FROM sync_feed ORDER BY position"))
        placed: dict[str, list[int]] = {}
        for table, position in rows:
            placed.setdefault(table, []).append(position)
        return placed


def tables(engine: sa.Engine) -> set[str]:
    with engine.connect() as connection:
        return set(connection.execute(sa.text(
            "SELECT tablename FROM pg_tables WHERE tablename LIKE 'sync_feed%'")).scalars())


def test_rows_land_in_their_days_partition(pg):
    with pg.begin() as connection:
        assert feed_partitions.create_ahead(connection, DAY, days=1) == 2
        assert feed_partitions.create_ahead(connection, DAY, days=1) == 0  # idempotent
    write(pg, at(DAY, 23, 59))
    write(pg, at(DAY + timedelta(days=1), 0, 1))
    write(pg, at(DAY + timedelta(days=5), 12))  # no partition made that far: the default
    assert where_rows_are(pg) == {"sync_feed_p20270310": [1], "sync_feed_p20270311": [2],
                                  "sync_feed_default": [3]}


def test_a_pull_across_a_day_boundary_sees_every_change_in_order(pg):
    with pg.begin() as connection:
        feed_partitions.create_ahead(connection, DAY, days=1)
    write(pg, at(DAY, 23, 58), count=3)
    write(pg, at(DAY + timedelta(days=1), 0, 2), count=3)
    with sa.orm.Session(pg) as session:
        positions = [entry.position for entry in feed.read(session, NURSE, after=2, limit=10)]
        page = [entry.position for entry in feed.read(session, NURSE, after=0, limit=4)]
    assert positions == [3, 4, 5, 6]
    assert page == [1, 2, 3, 4]


def test_compaction_drops_a_past_day_whole_once_the_heads_are_marked(pg):
    old, today = DAY, DAY + timedelta(days=20)
    with pg.begin() as connection:
        feed_partitions.create_ahead(connection, old, days=0)
        feed_partitions.create_ahead(connection, today, days=0)
    write(pg, at(old, 9), count=2)
    write(pg, at(today, 9), count=1)
    now = at(today, 10)
    with sa.orm.Session(pg) as session:
        # Before compaction has marked the heads, the partition is kept: a cursor into it
        # must be told 410, not skip its rows.
        kept = feed_partition_upkeep(session, now, CONFIG)
        session.commit()
        assert kept["kept"] == 1 and kept["created"] == 7  # the week after ``today``
        assert "sync_feed_p20270310" in tables(pg)
        assert feed_compaction(session, now, CONFIG) == {"removed": 0}  # left to the drop
        session.commit()
        done = feed_partition_upkeep(session, now, CONFIG)
        session.commit()
        head = feed.head(session, NURSE)
        assert head is not None and head.compacted_through == 2
    assert (done["dropped"], done["kept"], done["created"]) == (1, 0, 0)
    assert "sync_feed_p20270310" not in tables(pg)
    assert where_rows_are(pg) == {"sync_feed_p20270330": [3]}


def test_compaction_deletes_rows_of_the_default_partition(pg):
    write(pg, at(DAY, 9), count=2)  # no day partition: the default
    with sa.orm.Session(pg) as session:
        assert feed_compaction(session, at(DAY + timedelta(days=20), 9), CONFIG) == {"removed": 2}
        session.commit()
    assert where_rows_are(pg) == {}


def test_downgrade_and_upgrade_keep_every_row(pg, tmp_path):
    today = datetime.now(UTC).date()  # the migration makes today's partition and a week on
    write(pg, at(today, 0), count=2)
    write(pg, at(today - timedelta(days=3), 8), count=1)  # in the default partition
    app = create_app({"SQLALCHEMY_DATABASE_URI": pg.url.render_as_string(hide_password=False),
                      "INFUSYNC_INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        downgrade(revision="4b7d2e9f1a63")
        with pg.connect() as connection:
            assert not feed_partitions.is_partitioned(connection)
        assert tables(pg) == {"sync_feed", "sync_feed_heads"}
        assert sorted(p for ps in where_rows_are(pg).values() for p in ps) == [1, 2, 3]
        upgrade()
        app.extensions["sqlalchemy"].engine.dispose()
    with pg.connect() as connection:
        assert feed_partitions.is_partitioned(connection)
    placed = where_rows_are(pg)
    assert placed[feed_partitions.partition_name(today)] == [1, 2]
    # The upgrade made the days from the oldest row's on.
    assert placed[feed_partitions.partition_name(today - timedelta(days=3))] == [3]
