"""A front-end on another origin, in a real headless Chromium: a static page served on one
port logs in to the API served on another (CORS preflight and all), reads a list, and
downloads the candidate table as CSV, reading its file name from Content-Disposition. The
page writes what it saw into its DOM, which the test reads back."""

from __future__ import annotations

import functools
import html
import json
import re
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.browser import rendered_dom
from tests.reliability._live import LiveServer, free_port, server_env

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>front-end</title></head>
<body><pre id="out">running</pre>
<script>
const API = "%(api)s";
async function run() {
  const seen = {};
  const login = await fetch(API + "/api/v1/auth/token", {
    method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded"},
    body: new URLSearchParams({username: "%(user)s", password: "%(password)s"}),
  });
  const tokens = await login.json();
  seen.login = login.status;
  seen.has_refresh = typeof tokens.refresh_token === "string";
  const auth = {"Authorization": "Bearer " + tokens.access_token, "Accept-Language": "en"};
  const list = await fetch(API + "/api/v1/selections", {headers: auth});
  const page = await list.json();
  seen.list = list.status;
  seen.titles = page.items.map(s => s.title);
  seen.request_id = list.headers.get("X-Request-ID");
  seen.content_language = list.headers.get("Content-Language");
  const one = await fetch(API + "/api/v1/selections/" + page.items[0].id, {headers: auth});
  seen.etag = one.headers.get("ETag");
  const csv = await fetch(API + "/api/v1/selections/" + page.items[0].id +
                          "/candidates.csv", {headers: auth});
  seen.csv = csv.status;
  seen.disposition = csv.headers.get("Content-Disposition");
  seen.csv_first_line = (await csv.text()).split("\\r\\n")[0].replace(/^\\ufeff/, "");
  const refreshed = await fetch(API + "/api/v1/auth/refresh", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({refresh_token: tokens.refresh_token})});
  seen.refresh = refreshed.status;
  return seen;
}
run().then(seen => { document.getElementById("out").textContent = JSON.stringify(seen); },
           err => { document.getElementById("out").textContent = "error: " + err; });
</script></body></html>
"""


@pytest.fixture
def page_origin(tmp_path: Path):
    """A static file server on its own port: the front-end's origin."""
    root = tmp_path / "site"
    root.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield root, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_origin_logs_in_lists_and_downloads(tmp_path, page_origin,
                                                             make_user, make_selection):
    root, origin = page_origin
    sel = make_selection(title="第一党支部书记公开选拔")
    user, password = make_user("admin")
    api = LiveServer("cors-api", server_env(tmp_path / "api", SELECTION_CORS_ORIGINS=origin),
                     tmp_path)
    api.start()
    try:
        api.wait_ready()
        (root / "index.html").write_text(
            PAGE % {"api": api.base_url, "user": user.username, "password": password},
            encoding="utf-8")
        dom = rendered_dom(f"{origin}/index.html")
    finally:
        api.stop()
    found = re.search(r'<pre id="out">(.*?)</pre>', dom, re.S)
    assert found, dom[-2000:]
    text = html.unescape(found.group(1))
    assert text.startswith("{"), f"the page saw: {text}\n{api.log_tail()}"
    seen = json.loads(text)
    assert seen["login"] == 200 and seen["has_refresh"] is True
    assert seen["list"] == 200 and seen["titles"] == [sel["title"]]
    assert seen["request_id"] and seen["content_language"] == "en"
    assert seen["etag"] == f'"selection-{sel["id"].replace("-", "")}-v1"'
    assert seen["csv"] == 200
    assert seen["disposition"].startswith("attachment;")
    assert "filename*=UTF-8''" in seen["disposition"]
    assert seen["csv_first_line"].split(",")[0]
    assert seen["refresh"] == 200
