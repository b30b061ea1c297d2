"""Step 4: outcome emails, pre-appointment publicity and objections, the trial with its
mentor and records, and the reserve pool."""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query
from sqlmodel import select

from ..access import CurrentCandidate, full_access
from ..core.deps import (
    AdminUser,
    CandidateId,
    ClockDep,
    CurrentUser,
    SessionDep,
    SettingsDep,
    require_roles,
)
from ..core.errors import NotFound, problems
from ..core.models import User
from ..core.routing import TransactionalRoute
from ..core.schemas import NO_NUL, IsoDate
from ..followup import notifications
from ..followup import service as followup
from ..followup.models import Notification, Objection
from ..followup.schemas import (
    FollowUpPublic,
    FollowUpRecordCreate,
    FollowUpRecordPublic,
    MentorshipPublic,
    MentorshipSet,
    NotificationPreview,
    NotificationPublic,
    ObjectionCreate,
    ObjectionHandle,
    ObjectionPublic,
    ObjectionReceipt,
    PublicAppointment,
    ResendRequest,
    ReserveEntryPublic,
    TemplatePublic,
    TemplateSet,
)
from ..nomination.models import Candidate
from ..selection.schemas import EducationLevel
from ..workflow.roles import ADMIN, CANDIDATE, MENTOR
from .common import NotificationId, ObjectionId

router = APIRouter(route_class=TransactionalRoute, tags=["step 4: follow-up"])
CAND = "/api/v1/candidates/{candidate_id}"
Outcome = Annotated[Literal["appointed", "reserve", "not_qualified"], Path(
    description="The outcome the email announces", examples=["appointed"])]
Language = Annotated[Literal["zh", "en"], Path(description="The email's language",
                                               examples=["zh"])]
PoolReader = Annotated[User, Depends(require_roles(ADMIN, CANDIDATE, MENTOR))]


def _public_notification(n: Notification, settings) -> NotificationPublic:
    return NotificationPublic.model_validate(n, from_attributes=True).model_copy(
        update={"note": notifications.note(n, settings)})


@router.get(CAND + "/notifications", response_model=list[NotificationPublic],
            responses=problems(401, 403, 404, 422))
def list_notifications(candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
                       settings: SettingsDep) -> list[NotificationPublic]:
    """The candidate's outcome emails: queued, sent, failed (with the last error and the
    attempts), or undeliverable, each with a note when it is not yet sent."""
    rows = session.exec(select(Notification).where(Notification.candidate_id == candidate.id)
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
        raise NotFound(f"No notification {notification_id} for this candidate.",
                       code="notification_not_found")
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
    return PublicAppointment(
        candidate_id=c.id, full_name=c.full_name, current_post=p.get("current_post", ""),
        unit=p.get("unit", ""), proposed_post=a["proposed_post"], post=a.get("post"),
        branch=a.get("branch"), post_title=a.get("post_title"),
        publicity_start_on=a["publicity_start_on"], publicity_end_on=a["publicity_end_on"],
        how_to_object=f"POST /api/v1/public/appointments/{c.id}/objections（公示期内，可匿名）")


@router.get("/api/v1/public/appointments", response_model=list[PublicAppointment],
            tags=["public"])
def list_public_appointments(session: SessionDep, clock: ClockDep) -> list[PublicAppointment]:
    """Appointments in their pre-appointment publicity (任职前公示) today: name, current post,
    proposed post — nothing else personal. No login needed."""
    return [_announcement(c) for c in followup.publicized_now(session, clock)]


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


@router.get(CAND + "/objections", response_model=list[ObjectionPublic],
            responses=problems(401, 403, 404, 422))
def list_objections(candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
                    ) -> list[ObjectionPublic]:
    """Objections lodged against this appointment, and how each was handled."""
    rows = session.exec(select(Objection).where(Objection.candidate_id == candidate.id)
                        .order_by(Objection.created_at))
    return [ObjectionPublic.model_validate(o, from_attributes=True) for o in rows]


@router.post("/api/v1/objections/{objection_id}/handling", response_model=ObjectionPublic,
             responses=problems(401, 403, 404, 409, 422))
def handle_objection(objection_id: ObjectionId, data: ObjectionHandle, session: SessionDep,
                     admin: AdminUser, clock: ClockDep) -> ObjectionPublic:
    """Record how an objection was handled: upheld ends the appointment (revoked, with the
    reason); dismissed lets it go on."""
    o = session.exec(select(Objection).where(Objection.id == objection_id)
                     .with_for_update()).first()
    if o is None:
        raise NotFound(f"No objection {objection_id}.", code="objection_not_found")
    followup.handle_objection(session, o, data, user=admin, clock=clock)
    return ObjectionPublic.model_validate(o, from_attributes=True)


# ---------------------------------------------------------------- trial, mentor, records
def _may_follow(user: User, candidate: Candidate, session) -> None:
    m = followup.mentorship(session, candidate.id)
    if full_access(user, candidate, session) or (m is not None and m.mentor_id == user.id):
        return
    raise NotFound(f"No candidate with id {candidate.id}.", code="candidate_not_found")


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
        missing_for_confirmation=followup.missing_for_confirmation(session, candidate, clock)
        if candidate.state == "on_trial" else [])


@router.put(CAND + "/mentorship", response_model=MentorshipPublic,
            responses=problems(401, 403, 404, 409, 422))
def assign_mentor(data: MentorshipSet, candidate: CurrentCandidate, session: SessionDep,
                  admin: AdminUser, clock: ClockDep) -> MentorshipPublic:
    """Assign the mentor (优带新、老带新) and the plan, with the interval of their meetings."""
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
        raise NotFound(f"No candidate with id {candidate_id}.", code="candidate_not_found")
    _may_follow(user, cand, session)
    rec = followup.add_record(session, cand, data, user=user, clock=clock)
    return FollowUpRecordPublic.model_validate(rec, from_attributes=True)


# ---------------------------------------------------------------- reserve pool
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
    return [ReserveEntryPublic(**r.model_dump(exclude={"user_id", "created_at"}),
                               expired=r.expires_on < today) for r in rows]


