"""Step 4, follow-up (后期四环节), through HTTP and a real SMTP server: the outcome emails
(信息反馈 — 上岗使用 / 储备人选 / 不符合) through the outbox, with retries and an admin's resend;
the editable templates; the pre-appointment publicity (任职前公示) with objections; the trial
placement (使用实习安排) with a mentor (优带新、老带新) and training records (党课学习,
支部生活锻炼) up to confirmation; the reserve pool (储备人选库) feeding a later selection; and
the selection closing only when every candidate's story has ended.

The simulated clock starts on 2026-09-30; the post is publicized for five working days over
the National Day holiday (to 2026-10-13); nominations close and the committee decides on
2026-10-14. Candidates are inserted at the gate they have reached ("inspected") with a
profile, and one applicant fails the qualification pre-review through the API. Each
appointment is then publicized from the day of the decision, 2026-10-14, to 2026-10-21 (five
working days counted from the next working day).
"""

from __future__ import annotations

import email
import email.policy
import socket
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlmodel import select

from service.config import Settings
from service.core.db import open_session
from service.followup.models import Notification
from service.nomination.models import Candidate, ReserveEntry
from service.outbox.mailer import send_due
from service.review.models import PanelMember, ScoreSheet

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
CLOCK = "/api/v1/admin/clock"
PUBLIC = "/api/v1/public/appointments"
TEMPLATES = "/api/v1/notification-templates"
POOL = "/api/v1/reserve-pool"
PROBLEM = "application/problem+json"
PASSWORD = "correct-horse-9"

SIM_DAY = "2026-09-30"
DECISION_DAY = "2026-10-14"           # first day after the publicity (to 2026-10-13)
PUBLICITY_START = "2026-10-14"        # announced on the day of the decision
PUBLICITY_END = "2026-10-21"          # 5 working days: 15, 16, 19, 20, 21 October
AFTER_PUBLICITY = "2026-10-22"
TRIAL_END = "2027-10-22"              # 12 months after the start of the trial
TRIAL_END_ZH = "2027年10月22日"        # as a person reads it
RESERVE_EXPIRES = "2028-10-14"        # 2 years after the decision
TITLE = "第一党支部书记公开选拔"
ORG = "机关第一党支部"
MAIL_FROM = "org@example.cn"

PREREVIEW_ITEMS = ("ideas_and_plans", "role_understanding", "moral", "intellectual", "physical",
                   "integrity", "mass_recognition")
CRITERIA = ("self_introduction", "role_cognition", "answers", "overall_impression")
FAIL_REASON = "群众认可度不足，民主推荐得票率偏低"
MENTORING = {"kind": "senior_guides_new",
             "mentor_standing": {"kind": "serving_secretary", "post": "机关第二党支部书记"}}
FINAL_ASSESSMENT = {"kind": "final", "held_on": "2027-10-23", "taking_part": 25,
                    "excellent": 12, "competent": 10, "basically_competent": 2,
                    "incompetent": 0, "mentor_opinion": "能够独立主持支部工作",
                    "branch_opinion": "支部党员普遍认可", "grade": "competent"}


def _profile(name: str, email_addr: str | None, *, birth: str, post: str, unit: str,
             phone: str, education: str = "bachelor") -> dict[str, Any]:
    p = {"full_name": name, "gender": "male", "birth_date": birth, "education": education,
         "party_joined_on": "2012-07-01", "work_started_on": "2010-07-01",
         "current_post": post, "unit": unit, "phone": phone}
    if email_addr:
        p["email"] = email_addr
    return p


PEOPLE: dict[str, dict[str, Any]] = {
    "li": _profile("李明", "liming@example.cn", birth="1988-05-12", post="办公室副主任",
                   unit="机关办公室", phone="13800000000"),
    "wang": _profile("王芳", "wangfang@example.cn", birth="1990-03-08", post="财务科科长",
                     unit="财务部", phone="13900000001", education="master"),
    "zhao": _profile("赵强", "zhaoqiang@example.cn", birth="1992-11-20", post="团委副书记",
                     unit="公司团委", phone="13700000002"),
    "chen": _profile("陈静", "chenjing@example.cn", birth="1991-08-15", post="人事专员",
                     unit="人力资源部", phone="13500000004"),
    "zhou": _profile("周国庆", "zhouguoqing@example.cn", birth="1985-01-01", post="车间主任",
                     unit="一车间", phone="13600000003"),
    "sun": _profile("孙悦", None, birth="1993-02-14", post="技术员", unit="技术中心",
                    phone="13600000005"),
}
# Interview scores (one judge, every criterion the same): the rank follows.
SCORE = {"li": 90.0, "wang": 85.0, "zhao": 82.0, "chen": 80.0, "sun": 78.0}


# ---------------------------------------------------------------- small helpers
def _ok(r, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def _problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    if code is not None:
        assert body["code"] == code, body
    return body


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _smtp_settings(port: int, **extra: Any) -> Settings:
    return Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from=MAIL_FROM,
                    smtp_timeout_seconds=5, **extra)


def _rewind_retries(candidate_ids: list[str]) -> None:
    """Make every message of these candidates due now, as if the backoff had passed."""
    ids = [uuid.UUID(c) for c in candidate_ids]
    with open_session(write=True) as s:
        for n in s.exec(select(Notification).where(
                Notification.candidate_id.in_(ids))):  # type: ignore[attr-defined]
            n.next_attempt_at = datetime.now(UTC) - timedelta(minutes=5)
            s.add(n)
        s.commit()


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


# ---------------------------------------------------------------- a real SMTP server
class Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[tuple[list[str], email.message.EmailMessage]]:
        """(recipients, parsed message) of every message received."""
        return [(list(e.rcpt_tos), email.message_from_bytes(
            e.original_content or e.content, policy=email.policy.default))
            for e in self.envelopes]

    def by_recipient(self) -> dict[str, email.message.EmailMessage]:
        out = {}
        for rcpts, msg in self.messages():
            assert len(rcpts) == 1, rcpts
            assert rcpts[0] not in out, f"{rcpts[0]} received two messages"
            out[rcpts[0]] = msg
        return out


@pytest.fixture
def smtp_server():
    """Start a real SMTP server on a port (a free one by default); returns (inbox, port)."""
    started: list[Controller] = []

    def start(port: int | None = None) -> tuple[Inbox, int]:
        inbox = Inbox()
        port = port or _free_port()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        started.append(controller)
        return inbox, port

    yield start
    for c in started:
        c.stop()


