"""The record protects what decides an outcome (issue 14, point 2), tried as an attacker with
the database would: a score, a vote or a state rewritten in SQL, an event forged without
the MAC key, the newest event or a whole chain deleted — each one ends in `verify-record`
saying BROKEN (exit 1) and naming what differs, on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlmodel import select

from service.__main__ import main
from service.config import get_settings
from service.core.db import get_engine, open_session
from service.record import keys as record_keys
from service.record import service as record
from service.record.models import Event, RecordCheckpoint
from service.review.models import CommitteeMeeting, ScoreSheet
from tests.conftest import IS_POSTGRES
from tests.record_guard import unguarded
from tests.review.test_review import Story

SEL = "/api/v1/selections"
CAND = "/api/v1/candidates"


def _db_id(value) -> str:
    """A uuid as the database compares it in plain SQL (SQLite keeps 32 hex digits)."""
    return uuid.UUID(str(value)).hex if not IS_POSTGRES else str(value)


def _sql(statement: str, **params) -> int:
    """What someone with the database's own rights does, past the append-only guard (on
    PostgreSQL a superuser turns triggers off; on SQLite the triggers are dropped)."""
    with get_engine().begin() as conn, unguarded(conn):
        return conn.execute(text(statement), params).rowcount


@pytest.fixture(autouse=True, params=[None, "fork", "forkserver"],
                ids=["one process", "three forked parts", "three parts from the fork server"])
def parts(request, monkeypatch) -> int:
    """Each attack is found by the verification in one process, and in three ranges of the
    subjects' ids, each verified by a process of its own, as a record of PARALLEL_FROM events
    or more is verified: forked (as the CLI does) or from the fork server (as a serving
    worker does)."""
    monkeypatch.setattr(record, "PARALLEL_FROM", 0)
    monkeypatch.setattr(get_settings(), "verify_processes", 1 if request.param is None else 3)
    if request.param is not None:
        monkeypatch.setattr(record, "_start_method", lambda: request.param)
    return get_settings().verify_processes


def _verify(capsys) -> tuple[int, str]:
    code = main(["verify-record"])
    return code, capsys.readouterr().out


@pytest.fixture
def decided(client, admin, make_user, login, make_selection, make_candidate) -> Story:
    """A selection through the interview, the inspection and the committee's meeting."""
    s = Story(client, admin, make_user, login, make_selection,
              functools.partial(make_candidate, recorded=True))
    s.reviewing().prereview().appoint_panel().declare_all().score_all()
    s.decide_interviews().appoint_inspectors().inspect()
    assert s.act_selection("submit_to_committee").status_code == 200
    s.seat_committee()
    r = s.post(f"{SEL}/{s.sel}/committee-meetings", s.meeting())
    assert r.status_code == 201, r.text
    s.meeting_id = r.json()["id"]
    return s


def test_a_decided_selection_verifies_with_every_deciding_row_and_state_covered(decided,
                                                                                  capsys):
    code, out = _verify(capsys)
    assert code == 0, out
    assert "record intact" in out
    with open_session() as session:
        report = record.verify_report(session)
        sheets = len(session.exec(select(ScoreSheet)).all())
    assert report.broken is None
    # every score sheet, the meeting and the three inspection records match their events
    assert report.details["score_sheet"] == sheets >= 20
    assert report.details["committee_meeting"] == 1
    assert report.details["inspection_record"] == 3
    assert report.rows_not_covered == 0 and report.unkeyed_events == 0
    assert report.subjects_checked >= 6  # the selection and its five candidates
    # the score sheet's event carries the scores and the total it decides by
    ev = decided.events("li")
    sheet_events = [e for e in ev if e["action"] == "submit_score_sheet"]
    assert all("total" in e["params"] and "scores" in e["params"] for e in sheet_events)
    assert all(len(next(iter(e["params"]["covers"].values()))) == 64 for e in sheet_events)


