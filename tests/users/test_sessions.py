"""Browser sessions: a login gives a short access token and a refresh token; each refresh
rotates the refresh token; a replayed (already used) refresh token ends the whole login and
is recorded; logout and a change of password or roles end it too."""

from __future__ import annotations

from sqlmodel import select

AUTH = "/api/v1/auth"


def _login(client, username: str, password: str) -> dict:
    r = client.post(f"{AUTH}/token", data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()


def _refresh(client, token: str):
    return client.post(f"{AUTH}/refresh", json={"refresh_token": token})


def _me(client, access: str):
    return client.get(f"{AUTH}/me", headers={"Authorization": f"Bearer {access}"})


def test_login_answer_keeps_its_fields_and_adds_the_refresh_token(client, make_user):
    user, pw = make_user("judge")
    body = _login(client, user.username, pw)
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60
    assert body["refresh_expires_in"] == 12 * 3600
    assert len(body["refresh_token"]) >= 40


def test_refresh_rotates_and_the_new_access_token_works(client, make_user):
    user, pw = make_user("judge")
    first = _login(client, user.username, pw)
    r = _refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert _me(client, second["access_token"]).json()["username"] == user.username
    third = _refresh(client, second["refresh_token"])
    assert third.status_code == 200, third.text


def test_a_replayed_refresh_token_ends_the_login_and_is_recorded(client, make_user,
                                                                       admin):
    user, pw = make_user("judge")
    first = _login(client, user.username, pw)
    second = _refresh(client, first["refresh_token"]).json()  # the owner renews
    # someone replays the first token they copied
    r = _refresh(client, first["refresh_token"])
    assert r.status_code == 401
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "refresh_token_reused"
    # the token the owner holds is dead too: the family ended
    r = _refresh(client, second["refresh_token"])
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"
    # and the replay is in the record
    from service.core.db import open_session
    from service.record.models import Event

    with open_session() as s:
        events = s.exec(select(Event).where(Event.subject_id == user.id,
                                            Event.action == "refresh_token_reused")).all()
    assert len(events) == 1
    # another login of the same account is not touched
    other = _login(client, user.username, pw)
    assert _refresh(client, other["refresh_token"]).status_code == 200


def test_a_replayed_refresh_token_ends_the_accounts_access_tokens_at_once(client, make_user):
    user, pw = make_user("judge")
    elsewhere = _login(client, user.username, pw)  # another login, on another device
    first = _login(client, user.username, pw)
    second = _refresh(client, first["refresh_token"]).json()
    for held in (first, second, elsewhere):
        assert _me(client, held["access_token"]).status_code == 200
    assert _refresh(client, first["refresh_token"]).json()["code"] == "refresh_token_reused"
    for held in (first, second, elsewhere):
        r = _me(client, held["access_token"])
        assert r.status_code == 401 and r.json()["code"] == "invalid_token"
    assert _refresh(client, elsewhere["refresh_token"]).json()["code"] == "invalid_refresh_token"
    # logging in again works
    again = _login(client, user.username, pw)
    assert _me(client, again["access_token"]).json()["username"] == user.username


def test_logout_ends_the_refresh_token(client, make_user):
    user, pw = make_user("judge")
    body = _login(client, user.username, pw)
    r = client.post(f"{AUTH}/logout", json={"refresh_token": body["refresh_token"]})
    assert r.status_code == 204 and r.content == b""
    r = _refresh(client, body["refresh_token"])
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"
    # logging out again, or with a token never issued, answers the same
    assert client.post(f"{AUTH}/logout",
                       json={"refresh_token": body["refresh_token"]}).status_code == 204
    assert client.post(f"{AUTH}/logout", json={"refresh_token": "nope"}).status_code == 204


def test_a_password_change_or_a_role_change_ends_the_logins(client, make_user, admin):
    for change in ({"password": "another-horse-42"}, {"roles": ["inspector"]}):
        user, pw = make_user("judge")
        body = _login(client, user.username, pw)
        etag = client.get(f"/api/v1/users/{user.id}", headers=admin).headers["etag"]
        r = client.patch(f"/api/v1/users/{user.id}", json=change,
                         headers={**admin, "If-Match": etag})
        assert r.status_code == 200, r.text
        r = _refresh(client, body["refresh_token"])
        assert r.status_code == 401, change
        assert r.json()["code"] == "invalid_refresh_token"


def test_an_unknown_or_malformed_refresh_token_is_401_or_422(client):
    r = _refresh(client, "never-issued")
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"
    assert client.post(f"{AUTH}/refresh", json={}).status_code == 422
    assert client.post(f"{AUTH}/refresh", json={"refresh_token": ""}).status_code == 422


def test_an_expired_refresh_token_is_refused(client, make_user):
    from datetime import timedelta

    from sqlalchemy import update

    from service.core.db import open_session
    from service.core.models import RefreshToken, utcnow

    user, pw = make_user("judge")
    body = _login(client, user.username, pw)
    with open_session(write=True) as s:
        s.exec(update(RefreshToken).where(RefreshToken.user_id == user.id)
               .values(expires_at=utcnow() - timedelta(seconds=1)))
        s.commit()
    r = _refresh(client, body["refresh_token"])
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"


def test_the_reuse_event_keeps_the_record_intact(client, make_user):
    from service.core.db import open_session
    from service.record.service import verify_report

    user, pw = make_user("judge")
    first = _login(client, user.username, pw)
    assert _refresh(client, first["refresh_token"]).status_code == 200
    assert _refresh(client, first["refresh_token"]).json()["code"] == "refresh_token_reused"
    with open_session() as s:
        report = verify_report(s)
    assert report.broken is None and report.events >= 2


def test_two_refreshes_with_one_token_at_once_give_one_new_pair_and_end_the_login(
        client, make_user):
    """Two holders of one refresh token (the owner and a thief) refresh at the same moment:
    the token's row is locked while it is spent, so exactly one gets a new pair, the other is
    taken as a replay, and the new pair ends with the login."""
    import threading

    from service.config import get_settings
    from service.core.errors import Unauthorized
    from service.users import sessions

    user, pw = make_user("judge")
    token = _login(client, user.username, pw)["refresh_token"]
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def spend() -> None:
        start.wait()
        try:
            outcomes.append(sessions.rotate(settings=get_settings(), token=token)[1].token)
        except Unauthorized as e:
            outcomes.append(e.code)
        except Exception as e:  # shown by the assertion below
            outcomes.append(repr(e))

    threads = [threading.Thread(target=spend) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [o for o in outcomes if o == "refresh_token_reused"]
    pairs = [o for o in outcomes if o != "refresh_token_reused"]
    assert len(codes) == 1 and len(pairs) == 1, outcomes
    r = _refresh(client, pairs[0])
    assert r.status_code == 401 and r.json()["code"] == "invalid_refresh_token"
