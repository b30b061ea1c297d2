"""Idempotency-Key on POST (IETF httpapi draft): a retry with the same key and payload gets
the stored response without acting again; the same key with another payload gets 422; a
retry while the first is still running gets 409. Keys are scoped to the caller and stored in
the database in the same transaction as the effect, so they hold across replicas."""

from __future__ import annotations

import base64
import hashlib
from datetime import timedelta

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.responses import Response

from ..config import Settings
from .errors import Conflict, InvalidInput
from .models import IdempotencyRecord, utcnow
from .security import InvalidToken, decode_token

HEADER = "idempotency-key"
KEPT_HEADERS = ("content-type", "etag", "location")


def caller_scope(request: Request, settings: Settings) -> str:
    """Whose key this is: the bearer token's user, or the client address when anonymous."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        try:
            return "user:" + decode_token(settings, auth[7:].strip())["sub"]
        except InvalidToken:
            pass
    host = request.client.host if request.client else "unknown"
    return f"anon:{host}"[:80]


def _check_key(key: str) -> None:
    if not 1 <= len(key) <= 255 or not key.isprintable():
        raise InvalidInput("Idempotency-Key must be 1 to 255 printable characters.",
                           code="invalid_idempotency_key",
                           errors=[{"field": "header.Idempotency-Key", "message": "1 to 255"
                                    " printable characters", "type": "value_error"}])


def wanted(request: Request) -> bool:
    """Whether this request asks for idempotency."""
    return request.method == "POST" and HEADER in request.headers


def begin(session: Session, request: Request, settings: Settings, body: bytes
          ) -> tuple[IdempotencyRecord | None, Response | None]:
    """Claim the key in the request's transaction, or answer from what is stored."""
    key = request.headers[HEADER].strip().strip('"')
    _check_key(key)
    digest = hashlib.sha256(
        request.method.encode() + b" " + request.url.path.encode() + b"?"
        + request.url.query.encode() + b"\n" + body).hexdigest()
    scope = caller_scope(request, settings)
    now = utcnow()
    found = session.exec(select(IdempotencyRecord).where(
        IdempotencyRecord.scope == scope, IdempotencyRecord.key == key).with_for_update()).first()
    if found is not None and found.expires_at < now:
        session.delete(found)
        session.flush()
        found = None
    if found is not None:
        if found.request_hash != digest:
            raise InvalidInput("This Idempotency-Key was used with another request.",
                               code="idempotency_key_reused")
        if found.response_status is None:
            raise Conflict("A request with this Idempotency-Key is still being processed.",
                           code="idempotency_in_progress")
        headers = dict(found.response_headers) | {"Idempotent-Replayed": "true"}
        return None, Response(content=base64.b64decode(found.response_body or ""),
                              status_code=found.response_status, headers=headers)
    record = IdempotencyRecord(scope=scope, key=key, method=request.method,
                               path=request.url.path[:500], request_hash=digest,
                               expires_at=now + timedelta(hours=settings.idempotency_hours))
    session.add(record)
    try:
        session.flush()  # on PostgreSQL a concurrent twin waits here for the first to finish
    except IntegrityError as e:
        raise Conflict("A request with this Idempotency-Key is still being processed.",
                       code="idempotency_in_progress") from e
    return record, None


def finish(session: Session, record: IdempotencyRecord, response: Response) -> None:
    """Store the response beside the effect (the caller commits both)."""
    record.response_status = response.status_code
    record.response_body = base64.b64encode(bytes(response.body)).decode()
    record.response_headers = {k: v for k, v in response.headers.items()
                               if k.lower() in KEPT_HEADERS}
    session.add(record)


def purge_expired(session: Session) -> int:
    """Forget keys past their time; return how many."""
    rows = session.exec(select(IdempotencyRecord).where(
        IdempotencyRecord.expires_at < utcnow())).all()
    for r in rows:
        session.delete(r)
    return len(rows)