def test_a_score_rewritten_in_sql_is_found(decided, capsys):
    s = decided
    before = s.get(f"{SEL}/{s.sel}/ranking").json()
    li_score = next(e["score"] for e in before["entries"] if e["candidate_id"] == s.c["li"])
    with open_session() as session:
        sheet = session.exec(select(ScoreSheet).where(
            ScoreSheet.candidate_id == uuid.UUID(s.c["li"]))
            .order_by(ScoreSheet.version.desc())).first()  # type: ignore[attr-defined]
    assert _sql("UPDATE score_sheet SET total = 10 WHERE id = :id", id=_db_id(sheet.id)) == 1
    after = s.get(f"{SEL}/{s.sel}/ranking").json()
    assert next(e["score"] for e in after["entries"] if e["candidate_id"] == s.c["li"]) \
        != li_score  # the attack works on what users see …

    code, out = _verify(capsys)  # … and verification says so
    assert code == 1, out
    assert out.startswith("BROKEN")
    assert f"score_sheet {sheet.id}" in out
    assert f"total is 10.0, the event recorded {sheet.total}" in out
    assert s.c["li"] in out

    r = s.get("/api/v1/admin/record/verification")
    assert r.status_code == 200
    body = r.json()
    broken = body["first_broken"]
    assert body["intact"] is False and broken["code"] == "row_changed"
    # the reader's language: Chinese by default, the row and the field as identifiers
    assert f"score_sheet {sheet.id} 与事件" in broken["problem"]
    assert f"total 现为 10.0，事件记录的是 {sheet.total}" in broken["problem"]
    english = s.get("/api/v1/admin/record/verification",
                    headers={**s.admin, "Accept-Language": "en"}).json()["first_broken"]
    assert english["code"] == "row_changed"
    assert f"total is 10.0, the event recorded {sheet.total}" in english["problem"]
    _sql("UPDATE score_sheet SET total = :t WHERE id = :id", t=sheet.total, id=_db_id(sheet.id))
    assert _verify(capsys)[0] == 0  # put back, it verifies again

    # the scores inside a sheet
    _sql("UPDATE score_sheet SET scores = :scores WHERE id = :id",
         scores=json.dumps({k: 0.0 for k in sheet.scores}), id=_db_id(sheet.id))
    code, out = _verify(capsys)
    assert code == 1 and f"score_sheet {sheet.id}" in out and "scores is" in out

    # a sheet deleted
    _sql("DELETE FROM score_sheet WHERE id = :id", id=_db_id(sheet.id))
    code, out = _verify(capsys)
    assert code == 1 and f"score_sheet/{sheet.id}" in out and "gone" in out


def test_a_row_stored_in_another_json_form_still_verifies(decided, capsys):
    """A row's digest is made first from its JSON column's text as the service stores it;
    the same values written another way (spaces, another order) are decoded and match."""
    s = decided
    with open_session() as session:
        sheet = session.exec(select(ScoreSheet).where(
            ScoreSheet.candidate_id == uuid.UUID(s.c["li"]))
            .order_by(ScoreSheet.version.desc())).first()  # type: ignore[attr-defined]
    assert len(sheet.scores) > 1
    other = json.dumps(dict(reversed(list(sheet.scores.items()))), indent=1)
    assert _sql("UPDATE score_sheet SET scores = :scores WHERE id = :id", scores=other,
                id=_db_id(sheet.id)) == 1
    code, out = _verify(capsys)
    assert code == 0, out


def test_a_state_or_a_vote_set_in_sql_is_found(decided, capsys):
    s = decided
    assert s.state("chen") == "not_qualified"
    assert _sql("UPDATE candidate SET state = 'appointed' WHERE id = :id",
                id=_db_id(s.c["chen"])) == 1
    assert s.state("chen") == "appointed"
    code, out = _verify(capsys)
    assert code == 1, out
    assert f"candidate {s.c['chen']} is 'appointed', but its newest event moved it to" \
           " 'not_qualified'" in out

    _sql("UPDATE candidate SET state = 'not_qualified' WHERE id = :id", id=_db_id(s.c["chen"]))
    assert _verify(capsys)[0] == 0
    _sql("UPDATE selection SET state = 'drafting' WHERE id = :id", id=_db_id(s.sel))
    code, out = _verify(capsys)
    assert code == 1 and f"selection {s.sel} is 'drafting'" in out
    _sql("UPDATE selection SET state = 'deciding' WHERE id = :id", id=_db_id(s.sel))
    assert _verify(capsys)[0] == 0

    # the committee's votes
    with open_session() as session:
        meeting = session.get(CommitteeMeeting, uuid.UUID(decided.meeting_id))
    decisions = [dict(d) for d in meeting.decisions]
    decisions[1]["votes_for"] = 9
    _sql("UPDATE committee_meeting SET decisions = :d WHERE id = :id",
         d=json.dumps(decisions), id=_db_id(meeting.id))
    code, out = _verify(capsys)
    assert code == 1, out
    assert f"committee_meeting {meeting.id}" in out and "decisions is" in out


