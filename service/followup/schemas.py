"""Request and response models of step 4: follow-up (后期四环节), outcome notifications, the
reserve pool."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
    model_validator,
)

from ..core import calendar as workcal
from ..core import examples as ex
from ..core import i18n
from ..core.schemas import (
    NOT_BLANK,
    STRIPPED_SPACE,
    CandidateState,
    FieldName,
    IsoDate,
    JsonFloat,
    JsonInt,
    LongText,
    Name,
    ObjectionState,
    OutcomeLabelled,
    OutcomeName,
    Sparse,
    StateLabelled,
    Strict,
    Stripped,
    invalid,
)
from ..review.schemas import Recusal
from ..selection.schemas import PostCode


class ObjectionStateLabelled(StateLabelled):
    _machine: ClassVar[str] = "objection"


# ---------------------------------------------------------------- step 4: follow-up (后期四环节)
class NotificationPublic(OutcomeLabelled):
    """An outcome email and where it stands."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.NOTIFICATION, "candidate_id": ex.CANDIDATE, "outcome": "appointed",
        "outcome_label": "上岗使用", "language": "zh", "to_address": "liming@example.cn",
        "subject": "【机关第一党支部】党支部书记公开选拔结果通知：上岗使用",
        "body": "李明同志：\n\n经资格预审、面议评审、组织考察和党委会审核，您的结果为：上岗使用。",
        "state": "failed", "attempts": 2, "last_error": "SMTP 451: try again later",
        "next_attempt_at": "2026-11-05T08:10:00Z", "sent_at": "2026-11-05T08:20:00Z",
        "created_at": "2026-11-05T08:00:00Z",
        "note": "Delivery failed twice; it is tried again at next_attempt_at."}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    outcome: OutcomeName
    language: str
    to_address: str | None
    subject: str
    body: str
    state: str = Field(description="queued, sent, failed, undeliverable")
    attempts: int
    last_error: str | None
    next_attempt_at: datetime
    sent_at: datetime | None
    created_at: datetime
    note: str | None = None


class NotificationPreview(OutcomeLabelled):
    """The outcome email as it would be sent now."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "outcome": "reserve", "outcome_label": "储备人选", "language": "zh",
        "to_address": "wangfang@example.cn",
        "subject": "【机关第一党支部】党支部书记公开选拔结果通知：储备人选",
        "body": "王芳同志：\n\n经党委会审核，您的结果为：储备人选。"}})

    outcome: OutcomeName
    language: str
    to_address: str | None
    subject: str
    body: str


class ResendRequest(Strict):
    """Send the outcome email again, optionally in another language."""

    model_config = ConfigDict(json_schema_extra={"example": {"language": "en"}})

    language: Literal["zh", "en"] | None = None


class TemplatePublic(OutcomeLabelled):
    """An outcome email template in effect, and whether an admin changed it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "outcome": "appointed", "outcome_label": "上岗使用", "language": "zh",
        "subject": "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "body": "{full_name}同志：\n\n您在“{selection_title}”中的结果为：{outcome_label}。",
        "customised": False}})

    outcome: OutcomeName
    language: str
    subject: str
    body: str
    customised: bool


# The placeholders an outcome email's template may use, each written `{name}`; `{{` and `}}`
# are a brace itself, and no other brace may appear. The document's pattern says so to a
# client (a template the document accepts, the service accepts); the service itself refuses
# the rest with its own problem, which names what is wrong (`notifications.check_template`:
# `template_placeholder`, `template_malformed`), after the blank and NUL checks of the
# fields. The pattern's first two classes are disjoint: matching is linear in every engine.
PLACEHOLDERS = ("full_name", "selection_title", "organization", "outcome_label", "gate",
                "reason", "post", "branch")
_TEMPLATE_PIECE = r"\{\{|\}\}|\{(?:" + "|".join(PLACEHOLDERS) + r")\}"
TEMPLATE_TEXT = (rf"^[{STRIPPED_SPACE}]*(?:[^\u0000{{}}{STRIPPED_SPACE}]|{_TEMPLATE_PIECE})"
                 rf"(?:[^\u0000{{}}]|{_TEMPLATE_PIECE})*$")
_AS_DOCUMENTED = Field(json_schema_extra={"pattern": TEMPLATE_TEXT})