# ---------------------------------------------------------------- the scenario
class Flow:
    """A selection walked to the committee's decision, quickly."""

    def __init__(self, client, admin, make_user, login, make_selection, make_candidate):
        self.client, self.admin = client, admin
        self._make_user, self._login = make_user, login
        self._make_selection, self._make_candidate = make_selection, make_candidate
        self.c: dict[str, str] = {}
        self.users: dict[str, tuple[str, dict]] = {}

    # -- plumbing
    def user(self, *roles: str, email_addr: str | None = None) -> tuple[str, dict]:
        u, pw = self._make_user(*roles)
        if email_addr:
            from service.core.models import User

            with open_session(write=True) as s:
                row = s.get(User, u.id)
                row.email = email_addr
                s.add(row)
                s.commit()
        return str(u.id), self._login(u.username, pw)

    def get(self, path: str, headers: dict | None = None, **kw):
        return self.client.get(path, headers=self.admin if headers is None else headers, **kw)

    def post(self, path: str, body: Any = None, headers: dict | None = None):
        return self.client.post(path, json=body if body is not None else {},
                                headers=self.admin if headers is None else headers)

    def put(self, path: str, body: Any, headers: dict | None = None):
        return self.client.put(path, json=body, headers=self.admin if headers is None else headers)

    def act(self, key: str, action: str, body: dict | None = None, headers: dict | None = None):
        return self.post(f"{CAND}/{self.c[key]}/actions/{action}", body or {}, headers)

    def act_selection(self, action: str, body: dict | None = None, sel: str | None = None):
        return self.post(f"{SEL}/{sel or self.sel}/actions/{action}", body or {})

    def advance(self, days: int) -> dict:
        return _ok(self.post(f"{CLOCK}/advance", {"days": days}))

    def today(self) -> str:
        return _ok(self.get(CLOCK))["today"]

    def state(self, key: str) -> str:
        return _ok(self.get(f"{CAND}/{self.c[key]}"))["state"]

    def events(self, key: str) -> list[dict]:
        return _ok(self.get(f"{CAND}/{self.c[key]}/events"))["items"]

    def actions_of(self, key: str) -> list[str]:
        return [e["action"] for e in self.events(key)]

    def notifications(self, key: str) -> list[dict]:
        return _ok(self.get(f"{CAND}/{self.c[key]}/notifications"))

    def notification(self, key: str) -> dict:
        rows = self.notifications(key)
        assert len(rows) == 1, rows
        return rows[0]

    def follow_up(self, key: str, headers: dict | None = None) -> dict:
        return _ok(self.get(f"{CAND}/{self.c[key]}/follow-up", headers))

    # -- up to the committee
    def reviewing(self, *, posts: int = 1, **settings: Any) -> Flow:
        _ok(self.put(CLOCK, {"day": SIM_DAY}))
        self.sel = self._make_selection(title=TITLE, organization=ORG, posts=posts,
                                        settings=settings)["id"]
        _ok(self.act_selection("publish", {"params": {"start_on": SIM_DAY}}))
        self.advance(14)
        assert _ok(self.act_selection("close_nominations"))["state"] == "reviewing"
        assert self.today() == DECISION_DAY
        return self

    def add(self, key: str, *, state: str = "inspected", user_id: str | None = None,
            profile: dict | None = None) -> str:
        cid = self._make_candidate(self.sel, state=state, full_name=PEOPLE[key]["full_name"],
                                   user_id=uuid.UUID(user_id) if user_id else None)
        with open_session(write=True) as s:
            row = s.get(Candidate, cid)
            row.profile = dict(profile if profile is not None else PEOPLE[key])
            s.add(row)
            s.commit()
        self.c[key] = str(cid)
        return self.c[key]

    def scores(self) -> Flow:
        """One judge's interview sheets, so that reserves enter the pool with a score."""
        judge_id, _ = self.user("judge")
        with open_session(write=True) as s:
            s.add(PanelMember(selection_id=uuid.UUID(self.sel), user_id=uuid.UUID(judge_id)))
            for key, cid in self.c.items():
                if key in SCORE:
                    s.add(ScoreSheet(selection_id=uuid.UUID(self.sel),
                                     candidate_id=uuid.UUID(cid), judge_id=uuid.UUID(judge_id),
                                     scores={k: SCORE[key] for k in CRITERIA},
                                     total=SCORE[key]))
            s.commit()
        return self

    def fail_prereview(self, key: str, reason: str = FAIL_REASON) -> dict:
        items = {i: {"satisfactory": i != "mass_recognition", "note": "民主推荐得票率低"
                     if i == "mass_recognition" else "符合"} for i in PREREVIEW_ITEMS}
        out = _ok(self.act(key, "fail_prereview", {"reason": reason,
                                                   "params": {"assessment": items}}))
        assert out["state"] == "not_qualified"
        return out

    def committee(self, decisions: dict[str, str], held_on: str = DECISION_DAY) -> dict:
        assert _ok(self.act_selection("submit_to_committee"))["state"] == "deciding"
        members = [self.user("committee")[0] for _ in range(9)]
        body = {"held_on": held_on, "members_due": members, "present": members[:7],
                "decisions": [{"candidate_id": self.c[k], "votes_for": 6, "votes_against": 1,
                               "abstentions": 0, "outcome": outcome,
                               "reason": "考察中发现问题" if outcome == "not_qualified" else ""}
                              for k, outcome in decisions.items()],
                "minutes": "党委会审议面议及考察情况，逐人表决"}
        return _ok(self.post(f"{SEL}/{self.sel}/committee-meetings", body), 201)

    def finish(self) -> dict:
        out = _ok(self.act_selection("finish_decision"))
        assert out["state"] == "following_up"
        return out

    def standard(self, *, appointed=("li",), reserve=("wang",), failed=("zhou",), posts=1,
                 finish: bool = True, user_ids: dict[str, str] | None = None,
                 **settings: Any) -> Flow:
        """Reviewing; the failed applicants fail the pre-review; the others are inspected and
        decided (appointed / reserve); the decision is finished."""
        self.reviewing(posts=posts, **settings)
        user_ids = user_ids or {}
        for key in failed:
            self.add(key, state="applicant", user_id=user_ids.get(key))
        for key in (*appointed, *reserve):
            self.add(key, user_id=user_ids.get(key))
        self.scores()
        for key in failed:
            self.fail_prereview(key)
        self.committee({**{k: "appointed" for k in appointed},
                        **{k: "reserve" for k in reserve}})
        if finish:
            self.finish()
        return self

    # -- the trial
    def start_trial(self, key: str, **extra: Any):
        return self.act(key, "start_trial", {"params": {"unit": "第三车间党支部",
                                                        "post": "支部副书记（实习）", **extra}})


