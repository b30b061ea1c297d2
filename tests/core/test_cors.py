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