def test_a_candidate_inserted_in_sql_without_events_is_found(client, admin, make_selection,
                                                             make_candidate, capsys):
    sel = make_selection()
    cid = make_candidate(sel["id"], state="inspected")  # straight into the table, no event
    code, out = _verify(capsys)
    assert code == 1 and f"candidate {cid} is 'inspected' but has no event" in out


# ---------------------------------------------------------------- the keyed chain
def _forge(session_conn, *, subject_type: str, subject_id: uuid.UUID, key: bytes | None,
           key_id: str | None, prev: str, seq: int, selection_id=None, action: str = "edit",
           state: str = "drafting", params: dict | None = None) -> uuid.UUID:
    """Insert an event as an attacker without the service would (or as the service did
    before migration 0007, with key=None): linked, hashed by the rule."""
    from types import SimpleNamespace

    ev = SimpleNamespace(
        id=uuid.uuid4(), subject_type=subject_type, subject_id=subject_id, seq=seq,
        selection_id=selection_id, action=action, from_state=state, to_state=state,
        actor_id=None, actor_role="admin", reason="forged",
        params=params if params is not None else {"changes": {}},
        request_id=None, occurred_at=datetime.now(UTC), simulated_at=None, key_id=key_id)
    ev.hash = record.event_hash(ev, prev, key)
    session_conn.execute(Event.__table__.insert().values(  # type: ignore[attr-defined]
        id=ev.id, subject_type=subject_type, subject_id=subject_id, seq=seq,
        selection_id=selection_id, action=ev.action, from_state=ev.from_state,
        to_state=ev.to_state, actor_id=None, actor_role="admin", reason="forged",
        params=ev.params, request_id=None, occurred_at=ev.occurred_at, simulated_at=None,
        prev_hash=prev, hash=ev.hash, key_id=key_id))
    return ev.id


def _head(subject_id) -> Event:
    with open_session() as session:
        return session.exec(select(Event).where(Event.subject_id == uuid.UUID(str(subject_id)))
                            .order_by(Event.seq.desc())).first()  # type: ignore[attr-defined]


@pytest.mark.parametrize("how", ["plain_sha256", "guessed_key", "unknown_key_id"])
def test_an_event_forged_without_the_key_is_found(client, admin, make_selection, capsys, how):
    sel = make_selection()
    head = _head(sel["id"])
    key, key_id = {"plain_sha256": (None, None),
                   "guessed_key": (b"x" * 40, record_keys.keyring().current),
                   "unknown_key_id": (b"x" * 40, "k20990101-abcdef")}[how]
    with get_engine().begin() as conn:  # a plain INSERT: the guard allows appending
        forged = _forge(conn, subject_type="selection", subject_id=uuid.UUID(sel["id"]),
                        key=key, key_id=key_id, prev=head.hash, seq=head.seq + 1,
                        selection_id=uuid.UUID(sel["id"]))
    code, out = _verify(capsys)
    assert code == 1, out
    assert f"event {forged}" in out
    assert {"plain_sha256": "without the record's key", "guessed_key": "record's key",
            "unknown_key_id": "does not have"}[how] in out


def test_a_new_chain_forged_with_plain_sha256_is_found_after_a_checkpoint(
        client, admin, make_selection, capsys):
    make_selection()
    record.checkpoint_round(get_settings())  # the service's own checkpoint
    with get_engine().begin() as conn:
        forged = _forge(conn, subject_type="selection", subject_id=uuid.uuid4(), key=None,
                        key_id=None, prev=record.GENESIS, seq=1)
    code, out = _verify(capsys)
    assert code == 1 and f"event {forged}" in out and "after the automatic checkpoint" in out