def conclude(f: Flow, objection_id: str, conclusion: str, reasons: str) -> dict:
    """Investigate an objection with a team of two, record a finding, conclude."""
    base = f"/api/v1/objections/{objection_id}/actions"
    team = [f.user("inspector")[0], f.user("inspector")[0]]
    _ok(f.post(f"{base}/start_investigation", {"params": {"investigators": team}}))
    _ok(f.post(f"{base}/record_investigation", {"params": {
        "kind": "finding", "held_on": f.today(), "investigator_id": team[0],
        "content": reasons}}))
    return _ok(f.post(f"{base}/conclude_{conclusion}", {"reason": reasons}))


@pytest.fixture
def flow(client, admin, make_user, login, make_selection, make_candidate) -> Flow:
    return Flow(client, admin, make_user, login, make_selection, make_candidate)


# ================================================================ feedback: outcome emails
def test_every_candidate_gets_one_outcome_email_through_a_real_smtp_server(flow, smtp_server):
    f = flow.standard()
    # before any sender runs, the messages wait in the outbox; the service has no SMTP
    for key in ("li", "wang", "zhou"):
        n = f.notification(key)
        assert (n["state"], n["attempts"], n["sent_at"]) == ("queued", 0, None)
        assert n["to_address"] == PEOPLE[key]["email"]
        assert "SMTP" in n["note"]

    inbox, port = smtp_server()
    settings = _smtp_settings(port)
    assert send_due(settings) == 3

    received = inbox.by_recipient()
    assert set(received) == {PEOPLE[k]["email"] for k in ("li", "wang", "zhou")}
    expected = {"li": "上岗使用", "wang": "储备人选", "zhou": "不符合"}
    for key, label in expected.items():
        msg = received[PEOPLE[key]["email"]]
        assert msg["From"] == MAIL_FROM
        assert msg["To"] == PEOPLE[key]["email"]
        assert msg["Message-ID"]
        assert msg.get_content_type() == "text/plain"
        assert label in msg["Subject"] and ORG in msg["Subject"], msg["Subject"]
        body = msg.get_content()
        assert body.startswith(f"{PEOPLE[key]['full_name']}同志：")
        assert f"“{TITLE}”" in body and label in body
        other_labels = set(expected.values()) - {label}
        assert not any(x in msg["Subject"] for x in other_labels)
    # the one who failed learns at which gate and why (让参选人"知其所以然")
    zhou_body = received[PEOPLE["zhou"]["email"]].get_content()
    assert "环节：资格预审" in zhou_body
    assert f"原因：{FAIL_REASON}" in zhou_body
    for key in ("li", "wang"):
        assert "环节：" not in received[PEOPLE[key]["email"]].get_content()

    # never twice
    assert send_due(settings) == 0
    assert len(inbox.envelopes) == 3

    for key in ("li", "wang", "zhou"):
        n = f.notification(key)
        assert (n["state"], n["attempts"], n["last_error"], n["note"]) == ("sent", 1, None,
                                                                           None)
        assert n["sent_at"] is not None
        assert n["outcome"] == {"li": "appointed", "wang": "reserve",
                                "zhou": "not_qualified"}[key]
        sent = [e for e in f.events(key) if e["action"] == "notification_sent"]
        assert len(sent) == 1
        assert sent[0]["params"]["to"] == PEOPLE[key]["email"]
        assert sent[0]["params"]["notification_id"] == n["id"]
        actions = f.actions_of(key)
        assert actions.index("queue_notification") < actions.index("notification_sent")
    assert f.actions_of("zhou")[-3:] == ["fail_prereview", "queue_notification",
                                         "notification_sent"]
    fail = next(e for e in f.events("zhou") if e["action"] == "fail_prereview")
    assert fail["reason"] == FAIL_REASON
    assert "decide_appoint" in f.actions_of("li") and "decide_reserve" in f.actions_of("wang")


def test_the_outbox_is_filled_once_per_candidate_by_the_decision(flow):
    f = flow.standard(finish=False)
    # the one who failed at the pre-review has an outcome already, but nothing is sent yet
    assert f.notifications("zhou") == []
    assert f.notifications("li") == []
    last = _ok(f.get(f"{SEL}/{f.sel}/events"))["items"][-1]
    assert last["action"] == "record_committee_meeting"
    f.finish()
    event = _ok(f.get(f"{SEL}/{f.sel}/events"))["items"][-1]
    assert (event["action"], event["params"]["notifications_queued"]) == ("finish_decision", 3)
    queued = next(e for e in f.events("li") if e["action"] == "queue_notification")
    assert queued["params"]["outcome"] == "appointed"
    assert queued["params"]["to"] == PEOPLE["li"]["email"]
    assert queued["params"]["state"] == "queued"


def test_the_senders_events_carry_the_simulated_time_like_every_other_event(flow,
                                                                           smtp_server):
    """In a simulation (情景模拟) every event records the simulated time beside the real one;
    the sender's events are part of the same record."""
    f = flow.standard(failed=(), reserve=())
    inbox, port = smtp_server()
    assert send_due(_smtp_settings(port)) == 1
    events = f.events("li")
    assert events[-1]["action"] == "notification_sent"
    assert [e["action"] for e in events if e["simulated_at"] is None] == []
    assert events[-1]["simulated_at"][:10] == DECISION_DAY


def test_an_smtp_outage_is_retried_later_and_each_message_still_goes_out_once(flow,
                                                                              smtp_server):
    f = flow.standard(failed=())
    port = _free_port()  # nothing listens there: the server is down
    settings = _smtp_settings(port)
    before = datetime.now(UTC)
    assert send_due(settings) == 0
    for key in ("li", "wang"):
        n = f.notification(key)
        assert (n["state"], n["attempts"], n["sent_at"]) == ("queued", 1, None)
        assert n["last_error"], n
        assert _parse_time(n["next_attempt_at"]) > before + timedelta(seconds=20)
        # a failure on its way to a retry is no final event; nothing was sent
        assert "notification_sent" not in f.actions_of(key)
        assert "notification_failed" not in f.actions_of(key)

    # the server comes back, but the backoff has not passed: nothing is tried yet
    inbox, _ = smtp_server(port)
    assert send_due(settings) == 0
    assert inbox.envelopes == []
    assert [f.notification(k)["attempts"] for k in ("li", "wang")] == [1, 1]

    _rewind_retries([f.c["li"], f.c["wang"]])
    assert send_due(settings) == 2
    assert set(inbox.by_recipient()) == {PEOPLE["li"]["email"], PEOPLE["wang"]["email"]}
    assert send_due(settings) == 0
    _rewind_retries([f.c["li"], f.c["wang"]])
    assert send_due(settings) == 0
    assert len(inbox.envelopes) == 2
    for key in ("li", "wang"):
        n = f.notification(key)
        assert (n["state"], n["attempts"], n["last_error"]) == ("sent", 2, None)
        sent = [e for e in f.events(key) if e["action"] == "notification_sent"]
        assert len(sent) == 1 and sent[0]["params"]["attempts"] == 2


