"""Recording the interview session (面议评审): the briefing, the materials received, the draw
by lot, the session's opening, each candidate's segments and the questions asked. Each is an
event, written in the request's transaction; a refusal writes nothing. service/review/
interview.py reads them back."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC

from sqlmodel import Session, select

from ..core.clock import CHINA, Clock
from ..core.errors import Conflict, Forbidden, InvalidInput
from ..core.models import User
from ..nomination.models import Candidate
from ..selection.models import Selection
from ..workflow.roles import ADMIN, JUDGE
from . import interview as iv
from .models import InterviewPlan, ScoreSheet
from .schemas import (
    BriefingCreate,
    BriefingPublic,
    DrawCreate,
    DrawPublic,
    InterviewSession,
    MaterialsReceipt,
    QuestionCreate,
    ReceiptPublic,
    Segment,
)
from .service import (
    _candidate_event,
    _require_reviewing,
    _selection_event,
    panel_ids,
    recused_ids,
)


def _now(clock: Clock) -> str:
    return clock.now.isoformat()


def _require_panel(session: Session, selection: Selection) -> list[uuid.UUID]:
    panel = panel_ids(session, selection.id)
    if not panel:
        raise Conflict("No panel of judges is appointed yet (PUT …/panel).",
                       code="panel_not_appointed")
    return panel


# ---------------------------------------------------------------- preparation (准备环节)
def hold_briefing(*, session: Session, selection: Selection, data: BriefingCreate, user: User,
                  clock: Clock) -> None:
    """The judges' briefing (评委沟通): when, by whom, which judges attended."""
    _require_reviewing(selection)
    panel = set(_require_panel(session, selection))
    if len(set(data.attendees)) != len(data.attendees):
        raise InvalidInput("The attendees name someone twice.", code="duplicate_member")
    outside = [str(a) for a in data.attendees if a not in panel]
    if outside:
        raise InvalidInput("Not judges of this selection's panel: {outside}.",
                           code="not_on_panel", details={"user_ids": outside}, params={"outside": ', '.join(outside)})
    if session.get(User, data.held_by) is None:
        raise InvalidInput("No user {held_by} (held_by).", code="unknown_user",
                           errors=[{"field": "body.held_by", "message": "no such user",
                                    "type": "unknown_user"}], params={"held_by": data.held_by})
    try:
        held_at = (data.held_at if data.held_at.tzinfo else data.held_at.replace(tzinfo=CHINA)
                   ).astimezone(UTC)
    except (OverflowError, ValueError):
        raise InvalidInput("held_at is outside the times the service represents.",
                           code="time_out_of_range",
                           errors=[{"field": "body.held_at", "message": "out of range",
                                    "type": "time_out_of_range"}]) from None
    if held_at > clock.now:
        raise Conflict("A briefing is recorded once it has been held.", code="time_in_future",
                       details={"held_at": held_at.isoformat(), "now": _now(clock)})
    _selection_event(session, selection, iv.BRIEFING, user, ADMIN, clock, {
        "held_at": held_at.isoformat(), "held_by": str(data.held_by),
        "attendees": [str(a) for a in data.attendees], "note": data.note})


def confirm_receipt(*, session: Session, selection: Selection, data: MaterialsReceipt,
                    user: User, clock: Clock) -> None:
    """A judge confirms, themself, that the materials (资料传递) reached them."""
    _require_reviewing(selection)
    if user.id not in panel_ids(session, selection.id):
        raise Forbidden("Only a judge of this selection's panel confirms receiving its"
                        " materials.", code="not_on_panel")
    plan = session.get(InterviewPlan, selection.id)
    if plan is None:
        raise Conflict("The interview's preparation, with its materials, is not recorded yet"
                       " (PUT …/interview).", code="interview_not_prepared")
    if str(user.id) in iv.state_of(session, selection.id).receipts:
        raise Conflict("You have already confirmed receiving the materials.",
                       code="already_confirmed")
    _selection_event(session, selection, iv.RECEIPT, user, JUDGE, clock, {
        "judge_id": str(user.id), "received_at": _now(clock), "materials": list(plan.materials),
        "note": data.note})


