"""Request and response models of step 1: the job description (职务说明书), the selection's
settings, the selection and its public announcement."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    computed_field,
    field_validator,
    model_validator,
)

from ..config import get_settings
from ..core import calendar as workcal
from ..core import examples as ex
from ..core.schemas import (
    MERGE_PATCH_OF,
    FieldName,
    IsoDate,
    JsonFloat,
    JsonInt,
    Name,
    SelectionState,
    SelectionStateLabelled,
    Strict,
    Stripped,
    Text,
    invalid,
)


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
            raise invalid("judged_requirement_repeated", "each judged requirement appears once")
        return v


# An interview criterion's key, also naming the criterion that breaks ties.
CriterionKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


class InterviewCriterion(Strict):
    """One line of the score registration sheet (评分登记表)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "key": "role_cognition", "label": "岗位认知", "weight": 30, "max_score": 100}})

    key: CriterionKey
    label: Name
    weight: JsonFloat = Field(gt=0, le=100, description="Weight in percent; weights add up to 100")
    max_score: JsonFloat = Field(default=100, gt=0, le=1000)


def check_criteria(v: list[InterviewCriterion] | None):
    """Criterion keys are unique and the weights add up to 100."""
    if v is None:
        return v
    keys = [c.key for c in v]
    if len(keys) != len(set(keys)):
        raise invalid("criterion_repeated", "criterion keys must be unique")
    total = sum(c.weight for c in v)
    if abs(total - 100) > 1e-6:
        raise invalid("weights_do_not_add_up", "criterion weights must add up to 100, not {total}",
                      total=round(total, 6))
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

    require_if_match: StrictBool = Field(
        default_factory=lambda: get_settings().require_if_match,
        description="Writes to the selection and its candidates (PATCH, actions) need"
        " If-Match with the current ETag; without it they get 428 `precondition_required`."
        " Default for a new selection: the service's SELECTION_REQUIRE_IF_MATCH (on);"
        " selections made before the setting existed have it off")
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
    tie_break_criterion: CriterionKey | None = Field(
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
    committee_quorum: JsonFloat = Field(
        default=2 / 3, ge=0.5, le=1, description="党委会: the fraction of the members who should attend that"
        " must be present (2/3 by default); between 1/2 and 1")
    committee_majority: JsonFloat = Field(
        default=1 / 2, ge=0.5, lt=1, description="党委会: an appointment or a reserve needs more than this"
        " fraction of the members who should attend (more than half by default); at least 1/2"
        " and below 1")
    eligibility_reference_on: IsoDate | None = Field(
        default=None, description="The date as of which eligibility (age, years of party"
        " membership and of work) is judged; default: the publicity period's end")

    # before the bounds of the fields, so that the refusal says what the number means
    @field_validator("committee_quorum", mode="before")
    @classmethod
    def _quorum(cls, v: Any):
        if isinstance(v, int | float) and not isinstance(v, bool) and not 0.5 <= v <= 1:
            raise invalid("quorum_out_of_range", "the committee's quorum is the fraction of"
                          " the members who should attend that must be present: at least 1/2"
                          " (0.5) and at most 1, not {value}", value=v)
        return v

    @field_validator("committee_majority", mode="before")
    @classmethod
    def _majority(cls, v: Any):
        if isinstance(v, int | float) and not isinstance(v, bool) and not 0.5 <= v < 1:
            raise invalid("majority_out_of_range", "the committee's majority is the fraction"
                          " of the members who should attend that a decision must exceed: at"
                          " least 1/2 (0.5) and below 1, not {value}", value=v)
        return v
    mentor_meeting_interval_days: JsonInt = Field(
        default=30, ge=7, le=366, description="The mentor meets the appointee at least this"
        " often (monthly by default); a mentorship may set its own interval")
    branch_election: StrictBool = Field(
        default=False, description="选举: after the pre-appointment publicity the branch's"
        " meeting elects the appointee and the higher committee approves (批准) before the trial")
    election_quorum: JsonFloat = Field(
        default=4 / 5, ge=0.5, lt=1, description="选举: the members present with a vote must"
        " exceed this fraction of those due (4/5 by default, the 2020 election regulation)")
    election_majority: JsonFloat = Field(
        default=1 / 2, ge=0.5, lt=1, description="选举: the votes for must exceed this fraction"
        " of those present (more than half by default)")
    min_objection_investigators: JsonInt = Field(
        default=2, ge=2, le=20, description="An objection is investigated by at least this many"
        " people (调查核实)")

    @field_validator("interview_criteria")
    @classmethod
    def _criteria(cls, v: list[InterviewCriterion]):
        return check_criteria(v)

    @model_validator(mode="after")
    def _odd(self):
        if self.judges_odd and self.min_judges % 2 == 0:
            raise invalid("judges_not_odd", "{min_judges} must be odd when {odd} is true",
                          min_judges=FieldName("min_judges"), odd=FieldName("judges_odd"))
        return self


# ---------------------------------------------------------------- named posts (岗位)
# A post's stable code: what candidates stand for and the committee appoints to.
PostCode = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]
DEFAULT_POST_CODE = "p1"
DEFAULT_POST_TITLE = "党支部书记"


