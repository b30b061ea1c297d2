"""Webhooks for HR systems, through HTTP and a real receiver on loopback.

The receiver is an `http.server` in a thread that checks every message's signature with the
`standardwebhooks` package (not the service's own signing code), answers as a test scripts it
(500, 503, a hang past the sender's timeout, 410, …) and then 200. The sender is driven round
by round with `send_due` (what `python -m service send-webhooks --once` runs): the suite's
apps run no sender of their own (conftest), except in the test of the app's sender. Instead
of waiting out the backoff, a test makes the pending messages due now, as the mail tests do.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from sqlmodel import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from service.config import Settings, get_settings
from service.core.db import open_session
from service.followup.models import Notification
from service.record.models import Event
from service.webhooks.models import WebhookDelivery

HOOKS = "/api/v1/webhooks"
SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
PROBLEM = "application/problem+json"
TIMEOUT = 2.0  # the sender's timeout in these tests (room for a loaded machine); a hang outlasts it


def _settings(**extra: Any) -> Settings:
    return Settings(webhook_timeout_seconds=TIMEOUT, **extra)


def send(**extra: Any) -> int:
    """One round of the sender."""
    from service.webhooks.sender import send_due

    return send_due(_settings(**extra))


def make_due() -> None:
    """Every pending message due now, as if its backoff had passed."""
    with open_session(write=True) as s:
        for d in s.exec(select(WebhookDelivery).where(WebhookDelivery.status == "pending")):
            d.next_attempt_at = datetime.now(UTC) - timedelta(seconds=1)
            s.add(d)
        s.commit()


def _ok(r, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def _problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM), r.headers
    body = r.json()
    if code:
        assert body["code"] == code, body
    return body


# ---------------------------------------------------------------- a real receiver
class Receiver:
    """An HTTP server on loopback that verifies each message and answers as scripted."""

    def __init__(self) -> None:
        self.secrets: list[str] = []  # of the subscriptions pointing here
        self.script: list[Any] = []  # status codes, (status, headers), or "hang"; then 200
        self.received: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                headers = {k.lower(): v for k, v in self.headers.items()}
                verified = False
                for secret in receiver.secrets:
                    try:
                        Webhook(secret).verify(body, headers)
                        verified = True
                    except WebhookVerificationError:
                        pass
                with receiver.lock:
                    answer = receiver.script.pop(0) if receiver.script else 200
                    receiver.received.append({"headers": headers, "body": body,
                                              "json": json.loads(body), "verified": verified,
                                              "answer": answer})
                if answer == "hang":
                    time.sleep(TIMEOUT + 1.5)
                    answer = 200
                status, extra = answer if isinstance(answer, tuple) else (answer, {})
                if not verified:
                    status = 401
                payload = f"answer {status}".encode()
                self.send_response(int(status))
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/selection"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def ids(self) -> list[str]:
        return [m["headers"]["webhook-id"] for m in self.received]

    def types(self) -> list[str]:
        return [m["json"]["type"] for m in self.received]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def subscribe(client, admin, receiver):
    """Register the receiver for some event types; its ping is delivered (and checked) unless
    `ping=False`. Returns the created subscription (with its secret)."""

    def do(*types: str, ping: bool = True, url: str | None = None) -> dict[str, Any]:
        body = {"url": url or receiver.url,
                "event_types": list(types or ("candidate.state_changed",)),
                "description": "人事系统"}
        created = _ok(client.post(HOOKS, json=body, headers=admin), 201)
        receiver.secrets.append(created["secret"])
        if ping:
            before = len(receiver.received)
            assert send() == 1
            assert receiver.types()[before:] == ["webhook.ping"]
        return created

    return do


def deliveries(client, admin, hook_id: str, **params: Any) -> list[dict[str, Any]]:
    return _ok(client.get(f"{HOOKS}/{hook_id}/deliveries", params=params,
                          headers=admin))["items"]


def published_selection(client, admin, make_selection) -> str:
    sel = make_selection()
    _ok(client.post(f"{SEL}/{sel['id']}/actions/publish", json={"params": {"working_days": 5}},
                    headers=admin))
    return sel["id"]


def consent(client, admin, candidate_id) -> Any:
    confirmed_at = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    return client.post(f"{CAND}/{candidate_id}/actions/consent", headers=admin,
                       json={"params": {"confirmed_by": "王组织委员",
                                        "confirmed_at": confirmed_at}})


# ================================================================ subscriptions
def test_a_subscription_gets_a_signed_ping_and_its_secret_is_shown_once(client, admin,
                                                                         receiver):
    r = client.post(HOOKS, headers=admin, json={
        "url": receiver.url, "event_types": ["outcome.decided", "candidate.state_changed"],
        "description": "人事系统：参选人状态同步"})
    created = _ok(r, 201)
    assert r.headers["location"] == f"{HOOKS}/{created['id']}"
    assert r.headers["etag"] == f'"webhook-{uuid.UUID(created["id"]).hex}-v1"'
    secret = created["secret"]
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert created["event_types"] == ["candidate.state_changed", "outcome.decided"]
    assert (created["active"], created["disabled_reason"]) == (True, None)

    # never again: not when read, not when listed, not in the record
    one = _ok(client.get(f"{HOOKS}/{created['id']}", headers=admin))
    assert "secret" not in one and secret not in json.dumps(one)
    listed = _ok(client.get(HOOKS, headers=admin))
    assert [h["id"] for h in listed["items"]] == [created["id"]]
    assert secret not in json.dumps(listed)
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.subject_type == "webhook")).all()
    assert [e.action for e in ev] == ["create_webhook"]
    assert ev[0].params["url"] == receiver.url and secret not in json.dumps(ev[0].params)

    # the ping waits in the outbox until a sender runs: `send-webhooks --once`
    [ping] = deliveries(client, admin, created["id"])
    assert (ping["event_type"], ping["status"], ping["attempts"]) == ("webhook.ping",
                                                                      "pending", 0)
    from service.__main__ import main

    receiver.secrets = [secret]
    assert main(["send-webhooks", "--once"]) == 0
    [msg] = receiver.received
    assert msg["verified"], "the standardwebhooks library rejected the signature"
    assert msg["headers"]["webhook-id"] == ping["id"]
    assert msg["headers"]["content-type"] == "application/json"
    assert abs(int(msg["headers"]["webhook-timestamp"]) - time.time()) < 60
    assert msg["headers"]["webhook-signature"].startswith("v1,")
    assert msg["json"]["type"] == "webhook.ping"
    assert msg["json"]["data"]["subscription_id"] == created["id"]

    [ping] = deliveries(client, admin, created["id"])
    assert (ping["status"], ping["attempts"], ping["last_status_code"]) == ("delivered", 1, 200)
    assert ping["delivered_at"] and ping["next_attempt_at"] is None
    [attempt] = ping["attempt_log"]
    assert (attempt["status_code"], attempt["error"]) == (200, None)
    assert attempt["response_excerpt"] == "answer 200"
    assert send() == 0 and len(receiver.received) == 1  # never twice


def test_a_url_at_the_length_limit_is_kept_in_its_normal_form(client, admin):
    # 2000 characters as sent, the limit; its normal form adds a slash, one more
    host = ".".join(["a" * 63] * 40)[:2000 - len("https://")]
    url = f"https://{host}"
    assert len(url) == 2000
    created = _ok(client.post(HOOKS, json={"url": url, "event_types": ["outcome.decided"],
                                           "active": False}, headers=admin), 201)
    assert created["url"] == url + "/"
    assert _ok(client.get(f"{HOOKS}/{created['id']}", headers=admin))["url"] == url + "/"
    r = client.post(HOOKS, json={"url": url + "b", "event_types": ["outcome.decided"]},
                    headers=admin)
    _problem(r, 422, "validation_error")


def test_another_secret_does_not_verify(client, admin, receiver, subscribe):
    """The receiver's check is real: with a wrong secret, the signature fails."""
    subscribe(ping=True)
    receiver.secrets = ["whsec_" + base64.b64encode(b"x" * 32).decode()]
    hook = _ok(client.post(HOOKS, headers=admin, json={"url": receiver.url,
                                                        "event_types": ["outcome.decided"]}),
               201)
    assert send() == 0
    assert receiver.received[-1]["verified"] is False
    [ping] = deliveries(client, admin, hook["id"])
    assert (ping["status"], ping["last_status_code"]) == ("pending", 401)


