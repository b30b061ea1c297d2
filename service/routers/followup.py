"""Step 4: outcome emails, pre-appointment publicity and objections, the trial with its
mentor and records, and the reserve pool."""

from typing import Annotated, Literal

from fastapi import Body, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse
from sqlmodel import select

from ..access import CurrentCandidate, CurrentSelection, full_access
from ..core import i18n
from ..core.deps import (
    AdminUser,
    CandidateId,
    ClockDep,
    CurrentUser,
    IfMatch,
    SessionDep,
    SettingsDep,
    check_write,
    require_roles,
    set_etag,
)
from ..core.errors import NOT_MODIFIED, NotFound, problems
from ..core.models import User
from ..core.pagination import Page
from ..core.routing import api_router, subject_etag
from ..core.schemas import NO_NUL, IsoDate
from ..followup import backfill, notifications, objections
from ..followup import service as followup
from ..followup.models import Notification, Objection
from ..followup.schemas import (
    AssessmentPublic,
    BackfillMeetingCreate,
    ExpiriesTold,
    FollowUpPublic,
    FollowUpRecordCreate,
    FollowUpRecordPublic,
    MentorshipPublic,
    MentorshipSet,
    NotificationPreview,
    NotificationPublic,
    ObjectionCreate,
    ObjectionPublic,
    ObjectionReceipt,
    ObjectionWorkPublic,
    PublicAppointment,
    ResendRequest,
    ReserveEntryPublic,
    TemplatePublic,
    TemplateSet,
    VacancyPublic,
)
from ..nomination.models import Candidate
from ..record import actions
from ..record.schemas import ActionOptions, ActionRequest, EventPublic
from ..reports import pages
from ..review.schemas import CommitteeMeetingPublic
from ..selection.models import Selection
from ..selection.schemas import EducationLevel
from ..workflow.roles import ADMIN, CANDIDATE, COMMITTEE, MENTOR
from . import common
from .common import ActionName, EventsCursor, Limit, NotificationId, ObjectionId

router = api_router(tags=["step 4: follow-up"])
CAND = "/api/v1/candidates/{candidate_id}"
Outcome = Annotated[Literal[notifications.OUTCOMES], Path(
    description="The outcome the email announces", examples=["appointed"])]
Language = Annotated[Literal["zh", "en"], Path(description="The email's language",
                                               examples=["zh"])]
PoolReader = Annotated[User, Depends(require_roles(ADMIN, CANDIDATE, MENTOR))]
AdminOrCommittee = Annotated[User, Depends(require_roles(ADMIN, COMMITTEE))]


def _public_notification(n: Notification, settings) -> NotificationPublic:
    return NotificationPublic.model_validate(n, from_attributes=True).model_copy(
        update={"note": notifications.note(n, settings)})


@router.get(CAND + "/notifications", response_model=list[NotificationPublic],
            responses=problems(401, 403, 404, 422))
def list_notifications(candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
                       settings: SettingsDep) -> list[NotificationPublic]:
    """The candidate's emails (the outcome, each later change of it): queued, sent, failed (with the last error and the
    attempts), or undeliverable, each with a note when it is not yet sent."""
    # an objector's acknowledgement concerns the objection, not the candidate (its record
    # is the objection's)
    rows = session.exec(select(Notification).where(Notification.candidate_id == candidate.id,
                                                   Notification.outcome != "objection_ack")
                        .order_by(Notification.created_at))
    return [_public_notification(n, settings) for n in rows]


@router.get(CAND + "/notifications/preview", response_model=NotificationPreview,
            responses=problems(401, 403, 404, 409, 422))
def preview_notification(
    candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
    language: Annotated[Literal["zh", "en"], Query(description="The email's language",
                                                   examples=["en"])] = "zh",
) -> NotificationPreview:
    """The outcome email as it would be sent now, from the current template."""
    outcome, subject, body = notifications.render(session, candidate, language)
    return NotificationPreview(outcome=outcome, language=language,
                               to_address=(candidate.profile or {}).get("email"),
                               subject=subject, body=body)


