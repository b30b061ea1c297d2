"""One error family (ServiceError) and the handlers that turn every error into problem+json.

RFC 9457: `type`, `title`, `status`, `detail`, plus a stable `code` and, for bad input,
`errors` naming each field.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..workflow import WorkflowError
from . import i18n
from .schemas import NO_NUL, NOT_BLANK, FieldName

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_BASE = "https://selection.example/problems/"


class FieldError(BaseModel):
    """One field that was wrong."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "field": "body.job_description.duties", "message": "List should have at least 1 item"
        " after validation, not 0", "type": "too_short"}})

    field: str = Field(description="Dotted path of the field, e.g. `body.job_description.duties.0`")
    message: str
    type: str = Field(description="Machine-readable kind of error, e.g. `string_too_long`")


class Problem(BaseModel):
    """An RFC 9457 problem document."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "type": TYPE_BASE + "action_not_allowed_in_state",
                "title": "Action not allowed in this state",
                "status": 409,
                "detail": "'publish' cannot run while the selection is 'reviewing'.",
                "code": "action_not_allowed_in_state",
            }
        }
    )

    type: str
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable error code")
    instance: str | None = None
    errors: list[FieldError] | None = None
    details: dict[str, Any] | None = Field(
        default=None, description="Facts behind the refusal (e.g. the end date)"
    )


class ServiceError(Exception):
    """Base of every error the services raise; one handler renders them all."""

    status_code = 400
    code = "bad_request"
    title = "Bad request"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status_code: int | None = None,
        title: str | None = None,
        details: dict[str, Any] | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
    ):
        self.template = detail  # English, the catalogue's key; `params` fill it
        self.params = dict(params or {})
        self.detail = detail.format(**self.params) if self.params else detail
        super().__init__(self.detail)
        self.code = code or self.code
        self.status_code = status_code or self.status_code
        self.title = title or self.title
        self.details = details
        self.errors = errors
        self.headers = headers


class NotFound(ServiceError):
    status_code = 404
    code = "not_found"
    title = "Not found"


class Conflict(ServiceError):
    status_code = 409
    code = "conflict"
    title = "Conflict"


class RuleRefused(Conflict):
    """A rule of the process says no (quorum, votes, who may be decided on): titled as the
    workflow's guards title their refusals."""

    title = "Action refused by a rule"


class Forbidden(ServiceError):
    status_code = 403
    code = "forbidden"
    title = "Forbidden"


class Unauthorized(ServiceError):
    status_code = 401
    code = "not_authenticated"
    title = "Not authenticated"

    def __init__(self, detail: str, **kw):
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(detail, **kw)


class PreconditionFailed(ServiceError):
    status_code = 412
    code = "precondition_failed"
    title = "Precondition failed"


class PreconditionRequired(ServiceError):
    status_code = 428
    code = "precondition_required"
    title = "Precondition required"


class InvalidInput(ServiceError):
    status_code = 422
    code = "validation_error"
    title = "Invalid input"


def refuse_future_date(day: date, today: date, *, what: str, field: str,
                       error: type[ServiceError] = InvalidInput) -> None:
    """Refuse a record dated after today (`date_in_future`): it records what has happened.
    `what` names the record (the catalogue's `dated_record` labels); `field` is the dotted path
    of the date."""
    if day <= today:
        return
    raise error("{record} is dated {day}, after today ({today}); only what has already happened"
                " can be recorded.", code="date_in_future",
                details={"field": field, "date": day.isoformat(), "today": today.isoformat()},
                params={"record": i18n.label("dated_record", what), "day": day, "today": today},
                errors=[{"field": field, "type": "date_in_future",
                         "message": i18n._("{day} is after today ({today})", day=day,
                                           today=today)}])


def problem_of(exc: ServiceError | WorkflowError) -> Problem:
    """The problem document for a refusal, whether a service's or the workflow engine's."""
    if isinstance(exc, WorkflowError):
        return Problem(type=TYPE_BASE + exc.code, title=i18n.title(exc.title), status=exc.status,
                       detail=i18n.refusal_text(exc.template, exc.params), code=exc.code,
                       details=exc.details or None)
    return Problem(type=TYPE_BASE + exc.code, title=i18n.title(exc.title), status=exc.status_code,
                   detail=i18n.refusal_text(exc.template, exc.params), code=exc.code,
                   details=exc.details or None, errors=_said(exc.errors))


