"""CORS for the front-end app: the origins in SELECTION_CORS_ORIGINS may call the API from a
browser (preflight answered; ETag, Location, X-Request-ID, Content-Disposition, Retry-After,
Idempotent-Replayed and Content-Language readable); other origins get no CORS headers and a
400 `cors_refused` preflight; with no origins configured, every origin is refused alike.
tests/core/test_cors_browser.py drives a real Chromium page from another origin."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.config import get_settings
from service.main import create_app

FRONT = "https://selection.example.cn"


@pytest.fixture
def cors_client(monkeypatch) -> Iterator[TestClient]:
    monkeypatch.setenv("SELECTION_CORS_ORIGINS", f"{FRONT}, https://admin.example.cn")
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as c:
            yield c
    finally:
        get_settings.cache_clear()


def test_a_configured_origin_passes_the_preflight(cors_client):
    r = cors_client.options("/api/v1/selections", headers={
        "Origin": FRONT, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type, if-match"})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == FRONT
    assert "POST" in r.headers["access-control-allow-methods"]
    allowed = r.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "if-match" in allowed


def test_the_front_end_can_read_etag_and_request_id(cors_client, admin, make_selection):
    sel = make_selection()
    r = cors_client.get(f"/api/v1/selections/{sel['id']}", headers={**admin, "Origin": FRONT})
    assert r.status_code == 200
    assert r.headers["access-control-allow-origin"] == FRONT
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"etag", "location", "x-request-id", "content-disposition", "retry-after",
            "idempotent-replayed", "content-language"} <= exposed


def test_another_origin_gets_no_cors_headers(cors_client):
    r = cors_client.options("/api/v1/selections", headers={
        "Origin": "https://evil.example.com", "Access-Control-Request-Method": "POST"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "cors_refused"
    assert "access-control-allow-origin" not in r.headers
    r = cors_client.get("/healthz", headers={"Origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in r.headers


def test_without_configured_origins_there_is_no_cors(client):
    r = client.get("/healthz", headers={"Origin": FRONT})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


def test_without_configured_origins_a_preflight_is_a_400_problem(client):
    r = client.options("/api/v1/selections", headers={
        "Origin": FRONT, "Access-Control-Request-Method": "GET"})
    assert r.status_code == 400
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "cors_refused"
    assert "access-control-allow-origin" not in r.headers


def _cors_headers(r) -> set[str]:
    return {k.lower() for k in r.headers if k.lower().startswith("access-control-")}


def test_another_origin_gets_not_one_cors_header(cors_client, admin):
    evil = {"Origin": "https://evil.example.com"}
    for r in (cors_client.get("/healthz", headers=evil),
              cors_client.get("/api/v1/selections", headers={**admin, **evil}),
              cors_client.get("/api/v1/selections/nope", headers={**admin, **evil}),
              cors_client.options("/api/v1/selections", headers={
                  **evil, "Access-Control-Request-Method": "POST"})):
        assert _cors_headers(r) == set(), (r.request.url, dict(r.headers))


def test_every_error_to_an_allowed_origin_is_readable_by_it(cors_client, admin):
    """A browser shows a script an error answer only with the CORS headers: a 413 (answered
    before the app reads the body), a 401, a 404 and a 422 alike."""
    too_big = b"x" * (get_settings().max_body_bytes + 1)
    answers = {
        413: cors_client.post("/api/v1/selections", content=too_big, headers={
            **admin, "Origin": FRONT, "Content-Type": "application/json"}),
        401: cors_client.get("/api/v1/selections", headers={"Origin": FRONT}),
        404: cors_client.get("/api/v1/nope", headers={**admin, "Origin": FRONT}),
        422: cors_client.get("/api/v1/selections?state=draft", headers={**admin, "Origin": FRONT}),
    }
    for status, r in answers.items():
        assert r.status_code == status, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.headers["access-control-allow-origin"] == FRONT, status
        assert "x-request-id" in r.headers["access-control-expose-headers"].lower()
        # an error is never stored by a cache, logged in or not
        assert r.headers["cache-control"] == "private, no-store", status
    big = answers[413].json()
    assert big["code"] == "payload_too_large"
    assert big["instance"] == "/api/v1/selections"
