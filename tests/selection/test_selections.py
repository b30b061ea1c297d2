"""Selections (step 1, the job description): create, validate, list, read, edit, and who
may see what."""

from __future__ import annotations

import base64
import copy
import json
import uuid

import pytest
from sqlmodel import select

from service.core.db import open_session
from service.record.models import Event
from service.selection.models import Selection

BASE = "/api/v1/selections"
PROBLEM = "application/problem+json"

BODY = {
    "title": "第二党支部书记公开选拔",
    "organization": "机关第二党支部",
    "job_description": {"duties": ["主持支部全面工作"]},
}


def _etag(sel_id: str, version: int) -> str:
    return f'"selection-{uuid.UUID(sel_id).hex}-v{version}"'


def _db_events(subject_id: str) -> list[Event]:
    with open_session() as s:
        return list(s.exec(select(Event).where(Event.subject_id == uuid.UUID(subject_id))
                           .order_by(Event.seq)))


def _db_selection(sel_id: str) -> Selection:
    with open_session() as s:
        return s.get(Selection, uuid.UUID(sel_id))


def _publish(client, admin, sel_id: str):
    r = client.post(f"{BASE}/{sel_id}/actions/publish", json={}, headers=admin)
    assert r.status_code == 200, r.text
    return r


def _assert_validation_problem(r, field: str) -> dict:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["status"] == 422
    fields = [e["field"] for e in body["errors"]]
    assert field in fields, fields
    return body


# ---------------------------------------------------------------- create
def test_create_returns_201_with_location_etag_and_drafting(client, admin):
    r = client.post(BASE, json=BODY, headers=admin)
    assert r.status_code == 201, r.text
    sel = r.json()
    assert r.headers["location"] == f"{BASE}/{sel['id']}"
    assert r.headers["etag"] == _etag(sel["id"], 1)
    assert sel["state"] == "drafting"
    assert sel["version"] == 1
    assert sel["title"] == BODY["title"]
    assert sel["posts"] == 1
    assert sel["publicity_start_on"] is None and sel["publicity_end_on"] is None
    # The Location can be followed.
    r2 = client.get(r.headers["location"], headers=admin)
    assert r2.status_code == 200
    assert r2.json() == sel
    # It is stored and its creation recorded.
    assert _db_selection(sel["id"]).state == "drafting"
    events = _db_events(sel["id"])
    assert [e.action for e in events] == ["create"]
    assert events[0].to_state == "drafting"


def test_create_fills_defaults_from_settings(client, admin):
    r = client.post(BASE, json=BODY, headers=admin)
    assert r.status_code == 201, r.text
    sel = r.json()
    settings = sel["settings"]
    assert settings["publicity_working_days"] == 5
    assert settings["min_judges"] == 7
    assert settings["candidates_per_post"] == 3
    assert settings["trial_months"] == 12
    assert settings["min_inspectors"] == 2
    assert sum(c["weight"] for c in settings["interview_criteria"]) == 100
    requirements = sel["job_description"]["requirements"]
    assert requirements["min_party_years"] == 1
    assert len(sel["job_description"]["judged_requirements"]) == 7
    # The defaults are stored, not only shown.
    stored = _db_selection(sel["id"])
    assert stored.settings["publicity_working_days"] == 5
    assert stored.settings["min_judges"] == 7
    assert stored.job_description["requirements"]["min_party_years"] == 1


def test_create_keeps_given_settings(client, admin):
    body = {**BODY, "settings": {"min_judges": 9, "publicity_working_days": 7},
            "job_description": {"duties": ["x"], "requirements": {"min_party_years": 3}}}
    r = client.post(BASE, json=body, headers=admin)
    assert r.status_code == 201, r.text
    sel = r.json()
    assert sel["settings"]["min_judges"] == 9
    assert sel["settings"]["publicity_working_days"] == 7
    assert sel["settings"]["candidates_per_post"] == 3
    assert sel["job_description"]["requirements"]["min_party_years"] == 3


def _without(key):
    body = copy.deepcopy(BODY)
    del body[key]
    return body