def _said(errors: list[dict[str, Any]] | None) -> list[dict[str, str]] | None:
    """A service's field errors in the request's language: each `message` is a msgid (its
    `params`, if any, fill it)."""
    if not errors:
        return errors
    return [{**{k: v for k, v in e.items() if k != "params"},
             "message": i18n.text(e["message"], e.get("params"))} for e in errors]


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    request: Request | None = None,
    errors: list[dict[str, str]] | None = None,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
    params: dict[str, Any] | None = None,
) -> JSONResponse:
    """A problem+json response; `title` and `detail` are given in English (the catalogue's
    msgids, `params` filling the detail's placeholders) and answered in the request's
    language."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": i18n.title(title),
        "status": status,
        "detail": i18n.text(detail, params),
        "code": code,
    }
    if request is not None:
        body["instance"] = request.url.path
    if errors:
        body["errors"] = _said(errors)
    if details:
        body["details"] = jsonable_encoder(details)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE,
                        headers=never_stored(headers))


# An error says something of the caller's request (and, logged in, of its data): no cache
# keeps it, whoever asked.
NEVER_STORED = "private, no-store"


def never_stored(headers: dict[str, str] | None) -> dict[str, str]:
    """A problem answer's headers, with `Cache-Control: private, no-store`."""
    out = dict(headers or {})
    if not any(k.lower() == "cache-control" for k in out):
        out["Cache-Control"] = NEVER_STORED
    return out


_HTTP_CODES = {
    400: ("bad_request", "Bad request"),
    401: ("not_authenticated", "Not authenticated"),
    403: ("forbidden", "Forbidden"),
    404: ("not_found", "Not found"),
    405: ("method_not_allowed", "Method not allowed"),
    406: ("not_acceptable", "Not acceptable"),
    413: ("payload_too_large", "Payload too large"),
    415: ("unsupported_media_type", "Unsupported media type"),
}


# The shared text rules (service/core/schemas.py), said in words rather than as their regex.
_TEXT_RULES = {
    NOT_BLANK: ("blank_text", "must hold a character other than whitespace, and no NUL"),
    NO_NUL: ("nul_character", "must not contain a NUL character (U+0000)"),
}


def _message(kind: str, english: str, ctx: dict[str, Any]) -> str:
    """pydantic's message for an error type in the request's language: the catalogue's
    `validation` entry filled from the error's context, else pydantic's own English."""
    found = i18n.translation(kind, context="validation")
    if found is None or i18n.current() == "en":
        return english
    values = {k: (" 或 ".join(str(x) for x in v) if isinstance(v, list | tuple) else v)
              for k, v in ctx.items()}
    values.setdefault("error", english)
    try:
        return found.format(**values)
    except (KeyError, IndexError, ValueError):
        return english


def custom_message(ctx: dict[str, Any], loc: list[str]) -> str:
    """A validator's own message (`service.core.schemas.invalid`) in the request's language:
    its msgid from the catalogue, each field it names read as a field is."""
    base = loc[:-1] if ctx.get("_beside") else loc

    def said(v: Any) -> Any:
        if isinstance(v, FieldName):
            return field_label(".".join([*base, v]))
        return [said(x) for x in v] if isinstance(v, list) else v

    values = {k: said(v) for k, v in ctx.items() if not k.startswith("_")}
    return i18n.text(ctx["_msgid"], values)


