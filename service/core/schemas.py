"""Request and response models (SQLModel ladder: Base → Create/Update → table → Public)."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from . import examples as ex
from . import i18n
from .errors import Problem
from .workflow.roles import ROLES

# Request bodies are judged as the OpenAPI document states them: the limits apply to the text
# as sent, a required text must hold something other than whitespace (pattern `\\S`), and only
# then is it stored without its surrounding whitespace. Numbers, booleans and dates are taken
# only in their JSON types: no 0 for false, no "5" for 5, no integer timestamps for dates.


def _strip(value: str) -> str:
    return value.strip()


def Stripped(max_length: int, *, min_length: int = 0, pattern: str | None = None) -> Any:  # noqa: N802
    """A text whose limits apply as sent and that is stored stripped; with `min_length` ≥ 1 it
    must hold a non-whitespace character."""
    if pattern is None and min_length:
        pattern = r"\S"
    return Annotated[str, StringConstraints(min_length=min_length or None,
                                            max_length=max_length, pattern=pattern),
                     AfterValidator(_strip)]


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_ISO_DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso(pattern: re.Pattern[str], what: str):
    def check(value: Any) -> Any:
        if isinstance(value, (date, datetime)):
            return value
        if not isinstance(value, str) or not pattern.match(value):
            raise ValueError(f"must be an ISO 8601 {what}, e.g. "
                             + ("2026-09-30" if what == "date" else "2026-09-30T09:00:00+08:00"))
        return value
    return check


def _json_integer(value: Any) -> Any:
    """JSON's integers: 5 and 5.0 (JSON Schema counts 5.0 as an integer), never "5" or true."""
    if isinstance(value, (bool, str)):
        raise ValueError("must be a JSON integer")
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_number(value: Any) -> Any:
    if isinstance(value, (bool, str)):
        raise ValueError("must be a JSON number")
    return value


# Dates (also in query strings and paths) only as ISO 8601 text, never a Unix timestamp.
IsoDate = Annotated[date, BeforeValidator(_iso(_ISO_DATE, "date"))]
IsoDateTime = Annotated[datetime, BeforeValidator(_iso(_ISO_DATETIME, "date and time"))]
JsonInt = Annotated[int, BeforeValidator(_json_integer)]
JsonFloat = Annotated[float, BeforeValidator(_json_number)]

Text = Stripped(2000, min_length=1)
Name = Stripped(200, min_length=1)
Reason = Stripped(2000)


class Strict(BaseModel):
    """Request models refuse unknown fields, so a typo is an error and not a silent no-op."""

    model_config = ConfigDict(extra="forbid")


LABEL_DOC = "in the language asked for by Accept-Language (zh-CN by default, or en)"


class _StateLabelled(BaseModel):
    """A response with a `state` of one machine, labelled in the request's language."""

    _machine: ClassVar[str]
    state_label: str | None = Field(default=None, description="The state's label, " + LABEL_DOC)

    @model_validator(mode="after")
    def _label_state(self):
        self.state_label = i18n.state_label(self._machine, getattr(self, "state", None))
        return self


class _SelectionStateLabelled(_StateLabelled):
    _machine: ClassVar[str] = "selection"


class _CandidateStateLabelled(_StateLabelled):
    _machine: ClassVar[str] = "candidate"


class _OutcomeLabelled(BaseModel):
    """A response with an `outcome`, labelled in the request's language."""

    outcome_label: str | None = Field(default=None,
                                      description="The outcome's label, " + LABEL_DOC)

    @model_validator(mode="after")
    def _label_outcome(self):
        self.outcome_label = i18n.outcome_label(getattr(self, "outcome", None))
        return self


# ---------------------------------------------------------------- users and auth
Role = StrEnum("Role", {r: r for r in ROLES})  # type: ignore[misc]
Role.__doc__ = ("A role a user holds: admin (组织部门), nominator (推荐单位), judge (评委), inspector"
                " (考察组成员), committee (党委委员), mentor (导师), candidate (参选人)")
ex.enum_example("judge")(Role)
Username = Annotated[
    str, StringConstraints(min_length=2, max_length=64,
                           pattern=r"^[A-Za-z0-9_.@-]+$")
]
Password = Annotated[str, StringConstraints(min_length=8, max_length=256)]


