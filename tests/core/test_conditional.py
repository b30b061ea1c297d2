"""Conditional requests: a selection whose `require_if_match` is on (new selections, by the
service default) refuses writes to it and its candidates without If-Match (428), a stale one
with 412, and changes nothing then; GETs answer 304 to a matching If-None-Match; the actions
list carries its subject's ETag; older selections keep the setting they have."""

from __future__ import annotations

import pytest

from service.core.clock import real_clock

API = "/api/v1"
STRICT = {"settings": {"require_if_match": True}}


@pytest.fixture
def strict_selection(client, admin, make_selection):
    return make_selection(**STRICT)


def _publish(client, admin, sel_id, headers=None):
    return client.post(f"{API}/selections/{sel_id}/actions/publish",
                       json={"params": {"start_on": real_clock().today().isoformat()}},
                       headers={**admin, **(headers or {})})


def test_the_service_default_is_on_for_new_selections(monkeypatch, client, admin):
    from service.config import get_settings
    from tests.conftest import SELECTION_BODY

    monkeypatch.setenv("SELECTION_REQUIRE_IF_MATCH", "true")
    get_settings.cache_clear()
    try:
        r = client.post(f"{API}/selections", json=SELECTION_BODY, headers=admin)
        assert r.status_code == 201, r.text
        assert r.json()["settings"]["require_if_match"] is True
        off = {**SELECTION_BODY, "settings": {"require_if_match": False}}
        r = client.post(f"{API}/selections", json=off, headers=admin)
        assert r.json()["settings"]["require_if_match"] is False
    finally:
        get_settings.cache_clear()


def test_an_action_without_if_match_is_428_and_changes_nothing(client, admin,
                                                               strict_selection):
    sel = strict_selection
    r = _publish(client, admin, sel["id"])
    assert r.status_code == 428
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["code"] == "precondition_required"
    assert problem["title"] == "须附带 If-Match（先读取当前版本的 ETag）"
    assert problem["details"]["current_etag"] == r.headers["etag"]
    r = _publish(client, admin, sel["id"], {"Accept-Language": "en"})
    assert r.json()["title"] == "Precondition required"
    again = client.get(f"{API}/selections/{sel['id']}", headers=admin).json()
    assert again["state"] == "drafting" and again["version"] == 1
    events = client.get(f"{API}/selections/{sel['id']}/events", headers=admin).json()["items"]
    assert [e["action"] for e in events] == ["create"]


def test_with_the_etag_from_the_actions_list_the_action_runs(client, admin, strict_selection):
    sel = strict_selection
    r = client.get(f"{API}/selections/{sel['id']}/actions", headers=admin)
    assert r.status_code == 200
    etag = r.headers["etag"]
    assert etag == client.get(f"{API}/selections/{sel['id']}", headers=admin).headers["etag"]
    r = _publish(client, admin, sel["id"], {"If-Match": etag})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "publicizing"
    # the old ETag is now stale: 412, and the current one is told
    r = client.patch(f"{API}/selections/{sel['id']}", json={"title": "改"},
                     headers={**admin, "If-Match": etag})
    assert r.status_code == 412
    assert r.json()["details"]["current_etag"] == r.headers["etag"] != etag


def test_patch_without_if_match_is_428(client, admin, strict_selection):
    r = client.patch(f"{API}/selections/{strict_selection['id']}", json={"title": "新标题"},
                     headers=admin)
    assert r.status_code == 428 and r.json()["code"] == "precondition_required"
    etag = client.get(f"{API}/selections/{strict_selection['id']}", headers=admin).headers["etag"]
    r = client.patch(f"{API}/selections/{strict_selection['id']}", json={"title": "新标题"},
                     headers={**admin, "If-Match": etag})
    assert r.status_code == 200 and r.json()["title"] == "新标题"


def test_a_candidate_action_follows_its_selections_setting(client, admin, strict_selection,
                                                           make_candidate):
    sel = strict_selection
    etag = client.get(f"{API}/selections/{sel['id']}", headers=admin).headers["etag"]
    assert _publish(client, admin, sel["id"], {"If-Match": etag}).status_code == 200
    cand = make_candidate(sel["id"], state="applicant", recorded=True)
    url = f"{API}/candidates/{cand}/actions/withdraw"
    body = {"reason": "本人申请退出"}
    r = client.post(url, json=body, headers=admin)
    assert r.status_code == 428, r.text
    listed = client.get(f"{API}/candidates/{cand}/actions", headers=admin)
    assert listed.status_code == 200
    r = client.post(url, json=body, headers={**admin, "If-Match": listed.headers["etag"]})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn"


def test_a_selection_with_the_setting_off_takes_writes_without_if_match(client, admin,
                                                                        make_selection):
    sel = make_selection(settings={"require_if_match": False})
    assert _publish(client, admin, sel["id"]).status_code == 200


def test_if_none_match_gets_304_without_a_body(client, admin, strict_selection):
    url = f"{API}/selections/{strict_selection['id']}"
    first = client.get(url, headers=admin)
    etag = first.headers["etag"]
    r = client.get(url, headers={**admin, "If-None-Match": etag})
    assert r.status_code == 304
    assert r.content == b""
    assert r.headers["etag"] == etag
    r = client.get(url, headers={**admin, "If-None-Match": '"something-else", ' + f"W/{etag}"})
    assert r.status_code == 304
    r = client.get(url, headers={**admin, "If-None-Match": '"selection-old-v0"'})
    assert r.status_code == 200 and r.json()["id"] == strict_selection["id"]


def test_the_actions_list_is_never_304(client, admin, strict_selection):
    url = f"{API}/selections/{strict_selection['id']}/actions"
    etag = client.get(url, headers=admin).headers["etag"]
    r = client.get(url, headers={**admin, "If-None-Match": etag})
    assert r.status_code == 200 and r.json()["actions"]


def test_selections_stored_before_the_setting_keep_it_off(client, admin, make_selection):
    """What migration 0015 does to a selection stored before it: the setting is written as
    off, so its writes take no If-Match, as before."""
    import importlib
    import uuid

    from alembic.migration import MigrationContext
    from alembic.operations import Operations
    from sqlmodel import select

    from service.core.db import get_engine, open_session
    from service.selection.models import Selection

    sel = make_selection(**STRICT)
    with open_session(write=True) as s:  # as stored before the setting existed
        row = s.exec(select(Selection).where(Selection.id == uuid.UUID(sel["id"]))).one()
        row.settings = {k: v for k, v in row.settings.items() if k != "require_if_match"}
        s.add(row)
        s.commit()
    migration = importlib.import_module("service.migrations.versions.0015_refresh_tokens")
    with get_engine().begin() as conn:
        migration.op._proxy = Operations(MigrationContext.configure(conn))
        try:
            migration._set_require_if_match(False)
        finally:
            del migration.op._proxy
    read = client.get(f"{API}/selections/{sel['id']}", headers=admin).json()
    assert read["settings"]["require_if_match"] is False
    assert _publish(client, admin, sel["id"]).status_code == 200


def test_every_versioned_read_answers_304(client, admin, strict_selection, make_candidate):
    cand = make_candidate(strict_selection["id"], state="applicant", recorded=True)
    me = client.get(f"{API}/auth/me", headers=admin).json()
    for url in (f"{API}/candidates/{cand}", f"{API}/users/{me['id']}"):
        etag = client.get(url, headers=admin).headers["etag"]
        r = client.get(url, headers={**admin, "If-None-Match": etag})
        assert r.status_code == 304 and r.content == b"", url
        assert r.headers["cache-control"] == "private, no-store"
