"""What the guards need from several steps, and what each action does, gathered above them.

A selection's and a candidate's actions read facts and run effects that belong to different
steps: closing nominations lapses step 2's nominees and rechecks their eligibility; finishing
the decision queues step 4's notifications; a committee decision of step 3 opens step 4's
appointment publicity or reserve entry; a candidate's guards read the interview (step 3)
and the follow-up (step 4). The steps do not import each other for this. Each offers its
facts and effects; this module puts them together into the two kinds of subject that the
action runner (service/record/actions.py) knows, and registers them with it, so that a step
which runs a candidate's action asks the runner for the candidate's kind
(`actions.kind_of(CANDIDATE_MACHINE)`) instead of importing a later step.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from .core import i18n
from .core.clock import Clock
from .core.models import User
from .followup import backfill, election, notifications
from .followup import service as followup
from .followup.schemas import (
    ApprovalParams,
    AssessmentParams,
    BackfillParams,
    ElectionParams,
    TrialParams,
)
from .nomination import service as nominations
from .nomination.models import Candidate
from .record import actions
from .record import service as record
from .record.actions import ActionCall, LazyFacts, SubjectKind
from .review import service as review
from .review.schemas import (
    AppointParams,
    InspectionConclusionParams,
    PrereviewParams,
    PrereviewPassParams,
)
from .selection import service as selections
from .selection.models import Selection
from .workflow import CANDIDATE_MACHINE, SELECTION


# ---------------------------------------------------------------- the selection
def candidate_counts(session: Session, selection_id: uuid.UUID) -> dict[str, int]:
    """How many candidates of the selection are in each state."""
    rows = session.exec(
        select(Candidate.state, func.count())
        .where(Candidate.selection_id == selection_id)
        .group_by(Candidate.state)
    )
    return {state: n for state, n in rows}


def _selection_facts(session: Session, selection: Selection, user: User, clock: Clock
                     ) -> dict[str, Any]:
    """What the selection's guards read: today, the publicity's end, the duties, the
    candidates per state (step 2's table)."""
    return {
        "today": clock.today(),
        "publicity_end_on": selection.publicity_end_on,
        "duties_count": len(selection.job_description.get("duties", [])),
        "candidate_counts": candidate_counts(session, selection.id),
    }


def _close_nominations(call: ActionCall) -> dict[str, Any]:
    """Nominees who never consented lapse; every applicant's eligibility is checked again."""
    sel: Selection = call.subject
    lapsed = []
    for cand in call.session.exec(select(Candidate).where(
            Candidate.selection_id == sel.id, Candidate.state == "nominated").with_for_update()):
        actions.run(call.session, CANDIDATE_KIND, cand, "lapse", user=call.user,
                    clock=call.clock, reason=i18n.said(notifications.SYSTEM_REASONS["lapse"]),
                    raw_params={})
        lapsed.append(str(cand.id))
    nominations.recheck_all(session=call.session, selection=sel, author=call.author,
                            clock=call.clock)
    return {"lapsed_candidates": lapsed}


def _finish_decision(call: ActionCall) -> dict[str, Any]:
    """Every candidate is told the outcome (信息反馈): the emails go to the outbox now."""
    queued = notifications.enqueue_all(call.session, call.subject, clock=call.clock,
                                       author=call.author)
    return {"notifications_queued": queued}


SELECTION_KIND = actions.register(SubjectKind(
    machine=SELECTION,
    subject_type=selections.SUBJECT,
    facts=_selection_facts,
    selection_id=lambda s: s.id,
    params={"publish": selections.PublishParams},
    effects={"publish": selections.publish, "close_nominations": _close_nominations,
             "finish_decision": _finish_decision},
))


def run_selection_action(
    *, session: Session, selection: Selection, action: str, user: User, clock: Clock,
    reason: str | None, params: dict[str, Any],
) -> record.Event:
    """Run a selection action (see the workflow table)."""
    return actions.run(session, SELECTION_KIND, selection, action, user=user, clock=clock,
                       reason=reason, raw_params=params)


# ---------------------------------------------------------------- the candidate
_INTERVIEW_FACTS = ("sheets_expected", "sheets_submitted", "rank", "cutoff", "tied_at_cutoff",
                    "ranking_post")
_POST_FACTS = ("named_posts", "candidate_posts")
_INSPECTION_FACTS = ("team_member_ids", "team_active", "team_needed", "inspection_records")
_FOLLOW_UP_FACTS = ("appointment_publicity_end_on", "objections_pending", "objections_upheld",
                    "assessment_kinds", "final_assessment", "trial_missing")
_BACKFILL_FACTS = ("candidate_id", "vacancies", "backfill_order", "backfill_meetings")
_ELECTION_FACTS = ("branch_election", "election_quorum", "election", "approval")


def _candidate_facts(session: Session, candidate: Candidate, user: User, clock: Clock
                     ) -> LazyFacts:
    """The candidate's own facts now; the interview's, the inspection's and the follow-up's
    only when a guard reads one of them."""
    selection = session.get(Selection, candidate.selection_id)
    base = {
        "today": clock.today(),
        "owner_user_id": str(candidate.user_id) if candidate.user_id else None,
        "selection_state": selection.state if selection else None,
        "publicity_end_on": selection.publicity_end_on if selection else None,
        "lang": i18n.current(),
        "eligibility_failed": review.eligibility_failed(candidate, i18n.current()),
    }

    def interview() -> dict[str, Any]:
        return review.interview_facts(session, candidate)

    def posts() -> dict[str, Any]:
        return review.post_facts(session, candidate)

    def inspection() -> dict[str, Any]:
        return review.inspection_facts(session, candidate)

    def follow_up() -> dict[str, Any]:
        return followup.facts(session, candidate, clock)

    providers = {k: interview for k in _INTERVIEW_FACTS}
    providers.update({k: posts for k in _POST_FACTS})
    providers.update({k: inspection for k in _INSPECTION_FACTS})
    providers.update({k: follow_up for k in _FOLLOW_UP_FACTS})
    providers.update({k: lambda: backfill.facts(session, candidate) for k in _BACKFILL_FACTS})
    providers.update({k: lambda: election.facts(session, candidate) for k in _ELECTION_FACTS})
    return LazyFacts(base, providers)


CANDIDATE_KIND = actions.register(SubjectKind(
    machine=CANDIDATE_MACHINE,
    subject_type=nominations.SUBJECT,
    facts=_candidate_facts,
    selection_id=lambda c: c.selection_id,
    params={"consent": nominations.ConsentParams, "pass_prereview": PrereviewPassParams,
            "fail_prereview": PrereviewParams, "pass_inspection": InspectionConclusionParams,
            "fail_inspection": InspectionConclusionParams, "start_trial": TrialParams,
            "decide_appoint": AppointParams, "backfill": BackfillParams,
            "record_election": ElectionParams, "approve_election": ApprovalParams,
            "refuse_approval": ApprovalParams,
            "record_assessment": AssessmentParams},
    effects={"consent": nominations.consent,
             "pass_prereview": review.on_pass_prereview,
             "decide_appoint": followup.on_appoint,
             "decide_reserve": followup.on_reserve,
             "start_trial": followup.start_trial,
             "record_assessment": followup.record_assessment,
             "confirm": followup.on_confirm,
             "dismiss": followup.on_dismiss,
             "revoke": followup.on_revoke,
             "withdraw_appointment": followup.on_withdraw_appointment,
             "backfill": lambda call: backfill.on_backfill(call, followup.on_appoint),
             "record_election": election.record_election,
             "fail_election": election.on_fail_election,
             "approve_election": election.approve,
             "refuse_approval": election.refuse},
    # every later change of the outcome is told by email, citing its event
    after={**{a: notifications.tell_change for a in notifications.CHANGES},
           "record_assessment": followup.after_assessment,
           "record_election": election.after_election},
))


def run_candidate_action(
    *, session: Session, candidate: Candidate, action: str, user: User, clock: Clock,
    reason: str | None, params: dict[str, Any],
) -> record.Event:
    """Run a candidate action (see the workflow table)."""
    return actions.run(session, CANDIDATE_KIND, candidate, action, user=user, clock=clock,
                       reason=reason, raw_params=params)
