"""Named posts: a selection's list of posts (code, branch, title, count), filled for every
selection stored before with one post named after its organization; the posts a candidate
stands for (null: every post of the selection). Reviewed by hand.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-01 23:30:00
"""
import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.add_column(sa.Column('named_posts', sa.JSON(), nullable=True))
    selection = sa.table('selection', sa.column('id', sa.Uuid()),
                         sa.column('organization', sa.String()), sa.column('posts', sa.Integer()),
                         sa.column('named_posts', sa.JSON()))
    conn = op.get_bind()
    for sid, org, posts in conn.execute(sa.select(selection.c.id, selection.c.organization,
                                                  selection.c.posts)).all():
        named = [{"code": "p1", "branch": org, "title": "党支部书记", "count": posts or 1}]
        conn.execute(selection.update().where(selection.c.id == sid)
                     .values(named_posts=json.loads(json.dumps(named))))
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.alter_column('named_posts', existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.add_column(sa.Column('post_codes', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('candidate', schema=None) as batch_op:
        batch_op.drop_column('post_codes')
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.drop_column('named_posts')
