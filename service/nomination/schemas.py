"""Request and response models of step 2: nominations (推荐), applications (报名), talks with
nominees (沟通), eligibility, candidates."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from ..core import examples as ex
from ..core import i18n
from ..core.schemas import (
    EMAIL_WITH_DOMAIN,
    CandidateState,
    CandidateStateLabelled,
    FieldName,
    IsoDate,
    LongText,
    Name,
    ShortText,
    Sparse,
    Strict,
    Stripped,
    invalid,
)
from ..selection.schemas import EducationLevel, PostCode


# ---------------------------------------------------------------- candidates
class CandidatePublic(CandidateStateLabelled):
    """A candidate as the API shows it to those allowed to see the record."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": ex.CANDIDATE, "selection_id": ex.SELECTION_ID, "full_name": "李明",
        "state": "applicant", "state_label": "参选人", "version": 2,
        "created_at": "2026-09-30T02:15:00Z", "updated_at": "2026-10-08T03:00:00Z"}})

    id: uuid.UUID
    selection_id: uuid.UUID
    full_name: str
    state: CandidateState
    version: int
    created_at: datetime
    updated_at: datetime

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


Email = Annotated[str, StringConstraints(max_length=254,
                                         pattern=EMAIL_WITH_DOMAIN)]
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
    language: Literal["zh-CN", "en"] | None = Field(
        default=None, description="The language of their emails while they have no account of"
        " their own (an account's language wins); none: Chinese")

    @model_validator(mode="after")
    def _dates_make_sense(self):
        today = date.today()
        for name in ("birth_date", "party_joined_on", "work_started_on"):
            value = getattr(self, name)
            if value is not None and value > today:
                raise invalid("date_in_future", "{field} is in the future",
                              field=FieldName(name))
        born = FieldName("birth_date")
        if self.birth_date > _years_before(today, MIN_AGE):
            raise invalid("too_young", "{born} makes the person younger than {age}",
                          born=born, age=MIN_AGE)
        if self.birth_date < _years_before(today, 100):
            raise invalid("too_old", "{born} is more than 100 years ago", born=born)
        if self.party_joined_on < _years_before(self.birth_date, -MIN_AGE):
            raise invalid("joined_too_young", "{joined} is before the person was {age}",
                          joined=FieldName("party_joined_on"), age=MIN_AGE)
        if self.work_started_on and self.work_started_on.year < self.birth_date.year + 14:
            raise invalid("worked_too_young", "{started} is before the person was 14",
                          started=FieldName("work_started_on"))
        if self.national_id:
            _check_national_id(self.national_id, self.birth_date)
        return self


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def _check_national_id(value: str, birth_date: date) -> None:
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        raise invalid("national_id_check_digit", "{id} has a wrong check digit",
                      id=FieldName("national_id"))
    if value[6:14] != birth_date.strftime("%Y%m%d"):
        raise invalid("national_id_birth_date", "{id} does not match {born}",
                      id=FieldName("national_id"), born=FieldName("birth_date"))