class TemplateSet(Strict):
    """An outcome email's text; placeholders: {full_name}, {selection_title}, {organization},
    {outcome_label}, {gate}, {reason}."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "subject": "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "body": "{full_name}同志：\n\n您在“{selection_title}”中的结果为：{outcome_label}。"}})

    subject: Annotated[Stripped(300, min_length=1), _AS_DOCUMENTED]
    # kept as written (its line breaks and indentation are the email's), but never blank
    body: Annotated[str, StringConstraints(min_length=1, max_length=10000, pattern=NOT_BLANK),
                    _AS_DOCUMENTED]


class PublicAppointment(BaseModel):
    """The pre-appointment publicity (任职前公示) of one appointee, as real notices print it:
    name, gender, birth (year and month), education, party membership since, current post and
    unit, the proposed post, the period and how to object — nothing else personal."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "full_name": "李明", "gender": "male",
        "gender_label": "男", "birth_month": "1988-05", "education": "bachelor",
        "education_label": "本科", "party_joined_on": "2012-07-01",
        "current_post": "办公室副主任", "unit": "机关办公室",
        "proposed_post": "机关第一党支部书记", "post": "p1",
        "branch": "机关第一党支部", "post_title": "党支部书记", "backfilled": False,
        "publicity_start_on": "2026-11-06", "publicity_end_on": "2026-11-12",
        "how_to_object": "POST /api/v1/public/appointments/7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b/objections（公示期内，可匿名）"}})

    candidate_id: uuid.UUID
    full_name: str
    gender: Literal["male", "female"] | None = Field(default=None, description="性别")
    gender_label: str | None = Field(default=None, description="The gender in the reader's"
                                     " language (男 / 女)")
    birth_month: Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")] | None = (
        Field(default=None, description="出生年月: year and month of birth (YYYY-MM), as"
              " notices print it; never the day"))
    education: str | None = Field(default=None, description="学历: an education level code")
    education_label: str | None = Field(default=None, description="The education in the"
                                        " reader's language (本科, …)")
    party_joined_on: date | None = Field(default=None, description="入党时间")
    current_post: str
    unit: str
    proposed_post: str = Field(description="The named post: the branch and the title")
    post: str | None = Field(default=None, description="The post's code in the selection")
    branch: str | None = Field(default=None, description="The party branch (党支部) of the post")
    post_title: str | None = None
    backfilled: bool = Field(default=False, description="Whether the appointee fills a"
                             " vacated post from the reserves (递补)")
    publicity_start_on: date
    publicity_end_on: date
    how_to_object: str


class ObjectionCreate(Strict):
    """An objection (举报/异议) to a proposed appointment; the contact is optional."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "content": "反映该同志在某项目中存在违规问题", "contact": "13900000000"}})

    content: Stripped(4000, min_length=5)
    contact: Stripped(200) | None = None


class ObjectionReceipt(BaseModel):
    """The receipt of a lodged objection."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.OBJECTION, "received_at": "2026-11-09T03:00:00Z"}})

    id: uuid.UUID
    received_at: datetime


class ObjectionWorkPublic(BaseModel):
    """A conversation (谈话) or a finding (核实情况) of the investigating team."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.OBJECTION, "kind": "finding", "held_on": "2026-11-10",
        "investigator_id": ex.INSPECTOR, "with_whom": "原单位财务负责人",
        "content": "报销手续齐全，反映问题不属实", "recorded_by": ex.ADMIN,
        "created_at": "2026-11-10T08:00:00Z"}})

    id: uuid.UUID
    kind: InvestigationWorkKind
    held_on: date
    investigator_id: uuid.UUID
    with_whom: str
    content: str
    recorded_by: uuid.UUID | None
    created_at: datetime


class ObjectionPublic(ObjectionStateLabelled):
    """An objection to an appointment and its handling, as admins see it (the objector's
    contact included: nobody else sees an objection)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.OBJECTION, "candidate_id": ex.CANDIDATE,
        "content": "反映该同志在某项目中存在违规问题", "contact": "objector@example.cn",
        "state": "not_upheld", "state_label": "异议不成立", "version": 4,
        "investigators": [ex.ADMIN, ex.INSPECTOR], "handling": "经核查，所反映问题不属实",
        "handled_by": ex.ADMIN, "handled_at": "2026-11-11T06:00:00Z",
        "created_at": "2026-11-09T03:00:00Z", "acknowledgement": "sent", "work": []}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    content: str
    contact: str | None
    state: ObjectionState
    version: int
    investigators: list[uuid.UUID] | None
    handling: str | None = Field(description="The conclusion's reasons")
    handled_by: uuid.UUID | None
    handled_at: datetime | None
    created_at: datetime
    acknowledgement: str | None = Field(
        default=None, description="Where the acknowledgement to the objector stands (queued,"
        " sent, failed, undeliverable); null when no email address was left")
    work: list[ObjectionWorkPublic] = Field(default_factory=list)


