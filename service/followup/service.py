"""Step 4 (后期四环节): the pre-appointment publicity and objections, the trial placement, the
mentor and the training records, confirmation; and the reserve pool (储备人选库)."""

from __future__ import annotations

import calendar as _months
import uuid
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session, select

from ..core import calendar as workcal
from ..core import i18n
from ..core.clock import Clock
from ..core.errors import Conflict, Forbidden, InvalidInput, NotFound, refuse_future_date
from ..core.models import User
from ..nomination.models import Candidate, ReserveEntry
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall
from ..review.models import Declaration
from ..review.service import deciding_meeting, evaluation, settings_of
from ..selection.models import Selection
from ..selection.schemas import post_name
from ..workflow import CANDIDATE_MACHINE
from ..workflow.roles import ADMIN, MENTOR
from . import objections
from .backfill import vacancy_of
from .models import FollowUpRecord, Mentorship, Objection, TrialAssessment
from .schemas import (
    PASSING_GRADES,
    AssessmentParams,
    FollowUpRecordCreate,
    MentorshipSet,
    ObjectionCreate,
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
def on_appoint(call: ActionCall, outcome: str = "appointed") -> dict[str, Any]:
    """The appointee's pre-appointment publicity (任职前公示), if the settings want one, from
    the day of the meeting that decided the `outcome` (appointed, or backfilled)."""
    cand: Candidate = call.subject
    selection = call.session.get(Selection, cand.selection_id)
    days = _settings(selection).appointment_publicity_working_days
    code = getattr(call.params, "post", None) or selection.named_posts[0]["code"]
    post = next(p for p in selection.named_posts if p["code"] == code)  # the guard checked it
    meeting = deciding_meeting(call.session, cand, outcome)
    decided_on = meeting.held_on if meeting else call.clock.today()
    appointment: dict[str, Any] = {"post": code, "branch": post["branch"],
                                   "post_title": post["title"], "proposed_post": post_name(post),
                                   "decided_on": decided_on.isoformat()}
    if days:
        period = workcal.working_period(decided_on, days, counts_start_day=False,
                                        overrides=workcal.overrides(call.session))
        # Announced from the day of the meeting that decided it; the days are counted as for
        # the post's publicity (from the next working day).
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
    """Anyone may object while the appointment is publicized; the objection is received."""
    p = _period(cand)
    today = clock.today()
    if cand.state != "appointed" or p is None or not p[0] <= today <= p[1]:
        raise NotFound("No appointment of that id is being publicized now.",
                       code="publicity_not_found")
    return objections.receive(session, cand, data, clock)


def on_revoke(call: ActionCall) -> dict[str, Any]:
    """A revocation cites the objections upheld and leaves the post vacant (递补 starts here)."""
    return {**objections.upheld_for_revoke(call.session, call.subject), **vacancy_of(call)}


# ---------------------------------------------------------------- mentor and records
def mentorship(session: Session, candidate_id: uuid.UUID) -> Mentorship | None:
    """The candidate's mentorship, if any."""
    return session.get(Mentorship, candidate_id)


def assign_mentor(session: Session, cand: Candidate, data: MentorshipSet, *, user: User,
                  clock: Clock) -> Mentorship:
    """Assign a mentor (a user with the mentor role who declared no relation)."""
    if cand.state != "on_trial":
        raise Conflict("The candidate is '{state}'; a mentor is assigned for the trial.",
                       code="not_on_trial", params={"state": cand.state})
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
    standing = _standing(session, data, mentor)
    interval = data.meeting_interval_days or _settings(
        session.get(Selection, cand.selection_id)).mentor_meeting_interval_days
    m = session.get(Mentorship, cand.id) or Mentorship(
        candidate_id=cand.id, mentor_id=mentor.id, plan=data.plan,
        assigned_on=clock.today())
    m.mentor_id, m.plan, m.meeting_interval_days = mentor.id, data.plan, interval
    m.kind, m.mentor_standing = data.kind.value, standing
    m.assigned_on = clock.today()
    session.add(m)
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action="assign_mentor",
                  author=record.Author(user.id, ADMIN), clock=clock, from_state=cand.state,
                  to_state=cand.state, params={**data.model_dump(mode="json"),
                                               "mentor_standing": standing,
                                               "meeting_interval_days": interval})
    return m


