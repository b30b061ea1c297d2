"""Request and response models of step 3: the three reviews (三次审核把关) and the committee."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from ..core import examples as ex
from ..core import i18n
from ..core.errors import Problem
from ..core.schemas import (
    CandidateState,
    CandidateStateLabelled,
    FieldName,
    IsoDate,
    IsoDateTime,
    JsonFloat,
    JsonInt,
    LongText,
    Reason,
    ShortText,
    Sparse,
    Strict,
    Stripped,
    Text,
    invalid,
)
from ..selection.schemas import InterviewCriterion, PostCode, check_criteria


# ---------------------------------------------------------------- step 3: three reviews (三次审核把关)
@ex.enum_example("ideas_and_plans")
class PrereviewItem(StrEnum):
    """What the qualification pre-review judges beyond the eligibility report."""

    ideas_and_plans = "ideas_and_plans"  # 参选想法、思路
    role_understanding = "role_understanding"  # 对支部书记一职的认知
    moral = "moral"  # 德
    intellectual = "intellectual"  # 智
    physical = "physical"  # 体
    integrity = "integrity"  # 廉
    mass_recognition = "mass_recognition"  # 群众认可


class Judgement(Strict):
    """One judged item: satisfactory or not, with a note."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "satisfactory": True, "note": "参选思路清晰，措施具体"}})

    satisfactory: StrictBool
    note: Stripped(2000) = ""


class PrereviewParams(Strict):
    """The pre-review's judgement on each item (all seven are recorded)."""

    model_config = ConfigDict(json_schema_extra={"example": {"assessment": ex.ASSESSMENT}})

    assessment: dict[PrereviewItem, Judgement] = Field(
        description="A judgement for every item: " + ", ".join(i.value for i in PrereviewItem))

    @field_validator("assessment")
    @classmethod
    def _all_items(cls, v):
        missing = [i.value for i in PrereviewItem if i not in v]
        if missing:
            raise invalid("judgements_missing", "a judgement is missing for: {items}",
                          items=[i18n._("{label} ({code})", label=i18n.label(
                              "PrereviewItem", i), code=i) for i in missing])
        return v


RequirementCode = Literal["min_education", "min_party_years", "max_age", "min_work_years"]


class PrereviewException(Strict):
    """破格: an admin passes a candidate who misses written requirements, explicitly, naming
    each requirement excepted, with the reason; recorded and shown wherever the result shows."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "requirements": ["max_age"],
        "reason": "长期扎根基层，群众公认度高，经组织部研究同意破格"}})

    requirements: list[RequirementCode] = Field(
        min_length=1, max_length=4, description="The failed requirements excepted: each one"
        " the eligibility report shows failed, and only those", json_schema_extra={
            "uniqueItems": True})
    reason: Text

    @field_validator("requirements")
    @classmethod
    def _once(cls, v):
        if len(v) != len(set(v)):
            raise invalid("requirement_repeated", "each requirement is named once")
        return v


class PrereviewPassParams(PrereviewParams):
    """The pre-review's judgement on each item and, for a candidate whose eligibility report
    shows a failed requirement, the exception (破格) that alone lets them pass."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "assessment": ex.ASSESSMENT, "exception": {
            "requirements": ["max_age"],
            "reason": "长期扎根基层，群众公认度高，经组织部研究同意破格"}}})

    exception: PrereviewException | None = None


class PrereviewDecision(Strict):
    """One candidate's pre-review decision in a bulk call."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "decision": "pass", "assessment": ex.ASSESSMENT}})

    candidate_id: uuid.UUID
    decision: Literal["pass", "fail"]
    reason: Reason | None = None
    assessment: dict[PrereviewItem, Judgement]
    exception: PrereviewException | None = Field(
        default=None, description="破格, for a pass only (a fail with one fails alone,"
        " `exception_not_for_a_fail`): see the `pass_prereview` action")


class PrereviewBatch(Strict):
    """Pre-review decisions for many candidates; each succeeds or fails on its own."""

    model_config = ConfigDict(json_schema_extra={"example": {"decisions": [
        {"candidate_id": ex.CANDIDATE, "decision": "pass", "assessment": ex.ASSESSMENT},
        {"candidate_id": ex.CANDIDATE_2, "decision": "fail", "reason": "党龄不满3年",
         "assessment": ex.ASSESSMENT}]}})

    decisions: list[PrereviewDecision] = Field(min_length=1, max_length=500)


class BatchItemResult(CandidateStateLabelled):
    """The outcome for one candidate of a bulk call."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "ok": True, "state": "qualified",
        "state_label": "资格预审通过"}})

    candidate_id: uuid.UUID
    ok: bool
    state: CandidateState | None = None
    error: Problem | None = None