class StartInvestigationParams(Strict):
    """The investigating team (调查组): at least the selection's minimum, 2 by default."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "investigators": [ex.ADMIN, ex.INSPECTOR]}})

    investigators: list[uuid.UUID] = Field(min_length=1, max_length=20)


@ex.enum_example("finding")
class InvestigationWorkKind(StrEnum):
    """What the investigating team records."""

    conversation = "conversation"  # 谈话
    finding = "finding"  # 核实情况


class InvestigationRecordParams(Strict):
    """A conversation of the investigating team, or a finding, by one of its members."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "conversation", "held_on": "2026-11-10", "investigator_id": ex.INSPECTOR,
        "with_whom": "原单位财务负责人", "content": "核对有关报销凭证，手续齐全"}})

    kind: InvestigationWorkKind
    held_on: IsoDate
    investigator_id: uuid.UUID
    with_whom: Stripped(200) = ""
    content: Stripped(4000, min_length=1)


class TrialParams(Strict):
    """Trial placement (使用实习安排) at a front-line post."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "unit": "第三车间", "post": "党支部副书记（实习）"}})

    unit: Name
    post: Name
    start_on: IsoDate | None = Field(default=None, description="Default: today")
    months: JsonInt | None = Field(default=None, ge=1, le=60,
                               description="Default: the selection's trial_months")


@ex.enum_example("senior_guides_new")
class MentorshipKind(StrEnum):
    """The two ways of cultivation the seed names (优带新、老带新)."""

    excellent_guides_new = "excellent_guides_new"  # 优带新: an outstanding secretary guides
    senior_guides_new = "senior_guides_new"  # 老带新: an experienced secretary guides




@ex.enum_example("confirmed_secretary")
class MentorStandingKind(StrEnum):
    """Why the mentor can guide: what they are."""

    confirmed_secretary = "confirmed_secretary"  # confirmed in a selection of this service
    serving_secretary = "serving_secretary"  # a branch secretary now
    party_worker = "party_worker"  # an experienced party worker


class MentorStanding(Strict):
    """The mentor's standing: the post they hold and, for a secretary confirmed in an
    earlier selection, that candidacy (checked: confirmed)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "confirmed_secretary", "post": "机关第二党支部书记",
        "candidate_id": ex.CANDIDATE_2}})

    kind: MentorStandingKind
    post: Name
    candidate_id: uuid.UUID | None = Field(
        default=None, description="For confirmed_secretary, and only then: the mentor's own"
        " confirmed candidacy")


class MentorshipSet(Strict):
    """Assign a mentor (优带新、老带新) and the plan; meetings at the plan's interval (the
    selection's mentor_meeting_interval_days by default)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "mentor_id": ex.MENTOR, "kind": "senior_guides_new",
        "mentor_standing": {"kind": "serving_secretary", "post": "机关第二党支部书记"},
        "plan": "每月谈心一次，带教支部“三会一课”组织和党员发展工作"}})

    mentor_id: uuid.UUID
    kind: MentorshipKind
    mentor_standing: MentorStanding
    plan: Stripped(8000, min_length=1)
    # omitted: the selection's setting (the default is not validated, so None stands for it)
    meeting_interval_days: JsonInt = Field(
        default=None, ge=7, le=366,
        description="Omitted: the selection's mentor_meeting_interval_days (30)")


class StandingRecord(Sparse):
    """The mentor's standing as recorded (a confirmed secretary's names the candidacy)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "serving_secretary", "post": "机关第二党支部书记"}})

    kind: MentorStandingKind
    post: str
    candidate_id: uuid.UUID | None = None
    selection_id: uuid.UUID | None = None