class LoginForm(BaseModel):
    """The OAuth2 password flow's form (application/x-www-form-urlencoded): the fields of
    FastAPI's OAuth2PasswordRequestForm, as a named, documented model."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "grant_type": "password", "username": "admin", "password": "admin-passphrase-1"}})

    grant_type: Annotated[str | None, Field(pattern="^password$")] = Field(
        default=None, description="`password` when sent (OAuth2); may be left out")
    username: str = Field(description="The user's login name")
    password: str = Field(description="The user's password")
    scope: str = Field(default="", description="Not used: roles decide what a user may do")
    client_id: str | None = Field(default=None, description="Not used")
    client_secret: str | None = Field(default=None, description="Not used")


class Token(BaseModel):
    """An OAuth2 bearer token."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "access_token": "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxYTJiM2M0ZC01ZTZmLTRhOGItOWMwZC0xZTJmM2E0YjVjNmQiLCJ0diI6MSwicm9sZXMiOlsiYWRtaW4iXSwiZXhwIjoxNzkwNzYyNDAwfQ.signature",
        "token_type": "bearer", "expires_in": 3600}})

    access_token: str
    token_type: str = "bearer"
    expires_in: int = Field(description="Seconds until the token expires")


class UserCreate(Strict):
    """A new user; with no password, one is generated and returned once."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "username": "wangfang", "full_name": "王芳", "email": "wangfang@example.cn",
        "roles": ["candidate"], "password": "a-long-passphrase-2026"}})

    username: Username
    full_name: Stripped(100) = ""
    email: Annotated[str, StringConstraints(max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    roles: list[Role] = Field(min_length=1, max_length=len(ROLES))
    password: Password | None = None


class UserUpdate(Strict):
    """Changes to a user; a change of roles or of is_active ends their current tokens."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "full_name": "王芳", "roles": ["candidate", "nominator"], "is_active": True}})

    full_name: Stripped(100) = None  # type: ignore[assignment]
    email: Annotated[str, StringConstraints(max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    roles: list[Role] | None = Field(default=None, min_length=1, max_length=len(ROLES))
    is_active: StrictBool | None = None
    password: Password | None = None


class UserPublic(BaseModel):
    """A user as the API shows it (never the password hash)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.ADMIN, "username": "admin", "full_name": "组织部管理员",
        "email": "zzb@example.cn", "roles": ["admin"], "is_active": True, "version": 1,
        "created_at": "2026-09-01T01:00:00Z", "updated_at": "2026-09-01T01:00:00Z"}})

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

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.JUDGE, "username": "judge01", "full_name": "陈刚",
        "email": "chengang@example.cn", "roles": ["judge"], "is_active": True, "version": 1,
        "created_at": "2026-10-15T01:00:00Z", "updated_at": "2026-10-15T01:00:00Z",
        "generated_password": "mX7-qL2p-Vr9s-K4tw"}})

    generated_password: str | None = None


# ---------------------------------------------------------------- job description (职务说明书)
@ex.enum_example("bachelor")
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

    model_config = ConfigDict(json_schema_extra={"example": {
        "min_education": "bachelor", "min_party_years": 3, "max_age": 45, "min_work_years": 5}})

    min_education: EducationLevel | None = Field(
        default=EducationLevel.junior_college, description="Lowest education level accepted"
    )
    min_party_years: JsonFloat = Field(
        default=1, ge=0, le=60,
        description="Years of party membership; the 2018 branch work regulation: 一般应当具有1年以上党龄",
    )
    max_age: JsonInt | None = Field(default=None, ge=18, le=80, description="Highest age accepted")
    min_work_years: JsonFloat | None = Field(default=None, ge=0, le=60)


@ex.enum_example("political_quality")
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

    model_config = ConfigDict(json_schema_extra={"example": {
        "key": "political_quality", "description": "良好的政治素质"}})

    key: JudgedItem
    description: Text


def _default_judged() -> list[JudgedRequirement]:
    return [JudgedRequirement(key=k, description=v) for k, v in JUDGED_DEFAULTS.items()]


class JobDescription(Strict):
    """The post's duties and what a candidate must bring (一份"职务说明书")."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "duties": ["主持支部全面工作", "落实党建工作责任制", "组织党员学习教育"],
        "experience": "3年以上基层党务工作经历",
        "requirements": {"min_education": "bachelor", "min_party_years": 3, "max_age": 45},
        "judged_requirements": [
            {"key": "political_quality", "description": "良好的政治素质"},
            {"key": "mass_base", "description": "广泛的群众基础"}]}})

    duties: list[Text] = Field(min_length=1, max_length=50)
    experience: Stripped(2000) = ""
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

    model_config = ConfigDict(json_schema_extra={"example": {
        "key": "role_cognition", "label": "岗位认知", "weight": 30, "max_score": 100}})

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
    label: Name
    weight: JsonFloat = Field(gt=0, le=100, description="Weight in percent; weights add up to 100")
    max_score: JsonFloat = Field(default=100, gt=0, le=1000)


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

    model_config = ConfigDict(json_schema_extra={"example": ex.SETTINGS})

    publicity_working_days: JsonInt = Field(default=5, ge=1, le=60)
    publicity_counts_start_day: StrictBool = Field(
        default=False,
        description="Whether the start day counts as day 1 (default: counting starts the next"
        " working day)",
    )
    interview_criteria: list[InterviewCriterion] = Field(
        default_factory=_default_criteria, min_length=1, max_length=20
    )
    min_judges: JsonInt = Field(default=7, ge=1, le=51, description="At least this many judges")
    judges_odd: StrictBool = True
    trim_extremes_min_sheets: JsonInt = Field(
        default=5, ge=3, le=51, description="Drop the highest and lowest totals from this many"
    )
    candidates_per_post: JsonInt = Field(default=3, ge=1, le=20, description="1:3 is common")
    spread_flag_points: JsonFloat = Field(
        default=20, gt=0, le=100, description="Flag a candidate when the judges' totals differ"
        " by more than this many points")
    tie_break_criterion: str | None = Field(
        default="role_cognition", description="Equal scores are ordered by this criterion's"
        " mean; what stays tied is decided by the admin with a recorded reason")
    min_inspectors: JsonInt = Field(default=2, ge=2, le=20)
    appointment_publicity_working_days: JsonInt = Field(default=5, ge=0, le=60)
    trial_months: JsonInt = Field(default=12, ge=1, le=60)
    min_party_lesson_hours: JsonFloat = Field(default=0, ge=0, le=1000,
                                          description="党课学习 hours required in the trial")
    min_branch_life_hours: JsonFloat = Field(default=0, ge=0, le=1000,
                                         description="支部生活锻炼 hours required in the trial")
    reserve_valid_years: JsonInt = Field(default=2, ge=1, le=10)

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
    posts: JsonInt = Field(default=1, ge=1, le=100, description="Number of posts to fill")


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

    model_config = ConfigDict(json_schema_extra={"example": {
        "title": "机关第一党支部书记公开选拔", "posts": 1,
        "job_description": {"requirements": {"max_age": 40}},
        "settings": {"publicity_working_days": 7}}})

    title: Name | None = None
    organization: Name | None = None
    posts: JsonInt | None = Field(default=None, ge=1, le=100)
    job_description: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the job description (RFC 7396): keys"
        " left out keep their value; the result must be a valid JobDescription",
        json_schema_extra={"example": {"requirements": {"max_age": 40}}})
    settings: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the settings; the result must be valid"
        " SelectionSettings", json_schema_extra={"example": {"publicity_working_days": 7}})


