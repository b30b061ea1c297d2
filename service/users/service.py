"""Users and their roles; logins; the first administrator."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import delete, func, or_
from sqlalchemy import update as sql_update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select
from starlette.concurrency import run_in_threadpool

from ..config import Settings
from ..core.clock import Clock
from ..core.db import open_session
from ..core.errors import Conflict, InvalidInput, NotFound, ServiceError, Unauthorized
from ..core.models import LoginThrottle, User, utcnow
from ..core.security import generate_password, hash_password, hashing_slot, verify_and_update
from ..record import service as record
from ..workflow.roles import ADMIN, NOMINATOR
from . import sessions
from .schemas import UserCreate, UserUpdate

SUBJECT = record.subject_type("user")


def get(*, session: Session, user_id: uuid.UUID) -> User:
    """The user, or 404."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No user with id {user_id}.", code="user_not_found", params={"user_id": user_id})
    return user


def by_username(*, session: Session, username: str) -> User | None:
    """The user with this username, whatever its case (usernames are unique that way)."""
    return session.exec(select(User).where(
        func.lower(User.username) == username.lower())).first()


# ---------------------------------------------------------------- login throttling
# Three counters of failed logins, each a row locked while it is read and written, so that
# parallel attempts are counted one after another (no 27 x 401 before the first 429):
#   pair:    one account from one address     (5)  — a guesser is stopped where they guess;
#   account: one account from all addresses   (50) — a distributed guesser is stopped too,
#            while 5 bad tries from elsewhere no longer lock the owner out;
#   address: all accounts from one address    (20) — one address spraying many names; it
#            does not refuse an account that logged in from that address in the last
#            `login_trusted_days` (colleagues behind the same NAT keep logging in).
# An attempt is counted before the password is checked (and given back when it succeeds),
# so a check in progress already holds its place under the limit.


def _keys(username: str, client: str) -> dict[str, str]:
    name = username.lower()[:64]
    return {"pair": f"pair:{name}|{client[:64]}", "account": f"account:{name}",
            "address": f"address:{client[:64]}"}


def _locked_rows(own: Session, keys: list[str]) -> dict[str, LoginThrottle]:
    now = utcnow()
    insert = pg_insert if own.get_bind().dialect.name == "postgresql" else sqlite_insert
    own.exec(insert(LoginThrottle).values(  # type: ignore[call-overload]
        [{"key": k, "failures": 0, "window_started_at": now} for k in sorted(keys)])
        .on_conflict_do_nothing(index_elements=["key"]))
    rows = own.exec(select(LoginThrottle).where(LoginThrottle.key.in_(sorted(keys)))  # type: ignore[attr-defined]
                    .order_by(LoginThrottle.key).with_for_update()
                    .execution_options(populate_existing=True)).all()
    return {r.key: r for r in rows}


def _count_attempt(own: Session, settings: Settings, username: str, client: str) -> None:
    """Count this attempt as a failure in advance, or 429 when a limit is reached (the
    transaction rolled back, and so nothing counted)."""
    keys = _keys(username, client)
    limits = {"pair": settings.login_max_failures_per_account_address,
              "account": settings.login_max_failures_per_account,
              "address": settings.login_max_failures_per_client}
    window = timedelta(minutes=settings.login_window_minutes)
    now = utcnow()
    rows = _locked_rows(own, list(keys.values()))
    for row in rows.values():
        if row.window_started_at + window <= now:  # a new window: start counting again
            row.failures, row.window_started_at = 0, now
    pair = rows[keys["pair"]]
    trusted = (pair.last_success_at is not None and pair.last_success_at
               + timedelta(days=settings.login_trusted_days) > now)
    full = [kind for kind, key in keys.items() if rows[key].failures >= limits[kind]
            and not (kind == "address" and trusted)]
    if full:
        own.rollback()
        wait = max(1, int(max((rows[keys[k]].window_started_at + window - now)
                              .total_seconds() for k in full)))
        raise ServiceError("Too many failed logins; wait before trying again.",
                           status_code=429, code="too_many_attempts",
                           title="Too many attempts", headers={"Retry-After": str(wait)},
                           details={"retry_after_seconds": wait})
    for row in rows.values():
        row.failures += 1
        own.add(row)
    own.flush()


