"""Request and response models (SQLModel ladder: Base → Create/Update → table → Public)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from .errors import Problem
from .workflow.roles import ROLES

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]


class Strict(BaseModel):
    """Request models refuse unknown fields, so a typo is an error and not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------- users and auth
Role = StrEnum("Role", {r: r for r in ROLES})  # type: ignore[misc]
Username = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=2, max_length=64,
                           pattern=r"^[A-Za-z0-9_.@-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class Token(BaseModel):
    """An OAuth2 bearer token."""

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class UserCreate(Strict):
    """A new user; with no password, one is generated and returned once."""

    username: Username
    full_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    roles: list[Role] = Field(min_length=1, max_length=len(ROLES))
    password: Password | None = None


class UserUpdate(Strict):
    """Changes to a user; a change of roles or of is_active ends their current tokens."""

    full_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] = None  # type: ignore[assignment]
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(ROLES))
    is_active: bool | None = None
    password: Password | None = None


class UserPublic(BaseModel):
    """A user as the API shows it (never the password hash)."""

    id: uuid.UUID
    username: str
    full_name: str
    email: str | None
    roles: list[str]
    is_active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class UserCreated(UserPublic):
    """A created user, with the generated password when none was given (shown once)."""

    generated_password: str | None = None


# ---------------------------------------------------------------- job description (职务说明书)
class EducationLevel(StrEnum):
    """Education levels, lowest first."""

    junior_secondary = "junior_secondary"  # 初中及以下
    senior_secondary = "senior_secondary"  # 高中/中专
    junior_college = "junior_college"  # 大专
    bachelor = "bachelor"  # 本科
    master = "master"  # 硕士研究生
    doctorate = "doctorate"  # 博士研究生

    @property
    def rank(self) -> int:
        """Position in the order, lowest first."""
        return list(EducationLevel).index(self)


class MachineRequirements(Strict):
    """Requirements a machine can check from a candidate's profile."""

    min_education: EducationLevel | None = Field(
        default=EducationLevel.junior_college, description="Lowest education level accepted"
    )
    min_party_years: float = Field(
        default=1, ge=0, le=60,
        description="Years of party membership; the 2018 branch work regulation: 一般应当具有1年以上党龄",
    )
    max_age: int | None = Field(default=None, ge=18, le=80, description="Highest age accepted")
    min_work_years: float | None = Field(default=None, ge=0, le=60)


class JudgedItem(StrEnum):
    """What people judge in review (职务说明书, seed 篇8)."""

    abilities = "abilities"  # 工作能力
    psychological_qualities = "psychological_qualities"  # 心理品质
    political_quality = "political_quality"  # 政治素质
    mass_base = "mass_base"  # 群众基础
    overall_awareness = "overall_awareness"  # 大局意识
    execution = "execution"  # 执行能力
    coordination_communication = "coordination_communication"  # 协调沟通公关能力


JUDGED_DEFAULTS: dict[JudgedItem, str] = {
    JudgedItem.abilities: "工作能力：善于解决实际问题，营造和谐氛围",
    JudgedItem.psychological_qualities: "心理品质：稳定、坚韧、乐于奉献",
    JudgedItem.political_quality: "良好的政治素质",
    JudgedItem.mass_base: "广泛的群众基础",
    JudgedItem.overall_awareness: "强烈的大局意识",
    JudgedItem.execution: "较强的执行能力",
    JudgedItem.coordination_communication: "善于协调沟通公关的能力",
}


class JudgedRequirement(Strict):
    """One requirement people judge in review, with what it means for this post."""

    key: JudgedItem
    description: Text


def _default_judged() -> list[JudgedRequirement]:
    return [JudgedRequirement(key=k, description=v) for k, v in JUDGED_DEFAULTS.items()]