def test_event_types_are_listed_and_bad_input_is_refused(client, admin, receiver):
    types = _ok(client.get("/api/v1/webhook-event-types", headers=admin))
    assert [t["type"] for t in types] == ["candidate.state_changed", "selection.state_changed",
                                          "nomination.received", "outcome.decided",
                                          "notification.failed"]
    assert all(t["description_zh"] and t["description_en"] for t in types)
    decided = next(t for t in types if t["type"] == "outcome.decided")
    assert decided["description"] == decided["description_zh"] == "党委会作出决定：上岗使用、储备人选或不符合"
    en = _ok(client.get("/api/v1/webhook-event-types", headers={**admin, "Accept-Language": "en"}))
    assert next(t for t in en if t["type"] == "outcome.decided")["description"] == (
        "The party committee decided a candidate's outcome: appointed, reserve or not qualified")

    def refused(body: dict[str, Any], field: str) -> None:
        p = _problem(client.post(HOOKS, json=body, headers=admin), 422, "validation_error")
        assert any(e["field"].startswith(f"body.{field}") for e in p["errors"]), p

    ok = {"url": receiver.url, "event_types": ["outcome.decided"]}
    refused({**ok, "event_types": ["candidate.deleted"]}, "event_types")
    refused({**ok, "event_types": []}, "event_types")
    refused({**ok, "url": "ftp://hr.example.cn/hooks"}, "url")
    refused({**ok, "url": "javascript:alert(1)"}, "url")
    refused({**ok, "url": "not a url"}, "url")
    refused({**ok, "url": "https://user:pw@hr.example.cn/hooks"}, "url")
    refused({**ok, "url": "https://hr.example.cn/" + "a" * 2100}, "url")
    refused({**ok, "secret": "whsec_mine"}, "secret")
    assert _ok(client.get(HOOKS, headers=admin))["items"] == []
    with open_session() as s:
        assert s.exec(select(WebhookDelivery)).all() == []