class MentorshipPublic(BaseModel):
    """The appointee's mentor and plan (优带新、老带新)."""

    model_config = ConfigDict(json_schema_extra={"example": ex.MENTORSHIP})

    candidate_id: uuid.UUID
    mentor_id: uuid.UUID
    kind: MentorshipKind | None
    mentor_standing: StandingRecord | None
    plan: str
    meeting_interval_days: int
    assigned_on: date

    @computed_field(description="The kind's label (优带新 / 老带新)")
    @property
    def kind_label(self) -> str | None:
        return i18n.label("MentorshipKind", self.kind) if self.kind else None


@ex.enum_example("final")
class AssessmentKind(StrEnum):
    """The trial's assessments."""

    mid_term = "mid_term"  # 试用期中考核
    final = "final"  # 试用期满考核


@ex.enum_example("competent")
class Grade(StrEnum):
    """A grade of the democratic appraisal and of the assessment (民主测评)."""

    excellent = "excellent"  # 优秀
    competent = "competent"  # 称职
    basically_competent = "basically_competent"  # 基本称职
    incompetent = "incompetent"  # 不称职


PASSING_GRADES = ("excellent", "competent", "basically_competent")


class AssessmentParams(Strict):
    """A trial assessment: the democratic appraisal's counts (优秀 / 称职 / 基本称职 / 不称职) of
    those taking part, the mentor's and the branch's opinions, and the grade. A final one
    graded 不称职 ends the trial as unfit."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "final", "held_on": "2027-10-25", "taking_part": 25, "excellent": 12,
        "competent": 10, "basically_competent": 2, "incompetent": 0,
        "mentor_opinion": "能够独立主持支部工作，“三会一课”组织规范",
        "branch_opinion": "支部党员普遍认可", "grade": "competent"}})

    kind: AssessmentKind
    held_on: IsoDate
    taking_part: JsonInt = Field(ge=1, le=100000, description="Those taking part in the"
                                 " democratic appraisal")
    excellent: JsonInt = Field(ge=0, le=100000)
    competent: JsonInt = Field(ge=0, le=100000)
    basically_competent: JsonInt = Field(ge=0, le=100000)
    incompetent: JsonInt = Field(ge=0, le=100000)
    mentor_opinion: Stripped(4000, min_length=1)
    branch_opinion: Stripped(4000, min_length=1)
    grade: Grade

    @model_validator(mode="after")
    def _counts(self):
        total = self.excellent + self.competent + self.basically_competent + self.incompetent
        if total > self.taking_part:
            raise invalid("counts_do_not_add_up", "the appraisal counts add up to {total},"
                          " more than the {taking_part} taking part", total=total,
                          taking_part=self.taking_part)
        return self


class AssessmentPublic(BaseModel):
    """A trial assessment as recorded."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.OBJECTION, "kind": "final", "held_on": "2027-10-25", "taking_part": 25,
        "excellent": 12, "competent": 10, "basically_competent": 2, "incompetent": 0,
        "mentor_opinion": "能够独立主持支部工作", "branch_opinion": "支部党员普遍认可",
        "grade": "competent", "passed": True, "recorded_by": ex.ADMIN,
        "created_at": "2027-10-25T08:00:00Z"}})

    id: uuid.UUID
    kind: AssessmentKind
    held_on: date
    taking_part: int
    excellent: int
    competent: int
    basically_competent: int
    incompetent: int
    mentor_opinion: str
    branch_opinion: str
    grade: str
    recorded_by: uuid.UUID | None
    created_at: datetime

    @computed_field(description="Whether the grade passes (优秀, 称职, 基本称职)")
    @property
    def passed(self) -> bool:
        return self.grade in PASSING_GRADES


@ex.enum_example("party_lesson")
class FollowUpKind(StrEnum):
    """Kinds of follow-up record in the trial."""

    mentor_meeting = "mentor_meeting"  # 导师谈心/带教
    party_lesson = "party_lesson"  # 党课学习
    branch_life = "branch_life"  # 支部生活锻炼


class FollowUpRecordCreate(Strict):
    """A mentor's meeting (by the mentor), or a party lesson / branch-life exercise."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "party_lesson", "held_on": "2026-12-10", "subject": "学习贯彻党章专题党课",
        "hours": 4, "attended": True, "assessment": "认真听讲，撰写心得体会"}})

    kind: FollowUpKind
    held_on: IsoDate
    subject: Stripped(300, min_length=1)
    hours: JsonFloat = Field(default=0, ge=0, le=24)
    attended: StrictBool = True
    assessment: LongText = ""


class FollowUpRecordPublic(BaseModel):
    """A mentor's meeting, party lesson or branch-life exercise in the trial."""

    model_config = ConfigDict(json_schema_extra={"example": ex.FOLLOW_UP_RECORD})

    id: uuid.UUID
    candidate_id: uuid.UUID
    kind: FollowUpKind
    held_on: date
    subject: str
    hours: float
    attended: bool
    assessment: str
    recorded_by: uuid.UUID | None
    created_at: datetime