class JobDescription(Strict):
    """The post's duties and what a candidate must bring (一份"职务说明书")."""

    duties: list[Text] = Field(min_length=1, max_length=50)
    experience: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""
    requirements: MachineRequirements = Field(default_factory=MachineRequirements)
    judged_requirements: list[JudgedRequirement] = Field(
        default_factory=_default_judged, max_length=20
    )

    @field_validator("judged_requirements")
    @classmethod
    def _unique_keys(cls, v: list[JudgedRequirement]):
        keys = [r.key for r in v]
        if len(keys) != len(set(keys)):
            raise ValueError("each judged requirement appears once")
        return v


class InterviewCriterion(Strict):
    """One line of the score registration sheet (评分登记表)."""

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Name
    weight: float = Field(gt=0, le=100, description="Weight in percent; weights add up to 100")
    max_score: float = Field(default=100, gt=0, le=1000)


def check_criteria(v: list[InterviewCriterion] | None):
    """Criterion keys are unique and the weights add up to 100."""
    if v is None:
        return v
    keys = [c.key for c in v]
    if len(keys) != len(set(keys)):
        raise ValueError("criterion keys must be unique")
    total = sum(c.weight for c in v)
    if abs(total - 100) > 1e-6:
        raise ValueError(f"criterion weights must add up to 100, not {total:g}")
    return v


def _default_criteria() -> list[InterviewCriterion]:
    return [
        InterviewCriterion(key="self_introduction", label="自我介绍", weight=20),
        InterviewCriterion(key="role_cognition", label="岗位认知", weight=30),
        InterviewCriterion(key="answers", label="回答评委提问", weight=35),
        InterviewCriterion(key="overall_impression", label="综合印象", weight=15),
    ]


class SelectionSettings(Strict):
    """Numbers later steps use; defaults from common practice (DOMAIN.md), all overridable."""

    publicity_working_days: int = Field(default=5, ge=1, le=60)
    publicity_counts_start_day: bool = Field(
        default=False,
        description="Whether the start day counts as day 1 (default: counting starts the next"
        " working day)",
    )
    interview_criteria: list[InterviewCriterion] = Field(
        default_factory=_default_criteria, min_length=1, max_length=20
    )
    min_judges: int = Field(default=7, ge=1, le=51, description="At least this many judges")
    judges_odd: bool = True
    trim_extremes_min_sheets: int = Field(
        default=5, ge=3, le=51, description="Drop the highest and lowest totals from this many"
    )
    candidates_per_post: int = Field(default=3, ge=1, le=20, description="1:3 is common")
    spread_flag_points: float = Field(
        default=20, gt=0, le=100, description="Flag a candidate when the judges' totals differ"
        " by more than this many points")
    tie_break_criterion: str | None = Field(
        default="role_cognition", description="Equal scores are ordered by this criterion's"
        " mean; what stays tied is decided by the admin with a recorded reason")
    min_inspectors: int = Field(default=2, ge=2, le=20)
    appointment_publicity_working_days: int = Field(default=5, ge=0, le=60)
    trial_months: int = Field(default=12, ge=1, le=60)
    min_party_lesson_hours: float = Field(default=0, ge=0, le=1000,
                                          description="党课学习 hours required in the trial")
    min_branch_life_hours: float = Field(default=0, ge=0, le=1000,
                                         description="支部生活锻炼 hours required in the trial")
    reserve_valid_years: int = Field(default=2, ge=1, le=10)

    @field_validator("interview_criteria")
    @classmethod
    def _criteria(cls, v: list[InterviewCriterion]):
        return check_criteria(v)

    @model_validator(mode="after")
    def _odd(self):
        if self.judges_odd and self.min_judges % 2 == 0:
            raise ValueError("min_judges must be odd when judges_odd is true")
        return self


# ---------------------------------------------------------------- selections
class SelectionBase(Strict):
    """What an organization department writes when it opens a selection."""

    title: Name
    organization: Name = Field(description="The organization whose branch secretary post this is")
    posts: int = Field(default=1, ge=1, le=100, description="Number of posts to fill")