def _give_back(own: Session, username: str, client: str) -> None:
    """A login succeeded: its pair starts again from nothing and is remembered as trusted;
    the attempt counted in advance is taken off the account's and the address's counts. The
    rows are locked in the order the counting locks them (by key), then written in plain
    statements."""
    keys = _keys(username, client)
    own.exec(select(LoginThrottle.key)  # type: ignore[call-overload]
             .where(LoginThrottle.key.in_(sorted(keys.values())))  # type: ignore[attr-defined]
             .order_by(LoginThrottle.key).with_for_update())
    own.exec(sql_update(LoginThrottle)  # type: ignore[call-overload]
             .where(LoginThrottle.key.in_([keys["account"], keys["address"]]),  # type: ignore[attr-defined]
                    LoginThrottle.failures > 0)
             .values(failures=LoginThrottle.failures - 1))
    now = utcnow()
    insert = pg_insert if own.get_bind().dialect.name == "postgresql" else sqlite_insert
    own.exec(insert(LoginThrottle)  # type: ignore[call-overload]
             .values(key=keys["pair"], failures=0, window_started_at=now, last_success_at=now)
             .on_conflict_do_update(index_elements=["key"],
                                    set_={"failures": 0, "last_success_at": now}))


def _succeeded(settings: Settings, username: str, client: str, user: User,
               new_hash: str | None) -> sessions.Issued:
    """In one transaction: the counts given back, a hash made again with today's parameters
    stored in place of the old one, and the login's first refresh token."""
    with open_session(write=True) as own:
        if new_hash is not None:
            own.exec(sql_update(User).where(User.id == user.id)  # type: ignore[call-overload]
                     .values(password_hash=new_hash))
        _give_back(own, username, client)
        issued = sessions.begin(own, settings, user)
        own.commit()
    return issued


async def log_in(*, settings: Settings, username: str, password: str, client: str
                 ) -> tuple[User, sessions.Issued]:
    """The active user with these credentials and the first refresh token of their login
    (see `sessions`), or 401 (the same answer for every failure); 429 while a throttle holds
    (see above); 503 `logins_busy` when no hashing slot frees in time (nothing counted then).

    The counters are in the database (so every replica sees them), written in short
    transactions of their own that survive the refused request. The password is checked
    between them, in no transaction: a login never holds a lock while it hashes. A stored
    hash with other parameters than today's is replaced on success (the same password), in
    the transaction that gives the count back and starts the login."""
    async with hashing_slot(settings.login_wait_seconds):
        user = await run_in_threadpool(_count_and_find, settings, username, client)
        ok, new_hash = await run_in_threadpool(
            verify_and_update, password, user.password_hash if user else None)
    if not ok or user is None or not user.is_active:
        raise Unauthorized("Incorrect username or password.", code="invalid_credentials",
                           title="Invalid credentials")
    issued = await run_in_threadpool(_succeeded, settings, username, client, user, new_hash)
    return user, issued


def _count_and_find(settings: Settings, username: str, client: str) -> User | None:
    with open_session(write=True) as own:
        _count_attempt(own, settings, username, client)
        user = by_username(session=own, username=username)
        own.commit()
    return user


def _public_fields(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "email": user.email,
            **({"language": user.language} if user.language else {}),
            "roles": list(user.roles), "is_active": user.is_active,
            **({"nominating_body": _body_of(user)} if user.nominating_body_kind else {})}


def _body_of(user: User) -> dict | None:
    if user.nominating_body_kind is None:
        return None
    return {"kind": user.nominating_body_kind, "name": user.nominating_body_name}


def new_password(data: UserCreate) -> tuple[str, str | None]:
    """The hash of a new user's password (generated when none was given), and the generated
    one. Called before the transaction that creates the user: a hash never runs inside a
    transaction or SQLite's write lock."""
    generated = None if data.password else generate_password()
    return hash_password(data.password or generated or ""), generated