def _with(**kw):
    body = copy.deepcopy(BODY)
    body.update(kw)
    return body


BAD_BODIES = {
    "missing title": (_without("title"), "body.title"),
    "empty duties": (_with(job_description={"duties": []}), "body.job_description.duties"),
    "blank duty": (_with(job_description={"duties": ["   "]}),
                   "body.job_description.duties.0"),
    "weights not 100": (
        _with(settings={"interview_criteria": [
            {"key": "a", "label": "A", "weight": 50}, {"key": "b", "label": "B", "weight": 40},
        ]}),
        "body.settings.interview_criteria",
    ),
    "even min_judges": (_with(settings={"min_judges": 8}), "body.settings"),
    "unknown field": (_with(colour="red"), "body.colour"),
    "unknown nested field": (_with(job_description={"duties": ["x"], "dutys": ["y"]}),
                             "body.job_description.dutys"),
    "title too long": (_with(title="书" * 201), "body.title"),
    "duty too long": (_with(job_description={"duties": ["x" * 2001]}),
                      "body.job_description.duties.0"),
    "posts not an int": (_with(posts="many"), "body.posts"),
    "posts zero": (_with(posts=0), "body.posts"),
    "title a number": (_with(title=12), "body.title"),
    "duties a string": (_with(job_description={"duties": "主持工作"}),
                        "body.job_description.duties"),
    "min_party_years negative": (
        _with(job_description={"duties": ["x"], "requirements": {"min_party_years": -1}}),
        "body.job_description.requirements.min_party_years",
    ),
    "unknown education": (
        _with(job_description={"duties": ["x"], "requirements": {"min_education": "phd"}}),
        "body.job_description.requirements.min_education",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES))
def test_create_refuses_invalid_input(client, admin, case):
    body, field = BAD_BODIES[case]
    r = client.post(BASE, json=body, headers=admin)
    _assert_validation_problem(r, field)
    with open_session() as s:
        assert s.exec(select(Selection)).first() is None


