"""Step 4's tables: outcome notifications and their templates, objections, mentors,
follow-up records."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


class Notification(SQLModel, table=True):
    """An outcome email in the outbox: written with the outcome, delivered by the sender."""

    __table_args__ = (UniqueConstraint("dedupe_key"),
                      Index("ix_notification_due", "state", "next_attempt_at"),
                      Index("ix_notification_candidate", "candidate_id", "created_at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    dedupe_key: str = Field(max_length=128)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    selection_id: uuid.UUID = Field(foreign_key="selection.id")
    outcome: str = Field(max_length=32)
    language: str = Field(max_length=8)
    to_address: str | None = Field(default=None, max_length=254)
    subject: str = Field(max_length=300)
    body: str
    state: str = Field(default="queued", max_length=16)  # queued, sent, failed, undeliverable
    attempts: int = 0
    last_error: str | None = Field(default=None, max_length=2000)
    next_attempt_at: datetime = ts_field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = ts_field(default=None, nullable=True)
    message_id: str | None = Field(default=None, max_length=255, description="The email's"
                                   " Message-ID, made at its first claim and kept across tries")
    sent_at: datetime | None = ts_field(default=None, nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)


class NotificationTemplate(SQLModel, table=True):
    """An outcome email's text, per outcome and language, as admins edited it."""

    __tablename__ = "notification_template"

    outcome: str = Field(primary_key=True, max_length=32)
    language: str = Field(primary_key=True, max_length=8)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=10000)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = ts_field(default_factory=utcnow)


class Objection(SQLModel, table=True):
    """An objection (举报/异议) lodged during the pre-appointment publicity, and its handling:
    received (受理), under investigation (调查核实), concluded (成立 / 部分成立 / 不成立).

    The objector's contact is seen by admins only."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", index=True)
    selection_id: uuid.UUID | None = Field(default=None, foreign_key="selection.id")
    content: str = Field(max_length=4000)
    contact: str | None = Field(default=None, max_length=200)
    # received, investigating, upheld, partly_upheld, not_upheld (the objection machine)
    state: str = Field(default="received", max_length=16)
    version: int = 1
    investigators: list | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    handling: str | None = Field(default=None, max_length=4000,
                                 description="The conclusion's reasons")
    handled_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    handled_at: datetime | None = ts_field(default=None, nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


class ObjectionWork(SQLModel, table=True):
    """A conversation (谈话) or a finding (核实情况) of an objection's investigating team."""

    __tablename__ = "objection_work"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    objection_id: uuid.UUID = Field(foreign_key="objection.id", index=True)
    kind: str = Field(max_length=16)  # conversation, finding
    held_on: date
    investigator_id: uuid.UUID = Field(foreign_key="user_account.id")
    with_whom: str = Field(default="", max_length=200)
    content: str = Field(max_length=4000)
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = ts_field(default_factory=utcnow)


class TrialAssessment(SQLModel, table=True):
    """A mid-term or final assessment of the trial (试用期满考核), with its democratic
    appraisal (民主测评), the mentor's and the branch's opinions and a grade."""

    __tablename__ = "trial_assessment"
    __table_args__ = (Index("ix_trial_assessment_candidate", "candidate_id", "kind"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    kind: str = Field(max_length=16)  # mid_term, final
    held_on: date
    taking_part: int
    excellent: int
    competent: int
    basically_competent: int
    incompetent: int
    mentor_opinion: str = Field(max_length=4000)
    branch_opinion: str = Field(max_length=4000)
    grade: str = Field(max_length=32)  # excellent, competent, basically_competent, incompetent
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = ts_field(default_factory=utcnow)


class Mentorship(SQLModel, table=True):
    """A mentor assigned to an appointee on trial (优带新、老带新), with the plan."""

    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", primary_key=True)
    mentor_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    plan: str = Field(max_length=8000)
    kind: str | None = Field(default=None, max_length=32,
                             description="excellent_guides_new (优带新), senior_guides_new (老带新)")
    mentor_standing: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    meeting_interval_days: int = 30
    assigned_on: date
    created_at: datetime = ts_field(default_factory=utcnow)


class FollowUpRecord(SQLModel, table=True):
    """A mentor's meeting, a party lesson (党课学习) or branch-life exercise (支部生活锻炼)."""

    __tablename__ = "follow_up_record"
    __table_args__ = (Index("ix_follow_up_candidate", "candidate_id", "kind"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    kind: str = Field(max_length=32)  # mentor_meeting, party_lesson, branch_life
    held_on: date
    subject: str = Field(max_length=300)
    hours: float = 0
    attended: bool = True
    assessment: str = Field(default="", max_length=4000)
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = ts_field(default_factory=utcnow)
