"""Step 2: nominations, self-applications, the candidate listing, talks with nominees."""

from typing import Annotated

from fastapi import Depends, Query, Response
from sqlmodel import select

from .. import access
from ..access import CurrentCandidate, CurrentSelection
from ..core.deps import AdminUser, ClockDep, CurrentUser, SessionDep, SettingsDep, require_roles
from ..core.errors import problems
from ..core.models import User
from ..core.pagination import Page
from ..core.routing import api_router
from ..core.schemas import NO_NUL, CandidateState
from ..followup import notifications
from ..nomination import service as nominations
from ..nomination.models import Communication
from ..nomination.schemas import (
    AccountLink,
    ApplicationCreate,
    CandidateDetail,
    CandidateSummary,
    ClaimConfirm,
    ClaimRequest,
    ClaimSent,
    CommunicationCreate,
    CommunicationPublic,
    NominationCreate,
    NominationKind,
    NominationPublic,
    NominationResult,
)
from ..record import service as record
from ..reports.schemas import ReportGate
from ..selection.models import Selection
from ..workflow.roles import ADMIN, CANDIDATE, NOMINATOR
from .common import Cursor, Limit
from .selections import CreatedFrom, CreatedTo

router = api_router(tags=["step 2: publicity and nomination"])
Nominator = Annotated[User, Depends(require_roles(ADMIN, NOMINATOR))]
Applicant = Annotated[User, Depends(require_roles(CANDIDATE))]
CandidateStateFilter = Annotated[CandidateState | None, Query(
    description="Only candidates in this state", examples=["applicant"])]
CandidateGate = Annotated[ReportGate | None, Query(
    description="Only candidates at this gate or who ended there: `nomination` (nominated,"
    " declined, withdrew before consenting), `prereview` (applicant, or not qualified /"
    " withdrew there), `interview` (qualified, or left there), `inspection` (shortlisted, or"
    " left there), `decision` (inspected, reserve, or left there), `followup` (appointed, on"
    " trial, confirmed, revoked, dismissed)", examples=["interview"])]
Unit = Annotated[str | None, Query(
    min_length=1, max_length=200, pattern=NO_NUL,
    description="Only candidates of this work unit (工作单位, exact match)", examples=["机关办公室"])]
NameSearch = Annotated[str | None, Query(
    min_length=1, max_length=100, pattern=NO_NUL,
    description="Text the candidate's name contains (case-insensitive; `%` and `_` match themselves)", examples=["李"])]


def _result(session, nomination, candidate, existed, response: Response) -> NominationResult:
    response.headers["Location"] = f"/api/v1/candidates/{candidate.id}"
    return NominationResult(
        nomination=NominationPublic.model_validate(nomination, from_attributes=True),
        candidate=nominations.detail(session, candidate), duplicate_of_existing=existed)


@router.post("/api/v1/selections/{selection_id}/nominations", status_code=201,
             response_model=NominationResult, responses=problems(401, 403, 404, 409, 422))
def create_nomination(
    data: NominationCreate, selection: CurrentSelection, session: SessionDep, user: Nominator,
    clock: ClockDep, response: Response,
) -> NominationResult:
    """A body (党、政、工、团, or members jointly) nominates a person during the publicity
    period, with its groundwork (摸底). The same person twice is one candidate with two
    nominations. The nominee consents through their own account or an admin records it."""
    nom, cand, existed = nominations.nominate(session=session, selection=selection, data=data,
                                              user=user, clock=clock)
    # a reserve nominated from the pool is told in their earlier candidacy (储备人选使用)
    notifications.tell_reserve_used(session, nom, cand, clock=clock,
                                    author=record.Author(user.id, ADMIN if ADMIN in user.roles
                                                         else NOMINATOR))
    return _result(session, nom, cand, existed, response)


@router.post("/api/v1/selections/{selection_id}/applications", status_code=201,
             response_model=NominationResult, responses=problems(401, 403, 404, 409, 422))
def create_application(
    data: ApplicationCreate, selection: CurrentSelection, session: SessionDep, user: Applicant,
    clock: ClockDep, response: Response,
) -> NominationResult:
    """Apply for the post yourself (个人报名), as a user with the candidate role."""
    nom, cand, existed = nominations.apply(session=session, selection=selection, data=data,
                                           user=user, clock=clock)
    return _result(session, nom, cand, existed, response)


@router.post("/api/v1/selections/{selection_id}/claims", status_code=202,
             response_model=ClaimSent, responses=problems(401, 403, 404, 409, 422, 429))