def test_only_admins_manage_webhooks(client, as_role, admin, receiver, subscribe):
    hook = subscribe()
    for role in ("judge", "nominator", "committee", "candidate"):
        h = as_role(role)
        _problem(client.get(HOOKS, headers=h), 403, "role_not_permitted")
        _problem(client.post(HOOKS, json={"url": receiver.url,
                                          "event_types": ["outcome.decided"]}, headers=h), 403)
        _problem(client.get(f"{HOOKS}/{hook['id']}/deliveries", headers=h), 403)
    _problem(client.get(HOOKS), 401, "not_authenticated")
    _problem(client.get("/api/v1/webhook-event-types"), 401)
    assert len(_ok(client.get(HOOKS, headers=admin))["items"]) == 1


def test_patch_merges_checks_if_match_and_is_recorded(client, admin, receiver, subscribe):
    hook = subscribe("outcome.decided")
    url = f"{HOOKS}/{hook['id']}"
    r = client.patch(url, json={"description": "新的说明"}, headers=admin)
    out = _ok(r)
    assert (out["description"], out["event_types"], out["url"], out["version"]) == (
        "新的说明", ["outcome.decided"], receiver.url, 2)
    _problem(client.patch(url, json={"active": False}, headers={**admin, "If-Match": r.headers[
        "etag"].replace("v2", "v1")}), 412, "precondition_failed")
    out = _ok(client.patch(url, json={"active": False, "url": None},
                           headers={**admin, "If-Match": r.headers["etag"]}))
    assert (out["active"], out["disabled_reason"], out["url"]) == (
        False, "已由管理员停用。", receiver.url)
    _problem(client.patch(url, json={"event_types": ["nope"]}, headers=admin), 422)
    _problem(client.patch(url, json={"colour": "red"}, headers=admin), 422)
    _problem(client.get(f"{HOOKS}/{uuid.uuid4()}", headers=admin), 404, "webhook_not_found")
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.subject_type == "webhook")
                    .order_by(Event.seq)).all()  # type: ignore[arg-type]
    assert [e.action for e in ev] == ["create_webhook", "update_webhook", "update_webhook"]
    assert ev[2].params["changes"]["active"] == {"before": True, "after": False}


