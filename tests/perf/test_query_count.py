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
    from datetime import timedelta

    from sqlalchemy import update

    from service.core.clock import real_clock
    from service.core.db import open_session
    from service.selection.models import Selection

    def publicize(ids):
        with open_session(write=True) as s:
            s.exec(update(Selection).where(Selection.id.in_(ids)).values(
                state="publicizing", publicity_start_on=real_clock().today(),
                publicity_end_on=real_clock().today() + timedelta(days=7)))
            s.commit()

    publicize([uuid.UUID(make_selection()["id"])])
    few = _statements(client, "/api/v1/public/selections?limit=50", {})
    publicize([uuid.UUID(make_selection()["id"]) for _ in range(19)])
    many = _statements(client, "/api/v1/public/selections?limit=50", {})
    assert many == few, f"{few} statements for 1 selection, {many} for 20"


# ---------------------------------------------------------------- writes: statements per request
# The statements of one action and of one score sheet, named: one more (the panel read twice,
# the subscriptions looked up before the outbox row, the selection or the caller read apart
# from the locked candidate) fails here. The suite runs in development mode, which asks for
# the simulated clock on every write; production mode does not (one statement fewer). BEGIN/COMMIT are left out: drivers differ in whether they
# pass through the cursor.
def _written(client, method: str, path: str, headers: dict, body: dict) -> list[str]:
    with request_statements() as (mark, seen):
        r = client.request(method, path, headers={**headers, **mark}, json=body)
    assert r.status_code < 300, r.text
    return [s for s in seen if s.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK")]


def _names(statements: list[str]) -> list[str]:
    return [" ".join(s.split()[:4])[:60] for s in statements]


def test_a_candidate_action_makes_six_statements(client, admin, make_selection,
                                                 make_candidate):
    """Withdrawing a candidate, with a webhook subscription wanting it: the candidate locked
    with its selection and the caller's account, the clock, the update, the chain's head, the
    event, the outbox rows (found and written in one statement)."""
    r = client.post("/api/v1/webhooks", headers=admin, json={
        "url": "http://127.0.0.1:9/hook", "event_types": ["candidate.state_changed"]})
    assert r.status_code == 201, r.text
    from sqlalchemy import update

    from service.core.db import open_session
    from service.selection.models import Selection

    sel = uuid.UUID(make_selection()["id"])
    with open_session(write=True) as s:  # a selection under review, whose candidates withdraw
        s.exec(update(Selection).where(Selection.id == sel).values(state="reviewing"))
        s.commit()
    first, second = (make_candidate(sel, recorded=True, full_name=n) for n in ("张三", "李四"))
    path = "/api/v1/candidates/{}/actions/withdraw"
    body = {"reason": "个人原因"}
    _written(client, "POST", path.format(first), admin, body)  # warm
    seen = _written(client, "POST", path.format(second), admin, body)
    assert len(seen) == 6, "\n".join(_names(seen))
    assert sum("webhook_subscription" in s for s in seen) == 1, "\n".join(_names(seen))

    from sqlmodel import select

    from service.record.models import Event
    from service.webhooks.models import WebhookDelivery
    with open_session() as s:  # each withdrawal's outbox row is there, for its event
        rows = s.exec(select(WebhookDelivery.event_type, WebhookDelivery.payload).join(
            Event, Event.id == WebhookDelivery.event_id).where(Event.action == "withdraw")).all()
    assert sorted((t, p["data"]["candidate_id"]) for t, p in rows) == sorted(
        ("candidate.state_changed", str(c)) for c in (first, second))
    assert all(p["data"]["to_state"] == "withdrawn" for _, p in rows)


def test_a_score_sheet_makes_nine_statements_and_reads_the_panel_once(
        client, admin, make_user, login, make_selection, make_candidate):
    """A judge's sheet, a first one or one that supersedes it: the candidate locked with its
    selection and the caller's account, the panel (once, though who may see the candidate,
    who may score and whether every sheet is in all ask it), the clock, the judges'
    declarations on the candidate with their sheets' latest versions (one statement), the
    interview session on record (the draw and the candidate's segments, for when the sheet
    came), the sheet, the candidate's version, the chain's head, the event."""
    from tests.review.test_review import SCORES, Story

    story = Story(client, admin, make_user, login, make_selection, make_candidate)
    story.reviewing().prereview().appoint_panel().declare_all()
    path = "/api/v1/candidates/{}/score-sheets"
    judge = story.judges[1][1]
    _written(client, "POST", path.format(story.c["li"]), judge,
             {"scores": SCORES["li"][1], "comment": "好"})  # warm
    seen = _written(client, "POST", path.format(story.c["wang"]), judge,
                    {"scores": SCORES["wang"][1], "comment": "好"})
    assert len(seen) == 9, "\n".join(_names(seen))
    assert sum("panel_member" in s for s in seen) == 1, "\n".join(_names(seen))
    again = _written(client, "POST", path.format(story.c["wang"]), judge,
                     {"scores": SCORES["wang"][1], "comment": "复核", "supersede_reason": "笔误"})
    assert len(again) == 9, "\n".join(_names(again))
    assert sum("panel_member" in s for s in again) == 1, "\n".join(_names(again))