def draw(*, session: Session, selection: Selection, data: DrawCreate, user: User,
         clock: Clock) -> None:
    """The order of appearance by lot (抽签) over the candidates waiting for the interview;
    drawn again until the session is opened."""
    _require_reviewing(selection)
    st = iv.state_of(session, selection.id)
    if st.opened is not None:
        raise Conflict("The session has begun; the order of appearance is no longer drawn.",
                       code="interview_session_started")
    if session.exec(select(ScoreSheet.id).where(
            ScoreSheet.selection_id == selection.id)).first() is not None:
        raise Conflict("Scoring has started without a session on record; the order can no"
                       " longer be drawn.", code="scoring_started")
    ids = sorted(str(c) for c in session.exec(select(Candidate.id).where(
        Candidate.selection_id == selection.id, Candidate.state == "qualified")))
    if not ids:
        raise Conflict("No candidate waits for the interview (passed the pre-review).",
                       code="nobody_to_draw")
    seed = data.seed or secrets.token_hex(8)
    _selection_event(session, selection, iv.DRAW, user, ADMIN, clock, {
        "seed": seed, "algorithm": iv.DRAW_ALGORITHM, "candidate_ids": ids,
        "order": iv.draw_order(ids, seed), "drawn_at": _now(clock),
        "redraw": st.draw is not None,
        "previous_seed": st.draw["seed"] if st.draw else None})


def open_session(*, session: Session, selection: Selection, user: User, clock: Clock) -> None:
    """Open the session: the order is drawn, the judges briefed, the materials received."""
    _require_reviewing(selection)
    st = iv.state_of(session, selection.id)
    if st.opened is not None:
        raise Conflict("The session is already open.", code="interview_session_started")
    if st.draw is None:
        raise Conflict("The order of appearance is not drawn yet (POST …/interview/draw).",
                       code="order_not_drawn")
    if not st.briefings:
        raise Conflict("The judges' briefing is not recorded yet.", code="briefing_not_held")
    missing = [str(j) for j in panel_ids(session, selection.id) if str(j) not in st.receipts]
    if missing:
        raise Conflict("{missing} judge(s) have not confirmed receiving the materials.",
                       code="materials_not_received", details={"judge_ids": missing}, params={"missing": len(missing)})
    _selection_event(session, selection, iv.OPEN, user, ADMIN, clock,
                     {"started_at": _now(clock), "order": st.draw["order"]})


# ---------------------------------------------------------------- the session (选拔流程)
def _in_session(session: Session, candidate: Candidate) -> tuple[Selection, iv.SessionState]:
    selection = session.get(Selection, candidate.selection_id)
    _require_reviewing(selection)
    st = iv.state_of(session, selection.id)
    if st.opened is None:
        raise Conflict("The interview session is not open yet (POST …/interview/start).",
                       code="interview_session_not_started")
    if st.position(candidate.id) is None:
        raise Conflict("The candidate is not in the order of appearance drawn.",
                       code="not_in_draw")
    return selection, st


