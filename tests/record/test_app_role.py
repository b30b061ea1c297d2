"""PostgreSQL: the service runs as a role that may only read and append the record, the
migrations as the owner (SELECTION_MIGRATION_DATABASE_URL). In a throw-away database with
throw-away roles: as the app role, rewriting, deleting, truncating the record, turning its
trigger off or dropping its table all fail, while the service works; `migrate` as the app
role refuses clearly when the schema is behind."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from tests.conftest import IS_POSTGRES, record_keys_env

postgres_only = pytest.mark.skipif(not IS_POSTGRES, reason="roles and grants are PostgreSQL's")

ROOT = Path(__file__).resolve().parents[2]


def _server_url(user: str, database: str) -> str:
    base = make_url(os.environ["TEST_DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    return base.set(username=user, password=None, database=database).render_as_string(
        hide_password=False)


@pytest.fixture
def roles_and_database() -> Iterator[tuple[str, str, str]]:
    """(owner URL, app URL, app role) of a fresh database owned by a fresh non-superuser."""
    tag = uuid.uuid4().hex[:8]
    owner, app, db = f"sel_owner_{tag}", f"sel_app_{tag}", f"sel_roles_{tag}"
    admin = create_engine(_server_url("postgres", "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE ROLE "{owner}" LOGIN'))
        c.execute(text(f'CREATE ROLE "{app}" LOGIN'))
        c.execute(text(f'CREATE DATABASE "{db}" OWNER "{owner}"'))
    try:
        yield _server_url(owner, db), _server_url(app, db), app
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            c.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
            c.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


def _cli(*args: str, data_dir: Path, url: str, migration_url: str | None = None,
         stdin: str | None = None) -> subprocess.CompletedProcess:
    """The command line in its own process; the record's keys are this process's."""
    env = {**os.environ, "SELECTION_DATABASE_URL": url, "SELECTION_DATA_DIR": str(data_dir),
           **record_keys_env()}
    env.pop("SELECTION_MIGRATION_DATABASE_URL", None)
    if migration_url:
        env["SELECTION_MIGRATION_DATABASE_URL"] = migration_url
    return subprocess.run([sys.executable, "-m", "service", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, input=stdin)


@postgres_only
def test_the_app_role_only_reads_and_appends_the_record(roles_and_database, tmp_path):
    owner_url, app_url, app = roles_and_database

    # the app role alone cannot create the schema, and says what to do
    done = _cli("migrate", data_dir=tmp_path, url=app_url)
    assert done.returncode == 2, done.stderr
    assert "SELECTION_MIGRATION_DATABASE_URL" in done.stderr and "owner" in done.stderr

    # the owner migrates and grants; then the app role finds the schema current
    done = _cli("migrate", data_dir=tmp_path, url=app_url, migration_url=owner_url)
    assert done.returncode == 0, done.stderr
    done = _cli("grant-app-role", app, data_dir=tmp_path, url=app_url, migration_url=owner_url)
    assert done.returncode == 0, done.stderr
    assert _cli("migrate", data_dir=tmp_path, url=app_url).returncode == 0

    # normal operation as the app role: a user created (an event), the record verified
    done = _cli("create-user", "judge1", "--role", "judge", "--password-stdin",
                data_dir=tmp_path, url=app_url, stdin="a long passphrase 123\n")
    assert done.returncode == 0, done.stderr
    app_engine = create_engine(app_url)
    try:
        from service.core.clock import real_clock
        from service.core.db import open_session
        from service.record import service as record
        from service.record.service import SYSTEM

        with open_session(app_engine, write=True) as s:
            record.append(s, subject_type="calendar", subject_id=uuid.uuid4(),
                          selection_id=None, action="set_override", author=SYSTEM,
                          clock=real_clock())
            assert record.take_checkpoint(s, real_clock().real_now).events == 2
            s.commit()
        done = _cli("verify-record", data_dir=tmp_path, url=app_url)
        assert done.returncode == 0 and "record intact: 2 events" in done.stdout, done.stdout

        # what the app role may not do to the record
        for statement in ("UPDATE event SET reason = 'x'", "DELETE FROM event",
                          "TRUNCATE event", "ALTER TABLE event DISABLE TRIGGER event_append_only",
                          "ALTER TABLE event DISABLE TRIGGER ALL", "DROP TABLE event",
                          "UPDATE record_checkpoint SET events = 0",
                          "DELETE FROM record_checkpoint", "DROP TABLE record_checkpoint",
                          "SET session_replication_role = replica",
                          "UPDATE alembic_version SET version_num = '0006'",
                          "CREATE TABLE event_copy (id int)"):
            with pytest.raises(DBAPIError) as refused, app_engine.begin() as conn:
                conn.execute(text(statement))
            assert ("permission denied" in str(refused.value)
                    or "must be owner" in str(refused.value)), (statement, refused.value)
        # … while the rest of the service's tables are its own to use
        with app_engine.begin() as conn:
            conn.execute(text("DELETE FROM login_throttle"))
            conn.execute(text("UPDATE user_account SET full_name = 'x' WHERE false"))
        assert _cli("verify-record", data_dir=tmp_path, url=app_url).returncode == 0
    finally:
        app_engine.dispose()


def test_grant_app_role_prints_its_sql(tmp_path):
    done = _cli("grant-app-role", "selection_app", "--print", data_dir=tmp_path,
                url="sqlite:///" + str(tmp_path / "x.db"))
    assert done.returncode == 0
    assert "REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON event FROM" in done.stdout
    bad = _cli("grant-app-role", "x; DROP TABLE event", "--print", data_dir=tmp_path,
               url="sqlite:///" + str(tmp_path / "x.db"))
    assert bad.returncode == 2 and "not a plain PostgreSQL role name" in bad.stderr
