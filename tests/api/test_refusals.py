"""Input at the edges of what the service can represent, and input the document refuses:
each gets a problem with a stable code, never a 500 (issue 14, points 7 and 8)."""

from __future__ import annotations

import pytest

CLOCK = "/api/v1/admin/clock"


@pytest.mark.parametrize(("body", "field"), [
    ({"at": "9999-12-31T23:59:59-14:00"}, "body.at"),  # year 10000 in UTC
    ({"at": "0001-01-01T00:00:00+14:00"}, "body.at"),  # year 0 in UTC
    ({"day": "9999-12-31"}, "body.day"),
    ({"day": "1969-12-31"}, "body.day"),
])
def test_the_clock_is_not_set_outside_its_range(client, admin, body, field):
    r = client.put(CLOCK, headers=admin, json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] == "clock_out_of_range"
    assert r.json()["errors"][0]["field"] == field
    assert client.get(CLOCK, headers=admin).json()["simulated"] is False


def test_the_clock_is_not_advanced_past_its_range(client, admin):
    r = client.put(CLOCK, headers=admin, json={"day": "8999-06-30"})
    assert r.status_code == 200, r.text
    for _ in range(3):  # 3 x 3660 days: past 9000-01-01 on the first step already
        r = client.post(f"{CLOCK}/advance", headers=admin, json={"days": 3660})
        assert r.status_code == 422, r.text
        assert r.json()["code"] == "clock_out_of_range"
    assert client.get(CLOCK, headers=admin).json()["today"] == "8999-06-30"
    r = client.post(f"{CLOCK}/advance", headers=admin, json={"days": 100})
    assert r.status_code == 200, r.text
    client.delete(CLOCK, headers=admin)


@pytest.mark.parametrize("grant_type", ["", "client_credentials", "Password", "password "])
def test_a_grant_type_other_than_password_is_refused(client, admin, grant_type):
    """OAuth2's password flow: `grant_type` is `password` or left out; an empty one (which
    FastAPI reads as left out) is refused like any other."""
    r = client.post("/api/v1/auth/token", data={
        "grant_type": grant_type, "username": "admin", "password": "whatever-2026"})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "validation_error"
    assert r.json()["errors"][0]["field"] == "body.grant_type"


def test_grant_type_password_or_none_reaches_the_login(client):
    for data in ({"grant_type": "password"}, {}):
        r = client.post("/api/v1/auth/token", data={
            **data, "username": "nobody", "password": "whatever-2026"})
        assert r.status_code == 401, r.text
        assert r.json()["code"] == "invalid_credentials"
