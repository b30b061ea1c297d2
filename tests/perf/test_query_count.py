"""No N+1: the number of SQL statements a read makes does not grow with the rows it shows.

Each test builds the same resource twice, once small and once large (more events, more
nominations, more candidates), and counts the statements one request sends through the
app's engine on behalf of that request (`tests.conftest.request_statements`). The counts
must be equal.
"""

from __future__ import annotations

import uuid

import pytest

from tests.statements import request_statements


def _statements(client, path: str, headers: dict) -> int:
    client.get(path, headers=headers)  # warm: first-request caches are not the point
    with request_statements() as (mark, seen):
        r = client.get(path, headers={**headers, **mark})
    assert r.status_code == 200, r.text
    return len(seen)


def _grow(candidate_id: uuid.UUID, selection_id: uuid.UUID, *, events: int,
          nominations: int) -> None:
    """Give a candidate this many events in its record and nominations."""
    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.nomination.models import Nomination
    from service.record import service as record

    with open_session(write=True) as s:
        for i in range(events):
            record.append(s, subject_type="candidate", subject_id=candidate_id,
                          selection_id=selection_id, action="record_communication",
                          author=record.SYSTEM, clock=real_clock(), from_state="applicant",
                          to_state="applicant", params={"n": i})
        for i in range(nominations):
            s.add(Nomination(selection_id=selection_id, candidate_id=candidate_id,
                             kind="party_organization", body_name=f"党委{i}"))
        s.commit()


@pytest.fixture
def two_candidates(make_selection, make_candidate):
    """A selection with a candidate of 1 event and 1 nomination, and one of 40 and 12."""
    sel = uuid.UUID(make_selection()["id"])
    small, large = make_candidate(sel), make_candidate(sel, full_name="李四")
    _grow(small, sel, events=1, nominations=1)
    _grow(large, sel, events=40, nominations=12)
    return sel, small, large


@pytest.mark.parametrize("suffix", ["", "/events", "/actions"])
def test_reading_a_candidate_does_not_grow_with_events_or_nominations(
        client, admin, two_candidates, suffix):
    """GET a candidate, its record, its actions: the same statements for 1 or 40 events."""
    _, small, large = two_candidates
    few = _statements(client, f"/api/v1/candidates/{small}{suffix}", admin)
    many = _statements(client, f"/api/v1/candidates/{large}{suffix}", admin)
    assert many == few, f"{suffix or 'detail'}: {few} statements with 1 event, {many} with 40"


def test_listing_candidates_does_not_grow_with_candidates_or_nominations(
        client, admin, make_selection, make_candidate):
    """A page of candidates with their nominations: the same statements for 1 or 30 rows."""
    one, thirty = (uuid.UUID(make_selection()["id"]) for _ in range(2))
    _grow(make_candidate(one), one, events=0, nominations=1)
    for i in range(30):
        _grow(make_candidate(thirty, full_name=f"张{i}"), thirty, events=0, nominations=3)
    path = "/api/v1/selections/{}/candidates?state=applicant&limit=50"
    few = _statements(client, path.format(one), admin)
    many = _statements(client, path.format(thirty), admin)
    assert many == few, f"{few} statements for 1 candidate, {many} for 30 with 3 nominations"


def test_public_announcements_do_not_grow_with_selections(client, admin, make_selection):
    """The public list: the same statements for 1 or 20 publicized selections."""
    from datetime import date, timedelta

    from sqlalchemy import update

    from service.core.db import open_session
    from service.selection.models import Selection

    def publicize(ids):
        with open_session(write=True) as s:
            s.exec(update(Selection).where(Selection.id.in_(ids)).values(
                state="publicizing", publicity_start_on=date.today(),
                publicity_end_on=date.today() + timedelta(days=7)))
            s.commit()

    publicize([uuid.UUID(make_selection()["id"])])
    few = _statements(client, "/api/v1/public/selections?limit=50", {})
    publicize([uuid.UUID(make_selection()["id"]) for _ in range(19)])
    many = _statements(client, "/api/v1/public/selections?limit=50", {})
    assert many == few, f"{few} statements for 1 selection, {many} for 20"
