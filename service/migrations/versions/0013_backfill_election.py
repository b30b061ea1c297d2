"""递补 (backfill): a reserve's pool entry records the day it filled a vacated post of its own
selection, and leaves the pool. The branch's election and its approval live in the
candidate's appointment (JSON), the backfill meeting in committee_meeting. Reviewed by hand.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 02:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('reserve_entry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('backfilled_on', sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reserve_entry', schema=None) as batch_op:
        batch_op.drop_column('backfilled_on')
