"""The interview session on record (面议评审的准备环节与选拔流程), read back from the record.

The seed (篇8) names the preparation — the judges' briefing (评委沟通), the materials passed
(资料传递), the score registration sheets (评分登记表) — and the session: self-introduction
(自我介绍), role cognition (岗位认知), the judges' questions (评委提问), the answers (选手回答)
and the scoring on the spot (现场打分). Each is an event of the record (the selection's for
the briefing, the receipts, the draw and the session's opening; the candidate's for the
segments and the questions); this module reads them back into one view, and holds the draw
by lot (抽签) that anyone can re-derive from its recorded seed.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, literal, or_
from sqlmodel import Session, select

from ..core import i18n
from ..core.clock import Clock
from ..core.errors import Conflict
from ..nomination.models import Candidate
from ..record.models import Event
from .schemas import AppearancePublic, QuestionPublic, Segment, SegmentPublic, SheetTiming

# The session's segments, in the order they are held; the first three share their keys with
# the default score sheet's criteria (self_introduction, role_cognition, answers).
SEGMENTS = ("self_introduction", "role_cognition", "questions", "answers")
DRAW_ALGORITHM = ("python3: ids = sorted(str(id) for id in candidate_ids);"
                  " random.Random(seed).shuffle(ids); order = ids")

BRIEFING, RECEIPT, DRAW, OPEN = ("hold_judges_briefing", "confirm_materials_received",
                                 "draw_appearance_order", "open_interview_session")
BEGIN, END, QUESTION = ("begin_interview_segment", "end_interview_segment",
                        "record_interview_question")
SHEET = "submit_score_sheet"
SELECTION_ACTIONS = (BRIEFING, RECEIPT, DRAW, OPEN)  # events of the selection
CANDIDATE_ACTIONS = (BEGIN, END, QUESTION, SHEET)     # events of a candidate
ACTIONS = SELECTION_ACTIONS + CANDIDATE_ACTIONS


def draw_order(candidate_ids: list[uuid.UUID] | list[str], seed: str) -> list[str]:
    """The order of appearance drawn by lot: the candidates' ids as text, sorted, shuffled by
    Python's `random.Random(seed)` (its string seeding and shuffle are fixed since 3.2)."""
    ids = sorted(str(i) for i in candidate_ids)
    random.Random(seed).shuffle(ids)
    return ids


@dataclass
class Appearance:
    """One candidate's part of the session: segments begun and ended, questions asked."""

    segments: dict[str, dict[str, Any]] = field(default_factory=dict)
    questions: list[dict[str, Any]] = field(default_factory=list)
    sheets: list[dict[str, Any]] = field(default_factory=list)

    @property
    def appeared_at(self) -> str | None:
        """When the candidate's self-introduction began."""
        return self.segments.get(SEGMENTS[0], {}).get("began_at")

    @property
    def finished_at(self) -> str | None:
        """When the candidate's last segment ended."""
        return self.segments.get(SEGMENTS[-1], {}).get("ended_at")


@dataclass
class SessionState:
    """The interview session of a selection as the record holds it."""

    briefings: list[dict[str, Any]] = field(default_factory=list)
    receipts: dict[str, dict[str, Any]] = field(default_factory=dict)
    draw: dict[str, Any] | None = None
    opened: dict[str, Any] | None = None
    appearances: dict[str, Appearance] = field(default_factory=dict)

    @property
    def on_record(self) -> bool:
        """Whether the selection records its session (the order has been drawn)."""
        return self.draw is not None

    def position(self, candidate_id: uuid.UUID | str) -> int | None:
        """The candidate's place in the order of appearance (1 first), None if not drawn."""
        order = (self.draw or {}).get("order") or []
        cid = str(candidate_id)
        return order.index(cid) + 1 if cid in order else None

    def appearance(self, candidate_id: uuid.UUID | str) -> Appearance:
        """The candidate's part of the session (empty before they appear)."""
        return self.appearances.get(str(candidate_id)) or Appearance()


# The columns the session's state is made of, in the record's order; built once (a score
# sheet reads them).
_SESSION_COLUMNS = select(Event.action, Event.params, Event.actor_id, Event.subject_id)
_SESSION_ORDER = (Event.occurred_at, Event.seq)


def _one_of(actions: tuple[str, ...]):
    # equalities, not IN: an IN's list is expanded into the statement at every execution
    return or_(*(Event.action == literal(a) for a in actions))


_SESSION_OF_SELECTION = _SESSION_COLUMNS.where(
    Event.selection_id == bindparam("selection_id"), _one_of(ACTIONS)).order_by(*_SESSION_ORDER)


def _of_candidate(selection_actions: tuple[str, ...], candidate_actions: tuple[str, ...]):
    return _SESSION_COLUMNS.where(or_(  # each side read through the subjects' index
        and_(Event.subject_type == "selection", Event.subject_id == bindparam("selection_id"),
             _one_of(selection_actions)),
        and_(Event.subject_type == "candidate", Event.subject_id == bindparam("candidate_id"),
             _one_of(candidate_actions)))
    ).order_by(*_SESSION_ORDER)


_SESSION_OF_CANDIDATE = _of_candidate(SELECTION_ACTIONS, CANDIDATE_ACTIONS)
# What a sheet's timing needs: the draw, and when the candidate's segments began and ended;
# not the questions, nor the sheets, which grow with every sheet submitted.
_TIMING_OF_CANDIDATE = _of_candidate((DRAW,), (BEGIN, END))


