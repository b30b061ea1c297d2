"""scripts/crash_check.py, run as a separate process: the server is killed with SIGKILL in
the middle of a burst of writes, restarted, and the database must still tell one consistent
story (see the script's docstring for every invariant it checks).

Each run of the suite checks its own database: the SQLite run (TEST_DATABASE_URL unset) runs
the script on a fresh SQLite data dir; the PostgreSQL run runs it on a throw-away database
created on the same server for it and dropped afterwards (the script sets the simulated
clock and needs a database of its own, not the suite's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import IS_POSTGRES

from ._live import ROOT

SCRIPT = ROOT / "scripts" / "crash_check.py"
SCRIPT_TIMEOUT = 150  # seconds, inside the script; the subprocess gets a little more


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
    try:
        return subprocess.run(
            [sys.executable, str(SCRIPT), "--timeout", str(SCRIPT_TIMEOUT), *args],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=SCRIPT_TIMEOUT + 30)
    except subprocess.TimeoutExpired as e:
        pytest.fail(f"crash_check.py did not finish in time:\n{e.stdout}\n{e.stderr}")


def _assert_ok(result: subprocess.CompletedProcess) -> None:
    report = f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    assert result.returncode == 0, report
    assert "OK: every invariant holds" in result.stdout, report


@pytest.fixture
def throwaway_pg_database() -> Iterator[str]:
    """An empty database on the test PostgreSQL server, dropped afterwards."""
    admin_url = make_url(os.environ["TEST_DATABASE_URL"].replace(
        "postgresql://", "postgresql+psycopg://", 1))
    name = f"crash_check_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        url = admin_url.set(drivername="postgresql", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


@pytest.mark.skipif(IS_POSTGRES, reason="this run is on PostgreSQL: the crash check runs on a"
                    " throw-away PostgreSQL database instead (test_crash_check_on_postgresql)")
def test_crash_check_on_sqlite():
    _assert_ok(_run())


@pytest.mark.skipif(not IS_POSTGRES, reason="this run is on SQLite (set TEST_DATABASE_URL to"
                    " run the crash check on PostgreSQL)")
def test_crash_check_on_postgresql(throwaway_pg_database):
    _assert_ok(_run("--database-url", throwaway_pg_database))
