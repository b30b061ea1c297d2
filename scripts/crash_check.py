#!/usr/bin/env python3
"""Crash check: kill the server with SIGKILL in the middle of a burst of writes, restart it,
and check that the database still tells one consistent story.

    .venv/bin/python scripts/crash_check.py                        # a fresh SQLite data dir
    .venv/bin/python scripts/crash_check.py --database-url postgresql://user@host/empty_db

What it does
  1. Starts an SMTP sink (aiosmtpd) and `python -m service serve --port P` (which migrates
     and creates the first admin) on a fresh SQLite data dir, or on the database given
     (it should be an empty, throw-away one: the script sets the simulated clock on it).
  2. Sets up data through the API: a judge, two inspectors and a committee member; for each
     crash, two selections walked through publicity, nomination and consent, the three
     reviews and the committee meeting, up to the point where `finish_decision` (which puts
     the outcome emails in the outbox) is allowed.
  3. Fires a burst from several threads: selections created (some with an Idempotency-Key,
     some sent twice), edited with and without If-Match, published and cancelled;
     nominations (new people and the same person again), consent, decline, withdrawal,
     talks recorded; `finish_decision` on the prepared selections at random moments, while
     the server's own mail sender delivers to the sink. Targets are drawn from the newest
     few subjects, so requests collide. Every request carries its own X-Request-ID.
  4. Kills the server's process group with SIGKILL at a random moment of the burst, restarts
     it, and repeats (--crashes times). After the last restart it checks that the service
     works (create, edit with If-Match, cancel), then stops it and reads the database.

What it checks (the invariants of this codebase, read from service/record/actions.py
and the steps' service.py, followup/notifications.py and outbox/mailer.py)
  * The hash chains verify (service.record.verify): per subject, seq 1, 2, 3, ... each
    event's prev_hash the previous event's hash, each hash matching its content.
  * Every selection and candidate has events; the first has from_state None (selection
    `create`, candidate `nominate`/`apply`); each event's from_state is the previous
    event's to_state; the subject's current state is the to_state of its last event.
    Every event that changes the state is a transition of the workflow table
    (service/workflow/table.py) from that state to that state.
  * Versions: a selection is created at version 1 with its `create` event, and every later
    event on a selection bumps the version (edit, every action, appoint_panel,
    prepare_interview, record_committee_meeting), so
        selection.version == number of the selection's events.
    A candidate is created at version 1 by its first `nominate`/`apply` event; every
    workflow action (actions.run), `check_eligibility`, and the review records
    (declare_conflict, declare_no_conflict, submit_score_sheet, appoint_inspection_team,
    record_inspection_work, committee_postpone) bump it; nominate, apply,
    record_communication, the outbox events (queue_notification, resend_notification,
    notification_sent, notification_failed), objections, assign_mentor and the follow-up
    records (record_mentor_meeting, record_party_lesson, record_branch_life) do not, so
        candidate.version == 1 + number of its events of the bumping kinds
    (an event of a kind in neither list is reported).
  * No change without its event and no event without its change: each Nomination has
    exactly one nominate/apply event naming it and each such event names an existing
    nomination; likewise each Communication and its record_communication event, each
    Notification and its queue_notification event. A selection's title is the one its
    last create/edit event gave it; its publicity_end_on the one its publish event gave.
  * The outbox: every email is still queued or sent (undeliverable only without an
    address); a sent one has exactly one notification_sent event and was received by the
    SMTP sink, a queued one has none; the selections with a finish_decision event have an
    email for each candidate with an outcome (as many as the event says it queued), the
    others have none.
  * Acknowledged writes survived the crash: every request answered 2xx (and not replayed
    from an Idempotency-Key) has at least one event carrying its request id; every request
    answered with an error has none. No Idempotency-Key is left claimed without a stored
    response, and every stored 201 for a new selection names a selection that exists.
    (Requests cut off by the kill may have happened or not: the invariants above say
    whether what they left is whole.)

Exit status: 0 when every check holds; 1 with a list of the broken invariants; 2 when the
harness itself failed (server would not start, set-up refused); 3 on the overall timeout.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
API = "/api/v1"
SIM_DAY = "2026-09-30"        # publicity from here for 5 working days: to 2026-10-13
ADMIN_PASSWORD = "crash-check-admin-" + secrets.token_hex(6)
USER_PASSWORD = "crash-check-user-9"
MAIL_FROM = "selection-office@example.cn"
PREREVIEW_ITEMS = ("ideas_and_plans", "role_understanding", "moral", "intellectual", "physical",
                   "integrity", "mass_recognition")
CRITERIA = ("self_introduction", "role_cognition", "answers", "overall_impression")

# Candidate events that bump the version, beside every workflow action; and those that do not.
CANDIDATE_VERSIONED = {"check_eligibility", "declare_conflict", "declare_no_conflict",
                       "submit_score_sheet", "appoint_inspection_team", "record_inspection_work",
                       "committee_postpone"}
CANDIDATE_UNVERSIONED = {"nominate", "apply", "record_communication", "queue_notification",
                         "resend_notification", "notification_sent", "notification_failed",
                         "receive_objection", "handle_objection", "assign_mentor",
                         "record_mentor_meeting", "record_party_lesson", "record_branch_life"}


class HarnessError(Exception):
    """The check could not run (not a finding about the service)."""


def log(msg: str) -> None:
    print(f"[crash-check {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- the SMTP sink
class Sink:
    """An aiosmtpd server keeping the Message-ID of every message it accepts."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []
        self.port = free_port()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        import email

        msg = email.message_from_bytes(envelope.original_content or envelope.content)
        self.message_ids.append(str(msg.get("Message-ID", "")))
        return "250 Message accepted for delivery"

    def start(self) -> bool:
        try:
            from aiosmtpd.controller import Controller
        except ImportError:
            log("aiosmtpd is not installed: emails stay queued (no sender runs)")
            return False
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        return True

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()

    def received(self, notification_id: uuid.UUID) -> int:
        return sum(notification_id.hex in m for m in self.message_ids)


