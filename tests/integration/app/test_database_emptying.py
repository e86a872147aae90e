"""PostgreSQL tests share one migrated database per worker, emptied before each test
(tests/conftest.py): whatever a test wrote, the next one finds no row of it."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from sync import feed_partitions
from tests.conftest import CLOCK_START, FakeClock, _empty_all, app_on
from tests.factories import build_agency


def _row_counts(connection: sa.Connection) -> dict[str, int]:
    tables = connection.execute(sa.text(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).scalars().all()
    return {table: connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(table))).scalar_one()
            for table in tables}


def test_the_next_test_finds_no_row_partition_or_used_sequence_of_the_last(
        postgres_url: str, postgres_engine: sa.Engine, tmp_path: Path) -> None:
    _empty_all(postgres_engine)  # what the test before this one on the worker left
    with app_on(postgres_url, tmp_path, FakeClock(CLOCK_START)) as app:
        build_agency(app, CLOCK_START)
    with postgres_engine.begin() as connection:
        feed_partitions.create_ahead(connection, date(2026, 11, 23), days=1)
        connection.execute(sa.text("SELECT nextval('audit_chain_head_id_seq')"))
        written = {table for table, count in _row_counts(connection).items() if count}
    assert {"users", "patients", "visits", "sync_feed_default"} <= written

    _empty_all(postgres_engine)

    with postgres_engine.begin() as connection:
        assert feed_partitions.day_partitions(connection) == {}
        left = {table: count for table, count in _row_counts(connection).items() if count}
        assert left == {"alembic_version": 1}  # the schema's revision stays
        assert connection.execute(sa.text("SELECT nextval('audit_chain_head_id_seq')")
                                  ).scalar_one() == 1
        # foreign keys are checked again after the emptying
        assert connection.execute(sa.text("SHOW session_replication_role")).scalar() == "origin"
