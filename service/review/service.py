"""Step 3: the three reviews (三次审核把关) and the party committee's decision (党委会审核).

Gate 1, qualification pre-review (资格预审), is an action per candidate, also in bulk.
Gate 2, the interview review (面议评审): panel, preparation, declarations of conflict (回避),
sealed score registration sheets (评分登记表), aggregation on the server, ranking, and the
comprehensive evaluation report (综合评议报告). Gate 3, the organizational inspection
(组织考察): team, work records, democratic appraisal, findings, conclusion. Then the
committee meeting: quorum, votes, outcomes.
"""

from __future__ import annotations

import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sqlalchemy import Integer, String, bindparam, cast, func, null, union_all
from sqlmodel import Session, select

from ..core import i18n
from ..core.clock import Clock
from ..core.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RuleRefused,
    ServiceError,
    invalid_input,
    problem_of,
    refuse_future_date,
)
from ..core.models import User, utcnow
from ..nomination import eligibility
from ..nomination.models import Candidate
from ..record import actions
from ..record import service as record
from ..record.models import Event
from ..selection import service as selections
from ..selection.models import Selection
from ..selection.schemas import SelectionSettings, post_name
from ..workflow import CANDIDATE_MACHINE, WorkflowError
from ..workflow.roles import ADMIN, COMMITTEE, INSPECTOR, JUDGE
from . import interview
from .models import (
    CommitteeMeeting,
    Declaration,
    InspectionMember,
    InspectionRecord,
    InterviewPlan,
    PanelMember,
    ScoreSheet,
    ScoreSheetCorrection,
)
from .schemas import (
    BatchItemResult,
    BatchResult,
    CommitteeMeetingCreate,
    CorrectionFlag,
    DeclarationCreate,
    DeclarationPublic,
    Evaluation,
    ExceptionFlag,
    InspectionRecordCreate,
    InspectionTeamSet,
    InterviewPlanSet,
    PanelSet,
    PostRanking,
    PrereviewBatch,
    Ranking,
    RankingEntry,
    ScoreSheetCorrectionCreate,
    ScoreSheetCorrectionDecision,
    ScoreSheetCreate,
    ScoreSheetPublic,
    ScoreSheets,
)

SELECTION = "selection"
CANDIDATE = "candidate"


# The rows that decide outcomes, each covered by the event that wrote it (its digest in the
# event's params): `verify-record` finds a sheet, a meeting or an inspection record changed
# in the database afterwards. Prereview judgements and inspection conclusions live in their
# events alone (the action's params), and the candidate's state is checked against them.
SCORE_SHEETS = record.cover(record.Coverage(
    name="score_sheet", table=ScoreSheet, subject_type=CANDIDATE, subject_column="candidate_id",
    actions=("submit_score_sheet", "approve_sheet_correction"), legacy_ref="sheet_id",
    fields=lambda r: {"id": r.id, "selection_id": r.selection_id, "candidate_id": r.candidate_id,
                      "judge_id": r.judge_id, "version": r.version, "scores": r.scores,
                      "total": r.total, "comment": r.comment,
                      "supersede_reason": r.supersede_reason,
                      # only a correction's version has it: older sheets' digests stay valid
                      **({"correction_id": r.correction_id} if r.correction_id else {})}))
CORRECTIONS = record.cover(record.Coverage(
    name="score_sheet_correction", table=ScoreSheetCorrection, subject_type=CANDIDATE,
    subject_column="candidate_id",
    actions=("request_sheet_correction", "approve_sheet_correction", "reject_sheet_correction"),
    fields=lambda r: {"id": r.id, "selection_id": r.selection_id, "candidate_id": r.candidate_id,
                      "judge_id": r.judge_id, "sheet_id": r.sheet_id, "scores": r.scores,
                      "total": r.total, "comment": r.comment, "reason": r.reason,
                      "status": r.status, "decided_by": r.decided_by,
                      "decision_note": r.decision_note, "new_sheet_id": r.new_sheet_id}))
MEETINGS = record.cover(record.Coverage(
    name="committee_meeting", table=CommitteeMeeting, subject_type=SELECTION,
    subject_column="selection_id", actions=("record_committee_meeting", "record_backfill_meeting"),
    legacy_ref="meeting_id",
    fields=lambda r: {"id": r.id, "selection_id": r.selection_id, "held_on": r.held_on,
                      "members_due": r.members_due, "present": r.present,
                      "recusals": r.recusals, "decisions": r.decisions, "minutes": r.minutes,
                      "recorded_by": r.recorded_by}))
INSPECTION_RECORDS = record.cover(record.Coverage(
    name="inspection_record", table=InspectionRecord, subject_type=CANDIDATE,
    subject_column="candidate_id", actions=("record_inspection_work",), legacy_ref="record_id",
    fields=lambda r: {"id": r.id, "candidate_id": r.candidate_id,
                      "inspector_id": r.inspector_id, "kind": r.kind, "held_on": r.held_on,
                      "count": r.count, "summary": r.summary}))


# The candidates who reached the interview (judges see them), and those submitted to the
# committee (its members see them once the selection is deciding).
INTERVIEWED_STATES = ("qualified", "shortlisted", "inspected", "appointed", "reserve", "on_trial",
                      "confirmed", "revoked", "dismissed", "not_elected", "not_approved")
SUBMITTED_STATES = ("inspected", "appointed", "reserve", "on_trial", "confirmed", "revoked",
                    "dismissed", "not_elected", "not_approved")


def settings_of(selection: Selection) -> SelectionSettings:
    """The selection's settings with defaults for anything added since it was stored."""
    return SelectionSettings.model_validate(selection.settings)


def _users_with_role(session: Session, ids: list[uuid.UUID], role: str, what: str) -> None:
    if len(set(ids)) != len(ids):
        raise InvalidInput("The list of {what} names someone twice.", code="duplicate_member", params={"what": what})
    found = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids)))}  # type: ignore[attr-defined]
    bad = [str(i) for i in ids if i not in found or role not in found[i].roles
           or not found[i].is_active]
    if bad:
        raise InvalidInput("These are not active users with the {role} role: {bad}.",
                           code="not_a_" + role, details={"user_ids": bad}, params={"role": role, "bad": ', '.join(bad)})


def _require_reviewing(selection: Selection) -> None:
    if selection.state != "reviewing":
        raise Conflict("The selection is '{state}'; this is done while reviewing.",
                       code="selection_not_reviewing", details={"state": selection.state}, params={"state": selection.state})


def _candidate_of(session: Session, selection: Selection, candidate_id: uuid.UUID,
                  *, lock: bool = False) -> Candidate:
    stmt = select(Candidate).where(Candidate.id == candidate_id,
                                   Candidate.selection_id == selection.id)
    cand = session.exec(stmt.with_for_update() if lock else stmt).first()
    if cand is None:
        raise NotFound("No candidate {candidate_id} in this selection.",
                       code="candidate_not_found", params={"candidate_id": candidate_id})
    return cand


