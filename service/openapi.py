"""The OpenAPI document as clients are generated from it: one step after FastAPI's own.

FastAPI writes each route as it is declared. This step adds, in one place, what a generated
client needs and the routes do not say one by one:

* one operation per workflow action (`POST …/actions/publish`, …) with that action's typed
  `params` and its `reason`, instead of the one `…/actions/{action}` route with free params;
* the response headers (ETag, Location, Content-Disposition, Retry-After, Idempotent-Replayed,
  X-Request-ID, Content-Language) and request headers (Accept-Language, Idempotency-Key,
  If-None-Match) where they apply, and the 413, 429 and 503 answers;
* the problem `code` as an enum of every code the service answers, and per error response
  the codes that status carries (for an action's 409: the engine's and its guards');
* request fields with a default as optional in every generator (no `default` keyword left in
  a schema a request reaches: openapi-typescript reads a default as "always present").
"""

from __future__ import annotations

import ast
import copy
import inspect
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from . import facts  # noqa: F401  (registers the selection's and the candidate's kind)
from .core import errors, i18n, idempotency
from .core.schemas import MERGE_PATCH_OF, NOT_BLANK
from .followup import objections  # noqa: F401  (registers the objection's kind)
from .record import actions
from .record import service as record
from .routers.common import ACTIONS_OF
from .webhooks.schemas import EVENT_TYPES
from .webhooks.service import PING
from .workflow import WORKFLOW, WorkflowError
from .workflow.engine import Guard, GuardRefused
from .workflow.roles import ROLES

REF = "#/components/schemas/"
JSON = "application/json"
CODE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)+$")
WRITES = ("post", "put", "patch", "delete")


def refine(schema: dict[str, Any], app: FastAPI) -> None:
    """Complete FastAPI's document in place (see the module's docstring)."""
    components = schema.setdefault("components", {})
    _expand_actions(schema)
    _declare_headers(schema, app)
    _declare_statuses(schema)
    _problem_codes(schema)
    _field_enums(schema)
    _merge_patches(schema)
    _optional_defaults(schema)
    for unused in ("ActionRequest",):
        components["schemas"].pop(unused, None)


# ---------------------------------------------------------------- one operation per action
def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _expand_actions(schema: dict[str, Any]) -> None:
    comps = schema["components"]["schemas"]
    reason = copy.deepcopy(comps["ActionRequest"]["properties"]["reason"])
    reason_text = next(o for o in reason.get("anyOf", [reason]) if o.get("type") != "null")
    # Where the action requires a reason, the engine wants more than whitespace.
    reason_text = {**reason_text, "minLength": 1, "pattern": NOT_BLANK}
    for template in list(schema["paths"]):
        ops = schema["paths"][template]
        for method, op in list(ops.items()):
            machine_name = op.pop(ACTIONS_OF, None)
            if machine_name is None:
                continue
            del ops[method]
            machine = WORKFLOW.machines[machine_name]
            kind = actions.kind_of(machine_name)
            models = {t.action: kind.params_model(t.action) for t in machine.transitions}
            _, defs = models_json_schema([(m, "validation") for m in set(models.values())],
                                         ref_template=REF + "{model}")
            for name, definition in defs.get("$defs", {}).items():
                comps.setdefault(name, definition)
            for t in machine.transitions:
                name = f"{_camel(machine_name)}{_camel(t.action)}Request"
                params = models[t.action]
                required = (["reason"] if t.reason_required else []) + (
                    ["params"] if any(f.is_required() for f in params.model_fields.values())
                    else [])
                example: dict[str, Any] = {"params": comps[params.__name__].get("example", {})}
                if t.reason_required:
                    example["reason"] = "经研究决定（reason）"
                comps[name] = {
                    "type": "object", "title": name, "additionalProperties": False,
                    "example": example,
                    "description": f"Run `{t.action}` ({t.label_zh}, {t.label_en})"
                    + (": a reason is required." if t.reason_required else "."),
                    "properties": {
                        "reason": copy.deepcopy(reason_text if t.reason_required else reason),
                        "params": {"$ref": REF + params.__name__},
                    },
                    **({"required": required} if required else {}),
                }
                one = copy.deepcopy(op)
                one["operationId"] = f"{machine_name}_{t.action}"
                one["summary"] = f"{t.label_zh} ({t.label_en})"
                guards = "".join(f"\n* `{g.name}`: {g.description}" for g in t.guards)
                one["description"] = (
                    f"Runs `{t.action}` on the {machine_name}: from "
                    + ", ".join(f"`{s}`" for s in t.sources) + f" to `{t.target}`; roles: "
                    + ", ".join(f"`{r}`" for r in t.roles) + "."
                    + (" A reason is required." if t.reason_required else "")
                    + (f"\n\nGuards:{guards}" if guards else "")
                    + "\n\nThe state change and its event are written together, or neither is."
                )
                one["parameters"] = [p for p in one.get("parameters", [])
                                     if not (p["in"] == "path" and p["name"] == "action")]
                one["requestBody"] = {"required": bool(required), "content": {
                    JSON: {"schema": {"$ref": REF + name}}}}
                one["x-action"] = t.action
                one["x-machine"] = machine_name
                path = template.replace("{action}", t.action)
                schema["paths"].setdefault(path, {})[method] = one
        if not ops:
            del schema["paths"][template]


