"""Candidates: their record, their actions and their events."""

from typing import Annotated

from fastapi import Body, Request, Response
from sqlmodel import Session

from .. import facts
from ..access import (
    CurrentCandidate,
    candidate_to_change,
    full_access,
    redact_for_candidate,
    sees_reviewers,
)
from ..core import idempotency
from ..core.clock import current_clock
from ..core.deps import (
    CandidateId,
    ClockDep,
    CurrentUser,
    IfMatch,
    PrincipalDep,
    SessionDep,
    SettingsDep,
    check_write,
    etag_of,
    set_etag,
)
from ..core.errors import NOT_MODIFIED, NotFound, problems
from ..core.pagination import Page
from ..core.routing import api_router, in_one_hop, json_response, one_hop, subject_etag
from ..nomination import service as nominations
from ..nomination.schemas import CandidateDetail, CandidatePublic
from ..record import actions
from ..record.schemas import ActionOptions, ActionRequest, EventPublic
from ..selection.models import Selection
from . import common
from .common import ActionName, EventsCursor, Limit

router = api_router(prefix="/api/v1/candidates", tags=["candidates"])
KIND = "candidate"


def _public(candidate, response: Response) -> CandidatePublic:
    set_etag(response, KIND, candidate.id, candidate.version)
    return CandidatePublic.model_validate(candidate, from_attributes=True)


@router.get("/{candidate_id}", response_model=CandidateDetail,
            responses=problems(401, 404, 422) | NOT_MODIFIED)
def read_candidate(
    candidate: CurrentCandidate, session: SessionDep, user: CurrentUser, response: Response
) -> CandidateDetail:
    """One candidate's record with profile, eligibility report and nominations: whole for
    admins, their nominators and themself; without personal data for judges, inspectors and
    committee members whose work reaches the candidate."""
    set_etag(response, KIND, candidate.id, candidate.version)
    return nominations.detail(session, candidate, full=full_access(user, candidate, session))


@router.get("/{candidate_id}/actions", response_model=ActionOptions,
            responses=problems(401, 404, 422))
@subject_etag
def list_candidate_actions(
    candidate: CurrentCandidate, session: SessionDep, user: CurrentUser, clock: ClockDep,
    response: Response,
) -> ActionOptions:
    """Every action of the candidate's workflow: whether the caller may run it now, and why
    not; sends the candidate's ETag, for the If-Match of the action to run."""
    set_etag(response, KIND, candidate.id, candidate.version)
    return actions.describe(session, facts.CANDIDATE_KIND, candidate, user, clock)


@router.post("/{candidate_id}/actions/{action}", response_model=CandidatePublic,
             responses=problems(401, 403, 404, 409, 412, 422, 428),
             openapi_extra=common.actions_of(facts.CANDIDATE_KIND))
@in_one_hop
async def run_candidate_action(
    action: ActionName, candidate_id: CandidateId, principal: PrincipalDep, request: Request,
    settings: SettingsDep, body: Annotated[ActionRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> Response:
    """Run an action on the candidate (e.g. `withdraw`); state and event are written together."""
    body = body or ActionRequest()

    def work(session: Session) -> Response:
        user, candidate = candidate_to_change(session, principal, candidate_id)
        idempotency.settle()
        clock = current_clock(session, settings)
        check_write(if_match, KIND, candidate,
                    session.get(Selection, candidate.selection_id))
        facts.run_candidate_action(session=session, candidate=candidate, action=action,
                                   user=user, clock=clock, reason=body.reason,
                                   params=body.params)
        return json_response(CandidatePublic.model_validate(candidate, from_attributes=True),
                             headers={"ETag": etag_of(KIND, candidate.id, candidate.version)})

    return await one_hop(request, work)


@router.get("/{candidate_id}/events", response_model=Page[EventPublic],
            responses=problems(401, 404, 422))
def list_candidate_events(
    candidate: CurrentCandidate, session: SessionDep, user: CurrentUser, limit: Limit = 100,
    cursor: EventsCursor = None,
) -> Page[EventPublic]:
    """The candidate's full-process record, oldest first (admins, their nominators, and the
    candidate themself, who reads it without the reviewers: events by judges and inspectors
    without their author or parameters, and no reviewer's id, marked `redacted`)."""
    if not full_access(user, candidate, session):
        raise NotFound("No candidate with id {id}.", code="candidate_not_found", params={"id": candidate.id})
    redact = None if sees_reviewers(user, candidate, session) else redact_for_candidate
    return common.events(session, KIND, candidate.id, limit, cursor, redact=redact)
