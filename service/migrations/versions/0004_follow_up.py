"""Step 4: the notification outbox and templates, objections to an appointment, mentorships,
follow-up records, the reserve pool; the candidate's appointment and the nomination's link to
the pool. Reviewed by hand.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 06:16:00.528910
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notification_template',
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(length=10000), nullable=False),
    sa.Column('updated_by', sa.Uuid(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['updated_by'], ['user_account.id'], name=op.f('fk_notification_template_updated_by_user_account')),
    sa.PrimaryKeyConstraint('outcome', 'language', name=op.f('pk_notification_template'))
    )
    op.create_table('follow_up_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('hours', sa.Float(), nullable=False),
    sa.Column('attended', sa.Boolean(), nullable=False),
    sa.Column('assessment', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('recorded_by', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_follow_up_record_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['recorded_by'], ['user_account.id'], name=op.f('fk_follow_up_record_recorded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up_record'))
    )
    with op.batch_alter_table('follow_up_record', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_candidate', ['candidate_id', 'kind'], unique=False)

    op.create_table('mentorship',
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('mentor_id', sa.Uuid(), nullable=False),
    sa.Column('plan', sqlmodel.sql.sqltypes.AutoString(length=8000), nullable=False),
    sa.Column('meeting_interval_days', sa.Integer(), nullable=False),
    sa.Column('assigned_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_mentorship_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['mentor_id'], ['user_account.id'], name=op.f('fk_mentorship_mentor_id_user_account')),
    sa.PrimaryKeyConstraint('candidate_id', name=op.f('pk_mentorship'))
    )
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mentorship_mentor_id'), ['mentor_id'], unique=False)

    op.create_table('notification',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=128), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('outcome', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('to_address', sqlmodel.sql.sqltypes.AutoString(length=254), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('body', sqlmodel.sql.sqltypes.AutoString(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('claimed_by', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('claimed_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_notification_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_notification_selection_id_selection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notification')),
    sa.UniqueConstraint('dedupe_key', name=op.f('uq_notification_dedupe_key'))
    )
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.create_index('ix_notification_candidate', ['candidate_id', 'created_at'], unique=False)
        batch_op.create_index('ix_notification_due', ['state', 'next_attempt_at'], unique=False)

    op.create_table('objection',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('content', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('contact', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('handling', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
    sa.Column('handled_by', sa.Uuid(), nullable=True),
    sa.Column('handled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_objection_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['handled_by'], ['user_account.id'], name=op.f('fk_objection_handled_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection'))
    )
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_candidate_id'), ['candidate_id'], unique=False)

    op.create_table('reserve_entry',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('selection_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=True),
    sa.Column('organization', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('full_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('education', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank', sa.Integer(), nullable=True),
    sa.Column('entered_on', sa.Date(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_reserve_entry_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['selection_id'], ['selection.id'], name=op.f('fk_reserve_entry_selection_id_selection')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_reserve_entry_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reserve_entry')),
    sa.UniqueConstraint('candidate_id', name=op.f('uq_reserve_entry_candidate_id'))
    )
    with op.batch_alter_table('reserve_entry', schema=None) as batch_op:
        batch_op.create_index('ix_reserve_org_expiry', ['organization', 'expires_on'], unique=False)

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('appointment', sa.JSON(), nullable=True))

    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reserve_entry_id', sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_nomination_reserve_entry_id_reserve_entry'), 'reserve_entry', ['reserve_entry_id'], ['id'])



def downgrade() -> None:
    with op.batch_alter_table('nomination', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_nomination_reserve_entry_id_reserve_entry'), type_='foreignkey')
        batch_op.drop_column('reserve_entry_id')

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('appointment')

    with op.batch_alter_table('reserve_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_reserve_org_expiry')

    op.drop_table('reserve_entry')
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_candidate_id'))

    op.drop_table('objection')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_index('ix_notification_due')
        batch_op.drop_index('ix_notification_candidate')

    op.drop_table('notification')
    with op.batch_alter_table('mentorship', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mentorship_mentor_id'))

    op.drop_table('mentorship')
    with op.batch_alter_table('follow_up_record', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_candidate')

    op.drop_table('follow_up_record')
    op.drop_table('notification_template')
