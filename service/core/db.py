"""Engine, naming convention and the request-scoped session that commits or rolls back."""

from __future__ import annotations

import json
import sqlite3
from functools import lru_cache
from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel, create_engine

from ..config import Settings, get_settings

# Constraint names are stable, so migrations can refer to them on both databases.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

WRITE = "selection_write"  # execution option: this transaction will write


def json_text(value) -> str:
    """How JSON columns are written: sorted keys, no spaces, UTF-8 as it is — the form the
    record hashes, so an event's params are stored as the bytes its body holds them."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def sqlite_file(url: str) -> Path:
    """The file of a sqlite:/// URL; ValueError for ':memory:' or another database."""
    database = make_url(url).database if url.startswith("sqlite") else None
    if not database or database == ":memory:":
        raise ValueError(f"{url} is not a SQLite file")
    return Path(database)


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """An engine for the configured database (or `url`, e.g. the migration role's), tuned
    for it."""
    url = url or settings.effective_database_url
    if url.startswith("sqlite"):
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30}, pool_size=20,
            max_overflow=20, json_serializer=json_text,
        )
        _tune_sqlite(engine, settings.sqlite_busy_timeout_ms)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         json_serializer=json_text)


def _tune_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE for writing transactions.

    A deferred transaction that reads and then writes fails at once with "database is
    locked" when another writer got there first; taking the write lock at BEGIN makes
    the second writer wait (up to the busy timeout) instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "before_cursor_execute")
    def _refuse_nul(conn, cursor, statement, parameters, context, executemany):
        # PostgreSQL cannot store NUL in text and refuses it; SQLite would store it. Refused
        # here too, with the same error, so both databases keep and refuse the same data.
        rows = parameters if executemany else [parameters]
        for row in rows or ():
            values = row.values() if isinstance(row, dict) else row
            if any(isinstance(v, str) and "\x00" in v for v in values or ()):
                raise sqlite3.DataError("text cannot contain NUL (0x00) characters")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


@lru_cache
def get_engine() -> Engine:
    """The process's engine, made once from the settings."""
    return make_engine(get_settings())


def open_session(engine: Engine | None = None, *, write: bool = False) -> Session:
    """A session; with write=True its transaction takes the write lock at once (SQLite)."""
    session = Session(engine or get_engine(), expire_on_commit=False)
    if write:
        session.connection(execution_options={WRITE: True})
    return session


def ping(session: Session) -> None:
    """Raise if the database does not answer."""
    session.exec(text("SELECT 1"))  # type: ignore[call-overload]
