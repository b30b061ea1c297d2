"""Selections (公开选拔) and step 1, the job description (职务说明书); the selection's actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import func
from sqlmodel import Session, select

from ..core import calendar as workcal
from ..core.clock import Clock
from ..core.errors import Conflict, InvalidInput
from ..core.models import CalendarOverride, User, utcnow
from ..core.pagination import keyset_page
from ..nomination.models import Candidate
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall, SubjectKind
from ..workflow import SELECTION
from .models import Selection
from .schemas import JobDescription, SelectionCreate, SelectionSettings, SelectionUpdate

SUBJECT = "selection"


def create(*, session: Session, data: SelectionCreate, user: User, clock: Clock) -> Selection:
    """A new selection in `drafting`, with its creation in the record."""
    selection = Selection(
        title=data.title,
        organization=data.organization,
        posts=data.posts,
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
            f"The job description can only be edited while drafting; the selection is"
            f" '{selection.state}'.",
            code="selection_not_editable", details={"state": selection.state},
        )
    changes = data.model_dump(mode="json", exclude_unset=True)
    changed = {}
    for name, value in changes.items():
        if value is None:
            raise InvalidInput(
                f"'{name}' cannot be null; leave it out to keep it.",
                errors=[{"field": f"body.{name}", "message": "may not be null",
                         "type": "null_not_allowed"}],
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


_DOCUMENTS = {"job_description": JobDescription, "settings": SelectionSettings}


def _merge(current: Any, patch: Any) -> Any:
    """JSON merge of `patch` into `current` (objects merge key by key; anything else replaces)."""
    if isinstance(current, dict) and isinstance(patch, dict):
        return {**current, **{k: _merge(current.get(k), v) for k, v in patch.items()}}
    return patch


def _validated(name: str, value: dict) -> dict:
    try:
        return _DOCUMENTS[name].model_validate(value).model_dump(mode="json")
    except ValidationError as e:
        errors = [{"field": ".".join(["body", name, *map(str, err["loc"])]),
                   "message": err["msg"], "type": err["type"]} for err in e.errors()]
        raise InvalidInput(f"{errors[0]['field']}: {errors[0]['message']}",
                           errors=errors) from None


def created_between(column, created_from: date | None, created_to: date | None) -> list:
    """Conditions on a creation time for a range of calendar days in China (the process's
    dates), both ends inclusive; 422 when the range ends before it starts."""
    from ..core.clock import CHINA

    if created_from and created_to and created_from > created_to:
        raise InvalidInput(
            f"created_to ({created_to}) is before created_from ({created_from}).",
            errors=[{"field": "query.created_to", "message": "before created_from",
                     "type": "range_reversed"}])
    conds = []
    if created_from:
        conds.append(column >= datetime.combine(created_from, time(), CHINA))
    if created_to:
        conds.append(column < datetime.combine(created_to + timedelta(days=1), time(), CHINA))
    return conds


def text_contains(column, q: str | None) -> list:
    """A case-insensitive substring match; `%`, `_` and the escape character in `q` match
    themselves, not as LIKE wildcards."""
    q = (q or "").strip()
    return [column.icontains(q, autoescape=True)] if q else []


def list_page(
    *, session: Session, user: User, state: str | None, limit: int, cursor: str | None,
    organization: str | None = None, q: str | None = None, created_from: date | None = None,
    created_to: date | None = None,
) -> tuple[list[Selection], str | None]:
    """A page of the selections this user may see, newest first, filtered by state,
    organization (exact), a text in the title, and the day of creation."""
    from ..workflow.roles import ADMIN, CANDIDATE

    stmt = select(Selection)
    if state:
        stmt = stmt.where(Selection.state == state)
    if organization:
        stmt = stmt.where(Selection.organization == organization.strip())
    for cond in [*text_contains(Selection.title, q),
                 *created_between(Selection.created_at, created_from, created_to)]:
        stmt = stmt.where(cond)
    roles = set(user.roles)
    if ADMIN not in roles:
        if roles - {CANDIDATE}:
            stmt = stmt.where(Selection.state != "drafting")
        else:
            own = select(Candidate.selection_id).where(Candidate.user_id == user.id)
            stmt = stmt.where(Selection.id.in_(own)  # type: ignore[attr-defined]
                              | (Selection.state == "publicizing"))
    return keyset_page(session, stmt, [Selection.created_at, Selection.id], limit=limit,
                       cursor=cursor, descending=True)


def candidate_counts(session: Session, selection_id: uuid.UUID) -> dict[str, int]:
    """How many candidates of the selection are in each state."""
    rows = session.exec(
        select(Candidate.state, func.count())
        .where(Candidate.selection_id == selection_id)
        .group_by(Candidate.state)
    )
    return {state: n for state, n in rows}


def overrides(session: Session) -> dict[date, bool]:
    """Every calendar override an administrator has entered."""
    return {o.day: o.workday for o in session.exec(select(CalendarOverride))}


def _facts(session: Session, selection: Selection, user: User, clock: Clock) -> dict[str, Any]:
    return {
        "today": clock.today(),
        "publicity_end_on": selection.publicity_end_on,
        "duties_count": len(selection.job_description.get("duties", [])),
        "candidate_counts": candidate_counts(session, selection.id),
    }


# ---------------------------------------------------------------- action parameters and effects
class PublishParams(BaseModel):
    """Publish the post (公示选拔岗位) for a number of working days from a start date."""

    model_config = ConfigDict(extra="forbid")

    start_on: date | None = Field(default=None, description="First day of publicity; default"
                                  " today")
    working_days: int | None = Field(default=None, ge=1, le=60, description="Default: the"
                                     " selection's publicity_working_days setting")


def _publish(call: ActionCall) -> dict[str, Any]:
    sel: Selection = call.subject
    params: PublishParams = call.params  # type: ignore[assignment]
    today = call.clock.today()
    start = params.start_on or today
    if start < today:
        raise InvalidInput(
            f"The publicity cannot start in the past ({start} is before today, {today}).",
            code="start_in_past",
            errors=[{"field": "body.params.start_on", "message": "before today",
                     "type": "start_in_past"}],
        )
    if start > today + timedelta(days=366):
        raise InvalidInput(
            f"The publicity must start within a year ({start} is more than a year after"
            f" {today}).", code="start_too_far",
            errors=[{"field": "body.params.start_on", "message": "more than a year ahead",
                     "type": "start_too_far"}],
        )
    days = params.working_days or sel.settings["publicity_working_days"]
    try:
        period = workcal.working_period(
            start, days, counts_start_day=sel.settings["publicity_counts_start_day"],
            overrides=overrides(call.session),
        )
    except workcal.CalendarRangeError as e:
        raise InvalidInput(str(e), code="period_out_of_range") from e
    sel.publicity_start_on = period.start_on
    sel.publicity_end_on = period.end_on
    return {"start_on": period.start_on, "working_days": days,
            "first_counted_day": period.first_day, "end_on": period.end_on,
            "warnings": period.warnings}


def _close_nominations(call: ActionCall) -> dict[str, Any]:
    """Nominees who never consented lapse; every applicant's eligibility is checked again."""
    from .. import facts as candidates
    from ..nomination import service as nominations

    sel: Selection = call.subject
    lapsed = []
    for cand in call.session.exec(select(Candidate).where(
            Candidate.selection_id == sel.id, Candidate.state == "nominated").with_for_update()):
        actions.run(call.session, candidates.KIND, cand, "lapse", user=call.user,
                    clock=call.clock, reason="未在公示期内确认参选（no consent by the end of the"
                    " publicity period）", raw_params={})
        lapsed.append(str(cand.id))
    nominations.recheck_all(session=call.session, selection=sel, author=call.author,
                            clock=call.clock)
    return {"lapsed_candidates": lapsed}


def _finish_decision(call: ActionCall) -> dict[str, Any]:
    """Every candidate is told the outcome (信息反馈): the emails go to the outbox now."""
    from ..followup import notifications

    queued = notifications.enqueue_all(call.session, call.subject, clock=call.clock,
                                       author=call.author)
    return {"notifications_queued": queued}


KIND = SubjectKind(
    machine=SELECTION,
    subject_type=SUBJECT,
    facts=_facts,
    selection_id=lambda s: s.id,
    params={"publish": PublishParams},
    effects={"publish": _publish, "close_nominations": _close_nominations,
             "finish_decision": _finish_decision},
)


def run_action(
    *, session: Session, selection: Selection, action: str, user: User, clock: Clock,
    reason: str | None, params: dict[str, Any],
) -> record.Event:
    """Run a selection action (see the workflow table)."""
    return actions.run(session, KIND, selection, action, user=user, clock=clock, reason=reason,
                       raw_params=params)