def field_errors(errors: list[Any], prefix: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """pydantic's errors as the `errors` of a problem, in the request's language: each field's
    dotted path (after `prefix`), its message, its type."""
    out = []
    for err in errors:
        loc = [*prefix, *(str(p) for p in err.get("loc", ()))]
        kind, message = str(err.get("type", "value_error")), str(err.get("msg", "invalid"))
        ctx = dict(err.get("ctx") or {})
        if "_msgid" in ctx:
            out.append({"field": ".".join(loc), "message": custom_message(ctx, loc),
                        "type": kind})
            continue
        if kind == "string_pattern_mismatch":
            kind, message = _TEXT_RULES.get(ctx.get("pattern"), (kind, message))
        out.append({"field": ".".join(loc), "message": _message(kind, message, ctx),
                    "type": kind})
    return out


def invalid_input(errors: list[dict[str, str]], detail: str = "{field}: {message}",
                  params: dict[str, Any] | None = None) -> InvalidInput:
    """422 for input a service validated itself (`field_errors`), its detail naming the first
    field as a person reads it."""
    errors = _said(errors) or []
    first = errors[0] if errors else {"field": "", "message": "invalid"}
    return InvalidInput(detail, errors=errors, params={
        **(params or {}), "field": field_label(first["field"]), "message": first["message"]})


def field_label(path: str) -> str:
    """A field as a person reads it: its name in the request's language (the catalogue's
    `field` entries) with the JSON path beside it, e.g. `职责（body.job_description.duties）`."""
    names = [p for p in path.split(".") if p and not p.isdigit()]
    if names and names[0] in ("body", "query", "path", "header", "cookie"):
        names = names[1:]
    name = names[-1] if names else ""
    found = i18n.translation(name, context="field") if name else None
    return f"{found}（{path}）" if found and i18n.current() != "en" else path


_PATH_METHODS: list[tuple[re.Pattern[str], list[str]]] = []


def _allowed_methods(request: Request) -> list[str]:
    """Every method the app serves on this path (a path's methods live in separate routes,
    and the router answers 405 from the first alone)."""
    if not _PATH_METHODS:
        for template, ops in request.app.openapi().get("paths", {}).items():
            pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
            _PATH_METHODS.append((re.compile(f"^{pattern}$"), [m.upper() for m in ops]))
    path = request.url.path
    found = {m for rx, methods in _PATH_METHODS if rx.match(path) for m in methods}
    return sorted(found)


def install_handlers(app: FastAPI) -> None:
    """Route every error, ours and the framework's, through problem+json."""

    @app.exception_handler(ServiceError)
    @app.exception_handler(WorkflowError)
    async def _refused(request: Request, exc: ServiceError | WorkflowError):
        p = problem_of(exc).model_copy(update={"instance": request.url.path})
        return JSONResponse(p.model_dump(mode="json", exclude_none=True), status_code=p.status,
                            media_type=PROBLEM_MEDIA_TYPE,
                            headers=never_stored(getattr(exc, "headers", None)))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        errors = field_errors(exc.errors())
        first = errors[0] if errors else {"field": "", "message": "invalid"}
        detail = (i18n.text("{field}: {message}", {"field": field_label(first["field"]),
                                                    "message": first["message"]})
                  if first["field"] else first["message"])
        if len(errors) > 1:
            detail += i18n.text(" (and {more} more)", {"more": len(errors) - 1})
        # A cursor too long or not base64url is one this service did not issue, whichever
        # check saw it first: the same code as any other (service/core/pagination.py).
        code = ("invalid_cursor" if errors and all(e["field"] == "query.cursor" for e in errors)
                else "validation_error")
        return problem_response(422, code, "Invalid input", detail, request=request,
                                errors=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        code, title = _HTTP_CODES.get(exc.status_code, ("http_error", "HTTP error"))
        detail, params = (exc.detail if isinstance(exc.detail, str) else title), None
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
            return problem_response(
                422, "validation_error", "Invalid input", "The body is not valid UTF-8 JSON.",
                request=request, errors=[{"field": "body", "message": "not valid UTF-8",
                                          "type": "json_invalid"}])
        if exc.status_code == 404 and detail == "Not Found":
            detail = "No route matches {method} {path}."
            params = {"method": request.method, "path": request.url.path}
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            headers["Allow"] = ", ".join(allowed)
            detail = "{method} is not allowed here; allowed: {allowed}."
            params = {"method": request.method, "allowed": ", ".join(allowed)}
        return problem_response(
            exc.status_code, code, title, detail, request=request, headers=headers or None,
            params=params,
        )

    @app.exception_handler(DataError)
    async def _bad_data(request: Request, exc: DataError):
        # e.g. a NUL character, which PostgreSQL text cannot hold
        return problem_response(
            422, "validation_error", "Invalid input",
            "A value cannot be stored as given (it contains a NUL character, or is too long"
            " for where it is kept).",
            request=request)

    @app.exception_handler(IntegrityError)
    async def _integrity(request: Request, exc: IntegrityError):
        return problem_response(
            409, "conflict", "Conflict",
            "A concurrent request changed the same data first; read it again and retry.",
            request=request)

    @app.exception_handler(OperationalError)
    @app.exception_handler(PoolTimeout)
    async def _busy(request: Request, exc: Exception):
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        return problem_response(
            503, "database_busy", "Database busy",
            "The database is busy or unreachable; nothing was changed. Retry shortly.",
            request=request, headers={"Retry-After": "2"})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(
            500, "internal_error", "Internal error",
            "The service failed unexpectedly; nothing was changed.", request=request,
        )


# A GET of a versioned resource answers 304 to an If-None-Match naming its ETag.
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {304: {
    "description": "Not modified: If-None-Match names the current ETag (no body)"}}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry declaring problem+json for these statuses."""
    descriptions = {
        400: "Bad request", 401: "Not authenticated (missing, expired or invalid token)",
        403: "The caller's roles do not permit this", 404: "Not found",
        409: "Conflicts with the current state", 412: "If-Match does not match the current ETag",
        428: "If-Match is required here and was not sent",
        413: "Request body too large", 422: "Invalid input (field errors listed)",
        429: "Too many attempts",
        503: "Not ready",
    }
    return {
        s: {"model": Problem, "description": descriptions.get(s, "Error")} for s in statuses
    }
