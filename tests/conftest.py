"""Test set-up: a real database (a SQLite file, or a throw-away PostgreSQL database when
TEST_DATABASE_URL points at a server), migrated once, emptied after each test; factories
for users, tokens, selections and candidates."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="selection-tests-"))
_PG_SERVER = os.environ.get("TEST_DATABASE_URL")
_PG_DB = f"selection_test_{uuid.uuid4().hex[:10]}" if _PG_SERVER else None


def _pg_admin_url() -> str:
    from sqlalchemy.engine import make_url

    url = make_url(_PG_SERVER.replace("postgresql://", "postgresql+psycopg://", 1))
    return url.render_as_string(hide_password=False)


def _database_url() -> str:
    if not _PG_SERVER:
        return f"sqlite:///{(_TMP / 'test.db').as_posix()}"
    from sqlalchemy.engine import make_url

    # Tests need no durability: not waiting for the WAL flush makes each commit far cheaper.
    url = make_url(_pg_admin_url()).set(database=_PG_DB)
    url = url.update_query_dict({"options": "-c synchronous_commit=off"})
    return url.render_as_string(hide_password=False)


# Settings are read once per process: fix them before the service is imported.
os.environ.update({
    "SELECTION_ENVIRONMENT": "development",
    "SELECTION_DATA_DIR": str(_TMP),
    "SELECTION_DATABASE_URL": _database_url(),
    "SELECTION_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
    "SELECTION_ADMIN_PASSWORD": "",
    # The tests of a step read and write without ETags unless they are about them: their
    # selections are made with If-Match optional, the tests of conditional requests
    # (tests/core/test_conditional.py), the curl guide and the fuzz tests with it required.
    "SELECTION_REQUIRE_IF_MATCH": "false",
    # The suite logs in and creates users one after another: its hashes run unpaced, except
    # in the test of the pacing (tests/users/test_auth.py).
    "SELECTION_HASHING_SHARE": "1",
    # No webhook sender in the apps the suite starts: one in the background would try the
    # URLs of every test's subscriptions, and its row locks would meet the emptying of the
    # tables after the test. tests/webhooks runs the sender itself, and tests the app's own.
    "SELECTION_WEBHOOK_SENDER_IN_PROCESS": "false",
})
os.environ.pop("SELECTION_ADMIN_PASSWORD")

IS_POSTGRES = bool(_PG_SERVER)


def record_keys_env() -> dict[str, str]:
    """SELECTION_RECORD_KEYS holding this process's record keys (the current one last), for
    a command line started in its own process with another data folder."""
    from service.record.keys import keyring

    ring = keyring()
    order = [k for k in ring.keys if k != ring.current] + [ring.current]
    return {"SELECTION_RECORD_KEYS": ",".join(f"{k}:{ring.keys[k].decode()}" for k in order)}


def _create_pg_database() -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{_PG_DB}"'))
    eng.dispose()


def _drop_pg_database() -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(_pg_admin_url(), isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{_PG_DB}" WITH (FORCE)'))
    eng.dispose()


def pytest_configure(config) -> None:
    """Record every problem the app answers in this process (tests/conformance.py)."""
    from service.main import app

    from .conformance import DIR_ENV, ProblemRecorder

    app.add_middleware(ProblemRecorder)
    folder = _TMP / "served-problems"
    folder.mkdir(exist_ok=True)
    os.environ[DIR_ENV] = str(folder)  # where the servers the suite starts write theirs


def pytest_sessionfinish(session, exitstatus) -> None:
    """Fail the run when a problem was answered that openapi/openapi.json does not declare
    for its operation and status."""
    from .conformance import undeclared

    wrong = undeclared()
    session.config._undeclared_problems = wrong
    if wrong and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:
    """Say which answers the document does not declare."""
    wrong = getattr(config, "_undeclared_problems", [])
    if wrong:
        terminalreporter.section("problems answered that openapi/openapi.json does not declare")
        for line in wrong:
            terminalreporter.line(line)


@pytest.fixture(scope="session", autouse=True)
def migrated_database() -> Iterator[None]:
    """The schema, created once by the migrations themselves."""
    if IS_POSTGRES:
        _create_pg_database()
    from service.core.db import get_engine
    from service.core.migrate import upgrade

    upgrade(get_engine())
    yield
    get_engine().dispose()
    if IS_POSTGRES:
        _drop_pg_database()


@pytest.fixture(autouse=True)
def clean_tables() -> Iterator[None]:
    """Each test starts from empty tables."""
    yield
    empty_tables()


def empty_tables() -> None:
    """Delete every row of every table (also between the scenarios of a stateful test)."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError
    from sqlmodel import SQLModel

    from service.core.db import WRITE, get_engine

    from .record_guard import unguarded

    # DELETE, not TRUNCATE: on a few rows it is much cheaper on PostgreSQL too. A writing
    # transaction, as the service's are: on SQLite it waits its turn in the writers' gate
    # (a deferred one that then wrote met the app's own writers at SQLite's lock, and lost).
    # The children before their parents. A writer still running in the background of the
    # test (an automatic checkpoint) can meet these deletes in PostgreSQL's deadlock check:
    # the loser is rolled back, and when it is this transaction it runs again.
    tables = [t.name for t in reversed(SQLModel.metadata.sorted_tables)]
    for attempt in range(3):
        try:
            with get_engine().execution_options(**{WRITE: True}).begin() as conn, \
                    unguarded(conn):
                for t in tables:
                    conn.execute(text(f'DELETE FROM "{t}"'))
            return
        except OperationalError as exc:
            if attempt == 2 or getattr(exc.orig, "sqlstate", None) != "40P01":
                raise