class SelectionPublic(_SelectionStateLabelled):
    """A selection as staff see it."""

    model_config = ConfigDict(json_schema_extra={"example": ex.SELECTION})

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
class CandidatePublic(_CandidateStateLabelled):
    """A candidate as the API shows it to those allowed to see the record."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.CANDIDATE, "selection_id": ex.SELECTION_ID, "full_name": "李明",
        "state": "applicant", "state_label": "参选人", "version": 2,
        "created_at": "2026-09-30T02:15:00Z", "updated_at": "2026-10-08T03:00:00Z"}})

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

    model_config = ConfigDict(json_schema_extra={"example": {
        "action": "close_nominations", "label": "截止推荐报名", "label_zh": "截止推荐报名",
        "label_en": "Close nominations", "from_states": ["publicizing"],
        "to_state": "reviewing", "roles": ["admin"], "allowed": False,
        "reason_required": False, "refusal_code": "publicity_not_ended",
        "refusal": "The publicity period runs until 2026-10-13 inclusive; nominations can be"
                   " closed from the next day on (today is 2026-09-30).",
        "params_schema": {"title": "NoParams", "type": "object", "properties": {},
                          "additionalProperties": False}}})

    action: str
    label: str = Field(description="The action's label, " + LABEL_DOC)
    label_zh: str
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

    model_config = ConfigDict(json_schema_extra={"example": {
        "subject_id": ex.SELECTION_ID, "state": "drafting", "state_label": "起草职务说明书",
        "version": 1, "actions": [{
            "action": "publish", "label": "发布公示", "label_zh": "发布公示",
            "label_en": "Publish the post", "from_states": ["drafting"],
            "to_state": "publicizing", "roles": ["admin"], "allowed": True,
            "reason_required": False,
            "params_schema": {"title": "PublishParams", "type": "object", "properties": {
                "start_on": {"type": "string", "format": "date"},
                "working_days": {"type": "integer", "minimum": 1, "maximum": 60}}}}]}})

    subject_id: uuid.UUID
    state: str
    state_label: str = Field(description="The state's label, " + LABEL_DOC)
    version: int
    actions: list[ActionOption]


class EventPublic(BaseModel):
    """One entry of the full-process record."""

    model_config = ConfigDict(json_schema_extra={"example": ex.EVENT})

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
    action_label: str | None = Field(
        default=None, description="The action's label, " + LABEL_DOC + "; the identifier for"
        " events that are not workflow actions")
    to_state_label: str | None = Field(default=None,
                                       description="The new state's label, " + LABEL_DOC)

    @model_validator(mode="after")
    def _label(self):
        self.action_label = i18n.action_label(self.subject_type, self.action)
        self.to_state_label = i18n.state_label(self.subject_type, self.to_state)
        return self


# ---------------------------------------------------------------- workflow description
class StateInfo(BaseModel):
    """One state of a machine, with its labels."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "publicizing", "label": "公示与推荐", "label_zh": "公示与推荐",
        "label_en": "Publicity and nomination", "final": False}})

    name: str
    label: str = Field(description="The state's label, " + LABEL_DOC)
    label_zh: str
    label_en: str
    final: bool