def test_delivery_gives_up_after_the_maximum_attempts_and_an_admin_resend_queues_it_again(
        flow, smtp_server, as_role):
    f = flow.standard(failed=())
    li, wang = f.notification("li"), f.notification("wang")
    # a message still waiting for its first try is not queued a second time
    _problem(f.post(f"{CAND}/{f.c['wang']}/notifications/{wang['id']}/resend"), 409,
             "already_queued")
    # only admins resend, and only the candidate's own messages
    _problem(f.post(f"{CAND}/{f.c['li']}/notifications/{li['id']}/resend", {},
                    as_role("judge")), 404)
    _problem(f.post(f"{CAND}/{f.c['wang']}/notifications/{li['id']}/resend"), 404,
             "notification_not_found")

    port = _free_port()
    settings = _smtp_settings(port, mail_max_attempts=2)
    assert send_due(settings) == 0
    _rewind_retries([f.c["li"], f.c["wang"]])
    assert send_due(settings) == 0
    for key in ("li", "wang"):
        n = f.notification(key)
        assert (n["state"], n["attempts"]) == ("failed", 2)
        assert n["last_error"]
        assert "重新发送" in n["note"]
        failed = [e for e in f.events(key) if e["action"] == "notification_failed"]
        assert len(failed) == 1 and failed[0]["params"]["attempts"] == 2
    # given up: no more tries, even when due
    _rewind_retries([f.c["li"], f.c["wang"]])
    inbox, _ = smtp_server(port)
    assert send_due(settings) == 0
    assert inbox.envelopes == []

    # the admin resends 李明's, in English
    out = _ok(f.post(f"{CAND}/{f.c['li']}/notifications/{li['id']}/resend",
                     {"language": "en"}))
    assert (out["id"], out["state"], out["attempts"], out["last_error"]) == (
        li["id"], "queued", 0, None)
    assert out["language"] == "en" and "Appointed" in out["subject"]
    resend = f.events("li")[-1]
    assert resend["action"] == "resend_notification"
    assert resend["params"]["language"] == "en"
    assert resend["actor_role"] == "admin"

    assert send_due(settings) == 1
    received = inbox.by_recipient()
    assert list(received) == [PEOPLE["li"]["email"]]
    msg = received[PEOPLE["li"]["email"]]
    assert msg["Subject"] == f"[{ORG}] Branch secretary selection result: Appointed"
    assert msg.get_content().startswith("Dear 李明,")
    assert (f.notification("li")["state"], f.notification("wang")["state"]) == ("sent",
                                                                                "failed")
    assert send_due(settings) == 0


def test_without_smtp_messages_wait_and_a_candidate_without_email_is_undeliverable(
        flow, smtp_server):
    f = flow.standard(failed=(), reserve=("sun",))
    assert send_due(Settings(smtp_host=None)) == 0
    li = f.notification("li")
    assert (li["state"], li["attempts"]) == ("queued", 0)
    assert "SMTP" in li["note"]

    sun = f.notification("sun")
    assert sun["state"] == "undeliverable"
    assert sun["to_address"] is None
    assert "email" in sun["last_error"]
    assert "电子邮箱" in sun["note"]
    queued = next(e for e in f.events("sun") if e["action"] == "queue_notification")
    assert queued["params"]["state"] == "undeliverable"

    # a server appears: only the message with an address goes out
    inbox, port = smtp_server()
    assert send_due(_smtp_settings(port)) == 1
    assert list(inbox.by_recipient()) == [PEOPLE["li"]["email"]]
    assert f.notification("sun")["state"] == "undeliverable"

    # an address is added to the record, and the admin resends
    with open_session(write=True) as s:
        row = s.get(Candidate, uuid.UUID(f.c["sun"]))
        row.profile = {**row.profile, "email": "sunyue@example.cn"}
        s.add(row)
        s.commit()
    out = _ok(f.post(f"{CAND}/{f.c['sun']}/notifications/{sun['id']}/resend"))
    assert (out["state"], out["to_address"]) == ("queued", "sunyue@example.cn")
    assert send_due(_smtp_settings(port)) == 1
    msg = inbox.by_recipient()["sunyue@example.cn"]
    assert "储备人选" in msg["Subject"] and "孙悦同志" in msg.get_content()
    assert f.notification("sun")["state"] == "sent"


# ================================================================ templates
def test_templates_are_listed_checked_and_an_edit_changes_the_email(flow, as_role,
                                                                   smtp_server):
    rows = _ok(flow.get(TEMPLATES))
    outcomes = ("appointed", "reserve", "not_qualified", "lapsed", "declined", "withdrawn",
                "confirmed", "dismissed", "revoked", "appointment_withdrawn", "reserve_expired",
                "reserve_used", "backfilled", "not_elected", "not_approved")
    assert len(rows) == 2 * len(outcomes)
    assert {(r["outcome"], r["language"]) for r in rows} == {
        (o, lang) for o in outcomes for lang in ("zh", "en")}
    assert not any(r["customised"] for r in rows)
    _problem(flow.get(TEMPLATES, as_role("judge")), 403)

    url = f"{TEMPLATES}/not_qualified/zh"
    p = _problem(flow.put(url, {"subject": "结果：{outcome_label}",
                                "body": "{full_name}：{foo}"}), 422, "template_placeholder")
    assert p["details"]["unknown"] == ["foo"]
    _problem(flow.put(url, {"subject": "结果 {", "body": "x"}), 422, "template_malformed")
    # a placeholder is its name alone, as the document's pattern says
    _problem(flow.put(url, {"subject": "结果", "body": "{full_name!r}"}), 422,
             "template_malformed")
    _problem(flow.put(url, {"subject": "结果 {gate:>5}", "body": "x"}), 422, "template_malformed")
    _problem(flow.put(f"{TEMPLATES}/postponed/zh", {"subject": "x", "body": "y"}), 422)
    _problem(flow.put(url, {"subject": "结果", "body": "正文"}, as_role("committee")), 403)
    assert not any(r["customised"] for r in _ok(flow.get(TEMPLATES)))

    f = flow.standard(finish=False)
    preview = _ok(f.get(f"{CAND}/{f.c['zhou']}/notifications/preview",
                        params={"language": "zh"}))
    assert preview["outcome"] == "not_qualified"
    assert preview["to_address"] == PEOPLE["zhou"]["email"]
    assert "环节：资格预审" in preview["body"]

    subject = "【{organization}】选拔结果：{outcome_label}（{gate}）"
    body = "{full_name}同志：\n您未通过{gate}，原因是：{reason}。\n欢迎下次再来。"
    saved = _ok(f.put(url, {"subject": subject, "body": body}))
    assert saved["customised"] is True
    row = next(r for r in _ok(f.get(TEMPLATES)) if (r["outcome"], r["language"])
               == ("not_qualified", "zh"))
    assert (row["subject"], row["body"], row["customised"]) == (subject, body, True)

    preview = _ok(f.get(f"{CAND}/{f.c['zhou']}/notifications/preview",
                        params={"language": "zh"}))
    assert preview["subject"] == f"【{ORG}】选拔结果：不符合（资格预审）"
    assert preview["body"] == (f"周国庆同志：\n您未通过资格预审，原因是：{FAIL_REASON}。\n"
                               "欢迎下次再来。")
    en = _ok(f.get(f"{CAND}/{f.c['zhou']}/notifications/preview", params={"language": "en"}))
    assert en["subject"] == f"[{ORG}] Branch secretary selection result: Not qualified"
    assert "Stage: qualification pre-review" in en["body"]
    assert f"Reason: {FAIL_REASON}" in en["body"]
    assert en["body"].startswith("Dear 周国庆,")
    # other outcomes keep their default template
    li = _ok(f.get(f"{CAND}/{f.c['li']}/notifications/preview"))
    assert li["outcome"] == "appointed"
    assert li["subject"] == f"【{ORG}】党支部书记公开选拔结果通知：上岗使用"

    # the emails written at the decision use the edited template
    f.finish()
    n = f.notification("zhou")
    assert n["subject"] == preview["subject"] and n["body"] == preview["body"]
    inbox, port = smtp_server()
    send_due(_smtp_settings(port))
    msg = inbox.by_recipient()[PEOPLE["zhou"]["email"]]
    assert msg["Subject"] == preview["subject"]
    assert msg.get_content().rstrip("\n") == preview["body"]


