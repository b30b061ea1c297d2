"""The public announcement (公示选拔岗位): no login, and only what an announcement shows."""

from fastapi import APIRouter
from sqlmodel import select

from ..core.deps import SelectionId, SessionDep
from ..core.errors import NotFound, problems
from ..core.pagination import Page, keyset_page
from ..core.routing import TransactionalRoute
from ..selection import service as selections
from ..selection.models import Selection
from ..selection.schemas import PublicSelection
from .common import Cursor, Limit

router = APIRouter(route_class=TransactionalRoute, prefix="/api/v1/public", tags=["public"])

HOW_TO_APPLY = (
    "推荐：党、政、工、团组织或党员联名，在公示期内通过 POST /api/v1/selections/{id}/nominations"
    " 提交推荐（附摸底情况），并与被推荐人沟通；被推荐人本人确认同意后成为参选人。"
    " 报名：本人以参选人账号在公示期内通过 POST /api/v1/selections/{id}/applications 报名。"
    " 公示期：{start} 至 {end}（含）。资格条件（年龄、党龄、工作年限）以 {reference} 为准计算。"
)


def _announcement(s: Selection) -> PublicSelection:
    jd = s.job_description
    reference = selections.eligibility_reference(s)[0] or s.publicity_end_on
    return PublicSelection(
        id=s.id, title=s.title, organization=s.organization, posts=s.posts,
        named_posts=s.named_posts,
        duties=jd["duties"], experience=jd.get("experience", ""),
        requirements=jd["requirements"], judged_requirements=jd["judged_requirements"],
        publicity_start_on=s.publicity_start_on, publicity_end_on=s.publicity_end_on,
        eligibility_reference_on=reference,
        how_to_apply=HOW_TO_APPLY.replace("{id}", str(s.id)).format(
            start=s.publicity_start_on, end=s.publicity_end_on, reference=reference),
    )


@router.get("/selections", response_model=Page[PublicSelection], responses=problems(422))
def list_public_selections(
    session: SessionDep, limit: Limit = 50, cursor: Cursor = None,
) -> Page[PublicSelection]:
    """Posts being publicized now, newest first. No login needed."""
    stmt = select(Selection).where(Selection.state == "publicizing")
    rows, nxt = keyset_page(session, stmt, [Selection.created_at, Selection.id], limit=limit,
                            cursor=cursor, descending=True)
    return Page[PublicSelection](items=[_announcement(s) for s in rows], next_cursor=nxt,
                                 limit=limit)


@router.get("/selections/{selection_id}", response_model=PublicSelection,
            responses=problems(404, 422))
def read_public_selection(selection_id: SelectionId, session: SessionDep) -> PublicSelection:
    """One publicized post's announcement. No login needed."""
    s = session.get(Selection, selection_id)
    if s is None or s.state != "publicizing":
        raise NotFound(f"No publicized selection with id {selection_id}.",
                       code="selection_not_found")
    return _announcement(s)
