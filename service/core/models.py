"""Tables. The schema itself is created only by the Alembic migrations in service/migrations."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, Text, TypeDecorator, UniqueConstraint
from sqlmodel import Field, SQLModel

from . import db  # noqa: F401  (sets the naming convention before any table exists)


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, in UTC, to the microsecond (the real time; see service.clock for simulated)."""
    return datetime.now(UTC)


def _ts(**kw) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class User(SQLModel, table=True):
    """A person who logs in, holding one or more roles."""

    __tablename__ = "user_account"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    full_name: str = Field(default="", max_length=100)
    email: str | None = Field(default=None, max_length=254)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    password_hash: str = Field(max_length=255)
    is_active: bool = True
    token_version: int = 1
    version: int = 1
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Selection(SQLModel, table=True):
    """One open selection for one (or several identical) secretary posts."""

    __table_args__ = (Index("ix_selection_state_created", "state", "created_at", "id"),
                      Index("ix_selection_created", "created_at", "id"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=200)
    organization: str = Field(max_length=200)
    posts: int = 1
    state: str = Field(default="drafting", max_length=32)
    version: int = 1
    job_description: dict = Field(sa_column=Column(JSON, nullable=False))
    settings: dict = Field(sa_column=Column(JSON, nullable=False))
    publicity_start_on: date | None = None
    publicity_end_on: date | None = None
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Candidate(SQLModel, table=True):
    """A person standing in one selection, with the state of their candidacy."""

    __table_args__ = (
        Index("ix_candidate_selection_state", "selection_id", "state", "created_at", "id"),
        Index("ix_candidate_selection_created", "selection_id", "created_at", "id"),
        UniqueConstraint("selection_id", "identity_key"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id", index=True)
    state: str = Field(default="nominated", max_length=32)
    version: int = 1
    full_name: str = Field(max_length=100)
    identity_key: str = Field(max_length=128)
    profile: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    national_id_hash: str | None = Field(default=None, max_length=64, index=True)
    eligible: bool | None = None
    eligibility: dict | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    appointment: dict | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="Pre-appointment publicity: proposed post, period; then the trial placement")
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Nomination(SQLModel, table=True):
    """One recommendation of a candidate (直接推荐), or a self-application (报名)."""

    __table_args__ = (Index("ix_nomination_candidate", "candidate_id", "created_at"),
                      Index("ix_nomination_selection_kind", "selection_id", "kind"),
                      Index("ix_nomination_nominated_by", "nominated_by", "selection_id"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id")
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    kind: str = Field(max_length=32)
    body_name: str = Field(default="", max_length=200)
    nominated_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    reasons: str = Field(default="", max_length=4000)
    groundwork: str = Field(default="", max_length=4000)
    reserve_entry_id: uuid.UUID | None = Field(default=None, foreign_key="reserve_entry.id")
    created_at: datetime = _ts(default_factory=utcnow)


class Communication(SQLModel, table=True):
    """A talk with the nominee (沟通): when, how, what was said, their attitude."""

    __table_args__ = (Index("ix_communication_candidate", "candidate_id", "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    held_on: date
    channel: str = Field(max_length=32)
    summary: str = Field(max_length=4000)
    attitude: str = Field(max_length=32)
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _ts(default_factory=utcnow)


class Event(SQLModel, table=True):
    """One entry of the full-process record (全程纪实): append-only, hash-chained per subject."""

    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "seq"),
        Index("ix_event_selection", "selection_id", "occurred_at"),
    )

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    subject_type: str = Field(max_length=32)
    subject_id: uuid.UUID
    seq: int
    selection_id: uuid.UUID | None = None
    action: str = Field(max_length=64)
    from_state: str | None = Field(default=None, max_length=32)
    to_state: str | None = Field(default=None, max_length=32)
    actor_id: uuid.UUID | None = None
    actor_role: str = Field(max_length=32)
    reason: str | None = None
    params: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    request_id: str | None = Field(default=None, max_length=128)
    occurred_at: datetime = _ts(default_factory=utcnow)
    simulated_at: datetime | None = _ts(default=None, nullable=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class CalendarOverride(SQLModel, table=True):
    """A day an administrator declares worked or off, over the official schedule."""

    __tablename__ = "calendar_override"

    day: date = Field(primary_key=True)
    workday: bool
    note: str = Field(default="", max_length=200)
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _ts(default_factory=utcnow)


class SimulatedClock(SQLModel, table=True):
    """Simulation mode (情景模拟): the service's clock set to a date; one row at most."""

    __tablename__ = "simulated_clock"

    id: int = Field(default=1, primary_key=True)
    simulated_at: datetime = _ts()
    set_at: datetime = _ts(default_factory=utcnow)
    set_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")


class PanelMember(SQLModel, table=True):
    """A judge appointed to a selection's interview panel (面议评委)."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("selection_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    appointed_at: datetime = _ts(default_factory=utcnow)


class InterviewPlan(SQLModel, table=True):
    """The interview's preparation (准备环节): date, place, briefing, materials passed."""

    __tablename__ = "interview_plan"

    selection_id: uuid.UUID = Field(foreign_key="selection.id", primary_key=True)
    held_on: date
    place: str = Field(default="", max_length=200)
    briefing: str = Field(default="", max_length=4000)
    materials: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = _ts(default_factory=utcnow)


class Declaration(SQLModel, table=True):
    """A judge's, inspector's or committee member's declaration of (no) conflict (回避)."""

    __table_args__ = (UniqueConstraint("candidate_id", "user_id", "capacity"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id", index=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    user_id: uuid.UUID = Field(foreign_key="user_account.id")
    capacity: str = Field(max_length=16)  # judge, inspector
    conflict: str = Field(max_length=32)  # none, self, spouse, direct_line, ...
    note: str = Field(default="", max_length=2000)
    created_at: datetime = _ts(default_factory=utcnow)


class ScoreSheet(SQLModel, table=True):
    """One judge's score registration sheet (评分登记表) for one candidate, one version."""

    __tablename__ = "score_sheet"
    __table_args__ = (UniqueConstraint("candidate_id", "judge_id", "version"),
                      Index("ix_score_sheet_selection", "selection_id", "candidate_id"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id")
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    judge_id: uuid.UUID = Field(foreign_key="user_account.id")
    version: int = 1
    scores: dict = Field(sa_column=Column(JSON, nullable=False))
    total: float
    comment: str = Field(default="", max_length=4000)
    supersede_reason: str | None = Field(default=None, max_length=2000)
    created_at: datetime = _ts(default_factory=utcnow)


class InspectionMember(SQLModel, table=True):
    """An inspector on a candidate's organizational inspection team (考察组)."""

    __tablename__ = "inspection_member"
    __table_args__ = (UniqueConstraint("candidate_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    appointed_at: datetime = _ts(default_factory=utcnow)


class InspectionRecord(SQLModel, table=True):
    """Work an inspector did: a conversation, opinion forms, a visit, files read."""

    __tablename__ = "inspection_record"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", index=True)
    inspector_id: uuid.UUID = Field(foreign_key="user_account.id")
    kind: str = Field(max_length=32)
    held_on: date
    count: int = 1
    summary: str = Field(max_length=4000)
    created_at: datetime = _ts(default_factory=utcnow)


class CommitteeMeeting(SQLModel, table=True):
    """A party committee meeting (党委会) and its decisions, kept whole."""

    __tablename__ = "committee_meeting"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id", index=True)
    held_on: date
    members_due: list = Field(sa_column=Column(JSON, nullable=False))
    present: list = Field(sa_column=Column(JSON, nullable=False))
    recusals: list = Field(sa_column=Column(JSON, nullable=False))
    decisions: list = Field(sa_column=Column(JSON, nullable=False))
    minutes: str = Field(default="", max_length=8000)
    recorded_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _ts(default_factory=utcnow)


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
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _ts(default=None, nullable=True)
    sent_at: datetime | None = _ts(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)


class NotificationTemplate(SQLModel, table=True):
    """An outcome email's text, per outcome and language, as admins edited it."""

    __tablename__ = "notification_template"

    outcome: str = Field(primary_key=True, max_length=32)
    language: str = Field(primary_key=True, max_length=8)
    subject: str = Field(max_length=300)
    body: str = Field(max_length=10000)
    updated_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = _ts(default_factory=utcnow)


class Objection(SQLModel, table=True):
    """An objection (举报/异议) lodged during the pre-appointment publicity, and its handling."""

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", index=True)
    content: str = Field(max_length=4000)
    contact: str | None = Field(default=None, max_length=200)
    status: str = Field(default="open", max_length=16)  # open, upheld, dismissed
    handling: str | None = Field(default=None, max_length=4000)
    handled_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    handled_at: datetime | None = _ts(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)


class Mentorship(SQLModel, table=True):
    """A mentor assigned to an appointee on trial (优带新、老带新), with the plan."""

    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", primary_key=True)
    mentor_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    plan: str = Field(max_length=8000)
    meeting_interval_days: int = 30
    assigned_on: date
    created_at: datetime = _ts(default_factory=utcnow)


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
    created_at: datetime = _ts(default_factory=utcnow)


class ReserveEntry(SQLModel, table=True):
    """A reserve (储备人选) in the pool across selections, until it expires or is used."""

    __tablename__ = "reserve_entry"
    __table_args__ = (Index("ix_reserve_org_expiry", "organization", "expires_on"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", unique=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id")
    user_id: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    organization: str = Field(max_length=200)
    full_name: str = Field(max_length=100)
    education: str | None = Field(default=None, max_length=32)
    score: float | None = None
    rank: int | None = None
    entered_on: date
    expires_on: date
    created_at: datetime = _ts(default_factory=utcnow)


class IdempotencyRecord(SQLModel, table=True):
    """A POST's Idempotency-Key and the response it got, stored with the effect."""

    __tablename__ = "idempotency_record"
    __table_args__ = (UniqueConstraint("scope", "key"),
                      Index("ix_idempotency_expires", "expires_at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    scope: str = Field(max_length=80, description="The caller: a user id, or anon:<address>")
    key: str = Field(max_length=255)
    method: str = Field(max_length=8)
    path: str = Field(max_length=500)
    request_hash: str = Field(max_length=64)
    response_status: int | None = None
    response_body: str | None = None
    response_headers: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()


class LoginAttempt(SQLModel, table=True):
    """A failed login, for throttling per account and per client address."""

    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username", "username", "at"),
                      Index("ix_login_attempt_client", "client", "at"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    username: str = Field(max_length=64)
    client: str = Field(max_length=64)
    at: datetime = _ts(default_factory=utcnow)


class WebhookSubscription(SQLModel, table=True):
    """An HR system's webhook endpoint: where to POST which event types, signed with its
    secret (Standard Webhooks)."""

    __tablename__ = "webhook_subscription"
    __table_args__ = (Index("ix_webhook_subscription_created", "created_at", "id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    # Text, not VARCHAR(2000): the limit applies to the URL as sent, and its normal form (a
    # trailing slash, percent-encoding, punycode) may be longer.
    url: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", max_length=500)
    event_types: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=100)
    previous_secret: str | None = Field(default=None, max_length=100)
    previous_secret_expires_at: datetime | None = _ts(default=None, nullable=True)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    disabled_at: datetime | None = _ts(default=None, nullable=True)
    version: int = 1
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class WebhookDelivery(SQLModel, table=True):
    """One message to one subscription in the outbox, written with its event; its id is the
    `webhook-id` the receiver sees, the same on every retry."""

    __tablename__ = "webhook_delivery"
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),
                      Index("ix_webhook_delivery_subscription", "subscription_id",
                            "created_at", "id"))

    id: str = Field(primary_key=True, max_length=40)
    subscription_id: uuid.UUID = Field(foreign_key="webhook_subscription.id")
    event_id: uuid.UUID | None = Field(default=None, foreign_key="event.id")
    event_type: str = Field(max_length=64)
    payload: dict = Field(sa_column=Column(JSON, nullable=False))
    status: str = Field(default="pending", max_length=16)  # pending, delivered, failed
    attempts: int = 0
    next_attempt_at: datetime = _ts(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = _ts(default=None, nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    delivered_at: datetime | None = _ts(default=None, nullable=True)
    created_at: datetime = _ts(default_factory=utcnow)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP try of a delivery: when, the answer (or the error), how long it took."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "attempted_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", max_length=40)
    attempted_at: datetime = _ts(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=2000)
    response_excerpt: str | None = Field(default=None, max_length=1000)
    duration_ms: int = 0
    worker: str = Field(default="", max_length=64)
