"""Every error is application/problem+json with a stable code; bad input is 4xx, never 500."""

from __future__ import annotations

import json
import uuid
from datetime import date, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from service.core import calendar as workcal
from service.core.clock import real_clock
from service.core.db import open_session
from service.record.models import Event
from service.selection.models import Selection

SEL = "/api/v1/selections"
PROBLEM = "application/problem+json"


@pytest.fixture
def raw():
    """A client that returns the 500 response instead of raising the server's exception."""
    from service.main import app

    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def _problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith(PROBLEM), r.headers["content-type"]
    body = r.json()
    for key in ("type", "title", "status", "detail", "code"):
        assert key in body, body
    assert body["status"] == status
    assert body["type"].endswith("/" + body["code"])
    if code:
        assert body["code"] == code, body
    return body


def _versions() -> list[tuple[uuid.UUID, int, str]]:
    with open_session() as s:
        return [(x.id, x.version, x.state) for x in s.exec(select(Selection))]


def _event_count() -> int:
    with open_session() as s:
        return len(list(s.exec(select(Event))))


# ---------------------------------------------------------------- routing
@pytest.mark.parametrize("path", ["/nope", "/api/v1/nope", "/api/v2/selections",
                                  "/api/v1/selections/x/y/z"])
def test_unknown_route_is_a_404_problem(raw, admin, path):
    body = _problem(raw.get(path, headers=admin), 404, "not_found")
    assert body["instance"] == path
    assert path in body["detail"]


def test_unknown_route_needs_no_login_to_be_a_problem(raw):
    _problem(raw.get("/definitely/not/here"), 404, "not_found")


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", SEL, "POST"),
    ("PUT", SEL, "POST"),
    ("DELETE", f"{SEL}/{uuid.uuid4()}", "GET"),
    ("GET", f"{SEL}/{uuid.uuid4()}/actions/publish", "POST"),
])
def test_wrong_method_is_a_405_problem(raw, admin, method, path, allowed):
    r = raw.request(method, path, headers=admin)
    _problem(r, 405, "method_not_allowed")
    assert allowed in r.headers["allow"]


def test_missing_or_bad_token_is_a_401_problem(raw):
    r = raw.get(SEL)
    _problem(r, 401, "not_authenticated")
    assert r.headers["www-authenticate"] == "Bearer"
    _problem(raw.get(SEL, headers={"Authorization": "Bearer abc.def.ghi"}), 401, "invalid_token")


# ---------------------------------------------------------------- paths and queries
@pytest.mark.parametrize("bad", ["not-a-uuid", "123", "0" * 33, "%00", "ä"])
def test_invalid_uuid_in_path_is_422(raw, admin, bad):
    for path in (f"{SEL}/{bad}", f"{SEL}/{bad}/actions", f"/api/v1/candidates/{bad}"):
        body = _problem(raw.get(path, headers=admin), 422, "validation_error")
        assert body["errors"][0]["field"] in ("path.selection_id", "path.candidate_id")


def test_invalid_uuid_in_an_action_path_is_422(raw, admin):
    body = _problem(raw.post(f"{SEL}/xyz/actions/publish", json={}, headers=admin), 422,
                    "validation_error")
    assert body["errors"][0]["field"] == "path.selection_id"


def test_overlong_action_name_is_422(raw, admin, make_selection):
    sel = make_selection()
    body = _problem(raw.post(f"{SEL}/{sel['id']}/actions/{'a' * 65}", json={}, headers=admin),
                    422, "validation_error")
    assert body["errors"][0]["field"] == "path.action"


@pytest.mark.parametrize("query, field", [
    ({"limit": "99999999999999999999999999999"}, "query.limit"),
    ({"limit": "-1"}, "query.limit"),
    ({"limit": "abc"}, "query.limit"),
    ({"limit": "1e3"}, "query.limit"),
    ({"cursor": "x" * 501}, "query.cursor"),
])
def test_bad_query_values_are_422(raw, admin, query, field):
    # a cursor the service cannot have issued is `invalid_cursor`, whatever is wrong with it
    code = "invalid_cursor" if field == "query.cursor" else "validation_error"
    body = _problem(raw.get(SEL, params=query, headers=admin), 422, code)
    assert field in [e["field"] for e in body["errors"]]


# ---------------------------------------------------------------- bodies
def _post(raw, headers, path, content: bytes, content_type="application/json"):
    return raw.post(path, content=content, headers={**headers, "Content-Type": content_type})