def test_a_candidate_without_an_outcome_has_no_preview(flow):
    f = flow.reviewing()
    f.add("li")
    _problem(f.get(f"{CAND}/{f.c['li']}/notifications/preview"), 409, "no_outcome_yet")
    assert f.notifications("li") == []


# ================================================================ pre-appointment publicity
PUBLIC_KEYS = {"candidate_id", "full_name", "current_post", "unit", "proposed_post", "post",
               "branch", "post_title", "publicity_start_on", "publicity_end_on",
               "how_to_object", "gender", "gender_label", "birth_month", "education",
               "education_label", "party_joined_on", "backfilled"}


def test_pre_appointment_publicity_with_objections_then_the_trial(flow, client):
    f = flow.standard(appointed=("li", "zhao"), posts=2)
    appointment = f.follow_up("li")["appointment"]
    assert appointment["proposed_post"] == f"{ORG}书记"
    assert appointment["decided_on"] == DECISION_DAY
    assert (appointment["publicity_start_on"], appointment["publicity_end_on"]) == (
        PUBLICITY_START, PUBLICITY_END)
    decided = next(e for e in f.events("li") if e["action"] == "decide_appoint")
    assert decided["params"]["appointment"]["publicity_end_on"] == PUBLICITY_END

    f.advance(1)  # 2026-10-15: the publicity runs
    r = client.get(PUBLIC)  # no token
    listed = _ok(r)
    assert {a["candidate_id"] for a in listed} == {f.c["li"], f.c["zhao"]}
    li = next(a for a in listed if a["candidate_id"] == f.c["li"])
    assert set(li) == PUBLIC_KEYS
    assert (li["full_name"], li["current_post"], li["unit"], li["proposed_post"]) == (
        "李明", "办公室副主任", "机关办公室", f"{ORG}书记")
    assert (li["post"], li["branch"], li["post_title"]) == ("p1", ORG, "党支部书记")
    assert (li["publicity_start_on"], li["publicity_end_on"]) == (PUBLICITY_START,
                                                                  PUBLICITY_END)
    for key in ("li", "zhao"):
        p = PEOPLE[key]
        for secret in (p["email"], p["phone"], p["birth_date"]):
            assert secret not in r.text
    # a reserve is not publicized and cannot be objected to
    assert f.c["wang"] not in r.text
    _problem(client.post(f"{PUBLIC}/{f.c['wang']}/objections",
                         json={"content": "该同志工作作风有问题"}), 404, "publicity_not_found")

    # the trial waits for the end of the publicity
    p = _problem(f.start_trial("li"), 409, "appointment_publicity_not_ended")
    assert p["details"]["publicity_end_on"] == PUBLICITY_END
    assert f.state("li") == "appointed"

    # anyone objects, without an account; a contact is optional
    o_li = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections",
                           json={"content": "反映该同志在原单位存在违规报销问题"}), 201)
    o_zhao = _ok(client.post(f"{PUBLIC}/{f.c['zhao']}/objections",
                             json={"content": "反映该同志隐瞒个人有关事项",
                                   "contact": "13912345678"}), 201)
    _problem(client.post(f"{PUBLIC}/{f.c['li']}/objections", json={"content": "短"}), 422)
    received = [e for e in f.events("li") if e["action"] == "receive_objection"]
    assert len(received) == 1 and received[0]["params"]["objection_id"] == o_li["id"]
    assert received[0]["actor_role"] == "public"

    # with an objection pending, that is the answer, during the publicity as after it
    _problem(f.start_trial("li"), 409, "objection_pending")

    f.advance(7)  # 2026-10-22: the publicity is over
    assert f.today() == AFTER_PUBLICITY
    assert _ok(client.get(PUBLIC)) == []
    _problem(client.post(f"{PUBLIC}/{f.c['li']}/objections",
                         json={"content": "补充反映该同志有关问题"}), 404, "publicity_not_found")
    _problem(client.post(f"{PUBLIC}/{uuid.uuid4()}/objections",
                         json={"content": "反映有关问题线索"}), 404)
    p = _problem(f.start_trial("li"), 409, "objection_pending")
    assert (p["details"]["objection_id"], p["details"]["objection_state"]) == (o_li["id"],
                                                                               "received")

    objections = _ok(f.get(f"{CAND}/{f.c['li']}/objections"))
    assert [(o["id"], o["state"]) for o in objections] == [(o_li["id"], "received")]

    handled = conclude(f, o_li["id"], "not_upheld", "经核查，报销手续齐全，反映问题不属实")
    assert (handled["state"], handled["handling"]) == ("not_upheld",
                                                       "经核查，报销手续齐全，反映问题不属实")
    assert handled["handled_by"] is not None
    _problem(f.post(f"/api/v1/objections/{o_li['id']}/actions/conclude_upheld",
                    {"reason": "再次处理"}), 409, "action_not_allowed_in_state")
    assert f.state("li") == "appointed"

    _problem(f.start_trial("li", months=0), 422)
    trial = _ok(f.start_trial("li"))
    assert trial["state"] == "on_trial"
    placed = f.follow_up("li")["appointment"]["trial"]
    assert placed == {"unit": "第三车间党支部", "post": "支部副书记（实习）",
                      "start_on": AFTER_PUBLICITY, "months": 12, "end_on": TRIAL_END}

    # an objection found true: the appointment cannot go on, and the admin revokes it
    handled = conclude(f, o_zhao["id"], "upheld", "经核查，该同志确有隐瞒个人有关事项情况")
    assert handled["state"] == "upheld"
    p = _problem(f.start_trial("zhao"), 409, "objection_upheld")
    assert p["details"]["objection_id"] == o_zhao["id"]
    assert f.state("zhao") == "appointed"
    _ok(f.act("zhao", "revoke", {"reason": "任职前公示期间异议经核实成立，取消任用"}))
    assert f.state("zhao") == "revoked"
    revoke = next(e for e in f.events("zhao") if e["action"] == "revoke")
    assert (revoke["from_state"], revoke["to_state"]) == ("appointed", "revoked")
    assert revoke["params"]["objections_upheld"] == [o_zhao["id"]]
    assert revoke["params"]["vacated_post"] == f"{ORG}书记"
    _problem(f.start_trial("zhao"), 409)

    li_actions = f.actions_of("li")
    for action in ("decide_appoint", "queue_notification", "receive_objection",
                   "conclude_objection", "start_trial"):
        assert action in li_actions, (action, li_actions)
    assert li_actions.index("receive_objection") < li_actions.index("conclude_objection") \
        < li_actions.index("start_trial")
    start = f.events("li")[-1]
    assert (start["action"], start["params"]["trial"]["end_on"]) == ("start_trial", TRIAL_END)
    zhao_actions = f.actions_of("zhao")
    assert zhao_actions[-4:] == ["receive_objection", "conclude_objection", "revoke",
                                 "queue_notification"]

    # the selection cannot close while 李明 is on trial
    p = _problem(f.act_selection("close"), 409, "follow_up_unfinished")
    assert p["details"]["candidates_waiting"] == {"on_trial": 1}


