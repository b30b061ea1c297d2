"""The record's table: events, hash-chained per subject."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


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
    occurred_at: datetime = ts_field(default_factory=utcnow)
    simulated_at: datetime | None = ts_field(default=None, nullable=True)
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)
