"""Idempotency-Key replays go only to the same principal, still authorized now; responses
holding a secret are never kept in the idempotency table (issue 14, point 3)."""

from __future__ import annotations

import base64

from sqlmodel import select

from service.core.db import open_session
from service.core.models import IdempotencyRecord

WEBHOOKS = "/api/v1/webhooks"
USERS = "/api/v1/users"
HOOK = {"url": "https://hr.example.cn/hooks/selection", "event_types": ["outcome.decided"]}


def _stored() -> list[IdempotencyRecord]:
    with open_session() as s:
        return list(s.exec(select(IdempotencyRecord)))


def _stored_text() -> str:
    """Everything the idempotency table holds, bodies decoded."""
    out = []
    for r in _stored():
        out.append(repr((r.scope, r.key, r.path, r.response_headers)))
        if r.response_body:
            out.append(base64.b64decode(r.response_body).decode("utf-8", "replace"))
    return "\n".join(out)


def _demote(client, chief, user_id):
    r = client.patch(f"{USERS}/{user_id}", json={"roles": ["judge"]}, headers=chief)
    assert r.status_code == 200, r.text


def test_a_demoted_admins_old_token_cannot_replay_create_webhook(client, make_user, login):
    chief_user, chief_pw = make_user("admin", username="chief")
    chief = login(chief_user.username, chief_pw)
    deputy_user, pw = make_user("admin", username="deputy")
    deputy = login(deputy_user.username, pw)
    key = {"Idempotency-Key": "hook-1"}
    first = client.post(WEBHOOKS, json=HOOK, headers={**deputy, **key})
    assert first.status_code == 201, first.text
    secret = first.json()["secret"]
    assert first.headers["cache-control"] == "no-store"

    _demote(client, chief, deputy_user.id)
    old = client.post(WEBHOOKS, json=HOOK, headers={**deputy, **key})
    assert old.status_code == 401, old.text
    assert old.json()["code"] == "invalid_token"
    assert secret not in old.text
    # Logged in again, now a judge: the same principal, no longer allowed.
    judge = login("deputy", pw)
    again = client.post(WEBHOOKS, json=HOOK, headers={**judge, **key})
    assert again.status_code == 403, again.text
    assert again.json()["code"] == "role_not_permitted"
    assert secret not in again.text
    assert secret not in _stored_text()


def test_a_demoted_admins_old_token_cannot_replay_create_user(client, make_user, login):
    chief_user, chief_pw = make_user("admin", username="chief")
    chief = login(chief_user.username, chief_pw)
    deputy_user, pw = make_user("admin", username="deputy")
    deputy = login(deputy_user.username, pw)
    key = {"Idempotency-Key": "user-1"}
    body = {"username": "judge-li", "roles": ["judge"]}
    first = client.post(USERS, json=body, headers={**deputy, **key})
    assert first.status_code == 201, first.text
    generated = first.json()["generated_password"]
    assert generated

    _demote(client, chief, deputy_user.id)
    old = client.post(USERS, json=body, headers={**deputy, **key})
    assert (old.status_code, old.json()["code"]) == (401, "invalid_token")
    judge = login("deputy", pw)
    again = client.post(USERS, json=body, headers={**judge, **key})
    assert (again.status_code, again.json()["code"]) == (403, "role_not_permitted")
    assert generated not in old.text + again.text
    assert generated not in _stored_text()


def test_a_response_with_a_secret_is_not_kept_and_its_replay_is_refused(client, admin):
    key = {"Idempotency-Key": "hook-2"}
    first = client.post(WEBHOOKS, json=HOOK, headers={**admin, **key})
    assert first.status_code == 201, first.text
    again = client.post(WEBHOOKS, json=HOOK, headers={**admin, **key})
    assert again.status_code == 409, again.text
    assert again.headers["content-type"].startswith("application/problem+json")
    problem = again.json()
    assert problem["code"] == "idempotency_response_not_kept"
    assert problem["details"]["location"] == f"{WEBHOOKS}/{first.json()['id']}"
    assert first.json()["secret"] not in again.text
    # Not acted on twice.
    assert len(client.get(WEBHOOKS, headers=admin).json()["items"]) == 1
    [row] = _stored()
    assert row.response_body is None and row.response_status == 201

    # Rotating the secret with a key: the new secret is not kept either.
    hid = first.json()["id"]
    rot = client.post(f"{WEBHOOKS}/{hid}/rotate-secret", headers={**admin,
                                                                  "Idempotency-Key": "rot"})
    assert rot.status_code == 200, rot.text
    assert rot.json()["secret"] not in _stored_text()
    rot2 = client.post(f"{WEBHOOKS}/{hid}/rotate-secret", headers={**admin,
                                                                   "Idempotency-Key": "rot"})
    assert (rot2.status_code, rot2.json()["code"]) == (409, "idempotency_response_not_kept")


def test_a_bearer_token_is_never_kept(client, make_user):
    user, pw = make_user("judge")
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": pw},
                    headers={"Idempotency-Key": "login-1"})
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    assert r.json()["access_token"] not in _stored_text()


def test_a_response_without_a_secret_is_still_replayed_to_its_principal(client, admin,
                                                                        as_role):
    key = {"Idempotency-Key": "user-2"}
    body = {"username": "judge-zhao", "roles": ["judge"], "password": "a-long-passphrase-1"}
    first = client.post(USERS, json=body, headers={**admin, **key})
    assert first.status_code == 201, first.text
    again = client.post(USERS, json=body, headers={**admin, **key})
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    # Another admin with the same key is another caller: acts itself (and is refused here).
    other = client.post(USERS, json=body, headers={**as_role("admin"), **key})
    assert (other.status_code, other.json()["code"]) == (409, "username_taken")
