"""Webhooks for HR systems (Standard Webhooks, https://www.standardwebhooks.com).

Admins register subscriptions: a URL, the event types wanted, and a signing secret shown once.
The record is the source: `record.append` calls `enqueue_for` (registered below with
`record.on_append`), which writes one delivery per
active subscription wanting the event's type into the outbox, in the event's own transaction
(a refused action writes neither). The sender below claims due deliveries, POSTs them signed,
and retries with exponential backoff and jitter; several senders (replicas, or
`python -m service send-webhooks`) can run at once and each message is claimed by one.

Every try is kept (`WebhookAttempt`) so admins see what the receiver answered, and can
redeliver. A 410 Gone disables the subscription; the record says why.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import random
import secrets
import socket
import time
import uuid
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StrictBool,
    StringConstraints,
    UrlConstraints,
    field_validator,
)
from sqlalchemy import delete, or_
from sqlmodel import Session, col, select

from .. import __version__
from ..config import Settings
from ..core.clock import Clock, current_clock
from ..core.db import open_session
from ..core.errors import Conflict, NotFound
from ..core.models import User, utcnow
from ..core.pagination import keyset_page
from ..record import service as record
from ..record.models import Event
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription

log = logging.getLogger(__name__)

SUBJECT = "webhook"
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
PING = "webhook.ping"
CLAIM_SECONDS = 120
EXCERPT_CHARS = 1000

# ---------------------------------------------------------------- event types
EVENT_TYPES: dict[str, tuple[str, str]] = {
    "candidate.state_changed": (
        "参选人状态变化（含新参选人产生，此时 from_state 为空）",
        "A candidate's state changed (a new candidate too, with from_state null)"),
    "selection.state_changed": (
        "选拔状态变化（发布、截止推荐、提交党委会、完成决定、结束、取消；含创建）",
        "A selection's state changed (published, nominations closed, submitted, decided,"
        " closed, cancelled; created too)"),
    "nomination.received": (
        "收到推荐或本人报名",
        "A nomination (by a body or members jointly) or a self-application arrived"),
    "outcome.decided": (
        "党委会作出决定：上岗使用、储备人选或不符合",
        "The party committee decided a candidate's outcome: appointed, reserve or"
        " not qualified"),
    "notification.failed": (
        "结果通知邮件多次投递失败，已放弃",
        "An outcome email could not be delivered and was given up"),
}
EventType = Literal[
    "candidate.state_changed", "selection.state_changed", "nomination.received",
    "outcome.decided", "notification.failed",
]
NOMINATION_ACTIONS = {"nominate": None, "apply": "self_application"}
DECISION_ACTIONS = ("decide_appoint", "decide_reserve", "decide_not_qualified")


def event_types_of(event: Event) -> list[str]:
    """The webhook event types an event of the record is (none for most)."""
    types = []
    if event.to_state is not None and event.from_state != event.to_state:
        if event.subject_type == "candidate":
            types.append("candidate.state_changed")
        elif event.subject_type == "selection":
            types.append("selection.state_changed")
    if event.subject_type == "candidate":
        if event.action in NOMINATION_ACTIONS:
            types.append("nomination.received")
        elif event.action in DECISION_ACTIONS:
            types.append("outcome.decided")
        elif event.action == "notification_failed":
            types.append("notification.failed")
    return types


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def _extra(event: Event, event_type: str) -> dict[str, Any]:
    p = event.params or {}
    if event_type == "nomination.received":
        return {"nomination_id": p.get("nomination_id"),
                "kind": NOMINATION_ACTIONS[event.action] or p.get("kind"),
                "body_name": p.get("body_name", ""),
                "duplicate_of_existing": p.get("duplicate_of_existing", False)}
    if event_type == "outcome.decided":
        return {"outcome": event.to_state}
    if event_type == "notification.failed":
        return {"notification_id": p.get("notification_id"), "attempts": p.get("attempts"),
                "error": p.get("error")}
    return {}


def payload_of(event: Event, event_type: str) -> dict[str, Any]:
    """The message body: `type`, `timestamp` (the event's time) and `data`. Thin on personal
    data: the receiver reads the subject through the API when it needs more."""
    data: dict[str, Any] = {
        "event_id": str(event.id), "subject_type": event.subject_type,
        "subject_id": str(event.subject_id),
        "selection_id": str(event.selection_id) if event.selection_id else None,
        "seq": event.seq, "action": event.action, "from_state": event.from_state,
        "to_state": event.to_state, "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role, "reason": event.reason,
        "occurred_at": _iso(event.occurred_at), "simulated_at": _iso(event.simulated_at),
        "event_hash": event.hash,
    }
    if event.subject_type == "candidate":
        data["candidate_id"] = str(event.subject_id)
    data.update(_extra(event, event_type))
    return {"type": event_type, "timestamp": _iso(event.occurred_at), "data": data}


def new_message_id() -> str:
    """A delivery's id, the `webhook-id` header: the receiver's idempotency key."""
    return f"msg_{uuid.uuid4().hex}"


@record.on_append
def enqueue_for(session: Session, event: Event) -> int:
    """Queue the event for every active subscription that wants its type, in the caller's
    transaction; return how many deliveries were written. Events of no webhook type cost
    nothing; the others one query over the (few) active subscriptions."""
    types = event_types_of(event)
    if not types:
        return 0
    subs = session.exec(select(WebhookSubscription.id, WebhookSubscription.event_types)
                        .where(col(WebhookSubscription.active).is_(True))).all()
    count = 0
    for sub_id, wanted in subs:
        for event_type in types:
            if event_type in (wanted or []):
                session.add(WebhookDelivery(id=new_message_id(), subscription_id=sub_id,
                                            event_id=event.id, event_type=event_type,
                                            payload=payload_of(event, event_type)))
                count += 1
    if count:
        session.flush()
    return count


# ---------------------------------------------------------------- signing
def new_secret() -> str:
    """A signing secret: `whsec_` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """`v1,` and the base64 HMAC-SHA256 of `id.timestamp.body` under the secret's bytes."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(mac).decode()


def signing_secrets(sub: WebhookSubscription, now: datetime) -> list[str]:
    """The current secret, and the previous one while a rotation's grace period lasts."""
    out = [sub.secret]
    if sub.previous_secret and sub.previous_secret_expires_at and (
            sub.previous_secret_expires_at > now):
        out.append(sub.previous_secret)
    return out


def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# ---------------------------------------------------------------- request / response models
WebhookUrl = Annotated[HttpUrl, UrlConstraints(max_length=2000, allowed_schemes=["http",
                                                                                "https"])]
Description = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
EventTypes = Annotated[list[EventType], Field(min_length=1, max_length=len(EVENT_TYPES),
                                              description="The event types to receive")]


def _check_url(url: HttpUrl) -> HttpUrl:
    if url.username or url.password:
        raise ValueError("credentials in the URL would be shown to every admin; the"
                         " signature authenticates the sender")
    if url.fragment:
        raise ValueError("a URL with a #fragment is not sent to the server")
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
    """A webhook event type, described in Chinese and English."""

    model_config = ConfigDict(json_schema_extra={"example": {
        "type": "outcome.decided", "description_zh": "党委会作出决定：上岗使用、储备人选或不符合",
        "description_en": "The party committee decided a candidate's outcome"}})

    type: str
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
    payload: dict[str, Any] = Field(description="The JSON body sent")
    status: DeliveryStatus
    attempts: int = Field(description="Tries since it was (re)queued")
    next_attempt_at: datetime | None = Field(description="When it is tried next, if pending")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptPublic] = Field(description="Every try, oldest first, including"
                                             " those before a redelivery")