def _selection_event(session, selection, action, user, role, clock, params):
    selection.version += 1
    selection.updated_at = utcnow()
    session.add(selection)
    record.append(session, subject_type=SELECTION, subject_id=selection.id,
                  selection_id=selection.id, action=action, author=record.Author(user.id, role),
                  clock=clock, from_state=selection.state, to_state=selection.state,
                  params=params)


def _candidate_event(session, cand, action, user, role, clock, params):
    cand.version += 1
    cand.updated_at = utcnow()
    session.add(cand)
    record.append(session, subject_type=CANDIDATE, subject_id=cand.id,
                  selection_id=cand.selection_id, action=action,
                  author=record.Author(user.id, role), clock=clock, from_state=cand.state,
                  to_state=cand.state, params=params)


# ---------------------------------------------------------------- gate 1: pre-review in bulk
def prereview_batch(*, session: Session, selection: Selection, data: PrereviewBatch,
                    user: User, clock: Clock) -> BatchResult:
    """Each decision runs in its own savepoint: it succeeds or fails alone."""
    results = []
    for item in data.decisions:
        action = "pass_prereview" if item.decision == "pass" else "fail_prereview"
        try:
            with session.begin_nested():
                cand = _candidate_of(session, selection, item.candidate_id, lock=True)
                if item.exception is not None and item.decision != "pass":
                    raise InvalidInput("An exception (破格) is for passing a candidate, not for"
                                       " failing one.", code="exception_not_for_a_fail",
                                       errors=[{"field": "body.decisions.exception",
                                                "message": "only with decision 'pass'",
                                                "type": "exception_not_for_a_fail"}])
                params: dict[str, Any] = {"assessment": {k.value: v.model_dump()
                                                         for k, v in item.assessment.items()}}
                if item.exception is not None:
                    params["exception"] = item.exception.model_dump()
                actions.run(session, actions.kind_of(CANDIDATE_MACHINE), cand, action,
                            user=user, clock=clock, reason=item.reason, raw_params=params)
            results.append(BatchItemResult(candidate_id=item.candidate_id, ok=True,
                                           state=cand.state))
        except (ServiceError, WorkflowError) as e:
            results.append(BatchItemResult(candidate_id=item.candidate_id, ok=False,
                                           error=problem_of(e)))
    ok = sum(r.ok for r in results)
    return BatchResult(results=results, succeeded=ok, failed=len(results) - ok)


def eligibility_failed(candidate: Candidate, lang: str) -> list[dict[str, Any]]:
    """The machine-checked requirements the candidate's eligibility report shows failed,
    named in `lang`, each with its code."""
    return eligibility.failed(candidate.eligibility, i18n.as_lang(lang))


def on_pass_prereview(call: actions.ActionCall) -> dict[str, Any] | None:
    """A pass by exception (破格) records, with the requirements and the reason, what each
    requirement asked and what the candidate showed, and who decided."""
    exception = getattr(call.params, "exception", None)
    if exception is None:
        return None
    # as the report stores them (codes and numbers), read in each reader's language
    items = {i["requirement"]: i for i in (call.subject.eligibility or {}).get("items", [])}
    return {"exception": {**exception.model_dump(mode="json"), "by": str(call.user.id),
                          "excepted": [{k: v for k, v in items[c].items() if k != "passed"}
                                       for c in exception.requirements]}}


def prereview_exceptions(session: Session, selection_id: uuid.UUID) -> dict[uuid.UUID, dict]:
    """The candidates of the selection passed by exception (破格): the exception of each
    one's latest pass of the pre-review, from the record."""
    out: dict[uuid.UUID, dict] = {}
    for subject_id, params in session.exec(select(Event.subject_id, Event.params).where(
            Event.selection_id == selection_id, Event.subject_type == CANDIDATE,
            Event.action == "pass_prereview").order_by(Event.seq)):  # type: ignore[arg-type]
        exception = (params or {}).get("exception")
        if exception:
            out[subject_id] = exception
        else:
            out.pop(subject_id, None)
    return out


# ---------------------------------------------------------------- gate 2: the interview
# The statements a score sheet makes, built once; its reads of columns run on the session's
# connection, without the ORM's part of executing a statement (a third of the cost or more).
_PANEL_IDS = select(PanelMember.user_id).where(
    PanelMember.selection_id == bindparam("selection_id")).order_by(
    PanelMember.appointed_at, PanelMember.user_id)
# The judges' declarations on a candidate (their conflict) and the latest version of each
# judge's sheet (a version), in one statement: rows (judge, conflict or None, version or None).
_JUDGES_ON_CANDIDATE = union_all(
    select(Declaration.user_id, Declaration.conflict, cast(null(), Integer)).where(
        Declaration.candidate_id == bindparam("candidate_id"), Declaration.capacity == JUDGE),
    select(ScoreSheet.judge_id, cast(null(), String), func.max(ScoreSheet.version)).where(
        ScoreSheet.candidate_id == bindparam("candidate_id")).group_by(ScoreSheet.judge_id))
_CURRENT_SHEET = select(ScoreSheet).where(
    ScoreSheet.candidate_id == bindparam("candidate_id"),
    ScoreSheet.judge_id == bindparam("judge_id")).order_by(
    ScoreSheet.version.desc()).limit(1)  # type: ignore[attr-defined]
_SHEET_INSERT = ScoreSheet.__table__.insert()  # type: ignore[attr-defined]


def panel_ids(session: Session, selection_id: uuid.UUID) -> list[uuid.UUID]:
    """The judges on the selection's panel (read once per transaction: who may see a
    candidate and who may score them ask the same; appointing a panel forgets it)."""
    known = session.info.setdefault(_PANEL, {})
    if selection_id not in known:
        known[selection_id] = session.connection().execute(
            _PANEL_IDS, {"selection_id": selection_id}).scalars().all()
    return list(known[selection_id])


_PANEL = "review.panel_ids"  # the session's panels read in its transaction


def _scoring_started(session: Session, selection_id: uuid.UUID) -> bool:
    return session.exec(select(ScoreSheet.id).where(
        ScoreSheet.selection_id == selection_id)).first() is not None


def set_panel(*, session: Session, selection: Selection, data: PanelSet, user: User,
              clock: Clock) -> list[uuid.UUID]:
    """Appoint the panel (an odd number, at least the minimum, by default); before any score."""
    _require_reviewing(selection)
    s = settings_of(selection)
    n = len(data.judge_ids)
    if n < s.min_judges or (s.judges_odd and n % 2 == 0):
        rule = f"at least {s.min_judges}" + (", an odd number" if s.judges_odd else "")
        raise InvalidInput("The panel has {n} judges; the selection's settings need {rule}.",
                           code="panel_size", details={"judges": n, "min_judges": s.min_judges,
                                                       "odd": s.judges_odd}, params={"n": n, "rule": rule})
    _users_with_role(session, data.judge_ids, JUDGE, "judges")
    if _scoring_started(session, selection.id):
        raise Conflict("Scoring has started; the panel can no longer change.",
                       code="scoring_started")
    session.info.pop(_PANEL, None)
    for pm in session.exec(select(PanelMember).where(PanelMember.selection_id == selection.id)):
        session.delete(pm)
    session.flush()
    for jid in data.judge_ids:
        session.add(PanelMember(selection_id=selection.id, user_id=jid))
    _selection_event(session, selection, "appoint_panel", user, ADMIN, clock,
                     {"judge_ids": data.judge_ids})
    return list(data.judge_ids)


