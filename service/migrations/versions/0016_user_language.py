"""A user's own language (zh-CN or en), for their emails and printable pages; none means the
default, Chinese.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02 02:30:00.000000
"""
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op


revision: str = '0016'
down_revision: str | None = '0015'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: SQLite keeps the table and its lower(username)
    # index as they are; existing users get NULL (the default language).
    op.add_column('user_account', sa.Column('language', sqlmodel.sql.sqltypes.AutoString(length=8),
                                            nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN on both (SQLite 3.35+), not a copy of the table, which would
    # lose the lower(username) index.
    op.execute("ALTER TABLE user_account DROP COLUMN language")
