"""known_login_addresses and enrollment_failures: throttling that cannot lock anyone out

Revision ID: 5e1a7c3d9f20
Revises: 5e1f0c2a9d41
Create Date: 2026-12-15 10:00:00

``known_login_addresses`` remembers where each account last logged in with the right
password, so a guesser elsewhere cannot hold her login from there; ``enrollment_failures``
counts refused enrollment codes per address. Both start empty: every address is unknown
until its next successful login, which is the old behaviour.
"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '5e1a7c3d9f20'
down_revision = '5e1f0c2a9d41'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('known_login_addresses',
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_known_login_addresses_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_known_login_addresses')),
    sa.UniqueConstraint('user_id', 'remote_addr', name=op.f('uq_known_login_addresses_user_id'))
    )
    op.create_table('enrollment_failures',
    sa.Column('remote_addr', sa.String(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrollment_failures'))
    )
    with op.batch_alter_table('enrollment_failures', schema=None) as batch_op:
        batch_op.create_index('ix_enrollment_failures_remote_addr_at', ['remote_addr', 'at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('enrollment_failures', schema=None) as batch_op:
        batch_op.drop_index('ix_enrollment_failures_remote_addr_at')
    op.drop_table('enrollment_failures')
    op.drop_table('known_login_addresses')
