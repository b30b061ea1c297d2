"""The OpenAPI document is complete enough to integrate from: every operation has a summary, a
description and a declared tag; every parameter and component schema has a description and
an example; and every example is valid against its own schema (with `$ref`s resolved against
the document), so that a client or a mock built from the examples gets what the service takes
and sends.

The texts and examples live in the code (docstrings, `description=`, `examples=`,
`json_schema_extra`); openapi/openapi.json is generated from it (`python -m service openapi`).
Shared example data lives in service/examples.py. FastAPI writes the document without null
values; service.main puts the nulls of the models' own examples back, and the check below
would catch an example left invalid by a missing null.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs

DOCUMENT = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def _doc() -> dict[str, Any]:
    return json.loads(DOCUMENT.read_text())


def _operations(doc):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in METHODS:
                yield f"{method.upper()} {path}", op


def _has_example(obj: dict[str, Any]) -> bool:
    return "example" in obj or bool(obj.get("examples"))


def _examples(obj: dict[str, Any]) -> list[Any]:
    """The examples of a schema or parameter: `example`, JSON Schema's `examples` (a list), or
    OpenAPI's `examples` (a map of Example Objects)."""
    found = [obj["example"]] if "example" in obj else []
    examples = obj.get("examples")
    if isinstance(examples, list):
        found += examples
    elif isinstance(examples, dict):
        found += [e["value"] for e in examples.values() if "value" in e]
    return found


def _validator(doc, schema: dict[str, Any]):
    """A JSON Schema 2020-12 validator for `schema`, its `$ref`s resolved in the document."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": doc["components"]},
                                             validate_formats=True)


def test_every_operation_has_a_summary_a_description_and_a_declared_tag():
    doc = _doc()
    declared = {t["name"] for t in doc["tags"]}
    assert all(t.get("description") for t in doc["tags"]), "every tag needs a description"
    gaps = []
    for name, op in _operations(doc):
        if not op.get("summary"):
            gaps.append(f"{name}: no summary")
        if not op.get("description"):
            gaps.append(f"{name}: no description (the route's docstring)")
        if not op.get("tags"):
            gaps.append(f"{name}: no tag")
        gaps += [f"{name}: tag {t!r} is not declared in TAGS" for t in op.get("tags", [])
                 if t not in declared]
    assert not gaps, "\n".join(gaps)


def test_every_parameter_has_a_description_and_an_example():
    gaps = []
    for name, op in _operations(_doc()):
        for p in op.get("parameters", []):
            where = f"{name} {p['in']} parameter {p['name']!r}"
            if not p.get("description"):
                gaps.append(f"{where}: no description")
            if not (_has_example(p) or _has_example(p.get("schema", {}))):
                gaps.append(f"{where}: no example")
    assert not gaps, "\n".join(gaps)


def test_every_component_schema_has_a_description_and_an_example():
    gaps = []
    for name, schema in _doc()["components"]["schemas"].items():
        if not schema.get("description"):
            gaps.append(f"{name}: no description (a docstring on the model or enum)")
        if not _has_example(schema):
            gaps.append(f"{name}: no example (json_schema_extra on the model)")
    assert not gaps, "\n".join(gaps)


def test_every_example_is_valid_against_its_own_schema():
    doc = _doc()
    wrong = []

    def check(where: str, schema: dict[str, Any], examples: list[Any]) -> None:
        validator = _validator(doc, schema)
        for example in examples:
            wrong.extend(f"{where}: {e.message} (at /{'/'.join(map(str, e.instance_path))})"
                         for e in validator.iter_errors(example))

    for name, schema in doc["components"]["schemas"].items():
        check(f"schema {name}", {"$ref": f"#/components/schemas/{name}"}, _examples(schema))
        for prop, sub in schema.get("properties", {}).items():
            check(f"schema {name}.{prop}", sub, _examples(sub))
    for name, op in _operations(doc):
        for p in op.get("parameters", []):
            schema = p.get("schema", {})
            check(f"{name} parameter {p['name']!r}", schema, _examples(p) + _examples(schema))
    assert not wrong, "\n".join(wrong)


def test_a_wrong_example_is_caught():
    """The check above can fail: an example that breaks its schema is reported."""
    doc = _doc()
    validator = _validator(doc, {"$ref": "#/components/schemas/Problem"})
    assert not validator.is_valid({"type": "about:blank", "title": "x", "status": "409"})
    assert validator.is_valid(doc["components"]["schemas"]["Problem"]["example"])