# ---------------------------------------------------------------- headers
HEADERS: dict[str, dict[str, Any]] = {
    "ETag": {"description": "The resource's strong entity tag: send it back in `If-Match`",
             "schema": {"type": "string"}},
    "Location": {"description": "The path of the resource this request created",
                 "schema": {"type": "string"}},
    "Content-Disposition": {"description": "`attachment` with the file's name (RFC 6266)",
                            "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again",
                    "schema": {"type": "integer", "minimum": 0}},
    "Idempotent-Replayed": {"description": "`true` when this is the stored answer to an earlier"
                            " request with the same Idempotency-Key",
                            "schema": {"type": "string", "enum": ["true"]}},
    "X-Request-ID": {"description": "The request's id, as given or made; events record it",
                     "schema": {"type": "string"}},
    "Content-Language": {"description": "The language the display texts are in (`zh-CN` or"
                         " `en`)", "schema": {"type": "string", "enum": list(i18n.SUPPORTED)}},
    "Allow": {"description": "The methods this path serves", "schema": {"type": "string"}},
}
ACCEPT_LANGUAGE = {
    "name": "Accept-Language", "in": "header", "required": False,
    "description": "The language of display texts (`*_label`, problem `title`): `zh-CN` (the"
    " default) or `en`; identifiers never change with it",
    "schema": {"type": "string"}, "examples": {"zh": {"value": "zh-CN"}, "en": {"value": "en"}},
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Any unique text (a UUID): the same request sent again with the same key"
    " answers what the first answer was, and changes nothing a second time",
    "schema": {"type": "string", "pattern": idempotency.KEY_PATTERN},
    "examples": {"uuid": {"value": "0f8fad5b-d9cb-469f-a165-70867728950e"}},
}

IF_NONE_MATCH = {
    "name": "If-None-Match", "in": "header", "required": False,
    "description": "The ETag last read: when it is still the current one, the answer is 304"
    " Not Modified with no body",
    "schema": {"type": "string"},
    "examples": {"etag": {"value": '"selection-5b0c2f6a9d1e4c7b8a3f2e1d0c9b8a7f-v2"'}},
}


def _header_ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/headers/{name}"}


def _endpoints(app: FastAPI) -> dict[tuple[str, str], Any]:
    """(path, method) → the route's endpoint, as written (its wrappers unwrapped); included
    routers' routes too (FastAPI keeps them behind an entry of their own)."""
    from fastapi import routing

    out = {}
    for ctx in routing.iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute):
            for method in ctx.methods:
                out[(ctx.path, method.lower())] = inspect.unwrap(route.endpoint)
    return out


def _source(endpoint: Any) -> str:
    """The endpoint's source, with that of the functions of its module it calls (one level:
    a `_public(selection, response)` helper that sets the ETag)."""
    try:
        text = inspect.getsource(endpoint)
    except (OSError, TypeError):
        return ""
    module = inspect.getmodule(endpoint)
    called = {_name(n.func) for n in ast.walk(ast.parse(inspect.cleandoc("\n" + text)))
              if isinstance(n, ast.Call)}
    for name in sorted(called):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper.__module__ == endpoint.__module__:
            text += inspect.getsource(helper)
    return text