def test_older_unkeyed_events_still_verify_and_are_counted(client, admin, capsys):
    """Events written before migration 0007 have no key id and plain sha256 links: they keep
    verifying by that rule; a score sheet of then is counted as not covered by a digest."""
    subject = uuid.uuid4()
    with get_engine().begin() as conn:
        first = _forge(conn, subject_type="calendar", subject_id=subject, key=None, key_id=None,
                       prev=record.GENESIS, seq=1)
    assert first
    code, out = _verify(capsys)
    assert code == 0, out
    assert "1 events written before the record was keyed" in out


def test_an_older_score_sheet_without_a_digest_is_counted_as_not_covered(
        client, admin, make_selection, make_candidate, make_user, capsys):
    sel = make_selection()
    cid = make_candidate(sel["id"], state="qualified")
    judge, _ = make_user("judge")
    sheet_id = uuid.uuid4()
    with get_engine().begin() as conn:  # as the service wrote them before 0007
        _forge(conn, subject_type="candidate", subject_id=cid, key=None, key_id=None,
               prev=record.GENESIS, seq=1, selection_id=uuid.UUID(sel["id"]),
               action="submit_score_sheet", state="qualified",
               params={"sheet_id": str(sheet_id), "judge_id": str(judge.id), "version": 1})
        conn.execute(ScoreSheet.__table__.insert().values(  # type: ignore[attr-defined]
            id=sheet_id, selection_id=uuid.UUID(sel["id"]), candidate_id=cid,
            judge_id=judge.id, version=1, scores={"a": 1.0}, total=1.0, comment="",
            created_at=datetime.now(UTC)))
    code, out = _verify(capsys)
    assert code == 0, out
    assert "1 older rows are not covered" in out
    # a sheet added beside it now, without any event, is not "older"
    with get_engine().begin() as conn:
        conn.execute(ScoreSheet.__table__.insert().values(  # type: ignore[attr-defined]
            id=uuid.uuid4(), selection_id=uuid.UUID(sel["id"]), candidate_id=cid,
            judge_id=judge.id, version=2, scores={"a": 99.0}, total=99.0, comment="",
            created_at=datetime.now(UTC)))
    code, out = _verify(capsys)
    assert code == 1 and "has no event that recorded it" in out


def test_keys_rotate_old_events_verify_with_old_keys_and_need_them(client, admin, make_selection,
                                                                   capsys, monkeypatch):
    sel = make_selection()
    old = _head(sel["id"])
    assert main(["rotate-record-key"]) == 0
    assert "added the record key" in capsys.readouterr().out
    ring = record_keys.reload()
    assert ring.current != old.key_id and old.key_id in ring.keys
    r = client.patch(f"{SEL}/{sel['id']}", json={"title": "轮换密钥之后"}, headers=admin)
    assert r.status_code == 200, r.text
    new = _head(sel["id"])
    assert new.key_id == ring.current
    assert _verify(capsys)[0] == 0  # both keys verify their own events

    # without the old key, the old events cannot be vouched for
    monkeypatch.setattr(record_keys, "keyring", lambda: record_keys.Keyring(
        current=ring.current, keys={ring.current: ring.keys[ring.current]}))
    code, out = _verify(capsys)
    assert code == 1 and f"'{old.key_id}', which this service does not have" in out


def test_production_refuses_to_start_without_a_record_key(tmp_path, monkeypatch):
    from service.config import Settings

    settings = Settings(environment="production", data_dir=tmp_path,
                        secret_key="s" * 40, record_keys=None)
    with pytest.raises(record_keys.MissingRecordKey, match="SELECTION_RECORD_KEYS"):
        record_keys.load(settings)
    assert not (tmp_path / "record_keys").exists()
    ring = record_keys.load(Settings(environment="production", data_dir=tmp_path,
                                     secret_key="s" * 40, record_keys=f"a1:{'k' * 40}"))
    assert ring.current == "a1"


