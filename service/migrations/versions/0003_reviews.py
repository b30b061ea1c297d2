"""Step 3: the interview panel and its preparation, declarations of conflict, score sheets,
inspection teams and their records, committee meetings. Reviewed by hand.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21 06:12:40.801937
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('committee_meeting',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('members_due', sa.JSON(), nullable=False),
    sa.Column('present', sa.JSON(), nullable=False),
    sa.Column('recusals', sa.JSON(), nullable=False),
    sa.Column('decisions', sa.JSON(), nullable=False),
    sa.Column('minutes', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_committee_meeting_recorded_by_user_account')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_committee_meeting_selection_id_selection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_committee_meeting'))
    )
    with op.batch_alter_table('committee_meeting', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_committee_meeting_selection_id'), ['selection_id'], unique=False)

    op.create_table('interview_plan',
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('place', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('briefing', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_interview_plan_selection_id_selection')),
    sa.PrimaryKeyConstraint('selection_id', name=op.f('pk_interview_plan'))
    )
    op.create_table('panel_member',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('appointed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_panel_member_selection_id_selection')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_panel_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_panel_member')),
    sa.UniqueConstraint('selection_id', 'user_id', name=op.f('uq_panel_member_selection_id_user_id'))
    )
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_panel_member_selection_id'), ['selection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_panel_member_user_id'), ['user_id'], unique=False)

    op.create_table('declaration',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('capacity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('conflict', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_declaration_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_declaration_selection_id_selection')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_declaration_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_declaration')),
    sa.UniqueConstraint('candidate_id', 'user_id', 'capacity', name=op.f('uq_declaration_candidate_id_user_id_capacity'))
    )
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_declaration_selection_id'), ['selection_id'], unique=False)

    op.create_table('inspection_member',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('appointed_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_inspection_member_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_inspection_member_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_member')),
    sa.UniqueConstraint('candidate_id', 'user_id', name=op.f('uq_inspection_member_candidate_id_user_id'))
    )
    with op.batch_alter_table('inspection_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_member_candidate_id'), ['candidate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_member_user_id'), ['user_id'], unique=False)

    op.create_table('inspection_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('inspector_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_inspection_record_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['inspector_id'], ['user_account.id'], name=op.f('fk_inspection_record_inspector_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_record'))
    )
    with op.batch_alter_table('inspection_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_record_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('score_sheet',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('judge_id', sa.Uuid(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('scores', sa.JSON(), nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('comment', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('supersede_reason', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_score_sheet_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['judge_id'], ['user_account.id'], name=op.f('fk_score_sheet_judge_id_user_account')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_score_sheet_selection_id_selection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_score_sheet')),
    sa.UniqueConstraint('candidate_id', 'judge_id', 'version', name=op.f('uq_score_sheet_candidate_id_judge_id_version'))
    )
    with op.batch_alter_table('score_sheet', schema=None) as batch_op:
        batch_op.create_index('ix_score_sheet_selection', ['selection_id', 'candidate_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('score_sheet', schema=None) as batch_op:
        batch_op.drop_index('ix_score_sheet_selection')

    op.drop_table('score_sheet')
    with op.batch_alter_table('inspection_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_record_candidate_id'))

    op.drop_table('inspection_record')
    with op.batch_alter_table('inspection_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_member_candidate_id'))

    op.drop_table('inspection_member')
    with op.batch_alter_table('declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_declaration_selection_id'))

    op.drop_table('declaration')
    with op.batch_alter_table('panel_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_panel_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_panel_member_selection_id'))

    op.drop_table('panel_member')
    op.drop_table('interview_plan')
    with op.batch_alter_table('committee_meeting', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_committee_meeting_selection_id'))

    op.drop_table('committee_meeting')