def test_only_admins_handle_objections_and_only_during_the_publicity_one_is_lodged(
        flow, client, as_role):
    f = flow.standard()
    # a reserve's record is not publicized: nothing to object to
    _problem(client.post(f"{PUBLIC}/{f.c['wang']}/objections",
                         json={"content": "反映该同志有关问题"}), 404, "publicity_not_found")
    f.advance(1)
    o = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections",
                        json={"content": "反映该同志有关问题"}), 201)
    url = f"/api/v1/objections/{o['id']}/actions/start_investigation"
    team = {"params": {"investigators": [f.user("inspector")[0], f.user("inspector")[0]]}}
    _problem(f.post(url, team, as_role("committee")), 403)
    _problem(client.post(url, json=team), 401)
    _problem(f.post(url, {"params": {"investigators": "nobody"}}), 422)
    _problem(f.post(f"/api/v1/objections/{uuid.uuid4()}/actions/start_investigation", team),
             404)
    _problem(f.get(f"/api/v1/objections/{o['id']}", as_role("committee")), 403)
    assert [x["state"] for x in _ok(f.get(f"{CAND}/{f.c['li']}/objections"))] == ["received"]


# ================================================================ the trial
def test_trial_with_a_mentor_and_training_records_up_to_confirmation(flow, as_role):
    f = flow.standard(min_party_lesson_hours=8, min_branch_life_hours=6)
    f.advance(8)
    assert f.today() == AFTER_PUBLICITY
    assert _ok(f.start_trial("li"))["state"] == "on_trial"

    p = _problem(f.act("li", "confirm"), 409, "trial_records_incomplete")
    missing = p["details"]["missing"]
    assert f"试用期至 {TRIAL_END_ZH}" in missing
    assert "尚未指定导师" in missing
    assert "党课学习：应 8 小时，已 0 小时，共 0 条记录" in missing, missing
    assert "支部生活锻炼：应 6 小时，已 0 小时，共 0 条记录" in missing, missing

    mentor_id, mentor = f.user("mentor")
    judge_id, judge = f.user("judge")
    _, other_mentor = f.user("mentor")
    url = f"{CAND}/{f.c['li']}/mentorship"
    plan = "每季度谈心谈话一次，带教支部工作方法，指导组织生活会"
    _problem(f.put(url, {"mentor_id": judge_id, "plan": plan, **MENTORING}), 422,
             "not_a_mentor")
    _problem(f.put(url, {"mentor_id": str(uuid.uuid4()), "plan": plan, **MENTORING}), 422,
             "not_a_mentor")
    # only admins assign (a mentor does not even see a candidate before being assigned)
    _problem(f.put(url, {"mentor_id": mentor_id, "plan": plan, **MENTORING}, mentor), 404)
    m = _ok(f.put(url, {"mentor_id": mentor_id, "plan": plan, "meeting_interval_days": 90,
                        **MENTORING}))
    assert (m["mentor_id"], m["plan"], m["meeting_interval_days"], m["assigned_on"]) == (
        mentor_id, plan, 90, AFTER_PUBLICITY)

    records = f"{CAND}/{f.c['li']}/follow-up-records"
    meeting = {"kind": "mentor_meeting", "held_on": AFTER_PUBLICITY,
               "subject": "首次谈心谈话：明确实习目标", "assessment": "态度端正"}
    # the mentor's meetings are recorded by the mentor only
    _problem(f.post(records, meeting), 403, "not_the_mentor")
    _problem(f.post(records, meeting, other_mentor), 404)
    _problem(f.post(records, {**meeting, "held_on": "2026-10-23"}, mentor), 409,
             "date_in_future")
    first = _ok(f.post(records, meeting, mentor), 201)
    assert (first["kind"], first["recorded_by"]) == ("mentor_meeting", mentor_id)
    # training records by the admin (or the mentor), with hours
    _problem(f.post(records, {"kind": "party_lesson", "held_on": AFTER_PUBLICITY,
                              "subject": "党课", "hours": 4}, judge), 404)
    _ok(f.post(records, {"kind": "party_lesson", "held_on": AFTER_PUBLICITY,
                         "subject": "学习新修订的《中国共产党支部工作条例》", "hours": 4}), 201)
    _ok(f.post(records, {"kind": "branch_life", "held_on": AFTER_PUBLICITY,
                         "subject": "参加支部主题党日活动", "hours": 6,
                         "assessment": "组织有序"}), 201)

    p = _problem(f.act("li", "confirm"), 409, "trial_records_incomplete")
    missing = p["details"]["missing"]
    assert f"试用期至 {TRIAL_END_ZH}" in missing
    assert any(m.startswith("党课学习：应 8 小时，已 4 小时") for m in missing), missing
    assert not any("支部生活" in m or "导师" in m for m in missing), missing
    _ok(f.post(records, {"kind": "party_lesson", "held_on": AFTER_PUBLICITY,
                         "subject": "专题党课：做合格支部书记", "hours": 4}, mentor), 201)
    p = _problem(f.act("li", "confirm"), 409, "trial_records_incomplete")
    assert p["details"]["missing"] == [f"试用期至 {TRIAL_END_ZH}"]

    view = f.follow_up("li")
    assert view["state"] == "on_trial"
    assert view["mentorship"]["mentor_id"] == mentor_id
    assert [r["kind"] for r in view["records"]].count("party_lesson") == 2
    assert {r["kind"] for r in view["records"]} == {"mentor_meeting", "party_lesson",
                                                     "branch_life"}
    assert view["missing_for_confirmation"] == [f"试用期至 {TRIAL_END_ZH}"]

    # ending the trial as unfit needs a reason; the selection waits for the end
    _problem(f.act("li", "dismiss"), 422, "reason_required")
    assert f.state("li") == "on_trial"
    _problem(f.act_selection("close"), 409, "follow_up_unfinished")

    f.advance(366)  # 2027-10-23: the trial has run its year
    p = _problem(f.act("li", "confirm"), 409, "trial_records_incomplete")
    assert p["details"]["missing"] == ["导师谈心：应 4 次，已 1 次"]
    assert f.follow_up("li")["missing_for_confirmation"] == ["导师谈心：应 4 次，已 1 次"]
    for held_on in ("2027-01-20", "2027-04-20", "2027-07-20"):
        _ok(f.post(records, {**meeting, "held_on": held_on, "subject": "季度谈心谈话"},
                   mentor), 201)
    _problem(f.act("li", "confirm"), 409, "final_assessment_missing")
    _ok(f.act("li", "record_assessment", {"params": FINAL_ASSESSMENT}))
    done = _ok(f.act("li", "confirm"))
    assert done["state"] == "confirmed"

    view = f.follow_up("li")
    assert view["state"] == "confirmed"
    assert len(view["records"]) == 7
    assert [r["kind"] for r in view["records"]].count("mentor_meeting") == 4
    # records are kept during the trial only
    _problem(f.post(records, {**meeting, "held_on": "2027-10-23"}, mentor), 409,
             "not_on_trial")

    actions = f.actions_of("li")
    expected = ["decide_appoint", "queue_notification", "start_trial", "assign_mentor",
                "record_mentor_meeting", "record_party_lesson", "record_branch_life",
                "record_party_lesson", "record_mentor_meeting", "record_mentor_meeting",
                "record_mentor_meeting", "record_assessment", "confirm",
                "queue_notification"]  # the confirmation is told
    assert [a for a in actions if a in set(expected)] == expected
    assign = next(e for e in f.events("li") if e["action"] == "assign_mentor")
    assert assign["params"]["mentor_id"] == mentor_id
    lesson = next(e for e in f.events("li") if e["action"] == "record_party_lesson")
    assert lesson["params"]["hours"] == 4
    meet = next(e for e in f.events("li") if e["action"] == "record_mentor_meeting")
    assert (meet["actor_id"], meet["actor_role"]) == (mentor_id, "mentor")

    # every story has ended: 李明 confirmed, 王芳 reserve, 周国庆 not qualified
    assert _ok(f.act_selection("close"))["state"] == "closed"