class SelectionCreate(SelectionBase):
    """A new selection with its job description; it starts in `drafting`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "example": {
                "title": "第一党支部书记公开选拔",
                "organization": "某公司机关第一党支部",
                "posts": 1,
                "job_description": {
                    "duties": ["主持支部全面工作", "落实党建工作责任制", "组织党员学习教育"],
                    "requirements": {"min_education": "bachelor", "min_party_years": 3,
                                     "max_age": 45},
                },
            }
        },
    )

    job_description: JobDescription
    settings: SelectionSettings = Field(default_factory=SelectionSettings)


class SelectionUpdate(Strict):
    """Changes to a drafting selection; omitted fields stay as they are."""

    title: Name | None = None
    organization: Name | None = None
    posts: int | None = Field(default=None, ge=1, le=100)
    job_description: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the job description (RFC 7396): keys"
        " left out keep their value; the result must be a valid JobDescription",
        json_schema_extra={"example": {"requirements": {"max_age": 40}}})
    settings: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the settings; the result must be valid"
        " SelectionSettings", json_schema_extra={"example": {"publicity_working_days": 7}})


class SelectionPublic(BaseModel):
    """A selection as staff see it."""

    id: uuid.UUID
    title: str
    organization: str
    posts: int
    state: str
    version: int
    job_description: JobDescription
    settings: SelectionSettings
    publicity_start_on: date | None
    publicity_end_on: date | None
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- candidates
class CandidatePublic(BaseModel):
    """A candidate as the API shows it to those allowed to see the record."""

    id: uuid.UUID
    selection_id: uuid.UUID
    full_name: str
    state: str
    version: int
    created_at: datetime
    updated_at: datetime


# ---------------------------------------------------------------- actions and events
class ActionRequest(Strict):
    """Run an action: a reason (required by some actions) and the action's parameters."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"example": {"reason": "岗位调整，本次选拔取消", "params": {}}},
    )

    reason: Reason | None = None
    params: dict[str, Any] = Field(default_factory=dict)


class ActionOption(BaseModel):
    """One action as the caller may see it now: allowed, or why not."""

    action: str
    label: str
    label_en: str
    from_states: list[str]
    to_state: str
    roles: list[str]
    allowed: bool
    reason_required: bool
    refusal_code: str | None = None
    refusal: str | None = None
    params_schema: dict[str, Any] = Field(description="JSON Schema of the action's `params`")


class ActionOptions(BaseModel):
    """Every action of a subject's machine, as seen by the caller now."""

    subject_id: uuid.UUID
    state: str
    version: int
    actions: list[ActionOption]


class EventPublic(BaseModel):
    """One entry of the full-process record."""

    id: uuid.UUID
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    selection_id: uuid.UUID | None
    action: str
    from_state: str | None
    to_state: str | None
    actor_id: uuid.UUID | None
    actor_role: str
    reason: str | None
    params: dict[str, Any]
    request_id: str | None
    occurred_at: datetime
    simulated_at: datetime | None
    prev_hash: str
    hash: str


# ---------------------------------------------------------------- workflow description
class StateInfo(BaseModel):
    name: str
    label: str
    label_en: str
    final: bool


class TransitionInfo(BaseModel):
    action: str
    label: str
    label_en: str
    from_states: list[str]
    to_state: str
    roles: list[str]
    guards: list[dict[str, str]]
    reason_required: bool
    params_schema: dict[str, Any]


class MachineInfo(BaseModel):
    name: str
    initial: str
    states: list[StateInfo]
    actions: list[TransitionInfo]
    mermaid: str


class WorkflowInfo(BaseModel):
    """Both machines, generated from the transition table."""

    machines: list[MachineInfo]
    roles: list[dict[str, str]]


# ---------------------------------------------------------------- step 2: nomination (推荐、报名)
class NominationKind(StrEnum):
    """Who recommends: party, administration, union, youth league (党、政、工、团), members
    jointly, the reserve pool, or the person themself."""

    party_organization = "party_organization"  # 党组织推荐
    administration = "administration"  # 行政推荐
    trade_union = "trade_union"  # 工会推荐
    youth_league = "youth_league"  # 团组织推荐
    party_members_joint = "party_members_joint"  # 党员联名推荐
    reserve_pool = "reserve_pool"  # 储备人选库
    self_application = "self_application"  # 个人报名


