"""Candidates of a selection and their actions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from .core.clock import Clock
from .core.errors import InvalidInput
from .core.models import User
from .followup.schemas import TrialParams
from .nomination.models import Candidate
from .record import actions
from .record import service as record
from .record.actions import ActionCall, LazyFacts, SubjectKind
from .review.schemas import InspectionConclusionParams, PrereviewParams
from .selection.models import Selection
from .workflow import CANDIDATE_MACHINE

SUBJECT = "candidate"


_INTERVIEW_FACTS = ("sheets_expected", "sheets_submitted", "rank", "cutoff", "tied_at_cutoff")
_INSPECTION_FACTS = ("team_member_ids", "team_active", "team_needed", "inspection_records")
_FOLLOW_UP_FACTS = ("appointment_publicity_end_on", "open_objections", "trial_missing")


def _facts(session: Session, candidate: Candidate, user: User, clock: Clock) -> LazyFacts:
    from .followup import service as followup
    from .review import service as review

    selection = session.get(Selection, candidate.selection_id)
    base = {
        "today": clock.today(),
        "owner_user_id": str(candidate.user_id) if candidate.user_id else None,
        "selection_state": selection.state if selection else None,
        "publicity_end_on": selection.publicity_end_on if selection else None,
    }

    def interview() -> dict[str, Any]:
        return review.interview_facts(session, candidate)

    def inspection() -> dict[str, Any]:
        return review.inspection_facts(session, candidate)

    def follow_up() -> dict[str, Any]:
        return followup.facts(session, candidate, clock)

    providers = {k: interview for k in _INTERVIEW_FACTS}
    providers.update({k: inspection for k in _INSPECTION_FACTS})
    providers.update({k: follow_up for k in _FOLLOW_UP_FACTS})
    return LazyFacts(base, providers)


class ConsentParams(BaseModel):
    """How consent was given: by the nominee's own account, or confirmed by an admin."""

    model_config = ConfigDict(extra="forbid")

    confirmed_by: str | None = Field(default=None, max_length=100, description="Who took the"
                                     " nominee's consent (required when an admin records it)")
    confirmed_at: datetime | None = Field(default=None, description="When the nominee said yes"
                                          " (required when an admin records it)")
    note: str = Field(default="", max_length=2000)


def _consent(call: ActionCall) -> dict[str, Any]:
    params: ConsentParams = call.params  # type: ignore[assignment]
    if call.decision.role == "admin":
        missing = [f for f in ("confirmed_by", "confirmed_at") if not getattr(params, f)]
        if missing:
            raise InvalidInput(
                "An admin recording consent says who confirmed it and when.",
                errors=[{"field": f"body.params.{f}", "message": "required when an admin"
                         " records consent", "type": "missing"} for f in missing])
        if params.confirmed_at.tzinfo is None or params.confirmed_at > call.clock.now:
            raise InvalidInput("confirmed_at needs a time zone and cannot be in the future.",
                               errors=[{"field": "body.params.confirmed_at",
                                        "message": "in the future or without a time zone",
                                        "type": "value_error"}])
    return {}


def _follow_up(name: str, call: ActionCall) -> dict[str, Any]:
    from .followup import service as followup

    return getattr(followup, name)(call)


KIND = SubjectKind(
    machine=CANDIDATE_MACHINE,
    subject_type=SUBJECT,
    facts=_facts,
    selection_id=lambda c: c.selection_id,
    params={"consent": ConsentParams, "pass_prereview": PrereviewParams,
            "fail_prereview": PrereviewParams, "pass_inspection": InspectionConclusionParams,
            "fail_inspection": InspectionConclusionParams, "start_trial": TrialParams},
    effects={"consent": _consent,
             "decide_appoint": lambda call: _follow_up("on_appoint", call),
             "decide_reserve": lambda call: _follow_up("on_reserve", call),
             "start_trial": lambda call: _follow_up("start_trial", call)},
)


def run_action(
    *, session: Session, candidate: Candidate, action: str, user: User, clock: Clock,
    reason: str | None, params: dict[str, Any],
) -> record.Event:
    """Run a candidate action (see the workflow table)."""
    return actions.run(session, KIND, candidate, action, user=user, clock=clock, reason=reason,
                       raw_params=params)

