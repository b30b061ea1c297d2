"""The branch's election (选举), when a selection's `branch_election` is on: after a clean
pre-appointment publicity the branch's meeting elects (valid when those present with a vote
exceed `election_quorum` of those due; elected with votes for above `election_majority` of
those present, per the 2020 basic-level election regulation), then the higher committee
approves (批准); the trial starts after the approval. Not elected or not approved leaves the
post vacant, to be backfilled."""

from __future__ import annotations

import math
from datetime import date
from fractions import Fraction
from typing import Any

from ..core import i18n
from ..core.errors import InvalidInput, refuse_future_date
from ..nomination.models import Candidate
from ..record import actions
from ..record import service as record
from ..record.actions import ActionCall
from ..review.service import settings_of
from ..selection.models import Selection
from ..workflow import CANDIDATE_MACHINE
from .backfill import vacancy_of
from .schemas import ApprovalParams, ElectionParams


def _share(value: float) -> Fraction:
    return Fraction(value).limit_denominator(1000)


def facts(session, candidate: Candidate) -> dict[str, Any]:
    """What the election guards read: the setting, its quorum, the election and approval."""
    s = settings_of(session.get(Selection, candidate.selection_id))
    a = candidate.appointment or {}
    return {"branch_election": s.branch_election, "election_quorum": s.election_quorum,
            "election": a.get("election"), "approval": a.get("approval")}


def record_election(call: ActionCall) -> dict[str, Any]:
    """The branch's meeting: its counts, and whether the appointee is elected."""
    cand: Candidate = call.subject
    p: ElectionParams = call.params  # type: ignore[assignment]
    refuse_future_date(p.held_on, call.clock.today(), what="election",
                       field="body.params.held_on")
    end = (cand.appointment or {}).get("publicity_end_on")
    if end and p.held_on <= date.fromisoformat(end):
        raise InvalidInput("The election follows the pre-appointment publicity (to {end}).",
                           code="election_before_publicity_end",
                           params={"end": date.fromisoformat(end)})
    s = settings_of(call.session.get(Selection, cand.selection_id))
    share = _share(s.election_majority)
    needed = math.floor(p.present_with_vote * share) + 1  # more than that share of those present
    election = {**p.model_dump(mode="json"), "ballots_issued": p.present_with_vote,
                "elected": p.votes_for >= needed,
                "votes_needed": needed, "election_quorum": s.election_quorum,
                "election_majority": s.election_majority}
    cand.appointment = {**(cand.appointment or {}), "election": election}
    return {"election": election}


def after_election(call: ActionCall, event: record.Event) -> None:
    """An election that did not elect ends the candidacy as not elected, citing it."""
    e = event.params["election"]
    if e["elected"]:
        return
    actions.run(call.session, actions.kind_of(CANDIDATE_MACHINE), call.subject, "fail_election",
                user=call.user, clock=call.clock,
                reason=i18n.said(
                    "Not elected by the branch's general meeting: {votes_for} votes for, not"
                    " more than half of the {present} members present with a vote ({needed}"
                    " needed).", votes_for=e["votes_for"], present=e["present_with_vote"],
                    needed=e["votes_needed"]),
                raw_params={})


def on_fail_election(call: ActionCall) -> dict[str, Any]:
    """Not elected: the election cited, the post vacant."""
    e = (call.subject.appointment or {}).get("election") or {}
    return {**vacancy_of(call), "election": e,
            "detail": i18n.said("The branch's general meeting of {held_on}: {votes_for} votes"
                                " for, {present} present", held_on=e.get("held_on"),
                                votes_for=e.get("votes_for"),
                                present=e.get("present_with_vote"))}


def _approval(call: ActionCall, approved: bool) -> dict[str, Any]:
    cand: Candidate = call.subject
    p: ApprovalParams = call.params  # type: ignore[assignment]
    refuse_future_date(p.decided_on, call.clock.today(),
                       what="approval",
                       field="body.params.decided_on")
    held = date.fromisoformat(cand.appointment["election"]["held_on"])
    if p.decided_on < held:
        raise InvalidInput("The approval is dated before the election ({held}).",
                           code="approval_before_election", params={"held": held})
    approval = {**p.model_dump(mode="json"), "approved": approved}
    cand.appointment = {**cand.appointment, "approval": approval}
    return {"approval": approval}


def approve(call: ActionCall) -> dict[str, Any]:
    """The higher committee approves the election (批准): the trial may start."""
    return _approval(call, True)


def refuse(call: ActionCall) -> dict[str, Any]:
    """The higher committee does not approve: the post is vacant."""
    out = _approval(call, False)
    a = out["approval"]
    return {**out, **vacancy_of(call),
            "detail": f"{a['approved_by']} {a['decided_on']}"
                      + (f"（{a['document_number']}）" if a.get("document_number") else "")}
