"""The committed OpenAPI document is what the app serves, and it declares problem+json."""

import json
from pathlib import Path

from service.main import app

COMMITTED = Path(__file__).resolve().parents[2] / "openapi" / "openapi.json"


def test_committed_document_matches_the_app():
    served = app.openapi()
    committed = json.loads(COMMITTED.read_text())
    assert committed == served, (
        "openapi/openapi.json differs from what the app serves: run `python -m service openapi`"
    )


def test_served_document_is_the_committed_one_over_http(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200
    assert r.json() == json.loads(COMMITTED.read_text())


def _problem_codes(doc: dict, response: dict) -> list[str]:
    """The `code` enum of an error response's problem schema (a named `Problem…` schema: the
    Problem, with `code` narrowed to the operation's codes for that status)."""
    schema = response["content"]["application/problem+json"]["schema"]
    component = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    base, narrowed = component["allOf"]
    assert base == {"$ref": "#/components/schemas/Problem"}
    assert narrowed["required"] == ["code"]
    return narrowed["properties"]["code"]["enum"]


def test_every_error_response_is_problem_json_with_its_own_codes():
    doc = app.openapi()
    every = set(doc["components"]["schemas"]["ProblemCode"]["enum"])
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("operationId"), (method, path)
            assert op.get("tags"), (method, path)
            for status, resp in op["responses"].items():
                if int(status) >= 400:
                    assert list(resp["content"]) == ["application/problem+json"], (path, status)
                    codes = _problem_codes(doc, resp)
                    assert codes and set(codes) <= every, (path, status)
                    assert resp["description"].endswith(
                        "Codes: " + ", ".join(f"`{c}`" for c in codes)), (path, status)


def test_each_operation_declares_the_codes_it_can_answer_and_no_others():
    doc = app.openapi()
    ops = {o["operationId"]: o for ops in doc["paths"].values() for o in ops.values()}

    def codes(op_id: str, status: int) -> list[str]:
        return _problem_codes(doc, ops[op_id]["responses"][str(status)])

    assert codes("read_selection", 404) == ["selection_not_found"]
    assert codes("read_candidate", 404) == ["candidate_not_found"]
    assert codes("list_selections", 401) == ["invalid_token", "not_authenticated"]
    assert "404" not in ops["list_selections"]["responses"]
    assert "409" not in ops["read_selection"]["responses"]
    assert codes("list_selections", 422) == ["invalid_cursor", "validation_error"]
    assert "invalid_cursor" not in codes("create_selection", 422)
    assert "invalid_idempotency_key" in codes("create_selection", 422)
    # an action: its guards' refusals and the engine's, not another action's
    publish = codes("selection_publish", 409)
    assert {"job_description_incomplete", "action_not_allowed_in_state"} <= set(publish)
    assert "publicity_not_ended" not in publish
    assert "publicity_not_ended" in codes("selection_close_nominations", 409)
    assert "reason_required" in codes("selection_cancel", 422)
    assert "reason_required" not in codes("selection_publish", 422)
    assert "428" in ops["selection_publish"]["responses"]
    assert codes("login", 429) == ["too_many_attempts"]
    assert codes("login", 401) == ["invalid_credentials"]
    assert codes("refresh", 401) == ["invalid_refresh_token", "refresh_token_reused"]


def test_the_codes_declared_are_those_of_the_problem_code_enum():
    from service.openapi import codes

    doc = app.openapi()
    declared = set()
    for ops in doc["paths"].values():
        for op in ops.values():
            for status, resp in op["responses"].items():
                if int(status) >= 400:
                    declared |= set(_problem_codes(doc, resp))
    outside = {code for _status, code in codes.OUTSIDE_OPERATIONS}
    every = set(doc["components"]["schemas"]["ProblemCode"]["enum"])
    # the codes of the enum are those some operation answers, those answered outside every
    # operation, and those only carried in a body (a batch's item that failed alone)
    assert every - declared - outside == {"exception_not_for_a_fail"}
    assert declared | outside <= every
    # and every code written anywhere in the service is one of them
    assert {code for _status, code in codes.written_codes()} <= every


def test_operation_ids_are_unique_and_stable():
    ids = [op["operationId"] for ops in app.openapi()["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "selection_publish" in ids and "create_selection" in ids


# Objects whose keys the service does not fix, each with why; any other object in the document
# names its properties (or the type of its values).
FREE_FORM = {
    "ActionOption.refusal_details": "the facts behind a refusal, which differ per refusal code",
    "Problem.details": "the facts behind a refusal, which differ per problem code",
    "ActionOption.params_schema": "a JSON Schema document (the action's params)",
    "TransitionInfo.params_schema": "a JSON Schema document (the action's params)",
    "EventPublic.params": "what the action recorded, as hashed into the record; the params of"
                          " each action are typed in the action's operation",
}


def _untyped(node, path):
    """Paths of object schemas that say nothing of their keys."""
    if isinstance(node, dict):
        if node.get("additionalProperties") is True or (
                node.get("type") == "object" and not {"properties", "additionalProperties",
                                                      "$ref", "oneOf", "anyOf", "allOf"} & set(node)):
            yield path
        for key, value in node.items():
            if key not in ("example", "examples"):
                yield from _untyped(value, path + [key])
    elif isinstance(node, list):
        for value in node:
            yield from _untyped(value, path)


# What makes a schema say what its value is; one with none of these is `unknown` to
# openapi-typescript and `Any` to openapi-python-client.
TYPED = {"type", "$ref", "anyOf", "oneOf", "allOf"}


def _value_schemas(node, path):
    """Each schema of a value under `node` (properties, items, values, branches)."""
    if not isinstance(node, dict):
        return
    yield path, node
    for name, value in (node.get("properties") or {}).items():
        yield from _value_schemas(value, [*path, name])
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _value_schemas(node[key], [*path, key])
    for key in ("anyOf", "oneOf", "allOf"):
        for i, value in enumerate(node.get(key) or []):
            yield from _value_schemas(value, [*path, key, str(i)])


def test_every_value_in_the_document_has_a_type():
    doc = app.openapi()
    untyped = []
    for name, schema in doc["components"]["schemas"].items():
        for path, node in _value_schemas(schema, [name]):
            branch = len(path) >= 2 and path[-2] in ("anyOf", "oneOf", "allOf")
            # a branch of a combination may only add constraints to the typed whole; a
            # property it names must still say its type (an enum without one is `unknown`)
            if not TYPED & set(node) and not (branch and "properties" in node or
                                              branch and "required" in node):
                untyped.append(".".join(path))
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                if not TYPED & set(p["schema"]):
                    untyped.append(f"{method} {path} {p['name']}")
            for status, resp in op["responses"].items():
                for media, content in resp.get("content", {}).items():
                    if not TYPED & set(content.get("schema", {})):
                        untyped.append(f"{method} {path} {status} {media}")
    assert untyped == []


def test_every_object_in_the_document_is_typed():
    doc = app.openapi()
    found = set()
    for name, schema in doc["components"]["schemas"].items():
        for path in _untyped(schema, [name]):
            if "oneOf" in path:  # a constraint beside the typed properties (UserCreate)
                continue
            props = [p for p in path[1:] if p not in ("properties", "anyOf", "items")]
            found.add(".".join([path[0], *props[:1]]))
    assert found == set(FREE_FORM), found ^ set(FREE_FORM)
    for path, op in ((p, o) for p, ops in doc["paths"].items() for o in ops.values()):
        for resp in op["responses"].values():
            for media in resp.get("content", {}).values():
                assert list(_untyped(media.get("schema", {}), [])) == [], path


def _ref(schema: dict) -> str | None:
    for option in schema.get("anyOf", [schema]):
        target = option.get("items", option).get("$ref")
        if target:
            return target.rsplit("/", 1)[1]
    return None


def test_states_actions_roles_outcomes_and_codes_are_enums():
    schemas = app.openapi()["components"]["schemas"]
    assert _ref(schemas["SelectionPublic"]["properties"]["state"]) == "SelectionState"
    assert _ref(schemas["CandidatePublic"]["properties"]["state"]) == "CandidateState"
    assert _ref(schemas["ObjectionPublic"]["properties"]["state"]) == "ObjectionState"
    assert _ref(schemas["UserPublic"]["properties"]["roles"]) == "Role"
    assert _ref(schemas["ActionOption"]["properties"]["action"]) == "WorkflowAction"
    assert _ref(schemas["NotificationPublic"]["properties"]["outcome"]) == "OutcomeName"
    assert _ref(schemas["Problem"]["properties"]["code"]) == "ProblemCode"
    assert schemas["SelectionState"]["enum"] == [
        "drafting", "publicizing", "reviewing", "deciding", "following_up", "closed", "cancelled"]
    assert {"publicity_not_ended", "action_not_allowed_in_state", "candidate_not_found",
            "validation_error", "precondition_failed", "too_many_attempts",
            "invalid_idempotency_key"} <= set(schemas["ProblemCode"]["enum"])


def test_a_refused_action_answers_a_code_its_operation_lists(client, admin, make_selection):
    sel = make_selection()
    doc = app.openapi()
    op = doc["paths"]["/api/v1/selections/{selection_id}/actions/close_nominations"]["post"]
    r = client.post(f"/api/v1/selections/{sel['id']}/actions/close_nominations", headers=admin)
    assert r.status_code == 409
    assert r.json()["code"] == "action_not_allowed_in_state"
    assert r.json()["code"] in _problem_codes(doc, op["responses"]["409"])
    assert "publicity_not_ended" in _problem_codes(doc, op["responses"]["409"])
    assert r.json()["code"] in doc["components"]["schemas"]["ProblemCode"]["enum"]


def test_each_action_is_its_own_operation_with_typed_params():
    doc = app.openapi()
    schemas = doc["components"]["schemas"]
    ops = {o["operationId"]: o for ops in doc["paths"].values() for o in ops.values()}
    publish = ops["selection_publish"]
    body = publish["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    request = schemas[body.rsplit("/", 1)[1]]
    assert request["additionalProperties"] is False
    assert request["properties"]["params"] == {"$ref": "#/components/schemas/PublishParams"}
    assert schemas["PublishParams"]["additionalProperties"] is False
    cancel = schemas["SelectionCancelRequest"]
    assert cancel["required"] == ["reason"]
    assert "ETag" in publish["responses"]["200"]["headers"]
    assert {p["name"] for p in publish["parameters"]} >= {"If-Match", "Idempotency-Key",
                                                         "Accept-Language"}
    assert not any("{action}" in path for path in doc["paths"])


def test_request_fields_with_defaults_are_optional_for_generators():
    schemas = app.openapi()["components"]["schemas"]
    # openapi-typescript reads a `default` as a field always present; none is left where a
    # request reaches, and the field is not required.
    for name in ("LoginForm", "JobDescription", "SelectionCreate", "SelectionSettings"):
        for prop, schema in schemas[name]["properties"].items():
            assert "default" not in schema, (name, prop)
    assert "scope" not in schemas["LoginForm"].get("required", [])
    assert schemas["JobDescription"]["required"] == ["duties"]
    assert "(left out: `\"\"`)" in schemas["JobDescription"]["properties"]["experience"][
        "description"]


def test_response_headers_and_statuses_are_declared():
    doc = app.openapi()
    create = doc["paths"]["/api/v1/selections"]["post"]
    assert {"ETag", "Location", "X-Request-ID", "Idempotent-Replayed"} <= set(
        create["responses"]["201"]["headers"])
    assert {"413", "422", "503"} <= set(create["responses"])
    login = doc["paths"]["/api/v1/auth/token"]["post"]
    assert "Retry-After" in login["responses"]["429"]["headers"]
    csv = doc["paths"]["/api/v1/selections/{selection_id}/candidates.csv"]["get"]
    assert "Content-Disposition" in csv["responses"]["200"]["headers"]
    assert "Allow" in doc["components"]["responses"]["MethodNotAllowed"]["headers"]
