"""Users and their roles; logins; the first administrator."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ..config import Settings
from ..core.clock import Clock
from ..core.db import open_session
from ..core.errors import Conflict, NotFound, ServiceError, Unauthorized
from ..core.models import LoginAttempt, User, utcnow
from ..core.security import generate_password, hash_password, verify_password
from ..record import service as record
from ..workflow.roles import ADMIN
from .schemas import UserCreate, UserUpdate

SUBJECT = "user"


def get(*, session: Session, user_id: uuid.UUID) -> User:
    """The user, or 404."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"No user with id {user_id}.", code="user_not_found")
    return user


def by_username(*, session: Session, username: str) -> User | None:
    """The user with this username, if any."""
    return session.exec(select(User).where(User.username == username)).first()


def _throttled(session: Session, settings: Settings, username: str, client: str) -> None:
    since = utcnow() - timedelta(minutes=settings.login_window_minutes)
    per_account = session.exec(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.username == username, LoginAttempt.at >= since)).one()
    per_client = session.exec(select(func.count()).select_from(LoginAttempt).where(
        LoginAttempt.client == client, LoginAttempt.at >= since)).one()
    if (per_account >= settings.login_max_failures_per_account
            or per_client >= settings.login_max_failures_per_client):
        wait = settings.login_window_minutes * 60
        raise ServiceError("Too many failed logins; wait before trying again.", status_code=429,
                           code="too_many_attempts", title="Too many attempts",
                           headers={"Retry-After": str(wait)})


def authenticate(*, session: Session, settings: Settings, username: str, password: str,
                 client: str) -> User:
    """The active user with these credentials, or 401 (the same answer for every failure).

    Failures are counted in the database per account and per client address (so every
    replica sees them), in a transaction of their own that survives the refused request.
    """
    _throttled(session, settings, username, client)
    user = by_username(session=session, username=username)
    ok = verify_password(password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        session.rollback()  # let go of the request's write lock before writing on our own
        with open_session(write=True) as own:
            own.add(LoginAttempt(username=username[:64], client=client[:64]))
            own.commit()
        raise Unauthorized("Incorrect username or password.", code="invalid_credentials")
    return user


def _public_fields(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "email": user.email,
            "roles": list(user.roles), "is_active": user.is_active}


def create(
    *, session: Session, data: UserCreate, author: record.Author, clock: Clock
) -> tuple[User, str | None]:
    """A new user; returns it and the generated password when none was given."""
    if by_username(session=session, username=data.username):
        raise Conflict(f"The username '{data.username}' is taken.", code="username_taken")
    generated = None if data.password else generate_password()
    user = User(
        username=data.username,
        full_name=data.full_name,
        email=data.email,
        roles=sorted({str(r) for r in data.roles}),
        password_hash=hash_password(data.password or generated or ""),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict(f"The username '{data.username}' is taken.", code="username_taken") from e
    record.append(
        session, subject_type=SUBJECT, subject_id=user.id, selection_id=None,
        action="create_user", author=author, clock=clock, params=_public_fields(user),
    )
    return user, generated


def update(
    *, session: Session, user: User, data: UserUpdate, author: record.Author, clock: Clock
) -> User:
    """Apply changes; a change of roles, activity or password ends the user's tokens."""
    changes = data.model_dump(exclude_unset=True)
    changed: dict = {}
    if "roles" in changes and changes["roles"] is not None:
        roles = sorted({str(r) for r in changes["roles"]})
        if roles != sorted(user.roles):
            _keep_one_admin(session, user, losing=ADMIN not in roles)
            changed["roles"] = roles
    for name in ("full_name", "email"):
        if name in changes and changes[name] != getattr(user, name):
            changed[name] = changes[name]
    if changes.get("is_active") is not None and changes["is_active"] != user.is_active:
        if not changes["is_active"]:
            _keep_one_admin(session, user, losing=ADMIN in user.roles)
        changed["is_active"] = changes["is_active"]
    new_password = changes.get("password")
    if not changed and not new_password:
        return user
    for name, value in changed.items():
        setattr(user, name, value)
    if new_password:
        user.password_hash = hash_password(new_password)
    if {"roles", "is_active"} & changed.keys() or new_password:
        user.token_version += 1
    user.version += 1
    user.updated_at = utcnow()
    session.add(user)
    record.append(
        session, subject_type=SUBJECT, subject_id=user.id, selection_id=None,
        action="update_user", author=author, clock=clock,
        params={**changed, **({"password_changed": True} if new_password else {})},
    )
    return user


def _keep_one_admin(session: Session, user: User, *, losing: bool) -> None:
    if not losing:
        return
    # Lock every active user (in id order, so two such requests cannot deadlock) before
    # counting; otherwise two admins stepping down at once could each see the other remain.
    active = select(User).where(User.is_active).order_by(User.id).with_for_update()
    admins = [u for u in session.exec(active.execution_options(populate_existing=True))
              if ADMIN in u.roles]
    if [a.id for a in admins] == [user.id]:
        raise Conflict(
            "This is the last active administrator; appoint another before removing this one.",
            code="last_admin",
        )


def ensure_admin(
    *, session: Session, username: str, password: str | None, full_name: str, clock: Clock
) -> str | None:
    """Create the first admin when there is none; return the generated password, if any."""
    if any(ADMIN in u.roles for u in session.exec(select(User))):
        return None
    data = UserCreate(username=username, roles=[ADMIN], full_name=full_name, password=password)
    _, generated = create(session=session, data=data, author=record.SYSTEM, clock=clock)
    return generated


def reset_password(*, session: Session, username: str, password: str | None,
                   clock: Clock) -> str | None:
    """Set a user's password from the command line (recorded, by the system, as a change of
    the user); their tokens end and the failed logins counted against the account are
    forgotten, so a locked-out administrator can log in at once. Returns the generated
    password when none was given."""
    user = by_username(session=session, username=username)
    if user is None:
        raise NotFound(f"No user named '{username}'.", code="user_not_found")
    generated = None if password else generate_password()
    update(session=session, user=user, data=UserUpdate(password=password or generated),
           author=record.SYSTEM, clock=clock)
    session.exec(delete(LoginAttempt).where(LoginAttempt.username == username[:64]))
    return generated
