"""User management (admins only)."""

from typing import Annotated

from fastapi import Depends, Request, Response
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from ..core import idempotency
from ..core.clock import current_clock
from ..core.deps import (
    AdminUser,
    IfMatch,
    Principal,
    SessionDep,
    SettingsDep,
    check_if_match,
    check_roles,
    etag_of,
    principal_with_roles,
    set_etag,
    user_of,
)
from ..core.errors import NOT_MODIFIED, problems
from ..core.models import User
from ..core.pagination import Page, keyset_page
from ..core.routing import api_router, in_one_hop, json_response, one_hop
from ..core.security import hash_password
from ..record.service import Author
from ..users import service as users
from ..users.schemas import UserCreate, UserCreated, UserPublic, UserUpdate
from ..workflow.roles import ADMIN
from .common import Cursor, Limit, UserId

router = api_router(prefix="/api/v1/users", tags=["users"])
AdminPrincipal = Annotated[Principal, Depends(principal_with_roles(ADMIN))]

# A password is hashed before the transaction that stores it (on the hashing threads, one
# trip), never inside it: the routes that take one do their database work in one hop after.


@router.post("", status_code=201, response_model=UserCreated, responses=problems(401, 403, 409, 422))
@in_one_hop
async def create_user(
    data: UserCreate, principal: AdminPrincipal, request: Request, settings: SettingsDep,
) -> Response:
    """Create a user with roles; with no password given, one is generated and shown once."""
    password_hash, generated = await run_in_threadpool(users.new_password, data)

    def work(session: Session) -> Response:
        admin = check_roles(user_of(session, principal), ADMIN)
        idempotency.settle()
        user = users.create(session=session, data=data, password_hash=password_hash,
                            author=Author(admin.id, "admin"),
                            clock=current_clock(session, settings))
        headers = {"ETag": etag_of("user", user.id, user.version),
                   "Location": f"/api/v1/users/{user.id}"}
        if generated:  # the password is shown once: never cached, nor kept for a replay
            headers["Cache-Control"] = "no-store"
        return json_response(
            UserCreated(**UserPublic.model_validate(user, from_attributes=True).model_dump(),
                        generated_password=generated), status_code=201, headers=headers)

    return await one_hop(request, work)


@router.get("", response_model=Page[UserPublic], responses=problems(401, 403, 422))
def list_users(
    session: SessionDep, admin: AdminUser,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[UserPublic]:
    """All users, newest first."""
    rows, nxt = keyset_page(session, select(User), [User.created_at, User.id], limit=limit,
                            cursor=cursor, descending=True)
    return Page[UserPublic](items=[UserPublic.model_validate(u, from_attributes=True)
                                   for u in rows], next_cursor=nxt, limit=limit)


@router.get("/{user_id}", response_model=UserPublic,
            responses=problems(401, 403, 404, 422) | NOT_MODIFIED)
def read_user(
    user_id: UserId, session: SessionDep, admin: AdminUser, response: Response
) -> UserPublic:
    """One user."""
    user = users.get(session=session, user_id=user_id)
    set_etag(response, "user", user.id, user.version)
    return UserPublic.model_validate(user, from_attributes=True)


@router.patch("/{user_id}", response_model=UserPublic,
              responses=problems(401, 403, 404, 409, 412, 422))
@in_one_hop
async def update_user(
    user_id: UserId, data: UserUpdate, principal: AdminPrincipal, request: Request,
    settings: SettingsDep, if_match: IfMatch = None,
) -> Response:
    """Change a user's details, roles, activity or password; role and activity changes end
    their current tokens at once."""
    password_hash = (await run_in_threadpool(hash_password, data.password)
                     if data.password else None)

    def work(session: Session) -> Response:
        admin = check_roles(user_of(session, principal), ADMIN)
        user = users.get(session=session, user_id=user_id)
        idempotency.settle()
        check_if_match(if_match, etag_of("user", user.id, user.version))
        users.update(session=session, user=user, data=data, author=Author(admin.id, "admin"),
                     clock=current_clock(session, settings), password_hash=password_hash)
        return json_response(UserPublic.model_validate(user, from_attributes=True),
                             headers={"ETag": etag_of("user", user.id, user.version)})

    return await one_hop(request, work)