class TrialPlacement(Sparse):
    """The front-line post of the trial (使用实习安排) and its dates."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "unit": "第三车间", "post": "党支部副书记（实习）", "start_on": "2026-11-10", "months": 12,
        "end_on": "2027-11-10"}})

    unit: str
    post: str
    start_on: date
    months: int
    end_on: date


class ElectionRecord(Sparse):
    """The branch's election as recorded (支部党员大会选举): its counts, the rules it was held
    under and whether the appointee was elected."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_on": "2026-11-05", "members_due": 30, "present_with_vote": 27,
        "ballots_issued": 27, "ballots_returned": 27, "ballots_valid": 27, "ballots_invalid": 0,
        "votes_for": 25, "votes_against": 1, "abstentions": 1, "minutes": "支部党员大会选举支部书记",
        "elected": True, "votes_needed": 14, "election_quorum": 0.8, "election_majority": 0.5}})

    held_on: date | None = None
    members_due: int | None = None
    present_with_vote: int | None = None
    ballots_issued: int | None = Field(default=None, description="One per member present with"
                                       " a vote")
    ballots_returned: int | None = None
    ballots_valid: int | None = None
    ballots_invalid: int | None = None
    votes_for: int | None = None
    votes_against: int | None = None
    abstentions: int | None = None
    minutes: str | None = None
    elected: bool | None = None
    votes_needed: int | None = Field(default=None, description="Votes for needed to be elected")
    election_quorum: float | None = None
    election_majority: float | None = None


class ApprovalRecord(Sparse):
    """The higher committee's decision on the election (批准) as recorded."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "approved_by": "中共机关党委", "decided_on": "2026-11-05", "document_number": "机党〔2026〕8号",
        "approved": True}})

    approved_by: str | None = None
    decided_on: date | None = None
    document_number: str | None = None
    approved: bool | None = None


class BackfillRecord(Sparse):
    """Whose vacated post a backfilled appointee (递补) took, and why it was vacant."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "vacated_by": ex.CANDIDATE, "vacated_by_name": "李明", "cause": "revoked"}})

    vacated_by: uuid.UUID | None = None
    vacated_by_name: str | None = None
    cause: CandidateState | None = Field(default=None, description="The state that vacated it")


class AppointmentRecord(Sparse):
    """The appointment the committee decided: the post, and its pre-appointment publicity
    (任职前公示) and trial once they are set."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "post": "p1", "branch": "机关第一党支部", "post_title": "党支部书记",
        "proposed_post": "机关第一党支部书记", "decided_on": "2026-10-28",
        "publicity_start_on": "2026-10-29", "publicity_end_on": "2026-11-04",
        "publicity_calendar_fallback_years": []}})

    post: str | None = Field(default=None, description="The post's code")
    branch: str | None = None
    post_title: str | None = None
    proposed_post: str | None = None
    decided_on: date | None = None
    publicity_start_on: date | None = None
    publicity_end_on: date | None = None
    publicity_calendar_fallback_years: list[int] | None = None
    trial: TrialPlacement | None = None
    election: ElectionRecord | None = None
    approval: ApprovalRecord | None = None
    backfill: BackfillRecord | None = None


class FollowUpPublic(BaseModel):
    """The appointee's follow-up: publicity, trial, mentor, records, and what is missing."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "state": "on_trial",
        "appointment": {"proposed_post": "机关第一党支部书记",
                        "publicity_start_on": "2026-11-06", "publicity_end_on": "2026-11-12",
                        "trial": {"unit": "第三生产车间", "post": "车间党支部副书记（实习）",
                                  "start_on": "2026-11-16", "months": 12, "end_on": "2027-11-15"}},
        "mentorship": ex.MENTORSHIP, "records": [ex.FOLLOW_UP_RECORD],
        "missing_for_confirmation": ["trial ends on 2027-11-15",
                                     "party lessons: 4 of 8 hours"], "warnings": []}})

    candidate_id: uuid.UUID
    state: CandidateState
    appointment: AppointmentRecord | None
    mentorship: MentorshipPublic | None
    records: list[FollowUpRecordPublic]
    assessments: list[AssessmentPublic] = Field(default_factory=list)
    missing_for_confirmation: list[str]

    @computed_field(description="Cautions: a pre-appointment publicity that runs through a year"
                    " the official holiday schedule does not cover (counted from weekends and the"
                    " administrators' calendar overrides only)")
    @property
    def warnings(self) -> list[str]:
        a = self.appointment
        start, end = (a.publicity_start_on, a.publicity_end_on) if a else (None, None)
        if not (start and end):
            return []
        return workcal.fallback_warnings(workcal.fallback_years(start, end))