def test_the_assigned_mentor_reads_the_follow_up(flow, as_role):
    f = flow.standard(appointment_publicity_working_days=0)
    assert _ok(f.start_trial("li"))["state"] == "on_trial"
    mentor_id, mentor = f.user("mentor")
    _ok(f.put(f"{CAND}/{f.c['li']}/mentorship", {"mentor_id": mentor_id, "plan": "每月谈心",
                                                 **MENTORING}))
    view = f.follow_up("li", mentor)
    assert view["mentorship"]["mentor_id"] == mentor_id
    _problem(f.get(f"{CAND}/{f.c['li']}/follow-up", as_role("mentor")), 404)


def test_an_unfit_trial_ends_with_a_reason_and_then_the_selection_closes(flow):
    # no pre-appointment publicity in this selection's settings: the trial starts at once
    f = flow.standard(appointment_publicity_working_days=0)
    assert "publicity_end_on" not in f.follow_up("li")["appointment"]
    _problem(f.act_selection("close"), 409, "follow_up_unfinished")
    assert _ok(f.start_trial("li", months=6))["state"] == "on_trial"
    assert f.follow_up("li")["appointment"]["trial"]["end_on"] == "2027-04-14"
    _problem(f.put(f"{CAND}/{f.c['wang']}/mentorship",
                   {"mentor_id": f.user("mentor")[0], "plan": "谈心", **MENTORING}), 409,
             "not_on_trial")
    _problem(f.act("li", "dismiss", {"reason": "   "}), 422, "reason_required")
    out = _ok(f.act("li", "dismiss", {"reason": "试用期内未能有效开展支部工作，经考核不胜任"}))
    assert out["state"] == "dismissed"
    ev, told = f.events("li")[-2:]
    assert (told["action"], told["params"]["outcome"]) == ("queue_notification", "dismissed")
    assert (ev["action"], ev["reason"]) == ("dismiss",
                                            "试用期内未能有效开展支部工作，经考核不胜任")
    assert f.follow_up("li")["missing_for_confirmation"] == []
    assert _ok(f.act_selection("close"))["state"] == "closed"


def test_a_pre_appointment_publicity_in_a_year_without_the_official_schedule_warns(flow):
    """The committee decides on 2027-12-24: the appointee's publicity (5 working days from the
    next working day, to 2027-12-31) is counted without the official schedule, and the
    follow-up says so; a publicity in 2026 says nothing."""
    f = flow.reviewing()
    f.add("li")
    f.add("wang")
    f.scores()
    _ok(f.put(CLOCK, {"day": "2027-12-24"}))
    f.committee({"li": "appointed", "wang": "reserve"}, held_on="2027-12-24")
    up = f.follow_up("li")
    assert up["appointment"]["publicity_end_on"] == "2027-12-31"
    (warning,) = up["warnings"]
    assert "2027" in warning and "国务院节假日安排" in warning
    assert "official holiday schedule" in f.follow_up(
        "li", {**f.admin, "Accept-Language": "en"})["warnings"][0]
    appoint = next(e for e in f.events("li") if e["action"] == "decide_appoint")
    assert appoint["params"]["appointment"]["publicity_calendar_fallback_years"] == [2027]

    assert f.client.delete(CLOCK, headers=f.admin).status_code in (200, 204)
    g = flow.standard()
    assert g.follow_up("li")["warnings"] == []


