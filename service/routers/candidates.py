"""Candidates: their record, their actions and their events."""

from typing import Annotated

from fastapi import APIRouter, Body, Response

from .. import facts
from ..access import CurrentCandidate, full_access, redact_for_candidate, sees_reviewers
from ..core.deps import (
    ClockDep,
    CurrentUser,
    IfMatch,
    SessionDep,
    check_if_match,
    etag_of,
    set_etag,
)
from ..core.errors import NotFound, problems
from ..core.pagination import Page
from ..core.routing import TransactionalRoute
from ..nomination import service as nominations
from ..nomination.schemas import CandidateDetail, CandidatePublic
from ..record import actions
from ..record.schemas import ActionOptions, ActionRequest, EventPublic
from . import common
from .common import ActionName, EventsCursor, Limit

router = APIRouter(route_class=TransactionalRoute, prefix="/api/v1/candidates", tags=["candidates"])
KIND = "candidate"


def _public(candidate, response: Response) -> CandidatePublic:
    set_etag(response, KIND, candidate.id, candidate.version)
    return CandidatePublic.model_validate(candidate, from_attributes=True)


@router.get("/{candidate_id}", response_model=CandidateDetail, responses=problems(401, 404, 422))
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
def list_candidate_actions(
    candidate: CurrentCandidate, session: SessionDep, user: CurrentUser, clock: ClockDep,
) -> ActionOptions:
    """Every action of the candidate's workflow: whether the caller may run it now, and why
    not."""
    return actions.describe(session, facts.CANDIDATE_KIND, candidate, user, clock)


@router.post("/{candidate_id}/actions/{action}", response_model=CandidatePublic,
             responses=problems(401, 403, 404, 409, 412, 422))
def run_candidate_action(
    action: ActionName, candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
    clock: ClockDep, response: Response,
    body: Annotated[ActionRequest | None, Body()] = None, if_match: IfMatch = None,
) -> CandidatePublic:
    """Run an action on the candidate (e.g. `withdraw`); state and event are written together."""
    check_if_match(if_match, etag_of(KIND, candidate.id, candidate.version))
    body = body or ActionRequest()
    facts.run_candidate_action(session=session, candidate=candidate, action=action, user=user,
                               clock=clock, reason=body.reason, params=body.params)
    return _public(candidate, response)


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
        raise NotFound(f"No candidate with id {candidate.id}.", code="candidate_not_found")
    redact = None if sees_reviewers(user, candidate, session) else redact_for_candidate
    return common.events(session, KIND, candidate.id, limit, cursor, redact=redact)
