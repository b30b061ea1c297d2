"""Step 1: the selection (公开选拔) and its job description (职务说明书): creating and editing
it, and the effect of publishing the post. The selection's other actions, and the facts its
guards read, are assembled in service/facts.py; who sees which selection in service/access.py."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_core import PydanticCustomError
from sqlmodel import Session

from ..core import calendar as workcal
from ..core.clock import Clock
from ..core.errors import (
    Conflict,
    InvalidInput,
    custom_message,
    field_errors,
    field_label,
    invalid_input,
)
from ..core.models import User, utcnow
from ..record import service as record
from ..record.actions import ActionCall
from .models import Selection
from .schemas import (
    JobDescription,
    NamedPost,
    SelectionCreate,
    SelectionSettings,
    SelectionUpdate,
    reconcile_posts,
)

SUBJECT = record.subject_type("selection")
# verify-record checks every selection's state against its newest event
record.cover(record.StateCoverage(subject_type=SUBJECT, table=Selection))


def eligibility_reference(selection: Selection) -> tuple[date | None, str]:
    """The date as of which eligibility is judged, and why: the selection's own setting
    (`selection_setting`), else the publicity period's end (`publicity_end`)."""
    chosen = (selection.settings or {}).get("eligibility_reference_on")
    if chosen:
        return date.fromisoformat(str(chosen)), "selection_setting"
    return selection.publicity_end_on, "publicity_end"


def create(*, session: Session, data: SelectionCreate, user: User, clock: Clock) -> Selection:
    """A new selection in `drafting`, with its creation in the record."""
    selection = Selection(
        title=data.title,
        organization=data.organization,
        posts=data.posts,
        named_posts=[p.model_dump() for p in data.named_posts],
        job_description=data.job_description.model_dump(mode="json"),
        settings=data.settings.model_dump(mode="json"),
        created_by=user.id,
    )
    session.add(selection)
    session.flush()
    record.append(
        session, subject_type=SUBJECT, subject_id=selection.id, selection_id=selection.id,
        action="create", author=record.Author(user.id, "admin"), clock=clock,
        to_state=selection.state, params=data.model_dump(mode="json"),
    )
    return selection


def update(
    *, session: Session, selection: Selection, data: SelectionUpdate, user: User, clock: Clock
) -> Selection:
    """Edit a drafting selection; the event lists what changed, before and after."""
    if selection.state != "drafting":
        raise Conflict(
            "The job description can only be edited while drafting; the selection is "
            "'{state}'.",
            code="selection_not_editable", details={"state": selection.state}, params={"state": selection.state},
        )
    changes = data.model_dump(mode="json", exclude_unset=True)
    if "posts" in changes or "named_posts" in changes:
        changes.update(_posts_change(selection, data, changes))
    elif changes.get("organization") and len(selection.named_posts) == 1 \
            and selection.named_posts[0]["branch"] == selection.organization:
        # the one post named after the organization follows its new name
        changes["named_posts"] = [{**selection.named_posts[0],
                                   "branch": changes["organization"]}]
    changed = {}
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(
                "'{name}' cannot be null; leave it out to keep it.",
                errors=[{"field": f"body.{name}", "message": "may not be null",
                         "type": "null_not_allowed"}], params={"name": name},
            )
        if name in _DOCUMENTS:  # merge-patch: what is left out stays as it is
            value = _validated(name, _merge(getattr(selection, name), value))
        if getattr(selection, name) != value:
            changed[name] = {"before": getattr(selection, name), "after": value}
            setattr(selection, name, value)
    if not changed:
        return selection
    selection.version += 1
    selection.updated_at = utcnow()
    session.add(selection)
    record.append(
        session, subject_type=SUBJECT, subject_id=selection.id, selection_id=selection.id,
        action="edit", author=record.Author(user.id, "admin"), clock=clock,
        from_state=selection.state, to_state=selection.state, params={"changes": changed},
    )
    return selection


def post_codes(selection: Selection) -> list[str]:
    """The codes of the selection's posts, in their order."""
    return [p["code"] for p in selection.named_posts]


def post_of(selection: Selection, code: str) -> dict[str, Any] | None:
    """One of the selection's posts by its code."""
    return next((p for p in selection.named_posts if p["code"] == code), None)


def stood_for(selection: Selection, codes: list[str] | None) -> list[str]:
    """The posts a candidate stands for: those stated, else every post of the selection."""
    return list(codes) if codes else post_codes(selection)