def test_create_refuses_a_body_that_is_not_json(client, admin):
    r = client.post(BASE, content=b"{title: oops", headers={**admin,
                                                           "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == "validation_error"
    assert body["errors"] and body["errors"][0]["type"] == "json_invalid"
    assert body["errors"][0]["field"].startswith("body")


def test_weights_error_message_names_the_total(client, admin):
    body, _ = BAD_BODIES["weights not 100"]
    r = client.post(BASE, json=body, headers=admin)
    assert r.status_code == 422
    assert "90" in json.dumps(r.json()["errors"], ensure_ascii=False)


# ---------------------------------------------------------------- list and pages
def test_list_pages_through_everything_once_in_a_stable_order(client, admin, make_selection):
    created = [make_selection(title=f"选拔{i}")["id"] for i in range(5)]
    seen, pages, cursor = [], 0, None
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = client.get(BASE, params=params, headers=admin)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["limit"] == 2
        assert len(page["items"]) <= 2
        seen += [s["id"] for s in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert pages < 10, "pagination does not end"
    assert pages == 3
    assert len(seen) == len(set(seen)) == 5
    assert seen == list(reversed(created)), "newest first"
    # The same walk again gives the same order.
    r = client.get(BASE, params={"limit": 200}, headers=admin)
    assert [s["id"] for s in r.json()["items"]] == seen
    assert r.json()["next_cursor"] is None


def test_list_filters_by_state(client, admin, make_selection):
    a = make_selection(title="A")["id"]
    b = make_selection(title="B")["id"]
    _publish(client, admin, b)
    r = client.get(BASE, params={"state": "publicizing"}, headers=admin)
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == [b]
    r = client.get(BASE, params={"state": "drafting"}, headers=admin)
    assert [s["id"] for s in r.json()["items"]] == [a]
    r = client.get(BASE, params={"state": "closed"}, headers=admin)
    assert r.json()["items"] == []


def test_list_refuses_an_unknown_state_and_bad_limits(client, admin):
    _assert_validation_problem(client.get(BASE, params={"state": "nonsense"}, headers=admin),
                               "query.state")
    _assert_validation_problem(client.get(BASE, params={"limit": 0}, headers=admin),
                               "query.limit")
    _assert_validation_problem(client.get(BASE, params={"limit": 201}, headers=admin),
                               "query.limit")


def _b64(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


GARBAGE_CURSORS = {
    "not base64": "!!!not-a-cursor!!!",
    "base64 of text": _b64("hello")[:-1] + "A",
    "not a list": _b64({"a": 1}),
    "wrong length": _b64(["2024-01-01T00:00:00+00:00"]),
    "bad date": _b64(["yesterday", str(uuid.uuid4())]),
    "bad uuid": _b64(["2024-01-01T00:00:00+00:00", "not-a-uuid"]),
    "numbers": _b64([1, 2]),
    "naive date": _b64(["2024-01-01T00:00:00", str(uuid.uuid4())]),
}


@pytest.mark.parametrize("case", list(GARBAGE_CURSORS))
def test_a_garbage_cursor_is_invalid_cursor(client, admin, make_selection, case):
    make_selection()
    r = client.get(BASE, params={"cursor": GARBAGE_CURSORS[case]}, headers=admin)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "invalid_cursor"
    assert r.json()["errors"][0]["field"] == "query.cursor"


# ---------------------------------------------------------------- read
def test_get_unknown_selection_is_404(client, admin):
    missing = uuid.uuid4()
    r = client.get(f"{BASE}/{missing}", headers=admin)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "selection_not_found"
    assert str(missing) in r.json()["detail"]


def test_reading_needs_a_token(client, make_selection):
    sel = make_selection()
    r = client.get(f"{BASE}/{sel['id']}")
    assert r.status_code == 401
    assert r.headers["content-type"].startswith(PROBLEM)
    r = client.get(BASE, headers={"Authorization": "Bearer nonsense"})
    assert r.status_code == 401


# ---------------------------------------------------------------- edit
def test_patch_while_drafting_changes_fields_and_records_the_edit(client, admin, make_selection):
    sel = make_selection()
    new_jd = {"duties": ["新的职责一", "新的职责二"], "requirements": {"min_party_years": 2}}
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "新标题", "posts": 2,
                                                  "job_description": new_jd},
                     headers={**admin, "If-Match": _etag(sel["id"], 1)})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["title"] == "新标题"
    assert out["posts"] == 2
    assert out["job_description"]["duties"] == ["新的职责一", "新的职责二"]
    assert out["job_description"]["requirements"]["min_party_years"] == 2
    assert out["version"] == 2
    assert r.headers["etag"] == _etag(sel["id"], 2)
    # What a later reader sees.
    r = client.get(f"{BASE}/{sel['id']}", headers=admin)
    assert r.json()["title"] == "新标题" and r.json()["version"] == 2
    assert r.headers["etag"] == _etag(sel["id"], 2)
    # The record.
    events = _db_events(sel["id"])
    assert [e.action for e in events] == ["create", "edit"]
    edit = events[1]
    assert edit.from_state == edit.to_state == "drafting"
    changes = edit.params["changes"]
    assert changes["title"] == {"before": sel["title"], "after": "新标题"}
    assert changes["posts"] == {"before": 1, "after": 2}
    assert changes["job_description"]["after"]["duties"] == ["新的职责一", "新的职责二"]
    assert changes["job_description"]["before"]["duties"] == sel["job_description"]["duties"]
    assert "organization" not in changes
    assert edit.prev_hash == events[0].hash


def test_patch_without_changes_writes_nothing(client, admin, make_selection):
    sel = make_selection()
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": sel["title"]}, headers=admin)
    assert r.status_code == 200
    assert r.json()["version"] == 1
    assert [e.action for e in _db_events(sel["id"])] == ["create"]


def test_patch_with_a_stale_if_match_is_412_and_changes_nothing(client, admin, make_selection):
    sel = make_selection()
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "第一次"}, headers=admin)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "第二次"},
                     headers={**admin, "If-Match": _etag(sel["id"], 1)})
    assert r.status_code == 412, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "precondition_failed"
    assert r.json()["details"]["current_etag"] == _etag(sel["id"], 2)
    assert r.headers["etag"] == _etag(sel["id"], 2)
    stored = _db_selection(sel["id"])
    assert stored.title == "第一次" and stored.version == 2
    assert [e.action for e in _db_events(sel["id"])] == ["create", "edit"]


