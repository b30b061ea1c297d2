"""Liveness and readiness."""

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import SQLAlchemyError

from ..core.db import get_engine
from ..core.errors import ServiceError, problems
from ..core.migrate import newest_revision, stored_revision
from ..core.routing import api_router

router = api_router(tags=["health"])


class Health(BaseModel):
    """Whether the service answers and, for readiness, its database and schema revision."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "status": "ok", "database": "ok", "revision": "0006", "head": "0006"}})

    status: str = Field(description="`ok`")
    database: str | None = Field(default=None, description="`ok` when the database answers")
    revision: str | None = Field(default=None, description="The database's migration")
    head: str | None = Field(default=None, description="The newest migration")


@router.get("/healthz", response_model=Health)
def healthz() -> Health:
    """Liveness: the process answers."""
    return Health(status="ok")


@router.get("/readyz", response_model=Health, responses=problems(503))
def readyz() -> Health:
    """Readiness: the database answers and its schema is at the newest migration."""
    head = newest_revision()  # neither asks Alembic: serving does not import it
    try:
        current = stored_revision(get_engine())
    except SQLAlchemyError as e:
        raise ServiceError("The database does not answer.", status_code=503, code="not_ready",
                           title="Not ready", details={"error": type(e).__name__}) from e
    if current != head:
        raise ServiceError(
            "The database schema is at {current}, not at the newest migration {head}; run "
            "`python -m service migrate`.", status_code=503, code="not_ready",
            title="Not ready", details={"revision": current, "head": head}, params={"current": current, "head": head})
    return Health(status="ok", database="ok", revision=current, head=head)
