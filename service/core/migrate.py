"""Alembic, driven from code: upgrade to head, and read the current and head revisions; and
whether the schema is current, asked without Alembic (`serve` starts without importing it
when there is nothing to migrate)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parents[1] / "migrations"
_REVISION = re.compile(r"^revision(?:\s*:\s*\w+)?\s*=\s*['\"]([^'\"]+)['\"]", re.M)
_DOWN = re.compile(r"^down_revision(?:\s*:[^=]+)?\s*=\s*(.+)$", re.M)


@lru_cache
def script_head() -> str | None:
    """The newest migration's revision, read from the files' `revision` and `down_revision`
    lines (None when they do not make one line of migrations: then ask Alembic)."""
    revisions, downs = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev, down = _REVISION.search(source), _DOWN.search(source)
        if rev is None:
            continue
        revisions.add(rev.group(1))
        downs.update(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)) if down else ())
    heads = revisions - downs
    return heads.pop() if len(heads) == 1 else None


def stored_revision(engine: Engine) -> str | None:
    """The revision the database is at, read with one SELECT and no Alembic (None when it
    has no schema yet); SQLAlchemyError when the database does not answer."""
    from sqlalchemy import inspect

    with engine.connect() as conn:
        try:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        except DBAPIError:
            conn.rollback()
            if not inspect(conn).has_table("alembic_version"):
                return None
            raise


def newest_revision() -> str | None:
    """The newest migration's revision: from the files' lines, or Alembic's reading."""
    return script_head() or head_revision()


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest migration: one SELECT, no Alembic."""
    head = script_head()
    if head is None:
        return False
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:
        return False  # no schema yet, or no right to read it: the upgrade says which
    return [r[0] for r in rows] == [head]


def alembic_config(engine: Engine | None = None) -> Config:
    """An Alembic config for our migrations; with an engine, bound to it."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to `revision`."""
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision`."""
    from alembic import command

    command.downgrade(alembic_config(engine), revision)


@lru_cache
def head_revision() -> str | None:
    """The newest migration's revision."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None when it has no schema yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()