def state_of(session: Session, selection_id: uuid.UUID,
             candidate_id: uuid.UUID | None = None, *, timing_only: bool = False
             ) -> SessionState:
    """The selection's interview session, read from its events in the record's order; with
    `candidate_id`, of that one candidate's appearance only (the selection's own events and the
    candidate's, two reads by subject, instead of every candidate's: a score sheet reads
    this, and a selection holds thousands of sheets). `timing_only`: only the draw and the
    candidate's segments, what places a sheet in the session."""
    st = SessionState()
    run = session.connection().execute  # columns only: no ORM part needed
    if candidate_id is None:
        rows = run(_SESSION_OF_SELECTION, {"selection_id": selection_id})
    else:
        rows = run(_TIMING_OF_CANDIDATE if timing_only else _SESSION_OF_CANDIDATE,
                   {"selection_id": selection_id, "candidate_id": candidate_id})
    for ev in rows:
        p = ev.params
        if ev.action == BRIEFING:
            st.briefings.append(p | {"recorded_by": str(ev.actor_id) if ev.actor_id else None})
        elif ev.action == RECEIPT:
            st.receipts[p["judge_id"]] = p
        elif ev.action == DRAW:
            st.draw = p | {"drawn_by": str(ev.actor_id) if ev.actor_id else None}
        elif ev.action == OPEN:
            st.opened = p
        else:
            ap = st.appearances.setdefault(str(ev.subject_id), Appearance())
            if ev.action == BEGIN:
                ap.segments.setdefault(p["segment"], {})["began_at"] = p["at"]
            elif ev.action == END:
                ap.segments.setdefault(p["segment"], {})["ended_at"] = p["at"]
            elif ev.action == QUESTION:
                ap.questions.append(p)
            elif p.get("submitted_at"):  # a sheet submitted with the session on record
                ap.sheets.append(p)
    return st


def seconds_between(start: str | datetime | None, end: str | datetime | None) -> float | None:
    """Seconds from `start` to `end` (ISO texts or datetimes), None when either is missing."""
    if start is None or end is None:
        return None
    a = datetime.fromisoformat(start) if isinstance(start, str) else start
    b = datetime.fromisoformat(end) if isinstance(end, str) else end
    return round((b - a).total_seconds(), 3)


def sheet_timing(ap: Appearance, submitted_at: str | datetime
                 ) -> tuple[str | None, float | None]:
    """When a sheet came relative to the candidate's session: `during_session` (after they
    appeared, before their last segment ended) or `after_session`; with the seconds since the
    candidate appeared (None, None before they appeared)."""
    since = seconds_between(ap.appeared_at, submitted_at)
    if since is None:
        return None, None
    after = seconds_between(ap.finished_at, submitted_at)
    return ("after_session" if after is not None and after >= 0 else "during_session"), since


def timing_of_sheet(session: Session, candidate: Candidate, clock: Clock) -> dict:
    """With the session on record, a sheet is for a candidate in the draw who has appeared;
    returns when it comes relative to their session, for its event (empty when not on
    record)."""
    st = state_of(session, candidate.selection_id, candidate.id, timing_only=True)
    if not st.on_record:
        return {}
    if st.position(candidate.id) is None:
        raise Conflict("The candidate is not in the order of appearance drawn.",
                       code="not_in_draw")
    ap = st.appearance(candidate.id)
    if ap.appeared_at is None:
        raise Conflict("The candidate has not appeared yet; sheets are scored on the spot,"
                       " once their session has begun.", code="candidate_not_yet_appeared",
                       details={"position": st.position(candidate.id)})
    at = clock.now.isoformat()
    timing, since = sheet_timing(ap, at)
    return {"submitted_at": at, "session_timing": timing, "seconds_after_appearance": since}


def _dt(v: str | None) -> datetime | None:
    return datetime.fromisoformat(v) if v else None


def appearance_public(st: SessionState, candidate: Candidate, *,
                      with_sheets: bool) -> AppearancePublic | None:
    """The candidate's part of the session, None when not in the draw."""
    pos = st.position(candidate.id)
    if pos is None:
        return None
    ap = st.appearance(candidate.id)
    segs = []
    for key in SEGMENTS:
        t = ap.segments.get(key, {})
        segs.append(SegmentPublic(segment=Segment(key), label=i18n.label("Segment", key),
                                  began_at=_dt(t.get("began_at")), ended_at=_dt(t.get("ended_at")),
                                  seconds=seconds_between(t.get("began_at"),
                                                             t.get("ended_at"))))
    sheets = [SheetTiming(judge_id=p["judge_id"], version=p["version"],
                          submitted_at=p["submitted_at"], timing=p["session_timing"],
                          seconds_after_appearance=p["seconds_after_appearance"])
              for p in ap.sheets] if with_sheets else []
    return AppearancePublic(
        position=pos, candidate_id=candidate.id, full_name=candidate.full_name,
        appeared_at=_dt(ap.appeared_at), finished_at=_dt(ap.finished_at), segments=segs,
        questions=[QuestionPublic(judge_id=q["judge_id"], question=q["question"],
                                  answer_summary=q["answer_summary"], asked_at=q["asked_at"])
                   for q in ap.questions], sheets=sheets)