def public(sub: WebhookSubscription, now: datetime | None = None) -> WebhookPublic:
    """The subscription without its secret."""
    now = now or utcnow()
    until = sub.previous_secret_expires_at
    rotating = until if sub.previous_secret and until and until > now else None
    return WebhookPublic(id=sub.id, url=sub.url, event_types=list(sub.event_types),
                         description=sub.description, active=sub.active,
                         disabled_reason=sub.disabled_reason, disabled_at=sub.disabled_at,
                         secret_rotating_until=rotating, version=sub.version,
                         created_at=sub.created_at, updated_at=sub.updated_at)


def delivery_public(d: WebhookDelivery, attempts: list[WebhookAttempt]) -> DeliveryPublic:
    """A delivery with its tries."""
    return DeliveryPublic(
        id=d.id, subscription_id=d.subscription_id, event_id=d.event_id,
        event_type=d.event_type, payload=d.payload, status=d.status,  # type: ignore[arg-type]
        attempts=d.attempts, next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
        last_status_code=d.last_status_code, last_error=d.last_error,
        delivered_at=d.delivered_at, created_at=d.created_at,
        attempt_log=[AttemptPublic.model_validate(a, from_attributes=True) for a in attempts])


# ---------------------------------------------------------------- subscriptions
def _record(session: Session, sub: WebhookSubscription, action: str, author: record.Author,
            clock: Clock, params: dict[str, Any]) -> None:
    record.append(session, subject_type=SUBJECT, subject_id=sub.id, selection_id=None,
                  action=action, author=author, clock=clock, params=params)