def resolve_posts(selection: Selection, codes: list[str] | None, *, field: str) -> list[str]:
    """The posts a nomination or application stands for, checked against the selection's:
    left out, the one post when there is one; with several, they must be named."""
    known = post_codes(selection)
    if codes is None:
        if len(known) == 1:
            return known
        raise InvalidInput(
            "This selection has {known} posts ({known2}); say which the candidate stands "
            "for.", code="post_required",
            errors=[{"field": field, "message": "required when the selection has several"
                     " posts", "type": "post_required"}], details={"posts": known}, params={"known": len(known), "known2": ', '.join(known)})
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InvalidInput(
            "Not a post of this selection: {unknown} (its posts: {known}).", code="unknown_post",
            errors=[{"field": field, "message": "unknown post {code}", "params": {"code": c},
                     "type": "unknown_post"}
                    for c in unknown], details={"unknown": unknown, "posts": known}, params={"unknown": ', '.join(unknown), "known": ', '.join(known)})
    return list(dict.fromkeys(codes))


_DOCUMENTS = {"job_description": JobDescription, "settings": SelectionSettings}


def _posts_change(selection: Selection, data: SelectionUpdate, changes: dict) -> dict:
    """`posts` and `named_posts` change together: the list replaces the stored one (and
    `posts` is its total); `posts` alone changes the count of a selection's only post."""
    if changes.get("posts", 0) is None or changes.get("named_posts", 0) is None:
        return {}  # refused as null below
    named = data.named_posts
    if named is None:
        if len(selection.named_posts) != 1:
            raise InvalidInput(
                "This selection has several named posts; change their counts in named_posts.",
                code="posts_mismatch",
                errors=[{"field": "body.posts", "message": "give named_posts instead",
                         "type": "posts_mismatch"}])
        named = [NamedPost.model_validate({**selection.named_posts[0], "count": data.posts})]
    try:
        total, rows = reconcile_posts(selection.organization, data.posts, named)
    except PydanticCustomError as e:
        message = custom_message(e.context or {}, ["body"])
        raise InvalidInput("{field}: {message}", code="posts_mismatch", params={
            "field": field_label("body.posts"), "message": message}, errors=[
            {"field": "body.posts", "message": message, "type": "posts_mismatch"}]) from None
    return {"posts": total, "named_posts": rows}


def _merge(current: Any, patch: Any) -> Any:
    """JSON merge of `patch` into `current` (objects merge key by key; anything else replaces)."""
    if isinstance(current, dict) and isinstance(patch, dict):
        return {**current, **{k: _merge(current.get(k), v) for k, v in patch.items()}}
    return patch


def _validated(name: str, value: dict) -> dict:
    try:
        return _DOCUMENTS[name].model_validate(value).model_dump(mode="json")
    except ValidationError as e:
        raise invalid_input(field_errors(e.errors(), ("body", name))) from None


# ---------------------------------------------------------------- action parameters and effects
class PublishParams(BaseModel):
    """Publish the post (公示选拔岗位) for a number of working days from a start date."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "start_on": "2026-09-30", "working_days": 5}})

    start_on: date | None = Field(default=None, description="First day of publicity; default"
                                  " today")
    working_days: int | None = Field(default=None, ge=1, le=60, description="Default: the"
                                     " selection's publicity_working_days setting")


def publish(call: ActionCall) -> dict[str, Any]:
    """The effect of `publish`: the publicity period, counted in working days."""
    sel: Selection = call.subject
    params: PublishParams = call.params  # type: ignore[assignment]
    today = call.clock.today()
    start = params.start_on or today
    if start < today:
        raise InvalidInput(
            "The publicity cannot start in the past ({start} is before today, {today}).",
            code="start_in_past",
            errors=[{"field": "body.params.start_on", "message": "before today",
                     "type": "start_in_past"}], params={"start": start, "today": today},
        )
    if start > today + timedelta(days=366):
        raise InvalidInput(
            "The publicity must start within a year ({start} is more than a year after "
            "{today}).", code="start_too_far",
            errors=[{"field": "body.params.start_on", "message": "more than a year ahead",
                     "type": "start_too_far"}], params={"start": start, "today": today},
        )
    days = params.working_days or sel.settings["publicity_working_days"]
    try:
        period = workcal.working_period(
            start, days, counts_start_day=sel.settings["publicity_counts_start_day"],
            overrides=workcal.overrides(call.session),
        )
    except workcal.CalendarRangeError as e:
        raise InvalidInput(str(e), code="period_out_of_range") from e
    sel.publicity_start_on = period.start_on
    sel.publicity_end_on = period.end_on
    return {"start_on": period.start_on, "working_days": days,
            "first_counted_day": period.first_day, "end_on": period.end_on,
            "calendar_fallback_years": list(period.fallback_years)}