class NominationCreate(Strict):
    """A recommendation by a body, with the groundwork done on the nominee (摸底)."""

    # The rule between `kind`, `nominee` and `reserve_entry_id`, as one `oneOf` inside an
    # `allOf`: the same constraint as a bare `oneOf` beside `properties`, but client generators
    # (openapi-python-client) read a bare `oneOf` as a union and drop the properties.
    model_config = ConfigDict(extra="forbid", json_schema_extra={"allOf": [{"oneOf": [
        {"properties": {"kind": {"type": "string", "const": "reserve_pool"}},
         "required": ["reserve_entry_id"]},
        {"properties": {"kind": {"type": "string",
                                 "enum": [k for k in NominatingBody if k != "reserve_pool"]}},
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
    posts: list[PostCode] | None = Field(
        default=None, min_length=1, max_length=50, description="The codes of the posts the"
        " nominee stands for; may be left out when the selection has one post")

    @model_validator(mode="after")
    def _body_named(self):
        if (self.kind == NominationKind.reserve_pool) != (self.reserve_entry_id is not None):
            raise invalid("reserve_entry_with_kind",
                          "{entry} goes with the kind {kind}, and only with it",
                          entry=FieldName("reserve_entry_id"),
                          kind=i18n.label("NominatingBody", "reserve_pool"))
        if self.nominee is None and self.reserve_entry_id is None:
            raise invalid("missing", "{nominee} is required", nominee=FieldName("nominee"))
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
    posts: list[PostCode] | None = Field(
        default=None, min_length=1, max_length=50, description="The codes of the posts the"
        " applicant stands for; may be left out when the selection has one post")


class NominationPublic(BaseModel):
    """One nomination of a candidate."""

    model_config = ConfigDict(json_schema_extra={"example": ex.NOMINATION})

    id: uuid.UUID
    candidate_id: uuid.UUID
    kind: NominationKind
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

    kind: NominationKind
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
    """The machine-checkable requirements, judged as of the reference date: the publicity
    period's end, unless the selection's settings name another (`eligibility_reference_on`)."""

    model_config = ConfigDict(json_schema_extra={"example": ex.ELIGIBILITY})

    computed_on: date = Field(description="The reference date as of which ages and years are"
                              " counted")
    reference: Literal["publicity_end", "selection_setting"] = Field(
        default="publicity_end", description="Where the reference date comes from: the"
        " publicity period's end, or the selection's setting `eligibility_reference_on`")
    passed: bool
    items: list[EligibilityItem]


class CandidateSummary(CandidateStateLabelled):
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
    state: CandidateState
    version: int
    gender: str | None = None
    education: str | None = None
    unit: str | None = None
    current_post: str | None = None
    eligible: bool | None
    posts: list[str] = Field(default_factory=list, description="The posts stood for (codes)")
    nominations: list[NominationSummary]
    created_at: datetime
    updated_at: datetime


class ProfilePublic(Sparse):
    """The profile as stored (个人信息): every field of `Profile`; a reader without access to
    personal data gets only those reviewers' work needs (no birth date, phone, email, ID)."""

    model_config = ConfigDict(json_schema_extra={"example": ex.PROFILE})

    full_name: str | None = None
    gender: Gender | None = None
    birth_date: date | None = None
    education: EducationLevel | None = None
    party_joined_on: date | None = None
    work_started_on: date | None = None
    current_post: str | None = None
    unit: str | None = None
    email: str | None = None
    phone: str | None = None
    national_id: str | None = None


class CandidateDetail(CandidatePublic):
    """A candidate's whole record, for admins, their nominators and themself."""

    model_config = ConfigDict(json_schema_extra={"example": ex.CANDIDATE_DETAIL})

    user_id: uuid.UUID | None
    profile: ProfilePublic
    eligible: bool | None
    eligibility: EligibilityReport | None
    posts: list[str] = Field(default_factory=list, description="The codes of the selection's"
                             " posts the candidate stands for")
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


# ---------------------------------------------------------------- claiming a nominee's record
class ClaimRequest(Strict):
    """Ask for a one-time code to claim a nominee's record as your own (认领)."""

    model_config = ConfigDict(json_schema_extra={"example": {"candidate_id": ex.CANDIDATE}})

    candidate_id: uuid.UUID = Field(description="The nominee's record, as named by the 409"
                                    " `nomination_claim_required` of an application")


class ClaimSent(BaseModel):
    """A code was sent to the email address on file for the nominee."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "claim_id": "0b9f6f0e-3c56-4c55-9d55-8f3d0c2b7e11", "candidate_id": ex.CANDIDATE,
        "sent_to": "l***@example.cn", "expires_at": "2026-10-01T02:45:00Z"}})

    claim_id: uuid.UUID
    candidate_id: uuid.UUID
    sent_to: str = Field(description="The address on file, masked")
    expires_at: datetime = Field(description="The code is good until then")


class ClaimConfirm(Strict):
    """The code received by email, to link the nominee's record to your account."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "code": "482913"}})

    candidate_id: uuid.UUID = Field(description="The nominee's record")
    code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] = Field(
        description="The six digits sent by email")


class AccountLink(Strict):
    """An admin links a nominee's record to the nominee's own account, having confirmed who
    they are (recorded as an event)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "user_id": ex.CANDIDATE_USER,
        "confirmed_by": "组织部 张科长", "note": "本人持身份证到组织部当面确认"}})

    user_id: uuid.UUID = Field(description="The nominee's account (with the candidate role)")
    confirmed_by: Stripped(100, min_length=1) = Field(
        description="Who confirmed that the account holder is the nominee")
    note: Stripped(2000) = Field(default="", description="How it was confirmed")
