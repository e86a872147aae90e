"""sync_feed partitioned by day on PostgreSQL (SQLite keeps the plain table)

Revision ID: a7d3c5e9f184
Revises: 4b7d2e9f1a63
Create Date: 2026-12-21 10:00:00

Compaction used to DELETE every feed row older than the retention window: at 10,000 nurses
that is millions of dead rows a night for vacuum to find. Partitioned by range of
``created_at``, one partition per UTC day, a past day is retired by dropping its partition.

The keys. A partitioned table's primary and unique keys must contain the partition key, so
the primary key becomes ``(nurse_id, position, created_at)``. It still gives the feed's read
(``nurse_id = ? AND position > ? ORDER BY position``) its index in every partition, merged
in order across partitions. ``(nurse_id, position)`` alone is no longer enforced unique
across partitions; it never depended on the constraint: positions are handed out by the
nurse's head row (``UPDATE … RETURNING`` under its lock, held to commit), which gives each
number once. What the constraint still refuses is the same row written twice.

A ``sync_feed_default`` partition takes rows no day partition covers (the
``feed_partitions`` job makes them a week ahead; this migration makes them from the oldest
row's day to a week from now). Compaction deletes what lands there row by row.

Not safe online: the rows are copied under an exclusive lock on the feed (pushes and pulls
wait). The feed holds at most the retention window (14 days by default); run it in a
maintenance window, as docs/operations.md says.
"""
from datetime import UTC, date, datetime, timedelta

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'a7d3c5e9f184'
down_revision = '4b7d2e9f1a63'
branch_labels = None
depends_on = None

AHEAD_DAYS = 7
COLUMNS = ("nurse_id uuid NOT NULL, position integer NOT NULL, "
           "entity_type varchar(30) NOT NULL, entity_id uuid NOT NULL, "
           "created_at timestamp with time zone NOT NULL")


def _midnight(day: date) -> str:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).isoformat()


def _create_day(day: date) -> None:
    op.execute(f"CREATE TABLE sync_feed_p{day:%Y%m%d} PARTITION OF sync_feed "
               f"FOR VALUES FROM ('{_midnight(day)}') TO ('{_midnight(day + timedelta(days=1))}')")


def upgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("LOCK TABLE sync_feed IN ACCESS EXCLUSIVE MODE")
    oldest = op.get_bind().execute(sa.text("SELECT min(created_at) FROM sync_feed")).scalar()
    op.execute("ALTER TABLE sync_feed RENAME TO sync_feed_unpartitioned")
    op.execute("ALTER TABLE sync_feed_unpartitioned RENAME CONSTRAINT pk_sync_feed "
               "TO pk_sync_feed_unpartitioned")
    op.execute(f"CREATE TABLE sync_feed ({COLUMNS}, CONSTRAINT pk_sync_feed "
               "PRIMARY KEY (nurse_id, position, created_at)) PARTITION BY RANGE (created_at)")
    op.execute("CREATE TABLE sync_feed_default PARTITION OF sync_feed DEFAULT")
    today = datetime.now(UTC).date()
    day = min(oldest.astimezone(UTC).date(), today) if oldest is not None else today
    while day <= today + timedelta(days=AHEAD_DAYS):
        _create_day(day)
        day += timedelta(days=1)
    op.execute("INSERT INTO sync_feed SELECT nurse_id, position, entity_type, entity_id, "
               "created_at FROM sync_feed_unpartitioned")
    op.execute("DROP TABLE sync_feed_unpartitioned")


def downgrade() -> None:
    if op.get_context().dialect.name != "postgresql":
        return
    op.execute("LOCK TABLE sync_feed IN ACCESS EXCLUSIVE MODE")
    op.execute("ALTER TABLE sync_feed RENAME TO sync_feed_partitioned")
    op.execute("ALTER TABLE sync_feed_partitioned RENAME CONSTRAINT pk_sync_feed "
               "TO pk_sync_feed_partitioned")
    op.execute(f"CREATE TABLE sync_feed ({COLUMNS}, "
               "CONSTRAINT pk_sync_feed PRIMARY KEY (nurse_id, position))")
    op.execute("INSERT INTO sync_feed SELECT nurse_id, position, entity_type, entity_id, "
               "created_at FROM sync_feed_partitioned")
    op.execute("DROP TABLE sync_feed_partitioned")  # its partitions go with it