def _settings_of(sub: WebhookSubscription) -> dict[str, Any]:
    return {"url": sub.url, "event_types": list(sub.event_types),
            "description": sub.description, "active": sub.active}


def _ping(session: Session, sub: WebhookSubscription, clock: Clock) -> WebhookDelivery:
    d = WebhookDelivery(id=new_message_id(), subscription_id=sub.id, event_id=None,
                        event_type=PING, payload={
                            "type": PING, "timestamp": _iso(clock.real_now),
                            "data": {"subscription_id": str(sub.id),
                                     "event_types": list(sub.event_types),
                                     "message": "Subscription created; messages will follow."}})
    session.add(d)
    return d


def create(*, session: Session, data: WebhookCreate, user: User, clock: Clock
           ) -> WebhookSubscription:
    """A new subscription with a fresh secret, a ping queued to it, and recorded."""
    sub = WebhookSubscription(url=str(data.url), event_types=sorted(set(data.event_types)),
                              description=data.description, active=data.active,
                              secret=new_secret(), created_by=user.id)
    if not sub.active:
        sub.disabled_reason, sub.disabled_at = "Created inactive by an administrator.", utcnow()
    session.add(sub)
    session.flush()
    _ping(session, sub, clock)
    _record(session, sub, "create_webhook", record.Author(user.id, "admin"), clock,
            _settings_of(sub))
    return sub


def get(*, session: Session, webhook_id: uuid.UUID, lock: bool = False) -> WebhookSubscription:
    """The subscription, or 404."""
    stmt = select(WebhookSubscription).where(WebhookSubscription.id == webhook_id)
    sub = session.exec(stmt.with_for_update() if lock else stmt).first()
    if sub is None:
        raise NotFound(f"No webhook subscription with id {webhook_id}.",
                       code="webhook_not_found")
    return sub


def list_page(*, session: Session, active: bool | None, limit: int, cursor: str | None
              ) -> tuple[list[WebhookSubscription], str | None]:
    """Subscriptions, newest first."""
    stmt = select(WebhookSubscription)
    if active is not None:
        stmt = stmt.where(col(WebhookSubscription.active).is_(active))
    return keyset_page(session, stmt, [WebhookSubscription.created_at, WebhookSubscription.id],
                       limit=limit, cursor=cursor, descending=True)