def set_interview_plan(*, session: Session, selection: Selection, data: InterviewPlanSet,
                       criteria: list | None, user: User, clock: Clock) -> None:
    """Record the preparation; criteria may change only before the first score."""
    _require_reviewing(selection)
    plan = session.get(InterviewPlan, selection.id) or InterviewPlan(
        selection_id=selection.id, held_on=data.held_on)
    plan.held_on, plan.place, plan.briefing = data.held_on, data.place, data.briefing
    plan.materials, plan.updated_at = list(data.materials), utcnow()
    session.add(plan)
    params: dict[str, Any] = data.model_dump(mode="json")
    if criteria is not None:
        if _scoring_started(session, selection.id):
            raise Conflict("Scoring has started; the criteria can no longer change.",
                           code="scoring_started")
        merged = {**selection.settings, "interview_criteria": criteria}
        selection.settings = SelectionSettings.model_validate(merged).model_dump(mode="json")
        params["interview_criteria"] = criteria
    _selection_event(session, selection, "prepare_interview", user, ADMIN, clock, params)


def declarations(session: Session, candidate_id: uuid.UUID, capacity: str) -> list[Declaration]:
    return list(session.exec(select(Declaration).where(
        Declaration.candidate_id == candidate_id, Declaration.capacity == capacity)))


def declaration_public(d: Declaration) -> DeclarationPublic:
    return DeclarationPublic(id=d.id, candidate_id=d.candidate_id, user_id=d.user_id,
                             capacity=d.capacity, conflict=d.conflict, note=d.note,
                             recused=d.conflict != "none", created_at=d.created_at)


def declare(*, session: Session, selection: Selection, data: DeclarationCreate, user: User,
            capacity: str, clock: Clock) -> Declaration:
    """A judge's or inspector's declaration about one candidate; a conflict recuses them."""
    cand = _candidate_of(session, selection, data.candidate_id, lock=True)
    if capacity == JUDGE and user.id not in panel_ids(session, selection.id):
        raise Forbidden("Only a judge on this selection's panel declares for its candidates.",
                        code="not_on_panel")
    if capacity == INSPECTOR and user.id not in team_ids(session, cand.id):
        raise Forbidden("Only a member of the candidate's inspection team declares.",
                        code="not_on_inspection_team")
    existing = session.exec(select(Declaration).where(
        Declaration.candidate_id == cand.id, Declaration.user_id == user.id,
        Declaration.capacity == capacity)).first()
    if existing is not None:
        raise Conflict("You have already declared for this candidate; a declaration is not"
                       " changed.", code="already_declared",
                       details={"conflict": existing.conflict})
    d = Declaration(selection_id=selection.id, candidate_id=cand.id, user_id=user.id,
                    capacity=capacity, conflict=data.conflict.value, note=data.note)
    session.add(d)
    session.flush()
    _candidate_event(session, cand, "declare_conflict" if d.conflict != "none" else
                     "declare_no_conflict", user, capacity, clock,
                     {"capacity": capacity, "conflict": d.conflict, "note": d.note,
                      "recused": d.conflict != "none"})
    return d


def recused_ids(session: Session, candidate_id: uuid.UUID, capacity: str) -> set[uuid.UUID]:
    return {d.user_id for d in declarations(session, candidate_id, capacity)
            if d.conflict != "none"}


def _weighted_total(scores: dict[str, float], criteria: list) -> float:
    return round(sum(scores[c.key] / c.max_score * c.weight for c in criteria), 2)


def _check_scores(scores: dict[str, float], criteria: list) -> None:
    """Every criterion scored, within its range, and nothing else."""
    keys = {c.key for c in criteria}
    errors = [{"field": f"body.scores.{k}", "message": "not a criterion of this interview",
               "type": "unknown_criterion"} for k in scores if k not in keys]
    errors += [{"field": f"body.scores.{c.key}", "message": "missing", "type": "missing"}
               for c in criteria if c.key not in scores]
    errors += [{"field": f"body.scores.{c.key}", "message": "must be between 0 and {max}",
                "params": {"max": c.max_score}, "type": "out_of_range"}
               for c in criteria if c.key in scores
               and not (math.isfinite(scores[c.key]) and 0 <= scores[c.key] <= c.max_score)]
    if errors:
        raise invalid_input(errors)


def submit_sheet(*, session: Session, candidate: Candidate, data: ScoreSheetCreate, user: User,
                 clock: Clock) -> ScoreSheet:
    """A judge's sheet; a later one supersedes the earlier (with a reason), both kept."""
    selection = session.get(Selection, candidate.selection_id)
    _require_reviewing(selection)
    if user.id not in panel_ids(session, selection.id):
        raise Forbidden("Only a judge on this selection's panel scores its candidates.",
                        code="not_on_panel")
    if candidate.state != "qualified":
        raise Conflict("The candidate is '{state}'; only candidates who passed the pre-review and wait "
                       "for the interview result are scored.",
                       code="not_being_interviewed", details={"state": candidate.state}, params={"state": candidate.state})
    # The judges' declarations on the candidate and their sheets' latest versions: what
    # the judge's own declaration and sheet are, and whether every sheet is in.
    conflicts: dict[uuid.UUID, str] = {}
    versions: dict[uuid.UUID, int] = {}
    for judge, conflict, version in session.connection().execute(
            _JUDGES_ON_CANDIDATE, {"candidate_id": candidate.id}):
        if conflict is not None:
            conflicts[judge] = conflict
        else:
            versions[judge] = version
    mine = conflicts.get(user.id)
    if mine is None:
        raise Conflict("Declare first whether you have a conflict with this candidate"
                       " (POST …/declarations).", code="declaration_required")
    if mine != "none":
        raise Forbidden("You are recused from this candidate and cannot score them.",
                        code="recused")
    criteria = settings_of(selection).interview_criteria
    _check_scores(data.scores, criteria)
    previous = versions.get(user.id)
    if previous is not None and _complete(
            set(panel_ids(session, selection.id)),
            {judge for judge, conflict in conflicts.items() if conflict != "none"},
            candidate, set(versions)):
        final = _current_sheet(session, candidate.id, user.id)
        raise Conflict("The sheets for this candidate are all in and unsealed: a sheet is final"
                       " now. An obvious slip is corrected by a correction that you ask for"
                       " (POST …/score-sheet-corrections) and an admin approves.",
                       code="score_sheet_final", details={"sheet_id": final.id,
                                                          "version": final.version})
    if previous is not None and not (data.supersede_reason or "").strip():
        raise InvalidInput("You have submitted a sheet for this candidate; a new one supersedes"
                           " it and needs supersede_reason.", code="supersede_reason_required",
                           errors=[{"field": "body.supersede_reason", "message": "required to"
                                    " supersede a submitted sheet", "type": "missing"}])
    timing = interview.timing_of_sheet(session, candidate, clock)
    # The sheet as an object no session tracks (its id and time the model's defaults), and a
    # plain INSERT of it, as the record's events
    sheet = ScoreSheet.model_construct(
        selection_id=selection.id, candidate_id=candidate.id, judge_id=user.id,
        version=previous + 1 if previous is not None else 1,
        scores={c.key: float(data.scores[c.key]) for c in criteria},
        total=_weighted_total(data.scores, criteria), comment=data.comment,
        supersede_reason=data.supersede_reason if previous is not None else None)
    session.connection().execute(_SHEET_INSERT, sheet.model_dump())
    _candidate_event(session, candidate, "submit_score_sheet", user, JUDGE, clock,
                     {"sheet_id": sheet.id, "judge_id": user.id, "version": sheet.version,
                      "supersede_reason": sheet.supersede_reason, "scores": sheet.scores,
                      "total": sheet.total, "covers": record.covers(SCORE_SHEETS, sheet),
                      **timing})
    return sheet


