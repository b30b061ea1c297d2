"""What a client generated from the document types: the nominator's body, If-None-Match, the
428's ETag and the closed sets of values the service answers."""

from service.main import app

REF = "#/components/schemas/"


def _component(name: str) -> dict:
    return app.openapi()["components"]["schemas"][name]


def _ref_in(prop: dict) -> str | None:
    for option in [prop, *prop.get("anyOf", [])]:
        if "$ref" in option:
            return option["$ref"].removeprefix(REF)
    return None


def test_both_forms_of_a_new_user_type_the_roles_and_the_nominating_body():
    nominator, other = _component("UserCreate")["allOf"][0]["oneOf"]
    assert nominator["properties"]["nominating_body"] == {"$ref": REF + "NominatingBodyRef"}
    assert other["properties"]["nominating_body"] == {"type": "null"}
    for branch in (nominator, other):
        roles = branch["properties"]["roles"]
        assert roles["type"] == "array" and roles["items"] == {"$ref": REF + "Role"}


def test_if_none_match_is_declared_wherever_304_can_come():
    with_304 = 0
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            names = {p["name"] for p in op.get("parameters", []) if p["in"] == "header"}
            if "304" in op["responses"]:
                with_304 += 1
                assert "If-None-Match" in names, (method, path)
            else:
                assert "If-None-Match" not in names, (method, path)
    assert with_304 >= 5


def test_a_428_declares_the_etag_it_sends():
    found = 0
    for path, ops in app.openapi()["paths"].items():
        for method, op in ops.items():
            if "428" in op["responses"]:
                found += 1
                assert "ETag" in op["responses"]["428"]["headers"], (method, path)
    assert found


def test_list_filters_on_state_are_the_machines_state_enums():
    paths = app.openapi()["paths"]
    for path, enum in (("/api/v1/selections", "SelectionState"),
                       ("/api/v1/selections/{selection_id}/candidates", "CandidateState")):
        state = next(p for p in paths[path]["get"]["parameters"] if p["name"] == "state")
        assert _ref_in(state["schema"]) == enum, path


def test_fields_with_known_values_are_enums():
    expected = {
        ("EventPublic", "actor_role"): "ActorRole",
        ("WebhookData", "actor_role"): "ActorRole",
        ("ActionOption", "refusal_code"): "ProblemCode",
        ("NotificationPublic", "state"): "NotificationState",
        ("WebhookData", "kind"): "NominationKind",
        ("WebhookData", "outcome"): "OutcomeName",
        ("WebhookPayload", "type"): "WebhookMessageType",
    }
    for (component, field), enum in expected.items():
        assert _ref_in(_component(component)["properties"][field]) == enum, (component, field)
        assert _component(enum)["enum"], enum
    assert "system" in _component("ActorRole")["enum"]
    assert "webhook.ping" in _component("WebhookMessageType")["enum"]
    token_type = _component("Token")["properties"]["token_type"]
    assert token_type.get("enum", [token_type.get("const")]) == ["bearer"]
    roles = _component("WorkflowInfo")["properties"]["roles"]["items"]
    assert _component(roles["$ref"].removeprefix(REF))["properties"]["role"] == {
        "$ref": REF + "Role"}


def test_the_state_filter_accepts_a_state_and_refuses_another_word(client, admin):
    assert client.get("/api/v1/selections?state=drafting", headers=admin).status_code == 200
    r = client.get("/api/v1/selections?state=draft", headers=admin)
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