class BatchResult(BaseModel):
    """What a bulk call did: one result per candidate, and the counts."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "results": [
            {"candidate_id": ex.CANDIDATE, "ok": True, "state": "qualified",
             "state_label": "资格预审通过"},
            {"candidate_id": ex.CANDIDATE_2, "ok": False, "error": {
                "type": "https://selection.example/problems/action_not_allowed_in_state",
                "title": "Action not allowed in this state", "status": 409,
                "detail": "'fail_prereview' cannot run while the candidate is 'nominated'.",
                "code": "action_not_allowed_in_state"}}],
        "succeeded": 1, "failed": 1}})

    results: list[BatchItemResult]
    succeeded: int
    failed: int


class PanelSet(Strict):
    """Appoint the interview panel: users with the judge role."""

    model_config = ConfigDict(json_schema_extra={"example": {"judge_ids": [
        ex.JUDGE, "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e70", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e71",
        "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e72", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e73",
        "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e74", "2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e75"]}})

    judge_ids: list[uuid.UUID] = Field(min_length=1, max_length=51)


class InterviewPlanSet(Strict):
    """The interview's preparation: date, place, briefing of judges, materials passed."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_on": "2026-10-20", "place": "机关三楼会议室",
        "briefing": "评委会前集中学习评分标准和回避规定",
        "materials": ["职务说明书", "参选人基本情况表", "评分登记表"]}})

    held_on: IsoDate
    place: ShortText = ""
    briefing: LongText = Field(default="", description="评委沟通: how judges were briefed")
    materials: list[ShortText] = Field(default_factory=list, max_length=100,
                                       description="资料传递: materials each judge received")
    interview_criteria: list[InterviewCriterion] | None = Field(
        default=None, min_length=1, max_length=20,
        description="Change the score sheet's criteria (only before the first score); weights"
        " add up to 100")

    @field_validator("interview_criteria")
    @classmethod
    def _criteria(cls, v):
        return check_criteria(v)


# ---------------------------------------------------------------- the interview session
@ex.enum_example("self_introduction")
class Segment(StrEnum):
    """The session's segments, in their order (选拔流程)."""

    self_introduction = "self_introduction"  # 自我介绍
    role_cognition = "role_cognition"  # 岗位认知
    questions = "questions"  # 评委提问
    answers = "answers"  # 选手回答


class BriefingCreate(Strict):
    """The judges' briefing held (评委沟通): when, by whom, who attended."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_at": "2026-10-20T01:00:00Z", "held_by": ex.ADMIN, "attendees": [ex.JUDGE],
        "note": "讲解评分标准、回避规定和现场纪律"}})

    held_at: IsoDateTime = Field(description="When it was held (not in the future); without"
                                 " an offset, China time")
    held_by: uuid.UUID = Field(description="The user who briefed the judges")
    attendees: list[uuid.UUID] = Field(min_length=1, max_length=51,
                                       description="Judges of the panel who attended")
    note: LongText = ""


class MaterialsReceipt(Strict):
    """A judge confirms, themself, that they received the materials (资料传递)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "note": "已收到职务说明书、参选人基本情况表和评分登记表"}})

    note: LongText = ""


class DrawCreate(Strict):
    """The order of appearance drawn by lot (抽签): the seed, given (drawn in public, say) or
    made by the service; the order follows from it by the recorded algorithm."""

    model_config = ConfigDict(json_schema_extra={"example": {"seed": "20261020-0930"}})

    seed: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")] | None = Field(
        default=None, description="Left out: a random one is made and recorded")


