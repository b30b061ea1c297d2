"""Chinese working days (工作日): the pure calculation, the working-days endpoint, and the
calendar overrides administrators enter (with their events in the record)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlmodel import select

from service.core.calendar import CalendarRangeError, working_period
from service.core.db import open_session
from service.record.models import Event

WD = "/api/v1/calendar/working-days"
OV = "/api/v1/calendar/overrides"
PROBLEM = "application/problem+json"


def _period(start: str, days: int = 5, *, counts_start_day: bool = False, overrides=None):
    return working_period(date.fromisoformat(start), days, counts_start_day=counts_start_day,
                          overrides=overrides or {})


def _calendar_events() -> list[Event]:
    with open_session() as s:
        return list(s.exec(select(Event).where(Event.subject_type == "calendar")
                           .order_by(Event.seq)))


def _assert_problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    if code is not None:
        assert body["code"] == code, body
    return body


# ---------------------------------------------------------------- the pure calculation
def test_national_day_holiday_is_skipped_and_the_make_up_saturday_counts():
    p = _period("2026-09-30")
    # 10-01..10-07 are off; counting starts 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, 调休 worked),
    # 10-12 (Mon), 10-13 (Tue).
    assert p.first_day == date(2026, 10, 8)
    assert p.end_on == date(2026, 10, 13)
    assert p.start_on == date(2026, 9, 30)
    assert p.working_days == 5
    assert p.warnings == []


def test_counting_the_start_day_ends_a_working_day_earlier():
    p = _period("2026-09-30", counts_start_day=True)
    assert p.first_day == date(2026, 9, 30)
    assert p.end_on == date(2026, 10, 12)
    assert p.warnings == []


def test_a_plain_week():
    # Monday 2026-03-09: counting from Tuesday, the fifth working day is the next Monday.
    p = _period("2026-03-09")
    assert (p.first_day, p.end_on) == (date(2026, 3, 10), date(2026, 3, 16))
    p = _period("2026-03-09", counts_start_day=True)
    assert (p.first_day, p.end_on) == (date(2026, 3, 9), date(2026, 3, 13))
    assert p.warnings == []


def test_a_weekend_start_day_is_not_counted_even_when_asked_to():
    # Saturday 2026-03-07 is not a working day, so day 1 is Monday 03-09.
    p = _period("2026-03-07", counts_start_day=True)
    assert (p.first_day, p.end_on) == (date(2026, 3, 9), date(2026, 3, 13))


def test_a_year_beyond_the_official_schedule_counts_weekends_only_and_warns():
    # Monday 2027-03-01: Tue..Fri, then Monday 03-08.
    p = _period("2027-03-01")
    assert (p.first_day, p.end_on) == (date(2027, 3, 2), date(2027, 3, 8))
    assert len(p.warnings) == 1
    assert "2027" in p.warnings[0]


def test_an_override_declaring_new_year_off_pushes_the_end_by_a_day():
    without = _period("2026-12-31")
    assert (without.first_day, without.end_on) == (date(2027, 1, 1), date(2027, 1, 7))
    with_off = _period("2026-12-31", overrides={date(2027, 1, 1): False})
    assert (with_off.first_day, with_off.end_on) == (date(2027, 1, 4), date(2027, 1, 8))
    assert with_off.warnings  # 2027 still counted from weekends


def test_an_override_declaring_a_saturday_worked_counts_it():
    p = _period("2027-03-01", overrides={date(2027, 3, 6): True})
    assert p.end_on == date(2027, 3, 6)


def test_an_override_wins_over_the_official_schedule():
    # Declaring the 调休 Saturday 2026-10-10 off moves the end from 10-13 to 10-14.
    p = _period("2026-09-30", overrides={date(2026, 10, 10): False})
    assert p.end_on == date(2026, 10, 14)
    assert p.warnings == []


def test_a_period_needs_at_least_one_day():
    with pytest.raises(CalendarRangeError):
        _period("2026-09-30", days=0)


# ---------------------------------------------------------------- the endpoint
def test_working_days_endpoint_answers_the_national_day_case(client, as_role):
    headers = as_role("nominator")  # any logged-in user may ask
    r = client.get(WD, params={"start": "2026-09-30", "days": 5}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["end_on"] == "2026-10-13"
    assert body["first_counted_day"] == "2026-10-08"
    assert body["start_on"] == "2026-09-30"
    assert body["working_days"] == 5
    assert body["counts_start_day"] is False
    assert body["warnings"] == []
    r = client.get(WD, params={"start": "2026-09-30", "days": 5, "counts_start_day": True},
                   headers=headers)
    assert r.json()["end_on"] == "2026-10-12"


def test_working_days_endpoint_warns_for_a_year_it_does_not_know(client, admin):
    r = client.get(WD, params={"start": "2027-03-01", "days": 5}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["end_on"] == "2027-03-08"
    assert r.json()["warnings"] and "2027" in r.json()["warnings"][0]


def test_working_days_endpoint_needs_a_login(client):
    r = client.get(WD, params={"start": "2026-09-30", "days": 5})
    _assert_problem(r, 401)


@pytest.mark.parametrize("params", [
    {"start": "2026-09-30", "days": 0},
    {"start": "2026-09-30", "days": 61},
    {"start": "not-a-date", "days": 5},
    {"days": 5},
])
def test_working_days_endpoint_refuses_bad_input(client, admin, params):
    _assert_problem(client.get(WD, params=params, headers=admin), 422, "validation_error")


# ---------------------------------------------------------------- overrides
def test_override_changes_the_answer_is_listed_and_can_be_removed(client, admin):
    ask = {"start": "2026-12-31", "days": 5}
    assert client.get(WD, params=ask, headers=admin).json()["end_on"] == "2027-01-07"

    r = client.put(f"{OV}/2027-01-01", json={"workday": False, "note": "元旦"}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["day"] == "2027-01-01"
    assert r.json()["workday"] is False
    assert r.json()["note"] == "元旦"

    assert client.get(WD, params=ask, headers=admin).json()["end_on"] == "2027-01-08"

    listed = client.get(OV, headers=admin)
    assert listed.status_code == 200
    assert [(o["day"], o["workday"], o["note"]) for o in listed.json()] == [
        ("2027-01-01", False, "元旦")]
    assert [o["day"] for o in client.get(OV, params={"year": 2027}, headers=admin).json()] == [
        "2027-01-01"]
    assert client.get(OV, params={"year": 2026}, headers=admin).json() == []

    r = client.delete(f"{OV}/2027-01-01", headers=admin)
    assert r.status_code == 204, r.text
    assert client.get(OV, headers=admin).json() == []
    assert client.get(WD, params=ask, headers=admin).json()["end_on"] == "2027-01-07"

    _assert_problem(client.delete(f"{OV}/2027-01-01", headers=admin), 404, "override_not_found")


def test_a_make_up_saturday_override_counts_through_the_api(client, admin):
    ask = {"start": "2027-03-01", "days": 5}
    r = client.put(f"{OV}/2027-03-06", json={"workday": True, "note": "调休上班"}, headers=admin)
    assert r.status_code == 200, r.text
    assert client.get(WD, params=ask, headers=admin).json()["end_on"] == "2027-03-06"


def test_putting_an_override_again_replaces_it(client, admin):
    client.put(f"{OV}/2027-01-01", json={"workday": False, "note": "元旦"}, headers=admin)
    r = client.put(f"{OV}/2027-01-01", json={"workday": True, "note": "改为上班"}, headers=admin)
    assert r.status_code == 200, r.text
    listed = client.get(OV, headers=admin).json()
    assert [(o["day"], o["workday"], o["note"]) for o in listed] == [
        ("2027-01-01", True, "改为上班")]
    events = _calendar_events()
    assert [e.action for e in events] == ["set_override", "set_override"]
    assert events[1].params["before"] == {"workday": False, "note": "元旦"}


def test_only_admins_change_overrides(client, admin, as_role):
    for role in ("nominator", "judge", "candidate"):
        headers = as_role(role)
        _assert_problem(client.put(f"{OV}/2027-01-01", json={"workday": False},
                                   headers=headers), 403)
        # a non-admin may still read them
        assert client.get(OV, headers=headers).status_code == 200
    client.put(f"{OV}/2027-01-01", json={"workday": False}, headers=admin)
    _assert_problem(client.delete(f"{OV}/2027-01-01", headers=as_role("nominator")), 403)
    assert [o["day"] for o in client.get(OV, headers=admin).json()] == ["2027-01-01"]
    _assert_problem(client.get(OV), 401)
    _assert_problem(client.put(f"{OV}/2027-01-01", json={"workday": False}), 401)


@pytest.mark.parametrize("body", [{}, {"workday": "maybe"}, {"workday": False, "x": 1},
                                  {"workday": False, "note": "x" * 201}])
def test_override_refuses_bad_input(client, admin, body):
    _assert_problem(client.put(f"{OV}/2027-01-01", json=body, headers=admin), 422)
    assert client.get(OV, headers=admin).json() == []
    assert _calendar_events() == []


def test_override_changes_are_in_the_record(client, admin, as_role):
    me = client.get("/api/v1/auth/me", headers=admin).json()["id"]
    client.put(f"{OV}/2027-01-01", json={"workday": False, "note": "元旦"}, headers=admin)
    client.delete(f"{OV}/2027-01-01", headers=admin)
    # refusals write nothing
    client.put(f"{OV}/2027-01-02", json={"workday": False}, headers=as_role("nominator"))
    client.delete(f"{OV}/2027-01-03", headers=admin)

    events = _calendar_events()
    assert [e.action for e in events] == ["set_override", "remove_override"]
    assert [e.seq for e in events] == [1, 2]
    assert events[1].prev_hash == events[0].hash
    assert all(str(e.actor_id) == me and e.actor_role == "admin" for e in events)
    assert events[0].params == {"day": "2027-01-01", "workday": False, "note": "元旦",
                                "before": None}
    assert events[1].params == {"day": "2027-01-01", "workday": False, "note": "元旦"}


# ---------------------------------------------------------------- warnings where a period is used
def test_a_publicity_in_a_year_without_the_official_schedule_warns_in_every_answer(
        client, admin, make_selection):
    """Published on 2027-12-24 for 5 working days: the days run through 2027 and 2028, which
    the official schedule does not cover. The publish answer says so, in the reader's
    language, and so do later reads of the selection; the event records the years."""
    assert client.put("/api/v1/admin/clock", json={"day": "2027-12-24"},
                      headers=admin).status_code == 200
    sel = make_selection()
    assert sel["warnings"] == []
    r = client.post(f"/api/v1/selections/{sel['id']}/actions/publish",
                    json={"params": {"start_on": "2027-12-24"}}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json()["publicity_end_on"] == "2027-12-31"
    (warning,) = r.json()["warnings"]
    assert "2027" in warning and "2028" not in warning and "国务院节假日安排" in warning
    read = client.get(f"/api/v1/selections/{sel['id']}",
                      headers={**admin, "Accept-Language": "en"}).json()
    (warning_en,) = read["warnings"]
    assert "2027" in warning_en and "official holiday schedule" in warning_en
    listed = client.get("/api/v1/selections", headers=admin).json()["items"]
    assert [s["warnings"] for s in listed] == [[warning]]
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.action == "publish")).one()
    assert ev.params["calendar_fallback_years"] == [2027]


def test_a_publicity_within_the_official_schedule_carries_no_warning(client, admin,
                                                                    make_selection):
    assert client.put("/api/v1/admin/clock", json={"day": "2026-09-30"},
                      headers=admin).status_code == 200
    sel = make_selection()
    r = client.post(f"/api/v1/selections/{sel['id']}/actions/publish",
                    json={"params": {"start_on": "2026-09-30"}}, headers=admin)
    assert r.status_code == 200, r.text
    assert (r.json()["publicity_end_on"], r.json()["warnings"]) == ("2026-10-13", [])
    with open_session() as s:
        ev = s.exec(select(Event).where(Event.action == "publish")).one()
    assert ev.params["calendar_fallback_years"] == []