def _operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def _schema_of(schema: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    media = response.get("content", {}).get(JSON, {}).get("schema", {})
    ref = media.get("$ref", "")
    return schema["components"]["schemas"].get(ref.removeprefix(REF), {}) if ref else media


def _declare_headers(schema: dict[str, Any], app: FastAPI) -> None:
    schema["components"]["headers"] = {k: dict(v) for k, v in HEADERS.items()}
    endpoints = _endpoints(app)
    for path, method, op in _operations(schema):
        params = op.setdefault("parameters", [])
        names = {p.get("name", "").lower() for p in params}
        if "accept-language" not in names:
            params.append(copy.deepcopy(ACCEPT_LANGUAGE))
        if method == "post" and "idempotency-key" not in names:
            params.append(copy.deepcopy(IDEMPOTENCY_KEY))
        if "304" in op["responses"] and "if-none-match" not in names:
            params.append(copy.deepcopy(IF_NONE_MATCH))
        template = re.sub(r"/actions/[a-z_]+$", "/actions/{action}", path) if op.get(
            "x-action") else path
        source = _source(endpoints.get((template, method)))
        for status, response in op["responses"].items():
            headers = response.setdefault("headers", {})
            headers["X-Request-ID"] = _header_ref("X-Request-ID")
            code = int(status) if status.isdigit() else 0
            if 200 <= code < 300:
                content = response.get("content", {})
                if content and JSON not in content and "content-disposition" in source.lower():
                    headers["Content-Disposition"] = _header_ref("Content-Disposition")
                elif JSON in content:
                    headers["Content-Language"] = _header_ref("Content-Language")
                body = _schema_of(schema, response)
                if "version" in body.get("properties", {}) and "etag" in source.lower():
                    headers["ETag"] = _header_ref("ETag")
                if code == 201 and '"Location"' in source:
                    headers["Location"] = _header_ref("Location")
                if method == "post":
                    headers["Idempotent-Replayed"] = _header_ref("Idempotent-Replayed")
            elif code in (429, 503):
                headers["Retry-After"] = _header_ref("Retry-After")
            elif code in (412, 428):
                # the current ETag, to retry with (check_write sends it with either)
                headers["ETag"] = _header_ref("ETag")


# ---------------------------------------------------------------- statuses
def _declare_statuses(schema: dict[str, Any]) -> None:
    """413 wherever a body is read, 422 on every POST (its Idempotency-Key), 503 everywhere (a
    busy database), 405 said once."""
    problem = {"content": {errors.PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF + "Problem"}}}}
    described = {413: "Request body too large", 422: "Invalid input (field errors listed)",
                 503: "The database is busy or unreachable, or the service is not ready;"
                 " nothing was changed"}
    for _path, method, op in _operations(schema):
        # a write reads its body, if any; a POST also its Idempotency-Key
        wanted = [503] + ([413] if "requestBody" in op or method in WRITES else []) + (
            [422] if method == "post" else [])
        for status in wanted:
            response = op["responses"].setdefault(str(status), {
                "description": described[status], **copy.deepcopy(problem)})
            response.setdefault("headers", {})["X-Request-ID"] = _header_ref("X-Request-ID")
            if status == 503:
                response["headers"]["Retry-After"] = _header_ref("Retry-After")
        op["responses"] = dict(sorted(op["responses"].items()))
    schema["components"].setdefault("responses", {})["MethodNotAllowed"] = {
        "description": "Any path answers 405 `method_not_allowed` to a method it does not"
        " serve; `Allow` lists those it does",
        "headers": {"Allow": _header_ref("Allow")}, **copy.deepcopy(problem)}