class QuestionCreate(Strict):
    """A judge's question (评委提问), in brief, and the answer's summary (选手回答)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "judge_id": ex.JUDGE, "question": "如何推动党建与业务深度融合？",
        "answer_summary": "以项目化方式把党建任务嵌入业务流程，设立党员先锋岗"}})

    judge_id: uuid.UUID = Field(description="The judge who asked")
    question: Stripped(2000, min_length=1)
    answer_summary: LongText = ""


class BriefingPublic(BaseModel):
    """A briefing of the judges, as recorded."""

    model_config = ConfigDict(json_schema_extra={"example": ex.BRIEFING})

    held_at: datetime
    held_by: uuid.UUID
    attendees: list[uuid.UUID]
    note: str
    recorded_by: uuid.UUID | None


class ReceiptPublic(BaseModel):
    """A judge's confirmation that the materials reached them."""

    model_config = ConfigDict(json_schema_extra={"example": ex.RECEIPT})

    judge_id: uuid.UUID
    received_at: datetime
    materials: list[str]
    note: str


class DrawPublic(BaseModel):
    """The draw: anyone re-derives `order` from `seed` and `candidate_ids` by `algorithm`."""

    model_config = ConfigDict(json_schema_extra={"example": ex.DRAW})

    seed: str
    algorithm: str
    candidate_ids: list[uuid.UUID] = Field(description="The candidates drawn, sorted by id")
    order: list[uuid.UUID] = Field(description="The order of appearance, first to last")
    drawn_at: datetime
    drawn_by: uuid.UUID | None
    redraw: bool


class SegmentPublic(BaseModel):
    """One segment of a candidate's session: when it began and ended."""

    model_config = ConfigDict(json_schema_extra={"example": ex.SEGMENTS[0]})

    segment: Segment
    label: str
    began_at: datetime | None
    ended_at: datetime | None
    seconds: float | None


class QuestionPublic(BaseModel):
    """A question asked and the answer's summary."""

    model_config = ConfigDict(json_schema_extra={"example": ex.QUESTION})

    judge_id: uuid.UUID
    question: str
    answer_summary: str
    asked_at: datetime


class SheetTiming(BaseModel):
    """When a judge's sheet came, relative to the candidate's session (现场打分)."""

    model_config = ConfigDict(json_schema_extra={"example": ex.SHEET_TIMING})

    judge_id: uuid.UUID
    version: int
    submitted_at: datetime
    seconds_after_appearance: float | None
    timing: Literal["during_session", "after_session"] | None


class AppearancePublic(BaseModel):
    """One candidate's part of the session."""

    model_config = ConfigDict(json_schema_extra={"example": ex.APPEARANCE})

    position: int = Field(description="Place in the order of appearance, 1 first")
    candidate_id: uuid.UUID
    full_name: str
    appeared_at: datetime | None
    finished_at: datetime | None
    segments: list[SegmentPublic]
    questions: list[QuestionPublic]
    sheets: list[SheetTiming] = Field(default_factory=list,
                                      description="Admins only: when each sheet came")


class InterviewSession(BaseModel):
    """The interview on record: the preparation (briefing, materials received), the draw,
    the session's opening and each candidate's segments, questions and sheets."""

    model_config = ConfigDict(json_schema_extra={"example": ex.INTERVIEW_SESSION})

    selection_id: uuid.UUID
    briefings: list[BriefingPublic]
    materials_receipts: list[ReceiptPublic]
    judges_without_receipt: list[uuid.UUID]
    draw: DrawPublic | None
    started_at: datetime | None
    appearances: list[AppearancePublic]


