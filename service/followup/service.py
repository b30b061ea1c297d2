"""Step 4 (后期四环节): the pre-appointment publicity and objections, the trial placement, the
mentor and the training records, confirmation; and the reserve pool (储备人选库)."""

from __future__ import annotations

import calendar as _months
import uuid
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from ..core import calendar as workcal
from ..core.clock import Clock
from ..core.errors import Conflict, Forbidden, InvalidInput, NotFound
from ..core.models import User, utcnow
from ..nomination.models import Candidate, ReserveEntry
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall
from ..review.models import Declaration
from ..review.service import evaluation, settings_of
from ..selection.models import Selection
from ..selection.schemas import post_name
from ..workflow import CANDIDATE_MACHINE
from ..workflow.roles import ADMIN, MENTOR
from .models import FollowUpRecord, Mentorship, Objection
from .schemas import (
    FollowUpRecordCreate,
    MentorshipSet,
    ObjectionCreate,
    ObjectionHandle,
    TrialParams,
)

CANDIDATE = "candidate"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (clamped to the month's end)."""
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return date(year, month, min(day.day, _months.monthrange(year, month)[1]))


def _settings(selection: Selection):
    return settings_of(selection)


# ---------------------------------------------------------------- effects of the committee's outcomes
def on_appoint(call: ActionCall) -> dict[str, Any]:
    """The appointee's pre-appointment publicity (任职前公示), if the settings want one."""
    cand: Candidate = call.subject
    selection = call.session.get(Selection, cand.selection_id)
    days = _settings(selection).appointment_publicity_working_days
    code = getattr(call.params, "post", None) or selection.named_posts[0]["code"]
    post = next(p for p in selection.named_posts if p["code"] == code)  # the guard checked it
    appointment: dict[str, Any] = {"post": code, "branch": post["branch"],
                                   "post_title": post["title"], "proposed_post": post_name(post),
                                   "decided_on": call.clock.today().isoformat()}
    if days:
        period = workcal.working_period(call.clock.today(), days, counts_start_day=False,
                                        overrides=workcal.overrides(call.session))
        # Announced from the day of the decision; the days are counted as for the post's
        # publicity (from the next working day).
        appointment |= {"publicity_start_on": period.start_on.isoformat(),
                        "publicity_end_on": period.end_on.isoformat(),
                        "publicity_calendar_fallback_years": list(period.fallback_years)}
    cand.appointment = appointment
    return {"appointment": appointment}


def on_reserve(call: ActionCall) -> dict[str, Any]:
    """The reserve enters the pool with their score, rank and an expiry."""
    cand: Candidate = call.subject
    selection = call.session.get(Selection, cand.selection_id)
    ev = evaluation(call.session, cand)
    today = call.clock.today()
    years = _settings(selection).reserve_valid_years
    entry = ReserveEntry(candidate_id=cand.id, selection_id=selection.id, user_id=cand.user_id,
                         organization=selection.organization, full_name=cand.full_name,
                         education=(cand.profile or {}).get("education"), score=ev.score,
                         rank=ev.rank, entered_on=today, expires_on=add_months(today, 12 * years))
    call.session.add(entry)
    call.session.flush()
    return {"reserve_entry_id": entry.id, "expires_on": entry.expires_on}


def start_trial(call: ActionCall) -> dict[str, Any]:
    """Place the appointee at a front-line post for the trial (使用实习安排)."""
    cand: Candidate = call.subject
    params: TrialParams = call.params  # type: ignore[assignment]
    selection = call.session.get(Selection, cand.selection_id)
    start = params.start_on or call.clock.today()
    if start < call.clock.today() - timedelta(days=31):
        raise InvalidInput("The trial cannot start more than a month in the past.",
                           code="start_in_past")
    months = params.months or _settings(selection).trial_months
    trial = {"unit": params.unit, "post": params.post, "start_on": start.isoformat(),
             "months": months, "end_on": add_months(start, months).isoformat()}
    cand.appointment = {**(cand.appointment or {}), "trial": trial}
    return {"trial": trial}


# ---------------------------------------------------------------- the publicity and objections
def _period(cand: Candidate) -> tuple[date, date] | None:
    a = cand.appointment or {}
    if "publicity_start_on" not in a:
        return None
    return date.fromisoformat(a["publicity_start_on"]), date.fromisoformat(a["publicity_end_on"])


def publicized_now(session: Session, clock: Clock) -> list[Candidate]:
    """Appointees whose pre-appointment publicity runs today."""
    today = clock.today()
    out = []
    for c in session.exec(select(Candidate).where(Candidate.state == "appointed")
                          .order_by(Candidate.updated_at)):
        p = _period(c)
        if p and p[0] <= today <= p[1]:
            out.append(c)
    return out


def lodge_objection(session: Session, cand: Candidate, data: ObjectionCreate,
                    clock: Clock) -> Objection:
    """Anyone may object while the appointment is publicized."""
    p = _period(cand)
    today = clock.today()
    if cand.state != "appointed" or p is None or not p[0] <= today <= p[1]:
        raise NotFound("No appointment of that id is being publicized now.",
                       code="publicity_not_found")
    o = Objection(candidate_id=cand.id, content=data.content, contact=data.contact)
    session.add(o)
    session.flush()
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="receive_objection",
                  author=record.Author(None, "public"), clock=clock, from_state=cand.state,
                  to_state=cand.state, params={"objection_id": o.id})
    return o


