"""Browser sessions: the refresh tokens of each login (stored as SHA-256, one family per
login), and the selection setting `require_if_match`, written as off into the selections
made before it existed (new ones take SELECTION_REQUIRE_IF_MATCH, on by default).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02 02:40:00
"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'refresh_token',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('family_id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('token_version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('family_expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('revoked_reason', sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'],
                                name=op.f('fk_refresh_token_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_refresh_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_refresh_token_token_hash')),
    )
    op.create_index('ix_refresh_token_family', 'refresh_token', ['family_id'])
    op.create_index('ix_refresh_token_user', 'refresh_token', ['user_id', 'revoked_at'])
    _set_require_if_match(False)


def downgrade() -> None:
    _set_require_if_match(None)
    op.drop_index('ix_refresh_token_user', table_name='refresh_token')
    op.drop_index('ix_refresh_token_family', table_name='refresh_token')
    op.drop_table('refresh_token')


def _set_require_if_match(value: bool | None) -> None:
    """Write the setting into every stored selection's settings (None: take it out)."""
    selection = sa.table('selection', sa.column('id', sa.Uuid), sa.column('settings', sa.JSON))
    conn = op.get_bind()
    for row in conn.execute(sa.select(selection.c.id, selection.c.settings)).all():
        settings = dict(row.settings or {})
        if value is None:
            settings.pop('require_if_match', None)
        else:
            settings.setdefault('require_if_match', value)
        conn.execute(selection.update().where(selection.c.id == row.id)
                     .values(settings=settings))