@pytest.mark.parametrize("content", [
    b"{", b"{title: 1}", b"{'title': 'x'}", b'{"title": "x",}', b"\xff\xfe", b"NaN-ish",
])
def test_malformed_json_is_422(raw, admin, content):
    body = _problem(_post(raw, admin, SEL, content), 422, "validation_error")
    assert body["errors"]
    assert _versions() == []


@pytest.mark.parametrize("content", [b"[" * 100_000 + b"]" * 100_000, b"\xff\xfe\x00",
                                     b"\x00\x00\x00{"])
def test_an_unreadable_body_is_refused_not_crashed(raw, admin, content):
    r = _post(raw, admin, SEL, content)
    assert 400 <= r.status_code < 500, r.status_code
    assert r.headers["content-type"].startswith(PROBLEM)
    assert _versions() == []


@pytest.mark.parametrize("content", [b"null", b"[]", b"[{}]", b'"text"', b"42", b"true"])
@pytest.mark.parametrize("path", [SEL, "PATCH"])
def test_a_body_that_is_not_an_object_is_422(raw, admin, make_selection, content, path):
    if path == "PATCH":
        sel = make_selection()
        r = raw.patch(f"{SEL}/{sel['id']}", content=content,
                      headers={**admin, "Content-Type": "application/json"})
    else:
        r = _post(raw, admin, SEL, content)
    body = _problem(r, 422, "validation_error")
    assert body["errors"][0]["field"] == "body"


def test_form_or_text_instead_of_json_is_422(raw, admin):
    _problem(_post(raw, admin, SEL, b"title=x", "application/x-www-form-urlencoded"), 422,
             "validation_error")
    _problem(_post(raw, admin, SEL, b'{"title": "x"}', "text/plain"), 422, "validation_error")
    assert _versions() == []


def _selection_body(**kw):
    body = {"title": "t", "organization": "o", "job_description": {"duties": ["x"]}}
    body.update(kw)
    return body


@pytest.mark.parametrize("body, field", [
    (_selection_body(posts=10 ** 40), "body.posts"),
    (_selection_body(posts=-(10 ** 40)), "body.posts"),
    (_selection_body(posts=1.5), "body.posts"),
    (_selection_body(posts=None), "body.posts"),
    (_selection_body(posts=[1]), "body.posts"),
    (_selection_body(title=None), "body.title"),
    (_selection_body(title=["t"]), "body.title"),
    (_selection_body(title={"zh": "t"}), "body.title"),
    (_selection_body(job_description=None), "body.job_description"),
    (_selection_body(job_description=[]), "body.job_description"),
    (_selection_body(job_description=["x"]), "body.job_description"),
    (_selection_body(job_description={"duties": None}), "body.job_description.duties"),
    (_selection_body(job_description={"duties": [None]}), "body.job_description.duties.0"),
    (_selection_body(job_description={"duties": [{"a": 1}]}), "body.job_description.duties.0"),
    (_selection_body(job_description={"duties": ["x"] * 51}), "body.job_description.duties"),
    (_selection_body(job_description={"duties": ["x"], "requirements": []}),
     "body.job_description.requirements"),
    (_selection_body(job_description={"duties": ["x"],
                                      "requirements": {"max_age": 10 ** 30}}),
     "body.job_description.requirements.max_age"),
    (_selection_body(settings=None), "body.settings"),
    (_selection_body(settings=[]), "body.settings"),
    (_selection_body(settings={"min_judges": 10 ** 30}), "body.settings.min_judges"),
    (_selection_body(settings={"interview_criteria": []}), "body.settings.interview_criteria"),
    (_selection_body(settings={"interview_criteria": [None]}),
     "body.settings.interview_criteria.0"),
])
def test_wrong_shapes_and_sizes_are_422(raw, admin, body, field):
    r = raw.post(SEL, json=body, headers=admin)
    body = _problem(r, 422, "validation_error")
    assert field in [e["field"] for e in body["errors"]], body["errors"]
    assert _versions() == []


def test_infinite_numbers_are_422(raw, admin):
    r = _post(raw, admin, SEL, b'{"title": "t", "organization": "o", "posts": 1e400,'
                               b' "job_description": {"duties": ["x"]}}')
    body = _problem(r, 422, "validation_error")
    assert "body.posts" in [e["field"] for e in body["errors"]]


@pytest.mark.parametrize("content, field", [
    (b"[]", "body"),
    (b'{"reason": "r", "params": null}', "body.params"),
    (b'{"reason": "r", "params": []}', "body.params"),
    (b'{"reason": "r", "params": "x"}', "body.params"),
    (b'{"reason": 123}', "body.reason"),
    (b'{"reason": ["r"]}', "body.reason"),
    (b'{"reason": {"r": 1}}', "body.reason"),
    (b'{"reason": "' + b"r" * 2001 + b'"}', "body.reason"),
])
def test_bad_action_bodies_are_422_and_change_nothing(raw, admin, make_selection, content, field):
    sel = make_selection()
    before, events = _versions(), _event_count()
    r = _post(raw, admin, f"{SEL}/{sel['id']}/actions/cancel", content)
    body = _problem(r, 422, "validation_error")
    assert field in [e["field"] for e in body["errors"]]
    assert _versions() == before
    assert _event_count() == events


