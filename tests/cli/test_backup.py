"""Backup and restore (`python -m service backup|restore`): a backup restored into a fresh
database holds the same record, which verifies; a tampered backup is caught on restore."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from service.__main__ import _libpq, main
from service.config import get_settings
from service.core.db import get_engine, open_session
from service.core.migrate import head_revision
from service.record.service import count_events
from tests.conftest import IS_POSTGRES, record_keys_env
from tests.record_guard import unguarded

ROOT = Path(__file__).resolve().parents[2]
SEL = "/api/v1/selections"


def _cli(*args: str, database_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    """The command line in a process of its own, configured for another database."""
    env = {**os.environ, "SELECTION_DATABASE_URL": database_url,
           "SELECTION_DATA_DIR": str(data_dir), **record_keys_env()}
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)


def _some_history(client, admin, make_selection) -> tuple[dict, dict]:
    """One selection published, one cancelled with a reason: events with and without reasons."""
    published = make_selection()
    r = client.post(f"{SEL}/{published['id']}/actions/publish", json={"params": {}},
                    headers=admin)
    assert r.status_code == 200, r.text
    cancelled = make_selection(title="第二党支部书记公开选拔")
    r = client.post(f"{SEL}/{cancelled['id']}/actions/cancel", json={"reason": "岗位调整"},
                    headers=admin)
    assert r.status_code == 200, r.text
    return published, cancelled


def _events_now() -> int:
    with open_session() as s:
        return count_events(s)


def _sqlite_rows(path: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f'SELECT * FROM "{table}" ORDER BY id').fetchall()
    finally:
        conn.close()


def test_libpq_url_keeps_the_password_off_the_command_line():
    url, env = _libpq("postgresql+psycopg://svc:s%40cret@db.example:5433/selection"
                      "?options=-c%20synchronous_commit%3Doff&sslmode=require")
    assert url == ("postgresql://svc@db.example:5433/selection"
                   "?options=-c%20synchronous_commit%3Doff&sslmode=require")
    assert env["PGPASSWORD"] == "s@cret"


# --- SQLite -------------------------------------------------------------------------------


@pytest.mark.skipif(IS_POSTGRES, reason="the SQLite backup; PostgreSQL's is tested below")
def test_sqlite_backup_restores_into_a_fresh_database_and_verifies(
        client, admin, make_selection, tmp_path, capsys):
    published, cancelled = _some_history(client, admin, make_selection)
    events = _events_now()
    assert events >= 4
    source = Path(get_settings().effective_database_url.removeprefix("sqlite:///"))
    backup = tmp_path / "selection-backup.db"

    assert main(["backup", str(backup)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {backup}" in out and f": {events} events" in out
    assert backup.is_file() and not Path(f"{backup}-wal").exists()

    # An existing file is kept unless --force.
    before = backup.read_bytes()
    assert main(["backup", str(backup)]) == 2
    assert "--force" in capsys.readouterr().err
    assert backup.read_bytes() == before

    fresh = tmp_path / "fresh" / "restored.db"
    url = f"sqlite:///{fresh.as_posix()}"
    done = _cli("restore", str(backup), database_url=url, data_dir=tmp_path / "fresh")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"record intact: {events} events verified" in done.stdout

    # The restored file holds exactly what the service's database held.
    for table in ("event", "selection", "user_account"):
        assert _sqlite_rows(fresh, table) == _sqlite_rows(source, table), table
    conn = sqlite3.connect(fresh)
    states = dict(conn.execute("SELECT id, state FROM selection").fetchall())
    conn.close()
    assert states == {uuid.UUID(cancelled["id"]).hex: "cancelled",
                      uuid.UUID(published["id"]).hex: "publicizing"}

    for args in (["migrate"], ["verify-record"]):
        done = _cli(*args, database_url=url, data_dir=tmp_path / "fresh")
        assert done.returncode == 0, done.stdout + done.stderr
    assert f"record intact: {events} events verified" in done.stdout

    # A database that holds data is not replaced unless --force.
    done = _cli("restore", str(backup), database_url=url, data_dir=tmp_path / "fresh")
    assert done.returncode == 2 and "--force" in done.stderr
    done = _cli("restore", "--force", str(backup), database_url=url, data_dir=tmp_path / "fresh")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(IS_POSTGRES, reason="the backup file is a SQLite database")
def test_restoring_a_tampered_backup_names_the_broken_link(
        client, admin, make_selection, tmp_path, capsys):
    _, cancelled = _some_history(client, admin, make_selection)
    cancel = client.get(f"{SEL}/{cancelled['id']}/events", headers=admin).json()["items"][-1]
    assert cancel["action"] == "cancel" and cancel["reason"] == "岗位调整"
    backup = tmp_path / "backup.db"
    assert main(["backup", str(backup)]) == 0
    capsys.readouterr()

    conn = sqlite3.connect(backup)
    with conn, unguarded(conn):  # past the append-only triggers, as the file's owner can
        n = conn.execute("UPDATE event SET reason = '个人原因' WHERE action = 'cancel'").rowcount
    conn.close()
    assert n == 1

    fresh = tmp_path / "fresh.db"
    done = _cli("restore", str(backup), database_url=f"sqlite:///{fresh.as_posix()}",
                data_dir=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout
    assert f"event {cancel['id']} (selection {cancelled['id']} #{cancel['seq']})" in done.stdout
    assert "hash does not match the event's content" in done.stdout


@pytest.mark.skipif(IS_POSTGRES, reason="SQLite files stand in for an old deployment")
def test_a_backup_at_an_older_revision_is_migrated_after_restore(tmp_path):
    old = tmp_path / "old.db"
    from service.config import Settings
    from service.core.db import make_engine
    from service.core.migrate import current_revision, upgrade

    engine = make_engine(Settings(database_url=f"sqlite:///{old.as_posix()}"))
    upgrade(engine, "0004")
    engine.dispose()
    done = _cli("backup", str(tmp_path / "old-backup.db"),
                database_url=f"sqlite:///{old.as_posix()}", data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr

    url = f"sqlite:///{(tmp_path / 'new.db').as_posix()}"
    done = _cli("restore", str(tmp_path / "old-backup.db"), database_url=url, data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "schema is at revision 0004" in done.stdout
    done = _cli("migrate", database_url=url, data_dir=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    engine = make_engine(Settings(database_url=url))
    assert current_revision(engine) == head_revision()
    engine.dispose()


# --- PostgreSQL ---------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.skipif(not IS_POSTGRES, reason="needs TEST_DATABASE_URL (a PostgreSQL server)")
def test_pg_dump_restores_into_a_fresh_database_and_verifies(
        client, admin, make_selection, tmp_path, capsys):
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from tests.conftest import _pg_admin_url

    published, cancelled = _some_history(client, admin, make_selection)
    events = _events_now()
    backup = tmp_path / "selection.dump"
    assert main(["backup", str(backup)]) == 0
    out = capsys.readouterr().out
    assert f"wrote {backup}" in out and f": {events} events" in out

    name = f"selection_restore_{uuid.uuid4().hex[:10]}"
    server = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with server.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
    try:
        done = _cli("restore", str(backup), database_url=url, data_dir=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"record intact: {events} events verified" in done.stdout
        for args in (["migrate"], ["verify-record"]):
            done = _cli(*args, database_url=url, data_dir=tmp_path)
            assert done.returncode == 0, done.stdout + done.stderr
        assert f"record intact: {events} events verified" in done.stdout

        restored = create_engine(url)
        try:
            with restored.connect() as c, get_engine().connect() as orig:
                for table in ("event", "selection"):
                    q = text(f'SELECT * FROM "{table}" ORDER BY id')
                    assert c.execute(q).all() == orig.execute(q).all(), table
                states = dict(c.execute(text("SELECT id::text, state FROM selection")).all())
                # the append-only trigger came along
                triggers = set(c.execute(text(
                    "SELECT tgname FROM pg_trigger WHERE tgrelid = 'event'::regclass")).scalars())
        finally:
            restored.dispose()
        assert states == {cancelled["id"]: "cancelled", published["id"]: "publicizing"}
        assert {"event_append_only", "event_no_truncate"} <= triggers

        done = _cli("restore", str(backup), database_url=url, data_dir=tmp_path)
        assert done.returncode == 2 and "--force" in done.stderr
    finally:
        with server.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()
