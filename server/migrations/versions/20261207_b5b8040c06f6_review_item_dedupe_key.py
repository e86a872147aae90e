"""review_items.dedupe_key: one item per fact, decided by a unique key

Revision ID: b5b8040c06f6
Revises: 0c4a64a8a213
Create Date: 2026-12-07 02:17:00

Items were deduplicated by reading them back and comparing in Python (check-then-insert);
the unique ``dedupe_key`` lets the insert decide instead. Existing rows are backfilled in
the format of ``server.review_items`` (``kind:subject[:qualifier]``, written out here so
that this migration does not change when that module does):

- reconciliation items (their details carry ``record_id``): ``{kind}:{visit_id}:{record_id}``,
  or ``{kind}:{visit_id}`` when the record is null;
- alerts of the scheduled jobs: their ``details["dedupe_key"]``, as stored;
- anything else (``seq_gap``): NULL, never deduplicated.

Rows that would clash (duplicates a race let through) keep the key on the oldest
(created_at, then id); the younger ones get NULL and stay in the queue as they are. The
backfill runs in Python, row by row, so that it reads JSON the same way on SQLite and
PostgreSQL.
"""
from typing import Any

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'b5b8040c06f6'
down_revision = '0c4a64a8a213'
branch_labels = None
depends_on = None

KEY_LENGTH = 200

review_items = sa.table(
    'review_items',
    sa.column('id', sa.Uuid()),
    sa.column('kind', sa.String(length=40)),
    sa.column('visit_id', sa.Uuid()),
    sa.column('details', sa.JSON()),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('dedupe_key', sa.String(length=KEY_LENGTH)),
)


def _key(kind: str, visit_id: Any, details: dict[str, Any] | None) -> str | None:
    """The key the item would get today, or None."""
    details = details or {}
    if 'dedupe_key' in details:
        key = details['dedupe_key']
    elif 'record_id' in details and visit_id is not None:
        record = details['record_id']
        key = f'{kind}:{visit_id}' if record is None else f'{kind}:{visit_id}:{record}'
    else:
        return None
    return key if isinstance(key, str) and len(key) <= KEY_LENGTH else None


def _backfill(connection: sa.Connection) -> None:
    rows = connection.execute(sa.select(
        review_items.c.id, review_items.c.kind, review_items.c.visit_id,
        review_items.c.details).order_by(review_items.c.created_at, review_items.c.id))
    taken: set[str] = set()
    updates: list[dict[str, Any]] = []
    for row in rows:
        key = _key(row.kind, row.visit_id, row.details)
        if key is None or key in taken:
            continue
        taken.add(key)
        updates.append({'item_id': row.id, 'key': key})
    if updates:
        connection.execute(
            review_items.update().where(review_items.c.id == sa.bindparam('item_id'))
            .values(dedupe_key=sa.bindparam('key')), updates)


def upgrade() -> None:
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=KEY_LENGTH), nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_review_items_dedupe_key'), ['dedupe_key'])


def downgrade() -> None:
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_review_items_dedupe_key'), type_='unique')
        batch_op.drop_column('dedupe_key')
