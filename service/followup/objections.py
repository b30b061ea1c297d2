"""Objections (异议) to a proposed appointment during its pre-appointment publicity (任职前公示):
received (受理, acknowledged to the objector by email when they left an address), investigated
by a team of at least two (调查核实: conversations and findings), concluded (成立 / 部分成立 /
不成立) with reasons. The objection is a subject of its own machine (service/workflow/table.py);
its record and its objector's contact are for admins only. The candidate's record tells that
an objection was received and how it was concluded, never by whom.

While an objection is received or under investigation the appointment waits (the candidate's
guard `objections_settled`); an upheld one is followed by the admin's `revoke`, which cites it
and leaves the post vacant (`vacated_post` in the revoke event) for a backfill (递补).
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlmodel import Session, select

from ..core import i18n
from ..core.clock import Clock
from ..core.errors import InvalidInput, NotFound, refuse_future_date
from ..core.models import User, utcnow
from ..core.schemas import EMAIL_WITH_DOMAIN
from ..nomination.models import Candidate
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall, SubjectKind
from ..review.service import settings_of
from ..selection.models import Selection
from ..workflow import OBJECTION
from . import notifications
from .models import Objection, ObjectionWork
from .schemas import InvestigationRecordParams, ObjectionCreate, StartInvestigationParams

SUBJECT = record.subject_type("objection")
CANDIDATE = "candidate"
PENDING = ("received", "investigating")
CONCLUSIONS = {"conclude_upheld": "upheld", "conclude_partly_upheld": "partly_upheld",
               "conclude_not_upheld": "not_upheld"}

OBJECTION_WORK = record.cover(record.Coverage(
    name="objection_work", table=ObjectionWork, subject_type=SUBJECT,
    subject_column="objection_id", actions=("record_investigation",),
    fields=lambda r: {"id": r.id, "objection_id": r.objection_id, "kind": r.kind,
                      "held_on": r.held_on, "investigator_id": r.investigator_id,
                      "with_whom": r.with_whom, "content": r.content}))


def _is_email(contact: str | None) -> bool:
    return bool(contact) and re.match(EMAIL_WITH_DOMAIN, contact or "") is not None


def receive(session: Session, cand: Candidate, data: ObjectionCreate, clock: Clock) -> Objection:
    """Receive (受理) an objection: its own record begins, the candidate's record notes it, and
    an objector who left an email address is sent an acknowledgement."""
    o = Objection(candidate_id=cand.id, selection_id=cand.selection_id, content=data.content,
                  contact=data.contact)
    session.add(o)
    session.flush()
    public = record.Author(None, "public")
    acknowledged = _is_email(data.contact)
    record.append(session, subject_type=SUBJECT, subject_id=o.id,
                  selection_id=cand.selection_id, action="receive_objection", author=public,
                  clock=clock, from_state=None, to_state=o.state,
                  params={"candidate_id": cand.id, "content": data.content,
                          "contact": data.contact, "acknowledged_by_email": acknowledged})
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="receive_objection", author=public,
                  clock=clock, from_state=cand.state, to_state=cand.state,
                  params={"objection_id": o.id})
    if acknowledged:
        selection = session.get(Selection, cand.selection_id)
        n = notifications.enqueue_message(
            session, cand, kind="objection_ack", key=f"objection_ack:{o.id}", to=data.contact,
            **notifications.message(
                "objection_ack", "en" if i18n.current() == "en" else "zh",
                organization=selection.organization, full_name=cand.full_name,
                received_on=clock.today(), number=o.id))
        record.append(session, subject_type=SUBJECT, subject_id=o.id,
                      selection_id=cand.selection_id, action="acknowledge_objection",
                      author=record.Author(None, "system"), clock=clock, from_state=o.state,
                      to_state=o.state, params={"notification_id": n.id, "to": data.contact})
    return o


def pending(session: Session, candidate_id: uuid.UUID) -> tuple[list[dict], list[str]]:
    """The candidate's objections still received or under investigation, and those upheld."""
    rows = session.exec(select(Objection).where(Objection.candidate_id == candidate_id)
                        .order_by(Objection.created_at, Objection.id)).all()
    waiting = [{"id": str(o.id), "state": o.state} for o in rows if o.state in PENDING]
    upheld = [str(o.id) for o in rows if o.state == "upheld"]
    return waiting, upheld


def work(session: Session, objection_id: uuid.UUID) -> list[ObjectionWork]:
    """The investigating team's conversations and findings, oldest first."""
    return list(session.exec(select(ObjectionWork).where(
        ObjectionWork.objection_id == objection_id).order_by(ObjectionWork.held_on,
                                                             ObjectionWork.created_at)))


