"""audit_events chained by hashes (seq, prev_hash, hash; audit_chain_head) and the
privacy_officer role

Revision ID: 7e3f2a9c1d04
Revises: f1cc872a0d12
Create Date: 2026-12-14 09:00:00

Existing events are chained in (at, id) order, in the format of ``server.audit_chain``
(written out here so that this migration does not change when that module does): SHA-256
over JSON with sorted keys and no whitespace, ASCII only, of every column — UUIDs
lowercase, times UTC ISO 8601 with microseconds, null for None — and ``prev_hash`` (64
zeros for the first). The backfill runs in Python so that it reads JSON and times the same
way on SQLite and PostgreSQL. ``users.role`` accepts ``privacy_officer``: its CHECK
constraint is replaced (SQLite rebuilds the table; env.py turns foreign keys off for that).
"""
import hashlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '7e3f2a9c1d04'
down_revision = 'f1cc872a0d12'
branch_labels = None
depends_on = None

GENESIS_HASH = '0' * 64
FIELDS = ('seq', 'id', 'at', 'actor_user_id', 'actor_device_id', 'action', 'entity_type',
          'entity_id', 'patient_id', 'outcome', 'remote_addr', 'request_id', 'details',
          'prev_hash')
OLD_ROLES = ('admin', 'coordinator', 'training_lead', 'qc', 'nurse', 'physician')
NEW_ROLES = (*OLD_ROLES, 'privacy_officer')

audit_events = sa.table(
    'audit_events',
    sa.column('id', sa.Uuid()),
    sa.column('seq', sa.BigInteger()),
    sa.column('at', sa.DateTime(timezone=True)),
    sa.column('actor_user_id', sa.Uuid()),
    sa.column('actor_device_id', sa.Uuid()),
    sa.column('action', sa.String(length=40)),
    sa.column('entity_type', sa.String(length=40)),
    sa.column('entity_id', sa.Uuid()),
    sa.column('patient_id', sa.Uuid()),
    sa.column('outcome', sa.String(length=20)),
    sa.column('remote_addr', sa.String(length=64)),
    sa.column('request_id', sa.String(length=64)),
    sa.column('details', sa.JSON()),
    sa.column('prev_hash', sa.String(length=64)),
    sa.column('hash', sa.String(length=64)),
)
audit_chain_head = sa.table(
    'audit_chain_head',
    sa.column('id', sa.Integer()),
    sa.column('seq', sa.BigInteger()),
    sa.column('hash', sa.String(length=64)),
)


def _encode(value: Any) -> Any:
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        # SQLite gives naive times; they were stored as UTC.
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
        return value.astimezone(UTC).isoformat(timespec='microseconds')
    return value


def _hash(values: dict[str, Any]) -> str:
    content = {name: _encode(values[name]) for name in FIELDS}
    text = json.dumps(content, sort_keys=True, separators=(',', ':'), ensure_ascii=True,
                      allow_nan=False)
    return hashlib.sha256(text.encode('ascii')).hexdigest()


def _backfill(connection: sa.Connection) -> tuple[int, str]:
    """Chain the stored events in (at, id) order; the head (seq, hash)."""
    columns = [c for c in audit_events.c if c.name not in ('seq', 'prev_hash', 'hash')]
    rows = connection.execute(sa.select(*columns).order_by(
        audit_events.c.at, audit_events.c.id)).mappings().all()
    seq, prev_hash = 0, GENESIS_HASH
    updates: list[dict[str, Any]] = []
    for row in rows:
        seq += 1
        values = {**row, 'seq': seq, 'prev_hash': prev_hash, 'details': row['details'] or {}}
        prev_hash = _hash(values)
        updates.append({'event_id': row['id'], 'seq_': seq, 'prev_': values['prev_hash'],
                        'hash_': prev_hash, 'details_': values['details']})
    if updates:
        connection.execute(
            audit_events.update().where(audit_events.c.id == sa.bindparam('event_id'))
            .values(seq=sa.bindparam('seq_'), prev_hash=sa.bindparam('prev_'),
                    hash=sa.bindparam('hash_'), details=sa.bindparam('details_')), updates)
    return seq, prev_hash


def _role_check(roles: tuple[str, ...]) -> str:
    return 'role IN (' + ', '.join(f"'{role}'" for role in roles) + ')'


def _replace_role_check(roles: tuple[str, ...]) -> None:
    with op.batch_alter_table('users', schema=None, recreate='auto') as batch_op:
        batch_op.drop_constraint(op.f('ck_users_role'), type_='check')
        batch_op.create_check_constraint(op.f('ck_users_role'), _role_check(roles))


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_one_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seq', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('prev_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=True))
    connection = op.get_bind()
    seq, head_hash = _backfill(connection)
    connection.execute(audit_chain_head.insert().values(id=1, seq=seq, hash=head_hash))
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.alter_column('seq', existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column('prev_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.alter_column('hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_audit_events_seq'), ['seq'])
    _replace_role_check(NEW_ROLES)


def downgrade() -> None:
    holders = op.get_bind().scalar(sa.text(
        "SELECT count(*) FROM users WHERE role = 'privacy_officer'"))
    if holders:
        raise RuntimeError(f"{holders} users have the privacy_officer role, which the older "
                           "schema refuses: give them another role first")
    _replace_role_check(OLD_ROLES)
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_audit_events_seq'), type_='unique')
        batch_op.drop_column('hash')
        batch_op.drop_column('prev_hash')
        batch_op.drop_column('seq')
    op.drop_table('audit_chain_head')