# ================================================================ events → deliveries
def test_a_candidate_action_is_delivered_signed_with_one_webhook_id_across_retries(
        client, admin, receiver, subscribe, make_selection, make_candidate):
    hook = subscribe("candidate.state_changed")
    sel = published_selection(client, admin, make_selection)  # a selection event: not wanted
    cand = make_candidate(sel, state="nominated")
    assert deliveries(client, admin, hook["id"], status="pending") == []
    _ok(consent(client, admin, cand))

    # the receiver fails three times: 500, 503, then hangs past the timeout; then accepts
    receiver.script = [500, 503, "hang"]
    before = datetime.now(UTC)
    assert send() == 0
    [d] = deliveries(client, admin, hook["id"], status="pending")
    assert (d["attempts"], d["last_status_code"], d["last_error"]) == (1, 500, "HTTP 500")
    wait = datetime.fromisoformat(d["next_attempt_at"]) - before
    assert timedelta(seconds=44) <= wait <= timedelta(seconds=76)  # 60 s ± 25 %
    assert send() == 0  # not due yet: nothing is tried
    assert len(receiver.received) == 2  # the ping, and the first try

    make_due()
    assert send() == 0
    d = deliveries(client, admin, hook["id"], status="pending")[0]
    assert (d["attempts"], d["last_status_code"]) == (2, 503)
    assert timedelta(seconds=89) <= datetime.fromisoformat(d["next_attempt_at"]) - datetime.now(
        UTC) <= timedelta(seconds=151)  # doubled: 120 s ± 25 %
    make_due()
    assert send() == 0
    d = deliveries(client, admin, hook["id"], status="pending")[0]
    assert (d["attempts"], d["last_status_code"]) == (3, None)
    assert d["last_error"].startswith(f"timed out after {TIMEOUT:g} s")
    make_due()
    assert send() == 1

    tries = receiver.received[1:]
    assert [m["answer"] for m in tries] == [500, 503, "hang", 200]
    assert all(m["verified"] for m in tries)
    assert {m["headers"]["webhook-id"] for m in tries} == {d["id"]}
    assert len({m["body"] for m in tries}) == 1  # the same body every time
    msg = tries[-1]["json"]
    assert msg["type"] == "candidate.state_changed"
    data = msg["data"]
    assert (data["candidate_id"], data["selection_id"]) == (str(cand), sel)
    assert (data["action"], data["from_state"], data["to_state"]) == ("consent", "nominated",
                                                                      "applicant")
    assert data["actor_role"] == "admin"
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.subject_id == cand,
                                        Event.action == "consent")).one()
    assert (data["event_id"], data["event_hash"]) == (str(ev.id), ev.hash)

    done = _ok(client.get(f"{HOOKS}/{hook['id']}/deliveries/{d['id']}", headers=admin))
    assert (done["status"], done["attempts"], done["last_status_code"]) == ("delivered", 4, 200)
    log = done["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 503, None, 200]
    assert log[2]["error"].startswith("timed out") and log[2]["duration_ms"] >= TIMEOUT * 900
    assert log[0]["response_excerpt"] == "answer 500"
    make_due()
    assert send() == 0 and len(receiver.received) == 5


def test_a_refused_action_writes_no_delivery(client, admin, receiver, subscribe,
                                            make_selection, make_candidate):
    hook = subscribe("candidate.state_changed", "selection.state_changed")
    sel = make_selection()
    _problem(client.post(f"{SEL}/{sel['id']}/actions/close_nominations", headers=admin), 409)
    cand = make_candidate(sel["id"], state="nominated")
    _problem(consent(client, admin, cand), 409)  # the selection is not publicizing
    assert sorted(d["event_type"] for d in deliveries(client, admin, hook["id"])) == [
        "selection.state_changed", "webhook.ping"]  # the ping, and the selection's creation
    _ok(client.post(f"{SEL}/{sel['id']}/actions/publish", json={"params": {"working_days": 5}},
                    headers=admin))
    _ok(consent(client, admin, cand))
    _problem(consent(client, admin, cand), 409)  # already an applicant
    pending = deliveries(client, admin, hook["id"], status="pending")
    assert sorted((d["payload"]["data"]["action"], d["event_type"]) for d in pending) == [
        ("consent", "candidate.state_changed"), ("create", "selection.state_changed"),
        ("publish", "selection.state_changed")]
    assert send() == 3
    assert all(m["verified"] for m in receiver.received)


def test_nominations_outcomes_and_failed_emails_reach_the_subscribers_who_want_them(
        client, admin, receiver, subscribe, make_selection, make_candidate):
    from service.core.clock import real_clock
    from service.nomination.models import Candidate
    from service.outbox.mailer import send_due as send_mail
    from service.record.service import Author, append

    wants_all = subscribe("nomination.received", "outcome.decided", "notification.failed",
                          "candidate.state_changed")
    outcomes_only = subscribe("outcome.decided")
    sel = published_selection(client, admin, make_selection)
    nominee = {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
               "education": "bachelor", "party_joined_on": "2012-07-01",
               "work_started_on": "2010-07-01", "current_post": "办公室副主任",
               "unit": "机关办公室"}
    cand = _ok(client.post(f"{SEL}/{sel}/nominations", headers=admin, json={
        "kind": "party_organization", "body_name": "机关党委", "nominee": nominee,
        "reasons": "政治素质好", "groundwork": "走访同事8人"}), 201)["candidate"]["id"]

    # the committee's decision, as the record holds it (the whole committee flow is in
    # test_review.py): one event, two types
    with open_session(write=True) as s:
        c = s.get(Candidate, uuid.UUID(cand))
        append(s, subject_type="candidate", subject_id=c.id, selection_id=c.selection_id,
               action="decide_appoint", author=Author(None, "admin"), clock=real_clock(),
               from_state="inspected", to_state="appointed")
        s.add(Notification(dedupe_key=f"outcome:{c.id}", candidate_id=c.id,
                           selection_id=c.selection_id, outcome="appointed", language="zh",
                           to_address="liming@example.cn", subject="结果", body="…"))
        s.commit()
    # the outcome email cannot be delivered (nothing listens there) and is given up
    dead_port = receiver.server.server_address[1] + 1
    while True:
        import socket

        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", dead_port)) != 0:
                break
            dead_port += 1
    assert send_mail(Settings(smtp_host="127.0.0.1", smtp_port=dead_port,
                              smtp_timeout_seconds=1, mail_max_attempts=1)) == 0

    got = {(d["event_type"], d["payload"]["data"]["action"])
           for d in deliveries(client, admin, wants_all["id"], status="pending")}
    assert got == {("nomination.received", "nominate"),
                   ("candidate.state_changed", "nominate"),
                   ("candidate.state_changed", "decide_appoint"),
                   ("outcome.decided", "decide_appoint"),
                   ("notification.failed", "notification_failed")}
    [only] = deliveries(client, admin, outcomes_only["id"], status="pending")
    assert only["event_type"] == "outcome.decided"
    assert only["payload"]["data"]["outcome"] == "appointed"

    assert send() == 6
    by_type = {m["json"]["type"]: m["json"]["data"] for m in receiver.received}
    nomination = by_type["nomination.received"]
    assert (nomination["kind"], nomination["body_name"], nomination["candidate_id"]) == (
        "party_organization", "机关党委", cand)
    assert "李明" not in json.dumps(nomination, ensure_ascii=False)  # thin: ids, not people
    failed = by_type["notification.failed"]
    assert failed["attempts"] == 1 and failed["error"] and failed["notification_id"]
    assert all(m["verified"] for m in receiver.received)


# ================================================================ 410, giving up, redelivery
def test_410_disables_the_subscription_and_an_admin_brings_it_back(client, admin, receiver,
                                                                   subscribe, make_selection):
    receiver.script = [410]
    hook = subscribe("selection.state_changed", ping=False)
    assert send() == 0
    url = f"{HOOKS}/{hook['id']}"
    off = _ok(client.get(url, headers=admin))
    [ping] = deliveries(client, admin, hook["id"])
    # why, in the reader's language
    assert off["active"] is False and off["disabled_reason"].startswith("接收方于 ")
    assert f"对消息 {ping['id']} 答复 HTTP 410" in off["disabled_reason"]
    en = _ok(client.get(url, headers={**admin, "Accept-Language": "en"}))["disabled_reason"]
    assert en.startswith(f"The receiver answered 410 Gone to {ping['id']} at ")
    assert (ping["status"], ping["last_status_code"]) == ("failed", 410)
    assert "410" in ping["last_error"]
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.subject_type == "webhook",
                                        Event.action == "disable_webhook")).one()
    assert ev.actor_role == "system" and ev.params["delivery_id"] == ping["id"]

    # inactive: events are not queued for it, and nothing is redelivered
    make_selection()
    assert len(deliveries(client, admin, hook["id"])) == 1
    _problem(client.post(f"{url}/deliveries/{ping['id']}/redeliver", headers=admin), 409,
             "webhook_inactive")

    on = _ok(client.patch(url, json={"active": True}, headers=admin))
    assert (on["active"], on["disabled_reason"], on["disabled_at"]) == (True, None, None)
    again = _ok(client.post(f"{url}/deliveries/{ping['id']}/redeliver", headers=admin), 202)
    assert (again["id"], again["status"], again["attempts"]) == (ping["id"], "pending", 0)
    assert send() == 1
    assert receiver.ids() == [ping["id"], ping["id"]]  # the same webhook-id
    assert all(m["verified"] for m in receiver.received)
    done = _ok(client.get(f"{url}/deliveries/{ping['id']}", headers=admin))
    assert [a["status_code"] for a in done["attempt_log"]] == [410, 200]
    assert done["status"] == "delivered"


