"""Request and response models of webhooks, and the event types a subscription may ask for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    UrlConstraints,
    field_validator,
)

from ..core.schemas import LABEL_DOC, Sparse, Stripped, SubjectState, invalid

# ---------------------------------------------------------------- event types
# Each type's description for a person is the catalogue's `webhook_event_type` label.
EVENT_TYPES: tuple[str, ...] = ("candidate.state_changed", "selection.state_changed",
                                "nomination.received", "outcome.decided",
                                "notification.failed")
EventType = Literal[
    "candidate.state_changed", "selection.state_changed", "nomination.received",
    "outcome.decided", "notification.failed",
]


# ---------------------------------------------------------------- request / response models
WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http",
                                                                                "https"])]
Description = Stripped(500)
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES),
                                              description="The event types to receive")]


def _check_url(url: HttpUrl) -> HttpUrl:
    if url.username or url.password:
        raise invalid("url_credentials", "credentials in the URL would be shown to every"
                      " admin; the signature authenticates the sender")
    if url.fragment:
        raise invalid("url_fragment", "a URL with a #fragment is not sent to the server")
    return url


class WebhookCreate(BaseModel):
    """A new subscription; its secret is generated and returned once."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "url": "https://hr.example.cn/hooks/selection",
        "event_types": ["candidate.state_changed", "outcome.decided"],
        "description": "人事系统：参选人状态同步", "active": True}})

    url: WebhookUrl = Field(description="Where to POST the messages (http or https)")
    event_types: EventTypes
    description: Description = ""
    active: StrictBool = True

    @field_validator("url")
    @classmethod
    def _url(cls, v: HttpUrl) -> HttpUrl:
        return _check_url(v)


class WebhookUpdate(BaseModel):
    """Changes to a subscription; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"example": {
        "event_types": ["candidate.state_changed", "outcome.decided", "nomination.received"],
        "active": True}})

    url: WebhookUrl | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    active: StrictBool | None = Field(default=None, description="Reactivating clears"
                                " `disabled_reason`; pending deliveries then go out")

    @field_validator("url")
    @classmethod
    def _url(cls, v: HttpUrl | None) -> HttpUrl | None:
        return v if v is None else _check_url(v)


class WebhookPublic(BaseModel):
    """A subscription as admins see it: never its secret."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": "3f0c6a7e-2b9d-4a8e-9a57-0c1f1c7f2b10", "url": "https://hr.example.cn/hooks/selection",
        "event_types": ["candidate.state_changed", "outcome.decided"],
        "description": "人事系统：参选人状态同步", "active": False,
        "disabled_reason": "The receiver answered 410 Gone to msg_5b0c… at"
                           " 2026-11-21T08:00:00Z.",
        "disabled_at": "2026-11-21T08:00:00Z", "secret_rotating_until": None, "version": 3,
        "created_at": "2026-11-20T09:00:00Z", "updated_at": "2026-11-21T08:00:00Z"}})

    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str
    active: bool
    disabled_reason: str | None = Field(description="Why it is inactive: a 410 from the"
                                        " receiver, or an admin")
    disabled_at: datetime | None
    secret_rotating_until: datetime | None = Field(
        default=None, description="Until then messages carry a second signature, made with"
        " the previous secret")
    version: int
    created_at: datetime
    updated_at: datetime


class WebhookCreated(WebhookPublic):
    """The new subscription with its secret: shown this once."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": "3f0c6a7e-2b9d-4a8e-9a57-0c1f1c7f2b10", "url": "https://hr.example.cn/hooks/selection",
        "event_types": ["candidate.state_changed", "outcome.decided"],
        "description": "人事系统：参选人状态同步", "active": True, "disabled_reason": None,
        "disabled_at": None, "secret_rotating_until": None, "version": 1,
        "created_at": "2026-11-20T09:00:00Z", "updated_at": "2026-11-20T09:00:00Z",
        "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}})

    secret: str = Field(description="`whsec_` + base64 of 32 random bytes; shown only now",
                        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class WebhookSecret(BaseModel):
    """A new signing secret, shown once."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "secret": "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
        "previous_secret_expires_at": "2026-11-22T08:00:00Z"}})

    secret: str
    previous_secret_expires_at: datetime | None = Field(
        description="Until then messages are also signed with the previous secret")


