"""The full-process record as a whole: verify its hash chains."""

import uuid

from fastapi import APIRouter
from pydantic import BaseModel

from .. import record
from ..deps import AdminUser, SessionDep
from ..errors import problems
from ..routing import TransactionalRoute

router = APIRouter(route_class=TransactionalRoute, prefix="/api/v1/admin/record",
                   tags=["record"])


class BrokenLinkPublic(BaseModel):
    event_id: uuid.UUID
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    problem: str


class Verification(BaseModel):
    """Whether every subject's chain of events holds, and the first link that does not."""

    intact: bool
    events_verified: int
    first_broken: BrokenLinkPublic | None


@router.get("/verification", response_model=Verification, responses=problems(401, 403))
def verify_record(session: SessionDep, admin: AdminUser) -> Verification:
    """Walk every hash chain of the record (streaming, in constant memory) and name the first
    broken link, if any — the same check as `python -m service verify-record`."""
    count, broken = record.verify(session)
    return Verification(
        intact=broken is None, events_verified=count,
        first_broken=BrokenLinkPublic(**broken.__dict__) if broken else None)