class PanelPublic(BaseModel):
    """The interview panel: its judges, the preparation, and the score sheet's criteria."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "selection_id": ex.SELECTION_ID, "judge_ids": [ex.JUDGE],
        "interview": {"held_on": "2026-10-20", "place": "机关三楼会议室",
                      "briefing": "评委会前集中学习评分标准和回避规定",
                      "materials": ["职务说明书", "评分登记表"]},
        "criteria": [{"key": "role_cognition", "label": "岗位认知", "weight": 100,
                      "max_score": 100}]}})

    selection_id: uuid.UUID
    judge_ids: list[uuid.UUID]
    interview: InterviewPlanSet | None
    criteria: list[InterviewCriterion]


@ex.enum_example("none")
class ConflictKind(StrEnum):
    """回避: no conflict, or the kind of conflict."""

    none = "none"
    self = "self"  # 本人
    spouse = "spouse"  # 夫妻关系
    direct_line = "direct_line"  # 直系血亲
    collateral_within_three = "collateral_within_three"  # 三代以内旁系血亲
    close_in_law = "close_in_law"  # 近姻亲
    other = "other"


class DeclarationCreate(Strict):
    """A declaration of (no) conflict with one candidate."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "capacity": "judge", "conflict": "none", "note": ""}})

    candidate_id: uuid.UUID
    capacity: Literal["judge", "inspector"] | None = Field(
        default=None, description="As judge or inspector; default: the role the user holds")
    conflict: ConflictKind
    note: LongText = ""

    @model_validator(mode="after")
    def _other_explained(self):
        if self.conflict == ConflictKind.other and not self.note:
            raise invalid("note_required", "{note} is required for a conflict of kind “{kind}”",
                          kind=i18n.label("ConflictKind", "other"), note=FieldName("note"))
        return self


class DeclarationPublic(BaseModel):
    """A declaration of (no) conflict (回避申报) and whether it recused its author."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.DECLARATION, "candidate_id": ex.CANDIDATE, "user_id": ex.JUDGE,
        "capacity": "judge", "conflict": "spouse", "note": "与参选人系夫妻关系",
        "recused": True, "created_at": "2026-10-19T02:00:00Z"}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    user_id: uuid.UUID
    capacity: str
    conflict: str
    note: str
    recused: bool
    created_at: datetime


class ScoreSheetCreate(Strict):
    """A score registration sheet (评分登记表): a score per criterion and a comment. A second
    sheet from the same judge supersedes the first and needs a reason; both are kept."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "scores": {"self_introduction": 85, "role_cognition": 90, "answers": 88,
                   "overall_impression": 86},
        "comment": "思路清晰，对支部工作认识深刻"}})

    scores: dict[str, JsonFloat] = Field(description="criterion key → score within 0..max_score")
    comment: LongText = ""
    supersede_reason: Reason | None = None


class ScoreSheetPublic(BaseModel):
    """A submitted score registration sheet (评分登记表), with its weighted total."""

    model_config = ConfigDict(json_schema_extra={"example": ex.SHEET})

    id: uuid.UUID
    candidate_id: uuid.UUID
    judge_id: uuid.UUID
    version: int
    current: bool
    scores: dict[str, float]
    total: float = Field(description="Weighted total out of 100")
    comment: str
    supersede_reason: str | None
    correction_id: uuid.UUID | None = Field(
        default=None, description="Set on a version that carries out an approved correction"
        " (更正) made after the sheets were unsealed")
    corrected: bool = Field(default=False, description="This version is a correction (更正)")
    created_at: datetime

    @model_validator(mode="after")
    def _correction_said(self):
        # a correction's version keeps the judge's reason; it reads as a correction in the
        # reader's language (rows written before kept the Chinese 更正： in front)
        if self.correction_id and self.supersede_reason:
            self.supersede_reason = i18n._("Correction: {reason}",
                                           reason=self.supersede_reason.removeprefix("更正："))
        return self


class ScoreSheetCorrectionCreate(Strict):
    """A judge's request to correct an obvious slip on their own sheet after the sheets are
    unsealed (评分更正): the corrected scores and the reason. It takes effect only when an
    admin approves it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "scores": {"self_introduction": 85, "role_cognition": 90, "answers": 88,
                   "overall_impression": 86},
        "reason": "誊写时将“回答评委提问”的88分误填为58分"}})

    scores: dict[str, JsonFloat] = Field(description="criterion key → score within 0..max_score")
    comment: LongText | None = Field(default=None, description="Default: the sheet's comment")
    reason: Stripped(2000, min_length=1)


class ScoreSheetCorrectionDecision(Strict):
    """An admin's decision on a correction: approve (a new version of the sheet, in effect at
    once) or refuse, with a note."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "approve": True, "note": "经核对评分登记表原件，确属誊写错误"}})

    approve: StrictBool
    note: Stripped(2000, min_length=1)