# ---------------------------------------------------------------- the server process
class Server:
    """`python -m service serve` in its own process group (so SIGKILL takes all of it)."""

    def __init__(self, env: dict[str, str], workdir: Path):
        self.env, self.workdir = env, workdir
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.starts = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / f"server-{self.starts}.log"

    def start(self, timeout: float = 60) -> None:
        self.starts += 1
        self.port = free_port()
        with open(self.log_path, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port",
                 str(self.port), "--log-level", "warning"],
                cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise HarnessError(f"the server exited with {self.proc.returncode}:\n"
                                   f"{self.tail()}")
            try:
                r = httpx.get(f"{self.base}/readyz", timeout=2)
                if r.status_code == 200:
                    return
                last = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.1)
        raise HarnessError(f"the server was not ready after {timeout}s ({last}):\n{self.tail()}")

    def kill(self, wait: bool = True) -> None:
        """SIGKILL to the server's process group: no shutdown, no cleanup."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        if wait and self.proc is not None:
            self.proc.wait(timeout=30)

    def stop(self) -> None:
        """A graceful stop (SIGTERM), then SIGKILL if it lingers."""
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except OSError:
            return "(no server log)"


# ---------------------------------------------------------------- HTTP with a request log
@dataclass
class Sent:
    """One write request and what became of it (status None: no answer, cut off)."""

    rid: str
    method: str
    path: str
    status: int | None = None
    replayed: bool = False
    body: Any = None
    error: str | None = None
    etag: str | None = None


class Api:
    """An httpx client that logs every write with its X-Request-ID."""

    def __init__(self, server: Server, journal: list[Sent], lock: threading.Lock,
                 headers: dict[str, str] | None = None, timeout: float = 15):
        self.server, self.journal, self.lock = server, journal, lock
        self.headers = headers or {}
        self.client = httpx.Client(timeout=httpx.Timeout(timeout, connect=5))

    def close(self) -> None:
        self.client.close()

    def get(self, path: str) -> httpx.Response:
        return self.client.get(f"{self.server.base}{path}", headers=self.headers)

    def write(self, method: str, path: str, body: Any = None,
              headers: dict[str, str] | None = None) -> Sent:
        sent = Sent(rid=f"cc-{uuid.uuid4().hex}", method=method, path=path)
        with self.lock:
            self.journal.append(sent)
        h = {**self.headers, "X-Request-ID": sent.rid, **(headers or {})}
        try:
            r = self.client.request(method, f"{self.server.base}{path}", json=body, headers=h)
        except httpx.HTTPError as e:
            sent.error = type(e).__name__
            return sent
        sent.status = r.status_code
        sent.replayed = r.headers.get("idempotent-replayed") == "true"
        try:
            sent.body = r.json()
        except ValueError:
            sent.body = r.text[:500]
        sent.etag = r.headers.get("etag")
        return sent


def expect(sent: Sent, status: int = 200) -> Any:
    if sent.status != status:
        raise HarnessError(f"set-up request {sent.method} {sent.path} answered {sent.status}"
                           f" ({sent.error or sent.body}), expected {status}")
    return sent.body


def login(server: Server, username: str, password: str) -> dict[str, str]:
    r = httpx.post(f"{server.base}{API}/auth/token",
                   data={"username": username, "password": password}, timeout=15)
    if r.status_code != 200:
        raise HarnessError(f"login of {username} answered {r.status_code}: {r.text[:300]}")
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def profile(n: int) -> dict[str, Any]:
    return {"full_name": f"参选人{n:04d}", "gender": "male" if n % 2 else "female",
            "birth_date": f"198{n % 10}-0{1 + n % 9}-1{n % 10}", "education": "bachelor",
            "party_joined_on": "2012-07-01", "work_started_on": "2010-07-01",
            "current_post": "科员", "unit": f"第{n}科室", "email": f"p{n}@example.cn"}


# If-Match optional (`require_if_match` off): the check writes with and without it on
# purpose, to see both survive a crash; a 428 for the writes without it would test nothing.
SELECTION = {"title": "党支部书记公开选拔", "organization": "机关第一党支部",
             "job_description": {"duties": ["主持支部全面工作", "落实党建工作责任制"],
                                 "requirements": {"min_education": "bachelor"}},
             "settings": {"require_if_match": False}}


# ---------------------------------------------------------------- set-up through the API
@dataclass
class People:
    admin: dict[str, str]
    judge: tuple[str, dict[str, str]]
    inspectors: list[tuple[str, dict[str, str]]]
    member: str


class Setup:
    """Users, and selections walked up to `finish_decision`."""

    def __init__(self, server: Server, journal: list[Sent], lock: threading.Lock):
        self.server, self.journal, self.lock = server, journal, lock
        self.counter = 0

    def api(self, headers: dict[str, str]) -> Api:
        return Api(self.server, self.journal, self.lock, headers)

    def users(self) -> People:
        admin = login(self.server, "admin", ADMIN_PASSWORD)
        api = self.api(admin)
        ids = {}
        for name, role in (("judge1", "judge"), ("inspector1", "inspector"),
                           ("inspector2", "inspector"), ("member1", "committee")):
            ids[name] = expect(api.write("POST", f"{API}/users", {
                "username": name, "roles": [role], "password": USER_PASSWORD}), 201)["id"]
        api.close()
        return People(
            admin=admin,
            judge=(ids["judge1"], login(self.server, "judge1", USER_PASSWORD)),
            inspectors=[(ids[n], login(self.server, n, USER_PASSWORD))
                        for n in ("inspector1", "inspector2")],
            member=ids["member1"])

    def next_person(self) -> dict[str, Any]:
        self.counter += 1
        return profile(self.counter)

    def deciding(self, people: People, count: int) -> list[str]:
        """`count` selections with three candidates each, up to the committee's decision."""
        a = self.api(people.admin)
        judge = self.api(people.judge[1])
        insp = self.api(people.inspectors[0][1])
        expect(a.write("PUT", f"{API}/admin/clock", {"day": SIM_DAY}))
        sels: dict[str, list[str]] = {}
        for i in range(count):
            sid = expect(a.write("POST", f"{API}/selections", {
                **SELECTION, "title": f"决定阶段选拔 {i}",
                "settings": {**SELECTION["settings"], "min_judges": 1,
                             "min_inspectors": 2}}), 201)["id"]
            expect(a.write("POST", f"{API}/selections/{sid}/actions/publish",
                           {"params": {"start_on": SIM_DAY}}))
            cands = []
            for _ in range(3):
                out = expect(a.write("POST", f"{API}/selections/{sid}/nominations", {
                    "kind": "party_organization", "body_name": "机关党委",
                    "nominee": self.next_person(), "reasons": "政治素质好",
                    "groundwork": "走访同事"}), 201)
                cid = out["candidate"]["id"]
                expect(a.write("POST", f"{API}/candidates/{cid}/actions/consent", {"params": {
                    "confirmed_by": "机关党委 张书记",
                    "confirmed_at": "2026-09-29T10:00:00+08:00"}}))
                cands.append(cid)
            sels[sid] = cands
        expect(a.write("POST", f"{API}/admin/clock/advance", {"days": 14}))
        ok = {i: {"satisfactory": True, "note": "符合"} for i in PREREVIEW_ITEMS}
        for sid, (c1, c2, c3) in sels.items():
            expect(a.write("POST", f"{API}/selections/{sid}/actions/close_nominations"))
            out = expect(a.write("POST", f"{API}/selections/{sid}/prereview", {"decisions": [
                {"candidate_id": c1, "decision": "pass", "assessment": ok},
                {"candidate_id": c2, "decision": "pass", "assessment": ok},
                {"candidate_id": c3, "decision": "fail", "reason": "群众认可度不足",
                 "assessment": ok}]}))
            if out["succeeded"] != 3:
                raise HarnessError(f"pre-review: {out}")
            expect(a.write("PUT", f"{API}/selections/{sid}/panel",
                           {"judge_ids": [people.judge[0]]}))
            expect(a.write("PUT", f"{API}/selections/{sid}/interview",
                           {"held_on": "2026-10-14", "place": "会议室"}))
            for cid, score in ((c1, 90), (c2, 80)):
                expect(judge.write("POST", f"{API}/selections/{sid}/declarations",
                                   {"candidate_id": cid, "conflict": "none"}), 201)
                expect(judge.write("POST", f"{API}/candidates/{cid}/score-sheets",
                                   {"scores": {k: score for k in CRITERIA}}), 201)
            for cid in (c1, c2):
                expect(a.write("POST", f"{API}/candidates/{cid}/actions/pass_interview"))
                expect(a.write("PUT", f"{API}/candidates/{cid}/inspection-team", {
                    "inspector_ids": [i for i, _ in people.inspectors]}))
                expect(insp.write("POST", f"{API}/candidates/{cid}/inspection-records", {
                    "kind": "conversation", "held_on": "2026-10-14", "count": 5,
                    "summary": "个别谈话5人，反映良好"}), 201)
                expect(insp.write("POST", f"{API}/candidates/{cid}/actions/pass_inspection", {
                    "params": {"appraisal": {"participants": 10, "excellent": 8,
                                             "competent": 2, "basically_competent": 0,
                                             "incompetent": 0},
                               "findings": {"de": "好", "neng": "强", "qin": "勤",
                                            "ji": "优", "lian": "廉"}}}))
            expect(a.write("POST", f"{API}/selections/{sid}/actions/submit_to_committee"))
            expect(a.write("POST", f"{API}/selections/{sid}/committee-meetings", {
                "held_on": "2026-10-14", "members_due": [people.member],
                "present": [people.member], "minutes": "逐人表决",
                "decisions": [
                    {"candidate_id": c1, "votes_for": 1, "votes_against": 0, "abstentions": 0,
                     "outcome": "appointed"},
                    {"candidate_id": c2, "votes_for": 1, "votes_against": 0, "abstentions": 0,
                     "outcome": "reserve"}]}), 201)
        for x in (a, judge, insp):
            x.close()
        return list(sels)


