"""The document says what validation does: for every text a request carries (body fields,
query and path parameters) whose schema in openapi/openapi.json has a pattern or a length
limit, the service's own validation (the pydantic field behind it) accepts exactly the
values the document's schema accepts.

The document is read as JSON Schema means it, with ECMA-262 patterns (where `$` ends the text,
while Python's `re` would let a trailing newline through): by jsonschema-rs, the validator
Schemathesis itself uses. Values: boundary lengths, the characters
where engines and rules differ (whitespace str.strip() removes, NUL, controls, BOM, emoji),
and random text, plus text generated from the field's own pattern.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi.routing import APIRoute
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema_rs import Draft202012Validator
from pydantic import BaseModel, TypeAdapter, ValidationError

from service.main import _models, app

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json")
                      .read_text())
COMPONENTS = DOCUMENT["components"]["schemas"]
SPACES = [c for c in map(chr, range(0x3001)) if c.isspace()]
TRICKY = [*SPACES, "\x00", "\x01", "\x7f", "\ufeff", "\u200b", "a", "Z", "0", "_", "-", ".",
          "@", "中", "é", "\U0001f600", "\n"]


def _string_shape(schema: dict) -> tuple[str, dict] | None:
    """('text' | 'list', the string's schema) when the value is a text, a nullable text or a
    list of texts with a pattern or a length limit; None otherwise."""
    options = schema.get("anyOf", [schema])
    for option in options:
        if option.get("type") == "string" and not {"enum", "format"} & option.keys() and (
                {"pattern", "maxLength", "minLength"} & option.keys()):
            return "text", option
        items = option.get("items") if option.get("type") == "array" else None
        if isinstance(items, dict) and items.get("type") == "string" and "enum" not in items and (
                {"pattern", "maxLength", "minLength"} & items.keys()):
            return "list", items
    return None


def _body_fields() -> list[tuple[str, dict, TypeAdapter]]:
    models: dict[str, type[BaseModel]] = {}
    for model in _models():
        models.setdefault(re.sub(r"[^a-zA-Z0-9.\-_]", "_", model.__name__), model)
    out = []
    for name, component in COMPONENTS.items():
        model = models.get(name)
        if model is None or "properties" not in component:
            continue
        for prop, schema in component["properties"].items():
            field = model.model_fields.get(prop)
            if field is None or _string_shape(schema) is None:
                continue
            out.append((f"{name}.{prop}", schema, TypeAdapter(Annotated[field.annotation, field])))
    return out


def _all(dependant, kind: str) -> list:
    """A route's parameters of one kind, its dependencies' included."""
    out = list(getattr(dependant, kind))
    for sub in dependant.dependencies:
        out += _all(sub, kind)
    return out


def _routes() -> list[tuple[APIRoute, str, set[str]]]:
    """Every APIRoute with its full path: the app's own, and those of included routers
    (which FastAPI >= 0.16x keeps behind an `_IncludedRouter` entry)."""
    from fastapi import routing

    out = []
    for route in app.routes:
        if isinstance(route, APIRoute):
            out.append((route, route.path_format, set(route.methods)))
        elif hasattr(routing, "iter_route_contexts"):
            for ctx in routing.iter_route_contexts([route]):
                if isinstance(ctx.original_route, APIRoute):
                    out.append((ctx.original_route, ctx.path, set(ctx.methods)))
    return out


def _parameters() -> list[tuple[str, dict, TypeAdapter]]:
    out = []
    for route, path, methods in _routes():
        for method in methods:
            op = DOCUMENT["paths"].get(path, {}).get(method.lower())
            if op is None:
                continue
            documented = {(p["in"], p["name"]): p["schema"] for p in op.get("parameters", [])}
            for where, params in (("query", _all(route.dependant, "query_params")),
                                  ("path", _all(route.dependant, "path_params"))):
                for param in params:
                    schema = documented.get((where, param.alias))
                    if schema is None or _string_shape(schema) is None:
                        continue
                    info = param.field_info
                    out.append((f"{op['operationId']}:{where}.{param.alias}", schema,
                                TypeAdapter(Annotated[info.annotation, info])))
    return out


FIELDS = _body_fields() + _parameters()


def test_the_walk_finds_the_texts():
    """The walk sees the texts it should (a failure here means it lost its way)."""
    names = {name for name, _, _ in FIELDS}
    assert {"SelectionCreate.title", "JobDescription.duties", "UserCreate.username",
            "LoginForm.grant_type", "list_selections:query.q",
            "list_users:query.cursor"} <= names
    assert len(FIELDS) > 60


def _boundaries(schema: dict) -> list[str]:
    limit = schema.get("maxLength") or 8
    low = schema.get("minLength") or 0
    out = ["", "a", "a" * limit, "a" * (limit + 1), " " * limit + "a", "中" * limit,
           "中" * (limit + 1), "\U0001f600" * limit, "\U0001f600" * (limit + 1),
           "a" * max(low - 1, 0), " " * low, *SPACES, "\x00", "a\x00", "a\n", "\n",
           "password", "password\n", "admin", "a@b.cn", "a\x1c@b.cn", "\ufeff"]
    return out


def _agree(name: str, schema: dict, adapter: TypeAdapter, value: str) -> None:
    shape, _ = _string_shape(schema)  # type: ignore[misc]
    instance: Any = [value] if shape == "list" else value
    by_document = Draft202012Validator(schema).is_valid(instance)
    try:
        adapter.validate_python(instance)
        by_service = True
    except ValidationError:
        by_service = False
    assert by_document == by_service, (
        f"{name}: {instance!r} is {'valid' if by_document else 'invalid'} by the document but"
        f" {'accepted' if by_service else 'refused'} by validation")


@pytest.mark.parametrize(("name", "schema", "adapter"), FIELDS, ids=[f[0] for f in FIELDS])
def test_the_document_and_validation_agree(name, schema, adapter):
    for value in _boundaries(_string_shape(schema)[1]):  # type: ignore[index]
        _agree(name, schema, adapter, value)

    _, text = _string_shape(schema)  # type: ignore[misc]
    strategies = [st.text(alphabet=st.sampled_from(TRICKY), max_size=12), st.text(max_size=12)]
    if "pattern" in text:
        strategies.append(st.from_regex(text["pattern"]))

    @settings(max_examples=30, deadline=None, derandomize=True, database=None)
    @given(st.one_of(strategies))
    def random_values(value):
        _agree(name, schema, adapter, value)

    random_values()
