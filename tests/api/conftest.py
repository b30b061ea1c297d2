"""What the tests of generated clients share: a live server with its first admin."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.reliability._live import ROOT, LiveServer, server_env

ADMIN, PASSWORD = "hr-admin", "hr-admin-passphrase-1"


@pytest.fixture
def live_server(tmp_path) -> LiveServer:
    """A uvicorn server on a fresh SQLite database, with its first admin made by the CLI."""
    env = server_env(tmp_path, SELECTION_DATABASE_URL=f"sqlite:///{(tmp_path / 'hr.db').as_posix()}")
    # The CLI migrates the new database and creates the admin while the server boots; the
    # server is ready once the schema is at the newest migration.
    create_user = subprocess.Popen(
        [sys.executable, "-m", "service", "create-user", ADMIN, "--role", "admin",
         "--full-name", "组织部管理员", "--password-stdin"],
        cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    server = LiveServer("generated-client", env, tmp_path).start()
    try:
        out, _ = create_user.communicate(PASSWORD + "\n", timeout=60)
        assert create_user.returncode == 0, out
        server.wait_ready()
        yield server
    finally:
        server.stop()