@pytest.fixture
def client():
    """An httpx-based client talking to the app in process."""
    from fastapi.testclient import TestClient

    from service.main import app

    with TestClient(app) as c:
        yield c


@pytest.fixture
def make_user() -> Callable[..., Any]:
    """Create a user directly; returns (user, password)."""
    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.record.service import SYSTEM
    from service.users.schemas import UserCreate
    from service.users.service import create, new_password

    counter = iter(range(10_000))

    def factory(*roles: str, username: str | None = None, password: str = "correct-horse-9",
                body: tuple[str, str] | None = None):
        name = username or f"{roles[0] if roles else 'user'}{next(counter)}"
        if body is None and "nominator" in roles:  # a nominator belongs to a body
            body = ("party_organization", "机关党委")
        nominating_body = {"kind": body[0], "name": body[1]} if body else None
        data = UserCreate(username=name, roles=list(roles), password=password,
                          nominating_body=nominating_body)
        password_hash, _ = new_password(data)
        with open_session(write=True) as s:
            user = create(session=s, data=data, password_hash=password_hash, author=SYSTEM,
                          clock=real_clock())
            s.commit()
        return user, password

    return factory


@pytest.fixture
def login(client) -> Callable[[str, str], dict[str, str]]:
    """Log in through the API; returns the Authorization header."""

    def do(username: str, password: str) -> dict[str, str]:
        r = client.post("/api/v1/auth/token", data={"username": username, "password": password})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['access_token']}"}

    return do


@pytest.fixture
def as_role(make_user, login) -> Callable[..., dict[str, str]]:
    """A new user with these roles, logged in; returns the Authorization headers."""

    def do(*roles: str, body: tuple[str, str] | None = None) -> dict[str, str]:
        user, pw = make_user(*roles, body=body)
        return login(user.username, pw)

    return do


@pytest.fixture
def admin(as_role) -> dict[str, str]:
    """Headers of a logged-in administrator."""
    return as_role("admin")


SELECTION_BODY = {
    "title": "第一党支部书记公开选拔",
    "organization": "机关第一党支部",
    "posts": 1,
    "job_description": {
        "duties": ["主持支部全面工作", "落实党建工作责任制"],
        "requirements": {"min_education": "bachelor", "min_party_years": 3, "max_age": 45},
    },
}


@pytest.fixture
def make_selection(client, admin) -> Callable[..., dict[str, Any]]:
    """Create a selection through the API; returns its JSON."""

    def do(**overrides: Any) -> dict[str, Any]:
        body = {**SELECTION_BODY, **overrides}
        r = client.post("/api/v1/selections", json=body, headers=admin)
        assert r.status_code == 201, r.text
        return r.json()

    return do


@pytest.fixture
def make_candidate() -> Callable[..., uuid.UUID]:
    """Insert a candidate directly in a given state (for tests of later gates); with
    recorded=True also an event that puts them there, as every candidate's record has (a
    candidate without one is, to `verify-record`, written outside the service)."""
    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.nomination.models import Candidate
    from service.record import service as record

    def do(selection_id, *, state: str = "applicant", user_id=None, full_name="张三",
           recorded: bool = False) -> uuid.UUID:
        with open_session(write=True) as s:
            c = Candidate(selection_id=uuid.UUID(str(selection_id)), state=state,
                          user_id=user_id, full_name=full_name,
                          identity_key=uuid.uuid4().hex)
            s.add(c)
            s.flush()
            if recorded:
                record.append(s, subject_type="candidate", subject_id=c.id,
                              selection_id=c.selection_id, action="test_setup",
                              author=record.SYSTEM, clock=real_clock(), to_state=state)
            s.commit()
            return c.id

    return do
