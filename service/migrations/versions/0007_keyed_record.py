"""The keyed record: each event's MAC key id (HMAC-SHA256; events without one keep the plain
sha256 rule), the automatic checkpoints, and append-only guards: on SQLite triggers refuse
UPDATE and DELETE of events and checkpoints; on PostgreSQL the checkpoints get the events'
trigger. Reviewed by hand.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:45:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GUARDED = ("event", "record_checkpoint")


def _sqlite_triggers(table: str) -> list[str]:
    return [f"CREATE TRIGGER {table}_no_{op_.lower()} BEFORE {op_} ON {table}"
            f" BEGIN SELECT RAISE(ABORT, 'the {table} record is append-only: {op_} on {table}"
            f" is not allowed'); END"
            for op_ in ("UPDATE", "DELETE")]


def upgrade() -> None:
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32),
                                      nullable=True))

    op.create_table('record_checkpoint',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('chains', sa.Integer(), nullable=False),
    sa.Column('events', sa.Integer(), nullable=False),
    sa.Column('unkeyed_events', sa.Integer(), nullable=False),
    sa.Column('digest', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('heads', sa.JSON(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('mac', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_record_checkpoint'))
    )
    with op.batch_alter_table('record_checkpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_record_checkpoint_created_at'), ['created_at'],
                              unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in GUARDED:
            for statement in _sqlite_triggers(table):
                op.execute(statement)
    elif dialect == "postgresql":
        # event_append_only() comes from migration 0005
        op.execute("CREATE TRIGGER record_checkpoint_append_only BEFORE UPDATE OR DELETE ON"
                   " record_checkpoint FOR EACH ROW EXECUTE FUNCTION event_append_only()")
        op.execute("CREATE TRIGGER record_checkpoint_no_truncate BEFORE TRUNCATE ON"
                   " record_checkpoint FOR EACH STATEMENT EXECUTE FUNCTION event_append_only()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for table in GUARDED:
            for op_ in ("update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op_}")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS record_checkpoint_no_truncate ON record_checkpoint")
        op.execute("DROP TRIGGER IF EXISTS record_checkpoint_append_only ON record_checkpoint")
    with op.batch_alter_table('record_checkpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_record_checkpoint_created_at'))
    op.drop_table('record_checkpoint')
    # SQLite rebuilds the table to drop the column: the triggers above are gone by then
    with op.batch_alter_table('event', schema=None) as batch_op:
        batch_op.drop_column('key_id')