def test_patch_with_star_or_current_if_match_succeeds(client, admin, make_selection):
    sel = make_selection()
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "一"},
                     headers={**admin, "If-Match": "*"})
    assert r.status_code == 200
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "二"},
                     headers={**admin, "If-Match": f'"other", {_etag(sel["id"], 2)}'})
    assert r.status_code == 200
    assert r.json()["version"] == 3


def test_patch_after_publish_is_409(client, admin, make_selection):
    sel = make_selection()
    _publish(client, admin, sel["id"])
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "太晚了"}, headers=admin)
    assert r.status_code == 409, r.text
    assert r.json()["code"] == "selection_not_editable"
    assert r.json()["details"]["state"] == "publicizing"
    stored = _db_selection(sel["id"])
    assert stored.title == sel["title"] and stored.version == 2
    assert [e.action for e in _db_events(sel["id"])] == ["create", "publish"]


@pytest.mark.parametrize("body, field", [
    ({"title": None}, "body.title"),
    ({"posts": 0}, "body.posts"),
    ({"colour": "red"}, "body.colour"),
    ({"settings": {"min_judges": 4}}, "body.settings"),
    ({"job_description": {"duties": []}}, "body.job_description.duties"),
])
def test_patch_refuses_invalid_input(client, admin, make_selection, body, field):
    sel = make_selection()
    r = client.patch(f"{BASE}/{sel['id']}", json=body, headers=admin)
    _assert_validation_problem(r, field)
    assert _db_selection(sel["id"]).version == 1
    assert len(_db_events(sel["id"])) == 1


