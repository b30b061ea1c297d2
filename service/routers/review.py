"""Step 3: pre-review in bulk, the interview panel and score sheets, evaluation reports and
ranking, inspection teams and records, committee meetings."""

from typing import Annotated, Literal

from fastapi import Depends, Path, Request, Response
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select

from ..access import (
    CurrentCandidate,
    CurrentSelection,
    candidate_to_change,
    check_submitted_to_committee,
)
from ..core import idempotency
from ..core.clock import current_clock
from ..core.deps import (
    AdminUser,
    CandidateId,
    ClockDep,
    CurrentUser,
    Principal,
    SessionDep,
    SettingsDep,
    principal_with_roles,
    require_roles,
)
from ..core.errors import Conflict, Forbidden, NotFound, problems
from ..core.models import User
from ..core.routing import api_router, in_one_hop, json_response, one_hop
from ..reports import pages
from ..review import interview
from ..review import service as review
from ..review import session as interview_session
from ..review.models import CommitteeMeeting, InspectionRecord, InterviewPlan
from ..review.schemas import (
    AppearancePublic,
    BatchResult,
    BriefingCreate,
    CommitteeMeetingCreate,
    CommitteeMeetingPublic,
    DeclarationCreate,
    DeclarationPublic,
    DrawCreate,
    Evaluation,
    InspectionPublic,
    InspectionRecordCreate,
    InspectionRecordPublic,
    InspectionTeamSet,
    InterviewPlanSet,
    InterviewSession,
    MaterialsReceipt,
    PanelPublic,
    PanelSet,
    PrereviewBatch,
    QuestionCreate,
    Ranking,
    ScoreSheetCorrectionCreate,
    ScoreSheetCorrectionDecision,
    ScoreSheetCorrectionPublic,
    ScoreSheetCreate,
    ScoreSheetPublic,
    ScoreSheets,
    Segment,
)
from ..selection.models import Selection
from ..workflow.roles import ADMIN, COMMITTEE, INSPECTOR, JUDGE
from .common import CorrectionId, MeetingId

router = api_router(tags=["step 3: reviews and decision"])
Judge = Annotated[User, Depends(require_roles(JUDGE))]
Inspector = Annotated[User, Depends(require_roles(INSPECTOR))]
Reviewer = Annotated[User, Depends(require_roles(JUDGE, INSPECTOR))]
AdminOrCommittee = Annotated[User, Depends(require_roles(ADMIN, COMMITTEE))]
SEL = "/api/v1/selections/{selection_id}"
CAND = "/api/v1/candidates/{candidate_id}"


@router.post(SEL + "/prereview", response_model=BatchResult,
             responses=problems(401, 403, 404, 422))
