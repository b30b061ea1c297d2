"""Every cursor-paginated list of the document, walked with hostile cursors: each is refused
with 422 `invalid_cursor` (never a 500, never reaching the database), and the document's own
example cursor, as well as a cursor the list issued, is accepted."""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path

import pytest

from service.core.db import open_session
from service.followup.models import Objection

DOCUMENT = json.loads((Path(__file__).resolve().parents[2] / "openapi" / "openapi.json")
                      .read_text())
LISTS = [(path, op) for path, ops in DOCUMENT["paths"].items() for method, op in ops.items()
         if method == "get" and any(p["name"] == "cursor" for p in op.get("parameters", []))]
ID = "5b0c2f6a-1d2e-4f3a-8b4c-5d6e7f8a9b0c"


def cursor_of(value) -> str:
    """A cursor as this service encodes one, holding any JSON value."""
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


HOSTILE = {
    # times whose UTC form is outside years 1-9999 (or not times at all)
    "time past 9999": ["9999-12-31T23:59:59-14:00", ID],
    "time before year 1": ["0001-01-01T00:00:00+14:00", ID],
    "naive time": ["2026-09-30T01:00:00", ID],
    "time a number": [1790762400, ID],
    "uuid a number": ["2026-09-30T01:00:00+00:00", 5],
    "uuid not one": ["2026-09-30T01:00:00+00:00", "5b0c2f6a"],
    # integers beyond SQLite's and PostgreSQL's 64 bits
    "2**63": [2**63],
    "2**31 (seq is 32 bits)": [2**31],
    "-2**63-1": [-(2**63) - 1],
    "10**400 (too long)": [10**400],
    "1e400": json.loads("[1e400]"),
    "boolean": [True],
    "float": [1.5],
    "null": [None],
    "NUL text": ["\x00"],
    "wrong length": [1, 2, 3],
    "empty list": [],
    "not a list": {"seq": 1},
    "nested": [[[[[[[[[[1]]]]]]]]]],
    "not JSON": b"\xff\xfe not json",
    "not base64": "%%%",
}


# A delivery's id is text (`msg_…`, the `webhook-id` receivers see), so any text is a key there.
NOT_HOSTILE = {"list_webhook_deliveries": {"uuid not one"}}


@pytest.fixture
def ids(client, admin, make_selection, make_candidate) -> dict[str, str]:
    """One of each thing a list hangs under."""
    selection = make_selection()["id"]
    r = client.post(f"/api/v1/selections/{selection}/actions/publish", headers=admin,
                    json={"params": {"working_days": 5}})
    assert r.status_code == 200, r.text
    hook = client.post("/api/v1/webhooks", headers=admin, json={
        "url": "https://hr.example.cn/hooks/selection", "event_types": ["outcome.decided"]})
    assert hook.status_code == 201, hook.text
    candidate = make_candidate(selection)
    with open_session(write=True) as s:  # an objection as the public's form leaves it
        objection = Objection(candidate_id=candidate, selection_id=uuid.UUID(selection),
                              content="反映该同志群众基础一般")
        s.add(objection)
        s.commit()
        objection_id = str(objection.id)
    return {"selection_id": selection, "candidate_id": str(candidate),
            "webhook_id": hook.json()["id"], "objection_id": objection_id}


def test_every_list_is_walked():
    """The walk below covers the lists the document has (a new list is walked too)."""
    assert len(LISTS) >= 8


@pytest.mark.parametrize(("path", "op"), LISTS, ids=[op["operationId"] for _, op in LISTS])
def test_hostile_cursors_are_refused(client, admin, ids, path, op):
    url = path.format(**ids)
    for name, value in HOSTILE.items():
        if name in NOT_HOSTILE.get(op["operationId"], ()):
            continue
        cursor = value if isinstance(value, str) else cursor_of(value)
        r = client.get(url, headers=admin, params={"cursor": cursor})
        assert r.status_code == 422, (name, r.status_code, r.text)
        body = r.json()
        assert r.headers["content-type"] == "application/problem+json", name
        assert body["code"] == "invalid_cursor", (name, body)
        assert body["errors"][0]["field"] == "query.cursor", name


@pytest.mark.parametrize(("path", "op"), LISTS, ids=[op["operationId"] for _, op in LISTS])
def test_the_documented_example_cursor_is_accepted(client, admin, ids, path, op):
    param = next(p for p in op["parameters"] if p["name"] == "cursor")
    examples = param["schema"]["examples"]
    assert examples
    for example in examples:
        r = client.get(path.format(**ids), headers=admin, params={"cursor": example})
        assert r.status_code == 200, r.text


@pytest.mark.parametrize(("path", "op"), LISTS, ids=[op["operationId"] for _, op in LISTS])
def test_an_issued_cursor_is_accepted(client, admin, ids, path, op):
    url = path.format(**ids)
    first = client.get(url, headers=admin, params={"limit": 1})
    assert first.status_code == 200, first.text
    cursor = first.json()["next_cursor"]
    if cursor is None:  # a list of at most one item here: no second page to ask for
        return
    second = client.get(url, headers=admin, params={"limit": 1, "cursor": cursor})
    assert second.status_code == 200, second.text
    assert second.json()["items"] != first.json()["items"]


def test_a_cursor_far_in_range_is_a_page_not_an_error(client, admin, ids):
    """The ends of the range are real times: an empty page (or the first), not an error."""
    for moment in ("9999-12-31T23:59:59+00:00", "0001-01-01T00:00:00+00:00"):
        r = client.get("/api/v1/selections", headers=admin,
                       params={"cursor": cursor_of([moment, str(uuid.uuid4())])})
        assert r.status_code == 200, r.text
    for seq in (2**31 - 1, -(2**31)):  # the record's seq is an INTEGER (32 bits on PostgreSQL)
        r = client.get(f"/api/v1/selections/{ids['selection_id']}/events", headers=admin,
                       params={"cursor": cursor_of([seq])})
        assert r.status_code == 200, r.text
