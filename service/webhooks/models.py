"""The webhook tables: subscriptions, deliveries (the outbox) and every attempt."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Column, Index, Text
from sqlmodel import Field, SQLModel

from ..core.models import ts_field, utcnow


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
    previous_secret_expires_at: datetime | None = ts_field(default=None, nullable=True)
    active: bool = True
    disabled_reason: str | None = Field(default=None, max_length=500)
    disabled_at: datetime | None = ts_field(default=None, nullable=True)
    version: int = 1
    created_by: uuid.UUID | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = ts_field(default_factory=utcnow)
    updated_at: datetime = ts_field(default_factory=utcnow)


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
    next_attempt_at: datetime = ts_field(default_factory=utcnow)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = ts_field(default=None, nullable=True)
    last_status_code: int | None = None
    last_error: str | None = Field(default=None, max_length=2000)
    delivered_at: datetime | None = ts_field(default=None, nullable=True)
    created_at: datetime = ts_field(default_factory=utcnow)


class WebhookAttempt(SQLModel, table=True):
    """One HTTP try of a delivery: when, the answer (or the error), how long it took."""

    __tablename__ = "webhook_attempt"
    __table_args__ = (Index("ix_webhook_attempt_delivery", "delivery_id", "attempted_at"),)

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    delivery_id: str = Field(foreign_key="webhook_delivery.id", max_length=40)
    attempted_at: datetime = ts_field(default_factory=utcnow)
    status_code: int | None = None
    error: str | None = Field(default=None, max_length=2000)
    response_excerpt: str | None = Field(default=None, max_length=1000)
    duration_ms: int = 0
    worker: str = Field(default="", max_length=64)