# ---------------------------------------------------------------- the objection's machine
def _facts(session: Session, o: Objection, user: User, clock: Clock) -> dict[str, Any]:
    selection = session.get(Selection, o.selection_id) if o.selection_id else None
    needed = settings_of(selection).min_objection_investigators if selection else 2
    findings = session.exec(select(ObjectionWork.id).where(
        ObjectionWork.objection_id == o.id, ObjectionWork.kind == "finding")).first()
    return {"today": clock.today(), "investigators_needed": needed,
            "investigators": [str(x) for x in o.investigators or ()],
            "findings_recorded": findings is not None}


def _start_investigation(call: ActionCall) -> dict[str, Any]:
    o: Objection = call.subject
    params: StartInvestigationParams = call.params  # type: ignore[assignment]
    ids = list(dict.fromkeys(params.investigators))
    if len(ids) != len(params.investigators):
        raise InvalidInput("The investigating team names someone twice.",
                           code="duplicate_member")
    found = {u.id: u for u in call.session.exec(select(User).where(
        User.id.in_(ids)))}  # type: ignore[attr-defined]
    missing = [str(i) for i in ids if i not in found or not found[i].is_active]
    if missing:
        raise InvalidInput("Every member of the investigating team must be an active user.",
                           code="not_a_user", details={"unknown": missing})
    o.investigators = [str(i) for i in ids]
    return {"investigators": o.investigators}


def _record_investigation(call: ActionCall) -> dict[str, Any]:
    o: Objection = call.subject
    p: InvestigationRecordParams = call.params  # type: ignore[assignment]
    refuse_future_date(p.held_on, call.clock.today(),
                       what="investigation_record",
                       field="body.params.held_on")
    w = ObjectionWork(objection_id=o.id, kind=p.kind.value, held_on=p.held_on,
                      investigator_id=p.investigator_id, with_whom=p.with_whom,
                      content=p.content, recorded_by=call.user.id)
    call.session.add(w)
    call.session.flush()
    return {"work_id": w.id, "covers": record.covers(OBJECTION_WORK, w)}


def _conclude(call: ActionCall) -> dict[str, Any]:
    o: Objection = call.subject
    o.handling, o.handled_by, o.handled_at = call.reason, call.user.id, utcnow()
    return {"candidate_id": o.candidate_id}


def _tell_candidate(call: ActionCall, event: record.Event) -> None:
    """The candidate's record notes the conclusion (never the objector)."""
    o: Objection = call.subject
    cand = call.session.exec(select(Candidate).where(Candidate.id == o.candidate_id)
                             .with_for_update()).one()
    record.append(call.session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="conclude_objection",
                  author=call.author, clock=call.clock, from_state=cand.state,
                  to_state=cand.state, reason=call.reason,
                  params={"objection_id": o.id, "conclusion": o.state,
                          "objection_event_id": event.id,
                          "next": "revoke" if o.state == "upheld" else None})


OBJECTION_KIND = actions.register(SubjectKind(
    machine=OBJECTION, subject_type=SUBJECT, facts=_facts,
    selection_id=lambda o: o.selection_id,
    params={"start_investigation": StartInvestigationParams,
            "record_investigation": InvestigationRecordParams},
    effects={"start_investigation": _start_investigation,
             "record_investigation": _record_investigation,
             **{a: _conclude for a in CONCLUSIONS}},
    after={a: _tell_candidate for a in CONCLUSIONS},
))


def locked(session: Session, objection_id: uuid.UUID) -> Objection:
    """The objection, locked for an action; 404 if unknown."""
    o = session.exec(select(Objection).where(Objection.id == objection_id)
                     .with_for_update()).first()
    if o is None:
        raise NotFound("No objection {objection_id}.", code="objection_not_found", params={"objection_id": objection_id})
    return o


def run(session: Session, o: Objection, action: str, *, user: User, clock: Clock,
        reason: str | None, params: dict[str, Any]) -> record.Event:
    """Run an action of the objection machine (the candidate is locked first, one writer on
    both chains)."""
    session.exec(select(Candidate).where(Candidate.id == o.candidate_id)
                 .with_for_update()).one()
    return actions.run(session, OBJECTION_KIND, o, action, user=user, clock=clock,
                       reason=reason, raw_params=params)


def upheld_for_revoke(session: Session, cand: Candidate) -> dict[str, Any]:
    """What a revocation cites: the objections upheld against the appointment, and the vacancy
    it leaves (the hook a backfill, 递补, starts from)."""
    _, upheld = pending(session, cand.id)
    return {"objections_upheld": upheld, "vacated_post": (cand.appointment or {}).get(
        "proposed_post")}