def handle_objection(session: Session, objection: Objection, data: ObjectionHandle, *,
                     user: User, clock: Clock) -> Objection:
    """Record how an objection was handled; an upheld one ends the appointment."""
    if objection.status != "open":
        raise Conflict("This objection has been handled already.", code="objection_handled")
    cand = session.exec(select(Candidate).where(Candidate.id == objection.candidate_id)
                        .with_for_update()).one()
    objection.status, objection.handling = data.decision, data.handling
    objection.handled_by, objection.handled_at = user.id, utcnow()
    session.add(objection)
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="handle_objection",
                  author=record.Author(user.id, ADMIN), clock=clock, from_state=cand.state,
                  to_state=cand.state, params={"objection_id": objection.id,
                                               "decision": data.decision,
                                               "handling": data.handling})
    if data.decision == "upheld" and cand.state == "appointed":
        actions.run(session, actions.kind_of(CANDIDATE_MACHINE), cand, "revoke", user=user, clock=clock,
                    reason=f"任职前公示期间异议经核实成立：{data.handling}", raw_params={},
                    event_params={"objection_id": objection.id})
    return objection


# ---------------------------------------------------------------- mentor and records
def mentorship(session: Session, candidate_id: uuid.UUID) -> Mentorship | None:
    """The candidate's mentorship, if any."""
    return session.get(Mentorship, candidate_id)


def assign_mentor(session: Session, cand: Candidate, data: MentorshipSet, *, user: User,
                  clock: Clock) -> Mentorship:
    """Assign a mentor (a user with the mentor role who declared no relation)."""
    if cand.state != "on_trial":
        raise Conflict(f"The candidate is '{cand.state}'; a mentor is assigned for the trial.",
                       code="not_on_trial")
    mentor = session.get(User, data.mentor_id)
    if mentor is None or MENTOR not in mentor.roles or not mentor.is_active:
        raise InvalidInput("The mentor must be an active user with the mentor role.",
                           code="not_a_mentor")
    related = session.exec(select(Declaration).where(
        Declaration.candidate_id == cand.id, Declaration.user_id == mentor.id,
        Declaration.conflict != "none")).first()
    if related is not None:
        raise Conflict("This mentor declared a relation to the candidate and is recused.",
                       code="mentor_recused")
    m = session.get(Mentorship, cand.id) or Mentorship(
        candidate_id=cand.id, mentor_id=mentor.id, plan=data.plan,
        assigned_on=clock.today())
    m.mentor_id, m.plan, m.meeting_interval_days = mentor.id, data.plan, data.meeting_interval_days
    m.assigned_on = clock.today()
    session.add(m)
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="assign_mentor",
                  author=record.Author(user.id, ADMIN), clock=clock, from_state=cand.state,
                  to_state=cand.state, params=data.model_dump(mode="json"))
    return m


def add_record(session: Session, cand: Candidate, data: FollowUpRecordCreate, *, user: User,
               clock: Clock) -> FollowUpRecord:
    """A mentor's meeting (the mentor only), or a training record (admin or the mentor)."""
    m = mentorship(session, cand.id)
    is_mentor = m is not None and m.mentor_id == user.id
    if data.kind == "mentor_meeting" and not is_mentor:
        raise Forbidden("Only the assigned mentor records their meetings.", code="not_the_mentor")
    if data.kind != "mentor_meeting" and not (is_mentor or ADMIN in user.roles):
        raise Forbidden("Training records are kept by admins and the mentor.",
                        code="role_not_permitted")
    if cand.state != "on_trial":
        raise Conflict(f"The candidate is '{cand.state}'; records are kept during the trial.",
                       code="not_on_trial")
    if data.held_on > clock.today():
        raise Conflict("A record cannot precede what it records.", code="date_in_future")
    rec = FollowUpRecord(candidate_id=cand.id, kind=data.kind.value, held_on=data.held_on,
                         subject=data.subject, hours=data.hours, attended=data.attended,
                         assessment=data.assessment, recorded_by=user.id)
    session.add(rec)
    session.flush()
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="record_" + data.kind.value,
                  author=record.Author(user.id, MENTOR if is_mentor else ADMIN), clock=clock,
                  from_state=cand.state, to_state=cand.state,
                  params=data.model_dump(mode="json") | {"record_id": rec.id})
    return rec