class Gender(StrEnum):
    male = "male"
    female = "female"


ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]
Email = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\+?[0-9][0-9 -]{5,19}$")]
NationalId = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                              pattern=r"^[0-9]{17}[0-9X]$")]
MIN_AGE = 18


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


class Profile(Strict):
    """The nominee's or applicant's profile (个人信息)."""

    full_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                                max_length=100)]
    gender: Gender
    birth_date: date
    education: EducationLevel
    party_joined_on: date = Field(description="Date of joining the party (入党时间)")
    work_started_on: date | None = Field(default=None, description="参加工作时间")
    current_post: ShortText = ""
    unit: Name = Field(description="Current work unit (工作单位)")
    email: Email | None = Field(default=None, description="Where the outcome is sent")
    phone: Phone | None = None
    national_id: NationalId | None = Field(default=None, description="居民身份证号码 (optional)")

    @model_validator(mode="after")
    def _dates_make_sense(self):
        today = date.today()
        for name in ("birth_date", "party_joined_on", "work_started_on"):
            value = getattr(self, name)
            if value is not None and value > today:
                raise ValueError(f"{name} is in the future")
        if self.birth_date > _years_before(today, MIN_AGE):
            raise ValueError(f"birth_date makes the person younger than {MIN_AGE}")
        if self.birth_date < _years_before(today, 100):
            raise ValueError("birth_date is more than 100 years ago")
        if self.party_joined_on < _years_before(self.birth_date, -MIN_AGE):
            raise ValueError(f"party_joined_on is before the person was {MIN_AGE}")
        if self.work_started_on and self.work_started_on.year < self.birth_date.year + 14:
            raise ValueError("work_started_on is before the person was 14")
        if self.national_id:
            _check_national_id(self.national_id, self.birth_date)
        return self


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _check_national_id(value: str, birth_date: date) -> None:
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise ValueError("national_id has a wrong check digit")
    if value[6:14] != birth_date.strftime("%Y%m%d"):
        raise ValueError("national_id does not match birth_date")


class NominationCreate(Strict):
    """A recommendation by a body, with the groundwork done on the nominee (摸底)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "kind": "party_organization", "body_name": "机关党委",
        "nominee": {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
                    "education": "bachelor", "party_joined_on": "2012-07-01",
                    "work_started_on": "2010-07-01", "current_post": "办公室副主任",
                    "unit": "机关办公室", "email": "liming@example.cn", "phone": "13800000000"},
        "reasons": "政治素质好，群众基础扎实",
        "groundwork": "走访同事8人，查阅档案，无不良记录"}})

    kind: NominationKind
    body_name: ShortText = Field(default="", description="The nominating body's name (required"
                                 " except for self-applications)")
    nominee: Profile | None = None
    reasons: LongText = ""
    groundwork: LongText = Field(default="", description="摸底: what the body found out about"
                                 " the nominee")
    reserve_entry_id: uuid.UUID | None = Field(
        default=None, description="For kind reserve_pool: the pool entry; the nominee's profile"
        " may then be left out (it is taken from the earlier record)")

    @model_validator(mode="after")
    def _body_named(self):
        if self.kind == NominationKind.self_application:
            raise ValueError("self-applications go to POST /selections/{id}/applications")
        if not self.body_name:
            raise ValueError("body_name is required for a nomination by a body")
        if (self.kind == NominationKind.reserve_pool) != (self.reserve_entry_id is not None):
            raise ValueError("reserve_entry_id goes with kind reserve_pool, and only with it")
        if self.nominee is None and self.reserve_entry_id is None:
            raise ValueError("nominee is required")
        return self


class ApplicationCreate(Strict):
    """A self-application (个人报名) by a user with the candidate role."""

    profile: Profile
    statement: LongText = Field(default="", description="Ideas and plans for the post")


class NominationPublic(BaseModel):
    """One nomination of a candidate."""

    id: uuid.UUID
    candidate_id: uuid.UUID
    kind: str
    body_name: str
    nominated_by: uuid.UUID | None
    reasons: str
    groundwork: str
    reserve_entry_id: uuid.UUID | None = None
    created_at: datetime


class NominationSummary(BaseModel):
    """A nomination as listings show it."""

    kind: str
    body_name: str
    created_at: datetime


class CommunicationChannel(StrEnum):
    in_person = "in_person"
    phone = "phone"
    video = "video"
    written = "written"


class Attitude(StrEnum):
    willing = "willing"
    undecided = "undecided"
    unwilling = "unwilling"


class CommunicationCreate(Strict):
    """A talk with the nominee (沟通): when, how, what was said, their attitude."""

    held_on: date
    channel: CommunicationChannel
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=4000)]
    attitude: Attitude = Attitude.undecided


class CommunicationPublic(BaseModel):
    id: uuid.UUID
    candidate_id: uuid.UUID
    held_on: date
    channel: str
    summary: str
    attitude: str
    recorded_by: uuid.UUID | None
    created_at: datetime


class EligibilityItem(BaseModel):
    requirement: str
    label: str
    required: str
    found: str
    passed: bool


class EligibilityReport(BaseModel):
    """The machine-checkable requirements, computed at the publicity period's end date."""

    computed_on: date
    passed: bool
    items: list[EligibilityItem]


