"""Liveness and readiness."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from ..db import get_engine
from ..migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    database: str | None = None
    revision: str | None = None
    head: str | None = None


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses={503: {"model": Health}})
def readyz():
    """Readiness: the database answers and its schema is at the newest migration."""
    head = head_revision()
    try:
        current = current_revision(get_engine())
    except SQLAlchemyError as e:
        body = Health(status="unavailable", database=f"error: {type(e).__name__}", head=head)
        return JSONResponse(body.model_dump(), status_code=503)
    if current != head:
        body = Health(status="unavailable", database="ok", revision=current, head=head)
        return JSONResponse(body.model_dump(), status_code=503)
    return Health(status="ok", database="ok", revision=current, head=head)