def update(*, session: Session, sub: WebhookSubscription, data: WebhookUpdate, user: User,
           clock: Clock) -> WebhookSubscription:
    """Apply the fields given (null means: keep); recorded with before and after."""
    given = data.model_dump(exclude_unset=True, exclude_none=True)
    if "url" in given:
        given["url"] = str(data.url)
    if "event_types" in given:
        given["event_types"] = sorted(set(given["event_types"]))
    changed = {}
    for name, value in given.items():
        before = getattr(sub, name)
        if before != value:
            changed[name] = {"before": before, "after": value}
            setattr(sub, name, value)
    if not changed:
        return sub
    if "active" in changed:
        if sub.active:
            sub.disabled_reason = sub.disabled_at = None
        else:
            sub.disabled_reason, sub.disabled_at = "Disabled by an administrator.", utcnow()
    sub.version += 1
    sub.updated_at = utcnow()
    session.add(sub)
    _record(session, sub, "update_webhook", record.Author(user.id, "admin"), clock,
            {"changes": changed})
    return sub


def remove(*, session: Session, sub: WebhookSubscription, user: User, clock: Clock) -> None:
    """Delete the subscription with its deliveries and their tries; the record keeps that it
    existed and was deleted."""
    ids = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == sub.id)
    session.exec(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(ids)))
    session.exec(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    _record(session, sub, "delete_webhook", record.Author(user.id, "admin"), clock,
            _settings_of(sub))
    session.delete(sub)


def rotate_secret(*, session: Session, sub: WebhookSubscription, user: User, clock: Clock,
                  settings: Settings) -> WebhookSubscription:
    """A new secret; the old one still signs (as a second signature) for a grace period."""
    grace = timedelta(hours=settings.webhook_previous_secret_hours)
    sub.previous_secret = sub.secret if grace else None
    sub.previous_secret_expires_at = utcnow() + grace if grace else None
    sub.secret = new_secret()
    sub.version += 1
    sub.updated_at = utcnow()
    session.add(sub)
    _record(session, sub, "rotate_webhook_secret", record.Author(user.id, "admin"), clock,
            {"previous_secret_expires_at": sub.previous_secret_expires_at})
    return sub


# ---------------------------------------------------------------- deliveries
def attempts_of(session: Session, delivery_ids: list[str]) -> dict[str, list[WebhookAttempt]]:
    """The tries of these deliveries, oldest first, in one query."""
    out: dict[str, list[WebhookAttempt]] = {i: [] for i in delivery_ids}
    if delivery_ids:
        for a in session.exec(select(WebhookAttempt)
                              .where(col(WebhookAttempt.delivery_id).in_(delivery_ids))
                              .order_by(WebhookAttempt.attempted_at)):  # type: ignore[arg-type]
            out[a.delivery_id].append(a)
    return out


def deliveries_page(*, session: Session, sub: WebhookSubscription, status: str | None,
                    limit: int, cursor: str | None) -> tuple[list[DeliveryPublic], str | None]:
    """A subscription's deliveries, newest first, each with its tries."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    rows, nxt = keyset_page(session, stmt, [WebhookDelivery.created_at, WebhookDelivery.id],
                            limit=limit, cursor=cursor, descending=True)
    tries = attempts_of(session, [d.id for d in rows])
    return [delivery_public(d, tries[d.id]) for d in rows], nxt


def get_delivery(*, session: Session, sub: WebhookSubscription, delivery_id: str,
                 lock: bool = False) -> WebhookDelivery:
    """One of the subscription's deliveries, or 404."""
    stmt = select(WebhookDelivery).where(WebhookDelivery.id == delivery_id,
                                         WebhookDelivery.subscription_id == sub.id)
    d = session.exec(stmt.with_for_update() if lock else stmt).first()
    if d is None:
        raise NotFound(f"No delivery {delivery_id} for this subscription.",
                       code="webhook_delivery_not_found")
    return d


def redeliver(*, session: Session, sub: WebhookSubscription, delivery: WebhookDelivery,
              user: User, clock: Clock) -> WebhookDelivery:
    """Queue a delivery again, due now, with the same webhook-id (so a receiver that already
    has it can tell) and the same body."""
    if not sub.active:
        raise Conflict("The subscription is inactive; activate it first (PATCH active: true).",
                       code="webhook_inactive", details={"disabled_reason": sub.disabled_reason})
    if delivery.status == "pending" and not delivery.attempts:
        raise Conflict("The delivery is already queued and not tried yet.",
                       code="delivery_already_pending")
    before = delivery.status
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    delivery.claimed_by = delivery.claimed_until = None
    session.add(delivery)
    _record(session, sub, "redeliver_webhook", record.Author(user.id, "admin"), clock,
            {"delivery_id": delivery.id, "event_type": delivery.event_type,
             "status_before": before})
    return delivery


# ---------------------------------------------------------------- the sender
def backoff(attempts: int, settings: Settings) -> timedelta:
    """Wait before the next try: base × 2^(attempts−1), capped, with ±25 % jitter so that
    receivers coming back are not hit by every message at once."""
    base = settings.webhook_backoff_base_seconds * 2 ** max(attempts - 1, 0)
    delay = min(base, settings.webhook_backoff_max_seconds)
    return timedelta(seconds=delay * random.uniform(0.75, 1.25))


def _retry_after(response: httpx.Response | None, settings: Settings) -> float | None:
    value = response.headers.get("retry-after", "") if response is not None else ""
    if value.strip().isdigit():
        return min(float(value), settings.webhook_backoff_max_seconds)
    return None


def _due(now: datetime):
    active = select(WebhookSubscription.id).where(col(WebhookSubscription.active).is_(True))
    return (WebhookDelivery.status == "pending", WebhookDelivery.next_attempt_at <= now,
            or_(col(WebhookDelivery.claimed_until).is_(None),
                col(WebhookDelivery.claimed_until) < now),
            col(WebhookDelivery.subscription_id).in_(active))


def _claim(settings: Settings, worker: str, limit: int) -> list[str]:
    now = utcnow()
    with open_session() as session:  # an idle sender takes no write lock (SQLite)
        if session.exec(select(WebhookDelivery.id).where(*_due(now)).limit(1)).first() is None:
            return []
    hold = max(CLAIM_SECONDS, limit * (settings.webhook_timeout_seconds + 5))
    with open_session(write=True) as session:
        rows = session.exec(
            select(WebhookDelivery).where(*_due(now))
            .order_by(WebhookDelivery.next_attempt_at).limit(limit)  # type: ignore[arg-type]
            .with_for_update(skip_locked=True)).all()
        for d in rows:
            d.claimed_by, d.claimed_until = worker, now + timedelta(seconds=hold)
            session.add(d)
        session.commit()
        return [d.id for d in rows]


class _Outcome:
    """What one try got."""

    def __init__(self) -> None:
        self.status_code: int | None = None
        self.error: str | None = None
        self.excerpt: str | None = None
        self.retry_after: float | None = None
        self.duration_ms = 0

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _post(client: httpx.Client, settings: Settings, sub: WebhookSubscription,
          d: WebhookDelivery) -> _Outcome:
    out = _Outcome()
    body = body_of(d.payload)
    timestamp = int(time.time())
    signature = " ".join(sign(s, d.id, timestamp, body)
                         for s in signing_secrets(sub, utcnow()))
    headers = {"content-type": "application/json", "webhook-id": d.id,
               "webhook-timestamp": str(timestamp), "webhook-signature": signature,
               "user-agent": f"branch-secretary-selection-webhooks/{__version__}"}
    started = time.monotonic()
    try:
        with client.stream("POST", sub.url, content=body, headers=headers) as response:
            out.status_code = response.status_code
            out.retry_after = _retry_after(response, settings)
            got = b""
            for chunk in response.iter_bytes():  # an excerpt, never a whole large answer
                got += chunk
                if len(got) >= EXCERPT_CHARS * 4:
                    break
            out.excerpt = got.decode("utf-8", "replace")[:EXCERPT_CHARS]
        if not out.ok:
            out.error = f"HTTP {out.status_code}"
    except httpx.TimeoutException as e:
        out.error = (f"timed out after {settings.webhook_timeout_seconds:g} s"
                     f" ({type(e).__name__})")
    except Exception as e:  # refused, reset, a bad address…: a failed try, kept as such
        out.error = f"{type(e).__name__}: {e}"[:2000]
    out.duration_ms = int((time.monotonic() - started) * 1000)
    return out


def _disable(session: Session, sub: WebhookSubscription, d: WebhookDelivery,
             settings: Settings) -> None:
    sub.active = False
    sub.disabled_at = utcnow()
    sub.disabled_reason = (f"The receiver answered 410 Gone to {d.id} at"
                           f" {_iso(sub.disabled_at)}.")
    sub.version += 1
    sub.updated_at = sub.disabled_at
    session.add(sub)
    _record(session, sub, "disable_webhook", record.SYSTEM, current_clock(session, settings),
            {"reason": sub.disabled_reason, "delivery_id": d.id, "status_code": 410})


def _finish(session: Session, sub: WebhookSubscription, d: WebhookDelivery, out: _Outcome,
            settings: Settings) -> None:
    d.attempts += 1
    d.claimed_by = d.claimed_until = None
    d.last_status_code, d.last_error = out.status_code, out.error
    if out.ok:
        d.status, d.delivered_at = "delivered", utcnow()
    elif out.status_code == 410:
        d.status = "failed"
        d.last_error = "HTTP 410 Gone: the receiver asked for no more messages"
        _disable(session, sub, d, settings)
    elif d.attempts >= settings.webhook_max_attempts:
        d.status = "failed"
        d.last_error = f"{out.error}; given up after {d.attempts} tries"[:2000]
    else:
        wait = backoff(d.attempts, settings)
        if out.retry_after is not None:
            wait = max(wait, timedelta(seconds=out.retry_after))
        d.next_attempt_at = utcnow() + wait
    session.add(d)


def send_due(settings: Settings, *, worker: str | None = None, limit: int = 20) -> int:
    """Deliver what is due now, one try each; return how many were delivered."""
    worker = worker or f"{socket.gethostname()[:40]}-{uuid.uuid4().hex[:8]}"
    claimed = _claim(settings, worker, limit)
    if not claimed:
        return 0
    delivered = 0
    with httpx.Client(timeout=settings.webhook_timeout_seconds, follow_redirects=False) as client:
        for delivery_id in claimed:
            with open_session() as session:
                d = session.get(WebhookDelivery, delivery_id)
                sub = session.get(WebhookSubscription, d.subscription_id) if d else None
            if d is None or sub is None:
                continue  # deleted meanwhile
            attempted_at = utcnow()
            out = _post(client, settings, sub, d)
            if out.error:
                log.warning("webhook %s to %s failed: %s", delivery_id, sub.url, out.error)
            with open_session(write=True) as session:
                # the subscription first, as the admin routes lock it: one writer at a time on
                # its row and its chain of the record, and no deadlock with them
                sub = session.exec(select(WebhookSubscription)
                                   .where(WebhookSubscription.id == sub.id)
                                   .with_for_update()).first()
                d = session.exec(select(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
                                 .with_for_update()).first()
                if d is None or sub is None:
                    continue  # deleted meanwhile
                session.add(WebhookAttempt(
                    delivery_id=d.id, attempted_at=attempted_at, status_code=out.status_code,
                    error=out.error, response_excerpt=out.excerpt,
                    duration_ms=out.duration_ms, worker=worker[:64]))
                if d.claimed_by == worker and d.status == "pending":
                    _finish(session, sub, d, out, settings)
                    delivered += out.ok
                # else: redelivered or taken over after our claim ran out; the try is kept
                session.commit()
    return delivered
