"""Engine, naming convention and the request-scoped session that commits or rolls back."""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
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


class WriterGate:
    """SQLite's writers, one at a time, in the order they come: every writing transaction on
    one database file, of every thread of this process and of every process serving from the
    file, takes this gate at BEGIN IMMEDIATE and leaves it at its commit or rollback.

    Without it, writers meet at SQLite's own lock, where the one that loses polls in growing
    sleeps (its busy handler): a login's short write then stalled an action holding the
    request queue for tens of milliseconds. Here they wait on a lock instead (a thread lock
    in the process, then flock on a file beside the database), which wakes the next one at
    once. A wait longer than the busy timeout fails as SQLite's would ("database is locked")."""

    def __init__(self, path: Path | None, timeout_s: float):
        self.path = path
        self.lock_path = path.with_name(path.name + ".writer-lock") if path else None
        self.timeout_s = timeout_s
        self.checkpointer: WalCheckpoints | None = None  # this process's, while it runs
        self._pid: int | None = None
        self._own_lock = threading.Lock()

    def _mine(self) -> tuple[threading.Lock, int | None]:
        """This process's lock and file (a forked worker opens its own: an inherited
        descriptor would share the parent's flock)."""
        with self._own_lock:
            if self._pid != os.getpid():
                self._lock = threading.Lock()
                self._fd = None
                if self.lock_path is not None:
                    self.lock_path.parent.mkdir(parents=True, exist_ok=True)
                    self._fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
                self._pid = os.getpid()
            return self._lock, self._fd

    def acquire(self) -> None:
        lock, fd = self._mine()
        if not lock.acquire(timeout=self.timeout_s):
            raise sqlite3.OperationalError("database is locked")
        if fd is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
            except BaseException:
                lock.release()
                raise

    def release(self) -> None:
        lock, fd = self._mine()
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
        lock.release()


# SQLite's own rule copies the WAL into the database file within the commit that takes it
# past 1000 pages: with the file's fsync, 12-17 ms inside the writers' gate, during which
# every writer of every worker waited, once every 70 or so score sheets. While a serving
# process's `WalCheckpoints` run, its connections leave that to them, and a commit
# checkpoints only past this many pages, should they fall behind.
WAL_PAGES_WITH_CHECKPOINTER = 10_000
WAL_CHECKPOINT_SECONDS = 0.02
# A WAL starts again from its beginning only when a writer finds every page of it copied:
# copied beside the writers, there is always a newer commit not yet copied, and the WAL
# would grow. Past this many pages, a round copies what is left inside the writers' gate
# (a few commits' pages, not a thousand), at most once every WAL_RESTART_SECONDS.
WAL_RESTART_PAGES = 1000
WAL_RESTART_SECONDS = 0.25


# Held while a checkpoint runs in SQLite, and by a fork while it forks: a process forked
# while this thread was inside SQLite would inherit SQLite's mutexes held, and hang at its
# first statement (the command's verification forks its parts).
_IN_SQLITE = threading.Lock()
os.register_at_fork(before=_IN_SQLITE.acquire, after_in_parent=_IN_SQLITE.release,
                    after_in_child=_IN_SQLITE.release)


class WalCheckpoints:
    """SQLite's WAL copied into the database file beside the writers, on a connection of
    its own (`PRAGMA wal_checkpoint(PASSIVE)`: it waits for no reader and no writer, and
    holds no write lock); past WAL_RESTART_PAGES, the rest is copied inside the writers'
    gate, so that the next writer starts the WAL again. A serving process calls `round`
    every WAL_CHECKPOINT_SECONDS from a thread; `close` hands the checkpoints back to the
    commits."""

    def __init__(self, engine: Engine):
        self.gate: WriterGate | None = getattr(engine, "writer_gate", None)
        self.conn: sqlite3.Connection | None = None
        self._restart_at = 0.0
        if self.gate is not None and self.gate.path is not None:
            self.conn = sqlite3.connect(self.gate.path, timeout=1, isolation_level=None,
                                        check_same_thread=False)
            self.gate.checkpointer = self

    def _checkpoint(self) -> int:
        """One PASSIVE checkpoint; the pages in the WAL."""
        assert self.conn is not None
        with _IN_SQLITE:
            return self.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()[1]

    def round(self) -> None:
        if self.conn is None or self.gate is None:
            return
        pages = self._checkpoint()
        if pages >= WAL_RESTART_PAGES and time.monotonic() >= self._restart_at:
            self._restart_at = time.monotonic() + WAL_RESTART_SECONDS
            self.gate.acquire()
            try:
                self._checkpoint()
            finally:
                self.gate.release()

    def close(self) -> None:
        if self.gate is not None and self.gate.checkpointer is self:
            self.gate.checkpointer = None
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class _GatedConnection(sqlite3.Connection):
    """A SQLite connection that leaves its engine's `WriterGate` when its writing transaction
    ends, however it ends (commit, rollback, the pool's reset, close)."""

    gate: WriterGate | None = None
    holds = False

    def enter_gate(self) -> None:
        assert self.gate is not None
        self.gate.acquire()
        self.holds = True

    def leave_gate(self) -> None:
        if self.holds:
            self.holds = False
            assert self.gate is not None
            self.gate.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.leave_gate()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.leave_gate()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.leave_gate()


def make_engine(settings: Settings, url: str | None = None) -> Engine:
    """An engine for the configured database (or `url`, e.g. the migration role's), tuned
    for it."""
    url = url or settings.effective_database_url
    if url.startswith("sqlite"):
        db_path = make_url(url).database
        if db_path and db_path != ":memory:":
            Path(db_path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url, connect_args={"check_same_thread": False, "timeout": 30,
                               "factory": _GatedConnection},
            pool_size=20, max_overflow=20, json_serializer=json_text,
            # The connection returned last is handed out next: each SQLite connection keeps
            # its own page cache (2 MiB), and handed out in turn all 40 filled theirs, one
            # worker's memory growing by some 40 MB over a load at 100k candidates.
            pool_use_lifo=True,
        )
        path = Path(db_path) if db_path and db_path != ":memory:" else None
        engine.writer_gate = WriterGate(path, settings.sqlite_busy_timeout_ms / 1000)  # type: ignore[attr-defined]
        _tune_sqlite(engine, settings.sqlite_busy_timeout_ms, engine.writer_gate)  # type: ignore[attr-defined]
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20,
                         json_serializer=json_text)


def _tune_sqlite(engine: Engine, busy_timeout_ms: int, gate: WriterGate) -> None:
    """WAL, a busy timeout, foreign keys, and BEGIN IMMEDIATE, through the writers' gate, for
    writing transactions.

    A deferred transaction that reads and then writes fails at once with "database is
    locked" when another writer got there first; taking the write lock at BEGIN makes
    the second writer wait (in the gate, up to the busy timeout) instead.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.gate = gate
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        if gate.checkpointer is not None:  # a serving process's thread copies the WAL
            cur.execute(f"PRAGMA wal_autocheckpoint={WAL_PAGES_WITH_CHECKPOINTER}")
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
        if not conn.get_execution_options().get(WRITE, False):
            conn.exec_driver_sql("BEGIN")
            return
        dbapi_conn = conn.connection.dbapi_connection
        dbapi_conn.enter_gate()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            dbapi_conn.leave_gate()
            raise


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
