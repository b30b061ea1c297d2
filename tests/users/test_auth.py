"""Logging in, bearer tokens that must be refused, and the users API (admins only)."""

from __future__ import annotations

import base64
import json
import os
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from jose import jwt

TOKEN_URL = "/api/v1/auth/token"
ME_URL = "/api/v1/auth/me"
USERS_URL = "/api/v1/users"
PROBLEM = "application/problem+json"
ISSUER = "branch-secretary-selection"
AUDIENCE = "branch-secretary-selection-api"


# ---------------------------------------------------------------- helpers


def assert_problem(r, status: int, code: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status (and code)."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].split(";")[0].strip() == PROBLEM
    body = r.json()
    for name in ("type", "title", "status", "detail", "code"):
        assert name in body, (name, body)
    assert body["status"] == status
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str) and body["detail"]
    assert body["type"].endswith("/" + body["code"])
    if code is not None:
        assert body["code"] == code, body
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def claims_for(user, **overrides) -> dict:
    """Claims laid out as service/security.py create_token lays them out."""
    now = datetime.now(UTC)
    claims = {
        "sub": str(user.id),
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=30)).timestamp()),
        "iss": ISSUER,
        "aud": AUDIENCE,
        "jti": uuid.uuid4().hex,
        "tv": user.token_version,
        "roles": list(user.roles),
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not _DROP}


_DROP = object()


def forge(claims: dict, *, key: str | None = None, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key or os.environ["SELECTION_SECRET_KEY"], algorithm=algorithm)


def b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def token_for(client, username: str, password: str) -> str:
    r = client.post(TOKEN_URL, data={"username": username, "password": password})
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def events_of(subject_id) -> list:
    from sqlmodel import select

    from service.core.db import open_session
    from service.record.models import Event

    with open_session() as s:
        rows = s.exec(
            select(Event).where(Event.subject_type == "user",
                                Event.subject_id == uuid.UUID(str(subject_id)))
            .order_by(Event.seq)
        ).all()
        return list(rows)


def stored_user(user_id):
    from service.core.db import open_session
    from service.core.models import User

    with open_session() as s:
        return s.get(User, uuid.UUID(str(user_id)))


@pytest.fixture
def quick_user():
    """An active admin inserted directly, with no usable password (hashing is slow): the
    subject of hand-made tokens."""
    from service.core.db import open_session
    from service.core.models import User

    with open_session(write=True) as s:
        user = User(username=f"quick-{uuid.uuid4().hex[:8]}", roles=["admin"],
                    password_hash="not-a-hash")
        s.add(user)
        s.commit()
        return user


@pytest.fixture
def admin_user(make_user, client):
    """An administrator: (user, headers)."""
    user, pw = make_user("admin", username="chief")
    return user, bearer(token_for(client, user.username, pw))


# ---------------------------------------------------------------- logging in


def test_login_returns_a_bearer_token(client, make_user):
    user, pw = make_user("judge", username="judge-wang")
    r = client.post(TOKEN_URL, data={"username": "judge-wang", "password": pw})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 15 * 60  # SELECTION_TOKEN_MINUTES: short; renewed by refresh
    claims = jwt.decode(body["access_token"], os.environ["SELECTION_SECRET_KEY"],
                        algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER)
    assert claims["sub"] == str(user.id)
    assert claims["roles"] == ["judge"]
    assert claims["exp"] - claims["iat"] == body["expires_in"]

    r = client.get(ME_URL, headers=bearer(body["access_token"]))
    assert r.status_code == 200, r.text
    me = r.json()
    assert me["id"] == str(user.id)
    assert me["username"] == "judge-wang"
    assert me["roles"] == ["judge"]
    assert me["is_active"] is True
    assert "password_hash" not in me and "password" not in me


def test_each_login_gives_a_distinct_token(client, make_user):
    user, pw = make_user("mentor")
    assert token_for(client, user.username, pw) != token_for(client, user.username, pw)


def test_wrong_password_and_unknown_user_look_the_same(client, make_user):
    user, pw = make_user("admin")
    wrong = client.post(TOKEN_URL, data={"username": user.username, "password": pw + "x"})
    unknown = client.post(TOKEN_URL, data={"username": "nobody-here", "password": pw})
    a = assert_problem(wrong, 401, "invalid_credentials")
    b = assert_problem(unknown, 401, "invalid_credentials")
    assert a["detail"] == b["detail"]
    assert a["title"] == b["title"]
    assert wrong.headers.get("www-authenticate", "").lower().startswith("bearer")


