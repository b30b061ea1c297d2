"""Actions: what each caller may run and why not, running them, and the hash-chained record
each successful action leaves (and a failed one does not)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import pytest
from sqlalchemy import text
from sqlmodel import select

from service.core import calendar as workcal
from service.core.clock import real_clock
from service.core.db import get_engine, open_session
from service.nomination.models import Candidate
from service.record.keys import keyring
from service.record.models import Event
from service.record.service import GENESIS, event_hash, verify
from service.selection.models import Selection
from service.workflow.table import CANDIDATE_TRANSITIONS, SELECTION_TRANSITIONS
from tests.conftest import IS_POSTGRES
from tests.record_guard import unguarded

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
PROBLEM = "application/problem+json"


def _today() -> date:
    return real_clock().today()


def _etag(kind: str, subject_id, version: int) -> str:
    return f'"{kind}-{uuid.UUID(str(subject_id)).hex}-v{version}"'


def _db_events(subject_id) -> list[Event]:
    with open_session() as s:
        return list(s.exec(select(Event).where(Event.subject_id == uuid.UUID(str(subject_id)))
                           .order_by(Event.seq)))


def _db_selection(sel_id) -> Selection:
    with open_session() as s:
        return s.get(Selection, uuid.UUID(str(sel_id)))


def _db_candidate(cand_id) -> Candidate:
    with open_session() as s:
        return s.get(Candidate, uuid.UUID(str(cand_id)))


def _me(client, headers) -> str:
    r = client.get("/api/v1/auth/me", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()["id"]


def _act(client, headers, sel_id, action, body=None, **kw):
    return client.post(f"{SEL}/{sel_id}/actions/{action}", json=body if body is not None else {},
                       headers=headers, **kw)


def _published(client, admin, make_selection) -> dict:
    sel = make_selection()
    r = _act(client, admin, sel["id"], "publish", {"params": {"start_on": _today().isoformat()}})
    assert r.status_code == 200, r.text
    return r.json()


def _assert_problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["code"] == code, body
    assert body["status"] == status
    return body


def _assert_untouched(sel_id, *, version: int, state: str, actions: list[str]) -> None:
    stored = _db_selection(sel_id)
    assert stored.version == version
    assert stored.state == state
    assert [e.action for e in _db_events(sel_id)] == actions


# ---------------------------------------------------------------- GET …/actions
def test_admin_sees_every_action_and_what_is_allowed_in_drafting(client, admin, make_selection):
    sel = make_selection()
    r = client.get(f"{SEL}/{sel['id']}/actions", headers=admin)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["subject_id"] == sel["id"]
    assert body["state"] == "drafting" and body["version"] == 1
    by_name = {a["action"]: a for a in body["actions"]}
    assert set(by_name) == {t.action for t in SELECTION_TRANSITIONS}
    publish = by_name["publish"]
    assert publish["allowed"] is True
    assert publish["refusal_code"] is None and publish["refusal"] is None
    assert publish["to_state"] == "publicizing"
    assert "start_on" in publish["params_schema"]["properties"]
    cancel = by_name["cancel"]
    assert cancel["allowed"] is True and cancel["reason_required"] is True
    for name in ("close_nominations", "submit_to_committee", "finish_decision", "close"):
        assert by_name[name]["allowed"] is False
        assert by_name[name]["refusal_code"] == "action_not_allowed_in_state"
        assert by_name[name]["refusal"]


def test_admin_sees_why_close_nominations_waits(client, admin, make_selection):
    sel = _published(client, admin, make_selection)
    by_name = {a["action"]: a for a in
               client.get(f"{SEL}/{sel['id']}/actions", headers=admin).json()["actions"]}
    assert by_name["close_nominations"]["allowed"] is False
    assert by_name["close_nominations"]["refusal_code"] == "publicity_not_ended"
    assert by_name["publish"]["refusal_code"] == "action_not_allowed_in_state"
    assert by_name["cancel"]["allowed"] is True


def test_a_judge_may_run_nothing(client, admin, as_role, make_selection):
    sel = _published(client, admin, make_selection)
    judge = as_role("judge")
    r = client.get(f"{SEL}/{sel['id']}/actions", headers=judge)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "publicizing"
    assert all(a["allowed"] is False for a in body["actions"])
    for a in body["actions"]:
        if "publicizing" in a["from_states"]:
            assert a["refusal_code"] == "role_not_permitted", a
        assert a["refusal_code"] is not None and a["refusal"]
    assert {a["action"] for a in body["actions"] if a["refusal_code"] == "role_not_permitted"} \
        >= {"cancel", "close_nominations"}


def test_a_judge_cannot_run_an_action(client, admin, as_role, make_selection):
    sel = _published(client, admin, make_selection)
    judge = as_role("judge")
    r = _act(client, judge, sel["id"], "cancel", {"reason": "我想取消"})
    _assert_problem(r, 403, "role_not_permitted")
    _assert_untouched(sel["id"], version=2, state="publicizing", actions=["create", "publish"])


# ---------------------------------------------------------------- publish
def test_publish_moves_to_publicizing_and_sets_the_dates(client, admin, make_selection):
    sel = make_selection()
    today = _today()
    r = _act(client, admin, sel["id"], "publish", {"params": {"start_on": today.isoformat()}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["state"] == "publicizing"
    assert out["version"] == 2
    assert r.headers["etag"] == _etag("selection", sel["id"], 2)
    assert out["publicity_start_on"] == today.isoformat()
    end = date.fromisoformat(out["publicity_end_on"])
    # 5 working days, counted from the day after the start; the last one is a working day.
    worked = [today + timedelta(days=i) for i in range(1, (end - today).days + 1)
              if workcal.day_info(today + timedelta(days=i), {}).workday]
    assert len(worked) == 5 and worked[-1] == end
    stored = _db_selection(sel["id"])
    assert stored.state == "publicizing"
    assert stored.publicity_start_on == today and stored.publicity_end_on == end
    ev = _db_events(sel["id"])[-1]
    assert ev.action == "publish"
    assert ev.params["start_on"] == today.isoformat()
    assert ev.params["end_on"] == end.isoformat()
    assert ev.params["working_days"] == 5


def test_publish_with_a_later_start_and_more_days(client, admin, make_selection):
    sel = make_selection()
    start = _today() + timedelta(days=10)
    r = _act(client, admin, sel["id"], "publish",
             {"params": {"start_on": start.isoformat(), "working_days": 10}})
    assert r.status_code == 200, r.text
    assert r.json()["publicity_start_on"] == start.isoformat()
    end = date.fromisoformat(r.json()["publicity_end_on"])
    assert (end - start).days >= 10


def test_publish_without_a_body_uses_today(client, admin, make_selection):
    sel = make_selection()
    r = client.post(f"{SEL}/{sel['id']}/actions/publish", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["publicity_start_on"] == _today().isoformat()


def test_publish_starting_in_the_past_is_refused_and_writes_nothing(
    client, admin, make_selection
):
    sel = make_selection()
    yesterday = _today() - timedelta(days=1)
    r = _act(client, admin, sel["id"], "publish", {"params": {"start_on": yesterday.isoformat()}})
    body = _assert_problem(r, 422, "start_in_past")
    assert body["errors"][0]["field"] == "body.params.start_on"
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])
    assert _db_selection(sel["id"]).publicity_start_on is None


@pytest.mark.parametrize("params, field", [
    ({"start_at": "2030-01-01"}, "body.params.start_at"),
    ({"working_days": 0}, "body.params.working_days"),
    ({"working_days": 61}, "body.params.working_days"),
    ({"start_on": "next monday"}, "body.params.start_on"),
])
def test_publish_with_bad_params_is_422(client, admin, make_selection, params, field):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "publish", {"params": params})
    body = _assert_problem(r, 422, "validation_error")
    assert field in [e["field"] for e in body["errors"]]
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])


def test_unknown_body_field_on_an_action_is_422(client, admin, make_selection):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "publish", {"parameters": {}})
    body = _assert_problem(r, 422, "validation_error")
    assert "body.parameters" in [e["field"] for e in body["errors"]]
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])


def test_cancel_takes_no_params(client, admin, make_selection):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "cancel", {"reason": "r", "params": {"x": 1}})
    body = _assert_problem(r, 422, "validation_error")
    assert body["errors"][0]["field"] == "body.params.x"
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])


# ---------------------------------------------------------------- refusals
def test_unknown_action_is_404(client, admin, make_selection):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "teleport")
    body = _assert_problem(r, 404, "unknown_action")
    assert "publish" in body["details"]["known_actions"]
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])


def test_action_on_unknown_selection_is_404(client, admin):
    r = _act(client, admin, uuid.uuid4(), "publish")
    _assert_problem(r, 404, "selection_not_found")


def test_action_not_allowed_in_state_writes_nothing(client, admin, make_selection):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "close_nominations")
    body = _assert_problem(r, 409, "action_not_allowed_in_state")
    assert body["details"]["state"] == "drafting"
    assert body["details"]["allowed_from"] == ["publicizing"]
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])
    # Publishing twice: the second is refused.
    assert _act(client, admin, sel["id"], "publish").status_code == 200
    r = _act(client, admin, sel["id"], "publish")
    _assert_problem(r, 409, "action_not_allowed_in_state")
    _assert_untouched(sel["id"], version=2, state="publicizing", actions=["create", "publish"])


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": None}])
def test_cancel_without_a_reason_is_refused(client, admin, make_selection, body):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "cancel", body)
    _assert_problem(r, 422, "reason_required")
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])


def test_cancel_with_a_reason_cancels_and_records_it(client, admin, make_selection):
    sel = _published(client, admin, make_selection)
    r = _act(client, admin, sel["id"], "cancel", {"reason": "  岗位调整，本次选拔取消  "})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "cancelled"
    assert r.json()["version"] == 3
    ev = _db_events(sel["id"])[-1]
    assert ev.action == "cancel"
    assert ev.reason == "岗位调整，本次选拔取消"
    assert (ev.from_state, ev.to_state) == ("publicizing", "cancelled")
    # A cancelled selection is final: nothing more runs.
    r = _act(client, admin, sel["id"], "cancel", {"reason": "again"})
    _assert_problem(r, 409, "action_not_allowed_in_state")
    actions = {a["action"]: a for a in
               client.get(f"{SEL}/{sel['id']}/actions", headers=admin).json()["actions"]}
    assert not any(a["allowed"] for a in actions.values())


def test_close_nominations_before_the_end_is_refused(client, admin, make_selection):
    sel = _published(client, admin, make_selection)
    r = _act(client, admin, sel["id"], "close_nominations")
    body = _assert_problem(r, 409, "publicity_not_ended")
    assert body["details"]["publicity_end_on"] == sel["publicity_end_on"]
    assert body["details"]["today"] == _today().isoformat()
    _assert_untouched(sel["id"], version=2, state="publicizing", actions=["create", "publish"])


def test_if_match_on_actions(client, admin, make_selection):
    sel = make_selection()
    stale = _etag("selection", sel["id"], 0)
    r = client.post(f"{SEL}/{sel['id']}/actions/publish", json={},
                    headers={**admin, "If-Match": stale})
    body = _assert_problem(r, 412, "precondition_failed")
    assert body["details"]["current_etag"] == _etag("selection", sel["id"], 1)
    _assert_untouched(sel["id"], version=1, state="drafting", actions=["create"])
    r = client.post(f"{SEL}/{sel['id']}/actions/publish", json={},
                    headers={**admin, "If-Match": _etag("selection", sel["id"], 1)})
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == _etag("selection", sel["id"], 2)
    # The ETag just read is now the stale one.
    r = client.post(f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "r"},
                    headers={**admin, "If-Match": _etag("selection", sel["id"], 1)})
    _assert_problem(r, 412, "precondition_failed")
    _assert_untouched(sel["id"], version=2, state="publicizing", actions=["create", "publish"])


# ---------------------------------------------------------------- the record
def test_every_successful_action_writes_one_chained_event(client, admin, make_selection):
    sel = make_selection()
    admin_id = _me(client, admin)
    steps = [
        ("publish", {"params": {"start_on": _today().isoformat()}}, "drafting", "publicizing",
         None),
        ("cancel", {"reason": "测试取消"}, "publicizing", "cancelled", "测试取消"),
    ]
    for i, (action, body, src, dst, reason) in enumerate(steps, start=2):
        rid = f"test-{action}-{uuid.uuid4().hex[:8]}"
        before = _db_events(sel["id"])
        r = client.post(f"{SEL}/{sel['id']}/actions/{action}", json=body,
                        headers={**admin, "X-Request-ID": rid})
        assert r.status_code == 200, r.text
        assert r.headers["x-request-id"] == rid
        after = _db_events(sel["id"])
        assert len(after) == len(before) + 1
        ev = after[-1]
        assert ev.seq == i
        assert ev.action == action
        assert (ev.from_state, ev.to_state) == (src, dst)
        assert str(ev.actor_id) == admin_id
        assert ev.actor_role == "admin"
        assert ev.request_id == rid
        assert ev.reason == reason
        assert ev.selection_id == uuid.UUID(sel["id"])
        assert ev.prev_hash == before[-1].hash
        assert ev.key_id == keyring().current  # HMAC-SHA256 with the record's current key
        assert ev.hash == event_hash(ev, ev.prev_hash, keyring().key(ev.key_id))
        assert ev.hash != event_hash(ev, ev.prev_hash)  # not the plain sha256
        assert _db_selection(sel["id"]).version == i
    # The same record over the API.
    r = client.get(f"{SEL}/{sel['id']}/events", headers=admin)
    assert r.status_code == 200
    items = r.json()["items"]
    assert [e["action"] for e in items] == ["create", "publish", "cancel"]
    assert [e["seq"] for e in items] == [1, 2, 3]
    assert items[0]["prev_hash"] == GENESIS
    for a, b in pairwise(items):
        assert b["prev_hash"] == a["hash"]
    assert items[2]["reason"] == "测试取消"


def test_a_request_id_is_made_when_none_is_sent(client, admin, make_selection):
    sel = make_selection()
    r = _act(client, admin, sel["id"], "publish")
    rid = r.headers["x-request-id"]
    assert rid
    assert _db_events(sel["id"])[-1].request_id == rid


def test_events_pages(client, admin, make_selection):
    sel = make_selection()
    for i in range(3):
        assert client.patch(f"{SEL}/{sel['id']}", json={"title": f"t{i}"},
                            headers=admin).status_code == 200
    seen, cursor = [], None
    for _ in range(10):
        r = client.get(f"{SEL}/{sel['id']}/events",
                       params={"limit": 1, **({"cursor": cursor} if cursor else {})},
                       headers=admin)
        assert r.status_code == 200, r.text
        seen += [e["seq"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert seen == [1, 2, 3, 4]


# ---------------------------------------------------------------- candidate actions
@pytest.fixture
def published(client, admin, make_selection) -> dict:
    return _published(client, admin, make_selection)


def test_admin_withdraws_a_candidate_with_a_reason(client, admin, published, make_candidate):
    admin_id = _me(client, admin)
    cid = make_candidate(published["id"])
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={}, headers=admin)
    _assert_problem(r, 422, "reason_required")
    assert _db_candidate(cid).state == "applicant"
    assert _db_events(cid) == []
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "本人书面申请退出"},
                    headers={**admin, "X-Request-ID": "withdraw-1"})
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn"
    assert r.json()["version"] == 2
    assert r.headers["etag"] == _etag("candidate", cid, 2)
    r = client.get(f"{CAND}/{cid}/events", headers=admin)
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 1
    ev = items[0]
    assert ev["action"] == "withdraw" and ev["seq"] == 1
    assert (ev["from_state"], ev["to_state"]) == ("applicant", "withdrawn")
    assert ev["reason"] == "本人书面申请退出"
    assert ev["actor_id"] == str(admin_id) and ev["actor_role"] == "admin"
    assert ev["selection_id"] == published["id"]
    assert ev["request_id"] == "withdraw-1"
    assert ev["prev_hash"] == GENESIS
    # Withdrawn is final.
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "again"}, headers=admin)
    _assert_problem(r, 409, "action_not_allowed_in_state")
    assert len(_db_events(cid)) == 1


def test_a_candidate_withdraws_themself(client, make_user, login, published, make_candidate):
    user, pw = make_user("candidate")
    me = login(user.username, pw)
    cid = make_candidate(published["id"], user_id=user.id)
    r = client.get(f"{CAND}/{cid}/actions", headers=me)
    assert r.status_code == 200
    withdraw = {a["action"]: a for a in r.json()["actions"]}["withdraw"]
    assert withdraw["allowed"] is True
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "工作调动"}, headers=me)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "withdrawn"
    events = client.get(f"{CAND}/{cid}/events", headers=me).json()["items"]
    assert [(e["action"], e["actor_role"], e["actor_id"]) for e in events] == [
        ("withdraw", "candidate", str(user.id))]


def test_a_candidate_cannot_touch_someone_elses_record(client, make_user, login, published,
                                                       make_candidate):
    owner, _ = make_user("candidate")
    other, pw = make_user("candidate")
    intruder = login(other.username, pw)
    cid = make_candidate(published["id"], user_id=owner.id)
    for r in (
        client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "x"}, headers=intruder),
        client.get(f"{CAND}/{cid}", headers=intruder),
        client.get(f"{CAND}/{cid}/events", headers=intruder),
        client.get(f"{CAND}/{cid}/actions", headers=intruder),
    ):
        _assert_problem(r, 404, "candidate_not_found")
    assert _db_candidate(cid).state == "applicant"
    assert _db_events(cid) == []


def test_a_judge_cannot_see_a_candidate(client, as_role, published, make_candidate):
    cid = make_candidate(published["id"])
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "x"},
                    headers=as_role("judge"))
    _assert_problem(r, 404, "candidate_not_found")
    assert _db_candidate(cid).state == "applicant"


def test_withdraw_needs_a_running_selection(client, admin, make_selection, make_candidate):
    sel = make_selection()  # still drafting
    cid = make_candidate(sel["id"])
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "x"}, headers=admin)
    body = _assert_problem(r, 409, "selection_state_mismatch")
    assert body["details"]["selection_state"] == "drafting"
    assert _db_candidate(cid).state == "applicant"
    assert _db_events(cid) == []


def test_candidate_action_if_match(client, admin, published, make_candidate):
    cid = make_candidate(published["id"])
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "x"},
                    headers={**admin, "If-Match": _etag("candidate", cid, 7)})
    _assert_problem(r, 412, "precondition_failed")
    assert _db_candidate(cid).version == 1
    r = client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "x"},
                    headers={**admin, "If-Match": _etag("candidate", cid, 1)})
    assert r.status_code == 200, r.text
    assert {t.action for t in CANDIDATE_TRANSITIONS} >= {"withdraw"}


def test_unknown_candidate_is_404(client, admin):
    r = client.post(f"{CAND}/{uuid.uuid4()}/actions/withdraw", json={"reason": "x"},
                    headers=admin)
    _assert_problem(r, 404, "candidate_not_found")


# ---------------------------------------------------------------- verifying the chain
def _run_a_sequence(client, admin, make_selection, make_candidate) -> tuple[dict, uuid.UUID]:
    sel = make_selection()
    assert client.patch(f"{SEL}/{sel['id']}", json={"title": "改过的标题"},
                        headers=admin).status_code == 200
    assert _act(client, admin, sel["id"], "publish").status_code == 200
    assert _act(client, admin, sel["id"], "close_nominations").status_code == 409
    cid = make_candidate(sel["id"], recorded=True)
    assert client.post(f"{CAND}/{cid}/actions/withdraw", json={"reason": "退出"},
                       headers=admin).status_code == 200
    assert _act(client, admin, sel["id"], "cancel", {"reason": "取消"}).status_code == 200
    return sel, cid


def test_the_record_verifies_after_a_sequence_of_actions(client, admin, make_selection,
                                                         make_candidate):
    sel, cid = _run_a_sequence(client, admin, make_selection, make_candidate)
    assert [e.action for e in _db_events(sel["id"])] == ["create", "edit", "publish", "cancel"]
    with open_session() as s:
        checked, broken = verify(s)
        total = len(list(s.exec(select(Event))))
    assert broken is None
    assert checked == total >= 5


@pytest.mark.parametrize("statement", [
    "UPDATE event SET reason = 'x'", "DELETE FROM event", "TRUNCATE event CASCADE",
    "UPDATE record_checkpoint SET events = 0", "DELETE FROM record_checkpoint"])
def test_the_database_refuses_to_rewrite_the_record(client, admin, make_selection, statement):
    """The triggers (PostgreSQL since 0005, SQLite since 0007) refuse rewrites of events
    and of automatic checkpoints."""
    from sqlalchemy.exc import DBAPIError

    from service.record.service import take_checkpoint

    if "TRUNCATE" in statement and not IS_POSTGRES:
        pytest.skip("SQLite has no TRUNCATE")
    make_selection()
    with open_session(write=True) as s:
        take_checkpoint(s, datetime.now(UTC))
        s.commit()
    with pytest.raises(DBAPIError, match="append-only"), get_engine().begin() as conn:
        conn.execute(text(statement))
    with open_session() as s:
        assert s.exec(select(Event)).first() is not None
        assert verify(s)[1] is None


def test_verify_reports_a_tampered_event(client, admin, make_selection, make_candidate):
    sel, _ = _run_a_sequence(client, admin, make_selection, make_candidate)
    cancel = _db_events(sel["id"])[-1]
    assert cancel.action == "cancel"
    with get_engine().begin() as conn, unguarded(conn):
        n = conn.execute(text("UPDATE event SET reason = 'x' WHERE action = 'cancel'")).rowcount
    assert n == 1
    with open_session() as s:
        _, broken = verify(s)
    assert broken is not None
    assert broken.event_id == cancel.id
    assert broken.subject_id == uuid.UUID(sel["id"])
    assert broken.seq == cancel.seq
    assert "hash" in broken.problem and broken.code == "columns_changed"
    assert broken.text("zh-CN") == "哈希值与事件内容不符：其字段被改动过"


def test_verify_reports_a_deleted_event(client, admin, make_selection, make_candidate):
    sel, _ = _run_a_sequence(client, admin, make_selection, make_candidate)
    events = _db_events(sel["id"])
    with get_engine().begin() as conn, unguarded(conn):
                n = conn.execute(text("DELETE FROM event WHERE action = 'publish'")).rowcount
    assert n == 1
    with open_session() as s:
        _, broken = verify(s)
    assert broken is not None
    assert broken.subject_id == uuid.UUID(sel["id"])
    assert broken.event_id == events[3].id  # the one after the gap
    assert "sequence" in broken.problem and broken.code == "sequence_gap"