def request_claim(
    data: ClaimRequest, selection: CurrentSelection, session: SessionDep, user: Applicant,
    clock: ClockDep, settings: SettingsDep,
) -> ClaimSent:
    """Claim a nomination as your own (认领): a one-time code is emailed to the address on file
    for the nominee (not to yours), valid for 30 minutes. A nominee's record is never linked
    by an application with the same name, birth date and unit (that answers 409
    `nomination_claim_required`)."""
    claim, masked = access.request_claim(session=session, selection=selection,
                                         candidate_id=data.candidate_id, user=user,
                                         clock=clock, settings=settings)
    return ClaimSent(claim_id=claim.id, candidate_id=claim.candidate_id, sent_to=masked,
                     expires_at=claim.expires_at)


@router.post("/api/v1/selections/{selection_id}/claims/confirm", response_model=CandidateDetail,
             responses=problems(401, 403, 404, 409, 422))
def confirm_claim(
    data: ClaimConfirm, selection: CurrentSelection, session: SessionDep, user: Applicant,
    clock: ClockDep, settings: SettingsDep,
) -> CandidateDetail:
    """Enter the emailed code: the nominee's record is linked to your account (recorded), and
    you may then consent to stand. Five wrong codes end the claim."""
    cand = access.confirm_claim(session=session, selection=selection,
                                candidate_id=data.candidate_id, code=data.code, user=user,
                                clock=clock, settings=settings)
    return nominations.detail(session, cand)


@router.put("/api/v1/candidates/{candidate_id}/account", response_model=CandidateDetail,
            responses=problems(401, 403, 404, 409, 422), tags=["candidates"])
def link_account(
    data: AccountLink, candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> CandidateDetail:
    """Link a nominee's record to the nominee's own account, having confirmed in person who
    they are; recorded with who confirmed it. A record already linked is not relinked."""
    selection = session.get(Selection, candidate.selection_id)
    access.link_by_admin(session=session, selection=selection, candidate=candidate,
                         user_id=data.user_id, confirmed_by=data.confirmed_by, note=data.note,
                         admin=admin, clock=clock)
    return nominations.detail(session, candidate)


@router.get("/api/v1/selections/{selection_id}/candidates", response_model=Page[CandidateSummary],
            responses=problems(401, 403, 404, 422))
def list_candidates(
    selection: CurrentSelection, session: SessionDep, user: CurrentUser,
    state: CandidateStateFilter = None,
    kind: Annotated[NominationKind | None, Query(description="Nominated by this kind of body",
                                                 examples=["party_organization"])] = None,
    eligible: Annotated[bool | None, Query(description="Eligibility report passed or not",
                                           examples=[True])] = None,
    gate: CandidateGate = None, unit: Unit = None, q: NameSearch = None,
    created_from: CreatedFrom = None, created_to: CreatedTo = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[CandidateSummary]:
    """The selection's candidates with their nominations, oldest first (by registration, then
    id: a stable order for the cursor): all for admins; for others what their work reaches —
    nominators those they nominated, candidates their own, the panel's judges those
    interviewed, inspectors those they inspect, committee members those submitted to them.
    Filters combine with AND; keep them when following `next_cursor`. No birth date, phone or
    ID in any listing."""
    items, nxt = access.list_candidates(
        session=session, selection=selection, user=user,
        state=state.value if state else None,
        kind=kind.value if kind else None, eligible=eligible, gate=gate.value if gate else None,
        unit=unit, q=q, created_from=created_from, created_to=created_to, limit=limit,
        cursor=cursor)
    return Page[CandidateSummary](items=items, next_cursor=nxt, limit=limit)


@router.post("/api/v1/candidates/{candidate_id}/communications", status_code=201,
             response_model=CommunicationPublic, responses=problems(401, 403, 404, 409, 422),
             tags=["candidates"])
def create_communication(
    data: CommunicationCreate, candidate: CurrentCandidate, session: SessionDep,
    user: Nominator, clock: ClockDep,
) -> CommunicationPublic:
    """Record a talk with the nominee (沟通): when, how, what was said, their attitude."""
    item = nominations.record_communication(session=session, candidate=candidate, data=data,
                                            user=user, clock=clock)
    return CommunicationPublic.model_validate(item, from_attributes=True)


@router.get("/api/v1/candidates/{candidate_id}/communications",
            response_model=list[CommunicationPublic], responses=problems(401, 403, 404, 422),
            tags=["candidates"])
def list_communications(
    candidate: CurrentCandidate, session: SessionDep, user: Nominator,
) -> list[CommunicationPublic]:
    """The talks held with this nominee, oldest first."""
    rows = session.exec(select(Communication).where(Communication.candidate_id == candidate.id)
                        .order_by(Communication.created_at))
    return [CommunicationPublic.model_validate(c, from_attributes=True) for c in rows]