class TransitionInfo(BaseModel):
    """One action of a machine (a row of the transition table): from where to where, who may run
    it, its guards and the JSON Schema of its parameters."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "action": "close_nominations", "label": "截止推荐报名", "label_zh": "截止推荐报名",
        "label_en": "Close nominations", "from_states": ["publicizing"],
        "to_state": "reviewing", "roles": ["admin"],
        "guards": [{"name": "publicity_ended",
                    "description": "The publicity period's end date has passed."}],
        "reason_required": False,
        "params_schema": {"title": "NoParams", "type": "object", "properties": {}}}})

    action: str
    label: str = Field(description="The action's label, " + LABEL_DOC)
    label_zh: str
    label_en: str
    from_states: list[str]
    to_state: str
    roles: list[str]
    guards: list[dict[str, str]]
    reason_required: bool
    params_schema: dict[str, Any]


class MachineInfo(BaseModel):
    """One state machine (selection or candidate): its states, its actions and a Mermaid diagram."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "selection", "initial": "drafting",
        "states": [{"name": "drafting", "label": "起草职务说明书", "label_zh": "起草职务说明书",
                    "label_en": "Drafting the job description", "final": False}],
        "actions": [{"action": "publish", "label": "发布公示", "label_zh": "发布公示",
                     "label_en": "Publish the post", "from_states": ["drafting"],
                     "to_state": "publicizing", "roles": ["admin"], "guards": [],
                     "reason_required": False, "params_schema": {"type": "object"}}],
        "mermaid": "stateDiagram-v2\n    [*] --> drafting\n    drafting --> publicizing : publish"}})

    name: str
    initial: str
    states: list[StateInfo]
    actions: list[TransitionInfo]
    mermaid: str


