"""Step 3 as it is really run: corrections of score sheets after unsealing (评分更正), asked
by the judge and approved by an admin, and the sheet version that carries one out. Reviewed
by hand.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 23:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('score_sheet_correction',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('judge_id', sa.Uuid(), nullable=False),
    sa.Column('sheet_id', sa.Uuid(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.Uuid(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('new_sheet_id', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_score_sheet_correction_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_score_sheet_correction_decided_by_user_account')),
    sa.ForeignKeyConstraint(['judge_id'], ['user_account.id'], name=op.f('fk_score_sheet_correction_judge_id_user_account')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_score_sheet_correction_selection_id_selection')),
    sa.ForeignKeyConstraint(['sheet_id'], ['score_sheet.id'], name=op.f('fk_score_sheet_correction_sheet_id_score_sheet')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_sheet_correction'))
    )
    with op.batch_alter_table('score_sheet_correction', schema=None) as batch_op:
        batch_op.create_index('ix_score_sheet_correction_candidate', ['candidate_id', 'requested_at'], unique=False)

    with op.batch_alter_table('score_sheet', schema=None) as batch_op:
        batch_op.add_column(sa.Column('correction_id', sa.Uuid(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('score_sheet', schema=None) as batch_op:
        batch_op.drop_column('correction_id')

    with op.batch_alter_table('score_sheet_correction', schema=None) as batch_op:
        batch_op.drop_index('ix_score_sheet_correction_candidate')

    op.drop_table('score_sheet_correction')