# ---------------------------------------------------------------- problem codes
def _problem_codes(schema: dict[str, Any]) -> None:
    by_status = codes_by_status()
    every = sorted({c for codes in by_status.values() for c in codes})
    comps = schema["components"]["schemas"]
    comps["ProblemCode"] = {"type": "string", "enum": every, "title": "ProblemCode",
                            "description": "Every stable error code the service answers",
                            "examples": ["action_not_allowed_in_state"]}
    comps["Problem"]["properties"]["code"] = {
        "$ref": REF + "ProblemCode", "description": "Stable machine-readable error code"}
    engine = {c.code: c.status for c in _subclasses(WorkflowError) if "code" in c.__dict__}
    for _path, _method, op in _operations(schema):
        action = op.get("x-action")
        transition = (WORKFLOW.machines[op["x-machine"]].transition(action) if action else None)
        for status, response in op["responses"].items():
            if not status.isdigit() or int(status) < 400:
                continue
            codes = set(by_status.get(int(status), ()))
            if transition is not None and int(status) == GuardRefused.status:
                codes = {c for c, s in engine.items() if s == GuardRefused.status}
                for guard in transition.guards:
                    codes |= guard_codes(guard)
            if codes:
                response["x-problem-codes"] = sorted(codes)
                listed = ", ".join(f"`{c}`" for c in sorted(codes))
                base = response.get("description", "").split("\n\nCodes: ")[0]
                response["description"] = f"{base}\n\nCodes: {listed}"


def _subclasses(cls: type) -> Iterator[type]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


SERVICE = Path(__file__).resolve().parent


@cache
def _refusal_literals() -> frozenset[str]:
    """The codes written as `Refusal("code", …)` anywhere in the service."""
    found = set()
    for tree in _trees():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and _name(node.func) == "Refusal" and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found.add(node.args[0].value)
    return frozenset(found)


def guard_codes(guard: Guard) -> set[str]:
    """The refusal codes a guard can answer: the `Refusal` codes its function writes, and the
    code a guard factory was given (`_none_in(…, code, …)`)."""
    codes: set[str] = set()
    fn = guard.check
    stack = [fn.__code__]
    while stack:
        code = stack.pop()
        for const in code.co_consts:
            if isinstance(const, str) and const in _refusal_literals():
                codes.add(const)
            elif inspect.iscode(const):
                stack.append(const)
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
        if name == "code" and isinstance(cell.cell_contents, str):
            codes.add(cell.cell_contents)
    return codes


@cache
def _trees() -> tuple[ast.Module, ...]:
    return tuple(ast.parse(p.read_text(encoding="utf-8")) for p in sorted(SERVICE.rglob("*.py"))
                 if "migrations" not in p.parts)


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return ""


