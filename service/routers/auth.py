"""Logging in (OAuth2 password flow) and who am I."""

from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.security import OAuth2PasswordRequestForm

from .. import users
from ..deps import CurrentUser, SessionDep, SettingsDep
from ..errors import problems
from ..schemas import Token, UserPublic
from ..security import create_token

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])


@router.post("/token", response_model=Token, responses=problems(401, 422))
def login(
    session: SessionDep, settings: SettingsDep,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
) -> Token:
    """Exchange a username and password (form fields) for a bearer token."""
    user = users.authenticate(session=session, username=form.username, password=form.password)
    token, lifetime = create_token(
        settings, user_id=user.id, token_version=user.token_version, roles=list(user.roles)
    )
    return Token(access_token=token, expires_in=lifetime)


@router.get("/me", response_model=UserPublic, responses=problems(401))
def read_me(user: CurrentUser) -> UserPublic:
    """The logged-in user, with their roles."""
    return UserPublic.model_validate(user, from_attributes=True)
