"""server_keys: signing keys announced before they sign, endorsed by the key they replace

Revision ID: 4b7d2e9f1a63
Revises: 171155123cd2
Create Date: 2026-12-21 10:00:00

``not_before``: a rotated signing key is announced to devices for a grace period and signs
only from then (NULL: signs from its creation, as every existing key does). ``endorsed_by``
and ``endorsement``: the previous signing key's signature over the new one, so a device
that trusted the old key can trust its successor (sync protocol v1.1). Existing keys were
never rotated and keep NULL in all three.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '4b7d2e9f1a63'
down_revision = '171155123cd2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('server_keys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('not_before', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('endorsed_by', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('endorsement', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('server_keys', schema=None) as batch_op:
        batch_op.drop_column('endorsement')
        batch_op.drop_column('endorsed_by')
        batch_op.drop_column('not_before')
