"""What every subject's routes share: query parameters, and the record as a page."""

import uuid
from typing import Annotated

from fastapi import Path, Query
from sqlmodel import Session

from .. import record
from ..pagination import Page
from ..schemas import EventPublic

Limit = Annotated[int, Query(ge=1, le=200, description="Page size")]
Cursor = Annotated[str | None, Query(max_length=500, description="`next_cursor` of the previous"
                                     " page")]
ActionName = Annotated[str, Path(max_length=64, description="The action's id, e.g. `publish`")]


def events(session: Session, kind: str, subject_id: uuid.UUID, limit: int,
           cursor: str | None) -> Page[EventPublic]:
    """One page of a subject's record, oldest first."""
    rows, nxt = record.events_page(session, subject_type=kind, subject_id=subject_id,
                                   limit=limit, cursor=cursor)
    return Page[EventPublic](items=[EventPublic.model_validate(e, from_attributes=True)
                                    for e in rows], next_cursor=nxt, limit=limit)
