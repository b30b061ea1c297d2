"""Request and response models of users and logging in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from ..core import examples as ex
from ..core.schemas import EMAIL, NO_NUL, Strict, Stripped
from ..workflow.roles import ROLES

# ---------------------------------------------------------------- users and auth
Role = StrEnum("Role", {r: r for r in ROLES})  # type: ignore[misc]
Role.__doc__ = ("A role a user holds: admin (组织部门), nominator (推荐单位), judge (评委), inspector"
                " (考察组成员), committee (党委委员), mentor (导师), candidate (参选人)")
ex.enum_example("judge")(Role)
Username = Annotated[
    str, StringConstraints(min_length=2, max_length=64,
                           pattern=r"^[A-Za-z0-9_.@-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256, pattern=NO_NUL)]


class LoginForm(BaseModel):
    """The OAuth2 password flow's form (application/x-www-form-urlencoded): the fields of
    FastAPI's OAuth2PasswordRequestForm, as a named, documented model."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "grant_type": "password", "username": "admin", "password": "admin-passphrase-1"}})

    grant_type: Annotated[str | None, Field(pattern="^password$")] = Field(
        default=None, description="`password` when sent (OAuth2); may be left out")
    username: str = Field(pattern=NO_NUL, description="The user's login name")
    password: str = Field(pattern=NO_NUL, description="The user's password")
    scope: str = Field(default="", pattern=NO_NUL,
                       description="Not used: roles decide what a user may do")
    client_id: str | None = Field(default=None, pattern=NO_NUL, description="Not used")
    client_secret: str | None = Field(default=None, pattern=NO_NUL, description="Not used")


class Token(BaseModel):
    """An OAuth2 bearer token."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxYTJiM2M0ZC01ZTZmLTRhOGItOWMwZC0xZTJmM2E0YjVjNmQiLCJ0diI6MSwicm9sZXMiOlsiYWRtaW4iXSwiZXhwIjoxNzkwNzYyNDAwfQ.signature",
        "token_type": "bearer", "expires_in": 3600}})

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class UserCreate(Strict):
    """A new user; with no password, one is generated and returned once."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "username": "wangfang", "full_name": "王芳", "email": "wangfang@example.cn",
        "roles": ["candidate"], "password": "a-long-passphrase-2026"}})

    username: Username
    full_name: Stripped(100) = ""
    email: Annotated[str, StringConstraints(max_length=254,
                                            pattern=EMAIL)] | None = None
    roles: list[Role] = Field(min_length=1, max_length=len(ROLES))
    password: Password | None = None


class UserUpdate(Strict):
    """Changes to a user; a change of roles or of is_active ends their current tokens."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "full_name": "王芳", "roles": ["candidate", "nominator"], "is_active": True}})

    full_name: Stripped(100) = None  # type: ignore[assignment]
    email: Annotated[str, StringConstraints(max_length=254,
                                            pattern=EMAIL)] | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(ROLES))
    is_active: StrictBool | None = None
    password: Password | None = None


class UserPublic(BaseModel):
    """A user as the API shows it (never the password hash)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.ADMIN, "username": "admin", "full_name": "组织部管理员",
        "email": "zzb@example.cn", "roles": ["admin"], "is_active": True, "version": 1,
        "created_at": "2026-09-01T01:00:00Z", "updated_at": "2026-09-01T01:00:00Z"}})

    id: uuid.UUID
    username: str
    full_name: str
    email: str | None
    roles: list[str]
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class UserCreated(UserPublic):
    """A created user, with the generated password when none was given (shown once)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.JUDGE, "username": "judge01", "full_name": "陈刚",
        "email": "chengang@example.cn", "roles": ["judge"], "is_active": True, "version": 1,
        "created_at": "2026-10-15T01:00:00Z", "updated_at": "2026-10-15T01:00:00Z",
        "generated_password": "mX7-qL2p-Vr9s-K4tw"}})

    generated_password: str | None = None
