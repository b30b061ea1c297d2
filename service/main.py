"""The application: routers, error handlers, request ids, CORS and the OpenAPI document."""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from . import __version__
from .config import get_settings
from .errors import PROBLEM_MEDIA_TYPE, install_handlers, problem_response
from .record import request_id_var
from .routers import (
    auth,
    calendar,
    candidates,
    followup,
    health,
    nominations,
    public,
    record,
    review,
    selections,
    users,
    workflow,
)

DESCRIPTION = """
Runs the open selection of party branch secretaries (党支部书记公开选拔) as an audited state
machine: the job description (职务说明书), publicity and nomination, the three reviews and the
party committee's decision, and the follow-up (四步曲).

* Log in with `POST /api/v1/auth/token` (OAuth2 password flow) and send
  `Authorization: Bearer <token>`.
* Every state change is an action: `GET …/actions` says which the caller may run now and
  why not the rest; `POST …/actions/{action}` runs one. Each writes an append-only,
  hash-chained event (全程纪实).
* Resources carry a strong `ETag`; send it back in `If-Match` to avoid lost updates (412).
* Every error is `application/problem+json` (RFC 9457) with a stable `code`.
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
    {"name": "candidates", "description": "Candidates, their actions and record"},
    {"name": "public", "description": "The public announcement of posts (no login)"},
    {"name": "calendar and clock",
     "description": "Chinese working days, overrides, and the simulated clock (情景模拟)"},
    {"name": "record", "description": "The full-process record (全程纪实) as a whole"},
    {"name": "workflow", "description": "The state machines, from the transition table"},
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
                                        f"The request body is larger than {self.max_bytes}"
                                        " bytes.")
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


def _operation_id(route: APIRoute) -> str:
    return route.name


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
    comps = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        comps.pop(unused, None)
    app.openapi_schema = schema
    return schema


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Start the email sender with the app when SMTP is configured and it runs in-process."""
    from .mailer import SenderThread

    settings = get_settings()
    sender = None
    if settings.mail_sender_in_process and settings.smtp_host:
        sender = SenderThread(settings)
        sender.start()
    yield
    if sender:
        sender.stop()


def create_app() -> FastAPI:
    """Build the application."""
    settings = get_settings()
    app = FastAPI(
        lifespan=lifespan,
        title="Branch Secretary Open Selection (党支部书记公开选拔)",
        version=__version__,
        description=DESCRIPTION,
        openapi_tags=TAGS,
        generate_unique_id_function=_operation_id,
        separate_input_output_schemas=False,
    )
    install_handlers(app)
    for r in (health, auth, users, selections, nominations, review, followup, candidates,
              public, calendar, record, workflow):
        app.include_router(r.router)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware, allow_origins=settings.cors_origins, allow_credentials=False,
            allow_methods=["*"], allow_headers=["*"],
            expose_headers=["ETag", "Location", "X-Request-ID"],
        )
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    return app


app = create_app()