# ================================================================ the reserve pool
def test_the_reserve_pool_keeps_the_selections_rank_between_equal_scores(flow):
    """Two reserves with the same interview score: the tie rule ranked chen (higher on the
    tie-break criterion) 2nd and wang 3rd; the pool lists them in that order, whichever was
    decided first."""
    f = flow.reviewing(tie_break_criterion="answers")
    f.add("li")
    f.add("wang")
    f.add("chen")
    judge_id, _ = f.user("judge")
    sheets = {"li": {k: 90.0 for k in CRITERIA},
              "wang": {"self_introduction": 85.0, "role_cognition": 85.0, "answers": 84.0,
                       "overall_impression": 86.0},
              "chen": {"self_introduction": 84.0, "role_cognition": 85.0, "answers": 86.0,
                       "overall_impression": 85.0}}
    with open_session(write=True) as s:
        s.add(PanelMember(selection_id=uuid.UUID(f.sel), user_id=uuid.UUID(judge_id)))
        for key, scores in sheets.items():
            s.add(ScoreSheet(selection_id=uuid.UUID(f.sel), candidate_id=uuid.UUID(f.c[key]),
                             judge_id=uuid.UUID(judge_id), scores=scores,
                             total=sum(scores.values()) / len(scores)))
        s.commit()
    f.committee({"li": "appointed", "wang": "reserve", "chen": "reserve"})
    pool = _ok(f.get(POOL))
    assert [(e["full_name"], e["score"], e["rank"]) for e in pool] == [
        ("陈静", 85.0, 2), ("王芳", 85.0, 3)]


def test_the_reserve_pool_feeds_a_later_selection(flow, make_selection, as_role):
    wang_user_id, wang_user = flow.user("candidate", email_addr=PEOPLE["wang"]["email"])
    f = flow.standard(reserve=("wang", "chen"), user_ids={"wang": wang_user_id})

    pool = _ok(f.get(POOL))
    assert [e["candidate_id"] for e in pool] == [f.c["wang"], f.c["chen"]]
    wang = pool[0]
    assert (wang["full_name"], wang["organization"], wang["selection_id"]) == (
        "王芳", ORG, f.sel)
    assert (wang["score"], wang["rank"]) == (85.0, 2)
    assert (pool[1]["score"], pool[1]["rank"]) == (80.0, 3)
    assert (wang["education"], wang["entered_on"], wang["expires_on"], wang["expired"]) == (
        "master", DECISION_DAY, RESERVE_EXPIRES, False)
    assert "user_id" not in wang
    decided = next(e for e in f.events("wang") if e["action"] == "decide_reserve")
    assert decided["params"]["reserve_entry_id"] == wang["id"]
    assert decided["params"]["expires_on"] == RESERVE_EXPIRES
    assert [e["id"] for e in _ok(f.get(POOL, params={"education": "master"}))] == [wang["id"]]
    assert _ok(f.get(POOL, params={"organization": "别的单位"})) == []

    # a candidate sees their own entries only; a judge does not see the pool
    assert [e["id"] for e in _ok(f.get(POOL, wang_user))] == [wang["id"]]
    assert _ok(f.get(POOL, as_role("candidate"))) == []
    _problem(f.get(POOL, as_role("judge")), 403)

    # a second selection: the reserve is nominated from the pool, with the earlier profile
    second = make_selection(title="第二党支部书记公开选拔", organization="机关第二党支部")["id"]
    _ok(f.act_selection("publish", sel=second))
    r = f.post(f"{SEL}/{second}/nominations", {
        "kind": "reserve_pool", "body_name": "机关党委", "reserve_entry_id": wang["id"],
        "reasons": "储备人选，上次选拔综合排名第二"})
    out = _ok(r, 201)
    new_id = out["candidate"]["id"]
    assert new_id != f.c["wang"]
    assert out["nomination"]["kind"] == "reserve_pool"
    assert out["nomination"]["reserve_entry_id"] == wang["id"]
    detail = _ok(f.get(f"{CAND}/{new_id}"))
    assert detail["selection_id"] == second
    assert (detail["state"], detail["full_name"]) == ("nominated", "王芳")
    earlier = _ok(f.get(f"{CAND}/{f.c['wang']}"))["profile"]
    assert {k: v for k, v in detail["profile"].items() if v is not None} == earlier
    assert detail["user_id"] == wang_user_id
    assert [n["reserve_entry_id"] for n in detail["nominations"]] == [wang["id"]]
    nominate = _ok(f.get(f"{CAND}/{new_id}/events"))["items"][0]
    assert nominate["action"] == "nominate"
    assert nominate["params"]["reserve_entry_id"] == wang["id"]
    assert nominate["params"]["earlier_candidate_id"] == f.c["wang"]

    # reserve_entry_id goes with kind reserve_pool only; an unknown entry is 404
    _problem(f.post(f"{SEL}/{second}/nominations", {
        "kind": "party_organization", "body_name": "机关党委",
        "reserve_entry_id": wang["id"]}), 422)
    _problem(f.post(f"{SEL}/{second}/nominations", {
        "kind": "reserve_pool", "body_name": "机关党委", "reserve_entry_id": str(uuid.uuid4())}),
        404, "reserve_entry_not_found")

    # an expired entry cannot be nominated, and leaves the pool (unless asked for)
    with open_session(write=True) as s:
        entry = s.get(ReserveEntry, uuid.UUID(pool[1]["id"]))
        entry.expires_on = date(2026, 10, 1)
        s.add(entry)
        s.commit()
    p = _problem(f.post(f"{SEL}/{second}/nominations", {
        "kind": "reserve_pool", "body_name": "机关党委", "reserve_entry_id": pool[1]["id"]}),
        409, "reserve_expired")
    assert p["details"]["expires_on"] == "2026-10-01"
    names = [c["full_name"] for c in _ok(f.get(f"{SEL}/{second}/candidates"))["items"]]
    assert names == ["王芳"]
    assert [e["id"] for e in _ok(f.get(POOL))] == [wang["id"]]
    everything = _ok(f.get(POOL, params={"include_expired": "true"}))
    assert [(e["id"], e["expired"]) for e in everything] == [(wang["id"], False),
                                                             (pool[1]["id"], True)]