class ScoreSheetCorrectionPublic(BaseModel):
    """A correction of a sheet (评分更正): what the judge asked, and what an admin decided."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.CORRECTION, "candidate_id": ex.CANDIDATE, "judge_id": ex.JUDGE,
        "sheet_id": ex.SHEET_ID, "scores": {"self_introduction": 85, "role_cognition": 90,
                                               "answers": 88, "overall_impression": 86},
        "total": 87.5, "comment": "思路清晰，对支部工作认识深刻",
        "reason": "誊写时将“回答评委提问”的88分误填为58分", "status": "approved",
        "requested_at": "2026-10-20T08:00:00Z", "decided_by": ex.ADMIN,
        "decided_at": "2026-10-20T08:30:00Z", "decision_note": "经核对评分登记表原件，确属誊写错误",
        "new_sheet_id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0"}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    judge_id: uuid.UUID
    sheet_id: uuid.UUID = Field(description="The sheet version corrected")
    scores: dict[str, float]
    total: float
    comment: str
    reason: str
    status: Literal["pending", "approved", "rejected"]
    requested_at: datetime
    decided_by: uuid.UUID | None
    decided_at: datetime | None
    decision_note: str
    new_sheet_id: uuid.UUID | None = Field(description="The version that carries out an"
                                           " approved correction")


class CorrectionFlag(BaseModel):
    """An approved correction (更正) behind a score, shown wherever the score shows."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "correction_id": ex.CORRECTION, "judge_id": ex.JUDGE,
        "reason": "誊写时将“回答评委提问”的88分误填为58分", "approved_by": ex.ADMIN,
        "approved_at": "2026-10-20T08:30:00Z"}})

    correction_id: uuid.UUID
    judge_id: uuid.UUID
    reason: str
    approved_by: uuid.UUID | None
    approved_at: datetime | None


class ExceptedRequirement(Sparse):
    """One requirement a pass by exception set aside: what it asked and what was found."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "requirement": "max_age", "label": "年龄", "required": "≤ 45 岁", "found": "50 岁"}})

    requirement: str
    label: str | None = None
    required: str | None = None
    found: str | None = None


class ExceptionFlag(BaseModel):
    """A pass of the pre-review by exception (破格), shown wherever the result shows."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "requirements": ["max_age"], "reason": "长期扎根基层，群众公认度高，经组织部研究同意破格",
        "by": ex.ADMIN, "excepted": [{"requirement": "max_age", "label": "年龄",
                                      "required": "≤ 45 岁", "found": "50 岁"}]}})

    requirements: list[str]
    reason: str
    by: uuid.UUID | None = None
    excepted: list[ExceptedRequirement] = Field(default_factory=list)


class ScoreSheets(BaseModel):
    """The sheets the caller may see; sealed until the panel's sheets are all in."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "sealed": False, "expected": 7, "submitted": 7,
        "sheets": [ex.SHEET]}})

    candidate_id: uuid.UUID
    sealed: bool
    expected: int = Field(description="Judges not recused from this candidate")
    submitted: int
    sheets: list[ScoreSheetPublic]


class Evaluation(CandidateStateLabelled):
    """The comprehensive evaluation report (综合评议报告) for one candidate."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "full_name": "李明", "state": "qualified",
        "state_label": "资格预审通过", "complete": True, "expected_sheets": 7,
        "submitted_sheets": 7, "judge_totals": [92.0, 88.3, 87.9, 87.5, 86.2, 85.0, 80.1],
        "trimmed": True, "score": 86.98, "spread": 11.9, "spread_flagged": False,
        "criterion_means": {"self_introduction": 85.6, "role_cognition": 89.4,
                            "answers": 87.2, "overall_impression": 86.0},
        "rank": 1, "tied_with": [], "within_ratio": True,
        "comments": ["思路清晰，对支部工作认识深刻"], "recusals": []}})

    candidate_id: uuid.UUID
    full_name: str
    state: CandidateState
    complete: bool
    expected_sheets: int
    submitted_sheets: int
    judge_totals: list[float]
    trimmed: bool = Field(description="Whether the highest and lowest totals were dropped")
    score: float | None
    spread: float | None
    spread_flagged: bool
    criterion_means: dict[str, float]
    rank: int | None
    tied_with: list[uuid.UUID]
    within_ratio: bool | None
    comments: list[str]
    recusals: list[DeclarationPublic]
    interview: AppearancePublic | None = Field(
        default=None, description="The candidate's session on record: order of appearance,"
        " segment times, questions and answer summaries, when each sheet came")
    exception: ExceptionFlag | None = Field(
        default=None, description="破格: passed the pre-review as an exception")
    corrections: list[CorrectionFlag] = Field(
        default_factory=list, description="更正: approved corrections behind the score")


