"""递补 (backfill): a post vacated after the decision (an appointment revoked, a trial ended
as unfit, an appointee withdrawn, not elected or not approved) is filled from this
selection's reserves by a committee meeting held during follow-up, with the decision
meeting's quorum and vote rules, in rank order unless a reason is recorded. The backfilled
appointee then has their own pre-appointment publicity, email and path to confirmation."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from sqlmodel import Session, select

from ..core import i18n
from ..core.clock import CHINA, Clock
from ..core.errors import Conflict, InvalidInput, NotFound, RuleRefused, refuse_future_date
from ..core.models import User, utcnow
from ..nomination.models import Candidate, ReserveEntry
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall
from ..record.models import Event
from ..review import service as review
from ..review.models import CommitteeMeeting
from ..selection import service as selections
from ..selection.models import Selection
from ..selection.schemas import post_name
from ..workflow import CANDIDATE_MACHINE
from ..workflow.roles import ADMIN
from .schemas import BackfillMeetingCreate

# The states an appointee leaves a post vacant in (出缺).
VACATING = ("revoked", "dismissed", "withdrawn", "not_elected", "not_approved")


def vacancy_of(call: ActionCall) -> dict[str, Any]:
    """What a vacating action records: the post it leaves vacant (the hook of a backfill)."""
    a = call.subject.appointment or {}
    if not a.get("post"):
        return {}
    return {"vacancy": {"post": a["post"], "proposed_post": a.get("proposed_post")}}


def _vacated(session: Session, selection: Selection) -> list[Candidate]:
    """The selection's appointees who left their post vacant, in the order they left it."""
    rows = session.exec(select(Candidate).where(
        Candidate.selection_id == selection.id,
        Candidate.state.in_(VACATING))  # type: ignore[attr-defined]
        .order_by(Candidate.updated_at, Candidate.id)).all()
    return [c for c in rows if (c.appointment or {}).get("post")]


def _refills(session: Session, selection: Selection) -> dict[str, uuid.UUID]:
    """Vacated appointee's id → the reserve who filled the place."""
    out = {}
    for c in session.exec(select(Candidate).where(Candidate.selection_id == selection.id)):
        b = (c.appointment or {}).get("backfill")
        if b:
            out[b["vacated_by"]] = c.id
    return out


def rank_order(session: Session, selection: Selection, code: str) -> list[uuid.UUID]:
    """This selection's reserves for the post, in the pool's order: best score first, then
    the selection's rank (its tie rule), the older entry, the id."""
    rows = session.exec(select(Candidate).join(
        ReserveEntry, ReserveEntry.candidate_id == Candidate.id).where(
        Candidate.selection_id == selection.id, Candidate.state == "reserve")
        .order_by(ReserveEntry.score.desc().nulls_last(),  # type: ignore[union-attr]
                  ReserveEntry.rank.nulls_last(),  # type: ignore[union-attr]
                  ReserveEntry.entered_on, ReserveEntry.id)).all()
    return [c.id for c in rows if code in selections.stood_for(selection, c.post_codes)]


def _vacancies_by_post(session: Session, selection: Selection) -> dict[str, dict[str, list]]:
    refills = _refills(session, selection)
    out: dict[str, dict[str, list]] = {c: {"vacated": [], "open": []}
                                       for c in selections.post_codes(selection)}
    for c in _vacated(session, selection):
        v = out.setdefault(c.appointment["post"], {"vacated": [], "open": []})
        v["vacated"].append(str(c.id))
        if str(c.id) not in refills:
            v["open"].append(str(c.id))
    return out


def facts(session: Session, candidate: Candidate) -> dict[str, Any]:
    """What the backfill guards read: the vacancies per post, the reserves' rank order per
    post, and the backfill meetings that decided on this candidate."""
    selection = session.get(Selection, candidate.selection_id)
    meetings = [str(m.id) for m in session.exec(select(CommitteeMeeting).where(
        CommitteeMeeting.selection_id == selection.id)) if any(
        d.get("outcome") == "backfilled" and d.get("candidate_id") == str(candidate.id)
        for d in m.decisions)]
    return {"candidate_id": str(candidate.id),
            "vacancies": _vacancies_by_post(session, selection),
            "backfill_order": {code: [str(i) for i in rank_order(session, selection, code)]
                               for code in selections.post_codes(selection)},
            "backfill_meetings": meetings}


