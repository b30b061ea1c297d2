"""Automatic checkpoints become a linked series: a full one holds every chain's head, a delta
only the heads of the chains written since the checkpoint before it (`prev_id`), so taking
one costs what was written since, not the whole record; an index on the events' time finds
those chains. Existing checkpoints are full ones without a link. Reviewed by hand.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 00:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN on both databases: SQLite keeps the table and its append-only
    # triggers as they are (a batch copy would drop them).
    op.add_column('record_checkpoint', sa.Column(
        'scope', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
        server_default='full'))
    op.add_column('record_checkpoint', sa.Column('prev_id', sa.Uuid(), nullable=True))
    op.create_index('ix_event_occurred_at', 'event', ['occurred_at'])


def downgrade() -> None:
    op.drop_index('ix_event_occurred_at', table_name='event')
    op.execute("ALTER TABLE record_checkpoint DROP COLUMN prev_id")
    op.execute("ALTER TABLE record_checkpoint DROP COLUMN scope")