class RankingEntry(CandidateStateLabelled):
    """One candidate's place in the ranking."""

    model_config = ConfigDict(json_schema_extra={"example": ex.RANKING_ENTRY})

    candidate_id: uuid.UUID
    full_name: str
    state: CandidateState
    score: float | None
    tie_break: float | None
    rank: int | None
    tied: bool
    within_ratio: bool
    exception: ExceptionFlag | None = Field(
        default=None, description="破格: passed the pre-review as an exception")
    corrected: bool = Field(default=False, description="更正: the score rests on a corrected"
                            " sheet")
    corrections: list[CorrectionFlag] = Field(default_factory=list)
    posts: list[str] = Field(default_factory=list, description="The posts the candidate stands"
                             " for (codes)")


class PostRanking(BaseModel):
    """The ranking for one named post: the candidates standing for it, and its cut-off."""

    model_config = ConfigDict(json_schema_extra={"example": ex.POST_RANKING})

    code: str
    branch: str
    title: str
    name: str = Field(description="The post as announcements name it")
    count: int
    cutoff: int = Field(description="count × candidates_per_post")
    entries: list[RankingEntry]


class Ranking(BaseModel):
    """Candidates by interview score, with the tie rule and the ratio's cut-off."""

    model_config = ConfigDict(json_schema_extra={"example": ex.RANKING})

    selection_id: uuid.UUID
    tie_rule: str
    cutoff: int = Field(description="posts × candidates_per_post")
    entries: list[RankingEntry] = Field(description="Every scored candidate over the whole"
                                        " selection; within_ratio: within the cut-off of at"
                                        " least one post they stand for")
    posts: list[PostRanking] = Field(default_factory=list, description="Per named post: its"
                                     " candidates ranked, and its cut-off")


class InspectionTeamSet(Strict):
    """Appoint an inspection team (考察组) for a candidate: users with the inspector role."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "inspector_ids": [ex.INSPECTOR, ex.INSPECTOR_2]}})

    inspector_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)


@ex.enum_example("conversation")
class InspectionKind(StrEnum):
    """Kinds of inspection work (考察方式)."""

    conversation = "conversation"  # 个别谈话
    opinion_forms = "opinion_forms"  # 征求意见表
    visit = "visit"  # 实地走访
    files = "files"  # 查阅档案


class InspectionRecordCreate(Strict):
    """Work the team did."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "conversation", "held_on": "2026-10-26", "count": 12,
        "summary": "个别谈话12人，普遍反映其政治坚定、作风扎实"}})

    kind: InspectionKind
    held_on: IsoDate
    count: JsonInt = Field(default=1, ge=1, le=10000, description="People talked to, forms, …")
    summary: Stripped(4000, min_length=1)