class WorkflowInfo(BaseModel):
    """Both machines, generated from the transition table."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "machines": [{
            "name": "candidate", "initial": "nominated",
            "states": [{"name": "nominated", "label": "已被推荐（待本人同意）",
                        "label_zh": "已被推荐（待本人同意）",
                        "label_en": "Nominated (awaiting consent)", "final": False}],
            "actions": [{"action": "consent", "label": "本人同意参选",
                         "label_zh": "本人同意参选", "label_en": "Consent to stand",
                         "from_states": ["nominated"], "to_state": "applicant",
                         "roles": ["candidate", "admin"], "guards": [],
                         "reason_required": False, "params_schema": {"type": "object"}}],
            "mermaid": "stateDiagram-v2\n    [*] --> nominated\n    nominated --> applicant : consent"}],
        "roles": [{"role": "admin", "label": "组织部门/党委工作人员",
                   "label_zh": "组织部门/党委工作人员",
                   "label_en": "Organization department staff"}]}})

    machines: list[MachineInfo]
    roles: list[dict[str, str]]


# ---------------------------------------------------------------- step 2: nomination (推荐、报名)
@ex.enum_example("party_organization")
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


NominatingBody = StrEnum("NominatingBody", {k.name: k.value for k in NominationKind  # type: ignore[misc]
                                             if k != NominationKind.self_application})
NominatingBody.__doc__ = ("The kinds of body that nominate (everything but a self-application,"
                          " which has its own route)")
ex.enum_example("party_organization")(NominatingBody)


@ex.enum_example("female")
class Gender(StrEnum):
    """Gender, as recorded in the profile."""

    male = "male"
    female = "female"


ShortText = Stripped(200)
LongText = Stripped(4000)
Email = Annotated[str, StringConstraints(max_length=254,
                                         pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 -]{5,19}$")]
NationalId = Annotated[str, StringConstraints(pattern=r"^[0-9]{17}[0-9Xx]$"),
                      AfterValidator(str.upper)]
MIN_AGE = 18


def _years_before(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


class Profile(Strict):
    """The nominee's or applicant's profile (个人信息)."""

    model_config = ConfigDict(json_schema_extra={"example": ex.PROFILE})

    full_name: Stripped(100, min_length=1)
    gender: Gender
    birth_date: IsoDate
    education: EducationLevel
    party_joined_on: IsoDate = Field(description="Date of joining the party (入党时间)")
    work_started_on: IsoDate | None = Field(default=None, description="参加工作时间")
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

    # The rule between `kind`, `nominee` and `reserve_entry_id`, as one `oneOf` inside an
    # `allOf`: the same constraint as a bare `oneOf` beside `properties`, but client generators
    # (openapi-python-client) read a bare `oneOf` as a union and drop the properties.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [{"oneOf": [
        {"properties": {"kind": {"const": "reserve_pool"}}, "required": ["reserve_entry_id"]},
        {"properties": {"kind": {"enum": [k for k in NominatingBody if k != "reserve_pool"]}},
         "required": ["nominee"], "not": {"required": ["reserve_entry_id"]}},
    ]}], "example": {
        "kind": "party_organization", "body_name": "机关党委",
        "nominee": {"full_name": "李明", "gender": "male", "birth_date": "1988-05-12",
                    "education": "bachelor", "party_joined_on": "2012-07-01",
                    "work_started_on": "2010-07-01", "current_post": "办公室副主任",
                    "unit": "机关办公室", "email": "liming@example.cn", "phone": "13800000000"},
        "reasons": "政治素质好，群众基础扎实",
        "groundwork": "走访同事8人，查阅档案，无不良记录"}})

    kind: NominatingBody = Field(description="The nominating body's kind; a person applying"
                                 " for themself uses POST /selections/{id}/applications")
    body_name: Stripped(200, min_length=1) = Field(description="The nominating body's name")
    nominee: Profile = Field(default=None, description="Who is nominated; required except for"
                             " kind reserve_pool, where it comes from the pool entry")
    reasons: LongText = ""
    groundwork: LongText = Field(default="", description="摸底: what the body found out about"
                                 " the nominee")
    reserve_entry_id: uuid.UUID = Field(
        default=None, description="For kind reserve_pool, and only then: the pool entry; the"
        " nominee's profile may then be left out (it is taken from the earlier record)")

    @model_validator(mode="after")
    def _body_named(self):
        if (self.kind == NominationKind.reserve_pool) != (self.reserve_entry_id is not None):
            raise ValueError("reserve_entry_id goes with kind reserve_pool, and only with it")
        if self.nominee is None and self.reserve_entry_id is None:
            raise ValueError("nominee is required")
        return self


class ApplicationCreate(Strict):
    """A self-application (个人报名) by a user with the candidate role."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "profile": {"full_name": "王芳", "gender": "female", "birth_date": "1990-03-08",
                    "education": "master", "party_joined_on": "2013-06-20",
                    "work_started_on": "2015-07-01", "current_post": "财务科科长",
                    "unit": "机关财务科", "email": "wangfang@example.cn"},
        "statement": "围绕“党建+业务”融合，建立支部党员积分制管理，带动支部整体提升"}})

    profile: Profile
    statement: LongText = Field(default="", description="Ideas and plans for the post")


class NominationPublic(BaseModel):
    """One nomination of a candidate."""

    model_config = ConfigDict(json_schema_extra={"example": ex.NOMINATION})

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

    model_config = ConfigDict(json_schema_extra={"example": {
        "kind": "party_organization", "body_name": "机关党委",
        "created_at": "2026-09-30T02:15:00Z"}})

    kind: str
    body_name: str
    created_at: datetime


@ex.enum_example("in_person")
class CommunicationChannel(StrEnum):
    """How the talk with the nominee was held."""

    in_person = "in_person"
    phone = "phone"
    video = "video"
    written = "written"


@ex.enum_example("willing")
class Attitude(StrEnum):
    """The nominee's attitude to standing, as the talk found it."""

    willing = "willing"
    undecided = "undecided"
    unwilling = "unwilling"


class CommunicationCreate(Strict):
    """A talk with the nominee (沟通): when, how, what was said, their attitude."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "held_on": "2026-10-08", "channel": "in_person",
        "summary": "介绍岗位职责和选拔程序，本人表示愿意参选", "attitude": "willing"}})

    held_on: IsoDate
    channel: CommunicationChannel
    summary: Stripped(4000, min_length=1)
    attitude: Attitude = Attitude.undecided


class CommunicationPublic(BaseModel):
    """A recorded talk with the nominee (沟通)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "candidate_id": ex.CANDIDATE,
        "held_on": "2026-10-08", "channel": "in_person",
        "summary": "介绍岗位职责和选拔程序，本人表示愿意参选", "attitude": "willing",
        "recorded_by": ex.ADMIN, "created_at": "2026-10-08T06:30:00Z"}})

    id: uuid.UUID
    candidate_id: uuid.UUID
    held_on: date
    channel: str
    summary: str
    attitude: str
    recorded_by: uuid.UUID | None
    created_at: datetime


class EligibilityItem(BaseModel):
    """One machine-checked requirement: what the job description asks and what the profile shows."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "requirement": "min_party_years", "label": "党龄", "required": "≥ 3 年",
        "found": "14.28 年", "passed": True}})

    requirement: str
    label: str
    required: str
    found: str
    passed: bool


class EligibilityReport(BaseModel):
    """The machine-checkable requirements, computed at the publicity period's end date."""

    model_config = ConfigDict(json_schema_extra={"example": ex.ELIGIBILITY})

    computed_on: date
    passed: bool
    items: list[EligibilityItem]


