"""Logging in (OAuth2 password flow) and who am I."""

from typing import Annotated

from fastapi import Depends, Form, Request, Response
from starlette.concurrency import run_in_threadpool

from ..config import Settings
from ..core.deps import ClockDep, CurrentUser, SessionDep, SettingsDep
from ..core.errors import InvalidInput, problems
from ..core.forwarded import client_address
from ..core.routing import answer_once, api_router, in_one_hop, json_response
from ..core.security import create_token
from ..record.service import Author
from ..users import service as users
from ..users import sessions
from ..users.schemas import LoginForm, OwnSettings, RefreshRequest, Token, UserPublic, UserUpdate

router = api_router(prefix="/api/v1/auth", tags=["auth"])


async def _grant_type_sent(request: Request) -> None:
    """An empty `grant_type` is a wrong grant type, as any other but `password` is: FastAPI
    reads an empty form field as one left out, so the form is looked at as sent."""
    sent = (await request.form()).getlist("grant_type")
    if any(value != "password" for value in sent):
        raise InvalidInput(
            "body.grant_type: only the `password` grant is supported (OAuth2 password flow).",
            errors=[{"field": "body.grant_type", "message": "must be `password` when sent",
                     "type": "string_pattern_mismatch"}])


@router.post("/token", response_model=Token, responses=problems(401, 409, 422, 429, 503),
             dependencies=[Depends(_grant_type_sent)])
@in_one_hop
async def login(
    request: Request, settings: SettingsDep, form: Annotated[LoginForm, Form()],
) -> Response:
    """Exchange a username and password (form fields) for a bearer token and a refresh token
    (see POST /auth/refresh). After repeated failures for an account or from an address,
    logins are refused for a while (429); when too many logins wait at once, 503
    `logins_busy` with Retry-After."""
    client = client_address(request)
    user, refresh = await users.log_in(settings=settings, username=form.username,
                                       password=form.password, client=client)
    # RFC 6749 5.1; nor kept for a replay
    return await answer_once(request, _tokens(settings, user, refresh))


def _tokens(settings: Settings, user, refresh: sessions.Issued) -> Response:
    """A new access token for the account as it is now, with the refresh token (no-store)."""
    token, lifetime = create_token(
        settings, user_id=user.id, token_version=user.token_version, roles=list(user.roles)
    )
    return json_response(
        Token(access_token=token, expires_in=lifetime, refresh_token=refresh.token,
              refresh_expires_in=refresh.expires_in),
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.post("/refresh", response_model=Token, responses=problems(401, 422))
@in_one_hop
async def refresh(settings: SettingsDep, data: RefreshRequest) -> Response:
    """Exchange the refresh token for a new access token and a new refresh token; the one
    sent ends (rotation). A refresh token sent a second time is taken as stolen: every token
    of its login ends (401 `refresh_token_reused`, recorded). Password, role or activity
    changes and logging out end them too (401 `invalid_refresh_token`)."""
    user, new = await run_in_threadpool(sessions.rotate, settings=settings,
                                        token=data.refresh_token)
    return _tokens(settings, user, new)


@router.post("/logout", status_code=204, response_class=Response, responses=problems(422))
@in_one_hop
async def logout(data: RefreshRequest) -> Response:
    """End the login of this refresh token: it and every token renewed from it stop working
    (an unknown or ended one is answered alike). The access token in hand expires by itself
    within SELECTION_TOKEN_MINUTES; a front-end forgets it now."""
    await run_in_threadpool(sessions.end, token=data.refresh_token)
    return Response(status_code=204)


@router.get("/me", response_model=UserPublic, responses=problems(401))
def read_me(user: CurrentUser) -> UserPublic:
    """The logged-in user, with their roles."""
    return UserPublic.model_validate(user, from_attributes=True)


@router.patch("/me", response_model=UserPublic, responses=problems(401, 422))
def update_me(data: OwnSettings, user: CurrentUser, session: SessionDep,
              clock: ClockDep) -> UserPublic:
    """Change one's own settings: the language of one's emails and printable pages
    (`null`: the default, Chinese). Recorded in the user's record."""
    users.update(session=session, user=user, data=UserUpdate(language=data.language),
                 author=Author(user.id, user.roles[0] if user.roles else "user"), clock=clock)
    return UserPublic.model_validate(user, from_attributes=True)
