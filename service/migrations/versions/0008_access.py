"""Access: usernames unique whatever their case; a nominator's body on the user; failed
logins counted in one row per key (per account and address, per account, per address)
instead of one row per attempt; a notification's Message-ID kept across retries; claims of
a nominee's record by a one-time code. Reviewed
by hand. A database holding two usernames that differ only in case fails at the index:
rename one first.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 20:50:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nominating_body_kind', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.add_column(sa.Column('nominating_body_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.create_index('uq_user_account_username_lower', 'user_account', [sa.text('lower(username)')], unique=True)

    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True))

    op.create_table('login_throttle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_success_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username')
        batch_op.drop_index('ix_login_attempt_client')
    op.drop_table('login_attempt')

    op.create_table('candidacy_claim',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('candidate_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['candidate_id'], ['candidate.id'], name=op.f('fk_candidacy_claim_candidate_id_candidate')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_candidacy_claim_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidacy_claim'))
    )
    with op.batch_alter_table('candidacy_claim', schema=None) as batch_op:
        batch_op.create_index('ix_candidacy_claim_candidate_user', ['candidate_id', 'user_id', 'created_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('candidacy_claim', schema=None) as batch_op:
        batch_op.drop_index('ix_candidacy_claim_candidate_user')
    op.drop_table('candidacy_claim')
    op.create_table('login_attempt',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('username', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_attempt'))
    )
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.create_index('ix_login_attempt_client', ['client', 'at'], unique=False)
        batch_op.create_index('ix_login_attempt_username', ['username', 'at'], unique=False)
    op.drop_table('login_throttle')
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_column('message_id')
    op.drop_index('uq_user_account_username_lower', table_name='user_account')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('nominating_body_name')
        batch_op.drop_column('nominating_body_kind')