class ReserveEntryPublic(BaseModel):
    """A reserve (储备人选) in the pool."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.RESERVE_ENTRY, "candidate_id": ex.CANDIDATE_2,
        "selection_id": ex.SELECTION_ID, "organization": "机关第一党支部", "full_name": "王芳",
        "education": "master", "score": 84.6, "rank": 2, "entered_on": "2026-11-05",
        "expires_on": "2028-11-05", "expired": False}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    selection_id: uuid.UUID
    organization: str
    full_name: str
    education: str | None
    score: float | None
    rank: int | None
    entered_on: date
    expires_on: date
    expired: bool


class ExpiriesTold(BaseModel):
    """How many reserves were told now that their entry expired."""

    model_config = ConfigDict(json_schema_extra={"example": {"told": 1}})

    told: int


# ---------------------------------------------------------------- 递补 (backfill)
class BackfillParams(Strict):
    """The vacated post a reserve fills (left out: the selection's only post)."""

    model_config = ConfigDict(json_schema_extra={"example": {"post": "p1"}})

    post: PostCode | None = None


class BackfillDecision(Strict):
    """The committee's vote on one reserve filling a vacated post (递补)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE_2, "post": "p1", "votes_for": 6, "votes_against": 1,
        "abstentions": 0, "reason": ""}})

    candidate_id: uuid.UUID
    post: PostCode | None = Field(
        default=None, description="The vacated post (its code); required when the selection"
        " has several")
    votes_for: JsonInt = Field(ge=0)
    votes_against: JsonInt = Field(ge=0)
    abstentions: JsonInt = Field(ge=0)
    reason: Stripped(2000) = Field(default="", description="Why the reserve is backfilled out"
                                   " of rank order (required then)")


class BackfillMeetingCreate(Strict):
    """A committee meeting held during follow-up to fill vacated posts from this selection's
    reserves (递补): the same quorum and vote rules as the decision meeting."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_on": "2026-11-20", "members_due": [ex.COMMITTEE, ex.ADMIN],
        "present": [ex.COMMITTEE, ex.ADMIN], "recusals": [],
        "decisions": [{"candidate_id": ex.CANDIDATE_2, "votes_for": 2, "votes_against": 0,
                       "abstentions": 0}],
        "minutes": "李明同志取消任用，按排名顺序由储备人选王芳同志递补"}})

    held_on: IsoDate
    members_due: list[uuid.UUID] = Field(min_length=1, max_length=100,
                                         description="Committee members who should attend")
    present: list[uuid.UUID] = Field(max_length=100)
    recusals: list[Recusal] = Field(default_factory=list, max_length=500)
    decisions: list[BackfillDecision] = Field(min_length=1, max_length=50)
    minutes: Stripped(8000) = ""