def prereview_candidates(
    data: PrereviewBatch, selection: CurrentSelection, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> BatchResult:
    """Qualification pre-review (资格预审) for many candidates at once: each decision (pass, or
    fail with a reason) with its judgement on the seven items succeeds or fails on its own.
    One candidate at a time: the `pass_prereview` / `fail_prereview` actions."""
    return review.prereview_batch(session=session, selection=selection, data=data, user=admin,
                                  clock=clock)


def _panel(session, selection) -> PanelPublic:
    plan = session.get(InterviewPlan, selection.id)
    return PanelPublic(
        selection_id=selection.id, judge_ids=review.panel_ids(session, selection.id),
        interview=InterviewPlanSet(held_on=plan.held_on, place=plan.place,
                                   briefing=plan.briefing, materials=plan.materials)
        if plan else None,
        criteria=review.settings_of(selection).interview_criteria)


@router.put(SEL + "/panel", response_model=PanelPublic,
            responses=problems(401, 403, 404, 409, 422))
def set_panel(
    data: PanelSet, selection: CurrentSelection, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> PanelPublic:
    """Appoint the interview panel (评委): users with the judge role, an odd number of at
    least 7 by default (the selection's settings); possible until the first score."""
    review.set_panel(session=session, selection=selection, data=data, user=admin, clock=clock)
    return _panel(session, selection)


@router.put(SEL + "/interview", response_model=PanelPublic,
            responses=problems(401, 403, 404, 409, 422))
def prepare_interview(
    data: InterviewPlanSet, selection: CurrentSelection, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> PanelPublic:
    """Record the interview's preparation (准备环节): date, place, how judges were briefed, the
    materials passed; and, before the first score, the score sheet's criteria and weights."""
    criteria = [c.model_dump() for c in data.interview_criteria] \
        if data.interview_criteria is not None else None
    review.set_interview_plan(session=session, selection=selection, data=data,
                              criteria=criteria, user=admin, clock=clock)
    return _panel(session, selection)


# ---------------------------------------------------------------- the interview session
def _session_view(session, selection, user) -> InterviewSession:
    return interview_session.view(session, selection, user)


@router.post(SEL + "/interview/briefings", status_code=201, response_model=InterviewSession,
             responses=problems(401, 403, 404, 409, 422))
def hold_judges_briefing(
    data: BriefingCreate, selection: CurrentSelection, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> InterviewSession:
    """Record the judges' briefing (评委沟通): when it was held, who briefed, which judges of the
    panel attended."""
    interview_session.hold_briefing(session=session, selection=selection, data=data,
                                    user=admin, clock=clock)
    return _session_view(session, selection, admin)


@router.post(SEL + "/interview/materials-receipts", status_code=201,
             response_model=InterviewSession, responses=problems(401, 403, 404, 409, 422))
def confirm_materials_received(
    data: MaterialsReceipt, selection: CurrentSelection, session: SessionDep, judge: Judge,
    clock: ClockDep,
) -> InterviewSession:
    """A judge of the panel confirms, themself, receiving the materials (资料传递) listed in the
    interview's preparation; once."""
    interview_session.confirm_receipt(session=session, selection=selection, data=data,
                                      user=judge, clock=clock)
    return _session_view(session, selection, judge)


@router.post(SEL + "/interview/draw", status_code=201, response_model=InterviewSession,
             responses=problems(401, 403, 404, 409, 422))
def draw_appearance_order(
    data: DrawCreate, selection: CurrentSelection, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> InterviewSession:
    """Draw the order of appearance by lot (抽签) over the candidates waiting for the
    interview, from a seed (given, or made and recorded): the candidates' ids sorted as text,
    shuffled by Python's `random.Random(seed)`, so anyone can re-derive it. Drawn again
    (recorded as a redraw) until the session is opened; not once scoring has started."""
    interview_session.draw(session=session, selection=selection, data=data, user=admin,
                           clock=clock)
    return _session_view(session, selection, admin)


@router.post(SEL + "/interview/start", response_model=InterviewSession,
             responses=problems(401, 403, 404, 409, 422))
def open_interview_session(
    selection: CurrentSelection, session: SessionDep, admin: AdminUser, clock: ClockDep,
) -> InterviewSession:
    """Open the session, now: needs the order drawn, the briefing held and every judge's
    receipt of the materials. From then on the order is fixed."""
    interview_session.open_session(session=session, selection=selection, user=admin,
                                   clock=clock)
    return _session_view(session, selection, admin)


@router.get(SEL + "/interview/session", response_model=InterviewSession,
            responses=problems(401, 403, 404, 422))
def read_interview_session(selection: CurrentSelection, session: SessionDep, user: CurrentUser,
                           ) -> InterviewSession:
    """The interview on record: briefings, receipts, the draw with its seed, and per
    candidate in the order of appearance the segments' times, the questions and answer
    summaries, and (admins) when each sheet came. For admins and the panel's judges."""
    if ADMIN not in user.roles and user.id not in review.panel_ids(session, selection.id):
        raise Forbidden("Only admins and the panel's judges see the interview session.",
                        code="not_on_panel")
    return _session_view(session, selection, user)


@router.post(CAND + "/interview/segments/{segment}/{mark}", response_model=AppearancePublic,
             responses=problems(401, 403, 404, 409, 422))
def mark_interview_segment(
    segment: Annotated[Segment, Path(description="The segment, in the session's order",
                                     examples=["self_introduction"])],
    mark: Annotated[Literal["begin", "end"], Path(description="Whether it begins or ends now",
                                                  examples=["begin"])],
    candidate: CurrentCandidate,
    session: SessionDep, admin: AdminUser, clock: ClockDep,
) -> AppearancePublic:
    """A segment of the candidate's session begins or ends, now: `self_introduction` (自我介绍),
    `role_cognition` (岗位认知), `questions` (评委提问), `answers` (选手回答), in that order,
    each once; a candidate's self-introduction begins when everyone drawn before has
    finished."""
    interview_session.mark_segment(session=session, candidate=candidate, segment=segment,
                                   end=mark == "end", user=admin, clock=clock)
    return _appearance(session, candidate)


@router.post(CAND + "/interview/questions", status_code=201, response_model=AppearancePublic,
             responses=problems(401, 403, 404, 409, 422))
def record_interview_question(
    data: QuestionCreate, candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
    clock: ClockDep,
) -> AppearancePublic:
    """A judge's question to the candidate (评委提问), in brief, and the answer's summary
    (选手回答); once the questions have begun."""
    interview_session.record_question(session=session, candidate=candidate, data=data,
                                      user=admin, clock=clock)
    return _appearance(session, candidate)


def _appearance(session, candidate) -> AppearancePublic:
    st = interview.state_of(session, candidate.selection_id, candidate.id)
    return interview.appearance_public(st, candidate, with_sheets=True)


@router.get(SEL + "/panel", response_model=PanelPublic, responses=problems(401, 403, 404, 422))
def read_panel(selection: CurrentSelection, session: SessionDep, user: CurrentUser,
               ) -> PanelPublic:
    """The panel, the interview's preparation and the criteria (admins, and the panel's
    judges)."""
    if ADMIN not in user.roles and user.id not in review.panel_ids(session, selection.id):
        raise Forbidden("Only admins and the panel's judges see the panel.",
                        code="not_on_panel")
    return _panel(session, selection)


@router.post(SEL + "/declarations", status_code=201, response_model=DeclarationPublic,
             responses=problems(401, 403, 404, 409, 422))
def declare_conflict(
    data: DeclarationCreate, selection: CurrentSelection, session: SessionDep, user: Reviewer,
    clock: ClockDep,
) -> DeclarationPublic:
    """A judge or inspector declares, per candidate, no conflict or a conflict (self, spouse,
    direct line, collateral within three generations, close in-laws, other). A conflict
    recuses them (回避) from that candidate. Declarations are not changed once made."""
    capacity = data.capacity or (JUDGE if JUDGE in user.roles else INSPECTOR)
    if capacity not in user.roles:
        raise Forbidden("You do not hold the {capacity} role.", code="role_not_permitted", params={"capacity": capacity})
    d = review.declare(session=session, selection=selection, data=data, user=user,
                       capacity=capacity, clock=clock)
    return review.declaration_public(d)


@router.get(CAND + "/declarations", response_model=list[DeclarationPublic],
            responses=problems(401, 403, 404, 422))
def list_declarations(candidate: CurrentCandidate, session: SessionDep, admin: AdminUser,
                      ) -> list[DeclarationPublic]:
    """Every declaration about this candidate, judges' and inspectors'."""
    return [review.declaration_public(d) for cap in (JUDGE, INSPECTOR)
            for d in review.declarations(session, candidate.id, cap)]


@router.post(CAND + "/score-sheets", status_code=201, response_model=ScoreSheetPublic,
             responses=problems(401, 403, 404, 409, 422))
@in_one_hop
async def submit_score_sheet(
    candidate_id: CandidateId,
    principal: Annotated[Principal, Depends(principal_with_roles(JUDGE))],
    data: ScoreSheetCreate, request: Request, settings: SettingsDep,
) -> Response:
    """Submit a score registration sheet (评分登记表): a score per criterion within its range
    and a comment. A sheet is never changed; until every sheet is in, a new one supersedes it,
    with a reason. Once the sheets are unsealed a sheet is final (409 `score_sheet_final`):
    an obvious slip is corrected through `…/score-sheet-corrections`."""

    def work(session: Session) -> Response:
        judge, candidate = candidate_to_change(session, principal, candidate_id, JUDGE)
        idempotency.settle()
        sheet = review.submit_sheet(session=session, candidate=candidate, data=data,
                                    user=judge, clock=current_clock(session, settings))
        return json_response(review.sheet_public(sheet, current=True), status_code=201)

    return await one_hop(request, work)


def _correction(c) -> ScoreSheetCorrectionPublic:
    return ScoreSheetCorrectionPublic.model_validate(c, from_attributes=True)


@router.post(CAND + "/score-sheet-corrections", status_code=201,
             response_model=ScoreSheetCorrectionPublic,
             responses=problems(401, 403, 404, 409, 422))
def request_sheet_correction(
    data: ScoreSheetCorrectionCreate, candidate: CurrentCandidate, session: SessionDep,
    judge: Judge, clock: ClockDep,
) -> ScoreSheetCorrectionPublic:
    """A judge asks to correct an obvious slip on their own sheet after the sheets are
    unsealed (评分更正): the corrected scores and the reason. Nothing changes until an admin
    approves it; refused while the sheets are sealed (`sheets_sealed`), once the committee has
    decided on the candidate (`correction_too_late`), or while another correction of theirs
    waits (`correction_pending`)."""
    return _correction(review.request_correction(session=session, candidate=candidate,
                                                 data=data, user=judge, clock=clock))


@router.get(CAND + "/score-sheet-corrections", response_model=list[ScoreSheetCorrectionPublic],
            responses=problems(401, 403, 404, 422))
def list_sheet_corrections(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                           ) -> list[ScoreSheetCorrectionPublic]:
    """The corrections asked for on this candidate's sheets, oldest first: all for admins, a
    judge's own for a judge of the panel."""
    if ADMIN in user.roles:
        return [_correction(c) for c in review.corrections(session, candidate.id)]
    if user.id not in review.panel_ids(session, candidate.selection_id):
        raise Forbidden("Only admins and the panel's judges see sheet corrections.",
                        code="not_on_panel")
    return [_correction(c) for c in review.corrections(session, candidate.id, user.id)]


@router.post(CAND + "/score-sheet-corrections/{correction_id}/decision",
             response_model=ScoreSheetCorrectionPublic,
             responses=problems(401, 403, 404, 409, 422))
def decide_sheet_correction(
    correction_id: CorrectionId, data: ScoreSheetCorrectionDecision,
    candidate: CurrentCandidate, session: SessionDep, admin: AdminUser, clock: ClockDep,
) -> ScoreSheetCorrectionPublic:
    """An admin approves a judge's correction — a new version of the sheet, flagged
    `corrected` wherever the score shows, the ranking recomputed from it — or refuses it, with
    a note. The judge who asked cannot decide it (`correction_needs_two_people`)."""
    return _correction(review.decide_correction(
        session=session, candidate=candidate, correction_id=correction_id, data=data,
        user=admin, clock=clock))


@router.get(CAND + "/score-sheets", response_model=ScoreSheets,
            responses=problems(401, 403, 404, 422))
def list_score_sheets(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                      ) -> ScoreSheets:
    """The sheets for this candidate: sealed — a judge sees only their own — until every
    judge not recused has submitted; then the panel sees all. Admins always see all."""
    if ADMIN not in user.roles and user.id not in review.panel_ids(session,
                                                                    candidate.selection_id):
        raise Forbidden("Only admins and the panel's judges see score sheets.",
                        code="not_on_panel")
    return review.sheets_view(session, candidate, user)


def _evaluation_allowed(user: User) -> None:
    if not {ADMIN, COMMITTEE} & set(user.roles):
        raise Forbidden("The evaluation report is for admins and committee members.",
                        code="role_not_permitted")


@router.get(CAND + "/evaluation", response_model=Evaluation,
            responses=problems(401, 403, 404, 422))
def read_evaluation(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                    ) -> Evaluation:
    """The comprehensive evaluation report (综合评议报告): the judges' weighted totals, the
    score with the highest and lowest dropped (from 5 sheets, by default), the spread and its
    flag, the criterion means, the rank, the comments and the recusals."""
    _evaluation_allowed(user)
    return review.evaluation(session, candidate)


@router.get(CAND + "/evaluation.html", response_class=HTMLResponse,
            responses=problems(401, 403, 404, 422))
def print_evaluation(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                     clock: ClockDep) -> HTMLResponse:
    """The evaluation report (综合评议报告) as a page to print (A4): the selection, the posts,
    the panel and its recusals, each criterion with its weight, mean and spread, the trimmed
    total, the rank, a chart, and the judges' comments — named for admins, 评委1…N for
    committee members. `?lang=en` for English."""
    _evaluation_allowed(user)
    return HTMLResponse(pages.evaluation_page(session, candidate, user, clock),
                        headers={"Cache-Control": "private, no-store"})


@router.get(CAND + "/score-sheets.html", response_class=HTMLResponse,
            responses=problems(401, 403, 404, 409, 422))
def print_score_sheets(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                       clock: ClockDep) -> HTMLResponse:
    """The filled score registration sheets (评分登记表) of a candidate, one page per judge,
    once every sheet is in and they are unsealed (409 `sheets_sealed` before). For admins and
    the panel's judges; judges other than admins see the panel as 评委1…N."""
    if ADMIN not in user.roles and user.id not in review.panel_ids(session,
                                                                    candidate.selection_id):
        raise Forbidden("Only admins and the panel's judges see score sheets.",
                        code="not_on_panel")
    if not review.evaluation(session, candidate).complete:
        raise Conflict("The sheets are sealed until every judge not recused has submitted.",
                       code="sheets_sealed")
    selection = session.get(Selection, candidate.selection_id)
    return HTMLResponse(pages.score_sheet_page(session, selection, user, clock,
                                               candidate=candidate),
                        headers={"Cache-Control": "private, no-store"})


@router.get(SEL + "/ranking", response_model=Ranking, responses=problems(401, 403, 404, 422))
def read_ranking(selection: CurrentSelection, session: SessionDep, user: AdminOrCommittee,
                 ) -> Ranking:
    """Candidates by interview score, with the tie rule and the cut-off at the selection's
    ratio per post (default 3 per post). For admins, and for committee members once the
    selection is submitted to them."""
    check_submitted_to_committee(user, selection)
    return review.ranking(session, selection)


def _inspection(session, candidate) -> InspectionPublic:
    team = review.team_ids(session, candidate.id)
    recused = sorted(review.recused_ids(session, candidate.id, INSPECTOR))
    records = session.exec(select(InspectionRecord).where(
        InspectionRecord.candidate_id == candidate.id).order_by(InspectionRecord.created_at))
    return InspectionPublic(
        candidate_id=candidate.id, team=team, recused=recused,
        records=[InspectionRecordPublic.model_validate(r, from_attributes=True)
                 for r in records],
        report=review.inspection_report(session, candidate))


@router.put(CAND + "/inspection-team", response_model=InspectionPublic,
            responses=problems(401, 403, 404, 409, 422))
def set_inspection_team(
    data: InspectionTeamSet, candidate: CurrentCandidate, session: SessionDep,
    admin: AdminUser, clock: ClockDep,
) -> InspectionPublic:
    """Appoint the inspection team (考察组, at least 2 inspectors by default)."""
    review.set_team(session=session, candidate=candidate, data=data, user=admin, clock=clock)
    return _inspection(session, candidate)


@router.post(CAND + "/inspection-records", status_code=201,
             response_model=InspectionRecordPublic,
             responses=problems(401, 403, 404, 409, 422))
def record_inspection_work(
    data: InspectionRecordCreate, candidate: CurrentCandidate, session: SessionDep,
    inspector: Inspector, clock: ClockDep,
) -> InspectionRecordPublic:
    """An inspector on the team records work: conversations held, opinion forms collected,
    visits, files read. The conclusion, with the democratic appraisal and the findings under
    德、能、勤、绩、廉, is the `pass_inspection` / `fail_inspection` action."""
    rec = review.add_record(session=session, candidate=candidate, data=data, user=inspector,
                            clock=clock)
    return InspectionRecordPublic.model_validate(rec, from_attributes=True)


@router.get(CAND + "/inspection", response_model=InspectionPublic,
            responses=problems(401, 403, 404, 422))
def read_inspection(candidate: CurrentCandidate, session: SessionDep, user: CurrentUser,
                    ) -> InspectionPublic:
    """The team, its work records and its report (admins, the team, committee members)."""
    if not {ADMIN, COMMITTEE} & set(user.roles) and user.id not in review.team_ids(
            session, candidate.id):
        raise Forbidden("Only admins, the inspection team and committee members see this.",
                        code="not_on_inspection_team")
    return _inspection(session, candidate)


@router.post(SEL + "/committee-meetings", status_code=201,
             response_model=CommitteeMeetingPublic,
             responses=problems(401, 403, 404, 409, 422))
def record_committee_meeting(
    data: CommitteeMeetingCreate, selection: CurrentSelection, session: SessionDep,
    admin: AdminUser, clock: ClockDep,
) -> CommitteeMeetingPublic:
    """Record a party committee meeting (党委会审核) whole: the members who should attend, those
    present (at least two thirds), recusals, and for each candidate the votes and the outcome
    (上岗使用 appointed / 储备人选 reserve / 不符合 not_qualified / 缓议 postponed). An
    appointment or reserve needs more than half of the members who should attend; no more
    appointments than posts. Any rule broken refuses the whole meeting."""
    meeting = review.record_meeting(session=session, selection=selection, data=data,
                                    user=admin, clock=clock)
    return CommitteeMeetingPublic.model_validate(meeting, from_attributes=True)


@router.get(SEL + "/committee-meetings", response_model=list[CommitteeMeetingPublic],
            responses=problems(401, 403, 404, 422))
def list_committee_meetings(selection: CurrentSelection, session: SessionDep,
                            user: AdminOrCommittee) -> list[CommitteeMeetingPublic]:
    """The selection's committee meetings, oldest first, each whole."""
    rows = session.exec(select(CommitteeMeeting).where(
        CommitteeMeeting.selection_id == selection.id).order_by(CommitteeMeeting.created_at))
    return [CommitteeMeetingPublic.model_validate(m, from_attributes=True) for m in rows]


@router.get(SEL + "/committee-meetings/{meeting_id}", response_model=CommitteeMeetingPublic,
            responses=problems(401, 403, 404, 422))
def read_committee_meeting(
    meeting_id: MeetingId, selection: CurrentSelection, session: SessionDep,
    user: AdminOrCommittee,
) -> CommitteeMeetingPublic:
    """One meeting's record, whole."""
    m = session.get(CommitteeMeeting, meeting_id)
    if m is None or m.selection_id != selection.id:
        raise NotFound("No meeting {meeting_id} in this selection.", code="meeting_not_found", params={"meeting_id": meeting_id})
    return CommitteeMeetingPublic.model_validate(m, from_attributes=True)


