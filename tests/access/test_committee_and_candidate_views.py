"""Committee members read a selection only once it is submitted to them; candidates read
their own record without the reviewers (issue 14, point 9)."""

from __future__ import annotations

import uuid

import pytest

from service.core.clock import real_clock
from service.core.db import open_session
from service.record import service as record

SEL = "/api/v1/selections"


@pytest.fixture
def publicized(client, admin, make_selection) -> dict:
    sel = make_selection()
    r = client.post(f"{SEL}/{sel['id']}/actions/publish", json={"params": {}}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize("path", ["/ranking", "/report", "/report.html", "/events"])
def test_committee_members_read_nothing_before_it_is_submitted(client, admin, as_role,
                                                               publicized, path):
    committee = as_role("committee")
    r = client.get(f"{SEL}/{publicized['id']}{path}", headers=committee)
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "not_submitted_to_committee"
    assert client.get(f"{SEL}/{publicized['id']}{path}", headers=admin).status_code == 200


def test_a_candidate_does_not_see_the_reviewers_in_their_own_record(
        client, admin, make_user, login, make_selection, make_candidate):
    sel = make_selection()
    me, pw = make_user("candidate")
    judge, _ = make_user("judge")
    cand = make_candidate(sel["id"], state="qualified", user_id=me.id)
    with open_session(write=True) as s:
        record.append(s, subject_type="candidate", subject_id=cand, selection_id=uuid.UUID(
            sel["id"]), action="declare_conflict", author=record.Author(judge.id, "judge"),
            clock=real_clock(), from_state="qualified", to_state="qualified",
            params={"capacity": "judge", "conflict": "relative", "note": "与其配偶系表亲",
                    "user_id": judge.id})
        record.append(s, subject_type="candidate", subject_id=cand, selection_id=uuid.UUID(
            sel["id"]), action="appoint_inspection_team", author=record.Author(None, "admin"),
            clock=real_clock(), from_state="qualified", to_state="qualified",
            params={"inspector_ids": [str(judge.id)]})
        s.commit()
    mine = client.get(f"/api/v1/candidates/{cand}/events", headers=login(me.username, pw))
    assert mine.status_code == 200, mine.text
    assert "与其配偶系表亲" not in mine.text and str(judge.id) not in mine.text
    declared, team = mine.json()["items"]
    assert declared["action"] == "declare_conflict" and declared["redacted"] is True
    assert declared["actor_id"] is None and declared["params"] == {}
    assert team["redacted"] is True and "inspector_ids" not in team["params"]
    whole = client.get(f"/api/v1/candidates/{cand}/events", headers=admin)
    assert "与其配偶系表亲" in whole.text and str(judge.id) in whole.text
    assert not any(e["redacted"] for e in whole.json()["items"])
