"""Conflicting requests over real HTTP, against real server processes.

On PostgreSQL: two uvicorn replicas on one database (the test database, migrated by the
session fixture in tests/conftest.py). Fifty requests for the same action on the same subject
go out at once, alternating between the replicas, half of them with the ETag read just
before (If-Match): exactly one succeeds; every other one is refused with 409 (the action is no
longer allowed in the new state) or 412 (the ETag is stale), as application/problem+json; the
record holds exactly one event for the change and its hash chains verify. An Idempotency-Key
used on replica A and then on replica B acts once, and B answers with A's stored response.

The same races also run against ONE uvicorn process taking all fifty requests. On SQLite
that is the deployment (SQLite is one file on one host; the two-replica tests are skipped
there). The cancel race runs on one process on PostgreSQL too, because one process with many
threads is a case of its own on either database: every request waiting for the subject's lock
holds one of the process's worker threads (and a database connection), which two replicas
taking 25 requests each never run short of, and one process taking 50 does. (The withdrawal
race adds nothing to that on PostgreSQL, so it runs through the replicas only.)
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import select

from service.core.db import open_session
from service.core.models import IdempotencyRecord
from service.nomination.models import Candidate
from service.record.models import Event
from service.record.service import verify
from service.selection.models import Selection
from tests.conftest import IS_POSTGRES, SELECTION_BODY

from ._live import LiveServer, server_env

N = 50
TIMEOUT = httpx.Timeout(60.0, connect=10.0)  # every request is bounded
API = "/api/v1"
PROBLEM = "application/problem+json"
NOMINEE = {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
           "education": "bachelor", "party_joined_on": "2012-07-01",
           "work_started_on": "2010-07-01", "current_post": "办公室副主任", "unit": "机关办公室",
           "email": "liming@example.cn"}

needs_postgres = pytest.mark.skipif(
    not IS_POSTGRES, reason="replicas share a PostgreSQL database; this run is on SQLite"
    " (set TEST_DATABASE_URL to run it)")


# ---------------------------------------------------------------- servers
def _start(names: tuple[str, ...], tmp: Path) -> Iterator[list[LiveServer]]:
    servers = [LiveServer(n, server_env(tmp / n), tmp) for n in names]
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready()
        yield servers
    finally:
        for s in servers:
            s.stop()


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, migrated_database) -> Iterator[list[LiveServer]]:
    """Two replicas on the test PostgreSQL database."""
    if not IS_POSTGRES:
        pytest.skip("replicas need PostgreSQL")
    yield from _start(("replica-a", "replica-b"), tmp_path_factory.mktemp("replicas"))


@pytest.fixture(scope="module")
def one_server(tmp_path_factory, migrated_database) -> Iterator[list[LiveServer]]:
    """One server process on the test database (SQLite or PostgreSQL)."""
    yield from _start(("single",), tmp_path_factory.mktemp("single"))


# ---------------------------------------------------------------- HTTP helpers
def _ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, f"{r.request.method} {r.request.url}: {r.status_code} {r.text}"
    return r.json()


def _login(server: LiveServer, make_user) -> dict[str, str]:
    """A new admin, created in the database, logged in over HTTP."""
    user, pw = make_user("admin")
    r = httpx.post(f"{server.base_url}{API}/auth/token",
                   data={"username": user.username, "password": pw}, timeout=TIMEOUT)
    return {"Authorization": f"Bearer {_ok(r)['access_token']}"}


def _fire(n: int, request: Callable[[httpx.Client, int], httpx.Response]) -> list[httpx.Response]:
    """Run `request` in n threads, each with its own client, released together."""
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n

    def worker(i: int) -> None:
        try:
            with httpx.Client(timeout=TIMEOUT) as c:
                barrier.wait(timeout=30)
                results[i] = request(c, i)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = e

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a request hung past every timeout"
    errors = [r for r in results if isinstance(r, Exception)]
    assert not errors, f"{len(errors)} request(s) failed without an answer: {errors[:3]}"
    return results


def _events(subject_id: str, action: str | None = None) -> list[Event]:
    with open_session() as s:
        stmt = select(Event).where(Event.subject_id == uuid.UUID(subject_id))
        if action:
            stmt = stmt.where(Event.action == action)
        return list(s.exec(stmt.order_by(Event.seq)))


def _chain_intact() -> None:
    with open_session() as s:
        count, broken = verify(s)
    assert broken is None, broken
    assert count > 0


def _describe(results: list[httpx.Response]) -> list[tuple[int, str]]:
    return [(r.status_code, r.text[:160]) for r in results]


# ---------------------------------------------------------------- the race
def _race(servers: list[LiveServer], admin: dict[str, str], *, path: str, body: dict,
          etag: str, action: str) -> tuple[httpx.Response, list[httpx.Response], list[str]]:
    """N requests for `action` at once, spread over the servers; every other pair carries
    If-Match with `etag` (so each server gets both kinds). Checks every answer; returns the
    winner, all results, and the request ids sent."""
    run = uuid.uuid4().hex[:8]
    rids = [f"race-{run}-{i}" for i in range(N)]
    with_if_match = [(i // len(servers)) % 2 == 0 for i in range(N)]

    def request(c: httpx.Client, i: int) -> httpx.Response:
        headers = {**admin, "X-Request-ID": rids[i]}
        if with_if_match[i]:
            headers["If-Match"] = etag
        return c.post(f"{servers[i % len(servers)].base_url}{path}", json=body,
                      headers=headers)

    results = _fire(N, request)
    statuses = Counter(r.status_code for r in results)
    assert statuses[200] == 1, (statuses, _describe(results))
    assert set(statuses) <= {200, 409, 412}, (statuses, _describe(results))
    for i, r in enumerate(results):
        if r.status_code == 200:
            continue
        assert r.headers["content-type"].startswith(PROBLEM), (r.headers, r.text)
        problem = r.json()
        assert problem["status"] == r.status_code, problem
        # a stale ETag is 412; without If-Match the action is refused in the new state
        expected = (412, "precondition_failed") if with_if_match[i] else (
            409, "action_not_allowed_in_state")
        assert (r.status_code, problem["code"]) == expected, (i, with_if_match[i], problem)
        assert r.headers["x-request-id"] == rids[i]
    winner_index = next(i for i, r in enumerate(results) if r.status_code == 200)
    winner = results[winner_index]
    assert winner.headers["x-request-id"] == rids[winner_index]
    # the one event of the change was written by the winning request, and by no other
    assert [(e.action, e.request_id) for e in _events_by_request(rids)] == [
        (action, rids[winner_index])]
    return winner, results, rids


def _events_by_request(rids: list[str]) -> list[Event]:
    with open_session() as s:
        return list(s.exec(select(Event).where(Event.request_id.in_(rids))))  # type: ignore[union-attr]


def _check_cancel_race(servers: list[LiveServer], admin: dict[str, str]) -> None:
    created = servers[0]
    r = httpx.post(f"{created.base_url}{API}/selections", json=SELECTION_BODY, headers=admin,
                   timeout=TIMEOUT)
    sel = _ok(r, 201)
    # the current ETag, read through the last server (which did not create it)
    read = httpx.get(f"{servers[-1].base_url}{API}/selections/{sel['id']}", headers=admin,
                     timeout=TIMEOUT)
    assert _ok(read)["version"] == 1
    etag = read.headers["etag"]
    assert etag == r.headers["etag"]

    winner, _, _ = _race(servers, admin, path=f"{API}/selections/{sel['id']}/actions/cancel",
                         body={"reason": "岗位调整，本次选拔取消"}, etag=etag, action="cancel")
    assert (winner.json()["state"], winner.json()["version"]) == ("cancelled", 2)
    assert winner.headers["etag"] != etag

    events = _events(sel["id"])
    assert [(e.seq, e.action) for e in events] == [(1, "create"), (2, "cancel")]
    assert (events[1].from_state, events[1].to_state) == ("drafting", "cancelled")
    assert len(_events(sel["id"], "cancel")) == 1
    with open_session() as s:
        stored = s.get(Selection, uuid.UUID(sel["id"]))
        assert (stored.state, stored.version) == ("cancelled", 2)
    # every server now reads the same state
    for srv in servers:
        got = _ok(httpx.get(f"{srv.base_url}{API}/selections/{sel['id']}", headers=admin,
                            timeout=TIMEOUT))
        assert (got["state"], got["version"]) == ("cancelled", 2)
    _chain_intact()


def _check_withdraw_race(servers: list[LiveServer], admin: dict[str, str]) -> None:
    base = servers[0].base_url
    sel = _ok(httpx.post(f"{base}{API}/selections", json=SELECTION_BODY, headers=admin,
                         timeout=TIMEOUT), 201)
    _ok(httpx.post(f"{base}{API}/selections/{sel['id']}/actions/publish", json={},
                   headers=admin, timeout=TIMEOUT))
    nominated = _ok(httpx.post(f"{base}{API}/selections/{sel['id']}/nominations", json={
        "kind": "party_organization", "body_name": "机关党委", "nominee": NOMINEE,
        "reasons": "政治素质好", "groundwork": "走访同事8人"}, headers=admin, timeout=TIMEOUT), 201)
    cid = nominated["candidate"]["id"]
    read = httpx.get(f"{servers[-1].base_url}{API}/candidates/{cid}", headers=admin,
                     timeout=TIMEOUT)
    assert _ok(read)["state"] == "nominated"
    etag = read.headers["etag"]

    winner, _, _ = _race(servers, admin, path=f"{API}/candidates/{cid}/actions/withdraw",
                         body={"reason": "本人因工作调动退出"}, etag=etag, action="withdraw")
    assert winner.json()["state"] == "withdrawn"
    events = _events(cid)
    assert [(e.seq, e.action) for e in events] == [(1, "nominate"), (2, "withdraw")]
    assert (events[1].from_state, events[1].to_state) == ("nominated", "withdrawn")
    with open_session() as s:
        stored = s.get(Candidate, uuid.UUID(cid))
        assert (stored.state, stored.version) == ("withdrawn", 2)
    _chain_intact()


# ---------------------------------------------------------------- idempotency
def _check_idempotency_one_after_the_other(a: LiveServer, b: LiveServer,
                                           admin: dict[str, str]) -> None:
    title = f"幂等 {uuid.uuid4().hex[:8]}"
    body = {**SELECTION_BODY, "title": title}
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    first = httpx.post(f"{a.base_url}{API}/selections", json=body, headers=headers,
                       timeout=TIMEOUT)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    again = httpx.post(f"{b.base_url}{API}/selections", json=body, headers=headers,
                       timeout=TIMEOUT)
    assert again.status_code == 201, again.text
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.content == first.content
    for h in ("location", "etag", "content-type"):
        assert again.headers[h] == first.headers[h], h
    with open_session() as s:
        rows = s.exec(select(Selection).where(Selection.title == title)).all()
        assert [str(r.id) for r in rows] == [first.json()["id"]]
    assert [e.action for e in _events(first.json()["id"])] == ["create"]

    # an action, keyed, on B then A: acts once, the second is the first's answer
    sid = first.json()["id"]
    key = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    cancel = {"reason": "重复提交测试"}
    one = httpx.post(f"{b.base_url}{API}/selections/{sid}/actions/cancel", json=cancel,
                     headers=key, timeout=TIMEOUT)
    two = httpx.post(f"{a.base_url}{API}/selections/{sid}/actions/cancel", json=cancel,
                     headers=key, timeout=TIMEOUT)
    assert (one.status_code, two.status_code) == (200, 200), (one.text, two.text)
    assert two.headers.get("idempotent-replayed") == "true"
    assert two.content == one.content and two.headers["etag"] == one.headers["etag"]
    assert [e.action for e in _events(sid)] == ["create", "cancel"]
    # the same key with another body is refused on the other replica too
    other = httpx.post(f"{b.base_url}{API}/selections", json={**body, "title": title + "x"},
                       headers=headers, timeout=TIMEOUT)
    assert other.status_code == 422 and other.json()["code"] == "idempotency_key_reused"
    _chain_intact()


def _check_idempotency_twins(servers: list[LiveServer], admin: dict[str, str]) -> None:
    """The same keyed request many times at once over every server: one selection."""
    title = f"并发幂等 {uuid.uuid4().hex[:8]}"
    body = {**SELECTION_BODY, "title": title}
    headers = {**admin, "Idempotency-Key": str(uuid.uuid4())}
    n = 10
    results = _fire(n, lambda c, i: c.post(f"{servers[i % len(servers)].base_url}{API}"
                                           "/selections", json=body, headers=headers))
    fresh = [r for r in results if r.status_code == 201
             and r.headers.get("idempotent-replayed") != "true"]
    replayed = [r for r in results if r.headers.get("idempotent-replayed") == "true"]
    in_progress = [r for r in results if r.status_code == 409]
    assert len(fresh) == 1, _describe(results)
    assert len(fresh) + len(replayed) + len(in_progress) == n, _describe(results)
    for r in replayed:
        assert r.status_code == 201 and r.content == fresh[0].content
    for r in in_progress:
        assert r.headers["content-type"].startswith(PROBLEM)
        assert r.json()["code"] == "idempotency_in_progress", r.text
    with open_session() as s:
        rows = s.exec(select(Selection).where(Selection.title == title)).all()
        assert [str(r.id) for r in rows] == [fresh[0].json()["id"]]
        keys = s.exec(select(IdempotencyRecord).where(
            IdempotencyRecord.key == headers["Idempotency-Key"])).all()
        assert len(keys) == 1 and keys[0].response_status == 201
    _chain_intact()


# ================================================================ PostgreSQL: two replicas
@needs_postgres
def test_conflicting_cancels_through_two_replicas_one_wins(replicas, make_user):
    _check_cancel_race(replicas, _login(replicas[0], make_user))


@needs_postgres
def test_conflicting_withdrawals_through_two_replicas_one_wins(replicas, make_user):
    _check_withdraw_race(replicas, _login(replicas[1], make_user))


@needs_postgres
def test_an_idempotency_key_holds_across_replicas(replicas, make_user):
    a, b = replicas
    _check_idempotency_one_after_the_other(a, b, _login(a, make_user))


@needs_postgres
def test_one_idempotency_key_sent_at_once_to_both_replicas_acts_once(replicas, make_user):
    _check_idempotency_twins(replicas, _login(replicas[0], make_user))


# ================================================================ one process, every database
def test_conflicting_cancels_one_process_many_threads_one_wins(one_server, make_user):
    """Fifty at once into one process. Anything but 200/409/412 here (503 database_busy on
    SQLite after its 15 s busy timeout, 500 internal_error on PostgreSQL after the 30 s
    connection-pool timeout) means the requests waiting for the lock took every worker thread
    (anyio's default of 40) and the one holding the lock could not get a thread to finish and
    commit: service/routing.py runs each step of a request in a separate run_in_threadpool
    call while its transaction holds the lock, with nothing bounding how many requests do."""
    _check_cancel_race(one_server, _login(one_server[0], make_user))


@pytest.mark.skipif(IS_POSTGRES, reason="on PostgreSQL the withdrawal race runs through two"
                    " replicas; the one-process case is covered by the cancel race")
def test_conflicting_withdrawals_one_process_many_threads_one_wins(one_server, make_user):
    _check_withdraw_race(one_server, _login(one_server[0], make_user))


def test_one_idempotency_key_sent_at_once_acts_once(one_server, make_user):
    _check_idempotency_twins(one_server, _login(one_server[0], make_user))
