"""Step 2, publicity and nomination (两个层面的宣传发动), walked through in simulation mode
(情景模拟): the clock is set to 2026-09-30, the post is publicized for five working days over
the National Day holiday (to 2026-10-13), bodies nominate, nominees are talked to and
consent or decline, people apply themselves, and nominations close."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from service.core.clock import real_clock
from service.core.db import open_session
from service.nomination.models import Candidate
from service.record.models import Event

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
PUBLIC = "/api/v1/public/selections"
CLOCK = "/api/v1/admin/clock"
PROBLEM = "application/problem+json"
CHINA = ZoneInfo("Asia/Shanghai")

SIM_DAY = "2026-09-30"
END = "2026-10-13"
PASSWORD = "correct-horse-9"

PUBLIC_KEYS = {"id", "title", "organization", "posts", "named_posts", "duties", "experience",
               "requirements", "judged_requirements", "publicity_start_on", "publicity_end_on",
               "eligibility_reference_on", "how_to_apply"}
PERSONAL_KEYS = {"birth_date", "phone", "email", "national_id", "profile"}


# ---------------------------------------------------------------- helpers
def _national_id(birth: str, area: str = "110101", seq: str = "123") -> str:
    body = area + birth.replace("-", "") + seq
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(int(c) * w for c, w in zip(body, weights, strict=True))
    return body + "10X98765432"[total % 11]


def _bad_check_digit(nid: str) -> str:
    last = "10X98765432"
    return nid[:17] + last[(last.index(nid[17]) + 1) % 11]


LI = {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
      "education": "bachelor", "party_joined_on": "2012-07-01",
      "work_started_on": "2010-07-01", "current_post": "办公室副主任", "unit": "机关办公室",
      "email": "liming@example.cn", "phone": "13800000000",
      "national_id": _national_id("1988-05-12")}
WANG = {"full_name": "王芳", "gender": "female", "birth_date": "1990-03-08",
        "education": "master", "party_joined_on": "2014-06-01",
        "work_started_on": "2013-07-01", "current_post": "财务科科长", "unit": "财务部",
        "email": "wangfang@example.cn", "phone": "13900000001",
        "national_id": _national_id("1990-03-08", seq="246")}
ZHAO = {"full_name": "赵强", "gender": "male", "birth_date": "1992-11-20",
        "education": "bachelor", "party_joined_on": "2016-05-04",
        "work_started_on": "2015-07-01", "current_post": "团委副书记", "unit": "公司团委",
        "email": "zhaoqiang@example.cn", "phone": "13700000002"}
# 51 at the end of the period: fails max_age (45) and nothing else.
ZHOU = {"full_name": "周国庆", "gender": "male", "birth_date": "1975-01-01",
        "education": "bachelor", "party_joined_on": "2000-07-01",
        "work_started_on": "1996-07-01", "current_post": "车间主任", "unit": "一车间",
        "phone": "13600000003"}
CHEN = {"full_name": "陈静", "gender": "female", "birth_date": "1991-08-15",
        "education": "bachelor", "party_joined_on": "2015-07-01",
        "work_started_on": "2013-07-01", "current_post": "人事专员", "unit": "人力资源部",
        "email": "chenjing@example.cn", "phone": "13500000004"}
SUN = {"full_name": "孙悦", "gender": "female", "birth_date": "1993-02-14",
       "education": "master", "party_joined_on": "2017-06-30", "unit": "技术中心",
       "email": "sunyue@example.cn"}


def _nomination(profile: dict, kind: str = "party_organization", body_name: str = "机关党委",
                **extra: Any) -> dict:
    return {"kind": kind, "body_name": body_name, "nominee": profile,
            "reasons": "政治素质好，群众基础扎实", "groundwork": "走访同事8人，查阅档案，无不良记录",
            **extra}




def _body(as_role, kind: str, name: str) -> dict:
    """A nominator of this body (one per body and test): a nominator nominates only as its
    own body."""
    # kept on this test's own `as_role` (not by its id(), which a later test's may reuse
    # once this one is gone, handing it the headers of a user emptied away)
    bodies = as_role.__dict__.setdefault("nominators_by_body", {})
    if (kind, name) not in bodies:
        bodies[(kind, name)] = as_role("nominator", body=(kind, name))
    return bodies[(kind, name)]


def _nominate(client, headers, sel_id, profile, kind="party_organization", body_name="机关党委",
              status: int = 201, **extra) -> dict:
    r = client.post(f"{SEL}/{sel_id}/nominations",
                    json=_nomination(profile, kind, body_name, **extra), headers=headers)
    assert r.status_code == status, r.text
    return r.json()


def _assert_problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def _me(client, headers) -> str:
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def _set_clock(client, admin, day: str) -> dict:
    r = client.put(CLOCK, json={"day": day}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


def _advance(client, admin, days: int) -> dict:
    r = client.post(f"{CLOCK}/advance", json={"days": days}, headers=admin)
    assert r.status_code == 200, r.text
    return r.json()


def _act_selection(client, headers, sel_id, action, body=None):
    return client.post(f"{SEL}/{sel_id}/actions/{action}", json=body or {}, headers=headers)


def _act_candidate(client, headers, cand_id, action, body=None):
    return client.post(f"{CAND}/{cand_id}/actions/{action}", json=body or {}, headers=headers)


def _consent_by_admin(client, admin, cand_id) -> dict:
    r = _act_candidate(client, admin, cand_id, "consent", {"params": {
        "confirmed_by": "机关党委 张书记", "confirmed_at": "2026-09-30T08:30:00+08:00"}})
    assert r.status_code == 200, r.text
    return r.json()


def _candidate(client, headers, cand_id) -> dict:
    r = client.get(f"{CAND}/{cand_id}", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def _listing(client, headers, sel_id, **params) -> list[dict]:
    r = client.get(f"{SEL}/{sel_id}/candidates", params=params, headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _events(client, headers, path: str) -> list[dict]:
    r = client.get(f"{path}/events", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["items"]


def _actions(client, headers, path: str) -> list[str]:
    return [e["action"] for e in _events(client, headers, path)]


def _china_day(ts: str) -> date:
    return datetime.fromisoformat(ts).astimezone(CHINA).date()


def _keys(value: Any) -> set[str]:
    """Every key anywhere in a JSON document."""
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _years_ago(years: int, *, plus_days: int = 0) -> str:
    today = real_clock().today()  # Profile checks against the real date, not the simulated one
    try:
        d = today.replace(year=today.year - years)
    except ValueError:
        d = today.replace(year=today.year - years, day=28)
    return (d + timedelta(days=plus_days)).isoformat()


def _new_candidate_user(client, admin, login, username: str, email: str | None = None):
    body = {"username": username, "roles": ["candidate"], "password": PASSWORD}
    if email:
        body["email"] = email
    r = client.post("/api/v1/users", json=body, headers=admin)
    assert r.status_code == 201, r.text
    return r.json()["id"], login(username, PASSWORD)


@pytest.fixture
def published(client, admin, make_selection) -> dict:
    """The clock at 2026-09-30, a selection created and published from that day."""
    state = _set_clock(client, admin, SIM_DAY)
    assert state["simulated"] is True and state["today"] == SIM_DAY
    sel = make_selection()
    r = _act_selection(client, admin, sel["id"], "publish", {"params": {"start_on": SIM_DAY}})
    assert r.status_code == 200, r.text
    return r.json()


# ---------------------------------------------------------------- publicity
def test_publish_in_simulation_runs_over_the_national_day_holiday(client, admin, published):
    assert published["state"] == "publicizing"
    assert published["publicity_start_on"] == SIM_DAY
    assert published["publicity_end_on"] == END

    events = _events(client, admin, f"{SEL}/{published['id']}")
    assert [e["action"] for e in events] == ["create", "publish"]
    pub = events[1]
    assert (pub["from_state"], pub["to_state"]) == ("drafting", "publicizing")
    assert pub["params"]["end_on"] == END
    assert pub["params"]["first_counted_day"] == "2026-10-08"
    assert pub["params"]["calendar_fallback_years"] == []
    # Both times are recorded: the simulated day, and the real time it happened.
    assert pub["simulated_at"] is not None
    assert _china_day(pub["simulated_at"]) == date(2026, 9, 30)
    assert pub["occurred_at"] != pub["simulated_at"]
    real = datetime.fromisoformat(pub["occurred_at"])
    assert abs(datetime.now(UTC) - real) < timedelta(minutes=5)
    assert all(e["simulated_at"] is not None for e in events)


def test_the_clock_reports_the_simulated_day(client, admin, published):
    r = client.get(CLOCK, headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["simulated"] is True
    assert body["today"] == SIM_DAY
    assert abs(datetime.now(UTC) - datetime.fromisoformat(body["real_now"])) < timedelta(
        minutes=5)


# ---------------------------------------------------------------- the public announcement
def test_public_announcement_needs_no_login_and_shows_only_the_post(
        client, admin, as_role, published, make_selection):
    drafting = make_selection(title="尚在起草的选拔")
    _nominate(client, as_role("nominator"), published["id"], LI)

    r = client.get(PUBLIC)
    assert r.status_code == 200, r.text
    ids = [s["id"] for s in r.json()["items"]]
    assert ids == [published["id"]]
    assert drafting["id"] not in ids

    r = client.get(f"{PUBLIC}/{published['id']}")
    assert r.status_code == 200, r.text
    ann = r.json()
    assert set(ann) == PUBLIC_KEYS
    assert ann["title"] == "第一党支部书记公开选拔"
    assert ann["duties"] == ["主持支部全面工作", "落实党建工作责任制"]
    assert ann["requirements"]["max_age"] == 45
    assert ann["requirements"]["min_education"] == "bachelor"
    assert ann["publicity_start_on"] == SIM_DAY
    assert ann["publicity_end_on"] == END
    # in plain words: the dates as people write them and whom to contact, never an API path
    assert "2026年9月30日至2026年10月13日" in ann["how_to_apply"]
    assert "联系方式：" in ann["how_to_apply"] and "/api/" not in ann["how_to_apply"]
    # nothing about candidates or internals
    assert "李明" not in r.text and "settings" not in ann and "state" not in ann
    assert r.json() == client.get(PUBLIC).json()["items"][0]


def test_public_announcement_hides_drafting_and_unknown_selections(client, make_selection):
    drafting = make_selection()
    _assert_problem(client.get(f"{PUBLIC}/{drafting['id']}"), 404, "selection_not_found")
    _assert_problem(client.get(f"{PUBLIC}/{uuid.uuid4()}"), 404, "selection_not_found")
    _assert_problem(client.get(f"{PUBLIC}/not-a-uuid"), 422)
    assert client.get(PUBLIC).json()["items"] == []


# ---------------------------------------------------------------- nominations and the listing
def test_three_bodies_nominate_and_a_second_body_nominates_one_again(
        client, admin, as_role, published):
    sel_id = published["id"]
    nom_a = as_role("nominator")
    nom_b = _body(as_role, "administration", "行政办公会")
    nom_c = as_role("nominator")
    judge = as_role("judge")

    li = _nominate(client, nom_a, sel_id, LI, "party_organization", "机关党委")
    assert li["duplicate_of_existing"] is False
    assert li["candidate"]["state"] == "nominated"
    assert li["nomination"]["kind"] == "party_organization"
    assert li["nomination"]["nominated_by"] == _me(client, nom_a)
    wang = _nominate(client, _body(as_role, "trade_union", "公司工会"), sel_id, WANG, "trade_union", "公司工会")
    zhao = _nominate(client, _body(as_role, "youth_league", "公司团委"), sel_id, ZHAO, "youth_league", "公司团委")
    assert len({li["candidate"]["id"], wang["candidate"]["id"], zhao["candidate"]["id"]}) == 3

    r = client.post(f"{SEL}/{sel_id}/nominations",
                    json=_nomination({**LI, "phone": "13800009999"}, "administration", "行政办公会"),
                    headers=nom_b)
    assert r.status_code == 201, r.text
    again = r.json()
    assert again["duplicate_of_existing"] is True
    assert again["candidate"]["id"] == li["candidate"]["id"]
    assert r.headers["location"] == f"/api/v1/candidates/{li['candidate']['id']}"
    assert [n["kind"] for n in again["candidate"]["nominations"]] == [
        "party_organization", "administration"]
    # the first profile is kept
    assert again["candidate"]["profile"]["phone"] == LI["phone"]

    # The admin's listing: three candidates, oldest first; 李明 with two nominations.
    items = _listing(client, admin, sel_id)
    assert [c["full_name"] for c in items] == ["李明", "王芳", "赵强"]
    assert [len(c["nominations"]) for c in items] == [2, 1, 1]
    assert [(n["kind"], n["body_name"]) for n in items[0]["nominations"]] == [
        ("party_organization", "机关党委"), ("administration", "行政办公会")]
    assert items[1]["gender"] == "female" and items[1]["unit"] == "财务部"
    assert items[1]["education"] == "master" and items[1]["current_post"] == "财务科科长"
    assert all(c["state"] == "nominated" for c in items)

    # No personal data anywhere in the listing.
    r = client.get(f"{SEL}/{sel_id}/candidates", headers=admin)
    assert not _keys(r.json()) & PERSONAL_KEYS
    for p in (LI, WANG, ZHAO):
        for field in ("birth_date", "phone", "email", "national_id"):
            if p.get(field):
                assert p[field] not in r.text, field

    # Filters.
    by_kind = {k: [c["full_name"] for c in _listing(client, admin, sel_id, kind=k)]
               for k in ("party_organization", "administration", "trade_union", "youth_league",
                         "reserve_pool")}
    assert by_kind == {"party_organization": ["李明"], "administration": ["李明"],
                       "trade_union": ["王芳"], "youth_league": ["赵强"], "reserve_pool": []}
    _consent_by_admin(client, admin, wang["candidate"]["id"])
    assert [c["full_name"] for c in _listing(client, admin, sel_id, state="applicant")] == [
        "王芳"]
    assert [c["full_name"] for c in _listing(client, admin, sel_id, state="nominated")] == [
        "李明", "赵强"]
    assert [c["full_name"] for c in _listing(client, admin, sel_id, kind="trade_union",
                                             state="nominated")] == []
    _assert_problem(client.get(f"{SEL}/{sel_id}/candidates", params={"kind": "ministry"},
                               headers=admin), 422)
    _assert_problem(client.get(f"{SEL}/{sel_id}/candidates", params={"state": "happy"},
                               headers=admin), 422)

    # Who sees whom.
    assert [c["full_name"] for c in _listing(client, nom_a, sel_id)] == ["李明"]
    assert [c["full_name"] for c in _listing(
        client, _body(as_role, "trade_union", "公司工会"), sel_id)] == ["王芳"]
    assert [c["full_name"] for c in _listing(client, nom_b, sel_id)] == ["李明"]
    assert _listing(client, nom_c, sel_id) == []
    _assert_problem(client.get(f"{SEL}/{sel_id}/candidates", headers=judge), 403,
                    "role_not_permitted")
    assert client.get(f"{CAND}/{li['candidate']['id']}", headers=nom_b).status_code == 200
    _assert_problem(client.get(f"{CAND}/{wang['candidate']['id']}", headers=nom_b), 404,
                    "candidate_not_found")
    _assert_problem(client.get(f"{CAND}/{li['candidate']['id']}", headers=nom_c), 404,
                    "candidate_not_found")
    _assert_problem(client.get(f"{CAND}/{li['candidate']['id']}", headers=judge), 404)

    # The record: the first nomination creates, the second is added to the same candidate.
    events = _events(client, admin, f"{CAND}/{li['candidate']['id']}")
    assert [e["action"] for e in events] == ["nominate", "nominate"]
    assert (events[0]["from_state"], events[0]["to_state"]) == (None, "nominated")
    assert events[0]["params"]["duplicate_of_existing"] is False
    assert events[0]["params"]["kind"] == "party_organization"
    assert events[0]["actor_role"] == "nominator"
    assert events[0]["actor_id"] == _me(client, nom_a)
    assert events[1]["params"]["duplicate_of_existing"] is True
    assert events[1]["params"]["body_name"] == "行政办公会"
    assert events[1]["actor_id"] == _me(client, nom_b)
    assert all(_china_day(e["simulated_at"]) == date(2026, 9, 30) for e in events)
    assert [e["action"] for e in _events(client, admin, f"{CAND}/{wang['candidate']['id']}")] \
        == ["nominate", "consent"]


def test_the_same_person_is_recognized_by_identity_or_national_id(
        client, as_role, admin, published):
    sel_id = published["id"]
    nom = as_role("nominator")
    first = _nominate(client, nom, sel_id, {k: v for k, v in LI.items() if k != "national_id"})
    # Spaces and full-width letters do not make another person.
    same = _nominate(client, _body(as_role, "party_members_joint", "党员联名（12人）"), sel_id,
                     {**LI, "full_name": "李 明", "unit": "机关 办公室", "national_id": None},
                     "party_members_joint", "党员联名（12人）")
    assert same["duplicate_of_existing"] is True
    assert same["candidate"]["id"] == first["candidate"]["id"]
    # Same national ID, unit written differently: the same person.
    by_id_a = _nominate(client, nom, sel_id, WANG)
    by_id_b = _nominate(client, _body(as_role, "trade_union", "公司工会"), sel_id,
                        {**WANG, "unit": "公司财务部"}, "trade_union", "公司工会")
    assert by_id_b["duplicate_of_existing"] is True
    assert by_id_b["candidate"]["id"] == by_id_a["candidate"]["id"]
    # Same name and unit, another birth date: another person.
    other = _nominate(client, nom, sel_id, {**LI, "birth_date": "1989-05-12",
                                            "national_id": None})
    assert other["duplicate_of_existing"] is False
    assert other["candidate"]["id"] != first["candidate"]["id"]
    assert len(_listing(client, admin, sel_id)) == 3


# ---------------------------------------------------------------- talks with the nominee (沟通)
def test_the_nominator_records_talks_with_their_nominee(client, admin, as_role, published):
    nom = as_role("nominator")
    other = as_role("nominator")
    cand_id = _nominate(client, nom, published["id"], LI)["candidate"]["id"]
    talk = {"held_on": SIM_DAY, "channel": "in_person",
            "summary": "介绍岗位职责，本人表示愿意参选", "attitude": "willing"}

    r = client.post(f"{CAND}/{cand_id}/communications", json=talk, headers=nom)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["held_on"] == SIM_DAY and made["attitude"] == "willing"
    assert made["recorded_by"] == _me(client, nom)
    assert made["candidate_id"] == cand_id

    # another nominator cannot even see this nominee
    _assert_problem(client.post(f"{CAND}/{cand_id}/communications", json=talk, headers=other),
                    404, "candidate_not_found")
    # the simulated today is 2026-09-30: a talk on 10-01 has not happened yet
    body = _assert_problem(client.post(f"{CAND}/{cand_id}/communications",
                                       json={**talk, "held_on": "2026-10-01"}, headers=nom),
                           409, "date_in_future")
    assert "2026年9月30日" in body["detail"]
    _assert_problem(client.post(f"{CAND}/{cand_id}/communications",
                                json={**talk, "channel": "pigeon"}, headers=nom), 422)
    _assert_problem(client.post(f"{CAND}/{cand_id}/communications",
                                json={**talk, "summary": "  "}, headers=nom), 422)
    # an admin may record one too
    r = client.post(f"{CAND}/{cand_id}/communications",
                    json={**talk, "channel": "phone", "attitude": "undecided",
                          "held_on": "2026-09-29"}, headers=admin)
    assert r.status_code == 201, r.text

    listed = client.get(f"{CAND}/{cand_id}/communications", headers=nom)
    assert listed.status_code == 200, listed.text
    assert [(c["held_on"], c["channel"]) for c in listed.json()] == [
        (SIM_DAY, "in_person"), ("2026-09-29", "phone")]

    events = _events(client, admin, f"{CAND}/{cand_id}")
    assert [e["action"] for e in events] == ["nominate", "record_communication",
                                             "record_communication"]
    assert events[1]["params"]["summary"] == talk["summary"]
    assert events[1]["params"]["communication_id"] == made["id"]
    assert events[1]["actor_role"] == "nominator" and events[2]["actor_role"] == "admin"
    assert (events[1]["from_state"], events[1]["to_state"]) == ("nominated", "nominated")


# ---------------------------------------------------------------- consent and decline
def test_an_admin_records_consent_only_with_who_and_when(client, admin, as_role, published):
    cand_id = _nominate(client, as_role("nominator"), published["id"], LI)["candidate"]["id"]

    body = _assert_problem(_act_candidate(client, admin, cand_id, "consent"), 422)
    assert {e["field"] for e in body["errors"]} == {"body.params.confirmed_by",
                                                    "body.params.confirmed_at"}
    # confirmed later than the simulated now
    _assert_problem(_act_candidate(client, admin, cand_id, "consent", {"params": {
        "confirmed_by": "张书记", "confirmed_at": "2026-10-02T10:00:00+08:00"}}), 422)
    assert _candidate(client, admin, cand_id)["state"] == "nominated"

    done = _consent_by_admin(client, admin, cand_id)
    assert done["state"] == "applicant"
    events = _events(client, admin, f"{CAND}/{cand_id}")
    assert [e["action"] for e in events] == ["nominate", "consent"]
    assert (events[1]["from_state"], events[1]["to_state"]) == ("nominated", "applicant")
    assert events[1]["actor_role"] == "admin"
    assert events[1]["params"]["confirmed_by"] == "机关党委 张书记"
    # consent is given once
    _assert_problem(_act_candidate(client, admin, cand_id, "consent", {"params": {
        "confirmed_by": "张书记", "confirmed_at": "2026-09-30T08:30:00+08:00"}}),
        409, "action_not_allowed_in_state")


def test_a_nominee_with_their_own_account_consents_themselves(
        client, admin, as_role, login, published):
    sel_id = published["id"]
    user_id, chen = _new_candidate_user(client, admin, login, "chenjing", CHEN["email"])
    _, stranger = _new_candidate_user(client, admin, login, "stranger")
    nominated = _nominate(client, as_role("nominator"), sel_id, CHEN)
    cand_id = nominated["candidate"]["id"]
    assert nominated["candidate"]["user_id"] == user_id

    # they see their own record and the selection; a stranger sees neither
    assert _candidate(client, chen, cand_id)["full_name"] == "陈静"
    assert [c["id"] for c in _listing(client, chen, sel_id)] == [cand_id]
    _assert_problem(client.get(f"{CAND}/{cand_id}", headers=stranger), 404)
    _assert_problem(_act_candidate(client, stranger, cand_id, "consent"), 404)

    r = _act_candidate(client, chen, cand_id, "consent")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "applicant"
    events = _events(client, admin, f"{CAND}/{cand_id}")
    assert [e["action"] for e in events] == ["nominate", "consent"]
    assert events[1]["actor_role"] == "candidate"
    assert events[1]["actor_id"] == user_id


def test_a_nominee_declines_with_a_reason(client, admin, as_role, login, published):
    nom = as_role("nominator")
    user_id, chen = _new_candidate_user(client, admin, login, "chenjing", CHEN["email"])
    own = _nominate(client, nom, published["id"], CHEN)["candidate"]["id"]
    other = _nominate(client, nom, published["id"], ZHAO)["candidate"]["id"]

    _assert_problem(_act_candidate(client, chen, own, "decline"), 422, "reason_required")
    r = _act_candidate(client, chen, own, "decline", {"reason": "家庭原因，暂不参选"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "declined"

    _assert_problem(_act_candidate(client, admin, other, "decline"), 422, "reason_required")
    r = _act_candidate(client, admin, other, "decline", {"reason": "本人电话告知不参选"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "declined"
    # a declined nominee cannot consent afterwards
    _assert_problem(_act_candidate(client, admin, other, "consent", {"params": {
        "confirmed_by": "张书记", "confirmed_at": "2026-09-30T08:30:00+08:00"}}), 409,
        "action_not_allowed_in_state")
    # and a nominator cannot decline on the nominee's behalf
    third = _nominate(client, nom, published["id"], WANG)["candidate"]["id"]
    _assert_problem(_act_candidate(client, nom, third, "decline", {"reason": "x"}), 403)

    ev = _events(client, admin, f"{CAND}/{own}")
    assert [e["action"] for e in ev] == ["nominate", "decline"]
    assert ev[1]["reason"] == "家庭原因，暂不参选"
    assert (ev[1]["from_state"], ev[1]["to_state"]) == ("nominated", "declined")
    assert ev[1]["actor_id"] == user_id
    assert [e["action"] for e in _events(client, admin, f"{CAND}/{other}")] == [
        "nominate", "decline"]


# ---------------------------------------------------------------- self-application (报名)
def test_a_candidate_user_applies_once(client, admin, login, published):
    sel_id = published["id"]
    user_id, sun = _new_candidate_user(client, admin, login, "sunyue", SUN["email"])
    r = client.post(f"{SEL}/{sel_id}/applications",
                    json={"profile": SUN, "statement": "围绕中心抓党建"}, headers=sun)
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["duplicate_of_existing"] is False
    assert made["candidate"]["state"] == "applicant"
    assert made["candidate"]["user_id"] == user_id
    assert made["nomination"]["kind"] == "self_application"
    assert made["nomination"]["reasons"] == "围绕中心抓党建"
    cand_id = made["candidate"]["id"]

    again = client.post(f"{SEL}/{sel_id}/applications", json={"profile": SUN}, headers=sun)
    body = _assert_problem(again, 409, "already_applied")
    assert body["details"]["candidate_id"] == cand_id
    assert [c["full_name"] for c in _listing(client, admin, sel_id)] == ["孙悦"]
    ev = _events(client, admin, f"{CAND}/{cand_id}")
    assert [e["action"] for e in ev] == ["apply"]
    assert (ev[0]["from_state"], ev[0]["to_state"]) == (None, "applicant")
    assert ev[0]["actor_role"] == "candidate" and ev[0]["actor_id"] == user_id


def test_a_nominee_with_an_account_applying_consents_and_cannot_apply_twice(
        client, admin, as_role, login, published):
    sel_id = published["id"]
    user_id, chen = _new_candidate_user(client, admin, login, "chenjing", CHEN["email"])
    cand_id = _nominate(client, as_role("nominator"), sel_id, CHEN)["candidate"]["id"]

    r = client.post(f"{SEL}/{sel_id}/applications", json={"profile": CHEN}, headers=chen)
    assert r.status_code == 201, r.text
    assert r.json()["duplicate_of_existing"] is True
    assert r.json()["candidate"]["id"] == cand_id
    assert _candidate(client, admin, cand_id)["state"] == "applicant"
    assert [n["kind"] for n in _candidate(client, admin, cand_id)["nominations"]] == [
        "party_organization", "self_application"]

    _assert_problem(client.post(f"{SEL}/{sel_id}/applications", json={"profile": CHEN},
                                headers=chen), 409, "already_applied")
    ev = _events(client, admin, f"{CAND}/{cand_id}")
    assert [e["action"] for e in ev] == ["nominate", "apply", "consent"]
    assert ev[2]["params"]["via"] == "self_application"
    assert ev[2]["actor_id"] == user_id


def test_only_candidate_users_use_the_applications_endpoint(client, admin, as_role, published):
    for role in ("nominator", "admin", "judge"):
        r = client.post(f"{SEL}/{published['id']}/applications", json={"profile": SUN},
                        headers=as_role(role))
        _assert_problem(r, 403, "role_not_permitted")
    _assert_problem(client.post(f"{SEL}/{published['id']}/applications",
                                json={"profile": SUN}), 401)
    assert _listing(client, admin, published["id"]) == []


# ---------------------------------------------------------------- the eligibility report
def test_each_candidate_gets_an_eligibility_report(client, admin, as_role, published):
    nom = as_role("nominator")
    li = _nominate(client, nom, published["id"], LI)["candidate"]["id"]
    zhou = _nominate(client, _body(as_role, "administration", "行政办公会"), published["id"], ZHOU, "administration", "行政办公会")
    zhou_id = zhou["candidate"]["id"]

    rep = _candidate(client, admin, li)
    assert rep["eligible"] is True
    assert rep["eligibility"]["computed_on"] == END
    assert rep["eligibility"]["passed"] is True
    items = rep["eligibility"]["items"]
    assert [i["requirement"] for i in items] == ["min_education", "min_party_years", "max_age"]
    for i in items:
        assert {"requirement", "required", "found", "passed"} <= set(i)
        assert i["passed"] is True
    by_req = {i["requirement"]: i for i in items}
    assert by_req["max_age"]["found"] == "38 岁"  # on 2026-10-13
    assert by_req["max_age"]["required"] == "≤ 45 岁"
    assert by_req["min_education"]["found"] == "本科"
    assert by_req["min_party_years"]["found"].startswith("14")

    # the nominator sees the same report
    assert _candidate(client, _body(as_role, "administration", "行政办公会"), zhou_id)[
        "eligibility"] == zhou["candidate"]["eligibility"]
    rep = zhou["candidate"]
    assert rep["eligible"] is False and rep["eligibility"]["passed"] is False
    failed = [i["requirement"] for i in rep["eligibility"]["items"] if not i["passed"]]
    assert failed == ["max_age"]
    assert {i["requirement"]: i["found"] for i in rep["eligibility"]["items"]}["max_age"] \
        == "51 岁"

    assert [c["full_name"] for c in _listing(client, admin, published["id"], eligible=False)] \
        == ["周国庆"]
    assert [c["eligible"] for c in _listing(client, admin, published["id"])] == [True, False]
    ev = _events(client, admin, f"{CAND}/{zhou_id}")
    assert ev[0]["params"]["eligible"] is False


def test_the_eligibility_report_reads_in_the_readers_language(client, admin, as_role,
                                                              published):
    """The report is stored as codes and numbers and read in each reader's language; a
    report stored in the older form, with its texts in it, reads as it was stored."""
    nom = _body(as_role, "administration", "行政办公会")
    zhou = _nominate(client, nom, published["id"], ZHOU, "administration", "行政办公会")
    cand = zhou["candidate"]["id"]
    zh = _candidate(client, admin, cand)["eligibility"]["items"]
    en = client.get(f"{CAND}/{cand}", headers={**admin, "Accept-Language": "en"}).json()[
        "eligibility"]["items"]
    age_zh, age_en = (next(i for i in items if i["requirement"] == "max_age")
                      for items in (zh, en))
    assert (age_zh["label"], age_zh["required"], age_zh["found"]) == ("年龄", "≤ 45 岁", "51 岁")
    assert (age_en["label"], age_en["required"], age_en["found"]) == (
        "Age", "≤ 45 years old", "51 years old")
    edu_en = next(i for i in en if i["requirement"] == "min_education")
    assert edu_en["required"] == "Bachelor or above"
    with open_session() as s:
        stored = s.get(Candidate, uuid.UUID(cand)).eligibility
    assert {"requirement": "max_age", "asked": 45, "shown": 51, "passed": False} in stored["items"]

    # a report stored with its texts (both languages, or Chinese alone) is still read
    old = {**stored, "items": [
        {"requirement": "max_age", "label": "年龄", "required": "≤ 45 岁", "found": "51 岁",
         "passed": False, "label_en": "Age", "required_en": "≤ 45 years old",
         "found_en": "51 years old"},
        {"requirement": "min_education", "label": "最低学历", "required": "本科及以上",
         "found": "本科", "passed": True}]}
    with open_session(write=True) as s:
        row = s.get(Candidate, uuid.UUID(cand))
        row.eligibility = old
        s.add(row)
        s.commit()
    en = client.get(f"{CAND}/{cand}", headers={**admin, "Accept-Language": "en"}).json()[
        "eligibility"]["items"]
    assert en == [{"requirement": "max_age", "label": "Age", "required": "≤ 45 years old",
                   "found": "51 years old", "passed": False},
                  {"requirement": "min_education", "label": "最低学历", "required": "本科及以上",
                   "found": "本科", "passed": True}]
    assert _candidate(client, admin, cand)["eligibility"]["items"][0]["found"] == "51 岁"


# ---------------------------------------------------------------- refusals
def test_nominations_cannot_close_before_the_period_ends(client, admin, published):
    body = _assert_problem(_act_selection(client, admin, published["id"], "close_nominations"),
                           409, "publicity_not_ended")
    assert body["details"]["publicity_end_on"] == END
    assert body["details"]["today"] == SIM_DAY
    # still refused on the last day itself
    _advance(client, admin, 13)
    body = _assert_problem(_act_selection(client, admin, published["id"], "close_nominations"),
                           409, "publicity_not_ended")
    assert body["details"]["today"] == END
    assert _actions(client, admin, f"{SEL}/{published['id']}") == ["create", "publish"]


def test_nominations_and_applications_are_taken_only_within_the_period(
        client, admin, as_role, login, published):
    sel_id = published["id"]
    nom = as_role("nominator")
    _, chen = _new_candidate_user(client, admin, login, "chenjing", CHEN["email"])
    _nominate(client, nom, sel_id, CHEN)
    # the last day is inclusive
    assert _advance(client, admin, 13)["today"] == END
    _nominate(client, nom, sel_id, LI)
    assert _advance(client, admin, 1)["today"] == "2026-10-14"

    body = _assert_problem(client.post(f"{SEL}/{sel_id}/nominations",
                                       json=_nomination(WANG), headers=nom),
                           409, "outside_nomination_period")
    assert body["details"]["publicity_end_on"] == END
    assert body["details"]["today"] == "2026-10-14"
    _assert_problem(client.post(f"{SEL}/{sel_id}/applications", json={"profile": CHEN},
                                headers=chen), 409, "outside_nomination_period")
    assert [c["full_name"] for c in _listing(client, admin, sel_id)] == ["陈静", "李明"]


def test_nominations_on_a_drafting_selection_are_refused(client, admin, as_role,
                                                         make_selection):
    _set_clock(client, admin, SIM_DAY)
    drafting = make_selection()
    _assert_problem(client.post(f"{SEL}/{drafting['id']}/nominations", json=_nomination(LI),
                                headers=admin), 409, "nominations_closed")
    # a nominator does not even see a drafting selection
    _assert_problem(client.post(f"{SEL}/{drafting['id']}/nominations", json=_nomination(LI),
                                headers=as_role("nominator")), 404, "selection_not_found")
    assert _listing(client, admin, drafting["id"]) == []


@pytest.mark.parametrize("change, field, words", [
    ({"nominee": {**LI, "birth_date": _years_ago(12), "national_id": None,
                  "party_joined_on": _years_ago(1), "work_started_on": None}},
     "body.nominee", "本人未满 18 周岁"),
    ({"nominee": {**LI, "birth_date": (real_clock().today() + timedelta(days=30)).isoformat(),
                  "national_id": None}}, "body.nominee", "出生日期（body.nominee.birth_date）晚于今天"),
    ({"kind": "ministry_of_magic"}, "body.kind", None),
    ({"kind": "self_application"}, "body.kind", None),
    ({"body_name": "机" * 201}, "body.body_name", None),
    ({"body_name": ""}, "body.body_name", None),
    ({"body_name": "   "}, "body.body_name", None),
    ({"nominee": {**LI, "national_id": _bad_check_digit(LI["national_id"])}},
     "body.nominee", "身份证号（body.nominee.national_id）的校验位不正确"),
    ({"nominee": {**LI, "national_id": _national_id("1988-05-13")}}, "body.nominee",
     "与出生日期（body.nominee.birth_date）不一致"),
    ({"nominee": {**LI, "party_joined_on": "1999-01-01"}}, "body.nominee", "早于本人年满 18 周岁"),
    ({"nominee": {**LI, "education": "kindergarten"}}, "body.nominee.education", None),
    ({"nominee": {**LI, "salary": 1}}, "body.nominee.salary", None),
])
def test_bad_nominations_are_refused_with_the_field_named(
        client, admin, as_role, published, change, field, words):
    nom = as_role("nominator")
    r = client.post(f"{SEL}/{published['id']}/nominations", json={**_nomination(LI), **change},
                    headers=nom)
    body = _assert_problem(r, 422, "validation_error")
    assert any(e["field"].startswith(field) for e in body["errors"]), body["errors"]
    if words:
        assert words in body["detail"], body["detail"]
    assert _listing(client, admin, published["id"]) == []
    with open_session() as s:
        assert not list(s.exec(select(Event).where(Event.subject_type == "candidate")))


def test_the_well_formed_nomination_is_accepted(client, as_role, published):
    """The control case of the table above."""
    _nominate(client, as_role("nominator"), published["id"], LI)


# ---------------------------------------------------------------- closing nominations
def test_closing_nominations_lapses_silent_nominees_and_rechecks_applicants(
        client, admin, as_role, login, published):
    sel_id = published["id"]
    nom = as_role("nominator")
    li = _nominate(client, nom, sel_id, LI)["candidate"]["id"]
    wang = _nominate(client, _body(as_role, "trade_union", "公司工会"), sel_id, WANG, "trade_union", "公司工会")["candidate"]["id"]
    zhou = _nominate(client, _body(as_role, "youth_league", "公司团委"), sel_id, ZHOU, "youth_league", "公司团委")["candidate"]["id"]
    zhao = _nominate(client, _body(as_role, "administration", "行政办公会"), sel_id, ZHAO, "administration", "行政办公会")["candidate"]["id"]
    _consent_by_admin(client, admin, li)
    _consent_by_admin(client, admin, zhou)
    r = _act_candidate(client, admin, zhao, "decline", {"reason": "本人不同意"})
    assert r.status_code == 200, r.text

    assert _advance(client, admin, 14)["today"] == "2026-10-14"
    r = _act_selection(client, admin, sel_id, "close_nominations")
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "reviewing"

    states = {c["full_name"]: c["state"] for c in _listing(client, admin, sel_id)}
    assert states == {"李明": "applicant", "王芳": "declined", "周国庆": "applicant",
                      "赵强": "declined"}

    ev = _events(client, admin, f"{CAND}/{wang}")
    assert [e["action"] for e in ev] == ["nominate", "lapse"]
    assert (ev[1]["from_state"], ev[1]["to_state"]) == ("nominated", "declined")
    assert "未在公示期内确认参选" in ev[1]["reason"]
    assert _china_day(ev[1]["simulated_at"]) == date(2026, 10, 14)

    for cand, eligible in ((li, True), (zhou, False)):
        ev = _events(client, admin, f"{CAND}/{cand}")
        assert [e["action"] for e in ev] == ["nominate", "consent", "check_eligibility"]
        assert ev[2]["params"] == {"eligible": eligible, "computed_on": END,
                                   "reference": "publicity_end"}
        assert (ev[2]["from_state"], ev[2]["to_state"]) == ("applicant", "applicant")
        assert _candidate(client, admin, cand)["eligible"] is eligible
    # a nominee who declined already neither lapses nor is checked again
    assert [e["action"] for e in _events(client, admin, f"{CAND}/{zhao}")] == [
        "nominate", "decline"]

    sev = _events(client, admin, f"{SEL}/{sel_id}")
    assert [e["action"] for e in sev] == ["create", "publish", "close_nominations"]
    assert (sev[2]["from_state"], sev[2]["to_state"]) == ("publicizing", "reviewing")
    assert sev[2]["params"]["lapsed_candidates"] == [wang]

    # the announcement is down, and nothing more comes in
    _assert_problem(client.get(f"{PUBLIC}/{sel_id}"), 404)
    assert client.get(PUBLIC).json()["items"] == []
    _assert_problem(client.post(f"{SEL}/{sel_id}/nominations", json=_nomination(CHEN),
                                headers=nom), 409, "nominations_closed")
    _assert_problem(_act_selection(client, admin, sel_id, "close_nominations"), 409,
                    "action_not_allowed_in_state")


# ---------------------------------------------------------------- the simulated clock
def test_a_running_simulation_only_moves_forward_and_can_be_ended(client, admin, as_role):
    _set_clock(client, admin, SIM_DAY)
    body = _assert_problem(client.put(CLOCK, json={"day": "2026-09-29"}, headers=admin), 409,
                           "clock_backwards")
    assert _china_day(body["details"]["now"]) == date(2026, 9, 30)
    assert client.get(CLOCK, headers=admin).json()["today"] == SIM_DAY
    assert _advance(client, admin, 2)["today"] == "2026-10-02"
    assert _set_clock(client, admin, "2026-10-05")["today"] == "2026-10-05"

    _assert_problem(client.put(CLOCK, json={"day": "2026-12-01"}, headers=as_role("nominator")),
                    403)
    _assert_problem(client.put(CLOCK, json={"day": SIM_DAY, "at": "2026-09-30T09:00:00+08:00"},
                               headers=admin), 422)
    _assert_problem(client.put(CLOCK, json={"at": "2026-10-06T09:00:00"}, headers=admin), 422)

    r = client.delete(CLOCK, headers=admin)
    assert r.status_code == 200, r.text
    real = r.json()
    assert real["simulated"] is False
    assert real["today"] == datetime.now(CHINA).date().isoformat()
    assert client.get(CLOCK, headers=admin).json()["simulated"] is False
    # a new simulation may start anywhere again
    assert _set_clock(client, admin, "2026-09-01")["today"] == "2026-09-01"

    with open_session() as s:
        clock_events = list(s.exec(select(Event).where(Event.subject_type == "clock")
                                   .order_by(Event.seq)))
    assert [e.action for e in clock_events] == ["set_clock", "advance_clock", "set_clock",
                                                "clear_clock", "set_clock"]
    assert clock_events[3].simulated_at is None


# ---------------------------------------------------------------- the whole step, in the record
def test_the_whole_step_is_in_the_record(client, admin, as_role, login, published):
    sel_id = published["id"]
    nom_a = as_role("nominator")
    chen_user, chen = _new_candidate_user(client, admin, login, "chenjing", CHEN["email"])
    _, sun = _new_candidate_user(client, admin, login, "sunyue", SUN["email"])

    li = _nominate(client, nom_a, sel_id, LI)["candidate"]["id"]
    _nominate(client, _body(as_role, "administration", "行政办公会"), sel_id, LI, "administration", "行政办公会")
    wang = _nominate(client, _body(as_role, "trade_union", "公司工会"), sel_id, WANG, "trade_union", "公司工会")["candidate"]["id"]
    chen_id = _nominate(client, _body(as_role, "youth_league", "公司团委"), sel_id, CHEN, "youth_league", "公司团委")["candidate"][
        "id"]
    r = client.post(f"{CAND}/{li}/communications", headers=nom_a, json={
        "held_on": SIM_DAY, "channel": "phone", "summary": "本人同意参选", "attitude": "willing"})
    assert r.status_code == 201, r.text
    _advance(client, admin, 1)
    _consent_by_admin(client, admin, li)
    assert _act_candidate(client, chen, chen_id, "consent").status_code == 200
    r = client.post(f"{SEL}/{sel_id}/applications", json={"profile": SUN}, headers=sun)
    sun_id = r.json()["candidate"]["id"] if r.status_code == 201 else None

    _advance(client, admin, 14)
    assert _act_selection(client, admin, sel_id, "close_nominations").status_code == 200

    assert _actions(client, admin, f"{SEL}/{sel_id}") == [
        "create", "publish", "close_nominations"]
    assert _actions(client, admin, f"{CAND}/{li}") == [
        "nominate", "nominate", "record_communication", "consent", "check_eligibility"]
    assert _actions(client, admin, f"{CAND}/{wang}") == ["nominate", "lapse"]
    assert _actions(client, admin, f"{CAND}/{chen_id}") == [
        "nominate", "consent", "check_eligibility"]
    # the candidate reads their own record
    assert _actions(client, chen, f"{CAND}/{chen_id}") == [
        "nominate", "consent", "check_eligibility"]
    days = [_china_day(e["simulated_at"]) for e in _events(client, admin, f"{CAND}/{li}")]
    assert days == [date(2026, 9, 30)] * 3 + [date(2026, 10, 1), date(2026, 10, 15)]
    for path in (f"{SEL}/{sel_id}", f"{CAND}/{li}", f"{CAND}/{wang}", f"{CAND}/{chen_id}"):
        chain = _events(client, admin, path)
        assert [e["seq"] for e in chain] == list(range(1, len(chain) + 1))
        assert all(b["prev_hash"] == a["hash"] for a, b in zip(chain, chain[1:], strict=False))
        assert all(e["selection_id"] == sel_id for e in chain)
    assert chen_user == _candidate(client, admin, chen_id)["user_id"]
    # self-application is part of the step too (see test_a_candidate_user_applies_once)
    assert sun_id is not None, r.text
    assert _actions(client, admin, f"{CAND}/{sun_id}") == ["apply", "check_eligibility"]