# ---------------------------------------------------------------- corrections (评分更正)
# A correction may be asked for and approved while the candidate's interview result can still
# matter and the committee has not decided.
CORRECTABLE_STATES = ("qualified", "shortlisted", "inspected")


def _correctable(selection: Selection, candidate: Candidate) -> None:
    if selection.state not in ("reviewing", "deciding") or \
            candidate.state not in CORRECTABLE_STATES:
        raise Conflict("The candidate is '{state}' and the selection '{state2}': a sheet is corrected "
                       "only before the committee decides on the candidate.", code="correction_too_late",
                       details={"state": candidate.state, "selection_state": selection.state,
                                "correctable_states": list(CORRECTABLE_STATES)}, params={"state": candidate.state, "state2": selection.state})


def _current_sheet(session: Session, candidate_id: uuid.UUID, judge_id: uuid.UUID
                   ) -> ScoreSheet | None:
    return session.exec(_CURRENT_SHEET,
                        params={"candidate_id": candidate_id, "judge_id": judge_id}).first()


def request_correction(*, session: Session, candidate: Candidate,
                       data: ScoreSheetCorrectionCreate, user: User, clock: Clock
                       ) -> ScoreSheetCorrection:
    """A judge asks to correct an obvious slip on their own sheet once the sheets are
    unsealed; nothing changes until an admin approves."""
    selection = session.get(Selection, candidate.selection_id)
    if user.id not in panel_ids(session, selection.id):
        raise Forbidden("Only a judge on this selection's panel corrects their own sheet.",
                        code="not_on_panel")
    _correctable(selection, candidate)
    sheet = _current_sheet(session, candidate.id, user.id)
    if sheet is None or user.id in recused_ids(session, candidate.id, JUDGE):
        raise Conflict("You have no sheet for this candidate to correct.",
                       code="no_sheet_to_correct")
    if not _aggregate(session, selection)[candidate.id].complete:
        raise Conflict("The sheets are still sealed: until every sheet is in, a judge"
                       " supersedes their own sheet (with supersede_reason) instead.",
                       code="sheets_sealed")
    pending = session.exec(select(ScoreSheetCorrection.id).where(
        ScoreSheetCorrection.candidate_id == candidate.id,
        ScoreSheetCorrection.judge_id == user.id,
        ScoreSheetCorrection.status == "pending")).first()
    if pending is not None:
        raise Conflict("A correction you asked for on this sheet awaits an admin's decision.",
                       code="correction_pending", details={"correction_id": pending})
    criteria = settings_of(selection).interview_criteria
    _check_scores(data.scores, criteria)
    scores = {c.key: float(data.scores[c.key]) for c in criteria}
    comment = sheet.comment if data.comment is None else data.comment
    if scores == sheet.scores and comment == sheet.comment:
        raise InvalidInput("The correction changes nothing on the sheet.",
                           code="correction_changes_nothing")
    corr = ScoreSheetCorrection(selection_id=selection.id, candidate_id=candidate.id,
                                judge_id=user.id, sheet_id=sheet.id, scores=scores,
                                total=_weighted_total(scores, criteria), comment=comment,
                                reason=data.reason)
    session.add(corr)
    session.flush()
    _candidate_event(session, candidate, "request_sheet_correction", user, JUDGE, clock,
                     {"correction_id": corr.id, "sheet_id": sheet.id, "scores": scores,
                      "total": corr.total, "reason": corr.reason,
                      "covers": record.covers(CORRECTIONS, corr)})
    return corr


def decide_correction(*, session: Session, candidate: Candidate, correction_id: uuid.UUID,
                      data: ScoreSheetCorrectionDecision, user: User, clock: Clock
                      ) -> ScoreSheetCorrection:
    """An admin approves a judge's correction — a new version of the sheet, flagged as
    corrected, in effect at once — or refuses it; never their own."""
    corr = session.exec(select(ScoreSheetCorrection).where(
        ScoreSheetCorrection.id == correction_id,
        ScoreSheetCorrection.candidate_id == candidate.id).with_for_update()).first()
    if corr is None:
        raise NotFound("No correction {correction_id} for this candidate.",
                       code="correction_not_found", params={"correction_id": correction_id})
    if corr.judge_id == user.id:
        raise Forbidden("A correction needs two people: the judge who asked cannot approve"
                        " it; another admin decides.", code="correction_needs_two_people")
    if corr.status != "pending":
        raise Conflict("The correction is already {status}.",
                       code="correction_already_decided", details={"status": corr.status}, params={"status": corr.status})
    selection = session.get(Selection, candidate.selection_id)
    _correctable(selection, candidate)
    sheet = _current_sheet(session, candidate.id, corr.judge_id)
    if sheet is None or sheet.id != corr.sheet_id:
        raise Conflict("The sheet has changed since the correction was asked for.",
                       code="correction_outdated")
    corr.decided_by, corr.decided_at, corr.decision_note = user.id, utcnow(), data.note
    params: dict[str, Any] = {"correction_id": corr.id, "sheet_id": sheet.id,
                              "judge_id": corr.judge_id, "note": data.note}
    if data.approve:
        new = ScoreSheet(selection_id=sheet.selection_id, candidate_id=candidate.id,
                         judge_id=corr.judge_id, version=sheet.version + 1, scores=corr.scores,
                         total=corr.total, comment=corr.comment,
                         supersede_reason=corr.reason, correction_id=corr.id)
        session.add(new)
        session.flush()
        corr.status, corr.new_sheet_id = "approved", new.id
        session.add(corr)
        session.flush()
        params |= {"new_sheet_id": new.id, "version": new.version, "scores": new.scores,
                   "total": new.total, "reason": corr.reason,
                   "covers": record.covers(SCORE_SHEETS, new) | record.covers(CORRECTIONS, corr)}
        action = "approve_sheet_correction"
    else:
        corr.status = "rejected"
        session.add(corr)
        session.flush()
        params |= {"covers": record.covers(CORRECTIONS, corr)}
        action = "reject_sheet_correction"
    _candidate_event(session, candidate, action, user, ADMIN, clock, params)
    return corr