# ---------------------------------------------------------------- automatic checkpoints
def test_the_service_checkpoints_itself_and_a_deleted_newest_event_is_found(
        client, admin, make_selection, capsys):
    sel = make_selection()
    for title in ("改一", "改二"):
        assert client.patch(f"{SEL}/{sel['id']}", json={"title": title},
                            headers=admin).status_code == 200
    cp = record.checkpoint_round(get_settings())
    assert cp is not None and cp.events >= 3
    assert record.checkpoint_round(get_settings()) is None  # nothing new: not due
    code, out = _verify(capsys)
    assert code == 0 and "vouched for up to the automatic checkpoint" in out

    # the newest edit goes: its selection is still 'drafting', the links still hold
    newest = _head(sel["id"])
    assert newest.action == "edit"
    assert _sql("DELETE FROM event WHERE id = :id", id=_db_id(newest.id)) == 1
    code, out = _verify(capsys)
    assert code == 1, out
    assert sel["id"] in out and "later events were removed" in out


def test_a_whole_chain_removed_is_found_by_the_automatic_checkpoint(client, admin, make_user,
                                                                    capsys):
    user, _ = make_user("judge")
    record.checkpoint_round(get_settings())
    assert _sql("DELETE FROM event WHERE subject_id = :id", id=_db_id(user.id)) >= 1
    code, out = _verify(capsys)
    assert code == 1 and str(user.id) in out and "no longer has it" in out


def test_a_forged_checkpoint_is_refused(client, admin, make_selection, capsys):
    make_selection()
    cp = record.checkpoint_round(get_settings())
    _sql("UPDATE record_checkpoint SET events = 1000 WHERE id = :id", id=_db_id(cp.id))
    code, out = _verify(capsys)
    assert code == 1 and "does not carry a valid MAC" in out


def test_checkpoints_come_every_n_events_and_daily(client, admin, make_selection):
    settings = get_settings().model_copy(update={"record_checkpoint_events": 3})
    make_selection()
    first = record.checkpoint_round(settings)
    assert first is not None  # the first one: there was none
    sel = make_selection()
    assert record.checkpoint_round(settings) is None  # one new event of 3
    for title in ("一", "二"):
        client.patch(f"{SEL}/{sel['id']}", json={"title": title}, headers=admin)
    assert record.checkpoint_round(settings) is not None  # 3 new events
    client.patch(f"{SEL}/{sel['id']}", json={"title": "三"}, headers=admin)
    with open_session() as session:
        newest = record.newest_checkpoint(session)
        assert not record.checkpoint_due(session, newest.created_at + timedelta(hours=23),
                                         every_events=3, every=timedelta(hours=24))
        assert record.checkpoint_due(session, newest.created_at + timedelta(hours=24),
                                     every_events=3, every=timedelta(hours=24))
        assert len(session.exec(select(RecordCheckpoint)).all()) == 2


def _stored_heads(checkpoint_id) -> list:
    """The heads an automatic checkpoint's row holds, as the database gives them back."""
    with open_session() as s:
        return s.exec(select(RecordCheckpoint.heads).where(  # type: ignore[call-overload]
            RecordCheckpoint.id == checkpoint_id)).one()


def _checkpoint_now() -> RecordCheckpoint:
    """An automatic checkpoint as serve takes it, due after a single new event."""
    cp = record.checkpoint_round(get_settings().model_copy(update={"record_checkpoint_events": 1}))
    assert cp is not None
    return cp


def test_later_checkpoints_carry_only_the_chains_written_since(client, admin, make_user,
                                                               make_selection, capsys,
                                                               monkeypatch):
    """A checkpoint after the first holds the heads of the chains written since the one
    before it, linked to it; verification puts the series together, so a chain that only the
    first (full) one anchors is still vouched for."""
    # the overlap (minutes, for transactions that commit after a checkpoint read) would take
    # in every chain of a test that runs in seconds
    monkeypatch.setattr(record, "DELTA_OVERLAP", timedelta(0))
    quiet, _ = make_user("judge")
    busy = make_selection()
    first = record.checkpoint_round(get_settings())
    assert first.scope == "full" and first.chains >= 3
    client.patch(f"{SEL}/{busy['id']}", json={"title": "改"}, headers=admin)
    second = _checkpoint_now()
    assert second.scope == "delta" and second.prev_id == first.id
    stored = _stored_heads(second.id)
    anchored = {(t, i) for t, i, _, _ in stored}
    assert ("selection", busy["id"]) in anchored and ("user", str(quiet.id)) not in anchored
    assert second.chains == len(stored) < first.chains
    code, out = _verify(capsys)
    assert code == 0, out

    # the quiet chain, anchored by the first checkpoint alone, is removed: it is found
    assert _sql("DELETE FROM event WHERE subject_id = :id", id=_db_id(quiet.id)) >= 1
    code, out = _verify(capsys)
    assert code == 1 and str(quiet.id) in out and "no longer has it" in out


