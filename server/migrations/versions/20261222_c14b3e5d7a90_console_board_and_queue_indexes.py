"""console at agency scale: visits by start (the board's day), review items by kind and
by patient (the review queue's filter choices)

Revision ID: c14b3e5d7a90
Revises: a7d3c5e9f184
Create Date: 2026-12-07 15:50:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = 'c14b3e5d7a90'
down_revision = 'a7d3c5e9f184'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_visits_start', 'visits', ['scheduled_start'])
    op.create_index('ix_review_items_kind', 'review_items', ['kind'])
    op.create_index('ix_review_items_patient', 'review_items', ['patient_id'])


def downgrade() -> None:
    op.drop_index('ix_review_items_patient', table_name='review_items')
    op.drop_index('ix_review_items_kind', table_name='review_items')
    op.drop_index('ix_visits_start', table_name='visits')
