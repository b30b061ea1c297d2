"""The record's table: events, hash-chained per subject."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


class Event(SQLModel, table=True):
    """One entry of the full-process record (全程纪实): append-only, hash-chained per subject."""

    __table_args__ = (
        UniqueConstraint("subject_type", "subject_id", "seq"),
        Index("ix_event_selection", "selection_id", "occurred_at"),
        Index("ix_event_occurred_at", "occurred_at"),
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
    key_id: str | None = Field(
        default=None, max_length=32,
        description="The MAC key that signed the event (HMAC-SHA256); None: written before"
        " the record was keyed, plain sha256")
    body: str | None = Field(
        default=None, sa_column=Column(Text, nullable=True),
        description="The canonical JSON that was hashed, as it was hashed; None: written"
        " before events kept it (verification then rebuilds it from the columns)")


class RecordCheckpoint(SQLModel, table=True):
    """A checkpoint the service took itself (every N events and daily), MAC'ed with the
    record's key, append-only like the events: a full one holds every chain's head, a delta
    the heads of the chains written since the one before (`prev_id`). `verify` checks the
    record against the newest and its predecessors back to a full one, so a removed newest
    event or chain is found without a file."""

    __tablename__ = "record_checkpoint"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    created_at: datetime = ts_field(default_factory=utcnow, index=True)
    chains: int
    events: int
    unkeyed_events: int = Field(description="Events without a key id (written before the"
                                " record was keyed) when the checkpoint was taken")
    digest: str = Field(max_length=64)
    heads: list = Field(sa_column=Column(JSON, nullable=False))
    key_id: str = Field(max_length=32)
    mac: str = Field(max_length=64)
    scope: str = Field(default="full", max_length=8, sa_column_kwargs={"server_default": "full"},
                       description="full: every chain's head; delta: the chains written since"
                       " the checkpoint `prev_id`")
    prev_id: uuid.UUID | None = Field(default=None, description="The checkpoint before this one"
                                      " (None for those taken before checkpoints were linked)")
