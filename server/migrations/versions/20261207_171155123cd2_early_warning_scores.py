"""early_warning_scores and vital_signs.answer: NEWS2 scores stored with the vitals

Revision ID: 171155123cd2
Revises: 9c3e7a1b4d52
Create Date: 2026-12-07 05:50:05.590270

One ``early_warning_scores`` row per set of vital signs (a visit's readings taken at one
time, unique per visit and ``taken_at``), written by the push; ``vital_signs.answer`` holds
a coded reading's answer (the ACVPU level of consciousness) where a value cannot. Both start
empty: readings stored before this revision are not scored.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '171155123cd2'
down_revision = '9c3e7a1b4d52'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('early_warning_scores',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('patient_id', sa.Uuid(), nullable=False),
    sa.Column('taken_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('score', sa.Integer(), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('missing', sa.JSON(), nullable=False),
    sa.Column('level', sa.Enum('none', 'warning', 'critical', name='early_warning_level', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('review_item_id', sa.Uuid(), nullable=True),
    sa.Column('scored_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['patient_id'], ['patients.id'], name=op.f('fk_early_warning_scores_patient_id_patients')),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_early_warning_scores_visit_id_visits')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_early_warning_scores')),
    sa.UniqueConstraint('visit_id', 'taken_at', name='uq_early_warning_scores_visit_taken_at')
    )
    with op.batch_alter_table('early_warning_scores', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_early_warning_scores_patient_id'), ['patient_id'], unique=False)

    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('answer', sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('vital_signs', schema=None) as batch_op:
        batch_op.drop_column('answer')

    with op.batch_alter_table('early_warning_scores', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_early_warning_scores_patient_id'))

    op.drop_table('early_warning_scores')