class VacancyPublic(BaseModel):
    """A vacated post (出缺) of the selection, and who refilled it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "post": "p1", "proposed_post": "机关第一党支部书记", "vacated_by": ex.CANDIDATE,
        "vacated_by_name": "李明", "cause": "revoked", "cause_label": "取消任用",
        "vacated_event_id": ex.MEETING, "vacated_on": "2026-10-20",
        "refilled_by": ex.CANDIDATE_2,
        "rank_order": [ex.CANDIDATE_2]}})

    post: str
    proposed_post: str
    vacated_by: uuid.UUID
    vacated_by_name: str
    cause: str = Field(description="The vacating appointee's state: revoked, dismissed,"
                       " withdrawn, not_elected, not_approved")
    cause_label: str
    vacated_event_id: uuid.UUID | None
    vacated_on: date | None = Field(description="The day the post was vacated (a backfill"
                                    " meeting is not before it)")
    refilled_by: uuid.UUID | None
    rank_order: list[uuid.UUID] = Field(description="This selection's reserves for the post,"
                                        " in the order a backfill follows")


# ---------------------------------------------------------------- 选举 (the branch's election)
class ElectionParams(Strict):
    """The branch's election meeting (支部党员大会选举) and its count (计票): members due and
    present with a vote, then the ballots as counted. One ballot is issued to each member
    present with a vote; the ballots returned are no more than those issued; each returned
    ballot is valid or invalid; each valid ballot is for, against or abstaining. Valid when
    those present exceed election_quorum of those due; elected with votes for above
    election_majority of those present."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_on": "2026-10-23", "members_due": 30, "present_with_vote": 27,
        "ballots_returned": 27, "ballots_valid": 26, "ballots_invalid": 1,
        "votes_for": 24, "votes_against": 1, "abstentions": 1,
        "minutes": "支部党员大会差额选举支部书记"}})

    held_on: IsoDate
    members_due: JsonInt = Field(ge=1, le=100000, description="应到会有选举权的党员")
    present_with_vote: JsonInt = Field(ge=0, le=100000, description="实到会有选举权的党员"
                                       " (the ballots issued, 发出选票)")
    ballots_returned: JsonInt = Field(ge=0, le=100000, description="收回选票: no more than"
                                      " those issued")
    ballots_valid: JsonInt = Field(ge=0, le=100000, description="有效票")
    ballots_invalid: JsonInt = Field(ge=0, le=100000, description="无效票: with the valid"
                                     " ones, the ballots returned")
    votes_for: JsonInt = Field(ge=0, le=100000, description="赞成")
    votes_against: JsonInt = Field(ge=0, le=100000, description="反对")
    abstentions: JsonInt = Field(ge=0, le=100000, description="弃权: with the votes for and"
                                 " against, the valid ballots")
    minutes: Stripped(4000) = ""

    @field_validator("present_with_vote")
    @classmethod
    def _present(cls, v: int, info: ValidationInfo) -> int:
        due = info.data.get("members_due")
        if due is not None and v > due:
            raise invalid("counts_do_not_add_up", "{present} ({v}) is more than {due} ({n})",
                          beside=True, present=FieldName("present_with_vote"), v=v,
                          due=FieldName("members_due"), n=due)
        return v

    @field_validator("ballots_returned")
    @classmethod
    def _returned(cls, v: int, info: ValidationInfo) -> int:
        issued = info.data.get("present_with_vote")
        if issued is not None and v > issued:
            raise invalid("counts_do_not_add_up", "{returned} ({v}) is more than the ballots"
                          " issued, one to each of {present} ({n}): the count is void",
                          beside=True, returned=FieldName("ballots_returned"), v=v,
                          present=FieldName("present_with_vote"), n=issued)
        return v

    @field_validator("ballots_invalid")
    @classmethod
    def _valid_and_invalid(cls, v: int, info: ValidationInfo) -> int:
        return _adds_up(v, info, ("ballots_valid", "ballots_invalid"), "ballots_returned")

    @field_validator("abstentions")
    @classmethod
    def _votes(cls, v: int, info: ValidationInfo) -> int:
        return _adds_up(v, info, ("votes_for", "votes_against", "abstentions"), "ballots_valid")


def _adds_up(v: int, info: ValidationInfo, parts: tuple[str, ...], total: str) -> int:
    """The field `v` closes a sum: `parts` (it among them) add up to `total`."""
    d = {**info.data, info.field_name: v}
    if {*parts, total} <= d.keys() and sum(d[p] for p in parts) != d[total]:
        raise invalid("counts_do_not_add_up", "{parts} add up to {sum}, not {total} ({n})",
                      beside=True, parts=[FieldName(p) for p in parts],
                      sum=sum(d[p] for p in parts), total=FieldName(total), n=d[total])
    return v


class ApprovalParams(Strict):
    """The higher party committee's decision on the election (批准): by whom, when, the
    document's number if any."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "approved_by": "中共某某公司委员会", "decided_on": "2026-10-28",
        "document_number": "某党组〔2026〕12号"}})

    approved_by: Name = Field(description="The higher committee (上级党委)")
    decided_on: IsoDate
    document_number: Stripped(100) | None = None
