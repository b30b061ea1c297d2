"""The shared text types (service/core/schemas.py), as properties: what they accept is exactly
what their rule says, pydantic's Rust regex and Python's re (Schemathesis, the document's
readers) read their patterns alike, and the API refuses what they refuse, on both databases."""

from __future__ import annotations

import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from service.core.schemas import NO_NUL, NOT_BLANK, STRIPPED_SPACE, Stripped
from tests.conftest import SELECTION_BODY

# What str.strip() removes, and characters that look blank but are not stripped.
SPACES = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
TRICKY = [*SPACES, "\x00", "\x01", "\x7f", "\ufeff", "\u200b", "\u2060", "a", "中", "é", "\U0001f600"]
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=12) | st.text(max_size=12)

REQUIRED = TypeAdapter(Stripped(12, min_length=1))
OPTIONAL = TypeAdapter(Stripped(12))


def accepts(adapter: TypeAdapter, value: str) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


def test_the_stripped_class_is_exactly_what_strip_removes():
    space = re.compile(f"[{STRIPPED_SPACE}]")
    assert [c for c in map(chr, range(sys.maxunicode + 1)) if space.fullmatch(c)] == SPACES


@settings(max_examples=400, deadline=None)
@given(texts)
def test_a_required_text_holds_something_strip_keeps_and_no_nul(value):
    ok = bool(value.strip()) and "\x00" not in value and len(value) <= 12
    assert accepts(REQUIRED, value) == ok
    if ok:
        assert REQUIRED.validate_python(value) == value.strip() != ""
    # Python's re (what Schemathesis and most readers of the document use) agrees
    assert (re.search(NOT_BLANK, value) is not None) == (bool(value.strip())
                                                         and "\x00" not in value)


@settings(max_examples=400, deadline=None)
@given(texts)
def test_an_optional_text_is_anything_but_nul(value):
    ok = "\x00" not in value and len(value) <= 12
    assert accepts(OPTIONAL, value) == ok
    if ok:
        assert OPTIONAL.validate_python(value) == value.strip()
    assert (re.search(NO_NUL, value) is not None) == ("\x00" not in value)


BLANKS = ["\x1c", "\x1c\x1d\x1e\x1f", " \u3000\u2028", "\x85\xa0\t\n"]


@pytest.mark.parametrize("blank", BLANKS)
def test_blank_titles_and_duties_are_refused(client, admin, blank):
    """The report: `duties ["\\x1c"]` answered 500, and a title of them 201 with an empty title."""
    for body, field in [({**SELECTION_BODY, "title": blank}, "body.title"),
                        ({**SELECTION_BODY, "job_description": {
                            **SELECTION_BODY["job_description"], "duties": [blank]}},
                         "body.job_description.duties.0")]:
        r = client.post("/api/v1/selections", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["code"] == "validation_error"
        assert {"field": field, "type": "blank_text"} in [
            {"field": e["field"], "type": e["type"]} for e in r.json()["errors"]], r.json()


NUL_REQUESTS = [
    ("a title", "post", "/api/v1/selections", {"json": {**SELECTION_BODY, "title": "党\x00支部"}}),
    ("an organization", "post", "/api/v1/selections", {"json": {**SELECTION_BODY,
                                                         "organization": "机关\x00"}}),
    ("a search", "get", "/api/v1/selections", {"params": {"q": "党\x00"}}),
    ("an exact filter", "get", "/api/v1/selections", {"params": {"organization": "\x00"}}),
    ("a user's password", "post", "/api/v1/users", {"json": {
        "username": "nul01", "roles": ["judge"], "password": "passphrase\x00-2026"}}),
    ("a login", "post", "/api/v1/auth/token", {"data": {"username": "ad\x00min",
                                                        "password": "whatever-2026"}}),
]


@pytest.mark.parametrize(("what", "method", "url", "kw"), NUL_REQUESTS,
                         ids=[r[0] for r in NUL_REQUESTS])
def test_nul_is_refused_alike_on_every_database(client, admin, what, method, url, kw):
    """NUL is refused by validation, before any database sees it: a 422 naming the field."""
    r = getattr(client, method)(url, headers=admin, **kw)
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["type"] in ("nul_character", "blank_text"), r.json()


def test_the_database_refuses_nul_alike(client, admin):
    """Below validation, SQLite refuses NUL in text as PostgreSQL does (DataError, 422)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DataError

    from service.core.db import open_session

    with open_session() as s, pytest.raises(DataError):
        s.exec(text("SELECT :v"), params={"v": "a\x00b"})  # type: ignore[call-overload]