def test_a_checkpoint_stored_in_another_order_still_anchors_every_chain(
        client, admin, make_user, make_selection, capsys):
    """Verification reads a checkpoint's heads in the order they are stored, beside the
    chains; heads stored in another order (and with spaces), signed as the service signs,
    anchor the same chains: a removed chain and a cut chain are found as before."""
    quiet, _ = make_user("judge")
    sel = make_selection()
    client.patch(f"{SEL}/{sel['id']}", json={"title": "改"}, headers=admin)
    cp = record.checkpoint_round(get_settings())
    heads = list(reversed(_stored_heads(cp.id)))
    digest = hashlib.sha256("".join(f"{t} {i} {s} {h}\n" for t, i, s, h in heads)
                            .encode()).hexdigest()
    with open_session() as s:
        stored = s.get(RecordCheckpoint, cp.id)
        stored.digest = digest
        mac = record._checkpoint_mac(stored, record_keys.keyring().keys[stored.key_id])
        s.rollback()
    _sql("UPDATE record_checkpoint SET heads = :heads, digest = :digest, mac = :mac"
         " WHERE id = :id", heads=json.dumps(heads), digest=digest, mac=mac, id=_db_id(cp.id))
    code, out = _verify(capsys)
    assert code == 0, out

    # the selection's newest event is removed: the checkpoint saw the chain reach it
    newest = max(h[2] for h in heads if h[1] == sel["id"])
    assert _sql("DELETE FROM event WHERE subject_id = :id AND seq = :seq",
                id=_db_id(sel["id"]), seq=newest) == 1
    code, out = _verify(capsys)
    assert code == 1 and sel["id"] in out and "later events were removed" in out, out


@pytest.mark.parametrize("position", [0, 3, -1], ids=["first", "between", "last"])
def test_a_removed_chain_is_found_wherever_its_id_falls(client, admin, make_user, capsys,
                                                       position):
    """A chain anchored by the automatic checkpoint and gone from the record is found
    wherever its id falls: the first or the last of the id space, or between (in each part
    of a record verified in parts)."""
    users = [make_user("judge")[0] for _ in range(6)]
    record.checkpoint_round(get_settings())
    gone = sorted((u.id for u in users), key=lambda i: i.int)[position]
    assert _sql("DELETE FROM event WHERE subject_id = :id", id=_db_id(gone)) >= 1
    code, out = _verify(capsys)
    assert code == 1 and str(gone) in out and "no longer has it" in out, out


def test_a_removed_checkpoint_of_the_series_is_found(client, admin, make_selection, capsys):
    sel = make_selection()
    first = record.checkpoint_round(get_settings())
    client.patch(f"{SEL}/{sel['id']}", json={"title": "改"}, headers=admin)
    _checkpoint_now()
    _sql("DELETE FROM record_checkpoint WHERE id = :id", id=_db_id(first.id))
    code, out = _verify(capsys)
    assert code == 1 and str(first.id) in out and "checkpoints were removed" in out


@pytest.mark.parametrize("heads", ["{}", "[[1, 2]]", "[" * 3000 + "]" * 3000],
                         ids=["not a list", "not heads", "nested deeper than Python reads"])
def test_checkpoint_heads_that_cannot_be_read_are_named(make_selection, capsys, heads):
    """Heads changed in the database into something else are reported as the checkpoint's
    problem, whatever they became (no crash)."""
    make_selection()
    cp = record.checkpoint_round(get_settings())
    _sql("UPDATE record_checkpoint SET heads = :heads WHERE id = :id", heads=heads,
         id=_db_id(cp.id))
    code, out = _verify(capsys)
    assert code == 1 and str(cp.id) in out and "heads cannot be read" in out, out


