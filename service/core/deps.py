"""Dependencies: the session, the clock, the current user, role checks, ETags; loading a subject
that answers 404 (service/access.py says who may see which selection and candidate)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Path, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import bindparam
from sqlmodel import Session, select

from ..config import Settings, get_settings
from ..workflow.roles import ADMIN
from .clock import Clock, current_clock
from .errors import Forbidden, NotFound, PreconditionFailed, PreconditionRequired, Unauthorized
from .models import User
from .security import InvalidToken, decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies that neither block nor touch the database are `async def`: FastAPI runs a
# plain `def` dependency in a worker thread, a hop that costs more than the work itself.


async def get_session(request: Request) -> Session:
    """The request's session, opened by the route (service.core.routing), which commits it."""
    return request.state.db


async def settings_of_process() -> Settings:
    """The process's settings."""
    return get_settings()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(settings_of_process)]


def get_clock(session: SessionDep, settings: SettingsDep) -> Clock:
    """The request's clock (simulated in simulation mode)."""
    return current_clock(session, settings)


ClockDep = Annotated[Clock, Depends(get_clock)]


@dataclass(frozen=True)
class Principal:
    """Whom a well-formed, validly signed bearer token names (not yet checked against the
    account as it is now: `user_of` does that)."""

    user_id: uuid.UUID
    token_version: Any
    roles: frozenset[str] = frozenset()


def principal_of(settings: Settings, token: str | None) -> Principal:
    """The token's principal; 401 for a missing or bad token."""
    if not token:
        raise Unauthorized("This needs a bearer token: POST /api/v1/auth/token first.")
    try:
        claims = decode_token(settings, token)
        return Principal(uuid.UUID(claims["sub"]), claims.get("tv"),
                         frozenset(claims.get("roles", ())))
    except (InvalidToken, ValueError) as e:
        raise Unauthorized("The token is invalid or has expired.", code="invalid_token") from e


# Built once (`session.get` builds its statement on every call): the account, by its key.
_ACCOUNT = select(User).where(User.id == bindparam("id"))


def user_of(session: Session, principal: Principal) -> User:
    """The principal's account as it is now; 401 when it is gone, inactive, or the token is
    outdated (its version bumped by a password change, a role change or a logout)."""
    return account_now(session.exec(_ACCOUNT, params={"id": principal.user_id}).first(),
                       principal)


def account_now(user: User | None, principal: Principal) -> User:
    """The principal's account as read (None: not found), when the token still holds for it;
    401 when it is gone, inactive, or the token is outdated."""
    if user is None or not user.is_active or principal.token_version != user.token_version:
        raise Unauthorized(
            "The token is no longer valid for this account; log in again.", code="invalid_token"
        )
    return user


def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> User:
    """The user the bearer token names; 401 for a missing, bad or outdated token."""
    return user_of(session, principal_of(settings, token))


async def get_principal(
    settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> Principal:
    """The bearer token's principal, read on the event loop (no database): for endpoints
    that load the account in their one trip to the database (routing.one_hop)."""
    return principal_of(settings, token)


PrincipalDep = Annotated[Principal, Depends(get_principal)]


def principal_with_roles(*roles: str):
    """A dependency: the principal, when its token names one of `roles` (403 otherwise), on
    the event loop, before the body is read. A token is current only while its version is the
    account's, and a change of roles bumps it, so its roles are the account's; `check_roles`
    on the account loaded in the one trip to the database confirms it."""

    async def check(principal: PrincipalDep) -> Principal:
        if not principal.roles & set(roles):
            raise Forbidden(
                "This needs one of the roles: {roles}.", code="role_not_permitted", params={"roles": list(roles)}
            )
        return principal

    return check


def check_roles(user: User, *roles: str) -> User:
    """The user, when they hold one of `roles`; 403 otherwise."""
    if not set(user.roles) & set(roles):
        raise Forbidden(
            "This needs one of the roles: {roles}.", code="role_not_permitted", params={"roles": list(roles)}
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str):
    """A dependency that lets through users holding one of `roles` (403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        return check_roles(user, *roles)

    return check


AdminUser = Annotated[User, Depends(require_roles(ADMIN))]


def load_visible(model, subject_id: uuid.UUID, request: Request, session: Session, user: User,
                 visible, what: str):
    """Load a subject, locked when the request writes; 404 when missing or not visible, so
    that existence itself stays private."""
    stmt = select(model).where(model.id == subject_id)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        stmt = stmt.with_for_update()
    subject = session.exec(stmt).first()
    if subject is None or not visible(user, subject, session):
        raise NotFound("No {what} with id {subject_id}.", code=f"{what}_not_found", params={"what": what, "subject_id": subject_id})
    return subject


SelectionId = Annotated[uuid.UUID, Path(description="The selection's id",
                                        examples=["5b0c2f6a-9d1e-4c7b-8a3f-2e1d0c9b8a7f"])]
CandidateId = Annotated[uuid.UUID, Path(description="The candidate's id",
                                        examples=["7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b"])]


# ---------------------------------------------------------------- ETags
def etag_of(kind: str, subject_id: uuid.UUID, version: int) -> str:
    """A strong ETag for one version of one resource."""
    return f'"{kind}-{subject_id.hex}-v{version}"'


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The ETag last read; the request fails with 412 when"
           " the resource has changed since, and with 428 when it is left out where the"
           " selection's `require_if_match` setting asks for it",
           examples=['"selection-5b0c2f6a9d1e4c7b8a3f2e1d0c9b8a7f-v2"']),
]


def check_if_match(if_match: str | None, current: str, *, required: bool = False) -> None:
    """The one check of a write's precondition: 428 when If-Match is required and absent;
    412 unless it is `*` or names the current ETag; nothing when it is absent and optional."""
    if if_match is None:
        if required:
            raise PreconditionRequired(
                "This write needs an If-Match header with the ETag you last read (GET the"
                " resource, or its actions, and send its ETag back).",
                details={"current_etag": current}, headers={"ETag": current})
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed(
        "The resource has changed since you read it; read it again and retry.",
        details={"current_etag": current},
        headers={"ETag": current},
    )


def if_match_required(selection) -> bool:
    """Whether writes to the selection and its candidates need If-Match: its
    `require_if_match` setting (selections stored before the setting existed: off)."""
    return bool((selection.settings or {}).get("require_if_match", False))


def check_write(if_match: str | None, kind: str, subject, selection) -> None:
    """The precondition of a write to a versioned subject of a selection (the selection
    itself, or one of its candidates): its If-Match, required by the selection's setting."""
    check_if_match(if_match, etag_of(kind, subject.id, subject.version),
                   required=if_match_required(selection))


def if_none_match_hits(if_none_match: str | None, etag: str) -> bool:
    """Whether If-None-Match names this ETag (or is `*`): the GET then answers 304. The
    comparison is weak (RFC 9110 13.1.2), so a `W/` prefix matches too."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


def set_etag(response: Response, kind: str, subject_id: uuid.UUID, version: int) -> None:
    """Send the resource's ETag."""
    response.headers["ETag"] = etag_of(kind, subject_id, version)
