"""List filters: the candidates of a selection (gate, unit, a text in the name, the day of
registration) and the selections (organization, a text in the title, the day of creation),
each with the existing filters still working, cursor pages that stay stable under a filter,
the page-size limit, and LIKE wildcards that match themselves.

The candidates: the scenario of test_review.py up to the pre-review (李明, 王芳, 赵强 and 陈静
qualified, 周国庆 failed), 陈静 then withdrawing, plus one candidate written straight to the
database in every other state, and a `not_qualified` one without any record (no gate).
"""

from __future__ import annotations

import csv
import io
import uuid
from datetime import UTC, datetime

import pytest

from tests.review.test_review import SEL, Story

SELECTIONS = "/api/v1/selections"
DAY1_LATE = datetime(2026, 1, 1, 15, 59, tzinfo=UTC)  # 2026-01-01 23:59 in China
DAY2_EARLY = datetime(2026, 1, 1, 16, 0, tzinfo=UTC)  # 2026-01-02 00:00 in China
# name: (state, unit, created_at)
INSERTED = {
    "甲被推荐": ("nominated", "机关办公室", DAY1_LATE),
    "乙不同意": ("declined", "财务部", DAY2_EARLY),
    "丙考察中": ("shortlisted", "机关办公室", None),
    "丁待决定": ("inspected", "组织部", None),
    "戊储备": ("reserve", "组织部", None),
    "己任用": ("appointed", "宣传部", None),
    "庚正式": ("confirmed", "宣传部", None),
    "100%达标": ("not_qualified", "机关办公室", None),  # no record: no gate
    "张_三": ("applicant", "机关 办公室", None),
    "Alice Smith": ("applicant", "International Office", None),
}
GATES = {
    "nomination": {"甲被推荐", "乙不同意"},
    "prereview": {"周国庆", "张_三", "Alice Smith"},
    "interview": {"李明", "王芳", "赵强", "陈静"},
    "inspection": {"丙考察中"},
    "decision": {"丁待决定", "戊储备"},
    "followup": {"己任用", "庚正式"},
}


def _insert(selection_id: str, name: str, state: str, unit: str,
            created_at: datetime | None) -> str:
    from service.core.db import open_session
    from service.nomination.models import Candidate

    with open_session(write=True) as s:
        c = Candidate(selection_id=uuid.UUID(selection_id), state=state, full_name=name,
                      identity_key=uuid.uuid4().hex, profile={"full_name": name, "unit": unit})
        if created_at:
            c.created_at = created_at
        s.add(c)
        s.commit()
        return str(c.id)


