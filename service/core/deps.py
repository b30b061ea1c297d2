"""Dependencies: the session, the clock, the current user, role checks, subjects that 404."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Path, Request, Response
from fastapi.security import OAuth2PasswordBearer
from sqlmodel import Session, select

from ..config import Settings, get_settings
from ..nomination.models import Candidate
from ..record import simulation
from ..record.service import Author
from ..selection.models import Selection
from ..workflow.roles import ADMIN, CANDIDATE, COMMITTEE, INSPECTOR, JUDGE, MENTOR, NOMINATOR
from .clock import Clock
from .errors import Forbidden, NotFound, PreconditionFailed, Unauthorized
from .models import User
from .security import InvalidToken, decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Dependencies that neither block nor touch the database are `async def`: FastAPI runs a
# plain `def` dependency in a worker thread, a hop that costs more than the work itself.


async def get_session(request: Request) -> Session:
    """The request's session, opened by the route (service.routing), which commits it."""
    return request.state.db


async def settings_of_process() -> Settings:
    """The process's settings."""
    return get_settings()


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(settings_of_process)]


def get_clock(session: SessionDep, settings: SettingsDep) -> Clock:
    """The request's clock (simulated in simulation mode)."""
    return simulation.current(session, settings)


ClockDep = Annotated[Clock, Depends(get_clock)]


def get_current_user(
    session: SessionDep, settings: SettingsDep, token: Annotated[str | None, Depends(oauth2)]
) -> User:
    """The user the bearer token names; 401 for a missing, bad or outdated token."""
    if not token:
        raise Unauthorized("This needs a bearer token: POST /api/v1/auth/token first.")
    try:
        claims = decode_token(settings, token)
        user_id = uuid.UUID(claims["sub"])
    except (InvalidToken, ValueError) as e:
        raise Unauthorized("The token is invalid or has expired.", code="invalid_token") from e
    user = session.get(User, user_id)
    if user is None or not user.is_active or claims.get("tv") != user.token_version:
        raise Unauthorized(
            "The token is no longer valid for this account; log in again.", code="invalid_token"
        )
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str):
    """A dependency that lets through users holding one of `roles` (403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        if not set(user.roles) & set(roles):
            raise Forbidden(
                f"This needs one of the roles: {', '.join(roles)}.", code="role_not_permitted"
            )
        return user

    return check


AdminUser = Annotated[User, Depends(require_roles(ADMIN))]


def author_of(user: User, role: str) -> Author:
    """The event author for a user acting in `role`."""
    return Author(user.id, role)


def _load_visible(model, subject_id: uuid.UUID, request: Request, session: Session, user: User,
                  visible, what: str):
    """Load a subject, locked when the request writes; 404 when missing or not visible, so
    that existence itself stays private."""
    stmt = select(model).where(model.id == subject_id)
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        stmt = stmt.with_for_update()
    subject = session.exec(stmt).first()
    if subject is None or not visible(user, subject, session):
        raise NotFound(f"No {what} with id {subject_id}.", code=f"{what}_not_found")
    return subject


def selection_visible(user: User, selection: Selection, session: Session) -> bool:
    """Whether the user may see this selection: admins all; other staff once published;
    candidates those publicized now and those they stand in."""
    roles = set(user.roles)
    if ADMIN in roles:
        return True
    if roles - {CANDIDATE} and selection.state != "drafting":
        return True
    if CANDIDATE in roles and selection.state == "publicizing":  # announced: open to apply
        return True
    if CANDIDATE in roles:
        own = session.exec(
            select(Candidate.id).where(
                Candidate.selection_id == selection.id, Candidate.user_id == user.id
            )
        ).first()
        return own is not None
    return False


SelectionId = Annotated[uuid.UUID, Path(description="The selection's id",
                                        examples=["5b0c2f6a-9d1e-4c7b-8a3f-2e1d0c9b8a7f"])]
CandidateId = Annotated[uuid.UUID, Path(description="The candidate's id",
                                        examples=["7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b"])]


def get_current_selection(
    selection_id: SelectionId,
    request: Request, session: SessionDep, user: CurrentUser,
) -> Selection:
    """The selection in the path, locked for writes; 404 when missing or not visible."""
    return _load_visible(Selection, selection_id, request, session, user, selection_visible,
                         "selection")


CurrentSelection = Annotated[Selection, Depends(get_current_selection)]


INTERVIEWED_STATES = ("qualified", "shortlisted", "inspected", "appointed", "reserve", "on_trial",
                "confirmed", "revoked", "dismissed")
SUBMITTED_STATES = ("inspected", "appointed", "reserve", "on_trial", "confirmed", "revoked",
              "dismissed")


def full_access(user: User, candidate: Candidate, session: Session) -> bool:
    """Whether the user sees the candidate's whole record with personal data: admins, the
    candidate themself, and the nominators who nominated them."""
    from ..nomination.service import nominated_by

    if ADMIN in user.roles:
        return True
    if CANDIDATE in user.roles and candidate.user_id == user.id:
        return True
    return NOMINATOR in user.roles and nominated_by(session, user, candidate)


def candidate_visible(user: User, candidate: Candidate, session: Session) -> bool:
    """Whether the user may see this candidate at all: those with full access, judges on the
    selection's panel once the candidate is interviewed, the candidate's inspection team,
    their mentor, and committee members once the candidate is submitted to them."""
    from ..review import service as review

    if full_access(user, candidate, session):
        return True
    roles = set(user.roles)
    if JUDGE in roles and candidate.state in INTERVIEWED_STATES and user.id in review.panel_ids(
            session, candidate.selection_id):
        return True
    if INSPECTOR in roles and user.id in review.team_ids(session, candidate.id):
        return True
    if MENTOR in roles:
        from ..followup.service import mentorship

        m = mentorship(session, candidate.id)
        if m is not None and m.mentor_id == user.id:
            return True
    if COMMITTEE in roles and candidate.state in SUBMITTED_STATES:
        selection = session.get(Selection, candidate.selection_id)
        return selection is not None and selection.state in ("deciding", "following_up",
                                                             "closed")
    return False


def get_current_candidate(
    candidate_id: CandidateId,
    request: Request, session: SessionDep, user: CurrentUser,
) -> Candidate:
    """The candidate in the path, locked for writes; 404 when missing or not visible."""
    return _load_visible(Candidate, candidate_id, request, session, user, candidate_visible,
                         "candidate")


CurrentCandidate = Annotated[Candidate, Depends(get_current_candidate)]


# ---------------------------------------------------------------- ETags
def etag_of(kind: str, subject_id: uuid.UUID, version: int) -> str:
    """A strong ETag for one version of one resource."""
    return f'"{kind}-{subject_id.hex}-v{version}"'


IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The ETag last read; the request fails with 412 when"
           " the resource has changed since",
           examples=['"selection-5b0c2f6a9d1e4c7b8a3f2e1d0c9b8a7f-v2"']),
]


def check_if_match(if_match: str | None, current: str) -> None:
    """412 unless If-Match is absent, `*`, or names the current ETag."""
    if if_match is None:
        return
    tags = [t.strip() for t in if_match.split(",")]
    if "*" in tags or current in tags:
        return
    raise PreconditionFailed(
        "The resource has changed since you read it; read it again and retry.",
        details={"current_etag": current},
        headers={"ETag": current},
    )


def set_etag(response: Response, kind: str, subject_id: uuid.UUID, version: int) -> None:
    """Send the resource's ETag."""
    response.headers["ETag"] = etag_of(kind, subject_id, version)