class NamedPost(Strict):
    """One post to fill (岗位): the branch (党支部) it is for, its title, how many."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "code": "branch1", "branch": "机关第一党支部", "title": "党支部书记", "count": 1}})

    code: PostCode = Field(description="Stable code, unique in the selection; candidates name"
                           " it to stand for the post and the committee to appoint to it")
    branch: Name = Field(description="The party branch (党支部) whose secretary this is")
    title: Name = Field(default=DEFAULT_POST_TITLE, description="The post's title")
    count: JsonInt = Field(default=1, ge=1, le=100, description="How many are to be appointed")


def post_name(post: dict[str, Any] | NamedPost) -> str:
    """The post as announcements name it: the branch and the title (机关第一党支部书记)."""
    p = post.model_dump() if isinstance(post, NamedPost) else post
    branch, title = p["branch"], p["title"]
    if branch.endswith("支部") and title.startswith("党支部"):
        title = title[len("党支部"):]
    return f"{branch}{title}"


def default_posts(organization: str, count: int) -> list[dict[str, Any]]:
    """The one post of a selection created with only `posts: N`: named after its
    organization."""
    return [NamedPost(code=DEFAULT_POST_CODE, branch=organization, count=count).model_dump()]


def check_named_posts(v: list[NamedPost] | None):
    """Codes are unique, and so is each (branch, title)."""
    if v is None:
        return v
    codes = [p.code for p in v]
    if len(codes) != len(set(codes)):
        raise invalid("post_repeated", "post codes must be unique")
    names = [(p.branch, p.title) for p in v]
    if len(names) != len(set(names)):
        raise invalid("post_repeated", "each post (branch and title) appears once")
    return v


def reconcile_posts(organization: str, posts: int | None, named: list[NamedPost] | None
                    ) -> tuple[int, list[dict[str, Any]]]:
    """`posts` is the total of the named posts' counts: given alone, it makes one post named
    after the organization; given with the list, it must equal the total."""
    if named is None:
        n = posts if posts is not None else 1
        return n, default_posts(organization, n)
    total = sum(p.count for p in named)
    if posts is not None and posts != total:
        raise invalid("posts_mismatch", "{posts} ({given}) must equal the total of the counts"
                      " of {named} ({total}), or be left out", posts=FieldName("posts"),
                      given=posts, named=FieldName("named_posts"), total=total)
    return total, [p.model_dump() for p in named]


_NAMED_POSTS_DOC = ("The posts to fill, each with its code, branch, title and count; left out,"
                    " one post named after the organization with `posts` as its count")
_POSTS_DOC = ("Number of posts to fill: the total of `named_posts`' counts (left out, it is"
              " computed; given, it must match)")


# ---------------------------------------------------------------- selections
class SelectionBase(Strict):
    """What an organization department writes when it opens a selection."""

    title: Name
    organization: Name = Field(description="The organization whose branch secretary post this is")
    # Left out, not null: a null is refused as before.
    posts: JsonInt = Field(default=None, ge=1, le=100, description=_POSTS_DOC)
    named_posts: list[NamedPost] = Field(default=None, min_length=1, max_length=50,
                                         description=_NAMED_POSTS_DOC)

    @field_validator("named_posts")
    @classmethod
    def _named(cls, v):
        return check_named_posts(v)

    @model_validator(mode="after")
    def _total(self):
        self.posts, named = reconcile_posts(self.organization, self.posts, self.named_posts)
        self.named_posts = [NamedPost.model_validate(p) for p in named]
        return self


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

    @field_validator("named_posts")
    @classmethod
    def _named(cls, v):
        return check_named_posts(v)
    posts: JsonInt | None = Field(default=None, ge=1, le=100, description=_POSTS_DOC)
    named_posts: list[NamedPost] | None = Field(
        default=None, min_length=1, max_length=50, description="The whole list of posts,"
        " replacing the one stored; `posts` changed alone changes the count of a single post")
    job_description: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the job description (RFC 7396): keys"
        " left out keep their value; the result must be a valid JobDescription",
        json_schema_extra={"example": {"requirements": {"max_age": 40}},
                           MERGE_PATCH_OF: "JobDescription"})
    settings: dict[str, Any] | None = Field(
        default=None, description="A JSON merge patch of the settings; the result must be valid"
        " SelectionSettings", json_schema_extra={"example": {"publicity_working_days": 7},
                                                 MERGE_PATCH_OF: "SelectionSettings"})


class SelectionPublic(SelectionStateLabelled):
    """A selection as staff see it."""

    model_config = ConfigDict(json_schema_extra={"example": ex.SELECTION})

    id: uuid.UUID
    title: str
    organization: str
    posts: int = Field(description="The total of the named posts' counts")
    named_posts: list[NamedPost]
    state: SelectionState
    version: int
    job_description: JobDescription
    settings: SelectionSettings
    publicity_start_on: date | None
    publicity_end_on: date | None
    created_at: datetime
    updated_at: datetime

    @computed_field(description="Cautions about this selection: a publicity period that runs"
                    " through a year the official holiday schedule does not cover (counted from"
                    " weekends and the administrators' calendar overrides only)")
    @property
    def warnings(self) -> list[str]:
        return workcal.fallback_warnings(
            workcal.fallback_years(self.publicity_start_on, self.publicity_end_on))

# ---------------------------------------------------------------- public announcement
class PublicSelection(BaseModel):
    """What the announcement shows (公示选拔岗位): no candidate or internal data."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.SELECTION_ID, "title": "第一党支部书记公开选拔",
        "organization": "机关第一党支部", "posts": 1,
        "named_posts": [{"code": "p1", "branch": "机关第一党支部", "title": "党支部书记",
                         "count": 1}],
        "duties": ["主持支部全面工作", "落实党建工作责任制"], "experience": "",
        "requirements": {"min_education": "bachelor", "min_party_years": 3, "max_age": 45},
        "judged_requirements": [{"key": "political_quality", "description": "良好的政治素质"}],
        "publicity_start_on": "2026-09-30", "publicity_end_on": "2026-10-13",
        "eligibility_reference_on": "2026-10-13",
        "how_to_apply": "推荐：党、政、工、团组织或党员联名，在公示期内向组织部门提交推荐（附摸底情况），"
                        "并与被推荐人沟通；被推荐人本人确认同意后成为参选人。报名：本人在公示期内以参选人账号"
                        "在本系统报名。公示期：2026年9月30日至2026年10月13日（含当日）。资格条件（年龄、党龄、"
                        "工作年限）以2026年10月13日为准计算。联系方式：机关党委组织部，电话 010-12345678。"}})

    id: uuid.UUID
    title: str
    organization: str
    posts: int
    named_posts: list[NamedPost] = Field(description="The posts, each with its branch and title")
    duties: list[str]
    experience: str
    requirements: MachineRequirements
    judged_requirements: list[JudgedRequirement]
    publicity_start_on: date
    publicity_end_on: date
    eligibility_reference_on: date = Field(
        description="Eligibility (age, years of party membership and of work) is judged as of"
        " this date: the publicity period's end unless the selection set another")
    how_to_apply: str
