"""The application: routers, error handlers, request ids, CORS and the OpenAPI document."""

from __future__ import annotations

import re
import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__, openapi
from .config import get_settings
from .core import db
from .core.errors import PROBLEM_MEDIA_TYPE, install_handlers, problem_response
from .core.forwarded import ForwardedForMiddleware
from .core.i18n import LanguageMiddleware
from .core.routing import operation_id, serve_routes
from .record.service import request_id_var
from .routers import (
    auth,
    calendar,
    candidates,
    followup,
    health,
    nominations,
    public,
    record,
    reports,
    review,
    selections,
    users,
    webhooks,
    workflow,
)

DESCRIPTION = """
Runs the open selection of party branch secretaries (党支部书记公开选拔) as an audited state
machine: the job description (职务说明书), publicity and nomination, the three reviews and the
party committee's decision, and the follow-up (四步曲).

* Log in with `POST /api/v1/auth/token` (OAuth2 password flow) and send
  `Authorization: Bearer <token>`; renew it with the refresh token at
  `POST /api/v1/auth/refresh` (rotating: a replayed one ends every token of
  the account), end it with
  `POST /api/v1/auth/logout`.
* Every state change is an action: `GET …/actions` says which the caller may run now and
  why not the rest; `POST …/actions/{action}` runs one, and this document lists each action
  as its own operation with its typed `params`. Each writes an append-only, hash-chained
  event (全程纪实).
* Resources carry a strong `ETag`; send it back in `If-Match` to avoid lost updates (412).
  A selection with `require_if_match` on (new ones, by default) refuses writes to it and its
  candidates without `If-Match` (428). `If-None-Match` with the current ETag gets 304.
* Every error is `application/problem+json` (RFC 9457) with a stable `code`.
* Display fields (`*_label`, problem `title`) follow `Accept-Language`: Chinese (`zh-CN`) by
  default, English with `en`. Identifiers (states, actions, outcomes, error codes) never
  change with the language; the answer says which it used in `Content-Language`.
"""

TAGS = [
    {"name": "auth", "description": "Log in and see who you are"},
    {"name": "users", "description": "Users and their roles (admins)"},
    {"name": "step 1: selections",
     "description": "Selections and their job descriptions (职务说明书); their actions and record"},
    {"name": "step 2: publicity and nomination",
     "description": "Nominations by bodies (党、政、工、团), self-applications, the candidate list"},
    {"name": "step 3: reviews and decision",
     "description": "Pre-review, the interview (panel, declarations, score sheets, evaluation,"
                    " ranking), the inspection, and the party committee's meeting"},
    {"name": "step 4: follow-up",
     "description": "Outcome emails, pre-appointment publicity and objections, the trial with"
                    " its mentor and records, the reserve pool"},
    {"name": "reports",
     "description": "A selection's report (funnel, ranking, the committee's record) as JSON and"
                    " as a printable page; the candidate table as CSV and XLSX for HR systems"},
    {"name": "candidates", "description": "Candidates, their actions and record"},
    {"name": "public", "description": "The public announcement of posts (no login)"},
    {"name": "calendar and clock",
     "description": "Chinese working days, overrides, and the simulated clock (情景模拟)"},
    {"name": "record", "description": "The full-process record (全程纪实) as a whole"},
    {"name": "workflow", "description": "The state machines, from the transition table"},
    {"name": "webhooks",
     "description": "Subscriptions of HR systems to events of the record, signed per Standard"
                    " Webhooks; their deliveries, tries and redelivery (admins)"},
    {"name": "health", "description": "Liveness and readiness"},
]


class RequestIdMiddleware:
    """Gives every request an id (X-Request-ID, kept when the caller sends a sane one)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        sent = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = sent if 0 < len(sent) <= 128 and sent.isprintable() else uuid.uuid4().hex
        token = request_id_var.set(rid)

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            request_id_var.reset(token)


class ProblemCORSMiddleware(CORSMiddleware):
    """CORS whose refused preflight is a problem document like every other error, and whose
    answers to an origin not allowed carry no CORS header at all (Starlette's would still
    carry the exposed headers)."""

    async def send(self, message, send, request_headers):
        origin = request_headers.get("origin")
        if (message["type"] == "http.response.start" and origin is not None
                and not self.is_allowed_origin(origin=origin)):
            message.setdefault("headers", [])
            headers = MutableHeaders(scope=message)
            headers["Vary"] = ", ".join([*headers.getlist("Vary"), "Origin"])
            return await send(message)
        return await super().send(message, send, request_headers)

    def preflight_response(self, request_headers):
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode("utf-8", "replace")
        return problem_response(400, "cors_refused", "Bad request",
                                "{refused}; allowed origins are set in SELECTION_CORS_ORIGINS.", params={"refused": refused})


# What a browser's script may read of an answer from another origin (beyond the CORS-safelisted
# Content-Type and the like): the version for If-Match, where a new resource is, the request
# id for support, the file name of an export, how long to wait, whether an answer was replayed,
# and the language of the labels.
EXPOSED_HEADERS = ["ETag", "Location", "X-Request-ID", "Content-Disposition", "Retry-After",
                   "Idempotent-Replayed", "Content-Language"]


class BodyTooLarge(StarletteHTTPException):
    """Raised while reading a body that outgrows the limit."""

    def __init__(self, limit: int):
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimitMiddleware:
    """Refuses request bodies over the configured size with 413 problem+json."""

    def __init__(self, app, max_bytes: int):
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = problem_response(413, "payload_too_large", "Payload too large",
                                        "The request body is larger than {max_bytes} bytes.",
                                        request=Request(scope),
                                        params={"max_bytes": self.max_bytes})
            return await response(scope, receive, send)
        seen = 0

        async def counting_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)


def _models(cls: type[BaseModel] = BaseModel):
    """Every pydantic model class defined so far."""
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def _restore_example_nulls(schemas: dict[str, Any]) -> None:
    """Put back the `null`s of the models' own examples: FastAPI writes the document without
    any null value (exclude_none), examples included, which would make an example whose
    required field is null (`delivered_at` of a pending delivery) invalid against its schema.
    A model's example replaces the document's only when the two differ by nulls alone."""
    for model in _models():
        name = re.sub(r"[^a-zA-Z0-9.\-_]", "_", model.__name__)
        doc_schema = schemas.get(name)
        if not doc_schema or "example" not in doc_schema:
            continue
        extra = model.model_config.get("json_schema_extra")
        if callable(extra):
            extra = model.model_json_schema()
        own = extra.get("example") if isinstance(extra, dict) else None
        if own is not None and jsonable_encoder(own, exclude_none=True) == doc_schema["example"]:
            doc_schema["example"] = jsonable_encoder(own)


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """The OpenAPI document, with every error response as application/problem+json."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes, tags=app.openapi_tags)
    for path in schema.get("paths", {}).values():
        for op in path.values():
            for status, resp in op.get("responses", {}).items():
                content = resp.get("content", {})
                if status.isdigit() and int(status) >= 400 and content:
                    # declared under the route's own media type (JSON, or HTML for pages)
                    resp["content"] = {PROBLEM_MEDIA_TYPE: next(iter(content.values()))}
    openapi.refine(schema, app)
    comps = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        comps.pop(unused, None)
    _restore_example_nulls(comps)
    app.openapi_schema = schema
    return schema