def records(session: Session, candidate_id: uuid.UUID) -> list[FollowUpRecord]:
    """The candidate's follow-up records, oldest first."""
    return list(session.exec(select(FollowUpRecord).where(
        FollowUpRecord.candidate_id == candidate_id).order_by(FollowUpRecord.held_on,
                                                               FollowUpRecord.created_at)))


def missing_for_confirmation(session: Session, cand: Candidate, clock: Clock) -> list[str]:
    """What the trial still lacks before the admin can confirm, item by item."""
    trial = (cand.appointment or {}).get("trial")
    if cand.state != "on_trial" or not trial:
        return ["the candidate is not on trial"]
    selection = session.get(Selection, cand.selection_id)
    s = _settings(selection)
    missing = []
    end = date.fromisoformat(trial["end_on"])
    if clock.today() < end:
        missing.append(f"the trial runs until {end.isoformat()}")
    m = mentorship(session, cand.id)
    recs = [r for r in records(session, cand.id) if r.attended]
    if m is None:
        missing.append("no mentor is assigned")
    else:
        start = max(date.fromisoformat(trial["start_on"]), m.assigned_on)
        due = max((min(clock.today(), end) - start).days // m.meeting_interval_days, 1)
        held = sum(r.kind == "mentor_meeting" for r in recs)
        if held < due:
            missing.append(f"mentor meetings: {held} of {due} held")
    for kind, label, minimum in (("party_lesson", "party lessons (党课学习)",
                                  s.min_party_lesson_hours),
                                 ("branch_life", "branch-life exercise (支部生活锻炼)",
                                  s.min_branch_life_hours)):
        hours = sum(r.hours for r in recs if r.kind == kind)
        count = sum(r.kind == kind for r in recs)
        if count == 0 or hours < minimum:
            missing.append(f"{label}: {hours:g} of {max(minimum, 0):g} hours, {count} record(s)")
    return missing


def facts(session: Session, cand: Candidate, clock: Clock) -> dict[str, Any]:
    """Facts the follow-up guards read."""
    p = _period(cand)
    open_n = len(session.exec(select(Objection.id).where(
        Objection.candidate_id == cand.id, Objection.status == "open")).all())
    return {"appointment_publicity_end_on": p[1] if p else None, "open_objections": open_n,
            "trial_missing": missing_for_confirmation(session, cand, clock)
            if cand.state == "on_trial" else []}


# ---------------------------------------------------------------- the reserve pool
def pool(session: Session, *, user: User, organization: str | None, education: str | None,
         include_expired: bool, expires_before: date | None, clock: Clock,
         ) -> list[ReserveEntry]:
    """The pool: everything for admins; a candidate's own entries; a mentor's mentees'."""
    stmt = select(ReserveEntry)
    if ADMIN not in user.roles:
        mentees = select(Mentorship.candidate_id).where(Mentorship.mentor_id == user.id)
        stmt = stmt.where((ReserveEntry.user_id == user.id)
                          | ReserveEntry.candidate_id.in_(mentees))  # type: ignore[attr-defined]
    if organization:
        stmt = stmt.where(ReserveEntry.organization == organization)
    if education:
        stmt = stmt.where(ReserveEntry.education == education)
    if not include_expired:
        stmt = stmt.where(ReserveEntry.expires_on >= clock.today())
    if expires_before:
        stmt = stmt.where(ReserveEntry.expires_on < expires_before)
    # Best score first; between equal scores the selection's own rank (its tie rule), then
    # the older entry; the id last, so that the order never depends on the database.
    return list(session.exec(stmt.order_by(ReserveEntry.organization,
                                           ReserveEntry.score.desc().nulls_last(),  # type: ignore[union-attr]
                                           ReserveEntry.rank.nulls_last(),  # type: ignore[union-attr]
                                           ReserveEntry.entered_on, ReserveEntry.id)))
