"""Step 2: nominations (直接推荐) and self-applications, talks with nominees (沟通), and the
candidate's eligibility report and identity hash. Reviewed by hand.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 05:43:17.815707
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('communication',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('summary', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('attitude', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_communication_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_communication_recorded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_communication'))
    )
    with op.batch_alter_table('communication', schema=None) as batch_op:
        batch_op.create_index('ix_communication_candidate', ['candidate_id', 'created_at'], unique=False)

    op.create_table('nomination',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('body_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('nominated_by', sa.Uuid(), nullable=True),
    sa.Column('reasons', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('groundwork', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_nomination_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['nominated_by'], ['user_account.id'], name=op.f('fk_nomination_nominated_by_user_account')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_nomination_selection_id_selection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_nomination'))
    )
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.create_index('ix_nomination_candidate', ['candidate_id', 'created_at'], unique=False)
        batch_op.create_index('ix_nomination_nominated_by', ['nominated_by', 'selection_id'], unique=False)
        batch_op.create_index('ix_nomination_selection_kind', ['selection_id', 'kind'], unique=False)

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('national_id_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('eligible', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('eligibility', sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f('ix_candidate_national_id_hash'), ['national_id_hash'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_national_id_hash'))
        batch_op.drop_column('eligibility')
        batch_op.drop_column('eligible')
        batch_op.drop_column('national_id_hash')

    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_index('ix_nomination_selection_kind')
        batch_op.drop_index('ix_nomination_nominated_by')
        batch_op.drop_index('ix_nomination_candidate')

    op.drop_table('nomination')
    with op.batch_alter_table('communication', schema=None) as batch_op:
        batch_op.drop_index('ix_communication_candidate')

    op.drop_table('communication')
