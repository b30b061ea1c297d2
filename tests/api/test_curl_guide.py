"""docs/curl-guide.md, run as written: a selection from step 1 to step 4 with curl.

The server is started as the guide shows, on a fresh database (a SQLite file, or a
throw-away PostgreSQL database when TEST_DATABASE_URL points at a server): `python -m service
serve`, what `python3 tasks.py serve` runs, with the SELECTION_ADMIN_PASSWORD of the guide's
serve line, so that `serve` creates the first administrator with it. Then every ```sh block runs, in order, in ONE bash process (so that $AUTH, $SEL …
carry from block to block as in an administrator's shell), with the real curl and BASE_URL
pointing at the server. The block right after each one shows its output:

* ```http: the status line, the headers shown (others are not checked), a blank line and
  the JSON body. In the body `…` stands for anything: a bare `…` value is any value; object
  keys not shown are not checked; a bare `…` in an array is any number of items (items
  shown must appear in that order, and an array with no `…` has exactly the items shown);
  a string with `…` in it is a pattern, the `…` matching any text.
* ```text: the lines, each a pattern with `…` as above; a line of only `…` is any lines.
* no block: the block must print nothing (setting variables, say).

A failure names the guide's line and shows what it shows beside what the server said.
To see what the calls answer now (when writing or updating the guide):
`.venv/bin/python -m tests.api.test_curl_guide`.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.reliability._live import ROOT, LiveServer

GUIDE = ROOT / "docs" / "curl-guide.md"
ADMIN_SETTING = "SELECTION_ADMIN_PASSWORD"
RUN_TIMEOUT = 240  # seconds for all the blocks: a bound for a hung call, not a target
ELLIPSIS = "…"


# ---------------------------------------------------------------- reading the guide
@dataclass
class Block:
    """A fenced block of the guide: its language, text and the line of its opening fence."""

    lang: str
    text: str
    line: int


@dataclass
class Step:
    """A ```sh block and the output block right after it (None: prints nothing)."""

    command: Block
    expected: Block | None


_FENCE = re.compile(r"^```(\S*)\s*$")


def blocks(text: str) -> list[tuple[Block, bool]]:
    """Every fenced block with whether it follows the previous block with only blank lines
    between."""
    out: list[tuple[Block, bool]] = []
    lines = text.splitlines()
    i, last_end = 0, -10
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        i += 1
        body = []
        while i < len(lines) and lines[i].rstrip() != "```":
            body.append(lines[i])
            i += 1
        adjacent = all(not lines[k].strip() for k in range(last_end + 1, start))
        out.append((Block(m.group(1), "\n".join(body), start + 1), adjacent and last_end >= 0))
        last_end = i
        i += 1
    return out


def steps(text: str) -> list[Step]:
    """The guide's sh blocks, each with the output block that immediately follows it."""
    found = blocks(text)
    out = []
    for k, (block, _) in enumerate(found):
        if block.lang != "sh":
            continue
        nxt = found[k + 1] if k + 1 < len(found) else None
        expected = nxt[0] if nxt and nxt[1] and nxt[0].lang in ("http", "text") else None
        out.append(Step(block, expected))
    return out


def admin_password(text: str) -> str:
    """The first administrator's password, from the guide's `serve` line (```console)."""
    for block, _ in blocks(text):
        if block.lang == "console":
            for line in block.text.splitlines():
                words = shlex.split(line.removeprefix("$ "))
                if "serve" in words:
                    for w in words:
                        if w.startswith(f"{ADMIN_SETTING}="):
                            return w.split("=", 1)[1]
    raise AssertionError(f"{GUIDE.name} shows no `{ADMIN_SETTING}=… serve` line in a console"
                         " block")


def banner_block(text: str) -> Block:
    """The ```text block that shows `serve`'s banner, right after its ```console block."""
    found = blocks(text)
    for k, (block, _) in enumerate(found):
        if block.lang == "console" and ADMIN_SETTING in block.text and k + 1 < len(found):
            return found[k + 1][0]
    raise AssertionError(f"{GUIDE.name} shows no banner after its `serve` line")


# ---------------------------------------------------------------- JSON with elisions
class _Any:
    def __repr__(self) -> str:
        return ELLIPSIS


