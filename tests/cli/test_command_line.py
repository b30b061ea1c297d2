"""The command line an administrator meets first: the first administrator made by `serve`,
what it says about SELECTION_ADMIN_PASSWORD, and `reset-password`."""

from __future__ import annotations

import os
import subprocess
import sys

from sqlmodel import select

from tests.reliability._live import ROOT

BOOTSTRAP = "from service.__main__ import _bootstrap_admin; print(*_bootstrap_admin(), sep='\\n')"


def _service(*args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "service", *args], input=stdin, text=True,
                          capture_output=True, cwd=ROOT, env={**os.environ, **env}, timeout=120)


def _bootstrap(**env: str) -> str:
    done = subprocess.run([sys.executable, "-c", BOOTSTRAP], text=True, capture_output=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _user_events(username: str):
    from service.core.db import open_session
    from service.core.models import User
    from service.record.models import Event

    with open_session() as s:
        user = s.exec(select(User).where(User.username == username)).one()
        return list(s.exec(select(Event).where(Event.subject_id == user.id)
                           .order_by(Event.seq)))


def test_the_first_administrator_from_the_setting_then_a_later_setting_is_not_applied(client):
    out = _bootstrap(SELECTION_ADMIN_PASSWORD="first-passphrase-1")
    assert "Created the first administrator 'admin' with the password in" in out
    login = {"username": "admin", "password": "first-passphrase-1"}
    assert client.post("/api/v1/auth/token", data=login).status_code == 200
    me = client.get("/api/v1/auth/me", headers={
        "Authorization": "Bearer " + client.post("/api/v1/auth/token", data=login)
        .json()["access_token"]}).json()
    assert me["full_name"] == "组织部管理员" and me["roles"] == ["admin"]

    out = _bootstrap(SELECTION_ADMIN_PASSWORD="another-passphrase-2")
    assert "SELECTION_ADMIN_PASSWORD was NOT applied" in out and "reset-password admin" in out
    assert client.post("/api/v1/auth/token", data={
        "username": "admin", "password": "another-passphrase-2"}).status_code == 401
    assert "its password is the one in SELECTION_ADMIN_PASSWORD" in _bootstrap(
        SELECTION_ADMIN_PASSWORD="first-passphrase-1")
    assert _bootstrap().strip() == ""  # nothing to say when nothing was asked


def test_without_the_setting_the_password_is_generated_and_shown_once(client):
    out = _bootstrap()
    lines = out.splitlines()
    assert "Its password, shown only this once" in lines[0]
    password = lines[1].strip()
    assert client.post("/api/v1/auth/token", data={
        "username": "admin", "password": password}).status_code == 200
    assert _bootstrap().strip() == ""  # never shown again


def test_reset_password_ends_sessions_records_the_change_and_lifts_a_lockout(
        client, make_user, login):
    make_user("admin", username="boss", password="old-passphrase-1")
    old = login("boss", "old-passphrase-1")
    for _ in range(6):
        client.post("/api/v1/auth/token", data={"username": "boss", "password": "wrong-one"})
    locked = client.post("/api/v1/auth/token", data={"username": "boss",
                                                     "password": "old-passphrase-1"})
    assert locked.status_code == 429

    done = _service("reset-password", "boss", "--password-stdin", stdin="new-passphrase-2\n")
    assert done.returncode == 0, done.stderr
    assert "password of boss reset" in done.stdout and "new-passphrase-2" not in done.stdout

    assert client.get("/api/v1/auth/me", headers=old).status_code == 401  # the old token ended
    assert client.post("/api/v1/auth/token", data={
        "username": "boss", "password": "old-passphrase-1"}).status_code == 401
    assert client.post("/api/v1/auth/token", data={
        "username": "boss", "password": "new-passphrase-2"}).status_code == 200
    last = _user_events("boss")[-1]
    assert last.action == "update_user" and last.params == {"password_changed": True}
    assert last.actor_id is None and last.actor_role == "system"


def test_reset_password_refuses_an_unknown_user_and_a_short_password(make_user):
    done = _service("reset-password", "nobody-here", "--password-stdin", stdin="long-enough-1\n")
    assert done.returncode == 1 and "No user named 'nobody-here'" in done.stderr
    make_user("judge", username="judge-x", password="judge-passphrase-1")
    done = _service("reset-password", "judge-x", "--password-stdin", stdin="short\n")
    assert done.returncode == 2 and "error:" in done.stderr
    assert [e.action for e in _user_events("judge-x")] == ["create_user"]


def test_reset_password_without_a_password_generates_one(client, make_user):
    make_user("judge", username="judge-y", password="judge-passphrase-1")
    done = _service("reset-password", "judge-y")
    assert done.returncode == 0, done.stderr
    generated = done.stdout.split("password: ", 1)[1].strip()
    assert client.post("/api/v1/auth/token", data={
        "username": "judge-y", "password": generated}).status_code == 200