@pytest.fixture
def world(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    s = Story(client, admin, make_user, login, make_selection, make_candidate).reviewing()
    s.prereview()
    r = s.act("chen", "withdraw", {"reason": "工作调动"})
    assert r.status_code == 200, r.text
    for name, (state, unit, created_at) in INSERTED.items():
        s.c[name] = _insert(s.sel, name, state, unit, created_at)
    return s


def _names(s: Story, url: str, headers: dict | None = None, **params) -> list[str]:
    """Every name the listing gives, following the cursor page by page."""
    names, cursor, seen_cursors = [], None, set()
    while True:
        r = s.client.get(url, headers=headers or s.admin,
                         params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        names += [i.get("full_name") or i.get("title") for i in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return names
        assert cursor not in seen_cursors
        seen_cursors.add(cursor)


def test_candidates_by_gate_match_the_report(world):
    s = world
    url = f"{SEL}/{s.sel}/candidates"
    for gate, expected in GATES.items():
        assert set(_names(s, url, gate=gate)) == expected, gate
    everyone = set(_names(s, url))
    assert everyone - set().union(*GATES.values()) == {"100%达标"}
    # the same rule as the exports' gate column
    r = s.get(f"{SEL}/{s.sel}/candidates.csv", params={"header": "key"})
    by_csv: dict[str, set[str]] = {}
    for row in csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"), newline="")):
        by_csv.setdefault(row["gate"], set()).add(row["full_name"])
    assert {g: n for g, n in by_csv.items() if g} == GATES
    # combined with the older filters
    assert set(_names(s, url, gate="interview", state="withdrawn")) == {"陈静"}
    assert set(_names(s, url, gate="prereview", state="not_qualified")) == {"周国庆"}
    assert set(_names(s, url, gate="interview", kind="self_application")) == {"王芳"}
    r = s.get(url, params={"gate": "trial"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.gate"


def test_candidates_by_unit_and_name(world):
    s = world
    url = f"{SEL}/{s.sel}/candidates"
    assert set(_names(s, url, unit="机关办公室")) == {"李明", "甲被推荐", "丙考察中", "100%达标"}
    assert _names(s, url, unit="机关") == []  # exact, not a prefix
    assert _names(s, url, unit="财务部", state="qualified") == ["王芳"]
    assert _names(s, url, q="李") == ["李明"]
    assert _names(s, url, q="  国庆 ") == ["周国庆"]
    assert _names(s, url, q="alice") == ["Alice Smith"]  # case-insensitive
    assert _names(s, url, q="SMITH") == ["Alice Smith"]
    # LIKE wildcards match themselves
    assert _names(s, url, q="%") == ["100%达标"]
    assert _names(s, url, q="_") == ["张_三"]
    assert _names(s, url, q="0%达") == ["100%达标"]
    assert _names(s, url, q="张_") == ["张_三"]
    assert _names(s, url, q="\\") == []
    assert _names(s, url, q="/") == []
    assert s.get(url, params={"q": ""}).status_code == 422
    assert s.get(url, params={"q": "x" * 101}).status_code == 422


def test_candidates_by_day_of_registration_in_china(world):
    s = world
    url = f"{SEL}/{s.sel}/candidates"
    assert _names(s, url, created_to="2026-01-01") == ["甲被推荐"]
    assert _names(s, url, created_from="2026-01-02", created_to="2026-01-02") == ["乙不同意"]
    assert _names(s, url, created_from="2026-01-01", created_to="2026-01-02") == [
        "甲被推荐", "乙不同意"]
    later = set(_names(s, url, created_from="2026-01-03"))
    assert "甲被推荐" not in later and "乙不同意" not in later and "李明" in later
    r = s.get(url, params={"created_from": "2026-01-02", "created_to": "2026-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.created_to"
    assert s.get(url, params={"created_from": "2026-13-01"}).status_code == 422


def test_candidate_pages_are_stable_under_a_filter_and_limited(world):
    s = world
    url = f"{SEL}/{s.sel}/candidates"
    whole = _names(s, url, gate="interview", limit=200)
    assert len(whole) == 4
    for size in (1, 2, 3):
        assert _names(s, url, gate="interview", limit=size) == whole
    paged = _names(s, url, unit="机关办公室", limit=1)
    assert paged == _names(s, url, unit="机关办公室") and len(paged) == len(set(paged)) == 4
    # a page, then a new candidate at the gate: the next page goes on after the first
    first = s.get(url, params={"gate": "decision", "limit": 1}).json()
    _insert(s.sel, "辛新到", "inspected", "组织部", None)
    rest = s.get(url, params={"gate": "decision", "limit": 5,
                              "cursor": first["next_cursor"]}).json()
    names = [i["full_name"] for i in first["items"] + rest["items"]]
    assert names == ["丁待决定", "戊储备", "辛新到"]
    for bad in (0, 201, -1):
        r = s.get(url, params={"limit": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"
    assert s.get(url, params={"limit": 200}).status_code == 200
    assert s.get(url, params={"cursor": "not-a-cursor"}).json()["code"] == "invalid_cursor"


def test_candidate_filters_never_widen_what_a_role_sees(world):
    s = world
    url = f"{SEL}/{s.sel}/candidates"
    # 王芳 with her own account: herself only, whatever the filter
    assert _names(s, url, s.wang_user) == ["王芳"]
    assert _names(s, url, s.wang_user, gate="interview") == ["王芳"]
    assert _names(s, url, s.wang_user, q="李") == []
    assert _names(s, url, s.wang_user, unit="机关办公室") == []


# ---------------------------------------------------------------- selections
@pytest.fixture
def selections(make_selection) -> dict[str, str]:
    """Five selections of three organizations; two created on known days."""
    from service.core.db import open_session
    from service.selection.models import Selection

    made = {}
    for title, org in (("第一党支部书记公开选拔", "机关第一党支部"),
                       ("第二党支部书记公开选拔", "机关第二党支部"),
                       ("100%覆盖_试点选拔", "机关第一党支部"),
                       ("Pilot Selection", "International Office"),
                       ("第三党支部书记公开选拔", "机关第三党支部")):
        made[title] = make_selection(title=title, organization=org)["id"]
    with open_session(write=True) as s:
        for title, at in (("第二党支部书记公开选拔", DAY1_LATE), ("Pilot Selection", DAY2_EARLY)):
            sel = s.get(Selection, uuid.UUID(made[title]))
            sel.created_at = at
            s.add(sel)
        s.commit()
    return made


def _titles(client, headers, **params) -> list[str]:
    titles, cursor = [], None
    while True:
        r = client.get(SELECTIONS, headers=headers,
                       params={**params, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200, r.text
        body = r.json()
        titles += [i["title"] for i in body["items"]]
        if not (cursor := body["next_cursor"]):
            return titles


def test_selections_by_organization_title_and_day(client, admin, selections):
    assert set(_titles(client, admin, organization="机关第一党支部")) == {
        "第一党支部书记公开选拔", "100%覆盖_试点选拔"}
    assert _titles(client, admin, organization="机关") == []
    assert set(_titles(client, admin, q="党支部书记")) == {
        "第一党支部书记公开选拔", "第二党支部书记公开选拔", "第三党支部书记公开选拔"}
    assert _titles(client, admin, q="pilot") == ["Pilot Selection"]
    assert _titles(client, admin, q="%") == ["100%覆盖_试点选拔"]
    assert _titles(client, admin, q="_") == ["100%覆盖_试点选拔"]
    assert _titles(client, admin, q="第一", organization="机关第一党支部") == ["第一党支部书记公开选拔"]
    assert _titles(client, admin, created_to="2026-01-01") == ["第二党支部书记公开选拔"]
    assert _titles(client, admin, created_from="2026-01-02", created_to="2026-01-02") == [
        "Pilot Selection"]
    assert _titles(client, admin, created_from="2026-01-01", created_to="2026-01-02") == [
        "Pilot Selection", "第二党支部书记公开选拔"]  # newest first
    # the state filter still works, alone and combined
    assert len(_titles(client, admin, state="drafting")) == 5
    assert _titles(client, admin, state="publicizing", q="党支部") == []
    r = client.get(SELECTIONS, headers=admin,
                   params={"created_from": "2026-02-01", "created_to": "2026-01-01"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.created_to"
    # the first and the last day a date can be bound nothing (their start in UTC is beyond
    # what a time holds) and answer, never 500
    everything = set(_titles(client, admin))
    assert set(_titles(client, admin, created_from="0001-01-01")) == everything
    assert set(_titles(client, admin, created_to="9999-12-31")) == everything


def test_selection_pages_are_stable_under_a_filter_and_limited(client, admin, selections):
    whole = _titles(client, admin, q="选拔")
    assert len(whole) == 4
    for size in (1, 2, 3):
        assert _titles(client, admin, q="选拔", limit=size) == whole
    for bad in (0, 201):
        r = client.get(SELECTIONS, headers=admin, params={"limit": bad})
        assert r.status_code == 422 and r.json()["errors"][0]["field"] == "query.limit"


def test_selection_filters_never_widen_what_a_role_sees(client, as_role, selections):
    judge = as_role("judge")  # every selection is drafting: the admin's alone
    assert _titles(client, judge, organization="机关第一党支部") == []
    assert _titles(client, judge, q="选拔") == []


def test_every_list_filter_is_documented_with_an_example():
    from service.main import app

    doc = app.openapi()["paths"]
    for path, names in (
            ("/api/v1/selections/{selection_id}/candidates",
             ("state", "kind", "eligible", "gate", "unit", "q", "created_from", "created_to")),
            ("/api/v1/selections", ("state", "organization", "q", "created_from",
                                    "created_to"))):
        params = {p["name"]: p for p in doc[path]["get"]["parameters"]}
        for name in names:
            p = params[name]
            assert p.get("description"), (path, name)
            assert p["schema"].get("examples"), (path, name)
        limit = params["limit"]["schema"]
        assert (limit["minimum"], limit["maximum"]) == (1, 200)
