"""Conflicting requests at the same moment: one wins, the others are refused cleanly, and the
record holds exactly one event per change with an unbroken chain."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable
from itertools import pairwise
from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from service.core.db import open_session
from service.nomination.models import Candidate
from service.record.models import Event
from service.record.service import verify
from service.selection.models import Selection

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"
THREADS = 10


def _etag(kind: str, subject_id, version: int) -> str:
    return f'"{kind}-{uuid.UUID(str(subject_id)).hex}-v{version}"'


def _fire(n: int, request: Callable[[TestClient, int], Any]) -> list:
    """Run `request` in n threads, each with its own client, released together."""
    from service.main import app

    barrier = threading.Barrier(n)
    results: list = [None] * n

    def worker(i: int) -> None:
        try:
            with TestClient(app, raise_server_exceptions=False) as c:
                barrier.wait(timeout=30)
                results[i] = request(c, i)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a request hung"
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, errors
    return results


def _events(subject_id, action: str | None = None) -> list[Event]:
    with open_session() as s:
        stmt = select(Event).where(Event.subject_id == uuid.UUID(str(subject_id)))
        if action:
            stmt = stmt.where(Event.action == action)
        return list(s.exec(stmt.order_by(Event.seq)))


def _selection(sel_id) -> Selection:
    with open_session() as s:
        return s.get(Selection, uuid.UUID(str(sel_id)))


def _chain_ok() -> None:
    with open_session() as s:
        _, broken = verify(s)
    assert broken is None, broken


def _statuses(results) -> Counter:
    return Counter(r.status_code for r in results)


def _codes(results, status: int) -> set[str]:
    return {r.json()["code"] for r in results if r.status_code == status}


def test_concurrent_cancel_one_wins(admin, make_selection):
    sel = make_selection()
    results = _fire(THREADS, lambda c, i: c.post(
        f"{SEL}/{sel['id']}/actions/cancel", json={"reason": f"取消 {i}"}, headers=admin))
    statuses = _statuses(results)
    assert statuses == {200: 1, 409: THREADS - 1}, [(r.status_code, r.text) for r in results]
    assert _codes(results, 409) == {"action_not_allowed_in_state"}
    winner = next(r for r in results if r.status_code == 200)
    assert winner.json()["state"] == "cancelled" and winner.json()["version"] == 2
    cancels = _events(sel["id"], "cancel")
    assert len(cancels) == 1
    assert cancels[0].reason == f"取消 {results.index(winner)}"
    stored = _selection(sel["id"])
    assert stored.state == "cancelled" and stored.version == 2
    assert [e.seq for e in _events(sel["id"])] == [1, 2]
    _chain_ok()


def test_concurrent_cancel_with_if_match_one_wins_others_412(admin, make_selection):
    sel = make_selection()
    etag = _etag("selection", sel["id"], 1)
    results = _fire(THREADS, lambda c, i: c.post(
        f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "取消"},
        headers={**admin, "If-Match": etag}))
    assert _statuses(results) == {200: 1, 412: THREADS - 1}, \
        [(r.status_code, r.text) for r in results]
    assert _codes(results, 412) == {"precondition_failed"}
    assert len(_events(sel["id"], "cancel")) == 1
    assert _selection(sel["id"]).version == 2
    _chain_ok()


def test_concurrent_publish_one_wins(admin, make_selection):
    sel = make_selection()
    results = _fire(THREADS, lambda c, i: c.post(
        f"{SEL}/{sel['id']}/actions/publish", json={}, headers=admin))
    assert _statuses(results) == {200: 1, 409: THREADS - 1}, \
        [(r.status_code, r.text) for r in results]
    assert _codes(results, 409) == {"action_not_allowed_in_state"}
    assert len(_events(sel["id"], "publish")) == 1
    stored = _selection(sel["id"])
    assert stored.state == "publicizing" and stored.version == 2
    assert stored.publicity_end_on is not None
    _chain_ok()


def test_concurrent_publish_and_cancel_stay_in_order(admin, make_selection):
    """Publish and cancel race: both may succeed, but one after the other, never mixed."""
    sel = make_selection()

    def request(c, i):
        if i % 2:
            return c.post(f"{SEL}/{sel['id']}/actions/publish", json={}, headers=admin)
        return c.post(f"{SEL}/{sel['id']}/actions/cancel", json={"reason": "r"}, headers=admin)

    results = _fire(THREADS, request)
    assert set(_statuses(results)) <= {200, 409}
    assert _selection(sel["id"]).state == "cancelled"
    events = _events(sel["id"])
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert len([e for e in events if e.action == "cancel"]) == 1
    assert len([e for e in events if e.action == "publish"]) <= 1
    assert _statuses(results)[200] == len(events) - 1
    for a, b in pairwise(events):
        assert b.from_state == a.to_state
        assert b.prev_hash == a.hash
    assert _selection(sel["id"]).version == len(events)
    _chain_ok()


def test_concurrent_edits_without_if_match_all_land_in_sequence(admin, make_selection):
    sel = make_selection()
    results = _fire(THREADS, lambda c, i: c.patch(
        f"{SEL}/{sel['id']}", json={"title": f"标题 {i}"}, headers=admin))
    assert _statuses(results) == {200: THREADS}, [(r.status_code, r.text) for r in results]
    assert sorted(r.json()["version"] for r in results) == list(range(2, THREADS + 2))
    events = _events(sel["id"])
    assert [e.seq for e in events] == list(range(1, THREADS + 2))
    assert _selection(sel["id"]).version == THREADS + 1
    # Each edit saw the title the previous one left.
    edits = events[1:]
    for a, b in pairwise(edits):
        assert b.params["changes"]["title"]["before"] == a.params["changes"]["title"]["after"]
    _chain_ok()


def test_concurrent_edits_with_if_match_lose_no_update(admin, make_selection):
    sel = make_selection()
    etag = _etag("selection", sel["id"], 1)
    results = _fire(THREADS, lambda c, i: c.patch(
        f"{SEL}/{sel['id']}", json={"title": f"标题 {i}"}, headers={**admin, "If-Match": etag}))
    assert _statuses(results) == {200: 1, 412: THREADS - 1}, \
        [(r.status_code, r.text) for r in results]
    winner = next(r for r in results if r.status_code == 200)
    assert _selection(sel["id"]).title == winner.json()["title"]
    assert len(_events(sel["id"], "edit")) == 1
    _chain_ok()


def test_concurrent_withdraw_one_wins(client, admin, make_selection, make_candidate):
    sel = make_selection()
    assert client.post(f"{SEL}/{sel['id']}/actions/publish", json={},
                       headers=admin).status_code == 200
    cid = make_candidate(sel["id"], recorded=True)
    results = _fire(THREADS, lambda c, i: c.post(
        f"{CAND}/{cid}/actions/withdraw", json={"reason": "退出"}, headers=admin))
    assert _statuses(results) == {200: 1, 409: THREADS - 1}, \
        [(r.status_code, r.text) for r in results]
    assert len(_events(cid, "withdraw")) == 1
    with open_session() as s:
        c = s.get(Candidate, cid)
        assert (c.state, c.version) == ("withdrawn", 2)
    _chain_ok()
