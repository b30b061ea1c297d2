"""Request and response models of users and logging in."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    model_validator,
)

from ..core import examples as ex
from ..core.schemas import EMAIL, NO_NUL, FieldName, Role, Strict, Stripped, invalid
from ..workflow.roles import ROLES

# ---------------------------------------------------------------- users and auth
Username = Annotated[
    str, StringConstraints(min_length=2, max_length=64,
                           pattern=r"^[A-Za-z0-9_.@-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256, pattern=NO_NUL)]


class BodyKind(StrEnum):
    """The kind of a nominating body (推荐单位): party, administration, union, youth league
    (党、政、工、团), or party members jointly (党员联名)."""

    party_organization = "party_organization"
    administration = "administration"
    trade_union = "trade_union"
    youth_league = "youth_league"
    party_members_joint = "party_members_joint"


ex.enum_example("trade_union")(BodyKind)


class NominatingBodyRef(Strict):
    """The body a nominator account belongs to and nominates as (set by admins)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "party_organization", "name": "机关党委"}})

    kind: BodyKind = Field(description="The body's kind")
    name: Stripped(200, min_length=1) = Field(description="The body's name, as it nominates")


def _body_goes_with_role(roles, body) -> None:
    if roles is None:
        return
    if "nominator" in roles and body is None:
        raise invalid("nominating_body_required", "a nominator belongs to a body: give {body}",
                      body=FieldName("nominating_body"))
    if "nominator" not in roles and body is not None:
        raise invalid("nominating_body_not_allowed",
                      "{body} is only for users with the nominator role",
                      body=FieldName("nominating_body"))


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
    """An OAuth2 bearer token, and the refresh token that renews it (POST /auth/refresh)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxYTJiM2M0ZC01ZTZmLTRhOGItOWMwZC0xZTJmM2E0YjVjNmQiLCJ0diI6MSwicm9sZXMiOlsiYWRtaW4iXSwiZXhwIjoxNzkwNzYyNDAwfQ.signature",
        "token_type": "bearer", "expires_in": 900,
        "refresh_token": "q3Jm1n0Qm2o6Zb8uX1c9V4k7sT5yW0eR2aL8dF6hJ3g",
        "refresh_expires_in": 43200}})

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="Seconds until the access token expires")
    refresh_token: str = Field(
        description="Opaque; exchange it once for a new pair at POST /auth/refresh before"
        " it expires; a second use ends every token of the account")
    refresh_expires_in: int = Field(description="Seconds until the refresh token expires")


class RefreshRequest(Strict):
    """A refresh token, to renew the access token or to log out."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "refresh_token": "q3Jm1n0Qm2o6Zb8uX1c9V4k7sT5yW0eR2aL8dF6hJ3g"}})

    refresh_token: str = Field(min_length=1, max_length=256, pattern=NO_NUL,
                               description="The refresh token last received")


Language = Literal["zh-CN", "en"]
LANGUAGE_FIELD = ("The language of the user's emails and printable pages (zh-CN or en); none:"
                  " the default, Chinese")


_SCHEMAS = "#/components/schemas/"
_ROLES = {"type": "array", "items": {"$ref": _SCHEMAS + "Role"}}


class UserCreate(Strict):
    """A new user; with no password, one is generated and returned once."""

    # nominating_body with the nominator role and only with it, as one `oneOf` inside an
    # `allOf` (see NominationCreate for why not a bare `oneOf`).
    # Each branch types what it says (the roles as `Role[]`, the body as NominatingBodyRef),
    # so that a generated client reads a typed field from either, not `unknown`.
    model_config = ConfigDict(json_schema_extra={"allOf": [{"oneOf": [
        {"properties": {"roles": {**_ROLES, "contains": {"const": "nominator"}},
                        "nominating_body": {"$ref": _SCHEMAS + "NominatingBodyRef"}},
         "required": ["roles", "nominating_body"]},
        {"properties": {"roles": {**_ROLES, "not": {"contains": {"const": "nominator"}}},
                        "nominating_body": {"type": "null"}}},
    ]}], "example": {
        "username": "wangfang", "full_name": "王芳", "email": "wangfang@example.cn",
        "roles": ["candidate"], "password": "a-long-passphrase-2026"}})

    username: Username
    full_name: Stripped(100) = ""
    email: Annotated[str, StringConstraints(max_length=254,
                                            pattern=EMAIL)] | None = None
    roles: list[Role] = Field(min_length=1, max_length=len(ROLES))
    password: Password | None = None
    language: Language | None = Field(default=None, description=LANGUAGE_FIELD)
    nominating_body: NominatingBodyRef | None = Field(
        default=None, description="Required with the nominator role, and only with it: the"
        " body the account nominates as")

    @model_validator(mode="after")
    def _body(self):
        _body_goes_with_role(self.roles, self.nominating_body)
        return self


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
    language: Language | None = Field(default=None, description=LANGUAGE_FIELD)
    nominating_body: NominatingBodyRef | None = Field(
        default=None, description="A nominator's body; a user given the nominator role needs"
        " one, and losing the role loses it")


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
    roles: list[Role]
    is_active: bool
    language: str | None = Field(default=None, description=LANGUAGE_FIELD)
    nominating_body: NominatingBodyRef | None = Field(
        default=None, description="The body a nominator nominates as")
    version: int
    created_at: datetime
    updated_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _from_user(cls, data):
        kind = getattr(data, "nominating_body_kind", None)
        if kind is not None:
            fields = {k: getattr(data, k) for k in ("id", "username", "full_name", "email",
                                                     "roles", "is_active", "language",
                                                     "version",
                                                     "created_at", "updated_at")}
            return fields | {"nominating_body": {"kind": kind,
                                                 "name": data.nominating_body_name}}
        return data


class OwnSettings(Strict):
    """What a user changes on their own account."""

    model_config = ConfigDict(json_schema_extra={"example": {"language": "en"}})

    language: Language | None = Field(description=LANGUAGE_FIELD)


class UserCreated(UserPublic):
    """A created user, with the generated password when none was given (shown once)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.JUDGE, "username": "judge01", "full_name": "陈刚",
        "email": "chengang@example.cn", "roles": ["judge"], "is_active": True, "version": 1,
        "created_at": "2026-10-15T01:00:00Z", "updated_at": "2026-10-15T01:00:00Z",
        "generated_password": "mX7-qL2p-Vr9s-K4tw"}})

    generated_password: str | None = None