class CandidateSummary(BaseModel):
    """A candidate in a listing: no birth date, phone, email or ID."""

    id: uuid.UUID
    selection_id: uuid.UUID
    full_name: str
    state: str
    version: int
    gender: str | None = None
    education: str | None = None
    unit: str | None = None
    current_post: str | None = None
    eligible: bool | None
    nominations: list[NominationSummary]
    created_at: datetime
    updated_at: datetime


class CandidateDetail(CandidatePublic):
    """A candidate's whole record, for admins, their nominators and themself."""

    user_id: uuid.UUID | None
    profile: dict[str, Any]
    eligible: bool | None
    eligibility: EligibilityReport | None
    nominations: list[NominationPublic]


class NominationResult(BaseModel):
    """What a nomination or application did: the candidate, and whether they were known."""

    nomination: NominationPublic
    candidate: CandidateDetail
    duplicate_of_existing: bool = Field(description="True when the person was already a"
                                        " candidate of this selection; the nomination was added"
                                        " to their record")


# ---------------------------------------------------------------- public announcement
class PublicSelection(BaseModel):
    """What the announcement shows (公示选拔岗位): no candidate or internal data."""

    id: uuid.UUID
    title: str
    organization: str
    posts: int
    duties: list[str]
    experience: str
    requirements: MachineRequirements
    judged_requirements: list[JudgedRequirement]
    publicity_start_on: date
    publicity_end_on: date
    how_to_apply: str


# ---------------------------------------------------------------- calendar and clock
class WorkingPeriod(BaseModel):
    """A span of Chinese working days."""

    start_on: date
    first_counted_day: date
    end_on: date
    working_days: int
    counts_start_day: bool
    warnings: list[str]


class OverrideSet(Strict):
    """Declare a day worked (make-up workday, 调休) or off (holiday)."""

    workday: bool
    note: ShortText = ""


class OverridePublic(BaseModel):
    day: date
    workday: bool
    note: str
    created_at: datetime


class ClockSet(Strict):
    """Set the simulated clock (情景模拟) to a date (09:00 in China) or an exact time."""

    day: date | None = Field(default=None, description="The simulated date (09:00 China time)")
    at: datetime | None = Field(default=None, description="The exact simulated time")

    @model_validator(mode="after")
    def _one(self):
        if (self.day is None) == (self.at is None):
            raise ValueError("give exactly one of `day` or `at`")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("`at` needs a time zone, e.g. 2026-09-30T09:00:00+08:00")
        return self