@router.post(CAND + "/notifications/{notification_id}/resend",
             response_model=NotificationPublic, responses=problems(401, 403, 404, 409, 422))
def resend_notification(
    notification_id: NotificationId, candidate: CurrentCandidate, session: SessionDep,
    admin: AdminUser, clock: ClockDep, settings: SettingsDep,
    body: ResendRequest | None = None,
) -> NotificationPublic:
    """Queue the email again, re-rendered to the candidate's current address."""
    n = session.exec(select(Notification).where(Notification.id == notification_id)
                     .with_for_update()).first()
    if n is None or n.candidate_id != candidate.id:
        raise NotFound("No notification {notification_id} for this candidate.",
                       code="notification_not_found", params={"notification_id": notification_id})
    notifications.resend(session, n, candidate, user=admin, clock=clock,
                         language=body.language if body else None)
    return _public_notification(n, settings)


@router.get("/api/v1/notification-templates", response_model=list[TemplatePublic],
            responses=problems(401, 403))
def list_templates(session: SessionDep, admin: AdminUser) -> list[TemplatePublic]:
    """The outcome email templates in effect, per outcome and language."""
    return [TemplatePublic(**t) for t in notifications.template_rows(session)]


@router.put("/api/v1/notification-templates/{outcome}/{language}",
            response_model=TemplatePublic, responses=problems(401, 403, 422))
def set_template(outcome: Outcome, language: Language, data: TemplateSet, session: SessionDep,
                 admin: AdminUser, clock: ClockDep) -> TemplatePublic:
    """Edit a template; placeholders: {full_name}, {selection_title}, {organization},
    {outcome_label}, {gate}, {reason}, {post}, {branch}."""
    notifications.set_template(session, outcome, language, data.subject, data.body,
                               user=admin, clock=clock)
    return TemplatePublic(outcome=outcome, language=language, subject=data.subject,
                          body=data.body, customised=True)


# ---------------------------------------------------------------- pre-appointment publicity
def _announcement(c: Candidate) -> PublicAppointment:
    a, p = c.appointment or {}, c.profile or {}
    gender, edu, birth = p.get("gender"), p.get("education"), p.get("birth_date")
    gender = gender if gender in ("male", "female") else None
    return PublicAppointment(
        candidate_id=c.id, full_name=c.full_name, gender=gender,
        gender_label=i18n.label("Gender", gender) if gender else None,
        birth_month=str(birth)[:7] if birth else None, education=edu,
        education_label=i18n.label("EducationLevel", edu) if edu else None,
        party_joined_on=p.get("party_joined_on"),
        current_post=p.get("current_post", ""),
        unit=p.get("unit", ""), proposed_post=a["proposed_post"], post=a.get("post"),
        branch=a.get("branch"), post_title=a.get("post_title"), backfilled="backfill" in a,
        publicity_start_on=a["publicity_start_on"], publicity_end_on=a["publicity_end_on"],
        how_to_object=i18n._("During the publicity, write to the organization department, or"
                             " object online (anonymously if you wish): {path}",
                             path=f"POST /api/v1/public/appointments/{c.id}/objections"))


@router.get("/api/v1/public/appointments", response_model=list[PublicAppointment],
            tags=["public"])
def list_public_appointments(session: SessionDep, clock: ClockDep) -> list[PublicAppointment]:
    """Appointments in their pre-appointment publicity (任职前公示) today, as a notice prints
    them: name, gender, birth (year and month), education, party membership since, current
    post and unit, the proposed post, the period and how to object — nothing else personal.
    No login needed."""
    return [_announcement(c) for c in followup.publicized_now(session, clock)]


@router.get("/api/v1/public/appointments/{candidate_id}/notice.html",
            response_class=HTMLResponse, responses=problems(404, 422), tags=["public"])