def test_delivery_gives_up_after_the_maximum_attempts_then_an_admin_redelivers(
        client, admin, receiver, subscribe):
    receiver.script = [500, 502, 500]
    hook = subscribe(ping=False)
    assert send(webhook_max_attempts=2) == 0
    make_due()
    assert send(webhook_max_attempts=2) == 0
    [ping] = deliveries(client, admin, hook["id"])
    assert (ping["status"], ping["attempts"]) == ("failed", 2)
    assert ping["last_error"] == "HTTP 502; given up after 2 tries"
    make_due()
    assert send(webhook_max_attempts=2) == 0 and len(receiver.received) == 2

    url = f"{HOOKS}/{hook['id']}/deliveries"
    _problem(client.post(f"{url}/msg_{uuid.uuid4().hex}/redeliver", headers=admin), 404,
             "webhook_delivery_not_found")
    _problem(client.post(f"{url}/not-an-id/redeliver", headers=admin), 422)
    _ok(client.post(f"{url}/{ping['id']}/redeliver", headers=admin), 202)
    _problem(client.post(f"{url}/{ping['id']}/redeliver", headers=admin), 409,
             "delivery_already_pending")
    assert send(webhook_max_attempts=2) == 0  # the scripted third 500
    make_due()
    assert send(webhook_max_attempts=2) == 1
    done = _ok(client.get(f"{url}/{ping['id']}", headers=admin))
    assert [a["status_code"] for a in done["attempt_log"]] == [500, 502, 500, 200]
    assert (done["status"], done["attempts"]) == ("delivered", 2)
    # a delivered message can be sent again too (the receiver lost it)
    _ok(client.post(f"{url}/{ping['id']}/redeliver", headers=admin), 202)
    assert send() == 1
    assert set(receiver.ids()) == {ping["id"]} and len(receiver.ids()) == 5
    with open_session() as s:
        actions = [e.action for e in s.exec(select(Event).where(Event.subject_type == "webhook")
                                            .order_by(Event.seq))]  # type: ignore[arg-type]
    assert actions == ["create_webhook", "redeliver_webhook", "redeliver_webhook"]