def warm_routes(app: FastAPI) -> None:
    """Build every included router's routes now. FastAPI builds an included router's routes
    when the first request reaches it: done here, before the app answers, readiness means
    the whole API is ready and no first user pays for it. (The API's own routes are the
    app's since `serve_routes`, built as they are defined; this holds for any other.)"""
    for route in app.router.routes:
        build = getattr(route, "effective_candidates", None)
        if callable(build):
            build()


def in_process_senders(settings: Any) -> tuple[Any, Any]:
    """The modules of the senders that run in this process, imported (None for one that
    does not run here): the email sender's when SMTP is configured and it runs in-process,
    the webhook sender's when it does. `serve` calls it before forking its workers, so that
    they find these imported already."""
    from .outbox.poller import Poller  # noqa: F401  (the lifespan's, imported with them)

    mailer = webhooks = None
    if settings.mail_sender_in_process and settings.smtp_host:
        from .outbox import mailer
    if settings.webhook_sender_in_process:
        from .webhooks import sender as webhooks
    return mailer, webhooks


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Build the routes; start the email sender with the app when SMTP is configured and it
    runs in-process, and the webhook sender when it runs in-process."""
    from .outbox.poller import Poller
    from .record import service as record_service

    warm_routes(app)
    settings = get_settings()
    mailer, webhooks = in_process_senders(settings)
    sender = None
    if mailer:
        sender = Poller("mail-sender", settings.mail_poll_seconds,
                        lambda: mailer.send_due(settings))
        sender.start()
    hooks = None
    if webhooks:
        hooks = Poller("webhook-sender", settings.webhook_poll_seconds,
                       lambda: webhooks.send_due(settings))
        hooks.start()
    # The record's automatic checkpoints: every N events and at least daily (README, the record)
    checkpoints = Poller("record-checkpoint", settings.record_checkpoint_poll_seconds,
                         lambda: record_service.checkpoint_round(settings))
    checkpoints.start()
    # SQLite's WAL, copied into the database file beside the writers (service/core/db.py)
    wal = db.WalCheckpoints(db.get_engine()) if settings.is_sqlite else None
    wal_thread = Poller("sqlite-wal-checkpoint", db.WAL_CHECKPOINT_SECONDS, wal.round) \
        if wal and wal.conn else None
    if wal_thread:
        wal_thread.start()
    yield
    if wal_thread:
        wal_thread.stop()
    if wal:
        wal.close()
    checkpoints.stop()
    if sender:
        sender.stop()
    if hooks:
        hooks.stop()


def create_app() -> FastAPI:
    """Build the application."""
    settings = get_settings()
    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from assets
    # installed with the package (fastapi-offline), not from a CDN: intranets have none.
    app = FastAPIOffline(
        lifespan=lifespan,
        static_url="/docs-assets",
        title="Branch Secretary Open Selection (党支部书记公开选拔)",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=operation_id,
        separate_input_output_schemas=False,
    )
    install_handlers(app)
    # Every request is matched against the routes in this order, one by one: the busiest
    # (an action on a candidate, a score sheet, the lists) come first. No two routes match
    # the same request (tests/api/test_routes.py), so the order changes nothing else.
    serve_routes(app, *(r.router for r in (health, auth, candidates, review, nominations,
                                           selections, followup, users, public, calendar,
                                           record, workflow, webhooks, reports)),
                 webhooks.types_router)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    # Always in place, and outside every layer that answers on its own (the body limit's
    # 413), so that an allowed origin reads every answer, errors too; inside the language
    # and the request id, which its own answers carry. With no origins configured, every
    # origin's preflight is refused with 400 `cors_refused` (not a 405 of the route).
    app.add_middleware(
        ProblemCORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
        allow_methods=["*"], allow_headers=["*"], expose_headers=EXPOSED_HEADERS,
        max_age=600,
    )
    app.add_middleware(LanguageMiddleware, time_zone=settings.time_zone)
    app.add_middleware(RequestIdMiddleware)
    app.add_middleware(ForwardedForMiddleware)  # outermost: every layer sees the client
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