def mark_segment(*, session: Session, candidate: Candidate, segment: Segment, end: bool,
                 user: User, clock: Clock) -> None:
    """A segment of the candidate's session begins or ends, now; segments follow their order,
    and candidates the order of appearance."""
    selection, st = _in_session(session, candidate)
    ap = st.appearance(candidate.id)
    i = iv.SEGMENTS.index(segment.value)
    times = ap.segments.get(segment.value, {})
    if end:
        if "began_at" not in times:
            raise Conflict("'{value}' has not begun.", code="segment_not_begun",
                           details={"segment": segment.value}, params={"value": segment.value})
        if "ended_at" in times:
            raise Conflict("'{value}' has already ended.",
                           code="segment_already_ended", details={"segment": segment.value}, params={"value": segment.value})
    else:
        if candidate.state != "qualified":
            raise Conflict("The candidate is '{state}'; only candidates waiting for the interview appear.", code="not_being_interviewed", params={"state": candidate.state})
        if "began_at" in times:
            raise Conflict("'{value}' has already begun.",
                           code="segment_already_begun", details={"segment": segment.value}, params={"value": segment.value})
        before = iv.SEGMENTS[i - 1] if i else None
        if before and "ended_at" not in ap.segments.get(before, {}):
            raise Conflict("'{value}' follows '{before}', which has not ended.",
                           code="segment_out_of_order",
                           details={"segment": segment.value, "after": before}, params={"value": segment.value, "before": before})
        if i == 0:
            _check_turn(session, selection, st, candidate)
    _candidate_event(session, candidate, iv.END if end else iv.BEGIN, user, ADMIN, clock, {
        "segment": segment.value, "at": _now(clock), "position": st.position(candidate.id)})


def _check_turn(session: Session, selection: Selection, st: iv.SessionState,
                candidate: Candidate) -> None:
    """Everyone drawn before the candidate has finished, or no longer waits (withdrew)."""
    order = st.draw["order"]
    earlier = order[:order.index(str(candidate.id))]
    states = dict(session.exec(select(Candidate.id, Candidate.state).where(
        Candidate.selection_id == selection.id)).all())
    waiting = [c for c in earlier if st.appearance(c).finished_at is None
               and states.get(uuid.UUID(c)) == "qualified"]
    if waiting:
        raise Conflict("Candidates drawn earlier have not finished their session.",
                       code="not_their_turn", details={"before": waiting,
                                                       "position": st.position(candidate.id)})


def record_question(*, session: Session, candidate: Candidate, data: QuestionCreate,
                    user: User, clock: Clock) -> None:
    """A judge's question to the candidate, in brief, with the answer's summary."""
    selection, st = _in_session(session, candidate)
    if "began_at" not in st.appearance(candidate.id).segments.get("questions", {}):
        raise Conflict("The judges' questions have not begun for this candidate.",
                       code="segment_not_begun", details={"segment": "questions"})
    if data.judge_id not in panel_ids(session, selection.id):
        raise InvalidInput("The judge who asked is not on this selection's panel.",
                           code="not_on_panel", details={"judge_id": str(data.judge_id)})
    if data.judge_id in recused_ids(session, candidate.id, JUDGE):
        raise Conflict("That judge is recused from this candidate.", code="recused")
    _candidate_event(session, candidate, iv.QUESTION, user, ADMIN, clock, {
        "judge_id": str(data.judge_id), "question": data.question,
        "answer_summary": data.answer_summary, "asked_at": _now(clock),
        "position": st.position(candidate.id)})


# ---------------------------------------------------------------- reading it
def view(session: Session, selection: Selection, user: User) -> InterviewSession:
    """The interview on record; when each sheet came is for admins."""
    st = iv.state_of(session, selection.id)
    panel = panel_ids(session, selection.id)
    appearances = []
    if st.draw:
        cands = {str(c.id): c for c in session.exec(select(Candidate).where(
            Candidate.selection_id == selection.id))}
        for cid in st.draw["order"]:
            if cid in cands:
                appearances.append(iv.appearance_public(st, cands[cid],
                                                     with_sheets=ADMIN in user.roles))
    d = st.draw
    return InterviewSession(
        selection_id=selection.id,
        briefings=[BriefingPublic(**b) for b in st.briefings],
        materials_receipts=[ReceiptPublic(**r) for r in st.receipts.values()],
        judges_without_receipt=[j for j in panel if str(j) not in st.receipts],
        draw=DrawPublic(seed=d["seed"], algorithm=d["algorithm"],
                        candidate_ids=d["candidate_ids"], order=d["order"],
                        drawn_at=d["drawn_at"], drawn_by=d["drawn_by"], redraw=d["redraw"])
        if d else None,
        started_at=iv._dt((st.opened or {}).get("started_at")), appearances=appearances)
