"""A password is hashed before the transaction that stores it, never inside it: an admin
creating a user or setting a password, the command line's reset, and a login each hash
while no transaction of theirs is open (so no row lock, and on SQLite not the one write
lock every other request waits for, is held for argon2's tens of milliseconds)."""

from __future__ import annotations

import pytest

from service.core import security
from service.users import service as users


@pytest.fixture
def trace(monkeypatch):
    """What ran in order: each hash, and the transactions' storing functions."""
    log: list[str] = []
    hashing = security._on_hashing_thread

    def traced_hash(fn, *args):
        log.append("hash")
        return hashing(fn, *args)

    monkeypatch.setattr(security, "_on_hashing_thread", traced_hash)
    for name in ("create", "update"):
        real = getattr(users, name)

        def storing(*args, _real=real, _name=name, **kwargs):
            log.append(f"{_name}:begin")
            try:
                return _real(*args, **kwargs)
            finally:
                log.append(f"{_name}:end")

        monkeypatch.setattr(users, name, storing)
    return log


def _hashes_inside(log: list[str]) -> list[int]:
    inside, out = False, []
    for i, step in enumerate(log):
        if step.endswith(":begin"):
            inside = True
        elif step.endswith(":end"):
            inside = False
        elif step == "hash" and inside:
            out.append(i)
    return out


def test_creating_a_user_and_setting_a_password_hash_before_the_transaction(
        client, admin, trace):
    r = client.post("/api/v1/users", headers=admin, json={
        "username": "zhang.san", "roles": ["judge"], "password": "a-long-passphrase-26"})
    assert r.status_code == 201, r.text
    r = client.post("/api/v1/users", headers=admin, json={  # a generated password
        "username": "li.si", "roles": ["judge"]})
    assert r.status_code == 201, r.text
    assert r.json()["generated_password"]
    user = r.json()
    r = client.patch(f"/api/v1/users/{user['id']}", headers=admin,
                     json={"password": "another-passphrase-27"})
    assert r.status_code == 200, r.text
    assert trace.count("hash") == 3 and trace.count("create:begin") == 2, trace
    assert trace.count("update:begin") == 1, trace
    assert _hashes_inside(trace) == [], trace
    r = client.post("/api/v1/auth/token",
                    data={"username": "li.si", "password": "another-passphrase-27"})
    assert r.status_code == 200, r.text  # the password stored is the one hashed before


def test_the_command_lines_reset_hashes_before_its_transaction(make_user, trace):
    from service.core.clock import real_clock

    user, _ = make_user("judge", username="wang.wu")
    trace.clear()
    generated = users.reset_password(username="wang.wu", password=None, clock=real_clock())
    assert generated
    assert trace.count("hash") == 1 and trace.count("update:begin") == 1, trace
    assert _hashes_inside(trace) == [], trace
