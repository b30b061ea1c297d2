"""Request and response models (SQLModel ladder: Base → Create/Update → table → Public)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

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

    full_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)] | None = None
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
    min_judges: int = Field(default=7, ge=1, le=51)
    judges_odd: bool = True
    trim_extremes_min_sheets: int = Field(
        default=5, ge=3, le=51, description="Drop the highest and lowest totals from this many"
    )
    candidates_per_post: int = Field(default=3, ge=1, le=20, description="1:3 is common")
    min_inspectors: int = Field(default=2, ge=2, le=20)
    appointment_publicity_working_days: int = Field(default=5, ge=0, le=60)
    trial_months: int = Field(default=12, ge=1, le=60)
    reserve_valid_years: int = Field(default=2, ge=1, le=10)

    @field_validator("interview_criteria")
    @classmethod
    def _criteria(cls, v: list[InterviewCriterion]):
        keys = [c.key for c in v]
        if len(keys) != len(set(keys)):
            raise ValueError("criterion keys must be unique")
        total = sum(c.weight for c in v)
        if abs(total - 100) > 1e-6:
            raise ValueError(f"criterion weights must add up to 100, not {total:g}")
        return v

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
    job_description: JobDescription | None = None
    settings: SelectionSettings | None = None


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