def test_password_is_case_sensitive_and_empty_password_refused(client, make_user):
    user, _ = make_user("admin", password="Correct-Horse-9")
    assert_problem(client.post(TOKEN_URL, data={"username": user.username,
                                                "password": "correct-horse-9"}),
                   401, "invalid_credentials")
    r = client.post(TOKEN_URL, data={"username": user.username, "password": ""})
    assert r.status_code in (401, 422)
    assert r.headers["content-type"].startswith(PROBLEM)


def test_login_without_fields_is_a_validation_problem(client):
    body = assert_problem(client.post(TOKEN_URL, data={}), 422, "validation_error")
    fields = {e["field"] for e in body["errors"]}
    assert "body.username" in fields and "body.password" in fields


def test_disabled_user_cannot_log_in(client, make_user, admin_user):
    _, admin_headers = admin_user
    user, pw = make_user("judge")
    r = client.patch(f"{USERS_URL}/{user.id}", json={"is_active": False}, headers=admin_headers)
    assert r.status_code == 200, r.text
    assert_problem(client.post(TOKEN_URL, data={"username": user.username, "password": pw}),
                   401, "invalid_credentials")


# ---------------------------------------------------------------- tokens that must be refused


def test_me_without_token(client):
    body = assert_problem(client.get(ME_URL), 401, "not_authenticated")
    assert "token" in body["detail"].lower()


BAD_TOKENS = {
    "expired": lambda u: forge(claims_for(
        u, iat=int((datetime.now(UTC) - timedelta(hours=2)).timestamp()),
        exp=int((datetime.now(UTC) - timedelta(seconds=5)).timestamp()))),
    "wrong_audience": lambda u: forge(claims_for(u, aud="some-other-api")),
    "no_audience": lambda u: forge(claims_for(u, aud=_DROP)),
    "wrong_issuer": lambda u: forge(claims_for(u, iss="someone-else")),
    "no_issuer": lambda u: forge(claims_for(u, iss=_DROP)),
    "hs512": lambda u: forge(claims_for(u), algorithm="HS512"),
    "hs384": lambda u: forge(claims_for(u), algorithm="HS384"),
    "alg_none": lambda u: b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims_for(u)) + ".",
    "alg_none_no_dot": lambda u: b64({"alg": "none", "typ": "JWT"}) + "." + b64(claims_for(u)),
    "other_key": lambda u: forge(claims_for(u), key="another-secret-key-of-decent-length-987654"),
    "missing_sub": lambda u: forge(claims_for(u, sub=_DROP)),
    "sub_not_uuid": lambda u: forge(claims_for(u, sub="not-a-uuid")),
    "sub_is_int": lambda u: forge(claims_for(u, sub=12345)),
    "sub_unknown_user": lambda u: forge(claims_for(u, sub=str(uuid.uuid4()))),
    "missing_exp": lambda u: forge(claims_for(u, exp=_DROP)),
    "missing_iat": lambda u: forge(claims_for(u, iat=_DROP)),
    "exp_not_a_number": lambda u: forge(claims_for(u, exp="tomorrow")),
    # Validly signed, but a claim of the wrong JSON type (issue 14, point 9).
    "exp_numeric_string": lambda u: forge(claims_for(
        u, exp=str(int((datetime.now(UTC) + timedelta(minutes=30)).timestamp())))),
    "iat_numeric_string": lambda u: forge(claims_for(
        u, iat=str(int(datetime.now(UTC).timestamp())))),
    "exp_float": lambda u: forge(claims_for(
        u, exp=(datetime.now(UTC) + timedelta(minutes=30)).timestamp())),
    "exp_true": lambda u: forge(claims_for(u, exp=True)),
    "tv_string": lambda u: forge(claims_for(u, tv=str(u.token_version))),
    "tv_float": lambda u: forge(claims_for(u, tv=float(u.token_version))),
    "roles_string": lambda u: forge(claims_for(u, roles="admin")),
    "aud_list": lambda u: forge(claims_for(u, aud=[AUDIENCE])),
    "old_token_version": lambda u: forge(claims_for(u, tv=u.token_version - 1)),
    "no_token_version": lambda u: forge(claims_for(u, tv=_DROP)),
    "payload_not_an_object": lambda u: (
        b64({"alg": "HS256", "typ": "JWT"}) + "." + base64.urlsafe_b64encode(b"[1,2]")
        .rstrip(b"=").decode() + ".c2ln"),
    "garbage": lambda u: "this-is-not-a-token",
    "three_garbage_parts": lambda u: "a.b.c",
    "bad_base64": lambda u: "!!!.@@@.###",
}