class ClockAdvance(Strict):
    """Move the simulated clock forward."""

    days: int = Field(default=0, ge=0, le=3660)
    hours: int = Field(default=0, ge=0, le=24 * 366)


class ClockState(BaseModel):
    """The service's clock: real time, and the simulated one when simulation is on."""

    simulated: bool
    now: datetime
    today: date
    real_now: datetime


# ---------------------------------------------------------------- step 3: three reviews (三次审核把关)
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

    satisfactory: bool
    note: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)] = ""


class PrereviewParams(Strict):
    """The pre-review's judgement on each item (all seven are recorded)."""

    assessment: dict[PrereviewItem, Judgement] = Field(
        description="A judgement for every item: " + ", ".join(i.value for i in PrereviewItem))

    @field_validator("assessment")
    @classmethod
    def _all_items(cls, v):
        missing = [i.value for i in PrereviewItem if i not in v]
        if missing:
            raise ValueError(f"judgements missing for: {', '.join(missing)}")
        return v


class PrereviewDecision(Strict):
    """One candidate's pre-review decision in a bulk call."""

    candidate_id: uuid.UUID
    decision: Literal["pass", "fail"]
    reason: Reason | None = None
    assessment: dict[PrereviewItem, Judgement]


class PrereviewBatch(Strict):
    """Pre-review decisions for many candidates; each succeeds or fails on its own."""

    decisions: list[PrereviewDecision] = Field(min_length=1, max_length=500)


class BatchItemResult(BaseModel):
    """The outcome for one candidate of a bulk call."""

    candidate_id: uuid.UUID
    ok: bool
    state: str | None = None
    error: Problem | None = None


class BatchResult(BaseModel):
    results: list[BatchItemResult]
    succeeded: int
    failed: int


class PanelSet(Strict):
    """Appoint the interview panel: users with the judge role."""

    judge_ids: list[uuid.UUID] = Field(min_length=1, max_length=51)


class InterviewPlanSet(Strict):
    """The interview's preparation: date, place, briefing of judges, materials passed."""

    held_on: date
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


class PanelPublic(BaseModel):
    selection_id: uuid.UUID
    judge_ids: list[uuid.UUID]
    interview: InterviewPlanSet | None
    criteria: list[InterviewCriterion]


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

    candidate_id: uuid.UUID
    capacity: Literal["judge", "inspector"] | None = Field(
        default=None, description="As judge or inspector; default: the role the user holds")
    conflict: ConflictKind
    note: LongText = ""

    @model_validator(mode="after")
    def _other_explained(self):
        if self.conflict == ConflictKind.other and not self.note:
            raise ValueError("a conflict of kind 'other' needs a note")
        return self


class DeclarationPublic(BaseModel):
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

    scores: dict[str, float] = Field(description="criterion key → score within 0..max_score")
    comment: LongText = ""
    supersede_reason: Reason | None = None


class ScoreSheetPublic(BaseModel):
    id: uuid.UUID
    candidate_id: uuid.UUID
    judge_id: uuid.UUID
    version: int
    current: bool
    scores: dict[str, float]
    total: float = Field(description="Weighted total out of 100")
    comment: str
    supersede_reason: str | None
    created_at: datetime


class ScoreSheets(BaseModel):
    """The sheets the caller may see; sealed until the panel's sheets are all in."""

    candidate_id: uuid.UUID
    sealed: bool
    expected: int = Field(description="Judges not recused from this candidate")
    submitted: int
    sheets: list[ScoreSheetPublic]


class Evaluation(BaseModel):
    """The comprehensive evaluation report (综合评议报告) for one candidate."""

    candidate_id: uuid.UUID
    full_name: str
    state: str
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


class RankingEntry(BaseModel):
    candidate_id: uuid.UUID
    full_name: str
    state: str
    score: float | None
    tie_break: float | None
    rank: int | None
    tied: bool
    within_ratio: bool