def test_a_delta_unlinked_from_its_series_is_refused(client, admin, make_selection, capsys):
    """The link is signed: pointing a delta elsewhere (or at nothing) breaks its MAC."""
    sel = make_selection()
    record.checkpoint_round(get_settings())
    client.patch(f"{SEL}/{sel['id']}", json={"title": "改"}, headers=admin)
    second = _checkpoint_now()
    _sql("UPDATE record_checkpoint SET scope = 'full' WHERE id = :id", id=_db_id(second.id))
    code, out = _verify(capsys)
    assert code == 1 and "does not carry a valid MAC" in out


def test_a_full_checkpoint_comes_again_once_the_deltas_carry_as_many_heads(
        client, admin, make_selection):
    sel = make_selection()
    first = record.checkpoint_round(get_settings())
    scopes = []
    for n in range(first.chains + 1):
        client.patch(f"{SEL}/{sel['id']}", json={"title": f"改{n}"}, headers=admin)
        scopes.append(_checkpoint_now().scope)
    assert scopes[0] == "delta" and "full" in scopes


def test_the_verification_endpoint_says_how_far_back_it_vouches(client, admin,
                                                                make_selection):
    make_selection()
    record.checkpoint_round(get_settings())
    make_selection()
    body = client.get("/api/v1/admin/record/verification", headers=admin).json()
    assert body["intact"] is True
    assert body["checkpoint_at"] is not None and body["events_after_checkpoint"] >= 1
    assert "自动检查点均有担保" in body["vouching"]  # Chinese by default
    english = client.get("/api/v1/admin/record/verification",
                         headers={**admin, "Accept-Language": "en"}).json()
    assert "vouched for up to the automatic checkpoint" in english["vouching"]