def create(
    *, session: Session, data: UserCreate, password_hash: str, author: record.Author,
    clock: Clock,
) -> User:
    """A new user, with the hash `new_password` made of its password."""
    if by_username(session=session, username=data.username):
        raise Conflict("The username '{username}' is taken.", code="username_taken", params={"username": data.username})
    user = User(
        username=data.username,
        full_name=data.full_name,
        email=data.email,
        language=data.language,
        roles=sorted({str(r) for r in data.roles}),
        password_hash=password_hash,
        nominating_body_kind=data.nominating_body.kind.value if data.nominating_body else None,
        nominating_body_name=data.nominating_body.name if data.nominating_body else None,
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError as e:
        raise Conflict("The username '{username}' is taken.", code="username_taken", params={"username": data.username}) from e
    record.append(
        session, subject_type=SUBJECT, subject_id=user.id, selection_id=None,
        action="create_user", author=author, clock=clock, params=_public_fields(user),
    )
    return user


def update(
    *, session: Session, user: User, data: UserUpdate, author: record.Author, clock: Clock,
    password_hash: str | None = None,
) -> User:
    """Apply changes; a change of roles, activity or password ends the user's tokens. A new
    password comes as `password_hash`, made of `data.password` (`hash_password`) before the
    transaction."""
    changes = data.model_dump(exclude_unset=True)
    changed: dict = {}
    if "roles" in changes and changes["roles"] is not None:
        roles = sorted({str(r) for r in changes["roles"]})
        if roles != sorted(user.roles):
            _keep_one_admin(session, user, losing=ADMIN not in roles)
            changed["roles"] = roles
    for name in ("full_name", "email", "language"):
        if name in changes and changes[name] != getattr(user, name):
            changed[name] = changes[name]
    roles_after = changed.get("roles", user.roles)
    body = data.nominating_body
    if body is not None and NOMINATOR not in roles_after:
        raise InvalidInput("nominating_body is for users with the nominator role.",
                           code="nominating_body_without_role",
                           errors=[{"field": "body.nominating_body", "type": "value_error",
                                    "message": "only for users with the nominator role"}])
    if NOMINATOR in roles_after and body is None and user.nominating_body_kind is None:
        raise InvalidInput("A nominator belongs to a body: give nominating_body.",
                           code="nominating_body_required",
                           errors=[{"field": "body.nominating_body", "type": "missing",
                                    "message": "required with the nominator role"}])
    new_body = ({"kind": body.kind.value, "name": body.name} if body is not None
                else None if NOMINATOR not in roles_after else _body_of(user))
    if new_body != _body_of(user):
        changed["nominating_body"] = new_body
    if changes.get("is_active") is not None and changes["is_active"] != user.is_active:
        if not changes["is_active"]:
            _keep_one_admin(session, user, losing=ADMIN in user.roles)
        changed["is_active"] = changes["is_active"]
    new_password = changes.get("password")
    if new_password and password_hash is None:
        raise ValueError("a new password comes with its hash, made before the transaction")
    if not changed and not new_password:
        return user
    for name, value in changed.items():
        if name == "nominating_body":
            user.nominating_body_kind = value["kind"] if value else None
            user.nominating_body_name = value["name"] if value else None
        else:
            setattr(user, name, value)
    if new_password:
        user.password_hash = password_hash
    if {"roles", "is_active"} & changed.keys() or new_password:
        user.token_version += 1
        sessions.end_all(session, user.id, "account_changed")
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


def ensure_admin(*, username: str, password: str | None, full_name: str, clock: Clock
                 ) -> tuple[bool, str | None]:
    """Create the first admin when there is none, in a transaction of its own (the password
    hashed before it); whether it was created, and the generated password, if any."""
    def has_admin(session: Session) -> bool:
        return any(ADMIN in u.roles for u in session.exec(select(User)))

    with open_session() as session:
        if has_admin(session):
            return False, None
    data = UserCreate(username=username, roles=[ADMIN], full_name=full_name, password=password)
    password_hash, generated = new_password(data)
    with open_session(write=True) as session:
        if has_admin(session):  # another process made the first one meanwhile
            return False, None
        create(session=session, data=data, password_hash=password_hash,
               author=record.SYSTEM, clock=clock)
        session.commit()
    return True, generated


def reset_password(*, username: str, password: str | None, clock: Clock) -> str | None:
    """Set a user's password from the command line (recorded, by the system, as a change of
    the user), in a transaction of its own with the password hashed before it; their tokens
    end and the failed logins counted against the account are forgotten, so a locked-out
    administrator can log in at once. Returns the generated password when none was given."""
    generated = None if password else generate_password()
    data = UserUpdate(password=password or generated)
    password_hash = hash_password(data.password or "")
    with open_session(write=True) as session:
        user = by_username(session=session, username=username)
        if user is None:
            raise NotFound("No user named '{username}'.", code="user_not_found",
                           params={"username": username})
        update(session=session, user=user, data=data, author=record.SYSTEM, clock=clock,
               password_hash=password_hash)
        name = username.lower()[:64]
        session.exec(delete(LoginThrottle).where(or_(  # type: ignore[call-overload]
            LoginThrottle.key == f"account:{name}",
            LoginThrottle.key.startswith(f"pair:{name}|"))))  # type: ignore[attr-defined]
        session.commit()
    return generated
