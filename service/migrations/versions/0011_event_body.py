"""Each event keeps the exact bytes that were hashed (its canonical JSON), so verification
MACs the stored bytes and checks the columns against them, instead of rebuilding the JSON of
every event; events written before keep no body and verify as before. Reviewed by hand.

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 00:00:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite keeps the table (and its append-only
    # triggers) as it is; existing rows get NULL.
    op.add_column('event', sa.Column('body', sa.Text(), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both (SQLite 3.35+), not a copy of the table, which would
    # lose the append-only triggers.
    op.execute("ALTER TABLE event DROP COLUMN body")
