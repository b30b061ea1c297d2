"""Step 4 after the decision: objections in stages (received, under investigation, concluded)
with their investigating team and its work, trial assessments (试用期满考核), the kind of a
mentorship and the mentor's standing. Reviewed by hand.

Revision ID: 0012
Revises: 0008
Create Date: 2026-12-01 23:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# an objection's old status → its state in the objection machine, and back
_TO_STATE = {"open": "received", "upheld": "upheld", "dismissed": "not_upheld"}
_TO_STATUS = {"received": "open", "investigating": "open", "upheld": "upheld",
              "partly_upheld": "upheld", "not_upheld": "dismissed"}


def upgrade() -> None:
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='received'))
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(sa.Column('investigators', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('selection_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_objection_selection_id_selection'), 'selection', ['selection_id'], ['id'])
    candidate = sa.table('candidate', sa.column('id', sa.Uuid), sa.column('selection_id', sa.Uuid))
    objection = sa.table('objection', sa.column('status', sa.String), sa.column('state', sa.String),
                         sa.column('candidate_id', sa.Uuid), sa.column('selection_id', sa.Uuid),
                         sa.column('created_at', sa.DateTime(timezone=True)),
                         sa.column('updated_at', sa.DateTime(timezone=True)))
    for old, new in _TO_STATE.items():
        op.execute(objection.update().where(objection.c.status == old).values(state=new))
    op.execute(objection.update().values(
        updated_at=objection.c.created_at,
        selection_id=sa.select(candidate.c.selection_id)
        .where(candidate.c.id == objection.c.candidate_id).scalar_subquery()))
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.alter_column('updated_at', existing_type=sa.DateTime(timezone=True), nullable=False)
        batch_op.alter_column('state', server_default=None)
        batch_op.alter_column('version', server_default=None)
        batch_op.drop_column('status')

    op.create_table('objection_work',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('objection_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('investigator_id', sa.Uuid(), nullable=False),
    sa.Column('with_whom', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['objection_id'], ['objection.id'], name=op.f('fk_objection_work_objection_id_objection')),
    sa.ForeignKeyConstraint(['investigator_id'], ['user_account.id'], name=op.f('fk_objection_work_investigator_id_user_account')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_objection_work_recorded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection_work'))
    )
    with op.batch_alter_table('objection_work', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_work_objection_id'), ['objection_id'], unique=False)

    op.create_table('trial_assessment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('taking_part', sa.Integer(), nullable=False),
    sa.Column('excellent', sa.Integer(), nullable=False),
    sa.Column('competent', sa.Integer(), nullable=False),
    sa.Column('basically_competent', sa.Integer(), nullable=False),
    sa.Column('incompetent', sa.Integer(), nullable=False),
    sa.Column('mentor_opinion', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('branch_opinion', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('grade', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_trial_assessment_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_trial_assessment_recorded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trial_assessment'))
    )
    with op.batch_alter_table('trial_assessment', schema=None) as batch_op:
        batch_op.create_index('ix_trial_assessment_candidate', ['candidate_id', 'kind'], unique=False)

    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('mentor_standing', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.drop_column('mentor_standing')
        batch_op.drop_column('kind')
    with op.batch_alter_table('trial_assessment', schema=None) as batch_op:
        batch_op.drop_index('ix_trial_assessment_candidate')
    op.drop_table('trial_assessment')
    with op.batch_alter_table('objection_work', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_work_objection_id'))
    op.drop_table('objection_work')
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False, server_default='open'))
    objection = sa.table('objection', sa.column('status', sa.String), sa.column('state', sa.String))
    for new, old in _TO_STATUS.items():
        op.execute(objection.update().where(objection.c.state == new).values(status=old))
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.drop_constraint(batch_op.f('fk_objection_selection_id_selection'), type_='foreignkey')
        batch_op.drop_column('selection_id')
        batch_op.drop_column('updated_at')
        batch_op.drop_column('investigators')
        batch_op.drop_column('version')
        batch_op.drop_column('state')
