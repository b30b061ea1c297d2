"""Who an account is: usernames unique whatever their case, login throttling that cannot be
raced nor used to lock an owner out, forwarded addresses only from trusted proxies, and a
nominator bound to its body (issue 14, points 5, 6 and 9)."""

from __future__ import annotations

import threading

import pytest

TOKEN_URL = "/api/v1/auth/token"
USERS_URL = "/api/v1/users"


def _login(client, username, password, **headers):
    return client.post(TOKEN_URL, data={"username": username, "password": password},
                       headers=headers)


# ---------------------------------------------------------------- usernames
@pytest.mark.parametrize("other", ["Admin", "ADMIN", "aDmIn"])
def test_a_username_differing_only_in_case_is_taken(client, make_user, login, other):
    user, pw = make_user("admin", username="admin")
    headers = login("admin", pw)
    r = client.post(USERS_URL, json={"username": other, "roles": ["judge"]}, headers=headers)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "username_taken"


def test_the_database_refuses_a_case_twin_too(make_user):
    """The unique index on lower(username) holds even past the service's own check."""
    from sqlalchemy.exc import IntegrityError

    from service.core.db import open_session
    from service.core.models import User

    make_user("judge", username="wang")
    with open_session(write=True) as s, pytest.raises(IntegrityError):
        s.add(User(username="WANG", roles=["judge"], password_hash="x"))
        s.commit()


def test_login_finds_the_account_whatever_the_case(client, make_user):
    user, pw = make_user("judge", username="Judge-Li")
    r = _login(client, "judge-li", pw)
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"


# ---------------------------------------------------------------- throttling
def test_parallel_wrong_passwords_get_at_most_the_limit_of_401s(client, make_user):
    """30 wrong passwords at once: the attempts are counted before the check, one after
    another, so no more than 5 (the per account-and-address limit) are even checked."""
    user, _ = make_user("admin")
    results: list[int] = []
    lock = threading.Lock()

    def attempt():
        r = _login(client, user.username, "wrong-password-1")
        with lock:
            results.append(r.status_code)

    threads = [threading.Thread(target=attempt) for _ in range(30)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(set(results)) == [401, 429], results
    assert results.count(401) == 5, results


def test_five_bad_tries_from_elsewhere_do_not_lock_the_owner_out(client, make_user, monkeypatch):
    from service.config import get_settings

    user, pw = make_user("admin", username="chief")
    monkeypatch.setattr(get_settings(), "trusted_proxies", ["testclient"])
    attacker = {"X-Forwarded-For": "203.0.113.9"}
    for _ in range(5):
        assert _login(client, "chief", "guess-guess-1", **attacker).status_code == 401
    refused = _login(client, "chief", pw, **attacker)
    assert refused.status_code == 429, refused.text
    assert refused.json()["code"] == "too_many_attempts"
    assert int(refused.headers["retry-after"]) > 0
    # The owner, from their own address, logs in at once.
    r = _login(client, "chief", pw, **{"X-Forwarded-For": "198.51.100.20"})
    assert r.status_code == 200, r.text


def test_the_account_limit_across_addresses_holds(client, make_user, monkeypatch):
    from service.config import get_settings

    user, pw = make_user("admin", username="chief")
    settings = get_settings()
    monkeypatch.setattr(settings, "trusted_proxies", ["testclient"])
    monkeypatch.setattr(settings, "login_max_failures_per_account", 8)
    for i in range(8):  # a distributed guesser, 2 tries from each of 4 addresses
        r = _login(client, "chief", "guess-guess-1", **{"X-Forwarded-For": f"203.0.113.{i // 2}"})
        assert r.status_code == 401
    r = _login(client, "chief", pw, **{"X-Forwarded-For": "198.51.100.20"})
    assert (r.status_code, r.json()["code"]) == (429, "too_many_attempts")


def test_unknown_usernames_do_not_lock_out_known_colleagues_behind_the_address(
        client, make_user, monkeypatch):
    from service.config import get_settings

    colleague, pw = make_user("judge", username="colleague")
    newcomer, pw2 = make_user("judge", username="newcomer")
    assert _login(client, "colleague", pw).status_code == 200  # has logged in from here
    for i in range(20):
        assert _login(client, f"nobody-{i}", "guess-guess-1").status_code == 401
    # The address is now held for the names it sprayed and for accounts new to it...
    assert _login(client, "nobody-21", "guess-guess-1").status_code == 429
    assert _login(client, "newcomer", pw2).status_code == 429
    # ...but not for an account that logged in from it lately.
    assert _login(client, "colleague", pw).status_code == 200
    assert get_settings().login_max_failures_per_client == 20


def test_a_success_gives_back_its_attempt_and_clears_the_pair(client, make_user):
    user, pw = make_user("judge")
    for _ in range(4):
        assert _login(client, user.username, "nope-nope-1").status_code == 401
    assert _login(client, user.username, pw).status_code == 200
    for _ in range(5):  # the pair starts again from nothing
        assert _login(client, user.username, "nope-nope-1").status_code == 401
    assert _login(client, user.username, pw).status_code == 429


def test_x_forwarded_for_is_ignored_from_an_untrusted_peer(client, make_user):
    """With no trusted proxies (the default) rotating the header changes nothing."""
    user, _ = make_user("judge")
    codes = [_login(client, user.username, "nope-nope-1",
                    **{"X-Forwarded-For": f"192.0.2.{i}"}).status_code for i in range(7)]
    assert codes == [401] * 5 + [429] * 2


def test_x_forwarded_for_is_believed_from_a_configured_proxy(client, make_user, monkeypatch):
    from service.config import get_settings

    monkeypatch.setattr(get_settings(), "trusted_proxies", ["testclient"])
    user, _ = make_user("judge")
    codes = [_login(client, user.username, "nope-nope-1",
                    **{"X-Forwarded-For": f"192.0.2.{i // 5}"}).status_code for i in range(10)]
    assert codes == [401] * 10  # two clients, five tries each


def test_serve_trusts_forwarded_headers_only_from_the_setting():
    from service.config import Settings

    assert Settings().trusted_proxies == []
    assert Settings(trusted_proxies="10.0.0.1, 10.0.1.0/24").trusted_proxies == [
        "10.0.0.1", "10.0.1.0/24"]


# ---------------------------------------------------------------- nominators and their bodies
def test_an_admin_sets_and_changes_a_nominators_body(client, admin):
    r = client.post(USERS_URL, json={"username": "union", "roles": ["nominator"]},
                    headers=admin)
    assert r.status_code == 422, r.text  # a nominator belongs to a body
    r = client.post(USERS_URL, json={"username": "judge-x", "roles": ["judge"],
                                     "nominating_body": {"kind": "trade_union",
                                                         "name": "机关工会"}}, headers=admin)
    assert r.status_code == 422, r.text  # and only a nominator does
    r = client.post(USERS_URL, json={"username": "union", "roles": ["nominator"],
                                     "nominating_body": {"kind": "trade_union",
                                                         "name": "机关工会"}}, headers=admin)
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    r = client.patch(f"{USERS_URL}/{uid}", json={"nominating_body": {
        "kind": "youth_league", "name": "机关团委"}}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["nominating_body"] == {"kind": "youth_league", "name": "机关团委"}
    r = client.patch(f"{USERS_URL}/{uid}", json={"roles": ["judge"]}, headers=admin)
    assert r.status_code == 200 and r.json()["nominating_body"] is None
    r = client.patch(f"{USERS_URL}/{uid}", json={"roles": ["nominator"]}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (422, "nominating_body_required")
