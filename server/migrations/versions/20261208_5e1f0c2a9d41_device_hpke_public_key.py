"""devices.hpke_public_key: the X25519 key pulls are sealed to (sync protocol v1.1)

Revision ID: 5e1f0c2a9d41
Revises: b5b8040c06f6
Create Date: 2026-12-08 10:00:00

Nullable: devices enrolled under v1 have no such key and keep receiving plain (signed)
pulls until they re-enroll; nothing is backfilled.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5e1f0c2a9d41'
down_revision = 'b5b8040c06f6'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hpke_public_key', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('devices', schema=None) as batch_op:
        batch_op.drop_column('hpke_public_key')
