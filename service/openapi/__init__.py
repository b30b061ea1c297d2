"""The OpenAPI document as clients are generated from it: one step after FastAPI's own.

FastAPI writes each route as it is declared. This step adds, in one place, what a generated
client needs and the routes do not say one by one:

* one operation per workflow action (`POST …/actions/publish`, …) with that action's typed
  `params` and its `reason`, instead of the one `…/actions/{action}` route with free params;
* the response headers (ETag, Location, Content-Disposition, Retry-After, Idempotent-Replayed,
  X-Request-ID, Content-Language) and request headers (Accept-Language, Idempotency-Key,
  If-None-Match) where they apply, and the 413, 429 and 503 answers;
* per operation, its error statuses, each with the codes that operation can answer there as
  the `code` enum of a shared named problem schema (read from the code the operation runs:
  service/openapi/codes.py), and `ProblemCode`, every code the service answers;
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
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic.json_schema import models_json_schema

from .. import facts  # noqa: F401  (registers the selection's and the candidate's kind)
from ..core import errors, i18n, idempotency
from ..core.schemas import MERGE_PATCH_OF, NOT_BLANK
from ..followup import objections  # noqa: F401  (registers the objection's kind)
from ..record import actions
from ..record import service as record
from ..routers.common import ACTIONS_OF
from ..webhooks.schemas import EVENT_TYPES
from ..webhooks.service import PING
from ..workflow import WORKFLOW
from ..workflow.roles import ROLES
from . import codes

REF = "#/components/schemas/"
JSON = "application/json"
WRITES = ("post", "put", "patch", "delete")


def refine(schema: dict[str, Any], app: FastAPI) -> None:
    """Complete FastAPI's document in place (see the module's docstring)."""
    components = schema.setdefault("components", {})
    _expand_actions(schema)
    _problem_codes(schema, app)
    _declare_headers(schema, app)
    _method_not_allowed(schema)
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
    """(path, method) → the route's endpoint, as written (its wrappers unwrapped)."""
    return {key: inspect.unwrap(route.endpoint) for key, route in _routes(app).items()}


def _source(endpoint: Any) -> str:
    """The endpoint's source, with that of the functions of its module it calls (one level:
    a `_public(selection, response)` helper that sets the ETag)."""
    try:
        text = inspect.getsource(endpoint)
    except (OSError, TypeError):
        return ""
    module = inspect.getmodule(endpoint)
    called = {codes.call_name(n.func) for n in ast.walk(ast.parse(inspect.cleandoc("\n" + text)))
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
def _method_not_allowed(schema: dict[str, Any]) -> None:
    """405, said once: any path answers it to a method it does not serve."""
    schema["components"].setdefault("responses", {})["MethodNotAllowed"] = {
        "description": "Any path answers 405 `method_not_allowed` to a method it does not"
        " serve; `Allow` lists those it does",
        "headers": {"Allow": _header_ref("Allow")},
        "content": {errors.PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF + "Problem"}}}}


# ---------------------------------------------------------------- problem codes
def _routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    """(path, method) → the route; included routers' routes too (FastAPI keeps them behind an
    entry of their own)."""
    from fastapi import routing

    out = {}
    for ctx in routing.iter_route_contexts(app.routes):
        if isinstance(ctx.original_route, APIRoute):
            for method in ctx.methods:
                out[(ctx.path, method.lower())] = ctx.original_route
    return out


def _route_of(routes: dict[tuple[str, str], APIRoute], path: str, method: str,
              op: dict[str, Any]) -> tuple[APIRoute, tuple[str, str] | None]:
    if op.get("x-action"):
        template = re.sub(r"/actions/[a-z_]+$", "/actions/{action}", path)
        return routes[(template, method)], (op["x-machine"], op["x-action"])
    return routes[(path, method)], None


DESCRIBED = {400: "Bad request", 401: "Not authenticated (missing, expired or invalid token)",
             403: "The caller's roles do not permit this", 404: "Not found",
             409: "Conflicts with the current state",
             412: "If-Match does not match the current ETag",
             413: "Request body too large", 422: "Invalid input (field errors listed)",
             428: "If-Match is required here and was not sent", 429: "Too many attempts",
             503: "The database is busy or unreachable, or the service is not ready;"
                  " nothing was changed"}


