"""Tables shared by every step, and what every table uses: UTC datetimes, `utcnow`. The schema
itself is created only by the Alembic migrations in service/migrations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, TypeDecorator, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from . import db  # noqa: F401  (sets the naming convention before any table exists)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond (the real time; see service.core.clock for simulated)."""
    return datetime.now(UTC)


def ts_field(**kw) -> Any:
    """A column of UTCDateTime (see above)."""
    return Field(sa_type=UTCDateTime, **kw)


class User(SQLModel, table=True):
    """A person who logs in, holding one or more roles."""

    __tablename__ = "user_account"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=254)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    token_version: int = 1
    version: int = 1
    language: str | None = Field(
        default=None, max_length=8,
        description="The language of the user's emails (zh-CN or en); none: the default")
    nominating_body_kind: str | None = Field(
        default=None, max_length=32, description="A nominator's body (推荐单位): its kind")
    nominating_body_name: str | None = Field(
        default=None, max_length=200, description="A nominator's body: its name")
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


# Usernames are unique whatever their case (`Admin` beside `admin` is refused): one index on
# lower(username), the same on SQLite and PostgreSQL; logins look the name up the same way.
Index("uq_user_account_username_lower", func.lower(User.__table__.c.username), unique=True)

class CalendarOverride(SQLModel, table=True):
    """A day an administrator declares worked or off, over the official schedule."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    workday: bool
    note: str = Field(default="", max_length=200)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = ts_field(default_factory=utcnow)


class SimulatedClock(SQLModel, table=True):
    """Simulation mode (情景模拟): the service's clock set to a date; one row at most."""

    __tablename__ = "simulated_clock"

    id: int = Field(default=1, primary_key=True)
    simulated_at: datetime = ts_field()
    set_at: datetime = ts_field(default_factory=utcnow)
    set_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")

class IdempotencyRecord(SQLModel, table=True):
    """A POST's Idempotency-Key and the response it got, stored with the effect."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),
                      Index("ix_idempotency_expires", "expires_at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    scope: str = Field(max_length=80, description="The caller: a user id, or anon:<address>")
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    response_status: int | None = None
    response_body: str | None = None
    response_headers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = ts_field(default_factory=utcnow)
    expires_at: datetime = ts_field()


class LoginThrottle(SQLModel, table=True):
    """Failed logins counted in one row per key, for throttling (service/users/service.py):
    `pair:<username>|<address>`, `account:<username>`, `address:<address>`."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    window_started_at: datetime = ts_field(default_factory=utcnow)
    last_success_at: datetime | None = ts_field(default=None, nullable=True)


class RefreshToken(SQLModel, table=True):
    """One refresh token of a login (会话): opaque to its holder, kept here only as its
    SHA-256. The tokens of one login form a family; each use (rotation) ends the token used
    and issues the next. A token used twice ends the whole family (a stolen copy replayed)."""

    __tablename__ = "refresh_token"
    __table_args__ = (Index("ix_refresh_token_family", "family_id"),
                      Index("ix_refresh_token_user", "user_id", "revoked_at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    family_id: uuid.UUID
    user_id: uuid.UUID = Field(foreign_key="user_account.id")
    token_version: int = Field(description="The account's token version at the login")
    created_at: datetime = ts_field(default_factory=utcnow)
    expires_at: datetime = ts_field()
    family_expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(default=None)
    revoked_at: datetime | None = ts_field(default=None)
    revoked_reason: str | None = Field(default=None, max_length=32)