# ---------------------------------------------------------------- the burst
@dataclass
class World:
    """What the burst's threads know (and may know wrongly: that is the point)."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    drafting: list[str] = field(default_factory=list)
    publicizing: list[str] = field(default_factory=list)
    candidates: list[tuple[str, dict]] = field(default_factory=list)  # (id, profile)
    etags: dict[str, str] = field(default_factory=dict)
    people: int = 100000

    def recent(self, items: list, n: int = 5):
        with self.lock:
            return random.choice(items[-n:]) if items else None

    def person(self) -> dict[str, Any]:
        with self.lock:
            self.people += 1
            return profile(self.people)


def burst_worker(api: Api, world: World, stop: threading.Event, rng: random.Random) -> None:
    ops = ["create"] * 3 + ["edit"] * 3 + ["publish"] * 2 + ["nominate"] * 4 + \
          ["consent"] * 2 + ["decline", "withdraw", "communicate", "communicate", "cancel"]
    while not stop.is_set():
        op = rng.choice(ops)
        with contextlib.suppress(httpx.HTTPError):  # the server is gone: the journal has it
            burst_step(api, world, op, rng)


def burst_step(api: Api, world: World, op: str, rng: random.Random) -> None:
    if op == "create" or (op in ("edit", "publish") and not world.drafting):
        headers = {"Idempotency-Key": uuid.uuid4().hex} if rng.random() < 0.5 else None
        body = {**SELECTION, "title": f"选拔 {uuid.uuid4().hex[:10]}"}
        s = api.write("POST", f"{API}/selections", body, headers)
        if headers and rng.random() < 0.4:  # a client retrying: the same key again
            api.write("POST", f"{API}/selections", body, headers)
        if s.status == 201:
            with world.lock:
                world.drafting.append(s.body["id"])
                world.etags[s.body["id"]] = s.etag
        return
    if op == "edit":
        sid = world.recent(world.drafting)
        headers = {"If-Match": world.etags.get(sid, "*")} if rng.random() < 0.7 else None
        s = api.write("PATCH", f"{API}/selections/{sid}",
                      {"title": f"修改 {uuid.uuid4().hex[:10]}"}, headers)
        if s.status == 200:
            with world.lock:
                world.etags[sid] = s.etag
        return
    if op == "publish":
        sid = world.recent(world.drafting)
        s = api.write("POST", f"{API}/selections/{sid}/actions/publish", {})
        if s.status == 200:
            with world.lock:
                world.publicizing.append(sid)
        return
    if op == "cancel":
        pool = world.publicizing if rng.random() < 0.5 else world.drafting
        sid = world.recent(pool, 8)
        if sid:
            api.write("POST", f"{API}/selections/{sid}/actions/cancel", {"reason": "岗位调整"})
        return
    if op == "nominate" or not world.candidates:
        sid = world.recent(world.publicizing)
        if not sid:
            return
        again = world.recent(world.candidates) if rng.random() < 0.15 else None
        person = again[1] if again else world.person()
        s = api.write("POST", f"{API}/selections/{sid}/nominations", {
            "kind": rng.choice(["party_organization", "trade_union", "youth_league"]),
            "body_name": "推荐单位", "nominee": person, "reasons": "群众基础好"})
        if s.status == 201 and not s.body.get("duplicate_of_existing"):
            with world.lock:
                world.candidates.append((s.body["candidate"]["id"], person))
        return
    cid = world.recent(world.candidates)[0]
    if op == "consent":
        api.write("POST", f"{API}/candidates/{cid}/actions/consent", {"params": {
            "confirmed_by": "推荐单位 李委员", "confirmed_at": "2026-10-13T09:00:00+08:00"}})
    elif op == "decline":
        api.write("POST", f"{API}/candidates/{cid}/actions/decline", {"reason": "家庭原因"})
    elif op == "withdraw":
        api.write("POST", f"{API}/candidates/{cid}/actions/withdraw", {"reason": "工作调动"})
    elif op == "communicate":
        api.write("POST", f"{API}/candidates/{cid}/communications", {
            "held_on": "2026-10-14", "channel": "phone", "summary": "电话沟通参选意愿",
            "attitude": rng.choice(["willing", "undecided"])})


def finisher(api: Api, selection_ids: list[str], stop: threading.Event, rng: random.Random,
             window: float) -> None:
    """finish_decision on each prepared selection at a random moment (some twice at once)."""
    for sid in selection_ids:
        if stop.wait(rng.uniform(0, window / max(len(selection_ids), 1))):
            return
        twins = [threading.Thread(target=_finish, args=(api, sid)) for _ in range(2)]
        for t in twins:
            t.start()
        for t in twins:
            t.join()


def _finish(api: Api, sid: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        api.write("POST", f"{API}/selections/{sid}/actions/finish_decision", {})


def run_burst(server: Server, admin: dict[str, str], journal: list[Sent],
              lock: threading.Lock, world: World, finish_ids: list[str], *, threads: int,
              kill_after: float, rng: random.Random) -> dict[str, Any]:
    stop = threading.Event()
    apis = [Api(server, journal, lock, admin, timeout=20) for _ in range(threads + 1)]
    before = len(journal)
    workers = [threading.Thread(target=burst_worker, daemon=True,
                                args=(apis[i], world, stop, random.Random(rng.random())))
               for i in range(threads)]
    workers.append(threading.Thread(target=finisher, daemon=True, args=(
        apis[-1], finish_ids, stop, random.Random(rng.random()), kill_after * 0.9)))
    for w in workers:
        w.start()
    time.sleep(kill_after)
    server.kill(wait=False)  # SIGKILL, mid-burst
    stop.set()
    with lock:
        in_flight = sum(1 for s in journal[before:] if s.status is None and s.error is None)
    server.kill()  # reap it
    for w in workers:
        w.join(timeout=30)
    for a in apis:
        a.close()
    if any(w.is_alive() for w in workers):
        raise HarnessError("a burst thread did not stop after the kill")
    sent = journal[before:]
    return {"requests": len(sent), "in_flight_at_kill": in_flight,
            "answered": dict(Counter(s.status for s in sent if s.status is not None)),
            "no_answer": dict(Counter(s.error for s in sent if s.status is None))}


def after_restart(server: Server, admin: dict[str, str], journal: list[Sent],
                  lock: threading.Lock) -> list[str]:
    """The restarted service works: create, edit with If-Match, cancel."""
    problems = []
    api = Api(server, journal, lock, admin)
    s = api.write("POST", f"{API}/selections", {**SELECTION, "title": "重启之后"})
    if s.status != 201:
        return [f"after the restart, creating a selection answered {s.status}: {s.body}"]
    sid = s.body["id"]
    e = api.write("PATCH", f"{API}/selections/{sid}", {"title": "重启之后（改）"},
                  {"If-Match": s.etag})
    if e.status != 200:
        problems.append(f"after the restart, an edit with If-Match answered {e.status}: {e.body}")
    c = api.write("POST", f"{API}/selections/{sid}/actions/cancel", {"reason": "检查"})
    if c.status != 200 or c.body.get("version") != 3:
        problems.append(f"after the restart, cancel answered {c.status}: {c.body}")
    r = api.get(f"{API}/admin/record/verification")
    if r.status_code != 200:
        problems.append(f"after the restart, the record verification answered {r.status_code}")
    api.close()
    return problems


# ---------------------------------------------------------------- the checks
def check_database(journal: list[Sent], sink: Sink, smtp: bool) -> tuple[list[str], dict]:
    """Every invariant in the module docstring, read from the database."""
    from sqlmodel import select

    from service.core.db import get_engine, open_session
    from service.core.models import IdempotencyRecord
    from service.followup.models import Notification
    from service.nomination.models import Candidate, Communication, Nomination
    from service.record.models import Event
    from service.record.service import verify
    from service.selection.models import Selection
    from service.workflow.table import CANDIDATE_TRANSITIONS, SELECTION_TRANSITIONS

    problems: list[str] = []
    stats: dict[str, Any] = {}

    def bad(msg: str) -> None:
        if len(problems) < 200:
            problems.append(msg)

    rules = {
        "selection": {(t.action, src, t.target) for t in SELECTION_TRANSITIONS
                      for src in t.sources},
        "candidate": {(t.action, src, t.target) for t in CANDIDATE_TRANSITIONS
                      for src in t.sources},
    }
    cand_actions = {t.action for t in CANDIDATE_TRANSITIONS}

    with open_session() as s:
        count, broken = verify(s)
        stats["events_verified"] = count
        if broken:
            bad(f"hash chain broken after {count} good events: {broken.subject_type} "
                f"{broken.subject_id} #{broken.seq}: {broken.problem}")

        events: dict[tuple[str, uuid.UUID], list[Event]] = defaultdict(list)
        by_request: dict[str, list[Event]] = defaultdict(list)
        for ev in s.exec(select(Event).order_by(Event.subject_type, Event.subject_id,
                                                Event.seq)):
            events[(ev.subject_type, ev.subject_id)].append(ev)
            if ev.request_id:
                by_request[ev.request_id].append(ev)

        def chain(kind: str, subject, first_actions: tuple[str, ...]) -> list[Event]:
            evs = events.get((kind, subject.id), [])
            name = f"{kind} {subject.id}"
            if not evs:
                bad(f"{name} ({subject.state}, v{subject.version}) has no events")
                return evs
            if evs[0].action not in first_actions or evs[0].from_state is not None:
                bad(f"{name}: first event is {evs[0].action} from {evs[0].from_state}")
            for prev, ev in pairwise(evs):
                if ev.from_state != prev.to_state:
                    bad(f"{name} #{ev.seq} {ev.action}: from_state {ev.from_state}, but the"
                        f" previous event left it {prev.to_state}")
            for ev in evs:
                if ev.from_state is not None and ev.from_state != ev.to_state and \
                        (ev.action, ev.from_state, ev.to_state) not in rules[kind]:
                    bad(f"{name} #{ev.seq}: {ev.action} {ev.from_state} -> {ev.to_state} is"
                        " no transition of the workflow table")
            if evs[-1].to_state != subject.state:
                bad(f"{name} is '{subject.state}' but its last event #{evs[-1].seq}"
                    f" ({evs[-1].action}) says '{evs[-1].to_state}'")
            return evs

        selections = s.exec(select(Selection)).all()
        stats["selections"] = Counter(x.state for x in selections)
        for sel in selections:
            evs = chain("selection", sel, ("create",))
            if evs and sel.version != len(evs):
                bad(f"selection {sel.id}: version {sel.version} but {len(evs)} events"
                    f" ({[e.action for e in evs]})")
            title = None
            end_on = None
            for ev in evs:
                if ev.action == "create":
                    title = ev.params.get("title")
                elif ev.action == "edit" and "title" in ev.params.get("changes", {}):
                    title = ev.params["changes"]["title"]["after"]
                elif ev.action == "publish":
                    end_on = ev.params.get("end_on")
            if evs and title != sel.title:
                bad(f"selection {sel.id}: title {sel.title!r}, its events say {title!r}")
            if evs and end_on != (sel.publicity_end_on.isoformat()
                                  if sel.publicity_end_on else None):
                bad(f"selection {sel.id}: publicity_end_on {sel.publicity_end_on}, its"
                    f" publish event says {end_on}")

        candidates = s.exec(select(Candidate)).all()
        stats["candidates"] = Counter(x.state for x in candidates)
        for cand in candidates:
            evs = chain("candidate", cand, ("nominate", "apply"))
            unknown = {e.action for e in evs} - cand_actions - CANDIDATE_VERSIONED - \
                CANDIDATE_UNVERSIONED
            if unknown:
                bad(f"candidate {cand.id}: events of unknown kind {sorted(unknown)}: the"
                    " version rule does not say whether they bump the version")
            bumps = sum(1 for e in evs if e.action in cand_actions or
                        e.action in CANDIDATE_VERSIONED)
            if evs and cand.version != 1 + bumps:
                bad(f"candidate {cand.id}: version {cand.version}, expected 1 + {bumps} from"
                    f" its events {[e.action for e in evs]}")

        def named_by(actions: tuple[str, ...], key: str) -> Counter:
            return Counter(str(e.params.get(key)) for evs in events.values() for e in evs
                           if e.action in actions)

        for model, actions_, key, what in (
                (Nomination, ("nominate", "apply"), "nomination_id", "nomination"),
                (Communication, ("record_communication",), "communication_id", "talk"),
                (Notification, ("queue_notification",), "notification_id", "email")):
            rows = {str(r.id) for r in s.exec(select(model))}
            named = named_by(actions_, key)
            for rid in rows:
                if named[rid] != 1:
                    bad(f"{what} {rid} has {named[rid]} {'/'.join(actions_)} events")
            for rid in set(named) - rows:
                bad(f"a {'/'.join(actions_)} event names {what} {rid}, which does not exist")
            stats[f"{what}s"] = len(rows)

        sent_events = named_by(("notification_sent",), "notification_id")
        notifications = s.exec(select(Notification)).all()
        stats["emails"] = Counter(n.state for n in notifications)
        delivered_unmarked = 0
        for n in notifications:
            if n.state not in ("queued", "sent") and not (
                    n.state == "undeliverable" and n.to_address is None):
                bad(f"email {n.id} is '{n.state}' ({n.last_error})")
            if n.state == "sent" and sent_events[str(n.id)] != 1:
                bad(f"email {n.id} is sent with {sent_events[str(n.id)]} notification_sent"
                    " events")
            if n.state == "queued" and sent_events[str(n.id)]:
                bad(f"email {n.id} is queued but has a notification_sent event")
            if smtp and n.state == "sent" and not sink.received(n.id):
                bad(f"email {n.id} is marked sent but the SMTP server never received it")
            if smtp and n.state == "queued" and sink.received(n.id):
                delivered_unmarked += 1
        stats["emails_received_by_smtp"] = len(sink.message_ids)
        stats["emails_delivered_but_still_queued"] = delivered_unmarked  # at-least-once
        per_selection = Counter(str(n.selection_id) for n in notifications)
        with_outcome = Counter(str(c.selection_id) for c in candidates if c.state in (
            "appointed", "reserve", "not_qualified", "declined", "withdrawn"))
        for sel in selections:
            fin = [e for e in events.get(("selection", sel.id), [])
                   if e.action == "finish_decision"]
            got = per_selection[str(sel.id)]
            if fin:
                queued = fin[0].params.get("notifications_queued")
                if got != queued or got != with_outcome[str(sel.id)]:
                    bad(f"selection {sel.id}: finish_decision says {queued} emails queued;"
                        f" the outbox has {got}, {with_outcome[str(sel.id)]} candidates have"
                        " an outcome")
            elif got:
                bad(f"selection {sel.id} has {got} emails but no finish_decision event")

        # acknowledged writes survived; refused ones left nothing
        acknowledged = refused = cut_off = 0
        for sent in journal:
            evs = by_request.get(sent.rid, [])
            if sent.status is None:
                cut_off += 1
            elif 200 <= sent.status < 300 and not sent.replayed:
                acknowledged += 1
                if not evs:
                    bad(f"{sent.method} {sent.path} was answered {sent.status} before the"
                        f" crash, but no event carries its request id {sent.rid}")
            elif sent.status >= 400:
                refused += 1
                if evs:
                    bad(f"{sent.method} {sent.path} was refused ({sent.status}) but left"
                        f" events {[e.action for e in evs]} (request id {sent.rid})")
        stats["requests"] = {"acknowledged": acknowledged, "refused": refused,
                             "cut_off_by_the_kill": cut_off,
                             "replayed": sum(1 for x in journal if x.replayed)}

        selection_ids = {str(x.id) for x in selections}
        for rec in s.exec(select(IdempotencyRecord)):
            if rec.response_status is None:
                bad(f"Idempotency-Key {rec.key!r} is claimed without a stored response")
                continue
            if rec.path == f"{API}/selections" and rec.response_status == 201:
                body = json.loads(base64.b64decode(rec.response_body or ""))
                if body.get("id") not in selection_ids:
                    bad(f"Idempotency-Key {rec.key!r} stored a 201 for selection"
                        f" {body.get('id')}, which does not exist")
    get_engine().dispose()
    return problems, stats


# ---------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", help="an empty throw-away database (default: a fresh"
                   " SQLite file in a temporary data dir)")
    p.add_argument("--crashes", type=int, default=2, help="kill/restart cycles (default 2)")
    p.add_argument("--threads", type=int, default=6, help="burst threads (default 6)")
    p.add_argument("--min-burst", type=float, default=1.5,
                   help="earliest kill, seconds into a burst (default 1.5)")
    p.add_argument("--max-burst", type=float, default=3.5,
                   help="latest kill, seconds into a burst (default 3.5)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--timeout", type=float, default=240, help="give up after this many"
                   " seconds (default 240)")
    p.add_argument("--keep", action="store_true", help="keep the work dir (logs, SQLite)")
    args = p.parse_args(argv)

    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    random.seed(rng.random())
    workdir = Path(tempfile.mkdtemp(prefix="crash-check-"))
    data_dir = workdir / "data"
    db_url = args.database_url or f"sqlite:///{(data_dir / 'selection.db').as_posix()}"
    log(f"seed {seed}; work dir {workdir}; database "
        f"{db_url.split('@')[-1] if '@' in db_url else db_url}")

    sink = Sink()
    smtp = sink.start()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELECTION_")}
    env.update({
        "SELECTION_ENVIRONMENT": "development",
        "SELECTION_DATA_DIR": str(data_dir),
        "SELECTION_DATABASE_URL": db_url,
        "SELECTION_SECRET_KEY": secrets.token_urlsafe(48),
        "SELECTION_ADMIN_USERNAME": "admin",
        "SELECTION_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "SELECTION_MAIL_FROM": MAIL_FROM,
        "SELECTION_MAIL_POLL_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",
    })
    if smtp:
        env.update({"SELECTION_SMTP_HOST": "127.0.0.1", "SELECTION_SMTP_PORT": str(sink.port),
                    "SELECTION_SMTP_TIMEOUT_SECONDS": "5"})
    # the checks read the same database from this process
    os.environ.update({k: v for k, v in env.items() if k.startswith("SELECTION_")})
    sys.path.insert(0, str(ROOT))

    server = Server(env, workdir)

    def on_timeout() -> None:
        print(f"\nCRASH CHECK TIMED OUT after {args.timeout:.0f}s (seed {seed}); server log:\n"
              f"{server.tail()}", flush=True)
        try:
            server.kill()
        finally:
            os._exit(3)

    watchdog = threading.Timer(args.timeout, on_timeout)
    watchdog.daemon = True
    watchdog.start()

    journal: list[Sent] = []
    lock = threading.Lock()
    started = time.monotonic()
    try:
        server.start()
        setup = Setup(server, journal, lock)
        people = setup.users()
        finish_sets = []
        prepared = setup.deciding(people, 2 * args.crashes)
        for i in range(args.crashes):
            finish_sets.append(prepared[2 * i:2 * i + 2])
        log(f"set-up done in {time.monotonic() - started:.1f}s: {len(prepared)} selections"
            " waiting for finish_decision")
        world = World()
        for i in range(args.crashes):
            kill_after = rng.uniform(args.min_burst, args.max_burst)
            result = run_burst(server, people.admin, journal, lock, world, finish_sets[i],
                               threads=args.threads, kill_after=kill_after, rng=rng)
            log(f"burst {i + 1}: SIGKILL after {kill_after:.2f}s: {result}")
            server.start()
            log(f"restarted (start {server.starts}) and ready")
        problems = after_restart(server, people.admin, journal, lock)
        if smtp:  # give the sender a moment for what was queued and not claimed
            time.sleep(1.0)
        server.stop()
        found, stats = check_database(journal, sink, smtp)
        problems += found
    except HarnessError as e:
        print(f"\nCRASH CHECK COULD NOT RUN (seed {seed}): {e}", flush=True)
        server.kill()
        sink.stop()
        return 2
    except Exception:  # noqa: BLE001 - a harness failure, reported as such
        print(f"\nCRASH CHECK COULD NOT RUN (seed {seed}):\n{traceback.format_exc()}\n"
              f"server log:\n{server.tail()}", flush=True)
        server.kill()
        sink.stop()
        return 2
    finally:
        watchdog.cancel()
    sink.stop()

    print(f"\n== crash check: {args.crashes} SIGKILL(s), {time.monotonic() - started:.1f}s,"
          f" seed {seed}")
    for k, v in stats.items():
        print(f"   {k}: {dict(v) if isinstance(v, Counter) else v}")
    if problems:
        print(f"\nFAILED: {len(problems)} broken invariant(s):")
        for line in problems:
            print(f"  - {line}")
        print(f"\nwork dir (kept): {workdir}")
        return 1
    print("OK: every invariant holds after the crashes")
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
