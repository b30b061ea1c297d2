"""An objection is versioned like its candidate: its reads and its actions list send its
ETag, and while the selection's `require_if_match` is on, its actions need If-Match (428
without, 412 stale, nothing changed either way)."""

from __future__ import annotations

import uuid

from sqlmodel import select

from .test_follow_up import PUBLIC, _ok, _problem


def _require_if_match(selection_id: str) -> None:
    from service.core.db import open_session
    from service.selection.models import Selection

    with open_session(write=True) as s:
        row = s.exec(select(Selection).where(Selection.id == uuid.UUID(selection_id))).one()
        row.settings = {**row.settings, "require_if_match": True}
        s.add(row)
        s.commit()


def test_objection_actions_need_its_etag_when_the_selection_requires_it(flow, client):
    f = flow.standard()
    f.advance(1)
    o = _ok(client.post(f"{PUBLIC}/{f.c['li']}/objections",
                        json={"content": "反映该同志有关问题"}), 201)
    _require_if_match(f.sel)
    base = f"/api/v1/objections/{o['id']}"
    team = {"params": {"investigators": [f.user("inspector")[0], f.user("inspector")[0]]}}
    p = _problem(f.post(f"{base}/actions/start_investigation", team), 428,
                 "precondition_required")
    read = f.get(base)
    etag = read.headers["etag"]
    assert p["details"]["current_etag"] == etag == f.get(f"{base}/actions").headers["etag"]
    assert f.get(base).json()["state"] == "received"
    stale = f'"objection-{uuid.UUID(o["id"]).hex}-v0"'
    _problem(f.post(f"{base}/actions/start_investigation", team,
                    {**f.admin, "If-Match": stale}), 412, "precondition_failed")
    r = f.post(f"{base}/actions/start_investigation", team, {**f.admin, "If-Match": etag})
    assert _ok(r)["state"] == "investigating"
    assert r.headers["etag"] != etag == read.headers["etag"]
    assert f.get(base, {**f.admin, "If-None-Match": r.headers["etag"]}).status_code == 304