@pytest.mark.parametrize("kind", list(BAD_TOKENS))
def test_bad_tokens_are_refused_with_401(client, quick_user, kind):
    user = quick_user
    token = BAD_TOKENS[kind](user)
    r = client.get(ME_URL, headers=bearer(token))
    assert_problem(r, 401, "invalid_token")
    assert r.headers.get("www-authenticate", "").lower().startswith("bearer")
    # The same token is refused on an admin-only route too (no 403, no 500).
    assert_problem(client.get(USERS_URL, headers=bearer(token)), 401, "invalid_token")


def test_a_forged_token_with_the_right_layout_is_accepted(client, quick_user):
    """The control for the cases above: the forging helper itself makes valid tokens."""
    r = client.get(ME_URL, headers=bearer(forge(claims_for(quick_user))))
    assert r.status_code == 200, r.text
    assert r.json()["id"] == str(quick_user.id)
    assert client.get(USERS_URL, headers=bearer(forge(claims_for(quick_user)))).status_code == 200


def test_tampered_payload_is_refused(client, make_user):
    judge, pw = make_user("judge")
    chief, _ = make_user("admin")
    token = token_for(client, judge.username, pw)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    for change in ({"roles": ["admin"]}, {"sub": str(chief.id)},
                   {"exp": claims["exp"] + 3600}):
        tampered = ".".join([header, b64({**claims, **change}), signature])
        assert_problem(client.get(ME_URL, headers=bearer(tampered)), 401, "invalid_token")
        assert_problem(client.get(USERS_URL, headers=bearer(tampered)), 401, "invalid_token")
    # A flipped signature byte, too.
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_problem(client.get(ME_URL, headers=bearer(f"{header}.{payload}.{flipped}")), 401)
    # The untouched token still works.
    assert client.get(ME_URL, headers=bearer(token)).status_code == 200


@pytest.mark.parametrize("value", ["Bearer ", "Bearer", "bearer", "Basic dXNlcjpwYXNz", "",
                                   "Token abc"])
def test_empty_or_non_bearer_authorization_is_401(client, value):
    r = client.get(ME_URL, headers={"Authorization": value})
    body = assert_problem(r, 401)
    assert body["code"] in ("not_authenticated", "invalid_token")


# ---------------------------------------------------------------- tokens end when access changes