def _literal(node: ast.expr | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


@cache
def codes_by_status() -> dict[int, frozenset[str]]:
    """Every problem code the service can answer, by HTTP status, read from the code itself:
    the error classes (the service's and the engine's), each `code=` given where an error is
    raised, each `problem_response(status, code, …)`, the framework's statuses, the guards'
    refusals (answered as 409), and `{what}_not_found` of every subject loaded by id."""
    found: dict[int, set[str]] = {}

    def add(status: int | None, code: Any) -> None:
        if isinstance(status, int) and isinstance(code, str) and CODE.match(code):
            found.setdefault(status, set()).add(code)

    classes = {c.__name__: c for c in _subclasses(errors.ServiceError)}
    classes["ServiceError"] = errors.ServiceError
    for cls in classes.values():
        add(cls.status_code, cls.code)
    for cls in _subclasses(WorkflowError):
        if "code" in cls.__dict__:
            add(cls.status, cls.code)
    for status, (code, _title) in errors._HTTP_CODES.items():
        add(status, code)
    for code in _refusal_literals():
        add(GuardRefused.status, code)
    for machine in WORKFLOW.machines.values():
        for t in machine.transitions:
            for guard in t.guards:
                for code in guard_codes(guard):
                    add(GuardRefused.status, code)
    for tree in _trees():
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = _name(node.func)
            kw = {k.arg: k.value for k in node.keywords}
            if func in classes and "code" in kw:
                status = _literal(kw.get("status_code")) or classes[func].status_code
                add(status, _literal(kw["code"]))
            elif func == "problem_response" and len(node.args) >= 2:
                add(_literal(node.args[0]), _literal(node.args[1]))
            elif func == "load_visible" and node.args:
                add(404, f"{_literal(node.args[-1])}_not_found")
    return {s: frozenset(c) for s, c in sorted(found.items())}


# ---------------------------------------------------------------- closed sets of responses
# Response fields whose values the service fixes, though the model keeps a plain `str` (the
# stored column): each becomes its enum here, so that a generated client has a union of
# literals. The agreement tests check every answer against these schemas.
ENUMS: dict[str, dict[str, Any]] = {
    "ActorRole": {"type": "string", "enum": [*ROLES, record.SYSTEM.role],
                  "description": "The role an actor acted in, or `system` (the service itself:"
                  " a deadline, an email sender)", "examples": ["admin"]},
    "NotificationState": {"type": "string", "enum": ["queued", "sent", "failed",
                                                     "undeliverable"],
                          "description": "Where an outcome email stands", "examples": ["sent"]},
    "WebhookMessageType": {"type": "string", "enum": [*EVENT_TYPES, PING],
                           "description": "A webhook message's type: an event type, or the"
                           " ping of a subscription", "examples": ["outcome.decided"]},
}
FIELD_ENUMS: dict[tuple[str, str], str] = {
    ("EventPublic", "actor_role"): "ActorRole",
    ("WebhookData", "actor_role"): "ActorRole",
    ("ActionOption", "refusal_code"): "ProblemCode",
    ("NotificationPublic", "state"): "NotificationState",
    ("WebhookData", "kind"): "NominationKind",
    ("WebhookData", "outcome"): "OutcomeName",
    ("WebhookPayload", "type"): "WebhookMessageType",
}


def _field_enums(schema: dict[str, Any]) -> None:
    comps = schema["components"]["schemas"]
    for name, enum in ENUMS.items():
        comps[name] = {"title": name, **copy.deepcopy(enum)}
    for (component, field), enum in FIELD_ENUMS.items():
        prop = comps[component]["properties"][field]
        nullable = any(o.get("type") == "null" for o in prop.get("anyOf", []))
        ref = {"$ref": REF + enum}
        kept = {k: v for k, v in prop.items() if k in ("title", "description")}
        prop.clear()
        prop.update(kept, **({"anyOf": [ref, {"type": "null"}]} if nullable else ref))


# ---------------------------------------------------------------- merge patches
def _merge_patches(schema: dict[str, Any]) -> None:
    """A field marked as a JSON merge patch of a model (`MERGE_PATCH_OF`) gets the schema
    `<Model>Patch`: the model's properties, none required, each also `null` (which removes the
    key, so that it takes its default again)."""
    comps = schema["components"]["schemas"]
    for component in list(comps.values()):
        for prop in component.get("properties", {}).values():
            target = prop.pop(MERGE_PATCH_OF, None)
            if target is None:
                continue
            patch = f"{target}Patch"
            base = comps[target]
            comps[patch] = {
                "type": "object", "title": patch, "additionalProperties": False,
                "description": f"A JSON merge patch (RFC 7396) of {target}: keys left out keep"
                " their value, `null` removes one (it takes its default); the result must be a"
                f" valid {target}.",
                "properties": {k: {"anyOf": [copy.deepcopy(v), {"type": "null"}]}
                               for k, v in base["properties"].items()},
            }
            if "example" in prop:
                comps[patch]["example"] = copy.deepcopy(prop["example"])
            for option in prop.get("anyOf", [prop]):
                if option.get("type") == "object":
                    option.clear()
                    option["$ref"] = REF + patch


# ---------------------------------------------------------------- request defaults
def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            yield ref.removeprefix(REF)
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _optional_defaults(schema: dict[str, Any]) -> None:
    """Move each `default` of a schema a request reaches into its description: a field left
    out of a request takes it, and no generator reads it as a field always present."""
    comps = schema["components"]["schemas"]
    seen: set[str] = set()
    todo = [r for _p, _m, op in _operations(schema)
            for r in _refs([op.get("requestBody"), op.get("parameters")])]
    while todo:
        name = todo.pop()
        if name in seen or name not in comps:
            continue
        seen.add(name)
        todo.extend(_refs(comps[name]))
    for target in [comps[n] for n in sorted(seen)]:
        for prop in target.get("properties", {}).values():
            _drop_default(prop)
        _drop_default(target)


def _drop_default(node: dict[str, Any]) -> None:
    if "default" not in node:
        return
    value = node.pop("default")
    shown = json.dumps(value, ensure_ascii=False)
    node["description"] = (node.get("description", "") + f" (left out: `{shown}`)").strip()