class InspectionRecordPublic(BaseModel):
    """Work an inspection team recorded."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.RECORD, "candidate_id": ex.CANDIDATE, "inspector_id": ex.INSPECTOR,
        "kind": "conversation", "held_on": "2026-10-26", "count": 12,
        "summary": "个别谈话12人，普遍反映其政治坚定、作风扎实",
        "created_at": "2026-10-26T08:00:00Z"}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    inspector_id: uuid.UUID
    kind: InspectionKind
    held_on: date
    count: int
    summary: str
    created_at: datetime


class Appraisal(Strict):
    """The democratic appraisal (民主测评)."""

    model_config = ConfigDict(json_schema_extra={"example": {"participants": 40, "excellent": 30, "competent": 8, "basically_competent": 2, "incompetent": 0}})

    participants: JsonInt = Field(ge=1, le=100000)
    excellent: JsonInt = Field(ge=0, description="优秀")
    competent: JsonInt = Field(ge=0, description="称职")
    basically_competent: JsonInt = Field(ge=0, description="基本称职")
    incompetent: JsonInt = Field(ge=0, description="不称职")

    @model_validator(mode="after")
    def _adds_up(self):
        total = self.excellent + self.competent + self.basically_competent + self.incompetent
        if total > self.participants:
            raise invalid("counts_do_not_add_up",
                          "the votes add up to {total}, more than the {participants}"
                          " participants", total=total, participants=self.participants)
        return self


class Findings(Strict):
    """Findings under 德、能、勤、绩、廉."""

    model_config = ConfigDict(json_schema_extra={"example": {"de": "政治坚定", "neng": "协调能力强", "qin": "工作勤勉", "ji": "业绩突出", "lian": "廉洁自律"}})

    de: LongText = Field(description="德")
    neng: LongText = Field(description="能")
    qin: LongText = Field(description="勤")
    ji: LongText = Field(description="绩")
    lian: LongText = Field(description="廉")


class InspectionConclusionParams(Strict):
    """The team's report: appraisal, findings and a summary."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "appraisal": {"participants": 40, "excellent": 30, "competent": 8, "basically_competent": 2, "incompetent": 0},
        "findings": {"de": "政治坚定", "neng": "协调能力强", "qin": "工作勤勉", "ji": "业绩突出", "lian": "廉洁自律"},
        "summary": "考察合格"}})

    appraisal: Appraisal
    findings: Findings
    summary: LongText = ""


class InspectionReport(Sparse):
    """The inspection team's conclusion, as recorded with pass_inspection or fail_inspection."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "conclusion": "pass", "reason": None, "by": ex.INSPECTOR, "at": "2026-10-26T08:00:00Z",
        "appraisal": {"participants": 40, "excellent": 30, "competent": 8, "basically_competent": 2, "incompetent": 0}, "summary": "考察合格"}})

    conclusion: Literal["pass", "fail"]
    reason: str | None = None
    by: uuid.UUID | None = Field(default=None, description="Who recorded the conclusion")
    at: datetime | None = None
    appraisal: Appraisal | None = None
    findings: Findings | None = None
    summary: str | None = None


class InspectionPublic(BaseModel):
    """A candidate's inspection (组织考察): the team, who recused, the work and the report."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "team": [ex.INSPECTOR, ex.INSPECTOR_2],
        "recused": [],
        "records": [{"id": ex.RECORD, "candidate_id": ex.CANDIDATE,
                     "inspector_id": ex.INSPECTOR, "kind": "conversation",
                     "held_on": "2026-10-26", "count": 12,
                     "summary": "个别谈话12人，普遍反映其政治坚定、作风扎实",
                     "created_at": "2026-10-26T08:00:00Z"}],
        "report": {"conclusion": "pass", "appraisal": {"participants": 45, "excellent": 38, "competent": 6,
                                 "basically_competent": 1, "incompetent": 0},
                   "summary": "考察组一致认为该同志符合党支部书记任职条件"}}})

    candidate_id: uuid.UUID
    team: list[uuid.UUID]
    recused: list[uuid.UUID]
    records: list[InspectionRecordPublic]
    report: InspectionReport | None


@ex.enum_example("appointed")
class Outcome(StrEnum):
    """The committee's outcome for a candidate (党委会审核结果)."""

    appointed = "appointed"  # 上岗使用
    reserve = "reserve"  # 储备人选
    not_qualified = "not_qualified"  # 不符合
    postponed = "postponed"  # 缓议


@ex.enum_example("appointed")
class RecordedOutcome(StrEnum):
    """An outcome as a meeting recorded it: the decision meeting's, or a backfill meeting's
    `backfilled` (递补)."""

    appointed = "appointed"
    reserve = "reserve"
    not_qualified = "not_qualified"
    postponed = "postponed"
    backfilled = "backfilled"