def corrections(session: Session, candidate_id: uuid.UUID,
                judge_id: uuid.UUID | None = None) -> list[ScoreSheetCorrection]:
    """The corrections asked for on a candidate's sheets, oldest first (one judge's only,
    when given)."""
    stmt = select(ScoreSheetCorrection).where(ScoreSheetCorrection.candidate_id == candidate_id)
    if judge_id is not None:
        stmt = stmt.where(ScoreSheetCorrection.judge_id == judge_id)
    return list(session.exec(stmt.order_by(ScoreSheetCorrection.requested_at,
                                           ScoreSheetCorrection.id)))


def _correction_flags(session: Session, selection_id: uuid.UUID
                      ) -> dict[uuid.UUID, list[CorrectionFlag]]:
    out: dict[uuid.UUID, list[CorrectionFlag]] = defaultdict(list)
    for c in session.exec(select(ScoreSheetCorrection).where(
            ScoreSheetCorrection.selection_id == selection_id,
            ScoreSheetCorrection.status == "approved").order_by(
            ScoreSheetCorrection.requested_at, ScoreSheetCorrection.id)):
        out[c.candidate_id].append(CorrectionFlag(
            correction_id=c.id, judge_id=c.judge_id, reason=c.reason, approved_by=c.decided_by,
            approved_at=c.decided_at))
    return out


def flags(session: Session, selection_id: uuid.UUID
          ) -> tuple[dict[uuid.UUID, ExceptionFlag], dict[uuid.UUID, list[CorrectionFlag]]]:
    """What every result of the selection is flagged with: passes by exception (破格) and
    scores resting on corrected sheets (更正)."""
    exceptions = {k: ExceptionFlag.model_validate({**v, "excepted": [
                      eligibility.render_item({"passed": False, **i}) for i in v.get("excepted", [])]})
                  for k, v in prereview_exceptions(session, selection_id).items()}
    return exceptions, _correction_flags(session, selection_id)


@dataclass(eq=False)
class _Agg:
    candidate: Candidate
    expected: int
    current: list[ScoreSheet]
    recusals: list[Declaration]
    score: float | None = None
    tie_break: float | None = None
    totals: list[float] = field(default_factory=list)
    trimmed: bool = False
    rank: int | None = None
    tied_with: list[uuid.UUID] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.expected > 0 and len(self.current) >= self.expected


def _expected(panel: set[uuid.UUID], recused: set[uuid.UUID], candidate: Candidate,
              any_sheet: bool) -> int:
    """How many sheets a candidate's score needs: one from each judge of the panel not
    recused, once they reached the interview (or anyone scored them)."""
    reached = candidate.state in INTERVIEWED_STATES or any_sheet
    return len(panel - recused) if reached else 0


def _complete(panel: set[uuid.UUID], recused: set[uuid.UUID], candidate: Candidate,
              judges: set[uuid.UUID]) -> bool:
    """Whether the sheets of `judges` are every sheet the candidate needs."""
    expected = _expected(panel, recused, candidate, bool(judges))
    return expected > 0 and len((judges & panel) - recused) >= expected


def _aggregate(session: Session, selection: Selection) -> dict[uuid.UUID, _Agg]:
    """Every candidate's interview aggregation and rank, from the current sheets."""
    s = settings_of(selection)
    panel = set(panel_ids(session, selection.id))
    cands = list(session.exec(select(Candidate).where(Candidate.selection_id == selection.id)))
    sheets: dict[uuid.UUID, dict[uuid.UUID, ScoreSheet]] = defaultdict(dict)
    for sh in session.exec(select(ScoreSheet).where(ScoreSheet.selection_id == selection.id)
                           .order_by(ScoreSheet.version)):
        sheets[sh.candidate_id][sh.judge_id] = sh  # the highest version wins
    decls: dict[uuid.UUID, list[Declaration]] = defaultdict(list)
    for d in session.exec(select(Declaration).where(Declaration.selection_id == selection.id,
                                                    Declaration.capacity == JUDGE)):
        decls[d.candidate_id].append(d)
    out = {}
    for c in cands:
        recused = {d.user_id for d in decls[c.id] if d.conflict != "none"}
        current = [sh for j, sh in sheets[c.id].items() if j in panel and j not in recused]
        agg = _Agg(c, _expected(panel, recused, c, bool(sheets[c.id])), current,
                   [d for d in decls[c.id] if d.conflict != "none"])
        if agg.complete:
            totals = sorted(sh.total for sh in current)
            agg.totals = totals
            agg.trimmed = len(totals) >= s.trim_extremes_min_sheets
            kept = totals[1:-1] if agg.trimmed else totals
            agg.score = round(sum(kept) / len(kept), 2)
            key = s.tie_break_criterion
            if key and any(key == cr.key for cr in s.interview_criteria):
                agg.tie_break = round(sum(sh.scores[key] for sh in current) / len(current), 2)
        out[c.id] = agg
    for a, (rank, tied) in _ranks(out.values()).items():
        a.rank, a.tied_with = rank, tied
    return out


def _ranks(aggs) -> dict[_Agg, tuple[int, list[uuid.UUID]]]:
    """Rank the scored candidates among `aggs`: equal (score, tie-break) share a rank."""
    ranked = sorted((a for a in aggs if a.score is not None),
                    key=lambda a: (-a.score, -(a.tie_break or 0)))
    out = {}
    for a in ranked:
        same = [b for b in ranked if (b.score, b.tie_break) == (a.score, a.tie_break)]
        out[a] = (ranked.index(same[0]) + 1, [b.candidate.id for b in same if b is not a])
    return out


@dataclass
class _PostRank:
    post: dict[str, Any]
    cutoff: int
    ranks: dict[uuid.UUID, tuple[int, list[uuid.UUID]]]


def _post_ranks(selection: Selection, aggs: dict[uuid.UUID, _Agg]) -> list[_PostRank]:
    """Per named post: the candidates standing for it ranked among themselves, its cut-off
    (the post's count × candidates_per_post). A candidate standing for two posts ranks in
    each."""
    ratio = settings_of(selection).candidates_per_post
    out = []
    for post in selection.named_posts:
        standing = [a for a in aggs.values()
                    if post["code"] in selections.stood_for(selection, a.candidate.post_codes)]
        out.append(_PostRank(post, post["count"] * ratio,
                             {a.candidate.id: r for a, r in _ranks(standing).items()}))
    return out