def test_the_manual_checkpoint_digest_is_unchanged(client, admin, make_selection, tmp_path,
                                                   capsys):
    make_selection()
    path = tmp_path / "cp.json"
    assert main(["checkpoint", str(path)]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    digest = hashlib.sha256("".join(f"{t} {i} {s} {h}\n" for t, i, s, h in doc["heads"])
                            .encode()).hexdigest()
    assert doc["digest"] == digest


# ---------------------------------------------------------------- the bytes that were hashed
@pytest.mark.parametrize("column, value", [
    ("reason", "'改过的理由'"), ("action", "'close'"), ("to_state", "'closed'"),
    ("params", "'{\"forged\": true}'"), ("occurred_at", "occurred_at"),
    ("body", "replace(body, 'drafting', 'closed')")])
def test_an_event_column_or_body_changed_in_sql_is_found(client, admin, make_selection, capsys,
                                                         column, value):
    """Each event keeps the exact bytes that were hashed; verification MACs them and checks
    every column against them, so a column changed without its body (or the body itself)
    is found."""
    sel = make_selection()
    head = _head(sel["id"])
    assert head.body is not None and head.hash
    if column == "occurred_at":  # a second later: the stored text or time, each database's own
        value = ("datetime(occurred_at, '+1 second')" if not IS_POSTGRES
                 else "occurred_at + interval '1 second'")
    assert _sql(f"UPDATE event SET {column} = {value} WHERE id = :id", id=_db_id(head.id)) == 1
    code, out = _verify(capsys)
    assert code == 1, out
    assert f"event {head.id}" in out and "does not match the event's content" in out


def test_an_event_without_its_body_verifies_from_its_columns(client, admin, make_selection,
                                                             capsys):
    """Events written before they kept their body verify as before: their canonical JSON is
    made again from the columns (and a column changed then is still found)."""
    sel = make_selection()
    head = _head(sel["id"])
    _sql("UPDATE event SET body = NULL WHERE id = :id", id=_db_id(head.id))
    code, out = _verify(capsys)
    assert code == 0, out
    _sql("UPDATE event SET reason = 'x' WHERE id = :id", id=_db_id(head.id))
    code, out = _verify(capsys)
    assert code == 1 and f"event {head.id}" in out, out


# ---------------------------------------------------------------- one pass, in subject order
def _unrecorded_candidate(selection_id: str, candidate_id: uuid.UUID) -> uuid.UUID:
    """A candidate written straight into the table with a chosen id (so it sorts first or
    last among the record's chains), without any event."""
    from service.nomination.models import Candidate

    with open_session(write=True) as session:
        session.add(Candidate(id=candidate_id, selection_id=uuid.UUID(selection_id),
                              state="qualified", full_name="王五",
                              identity_key=uuid.uuid4().hex))
        session.commit()
    return candidate_id


@pytest.mark.parametrize("candidate_id", [uuid.UUID(int=1), uuid.UUID(int=2**128 - 1)],
                         ids=["before_every_chain", "after_every_chain"])
def test_a_row_or_state_of_a_subject_without_any_event_is_found_wherever_it_sorts(
        client, admin, make_selection, make_candidate, make_user, capsys, candidate_id):
    """The deciding rows and the states are read beside the chains, in subject order: a
    subject with no chain at all is found before the first chain and after the last."""
    sel = make_selection()
    for _ in range(3):
        make_candidate(sel["id"], state="qualified", recorded=True)
    assert _verify(capsys)[0] == 0
    cid = _unrecorded_candidate(sel["id"], candidate_id)
    judge, _ = make_user("judge")
    sheet_id = uuid.uuid4()
    with get_engine().begin() as conn:
        conn.execute(ScoreSheet.__table__.insert().values(  # type: ignore[attr-defined]
            id=sheet_id, selection_id=uuid.UUID(sel["id"]), candidate_id=cid,
            judge_id=judge.id, version=1, scores={"a": 90.0}, total=90.0, comment="",
            created_at=datetime.now(UTC)))
    code, out = _verify(capsys)  # the row comes before the state
    assert code == 1, out
    assert f"score_sheet {sheet_id} has no event that recorded it" in out
    _sql("DELETE FROM score_sheet WHERE id = :id", id=_db_id(sheet_id))
    code, out = _verify(capsys)
    assert code == 1 and f"candidate {cid} is 'qualified' but has no event" in out


def test_a_broken_chain_is_named_before_a_changed_row(decided, capsys):
    """Chains first, then the deciding rows, then the states: the first break named is the
    chain's, whatever else was changed."""
    s = decided
    with open_session() as session:
        sheet = session.exec(select(ScoreSheet).where(
            ScoreSheet.candidate_id == uuid.UUID(s.c["li"]))).first()
    head = _head(s.sel)
    _sql("UPDATE score_sheet SET total = 10 WHERE id = :id", id=_db_id(sheet.id))
    _sql("UPDATE candidate SET state = 'appointed' WHERE id = :id", id=_db_id(s.c["chen"]))
    _sql("UPDATE event SET reason = 'x' WHERE id = :id", id=_db_id(head.id))
    code, out = _verify(capsys)
    assert code == 1 and f"event {head.id}" in out, out
    _sql("UPDATE event SET reason = :r WHERE id = :id", r=head.reason, id=_db_id(head.id))
    code, out = _verify(capsys)
    assert code == 1 and f"score_sheet {sheet.id}" in out, out


@pytest.mark.parametrize("column", ["body", "params"])
def test_an_event_whose_body_or_params_are_not_json_is_named(client, admin, make_selection,
                                                             capsys, column):
    """A body (or, where the database lets it, params) that is not JSON at all is a broken
    event named by verification, on the command line and over HTTP, not a failure."""
    if column == "params" and IS_POSTGRES:
        pytest.skip("PostgreSQL's json column refuses text that is not JSON")
    sel = make_selection()
    head = _head(sel["id"])
    assert _sql(f"UPDATE event SET {column} = 'not json {{' WHERE id = :id",
                id=_db_id(head.id)) == 1
    code, out = _verify(capsys)
    assert code == 1, out
    assert f"event {head.id}" in out and "does not match the event's content" in out
    r = client.get("/api/v1/admin/record/verification", headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["intact"] is False
    assert r.json()["first_broken"]["event_id"] == str(head.id)