@pytest.mark.parametrize("params, field", [
    ({"working_days": 10 ** 30}, "body.params.working_days"),
    ({"working_days": -(10 ** 30)}, "body.params.working_days"),
    ({"working_days": None, "start_on": 10 ** 20}, "body.params.start_on"),
    ({"start_on": []}, "body.params.start_on"),
    ({"start_on": "2024-02-30"}, "body.params.start_on"),
])
def test_bad_publish_params_are_422(raw, admin, make_selection, params, field):
    sel = make_selection()
    r = raw.post(f"{SEL}/{sel['id']}/actions/publish", json={"params": params}, headers=admin)
    body = _problem(r, 422, "validation_error")
    assert field in [e["field"] for e in body["errors"]]
    assert _versions() == [(uuid.UUID(sel["id"]), 1, "drafting")]


def _far(days: int) -> str:
    return (real_clock().today() + timedelta(days=days)).isoformat()


@pytest.mark.parametrize("start_on", ["9999-12-31", "9999-12-24", "9997-06-30", "3000-01-01",
                                      _far(367)])
def test_publish_far_in_the_future_is_422_not_500(raw, admin, make_selection, start_on):
    """Dates up to the end of the calendar are refused clearly, never a crash."""
    sel = make_selection()
    r = raw.post(f"{SEL}/{sel['id']}/actions/publish", json={"params": {"start_on": start_on}},
                 headers=admin)
    body = _problem(r, 422)
    assert body["code"] in ("start_too_far", "period_out_of_range")
    assert "body.params.start_on" in [e["field"] for e in body.get("errors") or []] \
        or body["code"] == "period_out_of_range"
    assert _versions() == [(uuid.UUID(sel["id"]), 1, "drafting")]
    assert _event_count_of("publish") == 0


def _event_count_of(action: str) -> int:
    with open_session() as s:
        return len(list(s.exec(select(Event).where(Event.action == action))))


def test_publish_within_a_year_works_and_warns_beyond_the_official_calendar(
    raw, admin, make_selection
):
    sel = make_selection()
    start = _far(360)
    r = raw.post(f"{SEL}/{sel['id']}/actions/publish", json={"params": {"start_on": start}},
                 headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["publicity_start_on"] == start
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.action == "publish")).one()
    end = date.fromisoformat(r.json()["publicity_end_on"])
    if workcal.day_info(end, {}).source == "weekend_fallback":
        assert ev.params["calendar_fallback_years"], "a date beyond the official calendar"
        assert r.json()["warnings"], "a date beyond the official calendar must say so"


def test_null_in_patch_is_422_and_keeps_the_field(raw, admin, make_selection):
    sel = make_selection()
    for field in ("title", "organization", "posts", "job_description", "settings"):
        r = raw.patch(f"{SEL}/{sel['id']}", json={field: None}, headers=admin)
        body = _problem(r, 422, "validation_error")
        assert f"body.{field}" in [e["field"] for e in body["errors"]]
    assert _versions() == [(uuid.UUID(sel["id"]), 1, "drafting")]


def test_errors_carry_the_request_id(raw, admin):
    r = raw.get("/nope", headers={**admin, "X-Request-ID": "err-123"})
    assert r.status_code == 404
    assert r.headers["x-request-id"] == "err-123"
    r = _post(raw, admin, SEL, b"{", )
    assert r.status_code == 422
    assert r.headers["x-request-id"]


def test_validation_problem_lists_every_field(raw, admin):
    r = raw.post(SEL, json={"posts": "x"}, headers=admin)
    body = _problem(r, 422, "validation_error")
    fields = {e["field"] for e in body["errors"]}
    assert {"body.title", "body.organization", "body.posts", "body.job_description"} <= fields
    assert all(e["message"] and e["type"] for e in body["errors"])
    assert "另有 3 处" in body["detail"] and "标题（body.title）" in body["detail"]
    en = raw.post(SEL, json={"posts": "x"}, headers={**admin, "Accept-Language": "en"}).json()
    assert "(and 3 more)" in en["detail"] and en["detail"].startswith("body.title: ")
    assert {e["message"] for e in en["errors"]} >= {"Field required"}
    json.dumps(body)  # serialisable as it came
