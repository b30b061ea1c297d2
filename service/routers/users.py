"""User management (admins only)."""

from fastapi import APIRouter, Response
from sqlmodel import select

from ..core.deps import AdminUser, ClockDep, IfMatch, SessionDep, check_if_match, etag_of, set_etag
from ..core.errors import NOT_MODIFIED, problems
from ..core.models import User
from ..core.pagination import Page, keyset_page
from ..core.routing import TransactionalRoute
from ..record.service import Author
from ..users import service as users
from ..users.schemas import UserCreate, UserCreated, UserPublic, UserUpdate
from .common import Cursor, Limit, UserId

router = APIRouter(route_class=TransactionalRoute, prefix="/api/v1/users", tags=["users"])


@router.post("", status_code=201, response_model=UserCreated, responses=problems(401, 403, 409, 422))
def create_user(
    data: UserCreate, session: SessionDep, admin: AdminUser, clock: ClockDep, response: Response
) -> UserCreated:
    """Create a user with roles; with no password given, one is generated and shown once."""
    user, generated = users.create(session=session, data=data, author=Author(admin.id, "admin"),
                                   clock=clock)
    set_etag(response, "user", user.id, user.version)
    response.headers["Location"] = f"/api/v1/users/{user.id}"
    if generated:  # the password is shown once: never cached, nor kept for a replay
        response.headers["Cache-Control"] = "no-store"
    return UserCreated(**UserPublic.model_validate(user, from_attributes=True).model_dump(),
                       generated_password=generated)


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
def update_user(
    user_id: UserId, data: UserUpdate, session: SessionDep, admin: AdminUser,
    clock: ClockDep, response: Response, if_match: IfMatch = None,
) -> UserPublic:
    """Change a user's details, roles, activity or password; role and activity changes end
    their current tokens at once."""
    user = users.get(session=session, user_id=user_id)
    check_if_match(if_match, etag_of("user", user.id, user.version))
    users.update(session=session, user=user, data=data, author=Author(admin.id, "admin"),
                 clock=clock)
    set_etag(response, "user", user.id, user.version)
    return UserPublic.model_validate(user, from_attributes=True)