def print_appointment_notice(candidate_id: CandidateId, session: SessionDep, clock: ClockDep,
                             settings: SettingsDep) -> HTMLResponse:
    """The pre-appointment notice (任前公示) as a page the public opens and prints (A4):
    name, gender, birth month, education, party membership since, current and proposed post,
    the publicity period, how to object and the office's contact. Only while the notice is
    up; no login needed; `?lang=en` for English."""
    cand = next((c for c in followup.publicized_now(session, clock) if c.id == candidate_id),
                None)
    if cand is None:
        raise NotFound("No appointment of that id is being publicized now.",
                       code="publicity_not_found")
    return HTMLResponse(pages.appointment_notice_page(session, cand, settings, clock))


@router.post("/api/v1/public/appointments/{candidate_id}/objections", status_code=201,
             response_model=ObjectionReceipt, responses=problems(404, 422), tags=["public"])
def lodge_objection(candidate_id: CandidateId, data: ObjectionCreate, session: SessionDep,
                    clock: ClockDep) -> ObjectionReceipt:
    """Lodge an objection (举报/异议) during the publicity; a contact is optional."""
    cand = session.exec(select(Candidate).where(Candidate.id == candidate_id)
                        .with_for_update()).first()
    if cand is None:
        raise NotFound("No appointment of that id is being publicized now.",
                       code="publicity_not_found")
    o = followup.lodge_objection(session, cand, data, clock)
    return ObjectionReceipt(id=o.id, received_at=o.created_at)


OBJECTION = "objection"  # its ETag's kind


def _objection(session, o: Objection) -> ObjectionPublic:
    ack = session.exec(select(Notification.state).where(
        Notification.dedupe_key == f"objection_ack:{o.id}")).first()
    return ObjectionPublic.model_validate(o, from_attributes=True).model_copy(update={
        "acknowledgement": ack,
        "work": [ObjectionWorkPublic.model_validate(w, from_attributes=True)
                 for w in objections.work(session, o.id)]})


def _objection_or_404(session, objection_id) -> Objection:
    o = session.get(Objection, objection_id)
    if o is None:
        raise NotFound("No objection {objection_id}.", code="objection_not_found", params={"objection_id": objection_id})
    return o


@router.get(CAND + "/objections", response_model=list[ObjectionPublic],
            responses=problems(401, 403, 404, 422))
def list_objections(candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
                    ) -> list[ObjectionPublic]:
    """Objections lodged against this appointment, each in its stage (admins only: the
    objector's contact is shown to nobody else)."""
    rows = session.exec(select(Objection).where(Objection.candidate_id == candidate.id)
                        .order_by(Objection.created_at, Objection.id))
    return [_objection(session, o) for o in rows]


@router.get("/api/v1/objections/{objection_id}", response_model=ObjectionPublic,
            responses=problems(401, 403, 404, 422) | NOT_MODIFIED)
def read_objection(objection_id: ObjectionId, session: SessionDep, admin: AdminUser,
                   response: Response) -> ObjectionPublic:
    """One objection: its stage, the investigating team, its conversations and findings, the
    conclusion and its reasons (admins only); sends its ETag."""
    o = _objection_or_404(session, objection_id)
    set_etag(response, OBJECTION, o.id, o.version)
    return _objection(session, o)


@router.get("/api/v1/objections/{objection_id}/actions", response_model=ActionOptions,
            responses=problems(401, 403, 404, 422))
@subject_etag
def list_objection_actions(objection_id: ObjectionId, session: SessionDep, admin: AdminUser,
                           clock: ClockDep, response: Response) -> ActionOptions:
    """What may be done with the objection now: start the investigation, record a
    conversation or finding, conclude (成立 / 部分成立 / 不成立); sends the objection's ETag,
    for the If-Match of the action to run."""
    o = _objection_or_404(session, objection_id)
    set_etag(response, OBJECTION, o.id, o.version)
    return actions.describe(session, objections.OBJECTION_KIND, o, admin, clock)


@router.post("/api/v1/objections/{objection_id}/actions/{action}",
             response_model=ObjectionPublic, responses=problems(401, 403, 404, 409, 412, 422, 428),
             openapi_extra=common.actions_of(objections.OBJECTION_KIND))
