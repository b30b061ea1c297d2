"""The limit: the least a FastAPI app can do for the same work, on the same database.

One authenticated JSON POST that does a single-row UPDATE in one transaction, and one GET of
one row, with the service's stack (FastAPI, uvicorn, SQLAlchemy, the same driver, a JWT
bearer verified by python-jose with the same claims checks) and nothing else: no session
per request beyond the one statement, no workflow, no record, no idempotency.

    SELECTION_DATABASE_URL=… SELECTION_SECRET_KEY=… uvicorn bench.limit_app:app --workers 2
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, HTTPException
from fastapi.security import OAuth2PasswordBearer
from jose import JOSEError, jwt
from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Uuid,
    create_engine,
    event,
    select,
    update,
)

URL = os.environ["SELECTION_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
KEY = os.environ["SELECTION_SECRET_KEY"]
ISSUER, AUDIENCE = "branch-secretary-selection", "branch-secretary-selection-api"

candidate = Table("candidate", MetaData(), Column("id", Uuid, primary_key=True),
                  Column("state", String), Column("full_name", String),
                  Column("version", Integer), Column("updated_at", DateTime))

if URL.startswith("sqlite"):
    engine = create_engine(URL, connect_args={"check_same_thread": False, "timeout": 30},
                           pool_size=20, max_overflow=20)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=15000")
        dbapi_conn.execute("PRAGMA synchronous=NORMAL")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
else:
    engine = create_engine(URL, pool_size=10, max_overflow=20)

app = FastAPI()
bearer = OAuth2PasswordBearer(tokenUrl="/token")


def user_id(token: str = Depends(bearer)) -> str:
    """The token's subject, verified as the service verifies it."""
    try:
        claims = jwt.decode(token, KEY, algorithms=["HS256"], audience=AUDIENCE, issuer=ISSUER,
                            options={"require_exp": True, "require_sub": True, "leeway": 0})
    except JOSEError as e:
        raise HTTPException(401, "invalid token") from e
    return claims["sub"]


class Change(BaseModel):
    """The body of the POST."""

    note: str = ""


@app.post("/items/{item_id}")
def write(item_id: uuid.UUID, change: Change, sub: str = Depends(user_id)) -> dict:
    """One UPDATE of one row in one transaction."""
    with engine.begin() as conn:
        version = conn.execute(
            update(candidate).where(candidate.c.id == item_id)
            .values(version=candidate.c.version + 1, updated_at=datetime.now(UTC))
            .returning(candidate.c.version)).scalar_one_or_none()
    if version is None:
        raise HTTPException(404, "no such row")
    return {"id": str(item_id), "version": version}


@app.get("/items/{item_id}")
def read(item_id: uuid.UUID, sub: str = Depends(user_id)) -> dict:
    """One row."""
    with engine.connect() as conn:
        row = conn.execute(select(candidate.c.id, candidate.c.state, candidate.c.full_name,
                                  candidate.c.version)
                           .where(candidate.c.id == item_id)).first()
    if row is None:
        raise HTTPException(404, "no such row")
    return {"id": str(row.id), "state": row.state, "full_name": row.full_name,
            "version": row.version}
