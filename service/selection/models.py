"""Step 1's table: the selection, with its job description and settings."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


class Selection(SQLModel, table=True):
    """One open selection for one or more named secretary posts (岗位), each for a branch."""

    __table_args__ = (Index("ix_selection_state_created", "state", "created_at", "id"),
                      Index("ix_selection_created", "created_at", "id"))

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    title: str = Field(max_length=200)
    organization: str = Field(max_length=200)
    posts: int = 1  # the total of named_posts' counts
    named_posts: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    state: str = Field(default="drafting", max_length=32)
    version: int = 1
    job_description: dict = Field(sa_column=Column(JSON, nullable=False))
    settings: dict = Field(sa_column=Column(JSON, nullable=False))
    publicity_start_on: date | None = None
    publicity_end_on: date | None = None
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)