def _vacating_event(session: Session, c: Candidate) -> tuple[uuid.UUID | None, date | None]:
    """The event that left the post vacant, and its day (the selection clock's, in China)."""
    ev = session.exec(select(Event).where(
        Event.subject_type == "candidate", Event.subject_id == c.id,
        Event.to_state == c.state, Event.from_state != Event.to_state)
        .order_by(Event.seq.desc())).first()  # type: ignore[attr-defined]
    if ev is None:
        return None, None
    return ev.id, (ev.simulated_at or ev.occurred_at).astimezone(CHINA).date()


def vacancies(session: Session, selection: Selection) -> list[dict[str, Any]]:
    """The selection's vacated posts, oldest first, each with its cause, the event that
    vacated it and its day, who refilled it, and the reserves' rank order for the post now."""
    refills = _refills(session, selection)
    out = []
    for c in _vacated(session, selection):
        ev, day = _vacating_event(session, c)
        out.append({"post": c.appointment["post"],
                    "proposed_post": c.appointment.get("proposed_post", ""),
                    "vacated_by": c.id, "vacated_by_name": c.full_name, "cause": c.state,
                    "cause_label": i18n.state_label(CANDIDATE_MACHINE, c.state),
                    "vacated_event_id": ev, "vacated_on": day,
                    "refilled_by": refills.get(str(c.id)),
                    "rank_order": rank_order(session, selection, c.appointment["post"])})
    return out


def _check_posts(session: Session, selection: Selection, held_on: date,
                 posts: list[str | None]) -> None:
    """Per post decided: no more backfills than its open vacancies, and the meeting not
    before the last of the vacancies it fills arose. (A post with no vacancy, or none open,
    is the `backfill` action's refusal: no_vacancy, post_refilled.)"""
    by_post = _vacancies_by_post(session, selection)
    for code in dict.fromkeys(p for p in posts if p is not None):
        n, v = posts.count(code), by_post.get(code) or {"vacated": [], "open": []}
        if not v["open"]:
            continue
        if n > len(v["open"]):
            raise RuleRefused("The post '{post}' has {open} vacancy(ies) to fill; the meeting"
                              " decides {n} backfills for it.", code="too_many_backfills",
                              details={"post": code, "open_vacancies": len(v["open"]),
                                       "decided": n},
                              params={"post": code, "open": len(v["open"]), "n": n})
        filled = [session.get(Candidate, uuid.UUID(i)) for i in v["open"][:n]]
        days = [d for d in (_vacating_event(session, c)[1] for c in filled) if d is not None]
        if days and held_on < max(days):
            arose = max(days)
            raise InvalidInput("The backfill meeting is dated {held_on}, before the post"
                               " '{post}' was vacated ({arose}).", code="held_before_vacancy",
                               details={"post": code, "held_on": held_on.isoformat(),
                                        "vacated_on": arose.isoformat()},
                               params={"held_on": held_on, "post": code, "arose": arose},
                               errors=[{"field": "body.held_on",
                                        "message": i18n._("before {day}", day=arose),
                                        "type": "held_before_vacancy"}])


def on_backfill(call: ActionCall, appoint) -> dict[str, Any]:
    """The reserve takes the vacated place: their own publicity (via `appoint`), the vacancy
    cited, the reserve's pool entry closed."""
    cand: Candidate = call.subject
    selection = call.session.get(Selection, cand.selection_id)
    code = call.params.post or selections.post_codes(selection)[0]  # the guard checked it
    vacated_by = _vacancies_by_post(call.session, selection)[code]["open"][0]
    left = call.session.get(Candidate, uuid.UUID(vacated_by))
    order = rank_order(call.session, selection, code)
    out = appoint(call, "backfilled")
    cand.appointment = {**cand.appointment, "backfill": {
        "vacated_by": vacated_by, "vacated_by_name": left.full_name, "cause": left.state}}
    entry = call.session.exec(select(ReserveEntry).where(
        ReserveEntry.candidate_id == cand.id)).first()
    if entry is not None:
        entry.backfilled_on = date.fromisoformat(cand.appointment["decided_on"])
        call.session.add(entry)
    return {**out, "appointment": cand.appointment,
            "vacancy": {"post": code, "vacated_by": vacated_by, "cause": left.state},
            "rank_order": [str(i) for i in order], "position": order.index(cand.id) + 1,
            "reserve_entry_id": entry.id if entry else None,
            "detail": i18n.said("Fills the post {post} left vacant by {name} ({candidate_state})",
                                post=post_name(selections.post_of(selection, code)),
                                name=left.full_name, candidate_state=left.state)}


