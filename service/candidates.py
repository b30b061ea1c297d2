"""Candidates of a selection and their actions."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from . import actions, record
from .actions import SubjectKind
from .clock import Clock
from .models import Candidate, Selection, User
from .workflow import CANDIDATE_MACHINE

SUBJECT = "candidate"


def _facts(session: Session, candidate: Candidate, user: User, clock: Clock) -> dict[str, Any]:
    selection = session.get(Selection, candidate.selection_id)
    return {
        "today": clock.today(),
        "owner_user_id": str(candidate.user_id) if candidate.user_id else None,
        "selection_state": selection.state if selection else None,
    }


KIND = SubjectKind(
    machine=CANDIDATE_MACHINE,
    subject_type=SUBJECT,
    facts=_facts,
    selection_id=lambda c: c.selection_id,
)


def run_action(
    *, session: Session, candidate: Candidate, action: str, user: User, clock: Clock,
    reason: str | None, params: dict[str, Any],
) -> record.Event:
    """Run a candidate action (see the workflow table)."""
    return actions.run(session, KIND, candidate, action, user=user, clock=clock, reason=reason,
                       raw_params=params)

