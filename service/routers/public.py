"""The public announcement (公示选拔岗位): no login, and only what an announcement shows."""

import uuid

from fastapi.responses import HTMLResponse
from sqlmodel import Session, select

from ..config import Settings
from ..core import i18n
from ..core.deps import ClockDep, SelectionId, SessionDep, SettingsDep
from ..core.errors import NotFound, problems
from ..core.pagination import Page, keyset_page
from ..core.routing import api_router
from ..reports import pages
from ..selection import service as selections
from ..selection.models import Selection
from ..selection.schemas import PublicSelection
from .common import Cursor, Limit

router = api_router(prefix="/api/v1/public", tags=["public"])

HOW_TO_APPLY = (
    "Nominations: party, administrative, trade-union and youth-league organizations, or party"
    " members jointly, nominate during the publicity period by handing the nomination (with"
    " what they found out about the nominee) to the organization department, and talk with"
    " the nominee; a nominee who agrees to stand becomes a candidate. Applications: a person"
    " applies in their own name during the publicity period, with a candidate account on this"
    " service. Publicity period: {start} to {end} inclusive. Eligibility (age, years of party"
    " membership and of work) is judged as of {reference}. Contact: {contact}.")


def _announcement(s: Selection, settings: Settings) -> PublicSelection:
    jd = s.job_description
    reference = selections.eligibility_reference(s)[0] or s.publicity_end_on
    return PublicSelection(
        id=s.id, title=s.title, organization=s.organization, posts=s.posts,
        named_posts=s.named_posts,
        duties=jd["duties"], experience=jd.get("experience", ""),
        requirements=jd["requirements"], judged_requirements=jd["judged_requirements"],
        publicity_start_on=s.publicity_start_on, publicity_end_on=s.publicity_end_on,
        eligibility_reference_on=reference,
        how_to_apply=i18n._(HOW_TO_APPLY, start=s.publicity_start_on, end=s.publicity_end_on,
                            reference=reference, contact=pages.office_contact(s, settings)),
    )


@router.get("/selections", response_model=Page[PublicSelection], responses=problems(422))
def list_public_selections(
    session: SessionDep, settings: SettingsDep, limit: Limit = 50, cursor: Cursor = None,
) -> Page[PublicSelection]:
    """Posts being publicized now, newest first. No login needed."""
    stmt = select(Selection).where(Selection.state == "publicizing")
    rows, nxt = keyset_page(session, stmt, [Selection.created_at, Selection.id], limit=limit,
                            cursor=cursor, descending=True)
    return Page[PublicSelection](items=[_announcement(s, settings) for s in rows], next_cursor=nxt,
                                 limit=limit)


@router.get("/selections/{selection_id}", response_model=PublicSelection,
            responses=problems(404, 422))
def read_public_selection(selection_id: SelectionId, session: SessionDep,
                          settings: SettingsDep) -> PublicSelection:
    """One publicized post's announcement. No login needed."""
    return _announcement(_publicized(session, selection_id), settings)


def _publicized(session: Session, selection_id: uuid.UUID) -> Selection:
    s = session.get(Selection, selection_id)
    if s is None or s.state != "publicizing":
        raise NotFound("No publicized selection with id {selection_id}.",
                       code="selection_not_found", params={"selection_id": selection_id})
    return s


@router.get("/selections/{selection_id}/announcement.html", response_class=HTMLResponse,
            responses=problems(404, 422))
def print_public_selection(selection_id: SelectionId, session: SessionDep,
                           settings: SettingsDep, clock: ClockDep) -> HTMLResponse:
    """The announcement of the post (公示) as a page the public opens and prints (A4): the
    posts, the duties, the requirements, how to apply in plain words, the publicity period
    and the office's contact. No login needed; `?lang=en` for English."""
    s = _publicized(session, selection_id)
    how = _announcement(s, settings).how_to_apply
    return HTMLResponse(pages.announcement_page(session, s, settings, clock, how))