def test_patch_of_some_settings_keeps_the_selection_publishable(client, admin, make_selection):
    """Changing one setting must not lose the others: publish still counts 5 working days."""
    sel = make_selection()
    r = client.patch(f"{BASE}/{sel['id']}", json={"settings": {"min_judges": 9}}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["min_judges"] == 9
    assert r.json()["settings"]["publicity_working_days"] == 5
    r = client.post(f"{BASE}/{sel['id']}/actions/publish", json={}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["publicity_end_on"] is not None
    assert r.json()["settings"]["min_judges"] == 9
    publish = _db_events(sel["id"])[-1]
    assert publish.action == "publish" and publish.params["working_days"] == 5


def test_patch_of_one_setting_keeps_the_other_custom_settings(client, admin, make_selection):
    sel = make_selection(settings={"publicity_working_days": 7, "candidates_per_post": 4})
    r = client.patch(f"{BASE}/{sel['id']}", json={"settings": {"min_judges": 9}}, headers=admin)
    assert r.status_code == 200, r.text
    settings = r.json()["settings"]
    assert settings["min_judges"] == 9
    assert settings["publicity_working_days"] == 7
    assert settings["candidates_per_post"] == 4
    edit = _db_events(sel["id"])[-1]
    assert edit.params["changes"]["settings"]["before"]["min_judges"] == 7
    assert edit.params["changes"]["settings"]["after"]["min_judges"] == 9
    assert edit.params["changes"]["settings"]["after"]["publicity_working_days"] == 7


def test_patch_of_part_of_the_job_description_keeps_the_rest(client, admin, make_selection):
    """PATCH merges: changing one requirement must not need the duties sent again."""
    sel = make_selection()
    r = client.patch(f"{BASE}/{sel['id']}",
                     json={"job_description": {"requirements": {"max_age": 40}}}, headers=admin)
    assert r.status_code == 200, r.text
    jd = r.json()["job_description"]
    assert jd["requirements"]["max_age"] == 40
    assert jd["requirements"]["min_party_years"] == 3
    assert jd["requirements"]["min_education"] == "bachelor"
    assert jd["duties"] == sel["job_description"]["duties"]


def test_patch_of_min_judges_is_judged_against_the_stored_settings(client, admin,
                                                                   make_selection):
    """With judges_odd false on the selection, an even min_judges is fine."""
    sel = make_selection(settings={"judges_odd": False})
    r = client.patch(f"{BASE}/{sel['id']}", json={"settings": {"min_judges": 8}}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["settings"]["min_judges"] == 8
    assert r.json()["settings"]["judges_odd"] is False
    # And the other way round: the merged result is what is checked.
    sel2 = make_selection()
    r = client.patch(f"{BASE}/{sel2['id']}", json={"settings": {"judges_odd": False}},
                     headers=admin)
    assert r.status_code == 200, r.text
    r = client.patch(f"{BASE}/{sel2['id']}", json={"settings": {"min_judges": 6}},
                     headers=admin)
    assert r.status_code == 200, r.text
    r = client.patch(f"{BASE}/{sel2['id']}", json={"settings": {"judges_odd": True}},
                     headers=admin)
    _assert_validation_problem(r, "body.settings")
    assert _db_selection(sel2["id"]).settings["judges_odd"] is False


def test_patch_needs_admin(client, admin, as_role, make_selection):
    sel = make_selection()
    _publish(client, admin, sel["id"])
    judge = as_role("judge")
    r = client.patch(f"{BASE}/{sel['id']}", json={"title": "x"}, headers=judge)
    assert r.status_code == 403
    assert r.json()["code"] == "role_not_permitted"
    assert _db_selection(sel["id"]).title == sel["title"]


# ---------------------------------------------------------------- roles
@pytest.mark.parametrize("role", ["judge", "nominator", "committee", "candidate"])
def test_a_non_admin_cannot_create(client, as_role, role):
    r = client.post(BASE, json=BODY, headers=as_role(role))
    assert r.status_code == 403, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert r.json()["code"] == "role_not_permitted"
    with open_session() as s:
        assert s.exec(select(Selection)).first() is None


def test_a_judge_sees_a_selection_only_once_published(client, admin, as_role, make_selection):
    sel = make_selection()
    judge = as_role("judge")
    r = client.get(f"{BASE}/{sel['id']}", headers=judge)
    assert r.status_code == 404
    assert r.json()["code"] == "selection_not_found"
    assert client.get(BASE, headers=judge).json()["items"] == []
    r = client.get(f"{BASE}/{sel['id']}/events", headers=judge)
    assert r.status_code == 404
    _publish(client, admin, sel["id"])
    r = client.get(f"{BASE}/{sel['id']}", headers=judge)
    assert r.status_code == 200
    assert r.json()["state"] == "publicizing"
    assert [s["id"] for s in client.get(BASE, headers=judge).json()["items"]] == [sel["id"]]


def test_a_candidate_sees_only_selections_they_stand_in(
    client, admin, make_user, login, make_selection, make_candidate
):
    mine = make_selection(title="我的")
    other = make_selection(title="别人的")
    # Not publicized any more and not theirs (whether a candidate may browse selections
    # open for application is left to the announcement's own tests).
    cancelled_other = make_selection(title="已取消的别人的")
    _publish(client, admin, cancelled_other["id"])
    r = client.post(f"{BASE}/{cancelled_other['id']}/actions/cancel", json={"reason": "取消"},
                    headers=admin)
    assert r.status_code == 200, r.text
    user, pw = make_user("candidate")
    headers = login(user.username, pw)
    make_candidate(mine["id"], user_id=user.id)
    make_candidate(other["id"])  # someone else's candidacy
    r = client.get(BASE, headers=headers)
    assert r.status_code == 200
    assert [s["id"] for s in r.json()["items"]] == [mine["id"]]
    assert client.get(f"{BASE}/{mine['id']}", headers=headers).status_code == 200
    for sel in (other, cancelled_other):
        r = client.get(f"{BASE}/{sel['id']}", headers=headers)
        assert r.status_code == 404
        assert r.json()["code"] == "selection_not_found"
