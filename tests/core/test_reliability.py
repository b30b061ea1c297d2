"""Idempotency keys, login throttling, body limits, the record's verification endpoint."""

from __future__ import annotations

import uuid

from sqlmodel import select

from service.core.db import open_session
from service.core.models import IdempotencyRecord
from service.record.models import Event

SEL = "/api/v1/selections"


def _events(session, action):
    return session.exec(select(Event).where(Event.action == action)).all()


def test_a_retry_with_the_same_key_returns_the_stored_response_without_acting(
        client, admin, make_selection):
    sel = make_selection()
    headers = {**admin, "Idempotency-Key": "cancel-once"}
    first = client.post(f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "撤销"},
                        headers=headers)
    assert first.status_code == 200
    again = client.post(f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "撤销"},
                        headers=headers)
    assert again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"]
    assert again.headers["idempotent-replayed"] == "true"
    with open_session() as s:
        assert len(_events(s, "cancel")) == 1


def test_creating_twice_with_one_key_creates_one_selection(client, admin, make_selection):
    body = {"title": "一次", "organization": "机关党支部", "job_description": {"duties": ["a"]}}
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    a = client.post(SEL, json=body, headers=headers)
    b = client.post(SEL, json=body, headers=headers)
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] == b.json()["id"]
    assert b.headers["location"] == a.headers["location"]
    items = client.get(SEL, headers=admin).json()["items"]
    assert [s["title"] for s in items].count("一次") == 1


def test_the_same_key_with_another_payload_is_422(client, admin, make_selection):
    body = {"title": "一次", "organization": "机关党支部", "job_description": {"duties": ["a"]}}
    headers = {**admin, "Idempotency-Key": "k1"}
    assert client.post(SEL, json=body, headers=headers).status_code == 201
    r = client.post(SEL, json={**body, "title": "两次"}, headers=headers)
    assert r.status_code == 422
    assert r.json()["code"] == "idempotency_key_reused"
    assert r.headers["content-type"] == "application/problem+json"


def test_keys_are_scoped_to_the_caller(client, admin, as_role):
    other_admin = as_role("admin")
    body = {"title": "一次", "organization": "机关党支部", "job_description": {"duties": ["a"]}}
    a = client.post(SEL, json=body, headers={**admin, "Idempotency-Key": "same"})
    b = client.post(SEL, json=body, headers={**other_admin, "Idempotency-Key": "same"})
    assert a.status_code == b.status_code == 201
    assert a.json()["id"] != b.json()["id"]


def test_a_failed_request_stores_nothing_and_can_be_retried(client, admin, make_selection):
    sel = make_selection()
    headers = {**admin, "Idempotency-Key": "retry-after-fix"}
    r = client.post(f"{SEL}/{sel['id']}/actions/cancel", json={}, headers=headers)
    assert r.status_code == 422  # no reason
    with open_session() as s:
        assert s.exec(select(IdempotencyRecord)).all() == []
    r = client.post(f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "x"}, headers=headers)
    assert r.status_code == 200


def test_an_oversized_key_is_refused(client, admin):
    r = client.post(SEL, json={}, headers={**admin, "Idempotency-Key": "k" * 300})
    assert r.status_code == 422
    assert r.json()["code"] == "invalid_idempotency_key"


def test_a_key_in_progress_gets_409(client, admin, make_selection):
    """A stored key without a response is a first request still running elsewhere."""
    import json
    from datetime import timedelta

    from service.config import get_settings
    from service.core.models import utcnow
    from service.core.security import decode_token
    from tests.conftest import SELECTION_BODY

    sub = decode_token(get_settings(), admin["Authorization"][7:])["sub"]
    # A valid request: the stored key is answered once the route has checked the request.
    body = json.dumps(SELECTION_BODY).encode()
    with open_session(write=True) as s:
        import hashlib
        digest = hashlib.sha256(b"POST /api/v1/selections?\n" + body).hexdigest()
        s.add(IdempotencyRecord(scope=f"user:{sub}", key="busy", method="POST",
                                path="/api/v1/selections", request_hash=digest,
                                expires_at=utcnow() + timedelta(hours=1)))
        s.commit()
    r = client.post(SEL, content=body, headers={**admin, "Idempotency-Key": "busy",
                                                "Content-Type": "application/json"})
    assert r.status_code == 409
    assert r.json()["code"] == "idempotency_in_progress"


def test_failed_logins_are_throttled_per_account(client, make_user):
    user, pw = make_user("judge")
    for _ in range(5):
        r = client.post("/api/v1/auth/token", data={"username": user.username, "password": "no"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/token", data={"username": user.username, "password": pw})
    assert r.status_code == 429
    assert r.json()["code"] == "too_many_attempts"
    assert int(r.headers["retry-after"]) > 0


def test_a_body_over_the_limit_is_413(client, admin):
    from service.config import get_settings

    big = b"{" + b" " * (get_settings().max_body_bytes + 10) + b"}"
    r = client.post(SEL, content=big, headers={**admin, "Content-Type": "application/json"})
    assert r.status_code == 413
    assert r.json()["code"] == "payload_too_large"
    assert r.headers["content-type"] == "application/problem+json"


def test_chinese_text_round_trips_exactly(client, admin):
    title = "第一党支部书记公开选拔（试点）——𠀀𪚥 emoji 🏛️ ǅ"
    body = {"title": title, "organization": "机关·第一党支部",
            "job_description": {"duties": ["主持支部全面工作，落实“三会一课”"]}}
    r = client.post(SEL, json=body, headers=admin)
    assert r.status_code == 201
    got = client.get(r.headers["location"], headers=admin).json()
    assert got["title"] == title
    assert got["job_description"]["duties"] == ["主持支部全面工作，落实“三会一课”"]


def test_admins_verify_the_record_over_http(client, admin, make_selection, as_role):
    make_selection()
    r = client.get("/api/v1/admin/record/verification", headers=admin)
    assert r.status_code == 200
    body = r.json()
    assert body["intact"] is True and body["first_broken"] is None
    assert body["events_verified"] >= 2
    assert client.get("/api/v1/admin/record/verification",
                      headers=as_role("judge")).status_code == 403


def test_a_nul_character_is_422_not_500(client, admin):
    body = {"title": "a\u0000b", "organization": "机关党支部", "job_description": {"duties": ["a"]}}
    r = client.post(SEL, json=body, headers=admin)
    assert r.status_code in (201, 422)  # SQLite stores it; PostgreSQL text cannot
    assert r.headers["content-type"].startswith("application/json" if r.status_code == 201
                                                else "application/problem+json")
    r = client.post("/api/v1/auth/token", data={"username": "ad\u0000min", "password": "x"})
    assert r.status_code in (401, 422)


def test_a_body_that_is_not_utf8_is_422(client, admin):
    r = client.post(SEL, content=b"\xff\x0e", headers={**admin,
                                                        "Content-Type": "application/json"})
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"


def test_a_null_full_name_is_refused_as_input(client, admin, make_user):
    user, _ = make_user("judge")
    r = client.patch(f"/api/v1/users/{user.id}", json={"full_name": None}, headers=admin)
    assert r.status_code == 422
    assert r.json()["code"] == "validation_error"
