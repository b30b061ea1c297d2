"""The interactive docs work on an intranet: /docs (Swagger UI) and /redoc (ReDoc) load their
assets from the service itself, rendered in a real headless Chromium that can reach nothing
but 127.0.0.1. A page that loads Swagger UI from a CDN, as FastAPI does by default, renders
nothing under the same conditions: that is what the blocking is shown to catch."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from fastapi.openapi.docs import get_swagger_ui_html

from tests.browser import rendered_dom
from tests.reliability._live import LiveServer, server_env

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> LiveServer:
    """A live server on a migrated database (the test database)."""
    tmp = tmp_path_factory.mktemp("docs-server")
    live = LiveServer("docs-server", server_env(tmp), tmp).start()
    try:
        live.wait_ready(timeout=90)
        yield live
    finally:
        live.stop()


def _operations() -> tuple[set[str], set[str]]:
    doc = json.loads(DOCUMENT.read_text(encoding="utf-8"))
    paths = set(doc["paths"])
    ids = {op["operationId"] for item in doc["paths"].values() for op in item.values()
           if isinstance(op, dict) and "operationId" in op}
    return paths, ids


def test_swagger_ui_renders_every_path_with_no_network(server):
    dom = rendered_dom(f"{server.base_url}/docs")
    shown = set(re.findall(r'class="opblock-summary-path" data-path="([^"]+)"', dom))
    paths, _ = _operations()
    assert shown == paths, f"missing: {sorted(paths - shown)[:5]}"
    assert "cdn.jsdelivr.net" not in dom and "unpkg.com" not in dom


def test_redoc_renders_every_operation_with_no_network(server):
    dom = rendered_dom(f"{server.base_url}/redoc")
    shown = set(re.findall(r'operation/([A-Za-z0-9_]+)', dom))
    _, ids = _operations()
    assert ids <= shown, f"missing: {sorted(ids - shown)[:5]}"
    assert "fonts.googleapis.com" not in dom


def test_the_same_page_from_a_cdn_renders_nothing(server, tmp_path):
    page = tmp_path / "cdn-docs.html"
    page.write_bytes(get_swagger_ui_html(openapi_url=f"{server.base_url}/openapi.json",
                                         title="from a CDN").body)
    dom = rendered_dom(page.as_uri(), budget_ms=5000)
    assert 'id="swagger-ui"' in dom
    assert "opblock-summary-path" not in dom