def test_a_rotated_secret_signs_alongside_the_old_one_for_a_while(client, admin, receiver,
                                                                 subscribe, make_selection):
    hook = subscribe("selection.state_changed")
    old = hook["secret"]
    r = client.post(f"{HOOKS}/{hook['id']}/rotate-secret", headers=admin)
    rotated = _ok(r)
    new = rotated["secret"]
    assert new.startswith("whsec_") and new != old
    assert rotated["previous_secret_expires_at"]
    shown = _ok(client.get(f"{HOOKS}/{hook['id']}", headers=admin))
    assert shown["secret_rotating_until"] == rotated["previous_secret_expires_at"]
    assert new not in json.dumps(shown)
    make_selection()
    receiver.secrets = [new]
    assert send() == 1
    msg = receiver.received[-1]
    assert msg["verified"] and len(msg["headers"]["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(msg["body"], msg["headers"])  # a receiver not yet switched accepts it


def test_several_senders_deliver_each_message_once(client, admin, receiver, subscribe,
                                                   make_selection):
    hook = subscribe("selection.state_changed")
    for _ in range(8):
        make_selection()
    ids = {d["id"] for d in deliveries(client, admin, hook["id"], status="pending")}
    assert len(ids) == 8
    counts: list[int] = []
    threads = [threading.Thread(target=lambda: counts.append(send())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(counts) == 8
    delivered = receiver.ids()[1:]
    assert sorted(delivered) == sorted(ids)  # each once


def test_deleting_a_subscription_stops_its_messages(client, admin, receiver, subscribe,
                                                    make_selection):
    hook = subscribe("selection.state_changed")
    make_selection()
    url = f"{HOOKS}/{hook['id']}"
    _problem(client.delete(url, headers={**admin, "If-Match": '"webhook-0-v9"'}), 412)
    r = client.delete(url, headers=admin)
    assert r.status_code == 204 and r.content == b""
    _problem(client.get(url, headers=admin), 404, "webhook_not_found")
    _problem(client.get(f"{url}/deliveries", headers=admin), 404)
    assert send() == 0 and len(receiver.received) == 1  # only the ping, before
    with open_session() as s:
        assert s.exec(select(WebhookDelivery)).all() == []
        actions = [e.action for e in s.exec(select(Event).where(Event.subject_type == "webhook"))]
    assert sorted(actions) == ["create_webhook", "delete_webhook"]


def test_a_429_with_retry_after_is_retried_no_sooner_than_asked(client, admin, receiver,
                                                                subscribe):
    receiver.script = [(429, {"Retry-After": "3600"})]
    hook = subscribe(ping=False)
    before = datetime.now(UTC)
    assert send() == 0
    [ping] = deliveries(client, admin, hook["id"])
    assert (ping["status"], ping["last_status_code"], ping["last_error"]) == ("pending", 429,
                                                                              "HTTP 429")
    assert datetime.fromisoformat(ping["next_attempt_at"]) - before >= timedelta(seconds=3600)
    make_due()
    assert send() == 1


def test_an_unreachable_receiver_is_a_failed_try_and_retried(client, admin, receiver,
                                                            subscribe):
    import socket

    with socket.socket() as s:  # a port nothing listens on once this socket is closed
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    hook = subscribe(ping=False, url=f"http://127.0.0.1:{port}/hooks")
    assert send() == 0
    [ping] = deliveries(client, admin, hook["id"])
    assert (ping["status"], ping["attempts"], ping["last_status_code"]) == ("pending", 1, None)
    assert ping["last_error"].startswith("ConnectError")
    [attempt] = ping["attempt_log"]
    assert attempt["status_code"] is None and attempt["error"] == ping["last_error"]
    # the receiver moves to a reachable address; the waiting message follows it
    _ok(client.patch(f"{HOOKS}/{hook['id']}", json={"url": receiver.url}, headers=admin))
    make_due()
    assert send() == 1 and receiver.ids() == [ping["id"]]


def test_the_app_runs_its_own_sender_when_it_is_in_process(client, admin, receiver,
                                                          subscribe, monkeypatch):
    """`serve` delivers on its own (SELECTION_WEBHOOK_SENDER_IN_PROCESS, on by default):
    the app's lifespan starts a sender that polls the outbox, and stops it with the app."""
    from fastapi.testclient import TestClient

    from service.main import app

    hook = subscribe(ping=False)
    [ping] = deliveries(client, admin, hook["id"])
    monkeypatch.setattr(get_settings(), "webhook_sender_in_process", True)
    monkeypatch.setattr(get_settings(), "webhook_poll_seconds", 0.05)
    monkeypatch.setattr(get_settings(), "webhook_timeout_seconds", TIMEOUT)
    assert "webhook-sender" not in [t.name for t in threading.enumerate()]
    with TestClient(app):
        assert "webhook-sender" in [t.name for t in threading.enumerate()]
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert receiver.ids() == [ping["id"]]
        while time.monotonic() < deadline and deliveries(
                client, admin, hook["id"])[0]["status"] != "delivered":
            time.sleep(0.05)
    [ping] = deliveries(client, admin, hook["id"])
    assert (ping["status"], ping["attempts"]) == ("delivered", 1)
    # stopped with the app
    assert "webhook-sender" not in [t.name for t in threading.enumerate()]