def _cutoff(selection: Selection) -> int:
    return selection.posts * settings_of(selection).candidates_per_post


def _tied_at(rank: int, tied: list, cutoff: int) -> bool:
    return bool(tied) and rank <= cutoff < rank + len(tied)


def interview_facts(session: Session, candidate: Candidate) -> dict[str, Any]:
    """Facts the interview guards read: sheets in, and the candidate's best standing among the
    posts they stand for (rank, cut-off, a tie at the cut-off, which post)."""
    selection = session.get(Selection, candidate.selection_id)
    aggs = _aggregate(session, selection)
    agg = aggs[candidate.id]
    facts: dict[str, Any] = {"sheets_expected": agg.expected,
                             "sheets_submitted": len(agg.current), "rank": None,
                             "cutoff": _cutoff(selection), "tied_at_cutoff": False,
                             "ranking_post": None}
    standings = []
    for pr in _post_ranks(selection, aggs):
        if candidate.id in pr.ranks:
            rank, tied = pr.ranks[candidate.id]
            tied_at = _tied_at(rank, tied, pr.cutoff)
            # clearly within first, then within but tied, then the nearest to its cut-off
            standings.append(((rank > pr.cutoff, tied_at, rank - pr.cutoff), rank, pr.cutoff,
                              tied_at, pr.post["code"]))
    if standings:
        _, rank, cutoff, tied_at, code = min(standings)
        facts |= {"rank": rank, "cutoff": cutoff, "tied_at_cutoff": tied_at,
                  "ranking_post": code if len(selection.named_posts) > 1 else None}
    return facts


def ranking(session: Session, selection: Selection) -> Ranking:
    """The ranking by interview score, with the tie rule and the cut-off, over the selection
    and per named post."""
    s = settings_of(selection)
    cutoff = _cutoff(selection)
    aggs_by_id = _aggregate(session, selection)
    aggs = sorted(aggs_by_id.values(),
                  key=lambda a: (a.rank is None, a.rank or 0, a.candidate.created_at))
    listed = [a for a in aggs if a.expected or a.current]
    exceptions, corrected = flags(session, selection.id)
    per_post = _post_ranks(selection, aggs_by_id)
    within = {cid for pr in per_post for cid, (rank, _) in pr.ranks.items() if rank <= pr.cutoff}

    def entry(a: _Agg, rank: int | None, tied: list, within_ratio: bool) -> RankingEntry:
        return RankingEntry(candidate_id=a.candidate.id, full_name=a.candidate.full_name,
                            state=a.candidate.state, score=a.score, tie_break=a.tie_break,
                            rank=rank, tied=bool(tied), within_ratio=within_ratio,
                            posts=selections.stood_for(selection, a.candidate.post_codes),
                            exception=exceptions.get(a.candidate.id),
                            corrected=bool(corrected.get(a.candidate.id)),
                            corrections=corrected.get(a.candidate.id, []))

    entries = [entry(a, a.rank, a.tied_with, a.candidate.id in within) for a in listed]
    posts = []
    for pr in per_post:
        mine = [a for a in listed if pr.post["code"] in
                selections.stood_for(selection, a.candidate.post_codes)]
        posts.append(PostRanking(
            code=pr.post["code"], branch=pr.post["branch"], title=pr.post["title"],
            name=post_name(pr.post), count=pr.post["count"], cutoff=pr.cutoff,
            entries=[entry(a, *(pr.ranks.get(a.candidate.id) or (None, [])),
                           a.candidate.id in pr.ranks
                           and pr.ranks[a.candidate.id][0] <= pr.cutoff) for a in mine]))
    rule = (f"higher mean on '{s.tie_break_criterion}', then the admin decides with a recorded"
            " reason") if s.tie_break_criterion else "the admin decides with a recorded reason"
    return Ranking(selection_id=selection.id, tie_rule=rule, cutoff=cutoff, entries=entries,
                   posts=posts)


def post_facts(session: Session, candidate: Candidate) -> dict[str, Any]:
    """Facts the appointment guard reads: each post's count and appointees so far, and the
    posts the candidate stands for."""
    selection = session.get(Selection, candidate.selection_id)
    codes = selections.post_codes(selection)
    taken = dict.fromkeys(codes, 0)
    for appointment in session.exec(select(Candidate.appointment).where(
            Candidate.selection_id == selection.id,
            Candidate.state.in_(_TAKING_A_POST))):  # type: ignore[attr-defined]
        code = (appointment or {}).get("post") or codes[0]
        taken[code] = taken.get(code, 0) + 1
    return {"named_posts": {p["code"]: {"count": p["count"], "taken": taken[p["code"]]}
                            for p in selection.named_posts},
            "candidate_posts": selections.stood_for(selection, candidate.post_codes)}


def sheets_view(session: Session, candidate: Candidate, user: User) -> ScoreSheets:
    """The sheets the caller may see: a judge only their own until every sheet is in."""
    selection = session.get(Selection, candidate.selection_id)
    agg = _aggregate(session, selection)[candidate.id]
    sealed = not agg.complete
    current_ids = {sh.id for sh in agg.current}
    rows = list(session.exec(select(ScoreSheet).where(ScoreSheet.candidate_id == candidate.id)
                             .order_by(ScoreSheet.judge_id, ScoreSheet.version)))
    if ADMIN not in user.roles and sealed:
        rows = [r for r in rows if r.judge_id == user.id]
    return ScoreSheets(candidate_id=candidate.id, sealed=sealed, expected=agg.expected,
                       submitted=len(agg.current), sheets=[sheet_public(
                           r, current=r.id in current_ids) for r in rows])


def sheet_public(sheet: ScoreSheet, *, current: bool) -> ScoreSheetPublic:
    """A sheet as shown, flagged when it carries out a correction."""
    return ScoreSheetPublic(**sheet.model_dump(exclude={"selection_id"}), current=current,
                            corrected=sheet.correction_id is not None)


def evaluation(session: Session, candidate: Candidate) -> Evaluation:
    """The comprehensive evaluation report (综合评议报告)."""
    selection = session.get(Selection, candidate.selection_id)
    s = settings_of(selection)
    aggs = _aggregate(session, selection)
    agg = aggs[candidate.id]
    # within the cut-off of at least one post the candidate stands for
    within = any(pr.ranks[candidate.id][0] <= pr.cutoff for pr in _post_ranks(selection, aggs)
                 if candidate.id in pr.ranks)
    means = {}
    if agg.current:
        for cr in s.interview_criteria:
            means[cr.key] = round(sum(sh.scores[cr.key] for sh in agg.current)
                                  / len(agg.current), 2)
    spread = round(agg.totals[-1] - agg.totals[0], 2) if agg.totals else None
    exceptions, corrected = flags(session, selection.id)
    return Evaluation(
        candidate_id=candidate.id, full_name=candidate.full_name, state=candidate.state,
        complete=agg.complete, expected_sheets=agg.expected, submitted_sheets=len(agg.current),
        judge_totals=agg.totals, trimmed=agg.trimmed, score=agg.score, spread=spread,
        spread_flagged=spread is not None and spread > s.spread_flag_points,
        criterion_means=means, rank=agg.rank, tied_with=agg.tied_with,
        within_ratio=within if agg.rank else None,
        comments=[sh.comment for sh in agg.current if sh.comment] if agg.complete else [],
        recusals=[declaration_public(d) for d in agg.recusals],
        interview=interview.appearance_public(
            interview.state_of(session, selection.id, candidate.id), candidate,
            with_sheets=True),
        exception=exceptions.get(candidate.id), corrections=corrected.get(candidate.id, []))


