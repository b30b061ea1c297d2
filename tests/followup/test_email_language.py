"""Each person in their own language: a user's account says it (set by them or an admin), a
candidate without an account has it in their profile; their outcome email follows it,
whatever language the admin's request was in, and never mixes the two."""

from __future__ import annotations

import re

from sqlmodel import select

from service.core.db import open_session
from service.record.models import Event

from .test_follow_up import PEOPLE, Flow, flow  # noqa: F401  (the fixture)

LATIN_WORD = re.compile(r"[A-Za-z]{3,}")


def test_a_user_sets_their_own_language_and_an_admin_can_too(client, admin, make_user, login):
    user, pw = make_user("candidate")
    own = login(user.username, pw)
    assert client.get("/api/v1/auth/me", headers=own).json()["language"] is None
    r = client.patch("/api/v1/auth/me", json={"language": "en"}, headers=own)
    assert r.status_code == 200, r.text
    assert r.json()["language"] == "en"
    assert client.get("/api/v1/auth/me", headers=own).json()["language"] == "en"
    bad = client.patch("/api/v1/auth/me", json={"language": "fr"}, headers=own)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "body.language"
    r = client.patch(f"/api/v1/users/{user.id}", json={"language": "zh-CN"}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=own).json()["language"] == "zh-CN"
    with open_session() as s:
        changes = s.exec(select(Event.params).where(
            Event.subject_id == user.id, Event.action == "update_user").order_by(Event.seq)).all()
    assert [c.get("language") for c in changes] == ["en", "zh-CN"]  # each change recorded


def test_outcome_emails_follow_the_account_or_the_profile_not_the_request(flow, make_user):  # noqa: F811
    """李明 has an account in English; 王芳 no account and English in her profile; 周国庆
    neither: Chinese. The admin who finishes the decision reads English."""
    li_user, _ = make_user("candidate")
    f: Flow = flow
    f.client.patch(f"/api/v1/users/{li_user.id}", json={"language": "en"}, headers=f.admin)
    f.reviewing()
    f.add("li", user_id=str(li_user.id))
    f.add("wang", profile={**PEOPLE["wang"], "language": "en"})
    f.add("zhou", state="applicant")
    f.scores()
    f.fail_prereview("zhou")
    f.committee({"li": "appointed", "wang": "reserve"})
    r = f.client.post(f"/api/v1/selections/{f.sel}/actions/finish_decision", json={},
                      headers={**f.admin, "Accept-Language": "en"})
    assert r.status_code == 200, r.text
    li, wang, zhou = (f.notification(k) for k in ("li", "wang", "zhou"))
    assert (li["language"], wang["language"], zhou["language"]) == ("en", "en", "zh")
    assert li["subject"].startswith("[") and "Appointed" in li["subject"]
    assert "Dear 李明" in li["body"] and "组织部门" not in li["body"]
    assert "Reserve" in wang["subject"]
    assert "周国庆同志" in zhou["body"] and "不符合" in zhou["subject"]
    # the Chinese email: no English word in it, and one sign-off, not 党委党委
    assert not LATIN_WORD.findall(zhou["subject"] + zhou["body"]), zhou["body"]
    assert "党委党委" not in zhou["body"]
