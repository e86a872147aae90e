"""staff notification inbox, e-mail outbox, review item acknowledgement and escalation

Revision ID: 9c3e7a1b4d52
Revises: d24aeb995b13
Create Date: 2026-12-20 10:00:00

``notifications`` gain what a staff inbox needs (``read_at``) and what a staff notification
points at instead of quoting it (``patient_id``, ``review_item_id``); existing rows are a
nurse's device notifications and keep NULL there. ``email_outbox`` holds the e-mails still
to send. ``review_items`` gain ``acknowledged_at/by`` and ``escalated_at``: existing open
critical items are unacknowledged, so the escalation job escalates them once after the
upgrade (they did wait unseen).
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '9c3e7a1b4d52'
down_revision = 'd24aeb995b13'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('patient_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('review_item_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('acknowledged_at', sa.DateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('acknowledged_by', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('escalated_at', sa.DateTime(timezone=True),
                                      nullable=True))
    op.create_table('email_outbox',
    sa.Column('notification_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=100), nullable=True),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['notification_id'], ['notifications.id'], name=op.f('fk_email_outbox_notification_id_notifications'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_email_outbox_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_outbox')),
    sa.UniqueConstraint('notification_id', name=op.f('uq_email_outbox_notification_id'))
    )
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_email_outbox_status_next', ['status', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('email_outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_email_outbox_status_next')
    op.drop_table('email_outbox')
    with op.batch_alter_table('review_items', schema=None) as batch_op:
        batch_op.drop_column('escalated_at')
        batch_op.drop_column('acknowledged_by')
        batch_op.drop_column('acknowledged_at')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('read_at')
        batch_op.drop_column('review_item_id')
        batch_op.drop_column('patient_id')