class CandidateSummary(_CandidateStateLabelled):
    """A candidate in a listing: no birth date, phone, email or ID."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.CANDIDATE, "selection_id": ex.SELECTION_ID, "full_name": "李明",
        "state": "nominated", "state_label": "已被推荐（待本人同意）", "version": 1,
        "gender": "male", "education": "bachelor", "unit": "机关办公室",
        "current_post": "办公室副主任", "eligible": True,
        "nominations": [{"kind": "party_organization", "body_name": "机关党委",
                         "created_at": "2026-09-30T02:15:00Z"}],
        "created_at": "2026-09-30T02:15:00Z", "updated_at": "2026-09-30T02:15:00Z"}})

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

    model_config = ConfigDict(json_schema_extra={"example": ex.CANDIDATE_DETAIL})

    user_id: uuid.UUID | None
    profile: dict[str, Any]
    eligible: bool | None
    eligibility: EligibilityReport | None
    nominations: list[NominationPublic]


class NominationResult(BaseModel):
    """What a nomination or application did: the candidate, and whether they were known."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "nomination": ex.NOMINATION, "candidate": ex.CANDIDATE_DETAIL,
        "duplicate_of_existing": False}})

    nomination: NominationPublic
    candidate: CandidateDetail
    duplicate_of_existing: bool = Field(description="True when the person was already a"
                                        " candidate of this selection; the nomination was added"
                                        " to their record")


# ---------------------------------------------------------------- public announcement
class PublicSelection(BaseModel):
    """What the announcement shows (公示选拔岗位): no candidate or internal data."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.SELECTION_ID, "title": "第一党支部书记公开选拔",
        "organization": "机关第一党支部", "posts": 1,
        "duties": ["主持支部全面工作", "落实党建工作责任制"], "experience": "",
        "requirements": {"min_education": "bachelor", "min_party_years": 3, "max_age": 45},
        "judged_requirements": [{"key": "political_quality", "description": "良好的政治素质"}],
        "publicity_start_on": "2026-09-30", "publicity_end_on": "2026-10-13",
        "how_to_apply": "推荐：党、政、工、团组织或党员联名，在公示期内提交推荐（附摸底情况）；"
                        "报名：本人以参选人账号在公示期内报名。公示期：2026-09-30 至 2026-10-13（含）。"}})

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

    model_config = ConfigDict(json_schema_extra={"example": {
        "start_on": "2026-09-30", "first_counted_day": "2026-10-08", "end_on": "2026-10-13",
        "working_days": 5, "counts_start_day": False, "warnings": []}})

    start_on: date
    first_counted_day: date
    end_on: date
    working_days: int
    counts_start_day: bool
    warnings: list[str]


class OverrideSet(Strict):
    """Declare a day worked (make-up workday, 调休) or off (holiday)."""

    model_config = ConfigDict(json_schema_extra={"example": {"workday": False, "note": "元旦"}})

    workday: StrictBool
    note: ShortText = ""


class OverridePublic(BaseModel):
    """A day an administrator declared worked or off."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "day": "2027-01-01", "workday": False, "note": "元旦",
        "created_at": "2026-12-01T01:00:00Z"}})

    day: date
    workday: bool
    note: str
    created_at: datetime


class ClockSet(Strict):
    """Set the simulated clock (情景模拟) to a date (09:00 in China) or an exact time."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "minProperties": 1, "maxProperties": 1, "example": {"day": "2026-09-30"}})

    day: IsoDate = Field(default=None, description="The simulated date (09:00 China time)")
    at: IsoDateTime = Field(default=None, description="The exact simulated time, with its"
                            " offset (RFC 3339), e.g. 2026-09-30T09:00:00+08:00")

    @model_validator(mode="after")
    def _one(self):
        if (self.day is None) == (self.at is None):
            raise ValueError("give exactly one of `day` or `at`")
        if self.at is not None and self.at.tzinfo is None:
            raise ValueError("`at` needs a time zone, e.g. 2026-09-30T09:00:00+08:00")
        return self


class ClockAdvance(Strict):
    """Move the simulated clock forward."""

    model_config = ConfigDict(json_schema_extra={"example": {"days": 14, "hours": 0}})

    days: JsonInt = Field(default=0, ge=0, le=3660)
    hours: JsonInt = Field(default=0, ge=0, le=24 * 366)


class ClockState(BaseModel):
    """The service's clock: real time, and the simulated one when simulation is on."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "simulated": True, "now": "2026-09-30T01:00:00Z", "today": "2026-09-30",
        "real_now": "2026-11-21T08:57:13Z"}})

    simulated: bool
    now: datetime
    today: date
    real_now: datetime


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

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "decision": "pass", "assessment": ex.ASSESSMENT}})

    candidate_id: uuid.UUID
    decision: Literal["pass", "fail"]
    reason: Reason | None = None
    assessment: dict[PrereviewItem, Judgement]