class Ranking(BaseModel):
    """Candidates by interview score, with the tie rule and the ratio's cut-off."""

    selection_id: uuid.UUID
    tie_rule: str
    cutoff: int = Field(description="posts × candidates_per_post")
    entries: list[RankingEntry]


class InspectionTeamSet(Strict):
    """Appoint an inspection team (考察组) for a candidate: users with the inspector role."""

    inspector_ids: list[uuid.UUID] = Field(min_length=1, max_length=20)


class InspectionKind(StrEnum):
    conversation = "conversation"  # 个别谈话
    opinion_forms = "opinion_forms"  # 征求意见表
    visit = "visit"  # 实地走访
    files = "files"  # 查阅档案


class InspectionRecordCreate(Strict):
    """Work the team did."""

    kind: InspectionKind
    held_on: date
    count: int = Field(default=1, ge=1, le=10000, description="People talked to, forms, …")
    summary: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=4000)]


class InspectionRecordPublic(BaseModel):
    id: uuid.UUID
    candidate_id: uuid.UUID
    inspector_id: uuid.UUID
    kind: str
    held_on: date
    count: int
    summary: str
    created_at: datetime


class Appraisal(Strict):
    """The democratic appraisal (民主测评)."""

    participants: int = Field(ge=1, le=100000)
    excellent: int = Field(ge=0, description="优秀")
    competent: int = Field(ge=0, description="称职")
    basically_competent: int = Field(ge=0, description="基本称职")
    incompetent: int = Field(ge=0, description="不称职")

    @model_validator(mode="after")
    def _adds_up(self):
        total = self.excellent + self.competent + self.basically_competent + self.incompetent
        if total > self.participants:
            raise ValueError(f"{total} votes from {self.participants} participants")
        return self


class Findings(Strict):
    """Findings under 德、能、勤、绩、廉."""

    de: LongText = Field(description="德")
    neng: LongText = Field(description="能")
    qin: LongText = Field(description="勤")
    ji: LongText = Field(description="绩")
    lian: LongText = Field(description="廉")


class InspectionConclusionParams(Strict):
    """The team's report: appraisal, findings and a summary."""

    appraisal: Appraisal
    findings: Findings
    summary: LongText = ""


class InspectionPublic(BaseModel):
    candidate_id: uuid.UUID
    team: list[uuid.UUID]
    recused: list[uuid.UUID]
    records: list[InspectionRecordPublic]
    report: dict[str, Any] | None


class Outcome(StrEnum):
    appointed = "appointed"  # 上岗使用
    reserve = "reserve"  # 储备人选
    not_qualified = "not_qualified"  # 不符合
    postponed = "postponed"  # 缓议


class Recusal(Strict):
    member_id: uuid.UUID
    candidate_id: uuid.UUID
    reason: Reason = ""


class CommitteeDecision(Strict):
    """The committee's vote and outcome for one candidate."""

    candidate_id: uuid.UUID
    votes_for: int = Field(ge=0)
    votes_against: int = Field(ge=0)
    abstentions: int = Field(ge=0)
    outcome: Outcome
    reason: Reason = ""


class CommitteeMeetingCreate(Strict):
    """A committee meeting (党委会审核): who should attend, who came, who recused, the votes."""

    held_on: date
    members_due: list[uuid.UUID] = Field(min_length=1, max_length=100,
                                         description="Committee members who should attend")
    present: list[uuid.UUID] = Field(max_length=100)
    recusals: list[Recusal] = Field(default_factory=list, max_length=500)
    decisions: list[CommitteeDecision] = Field(min_length=1, max_length=200)
    minutes: Annotated[str, StringConstraints(strip_whitespace=True, max_length=8000)] = ""


class CommitteeMeetingPublic(BaseModel):
    id: uuid.UUID
    selection_id: uuid.UUID
    held_on: date
    members_due: list[uuid.UUID]
    present: list[uuid.UUID]
    recusals: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    minutes: str
    recorded_by: uuid.UUID | None
    created_at: datetime


