"""What every subject's routes share: query parameters, and the record as a page."""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Path, Query
from sqlmodel import Session

from ..core.pagination import EXAMPLE_CURSOR, EXAMPLE_EVENTS_CURSOR, Page
from ..core.schemas import NO_NUL
from ..record import service as record
from ..record.actions import SubjectKind
from ..record.schemas import EventPublic

Limit = Annotated[int, Query(ge=1, le=200, description="Page size", examples=[50])]
# A cursor is base64url text (RFC 4648 §5, unpadded), as the service issues it.
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"
Cursor = Annotated[str | None, Query(max_length=500, pattern=CURSOR_PATTERN,
                                     description="`next_cursor` of the previous page",
                                     examples=[EXAMPLE_CURSOR])]
EventsCursor = Annotated[str | None, Query(max_length=500, pattern=CURSOR_PATTERN,
                                           description="`next_cursor` of the previous page",
                                           examples=[EXAMPLE_EVENTS_CURSOR])]
ActionName = Annotated[str, Path(max_length=64, pattern=NO_NUL,
                                 description="The action's id, e.g. `publish`",
                                 examples=["publish"])]
UserId = Annotated[uuid.UUID, Path(description="The user's id",
                                   examples=["1a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"])]
MeetingId = Annotated[uuid.UUID, Path(description="The committee meeting's id",
                                      examples=["4e5f6a7b-8c9d-4e0f-a1b2-c3d4e5f6a7b8"])]
NotificationId = Annotated[uuid.UUID, Path(description="The outcome email's id",
                                           examples=["6f7a8b9c-0d1e-4f2a-b3c4-d5e6f7a8b9c0"])]
CorrectionId = Annotated[uuid.UUID, Path(description="The sheet correction's id",
                                         examples=["5c6d7e8f-9a0b-4c1d-8e2f-3a4b5c6d7e8f"])]
ObjectionId = Annotated[uuid.UUID, Path(description="The objection's id",
                                        examples=["8a9b0c1d-2e3f-4a4b-85c6-d7e8f9a0b1c2"])]


ACTIONS_OF = "x-actions-of"


def actions_of(kind: SubjectKind) -> dict[str, Any]:
    """The `openapi_extra` of a route that runs any action of a kind of subject
    (`…/actions/{action}`): the document lists one operation per action of its machine, each
    with its own params, in its place (service/openapi.py)."""
    return {ACTIONS_OF: kind.machine}


def events(session: Session, kind: str, subject_id: uuid.UUID, limit: int,
           cursor: str | None, redact: Callable[[dict], dict] | None = None
           ) -> Page[EventPublic]:
    """One page of a subject's record, oldest first; `redact` rewrites each event for a
    reader who may not see all of it."""
    rows, nxt = record.events_page(session, subject_type=kind, subject_id=subject_id,
                                   limit=limit, cursor=cursor)
    items = [EventPublic.model_validate(e, from_attributes=True) for e in rows]
    if redact is not None:
        items = [EventPublic.model_validate(redact(e.model_dump())) for e in items]
    return Page[EventPublic](items=items, next_cursor=nxt, limit=limit)