def _standing(session: Session, data: MentorshipSet, mentor: User) -> dict[str, Any]:
    """The mentor's standing as recorded; a confirmed secretary's candidacy is checked."""
    s = data.mentor_standing
    out: dict[str, Any] = {"kind": s.kind.value, "post": s.post}
    if s.kind.value != "confirmed_secretary":
        if s.candidate_id is not None:
            raise InvalidInput("candidate_id goes with the standing confirmed_secretary only.",
                               code="standing_candidate_unexpected")
        return out
    held = session.get(Candidate, s.candidate_id) if s.candidate_id else None
    if held is None or held.state != "confirmed" or held.user_id != mentor.id:
        raise InvalidInput("A confirmed secretary's standing names the mentor's own candidacy,"
                           " confirmed in the post (正式任职).", code="standing_not_confirmed",
                           details={"candidate_id": str(s.candidate_id) if s.candidate_id
                                    else None})
    return {**out, "candidate_id": str(held.id), "selection_id": str(held.selection_id)}


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
        raise Conflict("The candidate is '{state}'; records are kept during the trial.",
                       code="not_on_trial", params={"state": cand.state})
    refuse_future_date(data.held_on, clock.today(), what="follow_up_record",
                       field="body.held_on", error=Conflict)
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
        return [i18n._("the candidate is not on trial")]
    selection = session.get(Selection, cand.selection_id)
    s = _settings(selection)
    missing = []
    end = date.fromisoformat(trial["end_on"])
    if clock.today() < end:
        missing.append(i18n._("the trial runs until {end}", end=end))
    m = mentorship(session, cand.id)
    recs = [r for r in records(session, cand.id) if r.attended]
    if m is None:
        missing.append(i18n._("no mentor is assigned"))
    else:
        start = max(date.fromisoformat(trial["start_on"]), m.assigned_on)
        due = max((min(clock.today(), end) - start).days // m.meeting_interval_days, 1)
        held = sum(r.kind == "mentor_meeting" for r in recs)
        if held < due:
            missing.append(i18n._("mentor meetings: {held} of {due} held", held=held, due=due))
    for kind, minimum in (("party_lesson", s.min_party_lesson_hours),
                          ("branch_life", s.min_branch_life_hours)):
        hours = sum(r.hours for r in recs if r.kind == kind)
        count = sum(r.kind == kind for r in recs)
        if count == 0 or hours < minimum:
            missing.append(i18n._("{label}: {hours:g} of {minimum:g} hours, {count} record(s)",
                                  label=i18n.label("FollowUpKind", kind), hours=hours,
                                  minimum=max(minimum, 0), count=count))
    return missing


def facts(session: Session, cand: Candidate, clock: Clock) -> dict[str, Any]:
    """Facts the follow-up guards read."""
    p = _period(cand)
    waiting, upheld = objections.pending(session, cand.id)
    done = assessments(session, cand.id)
    final = next((a for a in done if a.kind == "final"), None)
    return {"appointment_publicity_end_on": p[1] if p else None,
            "objections_pending": waiting, "objections_upheld": upheld,
            "assessment_kinds": [a.kind for a in done],
            "final_assessment": None if final is None else {
                "id": str(final.id), "grade": final.grade, "passed": passed(final)},
            "trial_missing": missing_for_confirmation(session, cand, clock)
            if cand.state == "on_trial" else []}


# ---------------------------------------------------------------- trial assessments
TRIAL_ASSESSMENTS = record.cover(record.Coverage(
    name="trial_assessment", table=TrialAssessment, subject_type=CANDIDATE,
    subject_column="candidate_id", actions=("record_assessment",),
    fields=lambda r: {"id": r.id, "candidate_id": r.candidate_id, "kind": r.kind,
                      "held_on": r.held_on, "taking_part": r.taking_part,
                      "excellent": r.excellent, "competent": r.competent,
                      "basically_competent": r.basically_competent,
                      "incompetent": r.incompetent, "mentor_opinion": r.mentor_opinion,
                      "branch_opinion": r.branch_opinion, "grade": r.grade}))


def passed(a: TrialAssessment) -> bool:
    """Whether the grade passes (优秀, 称职, 基本称职)."""
    return a.grade in PASSING_GRADES


def assessments(session: Session, candidate_id: uuid.UUID) -> list[TrialAssessment]:
    """The candidate's trial assessments, oldest first."""
    return list(session.exec(select(TrialAssessment).where(
        TrialAssessment.candidate_id == candidate_id).order_by(TrialAssessment.held_on,
                                                               TrialAssessment.created_at)))


def _cited(a: TrialAssessment) -> dict[str, Any]:
    return {"id": str(a.id), "kind": a.kind, "held_on": a.held_on.isoformat(),
            "grade": a.grade, "passed": passed(a)}


def record_assessment(call: ActionCall) -> dict[str, Any]:
    """Record a mid-term or final assessment (试用期满考核) of the trial."""
    cand: Candidate = call.subject
    p: AssessmentParams = call.params  # type: ignore[assignment]
    trial = (cand.appointment or {}).get("trial") or {}
    refuse_future_date(p.held_on, call.clock.today(), what="assessment",
                       field="body.params.held_on")
    if trial and p.held_on < date.fromisoformat(trial["start_on"]):
        raise InvalidInput("The assessment is dated before the trial started.",
                           code="before_trial")
    a = TrialAssessment(candidate_id=cand.id, kind=p.kind.value, held_on=p.held_on,
                        taking_part=p.taking_part, excellent=p.excellent,
                        competent=p.competent, basically_competent=p.basically_competent,
                        incompetent=p.incompetent, mentor_opinion=p.mentor_opinion,
                        branch_opinion=p.branch_opinion, grade=p.grade.value,
                        recorded_by=call.user.id)
    call.session.add(a)
    call.session.flush()
    return {"assessment_id": a.id, "passed": passed(a),
            "covers": record.covers(TRIAL_ASSESSMENTS, a)}


def after_assessment(call: ActionCall, event: record.Event) -> None:
    """A final assessment graded 不称职 ends the trial as unfit (dismiss), citing it."""
    a = call.session.get(TrialAssessment, uuid.UUID(str(event.params["assessment_id"])))
    if a.kind != "final" or passed(a):
        return
    actions.run(call.session, actions.kind_of(CANDIDATE_MACHINE), call.subject, "dismiss",
                user=call.user, clock=call.clock,
                reason=i18n.said("The trial's final assessment is incompetent: {opinion}",
                                 opinion=a.branch_opinion),
                raw_params={})


def on_confirm(call: ActionCall) -> dict[str, Any]:
    """Confirmation cites the final assessment it rests on."""
    final = next(a for a in assessments(call.session, call.subject.id) if a.kind == "final")
    return {"assessment": _cited(final)}


def on_dismiss(call: ActionCall) -> dict[str, Any]:
    """An end of trial cites the latest assessment, if any."""
    done = assessments(call.session, call.subject.id)
    final = next((a for a in done if a.kind == "final"), None) or (done[-1] if done else None)
    return {**({"assessment": _cited(final)} if final else {}), **vacancy_of(call)}


def on_withdraw_appointment(call: ActionCall) -> dict[str, Any]:
    """An appointee who withdraws (辞去拟任职务) leaves the post vacant."""
    return vacancy_of(call)


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
    stmt = stmt.where(ReserveEntry.backfilled_on.is_(None))  # type: ignore[union-attr]
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
