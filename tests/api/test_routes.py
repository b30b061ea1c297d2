"""The routes are matched one by one, in the order the app includes them (service/main.py):
that order may put the busiest first only because no two routes answer the same request."""

import re

from service.main import create_app

METHODS = ("get", "put", "post", "patch", "delete")


def _segments(path: str) -> list[str]:
    return path.strip("/").split("/")


def _overlap(a: str, b: str) -> bool:
    """Whether some URL matches both templates (a `{param}` is one segment)."""
    sa, sb = _segments(a), _segments(b)
    return len(sa) == len(sb) and all(
        x == y or x.startswith("{") or y.startswith("{") for x, y in zip(sa, sb, strict=True))


def test_no_two_routes_answer_the_same_request():
    paths = create_app().openapi()["paths"]
    assert not [p for p in paths if re.search(r"\{[^}]*:path\}", p)]  # no multi-segment params
    ops = [(method, path) for path, item in paths.items() for method in item if method in METHODS]
    clashes = [(m, p, q) for i, (m, p) in enumerate(ops) for n, q in ops[i + 1:]
               if m == n and p != q and _overlap(p, q)]
    assert clashes == []


def test_the_overlap_rule_sees_a_clash():
    assert _overlap("/api/v1/candidates/{candidate_id}", "/api/v1/candidates/export")
    assert not _overlap("/api/v1/candidates/{candidate_id}", "/api/v1/candidates/{id}/events")