# ---------------------------------------------------------------- gate 3: inspection
def team_ids(session: Session, candidate_id: uuid.UUID) -> list[uuid.UUID]:
    """The candidate's inspection team."""
    return list(session.exec(select(InspectionMember.user_id).where(
        InspectionMember.candidate_id == candidate_id).order_by(InspectionMember.user_id)))


def set_team(*, session: Session, candidate: Candidate, data: InspectionTeamSet, user: User,
             clock: Clock) -> list[uuid.UUID]:
    """Appoint the candidate's inspection team (at least the minimum, 2 by default)."""
    selection = session.get(Selection, candidate.selection_id)
    _require_reviewing(selection)
    if candidate.state != "shortlisted":
        raise Conflict("The candidate is '{state}'; a team inspects candidates who passed the "
                       "interview.", code="not_being_inspected", params={"state": candidate.state})
    needed = settings_of(selection).min_inspectors
    if len(data.inspector_ids) < needed:
        raise InvalidInput("An inspection team needs at least {needed} inspectors.",
                           code="team_size", details={"needed": needed}, params={"needed": needed})
    _users_with_role(session, data.inspector_ids, INSPECTOR, "inspectors")
    for m in session.exec(select(InspectionMember).where(
            InspectionMember.candidate_id == candidate.id)):
        session.delete(m)
    session.flush()
    for uid in data.inspector_ids:
        session.add(InspectionMember(candidate_id=candidate.id, user_id=uid))
    _candidate_event(session, candidate, "appoint_inspection_team", user, ADMIN, clock,
                     {"inspector_ids": data.inspector_ids})
    return list(data.inspector_ids)


def add_record(*, session: Session, candidate: Candidate, data: InspectionRecordCreate,
               user: User, clock: Clock) -> InspectionRecord:
    """An inspector on the team records work done."""
    if user.id not in set(team_ids(session, candidate.id)) - recused_ids(
            session, candidate.id, INSPECTOR):
        raise Forbidden("Only a member of this candidate's inspection team, not recused,"
                        " records its work.", code="not_on_inspection_team")
    if candidate.state != "shortlisted":
        raise Conflict("The candidate is '{state}'; the inspection is over.",
                       code="not_being_inspected", params={"state": candidate.state})
    if data.held_on > clock.today():
        raise Conflict("Work cannot be recorded before it is done.", code="date_in_future")
    rec = InspectionRecord(candidate_id=candidate.id, inspector_id=user.id, kind=data.kind.value,
                           held_on=data.held_on, count=data.count, summary=data.summary)
    session.add(rec)
    session.flush()
    _candidate_event(session, candidate, "record_inspection_work", user, INSPECTOR, clock,
                     data.model_dump(mode="json") | {
                         "record_id": rec.id, "covers": record.covers(INSPECTION_RECORDS, rec)})
    return rec


def inspection_facts(session: Session, candidate: Candidate) -> dict[str, Any]:
    """Facts the inspection guards read."""
    selection = session.get(Selection, candidate.selection_id)
    active = set(team_ids(session, candidate.id)) - recused_ids(session, candidate.id, INSPECTOR)
    records = session.exec(select(InspectionRecord.id).where(
        InspectionRecord.candidate_id == candidate.id)).all()
    return {"team_member_ids": {str(u) for u in active}, "team_active": len(active),
            "team_needed": settings_of(selection).min_inspectors,
            "inspection_records": len(records)}


def inspection_report(session: Session, candidate: Candidate) -> dict[str, Any] | None:
    """The team's conclusion, as recorded with pass_inspection or fail_inspection."""
    ev = session.exec(select(Event).where(
        Event.subject_type == CANDIDATE, Event.subject_id == candidate.id,
        Event.action.in_(("pass_inspection", "fail_inspection")))  # type: ignore[attr-defined]
        .order_by(Event.seq.desc())).first()  # type: ignore[attr-defined]
    if ev is None:
        return None
    return {"conclusion": "pass" if ev.action == "pass_inspection" else "fail",
            "reason": ev.reason, "by": ev.actor_id, "at": ev.occurred_at, **ev.params}


# ---------------------------------------------------------------- the committee
def _fraction(value: float) -> Fraction:
    """A setting's fraction as the simple fraction it stands for (0.666… is 2/3), so that
    counting members is exact."""
    return Fraction(value).limit_denominator(1000)


def _show(f: Fraction) -> str:
    return "all" if f == 1 else f"{f.numerator}/{f.denominator}"


_OUTCOME_ACTION = {"appointed": "decide_appoint", "reserve": "decide_reserve",
                   "not_qualified": "decide_not_qualified"}
_TAKING_A_POST = ("appointed", "on_trial", "confirmed")


@dataclass
class Attendance:
    """Who should attend a committee meeting, who came, who recused from whom, and the votes
    a decision needs (more than the selection's committee_majority of the members due)."""

    due: set[uuid.UUID]
    present: set[uuid.UUID]
    recused: dict[uuid.UUID, set[uuid.UUID]]
    majority: int
    share: Fraction
    settings: SelectionSettings


def check_attendance(session: Session, selection: Selection, *, members_due: list[uuid.UUID],
                     present: list[uuid.UUID], recusals: list, decided: list[uuid.UUID],
                     ) -> Attendance:
    """A committee meeting's attendance against the selection's rules (committee_quorum of the
    members due present, recusals of members due on candidates decided), or the refusal."""
    _users_with_role(session, members_due, COMMITTEE, "members who should attend")
    due, came = set(members_due), set(present)
    if len(came) != len(present) or not came <= due:
        raise InvalidInput("Those present must be members who should attend, each once.",
                           code="present_not_members")
    s = settings_of(selection)
    quorum, share = _fraction(s.committee_quorum), _fraction(s.committee_majority)
    needed = math.ceil(len(due) * quorum)
    if len(came) < needed:
        raise RuleRefused("{present} of {due} members are present; this selection's committee"
                       " needs at least {quorum} of the members who should attend ({needed} of"
                       " {due}).", code="quorum_not_met",
                       details={"present": len(came), "due": len(due), "needed": needed,
                                "committee_quorum": s.committee_quorum},
                       params={"present": len(came), "due": len(due), "quorum": _show(quorum),
                               "needed": needed})
    if len(set(decided)) != len(decided):
        raise InvalidInput("A candidate appears twice among the decisions.",
                           code="duplicate_decision")
    recused: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for r in recusals:
        if r.member_id not in due or r.candidate_id not in decided:
            raise InvalidInput("A recusal names a member who should not attend or a candidate"
                               " not decided here.", code="recusal_mismatch")
        recused[r.candidate_id].add(r.member_id)
    majority = math.floor(len(due) * share) + 1  # more than that share of the members due
    return Attendance(due, came, recused, majority, share, s)