# ---------------------------------------------------------------- step 4: follow-up (后期四环节)
class NotificationPublic(BaseModel):
    """An outcome email and where it stands."""

    id: uuid.UUID
    candidate_id: uuid.UUID
    outcome: str
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


class NotificationPreview(BaseModel):
    outcome: str
    language: str
    to_address: str | None
    subject: str
    body: str


class ResendRequest(Strict):
    language: Literal["zh", "en"] | None = None


class TemplatePublic(BaseModel):
    outcome: str
    language: str
    subject: str
    body: str
    customised: bool


class TemplateSet(Strict):
    """An outcome email's text; placeholders: {full_name}, {selection_title}, {organization},
    {outcome_label}, {gate}, {reason}."""

    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=300)]
    body: Annotated[str, StringConstraints(min_length=1, max_length=10000)]


class PublicAppointment(BaseModel):
    """The pre-appointment publicity (任职前公示): name, current post, proposed post only."""

    candidate_id: uuid.UUID
    full_name: str
    current_post: str
    unit: str
    proposed_post: str
    publicity_start_on: date
    publicity_end_on: date
    how_to_object: str


class ObjectionCreate(Strict):
    """An objection (举报/异议) to a proposed appointment; the contact is optional."""

    content: Annotated[str, StringConstraints(strip_whitespace=True, min_length=5,
                                              max_length=4000)]
    contact: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = None


class ObjectionReceipt(BaseModel):
    id: uuid.UUID
    received_at: datetime


class ObjectionPublic(BaseModel):
    id: uuid.UUID
    candidate_id: uuid.UUID
    content: str
    contact: str | None
    status: str
    handling: str | None
    handled_by: uuid.UUID | None
    handled_at: datetime | None
    created_at: datetime


class ObjectionHandle(Strict):
    """How the objection was handled: upheld (ends the appointment) or dismissed."""

    decision: Literal["upheld", "dismissed"]
    handling: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                               max_length=4000)]


class TrialParams(Strict):
    """Trial placement (使用实习安排) at a front-line post."""

    unit: Name
    post: Name
    start_on: date | None = Field(default=None, description="Default: today")
    months: int | None = Field(default=None, ge=1, le=60,
                               description="Default: the selection's trial_months")


class MentorshipSet(Strict):
    """Assign a mentor (优带新、老带新) and the plan; meetings at the plan's interval."""

    mentor_id: uuid.UUID
    plan: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                           max_length=8000)]
    meeting_interval_days: int = Field(default=90, ge=7, le=366)


class MentorshipPublic(BaseModel):
    candidate_id: uuid.UUID
    mentor_id: uuid.UUID
    plan: str
    meeting_interval_days: int
    assigned_on: date


class FollowUpKind(StrEnum):
    mentor_meeting = "mentor_meeting"  # 导师谈心/带教
    party_lesson = "party_lesson"  # 党课学习
    branch_life = "branch_life"  # 支部生活锻炼


class FollowUpRecordCreate(Strict):
    """A mentor's meeting (by the mentor), or a party lesson / branch-life exercise."""

    kind: FollowUpKind
    held_on: date
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1,
                                              max_length=300)]
    hours: float = Field(default=0, ge=0, le=24)
    attended: bool = True
    assessment: LongText = ""


class FollowUpRecordPublic(BaseModel):
    id: uuid.UUID
    candidate_id: uuid.UUID
    kind: str
    held_on: date
    subject: str
    hours: float
    attended: bool
    assessment: str
    recorded_by: uuid.UUID | None
    created_at: datetime


class FollowUpPublic(BaseModel):
    """The appointee's follow-up: publicity, trial, mentor, records, and what is missing."""

    candidate_id: uuid.UUID
    state: str
    appointment: dict[str, Any] | None
    mentorship: MentorshipPublic | None
    records: list[FollowUpRecordPublic]
    missing_for_confirmation: list[str]


class ReserveEntryPublic(BaseModel):
    """A reserve (储备人选) in the pool."""

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