ANY = _Any()           # a bare … as a value: anything
REST = object()        # a bare … in an array: any number of items
_KEY_REST = object()   # a bare … where an object's key would be: the keys not shown


class ElidedJsonParser:
    """JSON where a bare `…` may stand for a value, array items or an object's other keys."""

    _number = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?")

    def __init__(self, text: str):
        self.s, self.i = text, 0
        self._decoder = json.JSONDecoder()

    def parse(self) -> Any:
        value = self._value()
        self._ws()
        if self.i != len(self.s):
            self._fail("text after the JSON value")
        return value

    def _fail(self, what: str) -> None:
        line = self.s.count("\n", 0, self.i) + 1
        raise ValueError(f"unreadable expected JSON ({what}) at line {line} of the body: "
                         f"{self.s[self.i:self.i + 40]!r}")

    def _ws(self) -> None:
        while self.i < len(self.s) and self.s[self.i] in " \t\r\n":
            self.i += 1

    def _value(self) -> Any:
        self._ws()
        s = self.s
        if s.startswith(ELLIPSIS, self.i):
            self.i += len(ELLIPSIS)
            return ANY
        if self.i >= len(s):
            self._fail("end of text")
        c = s[self.i]
        if c == "{":
            return self._object()
        if c == "[":
            return self._array()
        if c == '"':
            value, self.i = json.decoder.scanstring(s, self.i + 1)
            return value
        for word, value in (("true", True), ("false", False), ("null", None)):
            if s.startswith(word, self.i):
                self.i += len(word)
                return value
        m = self._number.match(s, self.i)
        if not m:
            self._fail("expected a value")
        self.i = m.end()
        return json.loads(m.group())

    def _items(self, close: str, item) -> None:
        self.i += 1
        self._ws()
        if self.s.startswith(close, self.i):
            self.i += 1
            return
        while True:
            item()
            self._ws()
            if self.s.startswith(",", self.i):
                self.i += 1
            elif self.s.startswith(close, self.i):
                self.i += 1
                return
            else:
                self._fail(f"expected ',' or '{close}'")

    def _object(self) -> dict:
        out: dict = {}

        def item() -> None:
            self._ws()
            if self.s.startswith(ELLIPSIS, self.i):
                self.i += len(ELLIPSIS)
                out[_KEY_REST] = True
                return
            if not self.s.startswith('"', self.i):
                self._fail("expected a key")
            key, self.i = json.decoder.scanstring(self.s, self.i + 1)
            self._ws()
            if not self.s.startswith(":", self.i):
                self._fail("expected ':'")
            self.i += 1
            out[key] = self._value()

        self._items("}", item)
        out.pop(_KEY_REST, None)
        return out

    def _array(self) -> list:
        out: list = []
        self._items("]", lambda: out.append(self._value()))
        return [REST if v is ANY else v for v in out]


def _pattern(text: str) -> re.Pattern:
    return re.compile(".*?".join(re.escape(p) for p in text.split(ELLIPSIS)), re.DOTALL)


