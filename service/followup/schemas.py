"""Request and response models of step 4: follow-up (后期四环节), outcome notifications, the
reserve pool."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    computed_field,
)

from ..core import calendar as workcal
from ..core import examples as ex
from ..core.schemas import (
    NOT_BLANK,
    IsoDate,
    JsonFloat,
    JsonInt,
    LongText,
    Name,
    OutcomeLabelled,
    Strict,
    Stripped,
)


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


class NotificationPreview(OutcomeLabelled):
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


class TemplatePublic(OutcomeLabelled):
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
    # kept as written (its line breaks and indentation are the email's), but never blank
    body: Annotated[str, StringConstraints(min_length=1, max_length=10000, pattern=NOT_BLANK)]


class PublicAppointment(BaseModel):
    """The pre-appointment publicity (任职前公示): name, current post, proposed post only."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "candidate_id": ex.CANDIDATE, "full_name": "李明", "current_post": "办公室副主任",
        "unit": "机关办公室", "proposed_post": "机关第一党支部书记", "post": "p1",
        "branch": "机关第一党支部", "post_title": "党支部书记",
        "publicity_start_on": "2026-11-06", "publicity_end_on": "2026-11-12",
        "how_to_object": "POST /api/v1/public/appointments/7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b/objections（公示期内，可匿名）"}})

    candidate_id: uuid.UUID
    full_name: str
    current_post: str
    unit: str
    proposed_post: str = Field(description="The named post: the branch and the title")
    post: str | None = Field(default=None, description="The post's code in the selection")
    branch: str | None = Field(default=None, description="The party branch (党支部) of the post")
    post_title: str | None = None
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
                                     "party lessons: 4 of 8 hours"], "warnings": []}})

    candidate_id: uuid.UUID
    state: str
    appointment: dict[str, Any] | None
    mentorship: MentorshipPublic | None
    records: list[FollowUpRecordPublic]
    missing_for_confirmation: list[str]

    @computed_field(description="Cautions: a pre-appointment publicity that runs through a year"
                    " the official holiday schedule does not cover (counted from weekends and the"
                    " administrators' calendar overrides only)")
    @property
    def warnings(self) -> list[str]:
        a = self.appointment or {}
        start, end = a.get("publicity_start_on"), a.get("publicity_end_on")
        if not (start and end):
            return []
        return workcal.fallback_warnings(
            workcal.fallback_years(date.fromisoformat(start), date.fromisoformat(end)))


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