class EventTypeInfo(BaseModel):
    """A webhook event type, described in the reader's language, and in Chinese and English."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "type": "outcome.decided", "description": "党委会作出决定：上岗使用、储备人选或不符合",
        "description_zh": "党委会作出决定：上岗使用、储备人选或不符合",
        "description_en": "The party committee decided a candidate's outcome: appointed,"
        " reserve or not qualified"}})

    type: str
    description: str = Field(description="What the type tells of, " + LABEL_DOC)
    description_zh: str
    description_en: str


class AttemptPublic(BaseModel):
    """One HTTP try of a delivery."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "attempted_at": "2026-10-14T02:00:02Z", "status_code": 503, "error": "HTTP 503",
        "response_excerpt": "maintenance", "duration_ms": 41}})

    attempted_at: datetime
    status_code: int | None = Field(description="The receiver's answer; null when none came")
    error: str | None = Field(description="A network error or timeout, or why the answer"
                              " was not a success")
    response_excerpt: str | None = Field(description="The first 1000 characters of the"
                                         " receiver's body")
    duration_ms: int


DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookData(Sparse):
    """What a message tells: the record's event (thin on personal data), and per event type a
    few facts more (`nomination.received`: the nomination; `outcome.decided`: the outcome;
    `notification.failed`: the email; `webhook.ping`: the subscription)."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "event_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "subject_type": "candidate",
        "subject_id": "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b", "action": "decide_appoint",
        "from_state": "inspected", "to_state": "appointed", "outcome": "appointed"}})

    event_id: str | None = None
    subject_type: str | None = None
    subject_id: str | None = None
    selection_id: str | None = None
    candidate_id: str | None = None
    seq: int | None = None
    action: str | None = None
    from_state: SubjectState | None = None
    to_state: SubjectState | None = None
    actor_id: str | None = None
    actor_role: str | None = None
    reason: str | None = None
    occurred_at: str | None = None
    simulated_at: str | None = None
    event_hash: str | None = None
    nomination_id: str | None = None
    kind: str | None = None
    body_name: str | None = None
    duplicate_of_existing: bool | None = None
    outcome: str | None = None
    notification_id: str | None = None
    attempts: int | None = None
    error: str | None = None
    subscription_id: str | None = None
    event_types: list[str] | None = None
    message: str | None = None


class WebhookPayload(Sparse):
    """A message's JSON body as it was sent (and signed): its type, time and data."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "type": "outcome.decided", "timestamp": "2026-10-14T02:00:00Z",
        "data": {"candidate_id": "7d3e1a52-4c8b-4f0e-9b6a-1c2d3e4f5a6b", "outcome": "appointed"}}})

    type: str
    timestamp: str | None = None
    data: WebhookData


class DeliveryPublic(BaseModel):
    """A message to one subscription, its state and every try."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "id": "msg_5b0c2f6a9d1e4c7b8a3f2e1d0c9b8a7f",
        "subscription_id": "3f0c6a7e-2b9d-4a8e-9a57-0c1f1c7f2b10",
        "event_id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "event_type": "outcome.decided",
        "payload": {"type": "outcome.decided", "timestamp": "2026-10-14T02:00:00Z",
                    "data": {"candidate_id": "…", "outcome": "appointed"}},
        "status": "delivered", "attempts": 2, "next_attempt_at": None,
        "last_status_code": 200, "last_error": None,
        "delivered_at": "2026-10-14T02:01:03Z", "created_at": "2026-10-14T02:00:00Z",
        "attempt_log": [
            {"attempted_at": "2026-10-14T02:00:02Z", "status_code": 503,
             "error": "HTTP 503", "response_excerpt": "maintenance", "duration_ms": 41},
            {"attempted_at": "2026-10-14T02:01:03Z", "status_code": 200, "error": None,
             "response_excerpt": "", "duration_ms": 12}]}})

    id: str = Field(description="The `webhook-id` header: the same on every try")
    subscription_id: uuid.UUID
    event_id: uuid.UUID | None = Field(description="The record's event; null for a ping")
    event_type: str
    payload: WebhookPayload = Field(description="The JSON body sent")
    status: DeliveryStatus
    attempts: int = Field(description="Tries since it was (re)queued")
    next_attempt_at: datetime | None = Field(description="When it is tried next, if pending")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptPublic] = Field(description="Every try, oldest first, including"
                                             " those before a redelivery")