def mismatch(expected: Any, actual: Any, path: str = "body") -> str | None:
    """Where `actual` departs from `expected` (with its elisions), or None."""
    if expected is ANY:
        return None
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path}: expected an object, got {_short(actual)}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}: no key {key!r} (keys: {', '.join(actual)})"
            found = mismatch(value, actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return f"{path}: expected an array, got {_short(actual)}"
        return _list_mismatch(expected, actual, path)
    if isinstance(expected, str) and ELLIPSIS in expected:
        if isinstance(actual, str) and _pattern(expected).fullmatch(actual):
            return None
        return f"{path}: expected {_short(expected)}, got {_short(actual)}"
    same = (expected == actual and type(expected) is type(actual)) or (
        isinstance(expected, int | float) and not isinstance(expected, bool)
        and isinstance(actual, int | float) and not isinstance(actual, bool)
        and expected == actual)
    return None if same else f"{path}: expected {_short(expected)}, got {_short(actual)}"


def _list_mismatch(expected: list, actual: list, path: str) -> str | None:
    """Glob-match the items: REST is any run of items; others match one item each, in order."""
    first_error: list[str] = []

    def match(e: int, a: int) -> bool:
        if e == len(expected):
            if a == len(actual):
                return True
            first_error.append(f"{path}: {len(actual) - a} item(s) more than shown, from "
                               f"[{a}]: {_short(actual[a])}")
            return False
        if expected[e] is REST:
            return any(match(e + 1, k) for k in range(a, len(actual) + 1))
        if a == len(actual):
            first_error.append(f"{path}: item {_short(expected[e])} missing (only "
                               f"{len(actual)} items)")
            return False
        err = mismatch(expected[e], actual[a], f"{path}[{a}]")
        if err:
            first_error.append(err)
            return False
        return match(e + 1, a + 1)

    return None if match(0, 0) else (first_error[0] if first_error else f"{path}: differs")


def _short(value: Any, limit: int = 200) -> str:
    text = value if isinstance(value, str) and value is not ANY else None
    text = json.dumps(text, ensure_ascii=False) if text is not None else (
        repr(value) if value is ANY or value is REST else json.dumps(value, ensure_ascii=False))
    return text if len(text) <= limit else text[:limit] + ELLIPSIS


def _lines_mismatch(expected: list[str], actual: list[str], what: str) -> str | None:
    """Line patterns against lines; a line of only … is any number of lines."""
    pats = [REST if line.strip() == ELLIPSIS else line.rstrip() for line in expected]
    acts = [line.rstrip() for line in actual]
    while acts and not acts[-1]:
        acts.pop()
    while pats and pats[-1] == "":
        pats.pop()

    def match(e: int, a: int) -> bool:
        if e == len(pats):
            return a == len(acts)
        if pats[e] is REST:
            return any(match(e + 1, k) for k in range(a, len(acts) + 1))
        return a < len(acts) and bool(_pattern(pats[e]).fullmatch(acts[a])) and match(e + 1,
                                                                                      a + 1)

    if match(0, 0):
        return None
    for k, (p, line) in enumerate(zip(pats, acts, strict=False)):
        if p is REST:
            break
        if not _pattern(p).fullmatch(line):
            return f"{what} line {k + 1}: expected {p!r}, got {line!r}"
    return f"{what}: expected {len(pats)} line(s), got {len(acts)}"


def compare(expected: Block | None, actual: str) -> str | None:
    """Why the output differs from the block that shows it, or None."""
    if expected is None:
        return None if not actual.strip() else "the guide shows no output, but there was some"
    if expected.lang == "text":
        return _lines_mismatch(expected.text.splitlines(), actual.splitlines(), "output")
    shown_head, _, shown_body = expected.text.partition("\n\n")
    head, _, body = actual.replace("\r\n", "\n").partition("\n\n")
    shown_lines, lines = shown_head.splitlines(), head.splitlines()
    if not lines or not lines[0].startswith("HTTP/"):
        return f"not an HTTP answer (did curl run with -i?): {_short(actual)}"
    if shown_lines[0].strip() != lines[0].strip():
        return f"status: expected {shown_lines[0].strip()!r}, got {lines[0].strip()!r}"
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    for line in shown_lines[1:]:
        name, _, value = line.partition(":")
        got = headers.get(name.strip().lower())
        if got is None or not _pattern(value.strip()).fullmatch(got):
            return f"header {name.strip()}: expected {value.strip()!r}, got {got!r}"
    shown_body = shown_body.strip()
    if not shown_body:
        return None if not body.strip() else f"body: the guide shows none, got {_short(body)}"
    if shown_body[0] not in "{[":
        return _lines_mismatch(shown_body.splitlines(), body.splitlines(), "body")
    try:
        actual_json = json.loads(body)
    except ValueError:
        return f"body is not JSON: {_short(body)}"
    return mismatch(ElidedJsonParser(shown_body).parse(), actual_json)


# ---------------------------------------------------------------- running it
MARK = "@@curl-guide-block-end@@"


def run_blocks(commands: list[str], env: dict[str, str], cwd: Path) -> list[str]:
    """Run the blocks in one bash, in order; return each block's output (stdout and stderr)."""
    script = ["exec 2>&1"]
    for k, command in enumerate(commands):
        script += [command, f"printf '\\n{MARK} {k}\\n'"]
    try:
        done = subprocess.run(["bash"], input=("\n".join(script) + "\n").encode(), capture_output=True,
                              env=env, cwd=cwd, timeout=RUN_TIMEOUT)
        stdout, end = done.stdout, f"exit {done.returncode}"
    except subprocess.TimeoutExpired as e:  # a hung call: show what came before it
        stdout, end = e.stdout or b"", f"killed after {RUN_TIMEOUT} s"
    parts = re.split(rf"\n{re.escape(MARK)} (\d+)\n", stdout.decode("utf-8", "replace"))
    outputs = [""] * len(commands)
    for k in range(1, len(parts) - 1, 2):
        outputs[int(parts[k])] = parts[k - 1]
    if len(parts) // 2 < len(commands):
        outputs[len(parts) // 2] = parts[-1] + f"\n(bash stopped here: {end})"
    return outputs


class GuideServer(LiveServer):
    """`python -m service serve` (what `python3 tasks.py serve` runs) on a free port."""

    def start(self) -> GuideServer:
        log = open(self.log_path, "ab")  # noqa: SIM115 - kept open by the child
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "service", "serve", "--host", "127.0.0.1", "--port",
             str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True)
        log.close()
        return self


def _pg_url(server_url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(server_url.replace("postgresql://", "postgresql+psycopg://", 1))
    if database:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _pg(server_url: str, sql: str) -> None:
    from sqlalchemy import create_engine, text

    eng = create_engine(_pg_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with eng.connect() as c:
            c.execute(text(sql))
    finally:
        eng.dispose()


@dataclass
class Guide:
    """The running server, the environment the guide's commands run in, and a scratch dir."""

    server: GuideServer
    env: dict[str, str]
    work: Path


def _fresh_guide_server(tmp: Path) -> Iterator[Guide]:
    """A fresh database, the guide's first admin, and the server; all removed afterwards."""
    pg_server = os.environ.get("TEST_DATABASE_URL")
    pg_db = f"selection_guide_{uuid.uuid4().hex[:10]}" if pg_server else None
    if pg_server:
        _pg(pg_server, f'CREATE DATABASE "{pg_db}"')
    curl_home = tmp / "curl-home"
    curl_home.mkdir()
    # a bound on each call that the guide need not show, and no ~/.curlrc of the machine's
    (curl_home / ".curlrc").write_text("max-time = 60\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SELECTION_", "CURL_"))}
    env.update({
        "SELECTION_ENVIRONMENT": "development",
        # as on a fresh clone: the SQLite file in an empty data dir (or a new PostgreSQL db)
        "SELECTION_DATA_DIR": str(tmp / "data"),
        "PYTHONUNBUFFERED": "1",
        "CURL_HOME": str(curl_home),
        "LC_ALL": "C.UTF-8",
        # `python3` in the guide's one-liners, `.venv/bin/python` in its set-up: this Python
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    if pg_server:
        env["SELECTION_DATABASE_URL"] = _pg_url(pg_server, pg_db)
    server = GuideServer("guide-server", env | {
        ADMIN_SETTING: admin_password(GUIDE.read_text(encoding="utf-8"))}, tmp)
    try:
        server.start()
        server.wait_ready(timeout=90)
        banner = "Created the first administrator 'admin' with the password in"
        for _ in range(100):  # the banner follows readiness
            if banner in server.log_tail():
                break
            time.sleep(0.1)
        assert banner in server.log_tail(), server.log_tail()
        shown = banner_block(GUIDE.read_text(encoding="utf-8"))
        rule = shown.text.splitlines()[0]
        log = server.log_tail().replace(f":{server.port}", ":8000").splitlines()
        printed = log[log.index(rule):]
        printed = printed[:printed.index(rule, 1) + 1]
        why = compare(shown, "\n".join(printed))
        assert why is None, f"the banner at line {shown.line} of the guide: {why}"
        work = tmp / "shell"
        work.mkdir()
        yield Guide(server, env | {"BASE_URL": server.base_url}, work)
    finally:
        server.stop()
        if pg_server:
            _pg(pg_server, f'DROP DATABASE IF EXISTS "{pg_db}" WITH (FORCE)')


@pytest.fixture
def guide_server(tmp_path: Path) -> Iterator[Guide]:
    """The guide's server on a fresh database, with its first admin."""
    yield from _fresh_guide_server(tmp_path)


# ---------------------------------------------------------------- the test
def test_the_curl_guide_runs_as_written(guide_server: Guide):
    assert shutil.which("curl"), "the guide needs curl"
    text = GUIDE.read_text(encoding="utf-8")
    guide_steps = steps(text)
    assert len(guide_steps) > 30, "the guide's ```sh blocks were not found"
    outputs = run_blocks([s.command.text for s in guide_steps], guide_server.env,
                         guide_server.work)
    failures = []
    for step, output in zip(guide_steps, outputs, strict=True):
        try:
            why = compare(step.expected, output)
        except ValueError as e:  # the guide's own block is not readable
            why = str(e)
        if why:
            failures.append((step, output, why))
    if failures:
        step, output, why = failures[0]
        shown = step.expected.text if step.expected else "(nothing)"
        later = "".join(f"\n  line {s.command.line}: {w}" for s, _, w in failures[1:])
        pytest.fail(
            f"docs/curl-guide.md line {step.command.line}: the call's answer differs from what"
            f" the guide shows at line {step.expected.line if step.expected else '-'}:\n"
            f"  {why}\n\n--- command\n{step.command.text}\n\n--- the guide shows\n{shown}\n\n"
            f"--- the server answered\n{output[:6000]}\n"
            + (f"\n--- later blocks that differ too (perhaps because of this one):{later}\n"
               if later else "")
            + f"\n--- server log (tail)\n{guide_server.server.log_tail(2000)}",
            pytrace=False)


def test_the_comparison_catches_what_differs():
    """The elision rules, on small cases (the guide itself only ever passes)."""
    http = Block("http", 'HTTP/1.1 201 Created\nlocation: /api/v1/selections/…\n\n'
                 '{"id": "…", "state": "drafting", "tags": ["a", …], "n": 1, …}', 1)
    good = ('HTTP/1.1 201 Created\r\nlocation: /api/v1/selections/5b0c\r\nx: y\r\n\r\n'
            '{"id": "5b0c", "state": "drafting", "tags": ["a", "b"], "n": 1.0, "more": 2}')
    assert compare(http, good) is None
    assert "status" in compare(http, good.replace("201 Created", "200 OK"))
    assert "body.state" in compare(http, good.replace("drafting", "publicizing"))
    assert "body.tags[0]" in compare(http, good.replace('["a", "b"]', '["b", "a"]'))
    assert "no key 'n'" in compare(http, good.replace('"n": 1.0, ', ""))
    assert "header location" in compare(http, good.replace("/selections/", "/candidates/"))
    exact = Block("http", 'HTTP/1.1 200 OK\n\n["a", "b"]', 1)
    assert "more than shown" in compare(exact, 'HTTP/1.1 200 OK\r\n\r\n["a", "b", "c"]')
    assert "missing" in compare(exact, 'HTTP/1.1 200 OK\r\n\r\n["a"]')
    middle = Block("http", 'HTTP/1.1 200 OK\n\n[…, {"k": "x…z"}, …]', 1)
    assert compare(middle, 'HTTP/1.1 200 OK\r\n\r\n[1, {"k": "xyyz"}, 3]') is None
    assert compare(middle, 'HTTP/1.1 200 OK\r\n\r\n[1, {"k": "xyy"}, 3]') is not None
    text = Block("text", "judge1 201\n…\njudge7 201", 1)
    assert compare(text, "judge1 201\njudge2 201\njudge7 201\n") is None
    assert compare(text, "judge1 201\njudge7 422\n") is not None
    assert compare(None, "") is None and compare(None, "oops") is not None


# ---------------------------------------------------------------- writing the guide
def _show() -> int:
    """Run the guide against a fresh server and print every block's answer beside its line."""
    tmp = Path(tempfile.mkdtemp(prefix="curl-guide-"))
    text = GUIDE.read_text(encoding="utf-8")
    guide_steps = steps(text)
    for guide in _fresh_guide_server(tmp):
        outputs = run_blocks([s.command.text for s in guide_steps], guide.env, guide.work)
        for step, output in zip(guide_steps, outputs, strict=True):
            why = compare(step.expected, output)
            print(f"=== line {step.command.line}: {'OK' if not why else 'DIFFERS: ' + why}")
            print(output)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_show())