class PrereviewBatch(Strict):
    """Pre-review decisions for many candidates; each succeeds or fails on its own."""

    model_config = ConfigDict(json_schema_extra={"example": {"decisions": [
        {"candidate_id": ex.CANDIDATE, "decision": "pass", "assessment": ex.ASSESSMENT},
        {"candidate_id": ex.CANDIDATE_2, "decision": "fail", "reason": "党龄不满3年",
         "assessment": ex.ASSESSMENT}]}})

    decisions: list[PrereviewDecision] = Field(min_length=1, max_length=500)


class BatchItemResult(_CandidateStateLabelled):
    """The outcome for one candidate of a bulk call."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "ok": True, "state": "qualified",
        "state_label": "资格预审通过"}})

    candidate_id: uuid.UUID
    ok: bool
    state: str | None = None
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
            raise ValueError("a conflict of kind 'other' needs a note")
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
    created_at: datetime


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


class Evaluation(_CandidateStateLabelled):
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


class RankingEntry(_CandidateStateLabelled):
    """One candidate's place in the ranking."""

    model_config = ConfigDict(json_schema_extra={"example": ex.RANKING_ENTRY})

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

    model_config = ConfigDict(json_schema_extra={"example": ex.RANKING})

    selection_id: uuid.UUID
    tie_rule: str
    cutoff: int = Field(description="posts × candidates_per_post")
    entries: list[RankingEntry]


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
    kind: str
    held_on: date
    count: int
    summary: str
    created_at: datetime


class Appraisal(Strict):
    """The democratic appraisal (民主测评)."""

    participants: JsonInt = Field(ge=1, le=100000)
    excellent: JsonInt = Field(ge=0, description="优秀")
    competent: JsonInt = Field(ge=0, description="称职")
    basically_competent: JsonInt = Field(ge=0, description="基本称职")
    incompetent: JsonInt = Field(ge=0, description="不称职")

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
    """A candidate's inspection (组织考察): the team, who recused, the work and the report."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "team": [ex.INSPECTOR, ex.INSPECTOR_2],
        "recused": [],
        "records": [{"id": ex.RECORD, "candidate_id": ex.CANDIDATE,
                     "inspector_id": ex.INSPECTOR, "kind": "conversation",
                     "held_on": "2026-10-26", "count": 12,
                     "summary": "个别谈话12人，普遍反映其政治坚定、作风扎实",
                     "created_at": "2026-10-26T08:00:00Z"}],
        "report": {"appraisal": {"participants": 45, "excellent": 38, "competent": 6,
                                 "basically_competent": 1, "incompetent": 0},
                   "summary": "考察组一致认为该同志符合党支部书记任职条件"}}})

    candidate_id: uuid.UUID
    team: list[uuid.UUID]
    recused: list[uuid.UUID]
    records: list[InspectionRecordPublic]
    report: dict[str, Any] | None


@ex.enum_example("appointed")
class Outcome(StrEnum):
    """The committee's outcome for a candidate (党委会审核结果)."""

    appointed = "appointed"  # 上岗使用
    reserve = "reserve"  # 储备人选
    not_qualified = "not_qualified"  # 不符合
    postponed = "postponed"  # 缓议


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
    reason: Reason = ""


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
    recusals: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    minutes: str
    recorded_by: uuid.UUID | None
    created_at: datetime


# ---------------------------------------------------------------- step 4: follow-up (后期四环节)
class NotificationPublic(_OutcomeLabelled):
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


class NotificationPreview(_OutcomeLabelled):
    """The outcome email as it would be sent now."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "outcome": "reserve", "outcome_label": "储备人选", "language": "zh",
        "to_address": "wangfang@example.cn",
        "subject": "【机关第一党支部】党支部书记公开选拔结果通知：储备人选",
        "body": "王芳同志：\n\n经党委会审核，您的结果为：储备人选。"}})

    outcome: str
    language: str
    to_address: str | None
    subject: str
    body: str


class ResendRequest(Strict):
    """Send the outcome email again, optionally in another language."""

    model_config = ConfigDict(json_schema_extra={"example": {"language": "en"}})

    language: Literal["zh", "en"] | None = None


class TemplatePublic(_OutcomeLabelled):
    """An outcome email template in effect, and whether an admin changed it."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "outcome": "appointed", "outcome_label": "上岗使用", "language": "zh",
        "subject": "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "body": "{full_name}同志：\n\n您在“{selection_title}”中的结果为：{outcome_label}。",
        "customised": False}})

    outcome: str
    language: str
    subject: str
    body: str
    customised: bool


