"""Initial schema: users, selections, candidates, the event record, calendar overrides, the
simulated clock.

Reviewed by hand: DateTime(timezone=True) stands for the application's UTCDateTime (which
only converts values), and constraint names follow service.db's naming convention.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-21 05:41:04.882999
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('event',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('subject_type', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('subject_id', sa.Uuid(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=True),
    sa.Column('action', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('from_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('to_state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('actor_role', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('request_id', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=True),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('simulated_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('prev_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('subject_type', 'subject_id', 'seq', name=op.f('uq_event_subject_type_subject_id_seq'))
    )
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.create_index('ix_event_selection', ['selection_id', 'occurred_at'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('email', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('roles', sa.JSON(), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('token_version', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('calendar_override',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('workday', sa.Boolean(), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_calendar_override_created_by_user_account')),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_calendar_override'))
    )
    op.create_table('selection',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('organization', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('posts', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('job_description', sa.JSON(), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('publicity_start_on', sa.Date(), nullable=True),
    sa.Column('publicity_end_on', sa.Date(), nullable=True),
    sa.Column('created_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_selection_created_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_selection'))
    )
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.create_index('ix_selection_created', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_selection_state_created', ['state', 'created_at', 'id'], unique=False)

    op.create_table('simulated_clock',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('simulated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('set_by', sa.Uuid(), nullable=True),
    sa.ForeignKeyConstraint(['set_by'], ['user_account.id'], name=op.f('fk_simulated_clock_set_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulated_clock'))
    )
    op.create_table('candidate',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('identity_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_candidate_selection_id_selection')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_candidate_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate')),
    sa.UniqueConstraint('selection_id', 'identity_key', name=op.f('uq_candidate_selection_id_identity_key'))
    )
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.create_index('ix_candidate_selection_created', ['selection_id', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_candidate_selection_state', ['selection_id', 'state', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_candidate_user_id'), ['user_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_candidate_user_id'))
        batch_op.drop_index('ix_candidate_selection_state')
        batch_op.drop_index('ix_candidate_selection_created')

    op.drop_table('candidate')
    op.drop_table('simulated_clock')
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.drop_index('ix_selection_state_created')
        batch_op.drop_index('ix_selection_created')

    op.drop_table('selection')
    op.drop_table('calendar_override')
    op.drop_table('user_account')
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_index('ix_event_selection')

    op.drop_table('event')