class Recusal(Strict):
    """A committee member who does not vote on one candidate (回避)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "member_id": ex.COMMITTEE, "candidate_id": ex.CANDIDATE, "reason": "近姻亲"}})

    member_id: uuid.UUID
    candidate_id: uuid.UUID
    reason: Reason = ""


class CommitteeDecision(Strict):
    """The committee's vote and outcome for one candidate."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "votes_for": 7, "votes_against": 0, "abstentions": 0,
        "outcome": "appointed", "reason": ""}})

    candidate_id: uuid.UUID
    votes_for: JsonInt = Field(ge=0)
    votes_against: JsonInt = Field(ge=0)
    abstentions: JsonInt = Field(ge=0)
    outcome: Outcome
    post: PostCode | None = Field(default=None, description="The post appointed to (its code);"
                                  " required for `appointed` when the selection has several")
    reason: Reason = ""


class AppointParams(Strict):
    """The post a committee decision appoints to (left out: the selection's only post)."""

    model_config = ConfigDict(json_schema_extra={"example": {"post": "p1"}})

    post: PostCode | None = None


class CommitteeMeetingCreate(Strict):
    """A committee meeting (党委会审核): who should attend, who came, who recused, the votes."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_on": "2026-11-05", "members_due": [ex.COMMITTEE, ex.ADMIN],
        "present": [ex.COMMITTEE, ex.ADMIN], "recusals": [],
        "decisions": [{"candidate_id": ex.CANDIDATE, "votes_for": 2, "votes_against": 0,
                       "abstentions": 0, "outcome": "appointed"}],
        "minutes": "党委会审议第一党支部书记人选，同意李明同志上岗使用"}})

    held_on: IsoDate
    members_due: list[uuid.UUID] = Field(min_length=1, max_length=100,
                                         description="Committee members who should attend")
    present: list[uuid.UUID] = Field(max_length=100)
    recusals: list[Recusal] = Field(default_factory=list, max_length=500)
    decisions: list[CommitteeDecision] = Field(min_length=1, max_length=200)
    minutes: Stripped(8000) = ""


class RecusalRecord(Sparse):
    """A recusal as the meeting recorded it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "member_id": ex.COMMITTEE, "candidate_id": ex.CANDIDATE, "reason": "近姻亲"}})

    member_id: uuid.UUID
    candidate_id: uuid.UUID
    reason: str | None = None


class DecisionRecord(Sparse):
    """A decision as the meeting recorded it: the votes and the outcome."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "votes_for": 4, "votes_against": 0, "abstentions": 0,
        "outcome": "appointed", "post": "p1", "reason": "", "members_voting": 4}})

    candidate_id: uuid.UUID
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    outcome: RecordedOutcome | None = None
    post: str | None = None
    reason: str | None = None
    members_voting: int | None = Field(default=None, description="Members present who did not"
                                       " recuse: those the votes are counted against")


class CommitteeMeetingPublic(BaseModel):
    """A recorded committee meeting (党委会审核) with its votes and minutes."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.MEETING, "selection_id": ex.SELECTION_ID, "held_on": "2026-11-05",
        "members_due": [ex.COMMITTEE, ex.ADMIN], "present": [ex.COMMITTEE, ex.ADMIN],
        "recusals": [],
        "decisions": [{"candidate_id": ex.CANDIDATE, "votes_for": 2, "votes_against": 0,
                       "abstentions": 0, "outcome": "appointed", "reason": ""}],
        "minutes": "党委会审议第一党支部书记人选，同意李明同志上岗使用",
        "recorded_by": ex.ADMIN, "created_at": "2026-11-05T07:00:00Z"}})

    id: uuid.UUID
    selection_id: uuid.UUID
    held_on: date
    members_due: list[uuid.UUID]
    present: list[uuid.UUID]
    recusals: list[RecusalRecord]
    decisions: list[DecisionRecord]
    minutes: str
    recorded_by: uuid.UUID | None
    created_at: datetime