def run_objection_action(
    objection_id: ObjectionId, action: ActionName, session: SessionDep, admin: AdminUser,
    clock: ClockDep, response: Response, body: Annotated[ActionRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> ObjectionPublic:
    """Run an action of the objection (see the objection machine in the workflow): stage and
    event are written together; a conclusion is noted in the candidate's record too. If-Match
    as on the candidate's actions (required while the selection's `require_if_match` is on)."""
    o = objections.locked(session, objection_id)
    candidate = session.get(Candidate, o.candidate_id)
    check_write(if_match, OBJECTION, o,
                session.get(Selection, o.selection_id or candidate.selection_id))
    body = body or ActionRequest()
    objections.run(session, o, action, user=admin, clock=clock, reason=body.reason,
                   params=body.params)
    set_etag(response, OBJECTION, o.id, o.version)
    return _objection(session, o)


@router.get("/api/v1/objections/{objection_id}/events", response_model=Page[EventPublic],
            responses=problems(401, 403, 404, 422))
def list_objection_events(objection_id: ObjectionId, session: SessionDep, admin: AdminUser,
                          limit: Limit = 100, cursor: EventsCursor = None) -> Page[EventPublic]:
    """The objection's own record, oldest first (admins only)."""
    o = _objection_or_404(session, objection_id)
    return common.events(session, objections.SUBJECT, o.id, limit, cursor)


# ---------------------------------------------------------------- trial, mentor, records
def _may_follow(user: User, candidate: Candidate, session) -> None:
    m = followup.mentorship(session, candidate.id)
    if full_access(user, candidate, session) or (m is not None and m.mentor_id == user.id):
        return
    raise NotFound("No candidate with id {id}.", code="candidate_not_found", params={"id": candidate.id})


@router.get(CAND + "/follow-up", response_model=FollowUpPublic,
            responses=problems(401, 404, 422))
def read_follow_up(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                   clock: ClockDep) -> FollowUpPublic:
    """The appointee's follow-up: the publicity, the trial placement, the mentor and plan, the
    records, and what is still missing before confirmation (admins, the candidate, the
    mentor)."""
    _may_follow(user, candidate, session)
    m = followup.mentorship(session, candidate.id)
    return FollowUpPublic(
        candidate_id=candidate.id, state=candidate.state, appointment=candidate.appointment,
        mentorship=MentorshipPublic.model_validate(m, from_attributes=True) if m else None,
        records=[FollowUpRecordPublic.model_validate(r, from_attributes=True)
                 for r in followup.records(session, candidate.id)],
        assessments=[AssessmentPublic.model_validate(a, from_attributes=True)
                     for a in followup.assessments(session, candidate.id)],
        missing_for_confirmation=followup.missing_for_confirmation(session, candidate, clock)
        if candidate.state == "on_trial" else [])


@router.put(CAND + "/mentorship", response_model=MentorshipPublic,
            responses=problems(401, 403, 404, 409, 422))
def assign_mentor(data: MentorshipSet, candidate: CurrentCandidate, session: SessionDep,
                  admin: AdminUser, clock: ClockDep) -> MentorshipPublic:
    """Assign the mentor with the kind of mentorship (优带新 / 老带新), the mentor's standing
    (a confirmed secretary names their confirmed candidacy), the plan, and the interval of
    their meetings (the selection's mentor_meeting_interval_days unless given)."""
    m = followup.assign_mentor(session, candidate, data, user=admin, clock=clock)
    return MentorshipPublic.model_validate(m, from_attributes=True)


@router.post(CAND + "/follow-up-records", status_code=201, response_model=FollowUpRecordPublic,
             responses=problems(401, 403, 404, 409, 422))
def add_follow_up_record(
    data: FollowUpRecordCreate, session: SessionDep, user: CurrentUser, clock: ClockDep,
    candidate_id: CandidateId,
) -> FollowUpRecordPublic:
    """A mentor's meeting (by the mentor), or a party lesson (党课学习) / branch-life exercise
    (支部生活锻炼) with date, subject, hours, attendance and assessment (admin or mentor)."""
    cand = session.exec(select(Candidate).where(Candidate.id == candidate_id)
                        .with_for_update()).first()
    if cand is None:
        raise NotFound("No candidate with id {candidate_id}.", code="candidate_not_found", params={"candidate_id": candidate_id})
    _may_follow(user, cand, session)
    rec = followup.add_record(session, cand, data, user=user, clock=clock)
    return FollowUpRecordPublic.model_validate(rec, from_attributes=True)


# ---------------------------------------------------------------- reserve pool
@router.post("/api/v1/reserve-pool/expiries", response_model=ExpiriesTold,
             responses=problems(401, 403))
def tell_expired_reserves(session: SessionDep, admin: AdminUser, clock: ClockDep,
                          ) -> ExpiriesTold:
    """Tell every reserve whose entry has expired (储备期满) and who was not told yet: an event
    `reserve_expired` in their record and an email through the outbox, once per entry."""
    return ExpiriesTold(told=notifications.tell_expired_reserves(session, clock=clock,
                                                                  user=admin))


@router.get("/api/v1/reserve-pool", response_model=list[ReserveEntryPublic],
            responses=problems(401, 403, 422))
def list_reserve_pool(
    session: SessionDep, user: PoolReader, clock: ClockDep,
    organization: Annotated[str | None, Query(
        max_length=200, pattern=NO_NUL,
        description="Only entries of this organization (exact match)",
        examples=["机关第一党支部"])] = None,
    education: Annotated[EducationLevel | None, Query(
        description="Only reserves with this education level", examples=["bachelor"])] = None,
    include_expired: Annotated[bool, Query(
        description="Also entries past their validity (储备期满)", examples=[True])] = False,
    expires_before: Annotated[IsoDate | None, Query(
        description="Only entries whose validity ends before this day",
        examples=["2027-12-31"])] = None,
) -> list[ReserveEntryPublic]:
    """The reserve pool (储备人选库) across selections, best score first per organization
    (equal scores in their selection's rank order, which the tie rule set): everything for admins; candidates and mentors their own entries only."""
    rows = followup.pool(session, user=user, organization=organization,
                         education=education.value if education else None,
                         include_expired=include_expired, expires_before=expires_before,
                         clock=clock)
    today = clock.today()
    return [ReserveEntryPublic(**r.model_dump(exclude={"user_id", "created_at",
                                                               "backfilled_on"}),
                               expired=r.expires_on < today) for r in rows]




# ---------------------------------------------------------------- 递补 (backfill)
@router.get("/api/v1/selections/{selection_id}/vacancies", response_model=list[VacancyPublic],
            responses=problems(401, 403, 404, 422))
def list_vacancies(selection: CurrentSelection, session: SessionDep, user: AdminOrCommittee,
                   ) -> list[VacancyPublic]:
    """The posts vacated after the decision (出缺: revoked, found unfit, withdrawn, not elected,
    not approved), oldest first, each with who refilled it and this selection's reserves for
    the post in the rank order a backfill follows."""
    return [VacancyPublic(**v) for v in backfill.vacancies(session, selection)]


@router.post("/api/v1/selections/{selection_id}/backfill-meetings", status_code=201,
             response_model=CommitteeMeetingPublic,
             responses=problems(401, 403, 404, 409, 422))
def record_backfill_meeting(
    data: BackfillMeetingCreate, selection: CurrentSelection, session: SessionDep,
    admin: AdminUser, clock: ClockDep,
) -> CommitteeMeetingPublic:
    """Record a committee meeting held during follow-up that fills vacated posts from this
    selection's reserves (递补), whole: the decision meeting's quorum (committee_quorum),
    recusals and vote rule (more than committee_majority of the members due); each reserve
    fills a vacancy of a post they stood for, in rank order unless the decision gives a reason.
    Each backfilled reserve gets their own pre-appointment publicity and email, and leaves the
    pool. Any rule broken refuses the whole meeting."""
    meeting = backfill.record_meeting(session=session, selection=selection, data=data,
                                      user=admin, clock=clock)
    return CommitteeMeetingPublic.model_validate(meeting, from_attributes=True)
