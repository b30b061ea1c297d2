"""What the service answered, against what openapi/openapi.json declares: every problem served
during the test suite, by operation, status and code (tests/conftest.py installs the
recorder on the app and checks at the end of the session).

Servers the suite starts as processes (tests/reliability/_live.py) run the app through
`recorded_app`, which appends what they answer to a file in `TEST_PROBLEMS_DIR`; the check
reads those too.

A request is the document's operation whose path template and method it matches (a literal
segment before a parameter: `…/actions/publish` is `selection_publish`). A request that no
operation serves (a path no route has, a method a path does not serve, a preflight, a name
after `…/actions/` that is no action) may answer only a code answered outside every
operation (service/openapi/codes.py, `OUTSIDE_OPERATIONS`).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Served:
    """One problem answer: the request's method and path, the status and the code."""

    method: str
    path: str
    status: int
    code: str | None


SERVED: set[Served] = set()
DIR_ENV = "TEST_PROBLEMS_DIR"


def _keep_in_file(served: Served) -> None:
    """A server process's answer, appended to its own file (read by `undeclared`)."""
    path = Path(os.environ[DIR_ENV]) / f"served-{os.getpid()}.jsonl"
    with path.open("a", encoding="utf-8") as f:
        f.write(json.dumps([served.method, served.path, served.status, served.code]) + "\n")


class ProblemRecorder:
    """ASGI middleware keeping every problem answer (status ≥ 400) in `SERVED`, or, in a
    server process, in its file."""

    def __init__(self, app, to_file: bool = False):
        self.app = app
        self.keep = _keep_in_file if to_file else SERVED.add

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        seen: dict[str, Any] = {"status": 0, "problem": False, "body": b""}

        async def keep(message):
            if message["type"] == "http.response.start":
                seen["status"] = message["status"]
                types = [v for k, v in message.get("headers", []) if k.lower() == b"content-type"]
                seen["problem"] = any(t.split(b";")[0].strip() == PROBLEM.encode() for t in types)
            elif message["type"] == "http.response.body" and seen["status"] >= 400:
                seen["body"] += message.get("body", b"")
                if not message.get("more_body"):
                    self.keep(Served(scope["method"], scope["path"], seen["status"],
                                     _code(seen["body"]) if seen["problem"] else None))
            await send(message)

        await self.app(scope, receive, keep)


def recorded_app():
    """The app for a server process of the suite (`uvicorn --factory`), recording what it
    answers."""
    from service.main import app

    app.add_middleware(ProblemRecorder, to_file=True)
    return app


def _from_files() -> set[Served]:
    found = set()
    folder = os.environ.get(DIR_ENV)
    for path in sorted(Path(folder).glob("served-*.jsonl")) if folder else ():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                method, where, status, code = json.loads(line)
            except ValueError:  # the last line of a server killed while writing it
                continue
            found.add(Served(method, where, status, code))
    return found


def _code(body: bytes) -> str | None:
    try:
        code = json.loads(body).get("code")
    except (ValueError, AttributeError):
        return None
    return code if isinstance(code, str) else None


@cache
def _document() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text(encoding="utf-8"))


@cache
def _templates() -> list[tuple[re.Pattern[str], str, int]]:
    out = []
    for template in _document()["paths"]:
        pattern = re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template))
        literal = len(re.sub(r"\{[^/]+?\}", "", template))
        out.append((re.compile(f"^{pattern}$"), template, literal))
    return sorted(out, key=lambda t: -t[2])


def operation_of(method: str, path: str) -> dict[str, Any] | None:
    """The document's operation serving this request, if one does."""
    for pattern, template, _literal in _templates():
        if pattern.match(path):
            op = _document()["paths"][template].get(method.lower())
            if op is not None:
                return op
    return None


def operation_by_id(operation_id: str) -> dict[str, Any]:
    """The document's operation with this id."""
    return next(op for ops in _document()["paths"].values() for op in ops.values()
                if op["operationId"] == operation_id)


def declared_codes(op: dict[str, Any], status: int) -> set[str] | None:
    """The codes an operation declares for a status (None: the status is not declared)."""
    response = op["responses"].get(str(status))
    if response is None:
        return None
    schema = response.get("content", {}).get(PROBLEM, {}).get("schema", {})
    name = schema.get("$ref", "").rsplit("/", 1)[-1]
    component = _document()["components"]["schemas"].get(name, {})
    for part in component.get("allOf", []):
        enum = part.get("properties", {}).get("code", {}).get("enum")
        if enum:
            return set(enum)
    return set()


def undeclared() -> list[str]:
    """Each problem served that the document does not declare, said in a line."""
    from service.openapi.codes import OUTSIDE_OPERATIONS

    outside = {code for _status, code in OUTSIDE_OPERATIONS}
    wrong = set()
    for s in SERVED | _from_files():
        op = operation_of(s.method, s.path)
        if s.code is None:
            wrong.add(f"{s.method} {s.path} → {s.status} without a problem code")
        elif op is None:
            if (s.status, s.code) not in OUTSIDE_OPERATIONS:
                wrong.add(f"{s.method} {s.path} (no operation) → {s.status} {s.code}, not one"
                          f" of the codes answered outside the operations: {sorted(outside)}")
        else:
            codes = declared_codes(op, s.status)
            if codes is None:
                wrong.add(f"{op['operationId']} → {s.status} {s.code}: status not declared")
            elif s.code not in codes:
                wrong.add(f"{op['operationId']} → {s.status} {s.code}: not among the declared"
                          f" {sorted(codes)}")
    return sorted(wrong)
