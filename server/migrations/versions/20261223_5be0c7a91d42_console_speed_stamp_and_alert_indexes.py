"""console speed (issue 14): the board's stamp and alerts read from indexes

Revision ID: 5be0c7a91d42
Revises: c14b3e5d7a90
Create Date: 2026-12-07 18:05:00

``ix_visits_start`` carries ``version`` on PostgreSQL (``INCLUDE``), so the board's stamp
(count and sum of versions over eight days of visits) is an index-only scan instead of
some 5,000 heap pages at a million visits. ``ix_review_items_status_created`` gives the
open items in time order: the stamp's count and newest open item from the index alone, and
the board's newest alerts by walking it backwards instead of sorting every open item
(bench/console.py). SQLite keeps a plain ``ix_visits_start`` (no ``INCLUDE`` there).
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5be0c7a91d42'
down_revision = 'c14b3e5d7a90'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_visits_start', table_name='visits')
        op.create_index('ix_visits_start', 'visits', ['scheduled_start'],
                        postgresql_include=['version'])
    op.create_index('ix_review_items_status_created', 'review_items',
                    ['status', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_review_items_status_created', table_name='review_items')
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_visits_start', table_name='visits')
        op.create_index('ix_visits_start', 'visits', ['scheduled_start'])
