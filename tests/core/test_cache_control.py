"""Answers with personal data are never kept by a cache: one rule (service.core.routing),
every route that reads the caller's token answers `Cache-Control: private, no-store`; the
public ones (no login) do not. Checked over every GET route of the API."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from service.core.routing import PRIVATE, TransactionalRoute
from service.main import app

PERSONAL = re.compile(r"candidates|users|auth/me|nominations|evaluation|score-sheet|"
                      r"inspection|report|\.csv|\.xlsx|events|reserve-pool|objections|"
                      r"communications|notifications|mentorship|follow-up|declarations|panel")


def _get_routes() -> list[tuple[str, APIRoute]]:
    """The API's GET routes with their full paths (the documentation pages aside): those of
    the included routers too, which FastAPI >= 0.16x keeps behind an `_IncludedRouter`."""
    from fastapi import routing

    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            out.append((route.path, route))
        elif hasattr(routing, "iter_route_contexts"):
            out += [(ctx.path, ctx.original_route)
                    for ctx in routing.iter_route_contexts([route])
                    if isinstance(ctx.original_route, APIRoute)]
    return [(p, r) for p, r in out if "GET" in r.methods
            and not p.startswith(("/docs", "/redoc"))]


def test_every_get_route_with_personal_data_is_private():
    routes = _get_routes()
    assert all(isinstance(r, TransactionalRoute) for _, r in routes)
    personal = [(p, r) for p, r in routes if PERSONAL.search(p) and "/public/" not in p]
    assert len(personal) > 20
    assert [p for p, r in personal if not r.private] == []
    public = [p for p, r in routes if r.private is False]
    assert "/api/v1/public/selections" in public and "/healthz" in public


def test_each_get_answers_private_no_store(client, admin, make_selection, make_candidate):
    sel = make_selection()
    cand = make_candidate(sel["id"], state="applicant", recorded=True)
    me = client.get("/api/v1/auth/me", headers=admin).json()
    ids = {"selection_id": sel["id"], "candidate_id": str(cand), "user_id": me["id"]}
    answered = []
    for template, route in _get_routes():
        names = re.findall(r"{(\w+)}", template)
        if not route.private or any(n not in ids for n in names):
            continue
        path = template.format(**ids)
        r = client.get(path, headers=admin)
        if r.status_code == 200:
            answered.append(path)
            assert r.headers.get("cache-control") == PRIVATE, path
    assert len(answered) >= 20, answered
    assert "/api/v1/candidates/{candidate_id}".format(**ids) in answered
    assert f"/api/v1/selections/{sel['id']}/candidates.csv" in answered


def test_public_answers_may_be_cached(client):
    r = client.get("/api/v1/public/selections")
    assert r.status_code == 200
    assert "no-store" not in r.headers.get("cache-control", "")
