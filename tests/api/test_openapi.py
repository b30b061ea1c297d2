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


def test_every_error_response_is_problem_json_with_the_problem_schema():
    doc = app.openapi()
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            assert op.get("operationId"), (method, path)
            assert op.get("tags"), (method, path)
            for status, resp in op["responses"].items():
                if int(status) >= 400:
                    assert list(resp["content"]) == ["application/problem+json"], (path, status)
                    assert resp["content"]["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }


def test_operation_ids_are_unique_and_stable():
    ids = [op["operationId"] for ops in app.openapi()["paths"].values() for op in ops.values()]
    assert len(ids) == len(set(ids))
    assert "selection_publish" in ids and "create_selection" in ids