def _problem_codes(schema: dict[str, Any], app: FastAPI) -> None:
    """Per operation and status, the codes that operation can answer (service/openapi/codes.py),
    as the `code` enum of a named problem schema shared by every response with the same codes;
    `ProblemCode`, every code the service answers."""
    comps = schema["components"]["schemas"]
    routes = _routes(app)
    every = {code for status, code in codes.OUTSIDE_OPERATIONS}
    sets: dict[tuple[int, tuple[str, ...]], list[tuple[str, dict[str, Any]]]] = {}
    for path, method, op in _operations(schema):
        route, action = _route_of(routes, path, method, op)
        for found in codes.operation_codes(route, method, action, caught_too=True).values():
            every |= found
        answered = codes.operation_codes(route, method, action)
        for status, found in answered.items():
            response = op["responses"].setdefault(str(status), {
                "description": DESCRIBED.get(status, "Error")})
            sets.setdefault((status, tuple(sorted(found))), []).append(
                (op["operationId"], response))
        for status in op["responses"]:
            if status.isdigit() and int(status) >= 400 and int(status) not in answered:
                raise ValueError(f"{op['operationId']} declares {status}, which nothing it"
                                 " runs answers")
        op["responses"] = dict(sorted(op["responses"].items()))
    comps["ProblemCode"] = {"type": "string", "enum": sorted(every), "title": "ProblemCode",
                            "description": "Every stable error code the service answers",
                            "examples": ["action_not_allowed_in_state"]}
    comps["Problem"]["properties"]["code"] = {
        "$ref": REF + "ProblemCode", "description": "Stable machine-readable error code"}
    for (status, found), users in sorted(sets.items()):
        # Named for its codes when they are one or two, else for its first operation.
        name = "Problem" + ("Or".join(_camel(c) for c in found) if len(found) <= 2
                            else f"{status}{_camel(min(o for o, _r in users))}")
        listed = ", ".join(f"`{c}`" for c in found)
        comps[name] = {
            "title": name,
            "description": f"A problem answered with {status}: `code` is one of {listed}",
            "example": {"type": errors.TYPE_BASE + found[0], "title": HTTPStatus(status).phrase,
                        "status": status, "detail": DESCRIBED.get(status, "Error") + ".",
                        "code": found[0]},
            "allOf": [{"$ref": REF + "Problem"}, {
                "type": "object", "required": ["code"],
                "properties": {"code": {"type": "string", "enum": list(found)}}}],
        }
        for _o, response in users:
            base = response.get("description", "").split("\n\nCodes: ")[0]
            response["description"] = f"{base}\n\nCodes: {listed}"
            response["content"] = {errors.PROBLEM_MEDIA_TYPE: {"schema": {"$ref": REF + name}}}
            response.setdefault("headers", {})["X-Request-ID"] = _header_ref("X-Request-ID")


# ---------------------------------------------------------------- closed sets of responses
# Response fields whose values the service fixes, though the model keeps a plain `str` (the
# stored column): each becomes its enum here, so that a generated client has a union of
# literals. The agreement tests check every answer against these schemas.
def _enums() -> dict[str, dict[str, Any]]:
    """The closed sets, made when the document is (every step has registered its own)."""
    return {
        "ActorRole": {"type": "string", "enum": [*ROLES, record.SYSTEM.role],
                      "description": "The role an actor acted in, or `system` (the service itself:"
                      " a deadline, an email sender)", "examples": ["admin"]},
        "NotificationState": {"type": "string", "enum": ["queued", "sent", "failed",
                                                         "undeliverable"],
                              "description": "Where an outcome email stands", "examples": ["sent"]},
        # An event's action: a workflow action, or the record's own work (an event that is no
        # transition: a score sheet, a login, a template edited), which the catalogue labels
        # (`record_action`; tests/core/test_catalogue.py holds every one the code writes to it).
        "RecordAction": {"type": "string", "enum": list(dict.fromkeys(
            [t.action for m in WORKFLOW.machines.values() for t in m.transitions]
            + i18n.msgids("record_action"))),
            "description": "An event's action: a workflow action (`WorkflowAction`), or other work"
            " the record keeps (a score sheet submitted, a login, a template edited…)",
            "examples": ["publish"]},
        "SubjectType": {"type": "string", "enum": sorted(record.SUBJECT_TYPES),
                        "description": "The kind of subject an event belongs to (its chain)",
                        "examples": ["candidate"]},
        "WebhookMessageType": {"type": "string", "enum": [*EVENT_TYPES, PING],
                               "description": "A webhook message's type: an event type, or the"
                               " ping of a subscription", "examples": ["outcome.decided"]},
    }


FIELD_ENUMS: dict[tuple[str, str], str] = {
    ("EventPublic", "actor_role"): "ActorRole",
    ("EventPublic", "action"): "RecordAction",
    ("EventPublic", "subject_type"): "SubjectType",
    ("WebhookData", "action"): "RecordAction",
    ("WebhookData", "subject_type"): "SubjectType",
    ("BrokenLinkPublic", "subject_type"): "SubjectType",
    ("WebhookData", "actor_role"): "ActorRole",
    ("ActionOption", "refusal_code"): "ProblemCode",
    ("NotificationPublic", "state"): "NotificationState",
    ("WebhookData", "kind"): "NominationKind",
    ("WebhookData", "outcome"): "OutcomeName",
    ("WebhookPayload", "type"): "WebhookMessageType",
}


def _field_enums(schema: dict[str, Any]) -> None:
    comps = schema["components"]["schemas"]
    for name, enum in _enums().items():
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
