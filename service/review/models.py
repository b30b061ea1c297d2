"""Step 3's tables: the panel, the interview plan, declarations, score sheets, the inspection
team and records, committee meetings."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


class PanelMember(SQLModel, table=True):
    """A judge appointed to a selection's interview panel (面议评委)."""

    __tablename__ = "panel_member"
    __table_args__ = (UniqueConstraint("selection_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    appointed_at: datetime = ts_field(default_factory=utcnow)


class InterviewPlan(SQLModel, table=True):
    """The interview's preparation (准备环节): date, place, briefing, materials passed."""

    __tablename__ = "interview_plan"

    selection_id: uuid.UUID = Field(foreign_key="selection.id", primary_key=True)
    held_on: date
    place: str = Field(default="", max_length=200)
    briefing: str = Field(default="", max_length=4000)
    materials: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = ts_field(default_factory=utcnow)


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
    created_at: datetime = ts_field(default_factory=utcnow)


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
    correction_id: uuid.UUID | None = Field(
        default=None, description="The approved correction this version carries out (更正)")
    created_at: datetime = ts_field(default_factory=utcnow)


class ScoreSheetCorrection(SQLModel, table=True):
    """A correction of an obvious slip on a sheet after the sheets are unsealed (评分更正):
    asked by the sheet's judge with the corrected scores and a reason, taking effect only when
    an admin approves it (a new version of the sheet); refused otherwise."""

    __tablename__ = "score_sheet_correction"
    __table_args__ = (Index("ix_score_sheet_correction_candidate", "candidate_id",
                            "requested_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    selection_id: uuid.UUID = Field(foreign_key="selection.id")
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id")
    judge_id: uuid.UUID = Field(foreign_key="user_account.id")
    sheet_id: uuid.UUID = Field(foreign_key="score_sheet.id")
    scores: dict = Field(sa_column=Column(JSON, nullable=False))
    total: float
    comment: str = Field(default="", max_length=4000)
    reason: str = Field(max_length=2000)
    status: str = Field(default="pending", max_length=16)  # pending, approved, rejected
    requested_at: datetime = ts_field(default_factory=utcnow)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    decided_at: datetime | None = ts_field(default=None)
    decision_note: str = Field(default="", max_length=2000)
    new_sheet_id: uuid.UUID | None = Field(default=None)


class InspectionMember(SQLModel, table=True):
    """An inspector on a candidate's organizational inspection team (考察组)."""

    __tablename__ = "inspection_member"
    __table_args__ = (UniqueConstraint("candidate_id", "user_id"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    candidate_id: uuid.UUID = Field(foreign_key="candidate.id", index=True)
    user_id: uuid.UUID = Field(foreign_key="user_account.id", index=True)
    appointed_at: datetime = ts_field(default_factory=utcnow)


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
    created_at: datetime = ts_field(default_factory=utcnow)


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
    created_at: datetime = ts_field(default_factory=utcnow)
