"""Step 2's tables: candidates, nominations, talks with nominees, and the reserve pool that
later selections nominate from."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


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
    post_codes: list | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="The codes of the selection's posts the candidate stands for; null: all")
    appointment: dict | None = Field(
        default=None, sa_column=Column(JSON, nullable=True),
        description="Pre-appointment publicity: proposed post, period; then the trial placement")
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


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
    created_at: datetime = ts_field(default_factory=utcnow)


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
    created_at: datetime = ts_field(default_factory=utcnow)

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
    backfilled_on: date | None = Field(default=None, description="The day the reserve filled a"
                                       " vacated post of its selection (递补) and left the pool")
    created_at: datetime = ts_field(default_factory=utcnow)


class CandidacyClaim(SQLModel, table=True):
    """An account's claim to a nominee's record (认领): a one-time code sent to the email
    address on file for the nominee, entered by the account holder to link the record."""

    __tablename__ = "candidacy_claim"
    __table_args__ = (Index("ix_candidacy_claim_candidate_user", "candidate_id", "user_id",
                            "created_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    user_id: uuid.UUID = Field(foreign_key="user_account.id")
    code_hash: str = Field(max_length=64, description="HMAC-SHA256 of the code; never the code")
    attempts: int = 0
    expires_at: datetime = ts_field()
    used_at: datetime | None = ts_field(default=None, nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)
