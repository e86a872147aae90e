"""pump_recalls, and pumps.udi_di indexed: a withdrawn pump traced to the patients it served

Revision ID: d24aeb995b13
Revises: 7e3f2a9c1d04
Create Date: 2026-12-16 10:00:00

``pump_recalls`` holds one row each time a pump became ``recalled`` or ``out_of_service``
(issue 11, item 1): the review items and notifications traced from it name the row in
their dedupe keys. A recall list may name pumps by UDI-DI (one model's identifier, many
pumps), hence the index. Starts empty: earlier status changes were never traced.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = 'd24aeb995b13'
down_revision = '7e3f2a9c1d04'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('pump_recalls',
    sa.Column('pump_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.Enum('in_service', 'maintenance_due', 'out_of_service', 'recalled', name='pump_recall_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('recall_number', sa.String(length=60), nullable=True),
    sa.Column('reason', sa.String(length=300), nullable=True),
    sa.Column('source', sa.String(length=20), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['pump_id'], ['pumps.id'], name=op.f('fk_pump_recalls_pump_id_pumps')),
    sa.ForeignKeyConstraint(['recorded_by'], ['users.id'], name=op.f('fk_pump_recalls_recorded_by_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pump_recalls'))
    )
    with op.batch_alter_table('pump_recalls', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pump_recalls_pump_id'), ['pump_id'], unique=False)

    with op.batch_alter_table('pumps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pumps_udi_di'), ['udi_di'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('pumps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pumps_udi_di'))

    with op.batch_alter_table('pump_recalls', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pump_recalls_pump_id'))

    op.drop_table('pump_recalls')
