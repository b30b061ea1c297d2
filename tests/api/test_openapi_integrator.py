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
        ("EventPublic", "action"): "RecordAction",
        ("EventPublic", "subject_type"): "SubjectType",
        ("WebhookData", "action"): "RecordAction",
        ("WebhookData", "subject_type"): "SubjectType",
        ("BrokenLinkPublic", "subject_type"): "SubjectType",
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


def test_an_events_action_and_subject_type_are_the_closed_sets_the_service_writes():
    from service.record import service as record
    from service.workflow import MACHINES
    from tests.core.test_catalogue import _recorded_actions_in_source

    actions = _component("RecordAction")["enum"]
    # every workflow action, and every other action the code writes to the record
    assert {t.action for m in MACHINES for t in m.transitions} <= set(actions)
    assert _recorded_actions_in_source() <= set(actions)
    assert len(actions) == len(set(actions))
    assert set(_component("SubjectType")["enum"]) == record.SUBJECT_TYPES == {
        "selection", "candidate", "objection", "user", "calendar", "clock", "template",
        "webhook"}


def test_the_record_takes_no_subject_type_the_document_does_not_list():
    import uuid

    import pytest

    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.record import service as record

    with open_session(write=True) as s, pytest.raises(ValueError, match="registered"):
        record.append(s, subject_type="meeting", subject_id=uuid.uuid4(), selection_id=None,
                      action="set_clock", author=record.SYSTEM, clock=real_clock())
