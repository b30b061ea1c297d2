"""Who may call what: every route of the app against every role and anonymous, built from the
app's own route table, with real requests on real objects; then the object-level rules (a
judge outside the panel, an inspector outside the team, another candidate, a nominator who
did not nominate: 404, since existence itself is private); then tokens that stop working the
moment an account's roles change or it is disabled.

The world every test here starts from (`World`), written straight to the database:

* selection S, `following_up`, created through the API; selection D, still `drafting`;
* candidate T in S, `on_trial`, with its own account (candidate P1), nominated by nominator N1,
  inspected by inspector I1, mentored by mentor M1; judge J1 sits on S's panel; committee
  member C1 sees T because S is past the committee's decision;
* candidate B in S, an `applicant` with its own account (candidate P2), nominated by N2 —
  invisible to every matrix user but the admin (not interviewed, not submitted, no team);
* J2, I2, M2: a judge, an inspector and a mentor with no link to T;
* a committee meeting, an outcome email and an objection about T, and S's record holding the
  committee's decisions on T and B with their votes.

In the matrix each role is played by the user whose work reaches T (N1, J1, I1, C1, M1, P1),
so what is checked there is the route's role rule; the object-level tests play the others.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute

from service.workflow.roles import (
    ADMIN,
    CANDIDATE,
    COMMITTEE,
    INSPECTOR,
    JUDGE,
    MENTOR,
    NOMINATOR,
    ROLES,
)

ANON = "anonymous"
EVERYONE = (*ROLES, ANON)
SEL = "/api/v1/selections/{selection_id}"
CAND = "/api/v1/candidates/{candidate_id}"


# ---------------------------------------------------------------- the expectation table
@dataclass(frozen=True)
class Rule:
    """Who is let through (anything but 401/403 answers them), and how the others are turned
    away: `deny` (403, or 404 where the route hides the subject) for roles not allowed,
    except those in `hidden`, who get 404. Anonymous gets 401 unless allowed."""

    allow: frozenset[str]
    deny: int = 403
    hidden: frozenset[str] = field(default_factory=frozenset)

    def expected(self, who: str) -> str | int:
        if who in self.allow:
            return "ok"
        if who == ANON:
            return 401
        return 404 if who in self.hidden else self.deny


def allow(*who: str, hidden: tuple[str, ...] = ()) -> Rule:
    return Rule(frozenset(who), hidden=frozenset(hidden))


PUBLIC = allow(*EVERYONE)
LOGGED_IN = allow(*ROLES)
ADMIN_ONLY = allow(ADMIN)
READERS_OF_T = (ADMIN, NOMINATOR, CANDIDATE)  # full access: admins, its nominators, itself

EXPECTED: dict[tuple[str, str], Rule] = {
    # health, login, the workflow and the public announcements: no login
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    # the interactive docs (Swagger UI, its OAuth2 redirect page, ReDoc): pages, no data
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    ("GET", "/api/v1/workflow"): PUBLIC,
    ("POST", "/api/v1/auth/token"): PUBLIC,
    ("POST", "/api/v1/auth/refresh"): PUBLIC,
    ("POST", "/api/v1/auth/logout"): PUBLIC,
    ("GET", "/api/v1/public/selections"): PUBLIC,
    ("GET", "/api/v1/public/selections/{selection_id}"): PUBLIC,
    ("GET", "/api/v1/public/appointments"): PUBLIC,
    ("GET", "/api/v1/public/selections/{selection_id}/announcement.html"): PUBLIC,
    ("GET", "/api/v1/public/appointments/{candidate_id}/notice.html"): PUBLIC,
    ("POST", "/api/v1/public/appointments/{candidate_id}/objections"): PUBLIC,
    ("GET", "/api/v1/auth/me"): LOGGED_IN,
    ("PATCH", "/api/v1/auth/me"): LOGGED_IN,
    # users
    ("POST", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/users"): ADMIN_ONLY,
    ("GET", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    ("PATCH", "/api/v1/users/{user_id}"): ADMIN_ONLY,
    # step 1: selections (S is past drafting: every staff role sees it, P1 stands in it)
    ("POST", "/api/v1/selections"): ADMIN_ONLY,
    ("GET", "/api/v1/selections"): LOGGED_IN,
    ("GET", SEL): LOGGED_IN,
    ("PATCH", SEL): ADMIN_ONLY,
    ("GET", SEL + "/actions"): LOGGED_IN,
    ("POST", SEL + "/actions/{action}"): ADMIN_ONLY,  # `cancel`: the role is judged first
    # The selection's record holds every committee decision with its votes, and the panel:
    # for admins and the committee only (as the meetings are), not for every reader of S.
    ("GET", SEL + "/events"): allow(ADMIN, COMMITTEE),
    # step 2
    ("POST", SEL + "/nominations"): allow(ADMIN, NOMINATOR),
    ("POST", SEL + "/applications"): allow(CANDIDATE),
    ("POST", SEL + "/claims"): allow(CANDIDATE),
    ("POST", SEL + "/claims/confirm"): allow(CANDIDATE),
    ("PUT", CAND + "/account"): ADMIN_ONLY,
    ("GET", SEL + "/candidates"): allow(ADMIN, NOMINATOR, JUDGE, INSPECTOR, COMMITTEE,
                                        CANDIDATE),
    ("POST", CAND + "/communications"): allow(ADMIN, NOMINATOR),
    ("GET", CAND + "/communications"): allow(ADMIN, NOMINATOR),
    # step 3
    ("POST", SEL + "/prereview"): ADMIN_ONLY,
    ("PUT", SEL + "/panel"): ADMIN_ONLY,
    ("PUT", SEL + "/interview"): ADMIN_ONLY,
    ("GET", SEL + "/panel"): allow(ADMIN, JUDGE),  # the panel's judges
    ("POST", SEL + "/interview/briefings"): ADMIN_ONLY,
    ("POST", SEL + "/interview/materials-receipts"): allow(JUDGE),  # the panel's, themself
    ("POST", SEL + "/interview/draw"): ADMIN_ONLY,
    ("POST", SEL + "/interview/start"): ADMIN_ONLY,
    ("GET", SEL + "/interview/session"): allow(ADMIN, JUDGE),  # the panel's judges
    ("POST", CAND + "/interview/segments/{segment}/{mark}"): ADMIN_ONLY,
    ("POST", CAND + "/interview/questions"): ADMIN_ONLY,
    ("POST", SEL + "/declarations"): allow(JUDGE, INSPECTOR),
    ("GET", CAND + "/declarations"): ADMIN_ONLY,
    ("POST", CAND + "/score-sheets"): allow(JUDGE),
    ("GET", CAND + "/score-sheets"): allow(ADMIN, JUDGE),
    ("POST", CAND + "/score-sheet-corrections"): allow(JUDGE),
    ("GET", CAND + "/score-sheet-corrections"): allow(ADMIN, JUDGE),
    ("POST", CAND + "/score-sheet-corrections/{correction_id}/decision"): ADMIN_ONLY,
    ("GET", CAND + "/evaluation"): allow(ADMIN, COMMITTEE),
    ("GET", CAND + "/evaluation.html"): allow(ADMIN, COMMITTEE),
    ("GET", CAND + "/score-sheets.html"): allow(ADMIN, JUDGE),
    ("GET", SEL + "/score-sheet.html"): allow(ADMIN, JUDGE),
    ("GET", SEL + "/ranking"): allow(ADMIN, COMMITTEE),
    ("PUT", CAND + "/inspection-team"): ADMIN_ONLY,
    ("POST", CAND + "/inspection-records"): allow(INSPECTOR),  # the team's
    ("GET", CAND + "/inspection"): allow(ADMIN, INSPECTOR, COMMITTEE),
    ("POST", SEL + "/committee-meetings"): ADMIN_ONLY,
    ("GET", SEL + "/committee-meetings"): allow(ADMIN, COMMITTEE),
    ("GET", SEL + "/committee-meetings/{meeting_id}"): allow(ADMIN, COMMITTEE),
    ("POST", SEL + "/backfill-meetings"): ADMIN_ONLY,
    ("GET", SEL + "/vacancies"): allow(ADMIN, COMMITTEE),
    # reports: the report gathers the ranking and the meetings, which the committee reads;
    # the candidate table lists every candidate with the work profile: admins only
    ("GET", SEL + "/report"): allow(ADMIN, COMMITTEE),
    ("GET", SEL + "/report.html"): allow(ADMIN, COMMITTEE),
    ("GET", SEL + "/candidates.csv"): ADMIN_ONLY,
    ("GET", SEL + "/candidates.xlsx"): ADMIN_ONLY,
    # step 4
    ("GET", CAND + "/notifications"): ADMIN_ONLY,
    ("GET", CAND + "/notifications/preview"): ADMIN_ONLY,
    ("POST", CAND + "/notifications/{notification_id}/resend"): ADMIN_ONLY,
    ("GET", "/api/v1/notification-templates"): ADMIN_ONLY,
    ("PUT", "/api/v1/notification-templates/{outcome}/{language}"): ADMIN_ONLY,
    ("GET", CAND + "/objections"): ADMIN_ONLY,
    ("GET", "/api/v1/objections/{objection_id}"): ADMIN_ONLY,
    ("GET", "/api/v1/objections/{objection_id}/actions"): ADMIN_ONLY,
    ("POST", "/api/v1/objections/{objection_id}/actions/{action}"): ADMIN_ONLY,
    ("GET", "/api/v1/objections/{objection_id}/events"): ADMIN_ONLY,
    ("GET", CAND + "/follow-up"): allow(*READERS_OF_T, MENTOR,
                                        hidden=(JUDGE, INSPECTOR, COMMITTEE)),
    ("PUT", CAND + "/mentorship"): ADMIN_ONLY,
    # training records: admins and the mentor; the candidate and its nominator see them
    ("POST", CAND + "/follow-up-records"): allow(ADMIN, MENTOR,
                                                 hidden=(JUDGE, INSPECTOR, COMMITTEE)),
    ("GET", "/api/v1/reserve-pool"): allow(ADMIN, MENTOR, CANDIDATE),
    ("POST", "/api/v1/reserve-pool/expiries"): ADMIN_ONLY,
    # candidates
    ("GET", CAND): LOGGED_IN,  # each through their own link to T
    ("GET", CAND + "/actions"): LOGGED_IN,
    ("POST", CAND + "/actions/{action}"): ADMIN_ONLY,  # `dismiss`: the role is judged first
    ("GET", CAND + "/events"): allow(*READERS_OF_T, hidden=(JUDGE, INSPECTOR, COMMITTEE,
                                                             MENTOR)),
    # calendar and clock
    ("GET", "/api/v1/calendar/working-days"): LOGGED_IN,
    ("GET", "/api/v1/calendar/overrides"): LOGGED_IN,
    ("PUT", "/api/v1/calendar/overrides/{day}"): ADMIN_ONLY,
    ("DELETE", "/api/v1/calendar/overrides/{day}"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/clock"): ADMIN_ONLY,
    ("PUT", "/api/v1/admin/clock"): ADMIN_ONLY,
    ("POST", "/api/v1/admin/clock/advance"): ADMIN_ONLY,
    ("DELETE", "/api/v1/admin/clock"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/record/verification"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/record/checkpoint"): ADMIN_ONLY,
    # webhooks for HR systems
    ("GET", "/api/v1/webhook-event-types"): ADMIN_ONLY,
    ("POST", "/api/v1/webhooks"): ADMIN_ONLY,
    ("GET", "/api/v1/webhooks"): ADMIN_ONLY,
    ("GET", "/api/v1/webhooks/{webhook_id}"): ADMIN_ONLY,
    ("PATCH", "/api/v1/webhooks/{webhook_id}"): ADMIN_ONLY,
    ("DELETE", "/api/v1/webhooks/{webhook_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/webhooks/{webhook_id}/rotate-secret"): ADMIN_ONLY,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries"): ADMIN_ONLY,
    ("GET", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}"): ADMIN_ONLY,
    ("POST", "/api/v1/webhooks/{webhook_id}/deliveries/{delivery_id}/redeliver"): ADMIN_ONLY,
}

# Bodies: `{}` unless the route decides who may call it only after reading a valid body, or
# an empty body would let a permitted caller change the world the other cells rely on.
FUTURE = "2999-01-01"
BODIES: dict[tuple[str, str], Any] = {
    # checked in the handler, after the body: a valid one, dated in the future, so that the
    # permitted get 409 and nothing is written
    ("POST", CAND + "/follow-up-records"): {"kind": "party_lesson", "held_on": FUTURE,
                                            "subject": "党课学习"},
    ("POST", "/api/v1/public/appointments/{candidate_id}/objections"):
        {"content": "对拟任人选有异议，请核实。"},
    # invalid on purpose: the role is checked before the body, and nothing changes
    ("PATCH", "/api/v1/users/{user_id}"): {"roles": []},
    ("POST", "/api/v1/admin/clock/advance"): {"days": -1},
    ("POST", CAND + "/notifications/{notification_id}/resend"): {"language": "xx"},
}
QUERIES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/api/v1/calendar/working-days"): {"start": "2026-10-08"},
}
ACTIONS = {"selection": "cancel", "candidate": "dismiss",  # need a reason; none is sent
           "objection": "conclude_upheld"}


def app_routes() -> set[tuple[str, str]]:
    """Every (method, path) of the app's APIRoutes: those on the app itself, and those of the
    included routers (which FastAPI >= 0.16x keeps behind an `_IncludedRouter` entry)."""
    from fastapi import routing

    from service.main import app

    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, APIRoute):
            found.update((m, route.path) for m in route.methods)
        elif hasattr(routing, "iter_route_contexts"):
            for ctx in routing.iter_route_contexts([route]):
                if isinstance(ctx.original_route, APIRoute):
                    found.update((m, ctx.path) for m in ctx.methods)
    return found


# ---------------------------------------------------------------- the world
@dataclass
class World:
    tokens: dict[str, dict[str, str]]  # user key -> Authorization header
    ids: dict[str, uuid.UUID]  # user key -> user id
    selection: uuid.UUID  # S, following_up
    draft: uuid.UUID  # D, drafting
    t: uuid.UUID  # candidate T, on_trial, P1's
    b: uuid.UUID  # candidate B, applicant, P2's
    meeting: uuid.UUID
    notification: uuid.UUID
    objection: uuid.UUID
    spare_user: uuid.UUID

    # the matrix players: the user whose work reaches T, per role
    PLAYERS = {ADMIN: "admin", NOMINATOR: "n1", JUDGE: "j1", INSPECTOR: "i1",
               COMMITTEE: "c1", MENTOR: "m1", CANDIDATE: "p1"}

    def headers(self, who: str) -> dict[str, str]:
        if who == ANON:
            return {}
        return self.tokens[self.PLAYERS.get(who, who)]


USERS = {"admin": [ADMIN], "n1": [NOMINATOR], "n2": [NOMINATOR], "j1": [JUDGE],
         "j2": [JUDGE], "i1": [INSPECTOR], "i2": [INSPECTOR], "c1": [COMMITTEE],
         "m1": [MENTOR], "m2": [MENTOR], "p1": [CANDIDATE], "p2": [CANDIDATE],
         "spare": [JUDGE]}
T_PROFILE = {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
             "education": "bachelor", "party_joined_on": "2012-07-01",
             "work_started_on": "2010-07-01", "current_post": "办公室副主任",
             "unit": "机关办公室", "email": "liming@example.cn", "phone": "13800000000"}


@pytest.fixture
def world(client) -> World:
    """The objects every test here reads (see the module's docstring). Users are written
    directly with an unusable password and get tokens minted as the login route mints them
    (argon2 would cost a third of a second per user); the login itself is exercised in
    test_tokens_end_when_roles_change_or_account_disabled."""
    from service.config import get_settings
    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.core.models import User
    from service.core.security import create_token
    from service.followup.models import Mentorship, Notification, Objection
    from service.nomination.models import Candidate, Nomination
    from service.record.service import Author, append
    from service.review.models import CommitteeMeeting, InspectionMember, PanelMember
    from service.selection.models import Selection
    from tests.conftest import SELECTION_BODY

    settings = get_settings()
    ids: dict[str, uuid.UUID] = {}
    tokens: dict[str, dict[str, str]] = {}
    with open_session(write=True) as s:
        for key, roles in USERS.items():
            u = User(username=f"authz-{key}", full_name=key, roles=roles,
                     password_hash="!unusable")
            s.add(u)
            s.flush()
            ids[key] = u.id
            token, _ = create_token(settings, user_id=u.id, token_version=u.token_version,
                                    roles=roles)
            tokens[key] = {"Authorization": f"Bearer {token}"}
        s.commit()

    def new_selection(title: str) -> uuid.UUID:
        r = client.post("/api/v1/selections", json={**SELECTION_BODY, "title": title},
                        headers=tokens["admin"])
        assert r.status_code == 201, r.text
        return uuid.UUID(r.json()["id"])

    sel, draft = new_selection("S"), new_selection("D")
    today = real_clock().today()
    with open_session(write=True) as s:
        selection = s.get(Selection, sel)
        selection.state = "following_up"
        s.add(selection)
        t = Candidate(selection_id=sel, user_id=ids["p1"], state="on_trial", full_name="李明",
                      identity_key=uuid.uuid4().hex, profile=T_PROFILE,
                      appointment={"proposed_post": "第一党支部书记",
                                   "publicity_start_on": "2026-01-05",
                                   "publicity_end_on": "2026-01-09"})
        b = Candidate(selection_id=sel, user_id=ids["p2"], state="applicant", full_name="王芳",
                      identity_key=uuid.uuid4().hex,
                      profile={"full_name": "王芳", "phone": "13900000001"})
        s.add_all([t, b])
        s.flush()
        s.add_all([
            Nomination(selection_id=sel, candidate_id=t.id, kind="party_organization",
                       body_name="机关党委", nominated_by=ids["n1"], groundwork="摸底：群众认可"),
            Nomination(selection_id=sel, candidate_id=b.id, kind="trade_union",
                       body_name="工会", nominated_by=ids["n2"]),
            PanelMember(selection_id=sel, user_id=ids["j1"]),
            InspectionMember(candidate_id=t.id, user_id=ids["i1"]),
            Mentorship(candidate_id=t.id, mentor_id=ids["m1"], plan="每月谈心一次",
                       assigned_on=today),
        ])
        decisions = [
            {"candidate_id": str(t.id), "outcome": "appointed", "votes_for": 6,
             "votes_against": 1, "abstentions": 0, "reason": None, "members_voting": 7},
            {"candidate_id": str(b.id), "outcome": "not_qualified", "votes_for": 1,
             "votes_against": 6, "abstentions": 0, "reason": "群众基础薄弱",
             "members_voting": 7},
        ]
        meeting = CommitteeMeeting(selection_id=sel, held_on=today,
                                   members_due=[str(ids["c1"])], present=[str(ids["c1"])],
                                   recusals=[], decisions=decisions, minutes="党委会纪要",
                                   recorded_by=ids["admin"])
        notification = Notification(dedupe_key=f"authz-{t.id}", candidate_id=t.id,
                                    selection_id=sel, outcome="appointed", language="zh",
                                    to_address="liming@example.cn", subject="选拔结果",
                                    body="您已被确定为拟任人选。")
        objection = Objection(candidate_id=t.id, content="反映该同志有关问题，请核实。")
        s.add_all([meeting, notification, objection])
        s.flush()
        # S's record as POST …/committee-meetings writes it (service/review.py, record_meeting)
        append(s, subject_type="selection", subject_id=sel, selection_id=sel,
               action="record_committee_meeting", author=Author(ids["admin"], ADMIN),
               clock=real_clock(), from_state="deciding", to_state="deciding",
               params={"meeting_id": str(meeting.id), "held_on": today.isoformat(),
                       "members_due": meeting.members_due, "present": meeting.present,
                       "recusals": [], "decisions": decisions, "minutes": "党委会纪要"})
        world = World(tokens=tokens, ids=ids, selection=sel, draft=draft, t=t.id, b=b.id,
                      meeting=meeting.id, notification=notification.id,
                      objection=objection.id, spare_user=ids["spare"])
        s.commit()
    return world


def fill(path: str, w: World, **override: Any) -> str:
    values = {"selection_id": w.selection, "candidate_id": w.t, "user_id": w.spare_user,
              "meeting_id": w.meeting, "notification_id": w.notification,
              "objection_id": w.objection, "correction_id": uuid.UUID(int=2), "day": "2030-01-01", "outcome": "appointed",
              "language": "zh", "webhook_id": uuid.UUID(int=1),  # none: the role is judged first
              "delivery_id": "msg_" + "0" * 32, "segment": "self_introduction",
              "mark": "begin",
              "action": ACTIONS["selection" if path.startswith("/api/v1/selections/")
                                else "objection" if path.startswith("/api/v1/objections/")
                                else "candidate"]}
    values.update(override)
    return path.format(**{k: str(v) for k, v in values.items()})


def call(client, method: str, path: str, url: str, headers: dict[str, str]):
    key = (method, path)
    kwargs: dict[str, Any] = {"headers": headers, "params": QUERIES.get(key)}
    if method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = BODIES.get(key, {})
    return client.request(method, url, **kwargs)


def outcome_matches(expected: str | int, status: int, path: str) -> bool:
    if expected == "ok":
        # authorized: anything but a refusal; a 5xx would hide the answer (503: not ready)
        return status not in (401, 403) and (status < 500 or
                                              (path == "/readyz" and status == 503))
    return status == expected


# ---------------------------------------------------------------- 1. routes × roles
def test_every_route_has_a_decision_for_every_role():
    routes = app_routes()
    missing = sorted(routes - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - routes)
    assert not missing and not stale, (
        f"routes with no authorization decision in EXPECTED: {missing}; "
        f"decisions for routes that no longer exist: {stale}")
    for rule in EXPECTED.values():
        assert rule.allow <= set(EVERYONE) and rule.hidden <= set(ROLES)


def test_route_role_matrix(client, world):
    mismatches = []
    for method, path in sorted(app_routes() & EXPECTED.keys(), key=lambda k: (k[1], k[0])):
        rule = EXPECTED[(method, path)]
        url = fill(path, world)
        for who in EVERYONE:
            r = call(client, method, path, url, world.headers(who))
            want = rule.expected(who)
            if not outcome_matches(want, r.status_code, path):
                code = r.json().get("code") if r.headers.get("content-type", "").endswith(
                    "json") and r.content else None
                mismatches.append(f"{method} {path} as {who}: expected {want}, got "
                                  f"{r.status_code} {code or ''}".rstrip())
    assert not mismatches, f"{len(mismatches)} authorization mismatches:\n" + "\n".join(
        mismatches)


# ---------------------------------------------------------------- 2. objects
def _path_params(path: str) -> set[str]:
    import string

    return {f for _, f, _, _ in string.Formatter().parse(path) if f}


def test_private_subjects_answer_as_if_they_did_not_exist(client, world):
    """For every route on a selection or a candidate, and every user who may not see it (D
    while drafting; B, whom no matrix user's work reaches), the answer is the one a random id
    gets: existence itself stays private (404, never a 403 that a missing id would not get)."""
    players = [NOMINATOR, JUDGE, INSPECTOR, COMMITTEE, MENTOR, CANDIDATE]
    nowhere = uuid.uuid4()
    leaks = []
    for method, path in sorted(app_routes() & EXPECTED.keys(), key=lambda k: (k[1], k[0])):
        params = _path_params(path)
        for name, hidden_id in (("selection_id", world.draft), ("candidate_id", world.b)):
            if name not in params:
                continue
            # anonymous callers are 401 on every protected route, existing id or not
            outsiders = [ANON, *players] if ANON in EXPECTED[(method, path)].allow else players
            for who in outsiders:
                h = world.headers(who)
                real = call(client, method, path, fill(path, world, **{name: hidden_id}), h)
                fake = call(client, method, path, fill(path, world, **{name: nowhere}), h)
                if real.status_code != fake.status_code or real.status_code < 400:
                    leaks.append(f"{method} {path} as {who}: {real.status_code} for the"
                                 f" hidden {name}, {fake.status_code} for a random one")
    assert not leaks, f"{len(leaks)} routes tell a hidden subject from a missing one:\n" + \
        "\n".join(leaks)


def _listed(client, w: World, who: str) -> set[str]:
    r = client.get(f"/api/v1/selections/{w.selection}/candidates", headers=w.tokens[who])
    assert r.status_code == 200, (who, r.text)
    return {c["id"] for c in r.json()["items"]}


def test_object_level_rules(client, world):
    w = world
    T, B, S = f"/api/v1/candidates/{w.t}", f"/api/v1/candidates/{w.b}", w.selection
    sheet = {"scores": {"self_introduction": 80, "role_cognition": 80, "answers": 80,
                        "overall_impression": 80}, "comment": "表现良好"}
    problems: list[str] = []

    def expect(who: str, method: str, url: str, status: int, **kw: Any) -> Any:
        r = client.request(method, url, headers=w.tokens[who], **kw)
        if r.status_code != status:
            problems.append(f"{method} {url} as {who}: expected {status}, got "
                            f"{r.status_code} {r.text[:160]}")
        return r

    # a judge outside the panel reads and scores nothing (404); the panel's judge sees T, not
    # B (not interviewed), and T without personal data
    for url in (T, T + "/actions", T + "/score-sheets", T + "/inspection", T + "/events"):
        expect("j2", "GET", url, 404)
    expect("j2", "POST", T + "/score-sheets", 404, json=sheet)
    expect("j1", "GET", B, 404)
    expect("j1", "POST", B + "/score-sheets", 404, json=sheet)
    seen = expect("j1", "GET", T, 200)
    if seen.status_code == 200:
        body = seen.json()
        leaked = {"birth_date", "phone", "email"} & set(body["profile"])
        if leaked or body["user_id"] is not None or any(
                n["groundwork"] or n["nominated_by"] for n in body["nominations"]):
            problems.append(f"GET {T} as a judge shows personal data: {body}")

    # an inspector not on T's team sees nothing of T
    for url in (T, T + "/inspection", T + "/actions"):
        expect("i2", "GET", url, 404)
    expect("i2", "POST", T + "/inspection-records", 404,
           json={"kind": "conversation", "held_on": "2026-01-01", "summary": "谈话"})
    # a mentor who is not T's mentor
    for url in (T, T + "/follow-up"):
        expect("m2", "GET", url, 404)
    expect("m2", "POST", T + "/follow-up-records", 404,
           json={"kind": "mentor_meeting", "held_on": "2026-01-01", "subject": "谈心"})

    # a candidate sees their own record only: not another's record, events, follow-up,
    # actions, and not in any listing
    for who, other in (("p2", T), ("p1", B)):
        for url in (other, other + "/events", other + "/follow-up", other + "/actions"):
            expect(who, "GET", url, 404)
        expect(who, "POST", other + "/actions/withdraw", 404, json={"reason": "个人原因"})
    expect("p1", "GET", T + "/events", 200)
    if (got := _listed(client, w, "p2")) != {str(w.b)}:
        problems.append(f"P2 lists {got} in S, not only B")
    # … nor through S's record, which holds every decision with its votes (see EXPECTED)
    r = client.get(f"/api/v1/selections/{S}/events", headers=w.tokens["p2"])
    if r.status_code == 200 and str(w.t) in r.text:
        problems.append(f"GET /api/v1/selections/{S}/events as candidate P2 answers 200 with T's"
                        " committee votes (votes_for 6 / against 1) and the minutes")

    # a nominator sees the candidates they nominated, not the others
    expect("n2", "GET", T, 404)
    expect("n2", "GET", T + "/events", 404)
    expect("n2", "GET", T + "/communications", 404)
    expect("n1", "GET", B, 404)
    expect("n1", "GET", T, 200)
    if (got := _listed(client, w, "n1")) != {str(w.t)}:
        problems.append(f"N1 lists {got} in S, not only T")
    if (got := _listed(client, w, "n2")) != {str(w.b)}:
        problems.append(f"N2 lists {got} in S, not only B")

    # a drafting selection is the admin's alone; other objects' ids 404 as missing ones do
    for who in ("n1", "j1", "i1", "c1", "m1", "p1"):
        expect(who, "GET", f"/api/v1/selections/{w.draft}", 404)
        listed = client.get("/api/v1/selections", headers=w.tokens[who]).json()["items"]
        if str(w.draft) in {s["id"] for s in listed}:
            problems.append(f"{who} lists the drafting selection D")
    expect("admin", "GET", f"/api/v1/selections/{S}/committee-meetings/{uuid.uuid4()}", 404)
    expect("c1", "GET", f"/api/v1/selections/{w.draft}/committee-meetings/{w.meeting}", 404)
    expect("admin", "GET", f"/api/v1/selections/{w.draft}/committee-meetings/{w.meeting}", 404)
    expect("admin", "POST", f"{B}/notifications/{w.notification}/resend", 404, json={})
    assert not problems, f"{len(problems)} object-level problems:\n" + "\n".join(problems)


# ---------------------------------------------------------------- 3. tokens
def _mint(user_id: uuid.UUID) -> dict[str, str]:
    """A token for the user as they are now, as POST /api/v1/auth/token would issue it."""
    from service.config import get_settings
    from service.core.db import open_session
    from service.core.models import User
    from service.core.security import create_token

    with open_session() as s:
        u = s.get(User, user_id)
        token, _ = create_token(get_settings(), user_id=u.id, token_version=u.token_version,
                                roles=list(u.roles))
    return {"Authorization": f"Bearer {token}"}


def test_tokens_end_when_roles_change_or_account_disabled(client, make_user, login, world):
    admin = world.tokens["admin"]
    judge, pw = make_user(JUDGE, username="authz-changing")
    old = login(judge.username, pw)
    url = f"/api/v1/users/{judge.id}"
    assert client.get("/api/v1/auth/me", headers=old).status_code == 200
    assert client.get(f"/api/v1/selections/{world.selection}/panel",
                      headers=old).status_code == 403  # not on the panel, but logged in

    # a change of roles: the old token stops at once, everywhere
    r = client.patch(url, json={"roles": [JUDGE, INSPECTOR]}, headers=admin)
    assert r.status_code == 200, r.text
    for probe in ("/api/v1/auth/me", "/api/v1/selections",
                  f"/api/v1/selections/{world.selection}"):
        r = client.get(probe, headers=old)
        assert r.status_code == 401, (probe, r.status_code, r.text)
        assert r.json()["code"] == "invalid_token"
    new = login(judge.username, pw)
    assert client.get("/api/v1/auth/me", headers=new).json()["roles"] == [INSPECTOR, JUDGE]

    # a change of other details keeps the token
    r = client.patch(url, json={"full_name": "评委甲"}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=new).status_code == 200

    # a role taken away: a demoted admin (the world's spare user, made admin and given a
    # token as the login route mints them) loses admin routes at once
    boss = world.spare_user
    r = client.patch(f"/api/v1/users/{boss}", json={"roles": [ADMIN]}, headers=admin)
    assert r.status_code == 200, r.text
    boss_token = _mint(boss)
    assert client.get("/api/v1/users", headers=boss_token).status_code == 200
    r = client.patch(f"/api/v1/users/{boss}", json={"roles": [NOMINATOR], "nominating_body": {
        "kind": "trade_union", "name": "机关工会"}}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/users", headers=boss_token).status_code == 401
    assert client.post("/api/v1/selections", json={}, headers=boss_token).status_code == 401
    assert client.get("/api/v1/users", headers=_mint(boss)).status_code == 403

    # disabled: the token stops at once, and no new one is issued
    r = client.patch(url, json={"is_active": False}, headers=admin)
    assert r.status_code == 200, r.text
    r = client.get("/api/v1/auth/me", headers=new)
    assert r.status_code == 401 and r.json()["code"] == "invalid_token", r.text
    r = client.post("/api/v1/auth/token", data={"username": judge.username, "password": pw})
    assert r.status_code == 401, r.text
    # enabled again: still only a fresh login works
    r = client.patch(url, json={"is_active": True}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get("/api/v1/auth/me", headers=new).status_code == 401
    assert client.get("/api/v1/auth/me", headers=login(judge.username, pw)).status_code == 200

    # a bad or missing token is 401 on a protected route, never 403
    for headers in ({}, {"Authorization": "Bearer not-a-token"},
                    {"Authorization": "Basic YWRtaW46YWRtaW4="}):
        r = client.get("/api/v1/users", headers=headers)
        assert r.status_code == 401, (headers, r.status_code)