def check_vote(att: Attendance, candidate_id: uuid.UUID, *, votes_for: int, votes_against: int,
               abstentions: int, outcome: str, needs_majority: bool) -> int:
    """The members voting on one candidate (present, not recused), once the votes fit them
    and, for an appointment, a reserve or a backfill, reach the majority."""
    voters = len(att.present - att.recused[candidate_id])
    cast = votes_for + votes_against + abstentions
    if cast > voters:
        raise InvalidInput("{cast} votes on candidate {candidate_id} from {voters} members"
                           " present and not recused.", code="too_many_votes",
                           details={"candidate_id": candidate_id},
                           params={"cast": cast, "candidate_id": candidate_id, "voters": voters})
    if needs_majority and votes_for < att.majority:
        raise RuleRefused("'{outcome}' for candidate {candidate_id} needs {majority} votes for"
                       " (this selection's rule: more than {share} of the {due} members who"
                       " should attend); it has {votes_for}.",
                       code="vote_threshold_not_met",
                       details={"candidate_id": candidate_id, "needed": att.majority,
                                "votes_for": votes_for, "members_due": len(att.due),
                                "committee_majority": att.settings.committee_majority},
                       params={"outcome": outcome, "candidate_id": candidate_id,
                               "majority": att.majority, "share": _show(att.share),
                               "due": len(att.due), "votes_for": votes_for})
    return voters


def deciding_meeting(session: Session, candidate: Candidate,
                     outcome: str) -> CommitteeMeeting | None:
    """The latest meeting of the candidate's selection that decided `outcome` on them."""
    meetings = session.exec(select(CommitteeMeeting).where(
        CommitteeMeeting.selection_id == candidate.selection_id)
        .order_by(CommitteeMeeting.created_at.desc())).all()  # type: ignore[attr-defined]
    return next((m for m in meetings if any(
        d.get("candidate_id") == str(candidate.id) and d.get("outcome") == outcome
        for d in m.decisions)), None)


def store_meeting(session: Session, selection: Selection, data: Any, decisions: list[dict],
                  user: User) -> CommitteeMeeting:
    """The meeting's row as recorded (who was due, present, recused; the decisions and
    their votes; the minutes), for a decision or a backfill meeting."""
    meeting = CommitteeMeeting(selection_id=selection.id, held_on=data.held_on,
                               members_due=[str(m) for m in data.members_due],
                               present=[str(m) for m in data.present],
                               recusals=[r.model_dump(mode="json") for r in data.recusals],
                               decisions=decisions, minutes=data.minutes, recorded_by=user.id)
    session.add(meeting)
    session.flush()
    return meeting


def record_meeting(*, session: Session, selection: Selection, data: CommitteeMeetingCreate,
                   user: User, clock: Clock) -> CommitteeMeeting:
    """Record a meeting whole, or refuse it whole: quorum, recusals, vote thresholds, posts."""
    if selection.state != "deciding":
        raise Conflict("The selection is '{state}'; the committee decides after the inspected "
                       "candidates are submitted to it.",
                       code="selection_not_deciding", params={"state": selection.state})
    refuse_future_date(data.held_on, clock.today(), what="committee_meeting",
                       field="body.held_on")
    decided = [d.candidate_id for d in data.decisions]
    att = check_attendance(session, selection, members_due=data.members_due,
                           present=data.present, recusals=data.recusals, decided=decided)
    due, present = att.due, att.present
    taken = len(session.exec(select(Candidate.id).where(
        Candidate.selection_id == selection.id,
        Candidate.state.in_(_TAKING_A_POST))).all())  # type: ignore[attr-defined]
    new_posts = sum(d.outcome == "appointed" for d in data.decisions)
    if taken + new_posts > selection.posts:
        raise RuleRefused("{taken} appointments for {posts} post(s).",
                       code="too_many_appointments",
                       details={"posts": selection.posts, "already_appointed": taken}, params={"taken": taken + new_posts, "posts": selection.posts})
    known = selections.post_codes(selection)
    for d in data.decisions:
        if d.post is not None and d.post not in known:
            raise InvalidInput("'{post}' is not a post of this selection (its posts: {known}).", code="unknown_post",
                               details={"candidate_id": d.candidate_id, "post": d.post,
                                        "posts": known}, params={"post": d.post, "known": ', '.join(known)})
        if d.outcome == "appointed" and d.post is None and len(known) == 1:
            d.post = known[0]  # the only post, named in the record
    results = []
    for d in data.decisions:
        voters = check_vote(att, d.candidate_id, votes_for=d.votes_for,
                            votes_against=d.votes_against, abstentions=d.abstentions,
                            outcome=d.outcome,
                            needs_majority=d.outcome in ("appointed", "reserve"))
        results.append(d.model_dump(mode="json") | {"members_voting": voters})
    meeting = store_meeting(session, selection, data, results, user)
    for d in data.decisions:
        cand = _candidate_of(session, selection, d.candidate_id, lock=True)
        if d.outcome == "postponed":
            _candidate_event(session, cand, "committee_postpone", user, ADMIN, clock,
                             {"meeting_id": meeting.id, "reason": d.reason})
            continue
        reason = d.reason or (i18n.said(
            "Decided not qualified by the party committee (for {votes_for}, against"
            " {votes_against}, abstaining {abstentions}).", votes_for=d.votes_for,
            votes_against=d.votes_against, abstentions=d.abstentions)
            if d.outcome == "not_qualified" else None)
        actions.run(session, actions.kind_of(CANDIDATE_MACHINE), cand, _OUTCOME_ACTION[d.outcome], user=user,
                    clock=clock, reason=reason,
                    raw_params={"post": d.post} if d.outcome == "appointed" else {},
                    event_params={"meeting_id": meeting.id, "votes_for": d.votes_for,
                                  "votes_against": d.votes_against,
                                  "abstentions": d.abstentions,
                                  "members_due": len(due), "members_present": len(present)})
    _selection_event(session, selection, "record_committee_meeting", user, ADMIN, clock,
                     {"meeting_id": meeting.id, "held_on": data.held_on,
                      "members_due": meeting.members_due, "present": meeting.present,
                      "recusals": meeting.recusals, "decisions": results,
                      "minutes": data.minutes, "covers": record.covers(MEETINGS, meeting)})
    return meeting
