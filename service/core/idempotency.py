"""Idempotency-Key on POST (IETF httpapi draft): a retry with the same key and payload gets
the stored response without acting again; the same key with another payload gets 422; a
retry while the first is still running gets 409. Keys are scoped to the caller and stored in
the database in the same transaction as the effect, so they hold across replicas.

What is found is not answered at once: the route's dependencies run first (the token is
checked against the account as it is now, then the route's roles), and only then does the
endpoint, instead of acting, answer with what was found (`settle`). So a stored response is
replayed only to the principal who made it, and only while they may still make the request.
A response marked `Cache-Control: no-store` (a bearer token, a generated password, a
webhook's signing secret) is never stored: its key is kept, so the action is not run twice,
and a retry is answered 409 `idempotency_response_not_kept`, pointing at the resource."""

from __future__ import annotations

import base64
import hashlib
import re
from contextvars import ContextVar
from datetime import timedelta

from fastapi import Request
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.responses import Response

from ..config import Settings
from .errors import Conflict, InvalidInput
from .forwarded import client_address
from .models import IdempotencyRecord, utcnow
from .security import InvalidToken, decode_token

HEADER = "idempotency-key"
KEPT_HEADERS = ("content-type", "etag", "location")
NOT_KEPT = "no-store"


class Replay(Exception):  # noqa: N818  (not an error: the endpoint's answer, found stored)
    """Raised by `settle` in place of the endpoint: the stored response to send."""

    def __init__(self, response: Response):
        super().__init__("idempotent replay")
        self.response = response


# What `begin` found, for `settle` to answer once the route's dependencies have passed.
_found: ContextVar[Response | Exception | None] = ContextVar("idempotency_found", default=None)


def caller_scope(request: Request, settings: Settings) -> str:
    """Whose key this is: the bearer token's user, or the client address when anonymous."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        try:
            return "user:" + decode_token(settings, auth[7:].strip())["sub"]
        except InvalidToken:
            pass
    return f"anon:{client_address(request)}"[:80]


# The key as sent: 1 to 255 printable ASCII characters, not beginning or ending with a space,
# optionally in double quotes (a Structured Field string, as the draft writes it), which are
# not part of the key. The OpenAPI document states the same pattern.
KEY_PATTERN = r'^"?[\x21\x23-\x7e](?:[\x20-\x7e]{0,253}[\x21\x23-\x7e])?"?$'


def check_key(raw: str) -> None:
    """Refuse an Idempotency-Key that is not 1 to 255 printable characters (422)."""
    if not re.fullmatch(KEY_PATTERN, raw):
        raise InvalidInput("Idempotency-Key must be 1 to 255 printable characters.",
                           code="invalid_idempotency_key",
                           errors=[{"field": "header.Idempotency-Key", "message": "1 to 255"
                                    " printable characters", "type": "value_error"}])


def wanted(request: Request) -> bool:
    """Whether this request asks for idempotency."""
    return request.method == "POST" and HEADER in request.headers


def hold(found: Response | Exception | None) -> None:
    """Keep what `begin` found for this request (set in the request's context)."""
    _found.set(found)


def settle() -> None:
    """Called in place of the endpoint's work, after its dependencies (authentication, the
    route's roles) have passed: answer with what `begin` found, if anything."""
    found = _found.get()
    if found is None:
        return
    _found.set(None)
    if isinstance(found, Exception):
        raise found
    raise Replay(found)


def _kept(headers: dict) -> bool:
    return NOT_KEPT not in str(headers.get("cache-control", "")).lower()


def begin(session: Session, request: Request, settings: Settings, body: bytes
          ) -> tuple[IdempotencyRecord | None, Response | Exception | None]:
    """Claim the key in the request's transaction, or find what answers it (a stored
    response, or a refusal), to be given by `settle` once the route has authorized the
    caller."""
    raw = request.headers[HEADER]
    check_key(raw)
    key = raw.strip('"')
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
            return None, InvalidInput("This Idempotency-Key was used with another request.",
                                      code="idempotency_key_reused")
        if found.response_status is None:
            return None, Conflict("A request with this Idempotency-Key is still being"
                                  " processed.", code="idempotency_in_progress")
        if not _kept(found.response_headers):
            location = found.response_headers.get("location")
            return None, Conflict(
                "This request was already done; its response held a secret, which is shown"
                " only once and not kept, so it cannot be replayed."
                + (f" The resource is at {location}." if location else ""),
                code="idempotency_response_not_kept",
                details={"status": found.response_status, "location": location})
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
    """Store the response beside the effect (the caller commits both); of a response marked
    `Cache-Control: no-store` only its status and location, never its body."""
    headers = {k.lower(): v for k, v in response.headers.items()}
    record.response_status = response.status_code
    if _kept(headers):
        record.response_body = base64.b64encode(bytes(response.body)).decode()
        record.response_headers = {k: v for k, v in headers.items() if k in KEPT_HEADERS}
    else:
        record.response_body = None
        record.response_headers = {k: v for k, v in headers.items()
                                   if k in ("location", "cache-control")}
    session.add(record)


def purge_expired(session: Session) -> int:
    """Forget keys past their time; return how many."""
    rows = session.exec(select(IdempotencyRecord).where(
        IdempotencyRecord.expires_at < utcnow())).all()
    for r in rows:
        session.delete(r)
    return len(rows)