def record_meeting(*, session: Session, selection: Selection, data: BackfillMeetingCreate,
                   user: User, clock: Clock) -> CommitteeMeeting:
    """Record a backfill meeting whole, or refuse it whole: the decision meeting's quorum,
    recusals and vote rule; each reserve then backfills (vacancy, rank order: the table)."""
    if selection.state != "following_up":
        raise Conflict("The selection is '{state}'; a backfill is decided during follow-up,"
                       " after the committee's decision.", code="selection_not_following_up",
                       params={"state": selection.state})
    refuse_future_date(data.held_on, clock.today(), what="backfill_meeting",
                       field="body.held_on")
    decided = [d.candidate_id for d in data.decisions]
    att = review.check_attendance(session, selection, members_due=data.members_due,
                                  present=data.present, recusals=data.recusals,
                                  decided=decided)
    known = selections.post_codes(selection)
    results, reserves = [], []
    for d in data.decisions:
        cand = session.exec(select(Candidate).where(Candidate.id == d.candidate_id)
                            .with_for_update()).first()
        if cand is None:
            raise NotFound("No candidate with id {id}.", code="candidate_not_found",
                           params={"id": d.candidate_id})
        if cand.selection_id != selection.id or cand.state != "reserve":
            raise RuleRefused(
                "A backfill comes from this selection's reserves; this candidate is not one.",
                code="not_a_reserve", details={"candidate_id": d.candidate_id,
                                               "state": cand.state})
        if d.post is not None and d.post not in known:
            raise InvalidInput("'{post}' is not a post of this selection (its posts: {known}).",
                               code="unknown_post",
                               details={"candidate_id": d.candidate_id, "post": d.post,
                                        "posts": known},
                               params={"post": d.post, "known": ", ".join(known)})
        voters = review.check_vote(att, d.candidate_id, votes_for=d.votes_for,
                                   votes_against=d.votes_against, abstentions=d.abstentions,
                                   outcome="backfilled", needs_majority=True)
        post = d.post or (known[0] if len(known) == 1 else None)
        results.append(d.model_dump(mode="json") | {"post": post, "outcome": "backfilled",
                                                    "members_voting": voters})
        reserves.append((cand, d, post))
    _check_posts(session, selection, data.held_on, [post for _, _, post in reserves])
    meeting = review.store_meeting(session, selection, data, results, user)
    for cand, d, post in reserves:
        actions.run(session, actions.kind_of(CANDIDATE_MACHINE), cand, "backfill", user=user,
                    clock=clock, reason=d.reason or None, raw_params={"post": post},
                    event_params={"meeting_id": meeting.id, "votes_for": d.votes_for,
                                  "votes_against": d.votes_against,
                                  "abstentions": d.abstentions,
                                  "members_due": len(att.due),
                                  "members_present": len(att.present)})
    selection.version += 1
    selection.updated_at = utcnow()
    session.add(selection)
    record.append(session, subject_type="selection", subject_id=selection.id,
                  selection_id=selection.id, action="record_backfill_meeting",
                  author=record.Author(user.id, ADMIN), clock=clock, from_state=selection.state,
                  to_state=selection.state,
                  params={"meeting_id": meeting.id, "held_on": data.held_on,
                          "members_due": meeting.members_due, "present": meeting.present,
                          "recusals": meeting.recusals, "decisions": results,
                          "minutes": data.minutes,
                          "covers": record.covers(review.MEETINGS, meeting)})
    return meeting
