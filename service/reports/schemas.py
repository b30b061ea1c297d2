"""Response models of the selection report."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from ..core import examples as ex
from ..core.schemas import (
    LABEL_DOC,
    CandidateState,
    CandidateStateLabelled,
    OutcomeLabelled,
    OutcomeName,
    SelectionState,
    SelectionStateLabelled,
)
from ..review.schemas import Ranking


# ---- reports
# The docstring below is this schema's description in openapi/openapi.json, kept word for word;
# the gates themselves are in service/reports/gates.py.
@ex.enum_example("interview")
class ReportGate(StrEnum):
    """The gate a candidate is at, or the last one they reached (see service/reports.py)."""

    nomination = "nomination"  # 推荐报名: nominated, declined, withdrew before consenting
    prereview = "prereview"  # 资格预审: applicant, or left there
    interview = "interview"  # 面议评审: qualified, or left there
    inspection = "inspection"  # 组织考察: shortlisted, or left there
    decision = "decision"  # 党委会审核: inspected, reserve, or left there
    followup = "followup"  # 后期跟进: appointed, on trial, confirmed, revoked, dismissed


class FunnelStage(BaseModel):
    """One gate of the funnel: `entered` = `pending` + `passed` + `failed` + `withdrew` +
    `reserve`; what passed one gate entered the next."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "gate": "interview", "label": "面议评审", "entered": 4, "pending": 0, "passed": 3,
        "failed": 1, "withdrew": 0, "reserve": 0}})

    gate: ReportGate
    label: str = Field(description="The gate's label, " + LABEL_DOC)
    entered: int = Field(description="Candidates who reached this gate")
    pending: int = Field(description="Still at this gate, not yet decided")
    passed: int = Field(description="Went on to the next gate (at follow-up: confirmed in the"
                        " post)")
    failed: int = Field(description="Ended here: declined (nomination), not qualified (the"
                        " three reviews and the committee), revoked or dismissed (follow-up)")
    withdrew: int = Field(description="Withdrew while at this gate")
    reserve: int = Field(default=0, description="Kept as reserves (储备人选; decision only)")


class StateCount(CandidateStateLabelled):
    """How many candidates are in one state."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "state": "applicant", "state_label": "参选人", "count": 3}})

    state: CandidateState
    count: int


class OutcomeCount(OutcomeLabelled):
    """How many candidates the committee gave one outcome (their latest decision)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "outcome": "reserve", "outcome_label": "储备人选", "count": 1}})

    outcome: OutcomeName
    count: int


class ReportDecision(OutcomeLabelled):
    """The committee's vote and outcome on one candidate, as the report shows it."""

    model_config = ConfigDict(json_schema_extra={"example": ex.REPORT_DECISION})

    candidate_id: uuid.UUID
    full_name: str | None
    votes_for: int
    votes_against: int
    abstentions: int
    members_voting: int | None
    outcome: OutcomeName
    reason: str | None


class ReportRecusal(BaseModel):
    """A committee member who recused from one candidate (回避)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "member_id": ex.COMMITTEE, "candidate_id": ex.CANDIDATE_2, "full_name": "王芳",
        "reason": "近姻亲"}})

    member_id: uuid.UUID
    candidate_id: uuid.UUID
    full_name: str | None
    reason: str


class ReportMeeting(BaseModel):
    """One committee meeting (党委会) in the report: the quorum, recusals and decisions."""

    model_config = ConfigDict(json_schema_extra={"example": ex.REPORT_MEETING})

    id: uuid.UUID
    held_on: date
    members_due: int
    members_present: int
    recusals: list[ReportRecusal]
    decisions: list[ReportDecision]
    minutes: str
    created_at: datetime


class SelectionReport(SelectionStateLabelled):
    """A selection's report: the funnel, states and outcomes, the ranking, the committee."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "selection_id": ex.SELECTION_ID, "title": "第一党支部书记公开选拔",
        "organization": "机关第一党支部", "posts": 1, "state": "following_up",
        "state_label": "后期跟进", "language": "zh-CN",
        "generated_at": "2026-11-20T02:00:00Z", "candidates": 4,
        "funnel": [{"gate": "interview", "label": "面议评审", "entered": 4, "pending": 0,
                    "passed": 3, "failed": 1, "withdrew": 0, "reserve": 0}],
        "states": [{"state": "on_trial", "state_label": "试用锻炼", "count": 1}],
        "outcomes": [{"outcome": "appointed", "outcome_label": "上岗使用", "count": 1}],
        "ranking": ex.RANKING, "meetings": [ex.REPORT_MEETING]}})

    selection_id: uuid.UUID
    title: str
    organization: str
    posts: int
    state: SelectionState
    language: str = Field(description="The language of the labels (Content-Language)")
    generated_at: datetime
    candidates: int = Field(description="Every candidate of the selection")
    funnel: list[FunnelStage]
    states: list[StateCount]
    outcomes: list[OutcomeCount]
    ranking: Ranking
    meetings: list[ReportMeeting]
