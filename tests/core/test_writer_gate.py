"""SQLite's writers pass one at a time through the engine's writer gate (`db.WriterGate`),
from BEGIN IMMEDIATE to the commit, across threads and processes: none of them ever meets
another at SQLite's own lock, where the loser would poll in growing sleeps (its busy
handler). Shown here with SQLite's busy timeout set to 0, so that any such meeting fails at
once with "database is locked"."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import event, text

from service.config import Settings
from service.core.db import WAL_PAGES_WITH_CHECKPOINTER, WRITE, WalCheckpoints, make_engine
from tests.conftest import IS_POSTGRES

ROUNDS = 40


def _engine(path: Path):
    engine = make_engine(Settings(database_url=f"sqlite:///{path}", sqlite_busy_timeout_ms=10_000))

    @event.listens_for(engine, "connect")
    def _no_busy_wait(dbapi_conn, _record):  # after the service's own settings
        dbapi_conn.execute("PRAGMA busy_timeout=0")

    return engine


def _increment(path: Path, rounds: int, errors: list) -> None:
    engine = _engine(path)
    try:
        for _ in range(rounds):
            with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
                n = conn.execute(text("SELECT n FROM counter")).scalar_one()
                conn.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})
    except Exception as e:  # noqa: BLE001 - counted by the test
        errors.append(repr(e))
    finally:
        engine.dispose()


def _process(path: str, rounds: int, out) -> None:
    errors: list = []
    _increment(Path(path), rounds, errors)
    out.put(errors)


@pytest.fixture
def counter(tmp_path: Path) -> Path:
    path = tmp_path / "gate.db"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE counter (n INTEGER NOT NULL)")
        db.execute("INSERT INTO counter VALUES (0)")
    return path


def _count(path: Path) -> int:
    with sqlite3.connect(path) as db:
        return db.execute("SELECT n FROM counter").fetchone()[0]


def test_writers_of_one_process_queue_in_the_gate_and_lose_nothing(counter):
    errors: list = []
    threads = [threading.Thread(target=_increment, args=(counter, ROUNDS, errors))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert _count(counter) == 6 * ROUNDS


def test_writers_of_two_processes_queue_in_the_gate_and_lose_nothing(counter):
    ctx = multiprocessing.get_context("fork")
    out = ctx.Queue()
    procs = [ctx.Process(target=_process, args=(str(counter), ROUNDS, out)) for _ in range(3)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(30)
    assert results == [[], [], []]
    assert _count(counter) == 3 * ROUNDS


def test_without_the_gate_the_same_writers_meet_at_sqlites_lock(counter):
    """The control: the same load on plain connections, with the same busy timeout of 0,
    fails at SQLite's lock (so the tests above would see a missing gate)."""
    errors: list = []

    def plain() -> None:
        db = sqlite3.connect(counter, isolation_level=None, timeout=0, check_same_thread=False)
        try:
            for _ in range(ROUNDS * 5):
                db.execute("BEGIN IMMEDIATE")
                n = db.execute("SELECT n FROM counter").fetchone()[0]
                db.execute("UPDATE counter SET n = ?", (n + 1,))
                db.execute("COMMIT")
        except sqlite3.OperationalError as e:
            errors.append(str(e))
        finally:
            db.close()

    threads = [threading.Thread(target=plain) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert any("locked" in e for e in errors)


def test_a_rolled_back_or_failed_writer_leaves_the_gate(counter):
    engine = _engine(counter)
    try:
        with engine.connect().execution_options(**{WRITE: True}) as conn:
            conn.begin()
            conn.execute(text("UPDATE counter SET n = n + 1"))
            conn.rollback()
        with (pytest.raises(Exception),  # noqa: B017 - any error ends the transaction
              engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin()):
            conn.execute(text("UPDATE no_such_table SET n = 1"))
        errors: list = []
        _increment(counter, 3, errors)  # the gate is free again: no wait, no error
        assert errors == []
        assert _count(counter) == 3
    finally:
        engine.dispose()


# ---------------------------------------------------------------- the WAL's checkpoints
def _in_the_file(path: Path) -> int:
    """The counter as the database file alone holds it, without the WAL."""
    ro = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        return ro.execute("SELECT n FROM counter").fetchone()[0]
    finally:
        ro.close()


def test_the_wal_is_copied_into_the_file_by_its_checkpointer_not_by_the_commits(counter):
    engine = _engine(counter)
    checkpoints = WalCheckpoints(engine)
    try:
        checkpoints.round()
        assert _in_the_file(counter) == 0
        with engine.connect() as conn:  # a connection of the engine, opened while it runs
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == \
                WAL_PAGES_WITH_CHECKPOINTER
        with engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            conn.execute(text("UPDATE counter SET n = 7"))
        assert _count(counter) == 7 and _in_the_file(counter) == 0  # in the WAL only
        checkpoints.round()
        assert _in_the_file(counter) == 7
    finally:
        checkpoints.close()
        engine.dispose()
    assert engine.writer_gate.checkpointer is None  # handed back to the commits


def test_a_serving_app_runs_the_checkpointer_and_stops_it():
    from fastapi.testclient import TestClient

    from service import main as app_module
    from service.config import get_settings
    from service.core import db

    if IS_POSTGRES:
        pytest.skip("the WAL is SQLite's")
    with TestClient(app_module.app):
        names = {t.name for t in threading.enumerate()}
        assert "sqlite-wal-checkpoint" in names
        assert db.get_engine().writer_gate.checkpointer is not None
    assert "sqlite-wal-checkpoint" not in {t.name for t in threading.enumerate()}
    assert db.get_engine().writer_gate.checkpointer is None
    assert get_settings().is_sqlite
