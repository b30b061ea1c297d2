"""Checkpoints of the record: the hash links show an event changed, but not that the newest
events of a chain, or a whole chain, were removed. A checkpoint kept outside the database
(`python -m service checkpoint`, or the admin endpoint) lets `verify-record --checkpoint`
find that too."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

from sqlalchemy import text

from service.__main__ import main
from service.core.db import get_engine, open_session
from service.record.service import anchors_of, verify
from tests.conftest import IS_POSTGRES
from tests.record_guard import unguarded

SEL = "/api/v1/selections"


def _tamper(sql: str, **params) -> None:
    """What someone with the database's own rights could do. On PostgreSQL the append-only
    trigger refuses it, so the tamperer first turns triggers off, as a superuser can."""
    with get_engine().begin() as conn, unguarded(conn):
        conn.execute(text(sql), params)


def _history(client, admin, make_selection) -> tuple[str, str]:
    a = make_selection()["id"]
    r = client.post(f"{SEL}/{a}/actions/publish", json={"params": {}}, headers=admin)
    assert r.status_code == 200, r.text
    b = make_selection(title="第二党支部书记公开选拔")["id"]
    return a, b


def _check(path: Path, capsys) -> tuple[int, str]:
    code = main(["verify-record", "--checkpoint", str(path)])
    return code, capsys.readouterr().out


def test_a_checkpoint_finds_removed_newest_events_that_the_links_cannot(
        client, admin, make_selection, tmp_path, capsys):
    published, _ = _history(client, admin, make_selection)
    path = tmp_path / "checkpoint.json"
    assert main(["checkpoint", str(path)]) == 0
    assert "chains" in capsys.readouterr().out
    code, out = _check(path, capsys)
    assert code == 0 and "every chain reaches its head" in out

    # later work does not disturb the checkpoint
    r = client.post(f"{SEL}/{published}/actions/cancel", json={"reason": "岗位调整"},
                    headers=admin)
    assert r.status_code == 200, r.text
    assert _check(path, capsys)[0] == 0

    # the newest two events of the published selection go: publish and cancel
    _tamper("DELETE FROM event WHERE subject_id = :sid AND seq >= 2",
            sid=uuid.UUID(published).hex if not IS_POSTGRES else published)
    with open_session() as s:  # the links alone still hold; the selection's state does not
        broken = verify(s, automatic=False)[1]
    assert broken is not None and "its newest event moved it to 'drafting'" in broken.problem
    assert broken.code == "state_mismatch"
    code, out = _check(path, capsys)
    assert code == 1
    assert published in out and "later events were removed" in out


def test_a_checkpoint_finds_a_whole_chain_removed(client, admin, make_selection, tmp_path,
                                                   capsys):
    _, drafting = _history(client, admin, make_selection)
    path = tmp_path / "checkpoint.json"
    assert main(["checkpoint", str(path)]) == 0
    _tamper("DELETE FROM event WHERE subject_id = :sid",
            sid=uuid.UUID(drafting).hex if not IS_POSTGRES else drafting)
    code, out = _check(path, capsys)
    assert code == 1
    assert drafting in out and "no longer has it" in out


def test_a_rewritten_chain_differs_from_its_checkpoint(client, admin, make_selection, tmp_path,
                                                       capsys):
    published, _ = _history(client, admin, make_selection)
    path = tmp_path / "checkpoint.json"
    assert main(["checkpoint", str(path)]) == 0
    doc = json.loads(path.read_text(encoding="utf-8"))
    head = next(h for h in doc["heads"] if h[1] == published)
    assert head[2] == 2
    # someone replaces the head with another, correctly linked, event: the links hold, but
    # its hash is not the one the checkpoint saw
    _tamper("UPDATE event SET reason = 'rewritten' WHERE subject_id = :sid AND seq = 2",
            sid=uuid.UUID(published).hex if not IS_POSTGRES else published)
    code, out = _check(path, capsys)
    assert code == 1 and published in out


def test_an_altered_checkpoint_is_refused(client, admin, make_selection, tmp_path, capsys):
    _history(client, admin, make_selection)
    path = tmp_path / "checkpoint.json"
    assert main(["checkpoint", str(path)]) == 0
    assert main(["checkpoint", str(path)]) == 2  # no silent overwrite
    doc = json.loads(path.read_text(encoding="utf-8"))
    doc["heads"] = doc["heads"][1:]  # hide one chain from the checkpoint
    path.write_text(json.dumps(doc), encoding="utf-8")
    code = main(["verify-record", "--checkpoint", str(path)])
    assert code == 2
    assert "altered" in capsys.readouterr().err


def test_admins_fetch_a_checkpoint_over_http(client, admin, make_selection, as_role):
    published, drafting = _history(client, admin, make_selection)
    r = client.get("/api/v1/admin/record/checkpoint", headers=admin)
    assert r.status_code == 200, r.text
    doc = r.json()
    by_subject = {h[1]: h for h in doc["heads"]}
    assert by_subject[published][2] == 2 and by_subject[drafting][2] == 1
    assert doc["events"] >= 3
    anchors = anchors_of(doc)
    with open_session() as s:
        assert verify(s, anchors=anchors)[1] is None
    assert client.get("/api/v1/admin/record/checkpoint",
                      headers=as_role("judge")).status_code == 403