class TemplateSet(Strict):
    """An outcome email's text; placeholders: {full_name}, {selection_title}, {organization},
    {outcome_label}, {gate}, {reason}."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "subject": "【{organization}】党支部书记公开选拔结果通知：{outcome_label}",
        "body": "{full_name}同志：\n\n您在“{selection_title}”中的结果为：{outcome_label}。"}})

    subject: Stripped(300, min_length=1)
    body: Annotated[str, StringConstraints(min_length=1, max_length=10000)]


class PublicAppointment(BaseModel):
    """The pre-appointment publicity (任职前公示): name, current post, proposed post only."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "full_name": "李明", "current_post": "办公室副主任",
        "unit": "机关办公室", "proposed_post": "机关第一党支部书记",
        "publicity_start_on": "2026-11-06", "publicity_end_on": "2026-11-12",
        "how_to_object": "POST /api/v1/public/appointments/7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b/objections（公示期内，可匿名）"}})

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


class ObjectionPublic(BaseModel):
    """An objection to an appointment and how it was handled."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.OBJECTION, "candidate_id": ex.CANDIDATE,
        "content": "反映该同志在某项目中存在违规问题", "contact": "13900000000",
        "status": "dismissed", "handling": "经核查，所反映问题不属实",
        "handled_by": ex.ADMIN, "handled_at": "2026-11-11T06:00:00Z",
        "created_at": "2026-11-09T03:00:00Z"}})

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

    model_config = ConfigDict(json_schema_extra={"example": {
        "decision": "dismissed", "handling": "经核查，所反映问题不属实"}})

    decision: Literal["upheld", "dismissed"]
    handling: Stripped(4000, min_length=1)


class TrialParams(Strict):
    """Trial placement (使用实习安排) at a front-line post."""

    unit: Name
    post: Name
    start_on: IsoDate | None = Field(default=None, description="Default: today")
    months: JsonInt | None = Field(default=None, ge=1, le=60,
                               description="Default: the selection's trial_months")


class MentorshipSet(Strict):
    """Assign a mentor (优带新、老带新) and the plan; meetings at the plan's interval."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "mentor_id": ex.MENTOR, "plan": "每季度谈心一次，带教支部“三会一课”组织和党员发展工作",
        "meeting_interval_days": 90}})

    mentor_id: uuid.UUID
    plan: Stripped(8000, min_length=1)
    meeting_interval_days: JsonInt = Field(default=90, ge=7, le=366)


class MentorshipPublic(BaseModel):
    """The appointee's mentor and plan (优带新、老带新)."""

    model_config = ConfigDict(json_schema_extra={"example": ex.MENTORSHIP})

    candidate_id: uuid.UUID
    mentor_id: uuid.UUID
    plan: str
    meeting_interval_days: int
    assigned_on: date


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

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "state": "on_trial",
        "appointment": {"proposed_post": "机关第一党支部书记",
                        "publicity_start_on": "2026-11-06", "publicity_end_on": "2026-11-12",
                        "trial": {"unit": "第三生产车间", "post": "车间党支部副书记（实习）",
                                  "start_on": "2026-11-16", "end_on": "2027-11-15"}},
        "mentorship": ex.MENTORSHIP, "records": [ex.FOLLOW_UP_RECORD],
        "missing_for_confirmation": ["trial ends on 2027-11-15",
                                     "party lessons: 4 of 8 hours"]}})

    candidate_id: uuid.UUID
    state: str
    appointment: dict[str, Any] | None
    mentorship: MentorshipPublic | None
    records: list[FollowUpRecordPublic]
    missing_for_confirmation: list[str]


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


# ---- reports
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


class StateCount(_CandidateStateLabelled):
    """How many candidates are in one state."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "state": "applicant", "state_label": "参选人", "count": 3}})

    state: str
    count: int


class OutcomeCount(_OutcomeLabelled):
    """How many candidates the committee gave one outcome (their latest decision)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "outcome": "reserve", "outcome_label": "储备人选", "count": 1}})

    outcome: str
    count: int


class ReportDecision(_OutcomeLabelled):
    """The committee's vote and outcome on one candidate, as the report shows it."""

    model_config = ConfigDict(json_schema_extra={"example": ex.REPORT_DECISION})

    candidate_id: uuid.UUID
    full_name: str | None
    votes_for: int
    votes_against: int
    abstentions: int
    members_voting: int | None
    outcome: str
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


class SelectionReport(_SelectionStateLabelled):
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
    state: str
    language: str = Field(description="The language of the labels (Content-Language)")
    generated_at: datetime
    candidates: int = Field(description="Every candidate of the selection")
    funnel: list[FunnelStage]
    states: list[StateCount]
    outcomes: list[OutcomeCount]
    ranking: Ranking
    meetings: list[ReportMeeting]