def test_role_change_ends_the_old_token_at_once(client, make_user, admin_user):
    _, admin_headers = admin_user
    user, pw = make_user("judge", "inspector")
    old = bearer(token_for(client, user.username, pw))
    assert client.get(ME_URL, headers=old).status_code == 200

    r = client.patch(f"{USERS_URL}/{user.id}", json={"roles": ["judge"]}, headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["judge"]

    assert_problem(client.get(ME_URL, headers=old), 401, "invalid_token")
    new = bearer(token_for(client, user.username, pw))
    assert client.get(ME_URL, headers=new).json()["roles"] == ["judge"]


def test_losing_admin_role_ends_admin_access_at_once(client, make_user, admin_user):
    _, admin_headers = admin_user
    other, pw = make_user("admin")
    old = bearer(token_for(client, other.username, pw))
    assert client.get(USERS_URL, headers=old).status_code == 200
    r = client.patch(f"{USERS_URL}/{other.id}", json={"roles": ["committee"]},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    assert_problem(client.get(USERS_URL, headers=old), 401, "invalid_token")
    assert_problem(client.post(USERS_URL, json={"username": "sneaky", "roles": ["admin"]},
                               headers=old), 401, "invalid_token")
    # Logging in again gives the new roles, and no admin access.
    new = bearer(token_for(client, other.username, pw))
    assert_problem(client.get(USERS_URL, headers=new), 403, "role_not_permitted")


def test_disabling_a_user_ends_the_old_token_at_once(client, make_user, admin_user):
    _, admin_headers = admin_user
    user, pw = make_user("committee")
    old = bearer(token_for(client, user.username, pw))
    r = client.patch(f"{USERS_URL}/{user.id}", json={"is_active": False}, headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["is_active"] is False
    assert_problem(client.get(ME_URL, headers=old), 401, "invalid_token")
    # Re-enabling does not revive the old token.
    r = client.patch(f"{USERS_URL}/{user.id}", json={"is_active": True}, headers=admin_headers)
    assert r.status_code == 200, r.text
    assert_problem(client.get(ME_URL, headers=old), 401, "invalid_token")
    assert client.get(ME_URL, headers=bearer(token_for(client, user.username, pw))
                      ).status_code == 200


def test_password_change_ends_the_old_token(client, make_user, admin_user):
    _, admin_headers = admin_user
    user, pw = make_user("mentor")
    old = bearer(token_for(client, user.username, pw))
    r = client.patch(f"{USERS_URL}/{user.id}", json={"password": "brand-new-pass-1"},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    assert_problem(client.get(ME_URL, headers=old), 401, "invalid_token")
    assert_problem(client.post(TOKEN_URL, data={"username": user.username, "password": pw}),
                   401, "invalid_credentials")
    token_for(client, user.username, "brand-new-pass-1")


def test_a_name_change_keeps_the_token(client, make_user, admin_user):
    _, admin_headers = admin_user
    user, pw = make_user("mentor")
    old = bearer(token_for(client, user.username, pw))
    r = client.patch(f"{USERS_URL}/{user.id}", json={"full_name": "李老师"},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    me = client.get(ME_URL, headers=old)
    assert me.status_code == 200
    assert me.json()["full_name"] == "李老师"


# ---------------------------------------------------------------- the users API


def test_admin_creates_a_user_with_a_generated_password(client, admin_user):
    chief, admin_headers = admin_user
    r = client.post(USERS_URL, json={"username": "nominator-li", "full_name": "李推荐",
                                     "roles": ["nominator", "judge"],
                                     "nominating_body": {"kind": "trade_union",
                                                         "name": "机关工会"}},
                    headers=admin_headers)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["nominating_body"] == {"kind": "trade_union", "name": "机关工会"}
    assert body["username"] == "nominator-li"
    assert body["full_name"] == "李推荐"
    assert sorted(body["roles"]) == ["judge", "nominator"]
    assert body["is_active"] is True
    assert body["version"] == 1
    assert "password_hash" not in body
    generated = body["generated_password"]
    assert isinstance(generated, str) and len(generated) >= 12
    assert r.headers["etag"] == f'"user-{uuid.UUID(body["id"]).hex}-v1"'

    me = client.get(ME_URL, headers=bearer(token_for(client, "nominator-li", generated)))
    assert me.status_code == 200
    assert me.json()["id"] == body["id"]

    r = client.get(f"{USERS_URL}/{body['id']}", headers=admin_headers)
    assert r.status_code == 200
    assert "generated_password" not in r.json()

    stored = stored_user(body["id"])
    assert stored is not None and stored.password_hash != generated
    assert generated not in stored.password_hash


def test_admin_creates_a_user_with_a_given_password(client, admin_user):
    _, admin_headers = admin_user
    r = client.post(USERS_URL, json={"username": "cand-zhao", "roles": ["candidate"],
                                     "password": "zhao-secret-77"}, headers=admin_headers)
    assert r.status_code == 201, r.text
    assert r.json()["generated_password"] is None
    token_for(client, "cand-zhao", "zhao-secret-77")


def test_duplicate_username_is_409(client, admin_user, make_user):
    _, admin_headers = admin_user
    make_user("judge", username="dup")
    r = client.post(USERS_URL, json={"username": "dup", "roles": ["mentor"]},
                    headers=admin_headers)
    assert_problem(r, 409, "username_taken")
    # a username is taken as sent: surrounding spaces are not part of the pattern
    r = client.post(USERS_URL, json={"username": " dup ", "roles": ["mentor"]},
                    headers=admin_headers)
    assert_problem(r, 422, "validation_error")
    r = client.get(USERS_URL, headers=admin_headers)
    assert [u["username"] for u in r.json()["items"]].count("dup") == 1


@pytest.mark.parametrize("role", ["nominator", "judge", "inspector", "committee", "mentor",
                                  "candidate"])
def test_non_admin_cannot_manage_users(client, make_user, role):
    user, pw = make_user(role)
    headers = bearer(token_for(client, user.username, pw))
    r = client.post(USERS_URL, json={"username": "intruder", "roles": ["admin"]},
                    headers=headers)
    assert_problem(r, 403, "role_not_permitted")
    assert_problem(client.get(USERS_URL, headers=headers), 403, "role_not_permitted")
    assert_problem(client.patch(f"{USERS_URL}/{user.id}", json={"roles": ["admin"]},
                                headers=headers), 403, "role_not_permitted")
    assert stored_user(user.id).roles == [role]
    from sqlmodel import select

    from service.core.db import open_session
    from service.core.models import User

    with open_session() as s:
        assert s.exec(select(User).where(User.username == "intruder")).first() is None


def test_anonymous_cannot_manage_users(client, make_user):
    user, _ = make_user("judge")
    assert_problem(client.post(USERS_URL, json={"username": "anon", "roles": ["admin"]}),
                   401, "not_authenticated")
    assert_problem(client.get(USERS_URL), 401, "not_authenticated")
    assert_problem(client.get(f"{USERS_URL}/{user.id}"), 401, "not_authenticated")
    assert_problem(client.patch(f"{USERS_URL}/{user.id}", json={"roles": ["admin"]}),
                   401, "not_authenticated")


def test_bad_user_input_is_422(client, admin_user):
    _, admin_headers = admin_user
    for body in ({"username": "x", "roles": ["judge"]},            # too short
                 {"username": "has space", "roles": ["judge"]},
                 {"username": "ok-name", "roles": []},
                 {"username": "ok-name", "roles": ["emperor"]},
                 {"username": "ok-name", "roles": ["judge"], "password": "short"},
                 {"username": "ok-name", "roles": ["judge"], "is_admin": True}):
        assert_problem(client.post(USERS_URL, json=body, headers=admin_headers),
                       422, "validation_error")


def test_last_admin_cannot_remove_own_admin_role(client, admin_user):
    chief, admin_headers = admin_user
    r = client.patch(f"{USERS_URL}/{chief.id}", json={"roles": ["judge"]},
                     headers=admin_headers)
    assert_problem(r, 409, "last_admin")
    assert_problem(client.patch(f"{USERS_URL}/{chief.id}", json={"is_active": False},
                                headers=admin_headers), 409, "last_admin")
    stored = stored_user(chief.id)
    assert stored.roles == ["admin"] and stored.is_active is True
    # Nothing changed, so the admin's token still works, and no event was written.
    assert client.get(USERS_URL, headers=admin_headers).status_code == 200
    assert [e.action for e in events_of(chief.id)] == ["create_user"]


def test_last_admin_may_change_roles_while_keeping_admin(client, admin_user):
    chief, admin_headers = admin_user
    r = client.patch(f"{USERS_URL}/{chief.id}", json={"roles": ["admin", "committee"]},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    assert sorted(r.json()["roles"]) == ["admin", "committee"]


def test_an_inactive_admin_does_not_count(client, admin_user, make_user):
    chief, admin_headers = admin_user
    dormant, _ = make_user("admin")
    r = client.patch(f"{USERS_URL}/{dormant.id}", json={"is_active": False},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    assert_problem(client.patch(f"{USERS_URL}/{chief.id}", json={"roles": ["judge"]},
                                headers=admin_headers), 409, "last_admin")


def test_with_another_admin_one_may_step_down(client, admin_user, make_user):
    chief, admin_headers = admin_user
    make_user("admin")
    r = client.patch(f"{USERS_URL}/{chief.id}", json={"roles": ["committee"]},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["roles"] == ["committee"]
    # Their own old token is gone at once.
    assert_problem(client.get(USERS_URL, headers=admin_headers), 401, "invalid_token")


def test_stale_if_match_is_412(client, admin_user, make_user):
    _, admin_headers = admin_user
    user, _ = make_user("judge")
    r = client.get(f"{USERS_URL}/{user.id}", headers=admin_headers)
    etag = r.headers["etag"]
    r = client.patch(f"{USERS_URL}/{user.id}", json={"full_name": "A"},
                     headers={**admin_headers, "If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] != etag
    assert_problem(client.patch(f"{USERS_URL}/{user.id}", json={"full_name": "B"},
                                headers={**admin_headers, "If-Match": etag}),
                   412, "precondition_failed")
    assert stored_user(user.id).full_name == "A"


def test_unknown_user_is_404(client, admin_user):
    _, admin_headers = admin_user
    assert_problem(client.get(f"{USERS_URL}/{uuid.uuid4()}", headers=admin_headers),
                   404, "user_not_found")
    assert_problem(client.patch(f"{USERS_URL}/{uuid.uuid4()}", json={"full_name": "x"},
                                headers=admin_headers), 404, "user_not_found")


# ---------------------------------------------------------------- the record of user changes


def test_creating_and_updating_users_writes_events(client, admin_user):
    chief, admin_headers = admin_user
    r = client.post(USERS_URL, json={"username": "insp-sun", "full_name": "孙考察",
                                     "roles": ["inspector"]}, headers=admin_headers)
    assert r.status_code == 201, r.text
    uid = r.json()["id"]
    generated = r.json()["generated_password"]

    events = events_of(uid)
    assert [e.action for e in events] == ["create_user"]
    created = events[0]
    assert created.subject_type == "user"
    assert created.seq == 1
    assert created.actor_id == chief.id
    assert created.actor_role == "admin"
    assert created.selection_id is None
    assert created.params["username"] == "insp-sun"
    assert created.params["roles"] == ["inspector"]
    assert generated not in json.dumps(created.params, ensure_ascii=False)
    assert "password_hash" not in created.params

    r = client.patch(f"{USERS_URL}/{uid}", json={"roles": ["inspector", "judge"],
                                                "full_name": "孙评委"}, headers=admin_headers)
    assert r.status_code == 200, r.text
    r = client.patch(f"{USERS_URL}/{uid}", json={"password": "a-new-password-5"},
                     headers=admin_headers)
    assert r.status_code == 200, r.text
    r = client.patch(f"{USERS_URL}/{uid}", json={"is_active": False}, headers=admin_headers)
    assert r.status_code == 200, r.text

    events = events_of(uid)
    assert [e.action for e in events] == ["create_user", "update_user", "update_user",
                                          "update_user"]
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[1].params == {"roles": ["inspector", "judge"], "full_name": "孙评委"}
    assert events[2].params == {"password_changed": True}
    assert "a-new-password-5" not in json.dumps(events[2].params)
    assert events[3].params == {"is_active": False}
    for e in events[1:]:
        assert e.actor_id == chief.id and e.actor_role == "admin"
    # The chain links each event to the one before.
    for prev, e in zip(events, events[1:], strict=False):
        assert e.prev_hash == prev.hash


def test_an_update_that_changes_nothing_writes_no_event(client, admin_user, make_user):
    _, admin_headers = admin_user
    user, _ = make_user("judge")
    r = client.patch(f"{USERS_URL}/{user.id}", json={"roles": ["judge"]}, headers=admin_headers)
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1
    assert [e.action for e in events_of(user.id)] == ["create_user"]


def test_refused_creation_writes_no_event(client, admin_user, make_user):
    from sqlmodel import func, select

    from service.core.db import open_session
    from service.record.models import Event

    _, admin_headers = admin_user
    make_user("judge", username="taken")
    with open_session() as s:
        before = s.exec(select(func.count()).select_from(Event)).one()
    assert_problem(client.post(USERS_URL, json={"username": "taken", "roles": ["judge"]},
                               headers=admin_headers), 409, "username_taken")
    with open_session() as s:
        assert s.exec(select(func.count()).select_from(Event)).one() == before


def test_two_admins_stepping_down_at_once_leave_one_admin(make_user):
    """Two last-but-one admins removed in overlapping transactions: one must be refused.

    Transaction A demotes admin A and has not committed when transaction B demotes admin B;
    B must either wait for A (and then see it is the last admin) or be refused."""
    import threading

    from sqlmodel import select

    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.core.errors import Conflict
    from service.core.models import User
    from service.record.service import Author
    from service.users import service as users
    from service.users.schemas import UserUpdate

    a, _ = make_user("admin")
    b, _ = make_user("admin")

    def demote(session, user_id):
        user = users.get(session=session, user_id=user_id)
        users.update(session=session, user=user, data=UserUpdate(roles=["judge"]),
                     author=Author(user_id, "admin"), clock=real_clock())
        session.flush()

    result: dict[str, str] = {}

    def second():
        sb = open_session(write=True)
        try:
            demote(sb, b.id)
            sb.commit()
            result["b"] = "committed"
        except Conflict as e:
            sb.rollback()
            result["b"] = e.code
        except Exception as e:  # noqa: BLE001 - reported below
            sb.rollback()
            result["b"] = repr(e)
        finally:
            sb.close()

    sa = open_session(write=True)
    try:
        demote(sa, a.id)
        t = threading.Thread(target=second)
        t.start()
        t.join(timeout=1.0)  # B either finishes now (no lock) or waits for A
        sa.commit()
    finally:
        sa.close()
    t.join(timeout=30)
    assert not t.is_alive()
    with open_session() as s:
        admins = [u.username for u in s.exec(select(User).where(User.is_active))
                  if "admin" in u.roles]
    assert result["b"] == "last_admin", (result, admins)
    assert admins == [b.username]


# ---------------------------------------------------------------- the password hash
def test_a_hash_with_older_parameters_is_made_again_at_the_next_login(client, make_user):
    """A stored argon2id hash with other parameters (64 MiB, 3 passes, 4 lanes, as hashes
    were made before) still logs in, and is replaced by one with today's parameters."""
    from pwdlib.hashers.argon2 import Argon2Hasher
    from sqlmodel import select

    from service.core.db import open_session
    from service.core.models import User
    from service.core.security import ARGON2

    user, pw = make_user("judge")
    old = Argon2Hasher(time_cost=3, memory_cost=64 * 1024, parallelism=4).hash(pw)
    with open_session(write=True) as s:
        row = s.get(User, user.id)
        row.password_hash = old
        s.add(row)
        s.commit()

    def stored() -> str:
        with open_session() as s:
            return s.exec(select(User.password_hash).where(User.id == user.id)).one()

    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": pw})
    assert r.status_code == 200, r.text
    now = stored()
    assert now != old
    assert f"m={ARGON2['memory_cost']},t={ARGON2['time_cost']},p={ARGON2['parallelism']}" in now
    assert now.startswith("$argon2id$")
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": pw})
    assert r.status_code == 200, r.text
    assert stored() == now  # made once: a hash with today's parameters stays


def test_a_login_that_finds_every_hashing_slot_taken_is_answered_503(client, make_user,
                                                                     monkeypatch):
    """Logins wait a bounded time for a hashing slot: with every slot held, the login is
    answered 503 logins_busy with Retry-After, in Chinese by default, and counts nothing
    (the same account then logs in)."""
    from service.config import get_settings
    from service.core import security

    monkeypatch.setattr(get_settings(), "login_wait_seconds", 0.05)
    user, pw = make_user("judge")

    async def take() -> None:  # in the app's event loop, as logins waiting there would
        slots = security._slots()
        for _ in range(security.HASH_SLOTS):
            await slots.acquire()

    async def give() -> None:
        slots = security._slots()
        for _ in range(security.HASH_SLOTS):
            slots.release()

    client.portal.call(take)
    try:
        r = client.post("/api/v1/auth/token", data={"username": user.username, "password": pw})
    finally:
        client.portal.call(give)
    assert r.status_code == 503, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "logins_busy"
    assert r.json()["title"] == "登录人数过多，请稍后再试"
    assert int(r.headers["retry-after"]) >= 1
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": pw})
    assert r.status_code == 200, r.text


def _rest_until() -> float:
    """When the machine's hashing slots may hash next, as their lock files hold it."""
    import struct

    from service.config import get_settings
    from service.core import security

    times = []
    for slot in range(security.HASH_SLOTS):
        path = get_settings().data_dir / f".hashing-{slot}.lock"
        data = path.read_bytes()[:8] if path.exists() else b""
        times.append(struct.unpack("<d", data)[0] if len(data) == 8 else 0.0)
    return max(times)


@pytest.mark.parametrize("share", [0.25, 1.0])
def test_hashes_take_at_most_their_share_of_a_hashing_slot(monkeypatch, share):
    """After a hash its slot rests until hashing took SELECTION_HASHING_SHARE of the slot's
    time since the hash began, and the next hash on it waits the rest out; with a share of
    1 there is no rest."""
    import time

    from service.config import get_settings
    from service.core import security

    monkeypatch.setattr(get_settings(), "hashing_share", share)
    time.sleep(max(0.0, _rest_until() - time.time()))  # an earlier test's rest is over
    security.hash_password("一个口令")
    ended = time.time()
    rest = _rest_until()
    if share == 1.0:
        assert rest <= ended  # free again as the hash ends
        return
    # the slot rests three times as long as the hash took, past the hash's end
    assert rest > ended
    security.verify_password("一个口令", security.hash_password("另一个"))
    assert time.time() >= rest  # the next hashes started only after the rest
