"""Selections and their job descriptions (step 1), their actions and their record."""

from typing import Annotated

from fastapi import Body, Depends, Query, Request, Response
from sqlmodel import Session

from .. import access, facts
from ..access import CurrentSelection
from ..core import idempotency
from ..core.clock import current_clock
from ..core.deps import (
    AdminUser,
    ClockDep,
    CurrentUser,
    IfMatch,
    PrincipalDep,
    SelectionId,
    SessionDep,
    SettingsDep,
    check_write,
    etag_of,
    require_roles,
    set_etag,
    user_of,
)
from ..core.errors import NOT_MODIFIED, problems
from ..core.models import User
from ..core.pagination import Page
from ..core.routing import api_router, in_one_hop, json_response, one_hop, subject_etag
from ..core.schemas import NO_NUL, IsoDate, SelectionState
from ..record import actions
from ..record.schemas import ActionOptions, ActionRequest, EventPublic
from ..selection import service as selections
from ..selection.schemas import SelectionCreate, SelectionPublic, SelectionUpdate
from ..workflow.roles import ADMIN, COMMITTEE
from . import common
from .common import ActionName, Cursor, EventsCursor, Limit

router = api_router(prefix="/api/v1/selections", tags=["step 1: selections"])
KIND = "selection"
RecordReader = Annotated[User, Depends(require_roles(ADMIN, COMMITTEE))]
SelectionStateFilter = Annotated[
    SelectionState | None,
    Query(description="Only selections in this state", examples=["reviewing"]),
]
# List filters shared with the candidate listing (service/routers/nominations.py).
CreatedFrom = Annotated[IsoDate | None, Query(
    description="Created on or after this day (a calendar day in China, Asia/Shanghai)",
    examples=["2026-09-01"])]
CreatedTo = Annotated[IsoDate | None, Query(
    description="Created on or before this day (inclusive; a calendar day in China); not"
    " before `created_from`", examples=["2026-12-31"])]
Organization = Annotated[str | None, Query(
    min_length=1, max_length=200, pattern=NO_NUL, description="Only selections of this organization (exact"
    " match)", examples=["机关第一党支部"])]
TitleSearch = Annotated[str | None, Query(
    min_length=1, max_length=100, pattern=NO_NUL, description="Text the title contains (case-insensitive;"
    " `%` and `_` match themselves)", examples=["党支部书记"])]


def _public(selection, response: Response) -> SelectionPublic:
    set_etag(response, KIND, selection.id, selection.version)
    return SelectionPublic.model_validate(selection, from_attributes=True)


@router.post("", status_code=201, response_model=SelectionPublic,
             responses=problems(401, 403, 422))
def create_selection(
    data: SelectionCreate, session: SessionDep, admin: AdminUser, clock: ClockDep,
    response: Response,
) -> SelectionPublic:
    """Open a selection with its job description (职务说明书); it starts in `drafting`."""
    selection = selections.create(session=session, data=data, user=admin, clock=clock)
    response.headers["Location"] = f"/api/v1/selections/{selection.id}"
    return _public(selection, response)


@router.get("", response_model=Page[SelectionPublic], responses=problems(401, 422))
def list_selections(
    session: SessionDep, user: CurrentUser, state: SelectionStateFilter = None,
    organization: Organization = None, q: TitleSearch = None,
    created_from: CreatedFrom = None, created_to: CreatedTo = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[SelectionPublic]:
    """The selections the caller may see, newest first (by creation, then id: a stable order
    for the cursor), filtered by state, organization, a text in the title and the day of
    creation; filters combine with AND. Keep the same filters when following `next_cursor`."""
    rows, nxt = access.list_selections(
        session=session, user=user, state=state.value if state else None,
        organization=organization, q=q,
        created_from=created_from, created_to=created_to, limit=limit, cursor=cursor)
    return Page[SelectionPublic](
        items=[SelectionPublic.model_validate(s, from_attributes=True) for s in rows],
        next_cursor=nxt, limit=limit,
    )


@router.get("/{selection_id}", response_model=SelectionPublic,
            responses=problems(401, 404, 422) | NOT_MODIFIED)
def read_selection(selection: CurrentSelection, response: Response) -> SelectionPublic:
    """One selection with its job description and settings; sends its ETag."""
    return _public(selection, response)


@router.patch("/{selection_id}", response_model=SelectionPublic,
              responses=problems(401, 403, 404, 409, 412, 422, 428))
def update_selection(
    data: SelectionUpdate, selection: CurrentSelection, session: SessionDep, admin: AdminUser,
    clock: ClockDep, response: Response, if_match: IfMatch = None,
) -> SelectionPublic:
    """Edit the job description, settings, title or posts, only while drafting."""
    check_write(if_match, KIND, selection, selection)
    selections.update(session=session, selection=selection, data=data, user=admin, clock=clock)
    return _public(selection, response)


@router.get("/{selection_id}/actions", response_model=ActionOptions,
            responses=problems(401, 404, 422))
@subject_etag
def list_selection_actions(
    selection: CurrentSelection, session: SessionDep, user: CurrentUser, clock: ClockDep,
    response: Response,
) -> ActionOptions:
    """Every action of the selection's workflow: whether the caller may run it now, and if
    not, why; sends the selection's ETag, for the If-Match of the action to run."""
    set_etag(response, KIND, selection.id, selection.version)
    return actions.describe(session, facts.SELECTION_KIND, selection, user, clock)


@router.post("/{selection_id}/actions/{action}", response_model=SelectionPublic,
             responses=problems(401, 403, 404, 409, 412, 422, 428),
             openapi_extra=common.actions_of(facts.SELECTION_KIND))
@in_one_hop
async def run_selection_action(
    action: ActionName, selection_id: SelectionId, principal: PrincipalDep, request: Request,
    settings: SettingsDep, body: Annotated[ActionRequest | None, Body()] = None,
    if_match: IfMatch = None,
) -> Response:
    """Run an action (e.g. `publish`, `cancel`) with a reason and its parameters; the state
    change and its event are written together, or neither is."""
    body = body or ActionRequest()

    def work(session: Session) -> Response:
        user = user_of(session, principal)
        selection = access.selection_to_change(session, user, selection_id)
        idempotency.settle()
        clock = current_clock(session, settings)
        check_write(if_match, KIND, selection, selection)
        facts.run_selection_action(session=session, selection=selection, action=action,
                                   user=user, clock=clock, reason=body.reason,
                                   params=body.params)
        return json_response(SelectionPublic.model_validate(selection, from_attributes=True),
                             headers={"ETag": etag_of(KIND, selection.id, selection.version)})

    return await one_hop(request, work)


@router.get("/{selection_id}/events", response_model=Page[EventPublic],
            responses=problems(401, 403, 404, 422))
def list_selection_events(
    selection: CurrentSelection, session: SessionDep, reader: RecordReader,
    limit: Limit = 100, cursor: EventsCursor = None,
) -> Page[EventPublic]:
    """The selection's own full-process record (全程纪实), oldest first: for admins and
    committee members once the selection is submitted to them (it holds the panel, the votes
    and the minutes)."""
    access.check_submitted_to_committee(reader, selection)
    return common.events(session, KIND, selection.id, limit, cursor)
