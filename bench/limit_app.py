"""The limit: the least a FastAPI app can do for the same work, on the same database.

One authenticated JSON POST that does a single-row UPDATE in one transaction, and one GET of
one row, with the service's stack (FastAPI, uvicorn, SQLAlchemy, the same driver, a JWT
bearer verified by python-jose with the same claims checks) and nothing else: no session
per request beyond the one statement, no workflow, no record, no idempotency.

And the work-equivalent limit (`POST /work/{id}`): the least a candidate action must do, in
one transaction — lock the row, bump it, append an event to the row's chain (its canonical
JSON MAC'ed with the record's key, as the service hashes it) and write a webhook outbox row —
with plain Core statements and nothing else (no user lookup, no workflow, no validation of
the response).

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

meta = MetaData()
candidate = Table("candidate", meta, Column("id", Uuid, primary_key=True),
                  Column("state", String), Column("full_name", String),
                  Column("selection_id", Uuid),
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


@app.post("/work/{item_id}")
def work(item_id: uuid.UUID, change: Change, sub: str = Depends(user_id)) -> dict:
    """Lock the row, bump it, append a chained event, write an outbox row: one transaction."""
    from service.record.keys import keyring
    from service.record.models import Event
    from service.record.service import sealed
    from service.webhooks.models import WebhookDelivery

    ring = keyring()
    now = datetime.now(UTC)
    subscription = _subscription()  # not inside the transaction: SQLite has one writer
    with engine.begin() as conn:
        row = conn.execute(select(candidate.c.state, candidate.c.version,
                                  candidate.c.selection_id).where(candidate.c.id == item_id)
                           .with_for_update()).first()
        if row is None:
            raise HTTPException(404, "no such row")
        conn.execute(update(candidate).where(candidate.c.id == item_id)
                     .values(version=row.version + 1, updated_at=now))
        ev = Event.__table__
        head = conn.execute(select(ev.c.seq, ev.c.hash).where(
            ev.c.subject_type == "candidate", ev.c.subject_id == item_id)
            .order_by(ev.c.seq.desc()).limit(1)).first()
        values = {"id": uuid.uuid4(), "subject_type": "candidate", "subject_id": item_id,
                  "seq": head.seq + 1 if head else 1, "selection_id": row.selection_id,
                  "action": "bench_work", "from_state": row.state, "to_state": row.state,
                  "actor_id": uuid.UUID(sub), "actor_role": "admin", "reason": change.note,
                  "params": {}, "request_id": None, "occurred_at": now, "simulated_at": None,
                  "prev_hash": head.hash if head else "0" * 64, "key_id": ring.current}
        values["body"], values["hash"] = sealed(values, ring.keys[ring.current])
        conn.execute(ev.insert(), values)
        conn.execute(WebhookDelivery.__table__.insert(), {
            "id": f"msg_{uuid.uuid4().hex}", "subscription_id": subscription,
            "event_id": values["id"], "event_type": "candidate.state_changed",
            "payload": {"event_id": str(values["id"]), "seq": values["seq"]},
            "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now})
    return {"id": str(item_id), "version": row.version + 1}


_SUBSCRIPTION: list[uuid.UUID] = []


def _subscription() -> uuid.UUID:
    """The seeded webhook subscription (read once)."""
    if not _SUBSCRIPTION:
        from service.webhooks.models import WebhookSubscription

        with engine.connect() as conn:
            _SUBSCRIPTION.append(conn.execute(select(WebhookSubscription.__table__.c.id)
                                              .limit(1)).scalar_one())
    return _SUBSCRIPTION[0]
