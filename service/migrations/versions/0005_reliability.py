"""Reliability: idempotency records and login attempts in the database (nothing a replica
needs is kept in its memory); on PostgreSQL a trigger makes the event record append-only.
Reviewed by hand.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21 06:34:08.935287
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = """
CREATE OR REPLACE FUNCTION event_append_only() RETURNS trigger AS $fn$
BEGIN
    RAISE EXCEPTION 'the event record is append-only: % on event is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$fn$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table('idempotency_record',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
    sa.Column('method', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('request_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('response_status', sa.Integer(), nullable=True),
    sa.Column('response_body', sqlmodel.sql.sqltypes.AutoString(), nullable=True),
    sa.Column('response_headers', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_record')),
    sa.UniqueConstraint('scope', 'key', name=op.f('uq_idempotency_record_scope_key'))
    )
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.create_index('ix_idempotency_expires', ['expires_at'], unique=False)

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


    if op.get_bind().dialect.name == "postgresql":
        op.execute(APPEND_ONLY)
        op.execute("CREATE TRIGGER event_append_only BEFORE UPDATE OR DELETE ON event"
                   " FOR EACH ROW EXECUTE FUNCTION event_append_only()")
        op.execute("CREATE TRIGGER event_no_truncate BEFORE TRUNCATE ON event"
                   " FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS event_no_truncate ON event")
        op.execute("DROP TRIGGER IF EXISTS event_append_only ON event")
        op.execute("DROP FUNCTION IF EXISTS event_append_only()")
    with op.batch_alter_table('login_attempt', schema=None) as batch_op:
        batch_op.drop_index('ix_login_attempt_username')
        batch_op.drop_index('ix_login_attempt_client')

    op.drop_table('login_attempt')
    with op.batch_alter_table('idempotency_record', schema=None) as batch_op:
        batch_op.drop_index('ix_idempotency_expires')

    op.drop_table('idempotency_record')
