"""Webhooks for HR systems (Standard Webhooks, https://www.standardwebhooks.com).

Admins register subscriptions: a URL, the event types wanted, and a signing secret shown once.
The record is the source: `record.append` calls `enqueue_for` (registered below with
`record.on_append`), which writes one delivery per active subscription wanting the event's
type into the outbox, in the event's own transaction (a refused action writes neither). The
sender (service/webhooks/sender.py) claims due deliveries, POSTs them signed, and retries
with exponential backoff and jitter; several senders (replicas, or
`python -m service send-webhooks`) can run at once and each message is claimed by one.

Every try is kept (`WebhookAttempt`) so admins see what the receiver answered, and can
redeliver. A 410 Gone disables the subscription; the record says why.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import logging
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Uuid, bindparam, delete, text
from sqlmodel import Session, col, select

from ..config import Settings
from ..core import i18n
from ..core.clock import Clock
from ..core.errors import Conflict, NotFound
from ..core.models import User, UTCDateTime, utcnow
from ..core.pagination import keyset_page
from ..record import service as record
from ..record.models import Event
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from .schemas import (
    AttemptPublic,
    DeliveryPublic,
    WebhookCreate,
    WebhookPublic,
    WebhookUpdate,
)

log = logging.getLogger(__name__)

SUBJECT = record.subject_type("webhook")
SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # Standard Webhooks: 24 to 64 bytes
PING = "webhook.ping"

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


def iso_utc(moment: datetime | None) -> str | None:
    """A time as Standard Webhooks shows it: ISO 8601 with a Z."""
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
        "occurred_at": iso_utc(event.occurred_at), "simulated_at": iso_utc(event.simulated_at),
        "event_hash": event.hash,
    }
    if event.subject_type == "candidate":
        data["candidate_id"] = str(event.subject_id)
    data.update(_extra(event, event_type))
    return {"type": event_type, "timestamp": iso_utc(event.occurred_at), "data": data}


def new_message_id() -> str:
    """A delivery's id, the `webhook-id` header: the receiver's idempotency key."""
    return f"msg_{uuid.uuid4().hex}"


# One statement per webhook type of the event: a delivery for every active subscription that
# wants the type, found and written by the database at once (no lookup of the subscriptions
# first, so nothing to cache, and a new or changed subscription counts from its commit on).
# The id is the same `msg_<32 hex digits>` as new_message_id(), drawn by the database.
_ENQUEUE_SQL = """INSERT INTO webhook_delivery (id, subscription_id, event_id, event_type,
 payload, status, attempts, next_attempt_at, created_at)
SELECT {new_id}, s.id, :event_id, :event_type, :payload, 'pending', 0, :now, :now
FROM webhook_subscription AS s WHERE s.active AND {wants}"""
_ENQUEUE = {
    "sqlite": _ENQUEUE_SQL.format(
        new_id="'msg_' || lower(hex(randomblob(16)))",
        wants="EXISTS (SELECT 1 FROM json_each(s.event_types) AS t WHERE t.value = :event_type)"),
    "postgresql": _ENQUEUE_SQL.format(
        new_id="'msg_' || replace(CAST(gen_random_uuid() AS TEXT), '-', '')",
        wants="CAST(s.event_types AS JSONB) @> CAST(:wanted AS JSONB)"),
}


@functools.cache
def _enqueue_statement(dialect: str) -> Any:
    return text(_ENQUEUE[dialect]).bindparams(
        bindparam("event_id", type_=Uuid()), bindparam("payload", type_=JSON()),
        bindparam("now", type_=UTCDateTime()))


@record.on_append
def enqueue_for(session: Session, event: Event) -> int:
    """Queue the event for every active subscription that wants its type, in the caller's
    transaction; return how many deliveries were written. Events of no webhook type cost
    nothing; the others one statement per type."""
    types = event_types_of(event)
    if not types:
        return 0
    conn = session.connection()
    stmt = _enqueue_statement(conn.dialect.name)
    count, now = 0, utcnow()
    for event_type in types:
        count += conn.execute(stmt, {
            "event_id": event.id, "event_type": event_type, "wanted": json.dumps([event_type]),
            "payload": payload_of(event, event_type), "now": now}).rowcount
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


def stored_reason(said: dict[str, Any]) -> str:
    """Why a subscription is inactive, as its row keeps it: the text's msgid and parameters
    (`i18n.said`), as JSON, so that each admin reads it in their language."""
    return json.dumps(said, ensure_ascii=False, sort_keys=True)


def reason_of(stored: str | None) -> str | None:
    """A subscription's `disabled_reason` in the reader's language; one stored as plain
    English before reads as its translation, or as it was written."""
    if stored is None:
        return None
    try:
        said = json.loads(stored)
    except ValueError:
        return i18n.text(stored)
    return i18n.read(said) if isinstance(said, dict) else stored


def public(sub: WebhookSubscription, now: datetime | None = None) -> WebhookPublic:
    """The subscription without its secret."""
    now = now or utcnow()
    until = sub.previous_secret_expires_at
    rotating = until if sub.previous_secret and until and until > now else None
    return WebhookPublic(id=sub.id, url=sub.url, event_types=list(sub.event_types),
                         description=sub.description, active=sub.active,
                         disabled_reason=reason_of(sub.disabled_reason),
                         disabled_at=sub.disabled_at,
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
def record_change(session: Session, sub: WebhookSubscription, action: str,
                  author: record.Author, clock: Clock, params: dict[str, Any]) -> None:
    record.append(session, subject_type=SUBJECT, subject_id=sub.id, selection_id=None,
                  action=action, author=author, clock=clock, params=params)


def _settings_of(sub: WebhookSubscription) -> dict[str, Any]:
    return {"url": sub.url, "event_types": list(sub.event_types),
            "description": sub.description, "active": sub.active}


def _ping(session: Session, sub: WebhookSubscription, clock: Clock) -> WebhookDelivery:
    d = WebhookDelivery(id=new_message_id(), subscription_id=sub.id, event_id=None,
                        event_type=PING, payload={
                            "type": PING, "timestamp": iso_utc(clock.real_now),
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
        sub.disabled_reason = stored_reason(i18n.said("Created inactive by an administrator."))
        sub.disabled_at = utcnow()
    session.add(sub)
    session.flush()
    _ping(session, sub, clock)
    record_change(session, sub, "create_webhook", record.Author(user.id, "admin"), clock,
            _settings_of(sub))
    return sub


def get(*, session: Session, webhook_id: uuid.UUID, lock: bool = False) -> WebhookSubscription:
    """The subscription, or 404."""
    stmt = select(WebhookSubscription).where(WebhookSubscription.id == webhook_id)
    sub = session.exec(stmt.with_for_update() if lock else stmt).first()
    if sub is None:
        raise NotFound("No webhook subscription with id {webhook_id}.",
                       code="webhook_not_found", params={"webhook_id": webhook_id})
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
            sub.disabled_reason = stored_reason(i18n.said("Disabled by an administrator."))
            sub.disabled_at = utcnow()
    sub.version += 1
    sub.updated_at = utcnow()
    session.add(sub)
    record_change(session, sub, "update_webhook", record.Author(user.id, "admin"), clock,
            {"changes": changed})
    return sub


def remove(*, session: Session, sub: WebhookSubscription, user: User, clock: Clock) -> None:
    """Delete the subscription with its deliveries and their tries; the record keeps that it
    existed and was deleted."""
    ids = select(WebhookDelivery.id).where(WebhookDelivery.subscription_id == sub.id)
    session.exec(delete(WebhookAttempt).where(col(WebhookAttempt.delivery_id).in_(ids)))
    session.exec(delete(WebhookDelivery).where(WebhookDelivery.subscription_id == sub.id))
    record_change(session, sub, "delete_webhook", record.Author(user.id, "admin"), clock,
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
    record_change(session, sub, "rotate_webhook_secret", record.Author(user.id, "admin"), clock,
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
        raise NotFound("No delivery {delivery_id} for this subscription.",
                       code="webhook_delivery_not_found", params={"delivery_id": delivery_id})
    return d


def redeliver(*, session: Session, sub: WebhookSubscription, delivery: WebhookDelivery,
              user: User, clock: Clock) -> WebhookDelivery:
    """Queue a delivery again, due now, with the same webhook-id (so a receiver that already
    has it can tell) and the same body."""
    if not sub.active:
        raise Conflict("The subscription is inactive; activate it first (PATCH active: true).",
                       code="webhook_inactive",
                       details={"disabled_reason": reason_of(sub.disabled_reason)})
    if delivery.status == "pending" and not delivery.attempts:
        raise Conflict("The delivery is already queued and not tried yet.",
                       code="delivery_already_pending")
    before = delivery.status
    delivery.status, delivery.attempts, delivery.next_attempt_at = "pending", 0, utcnow()
    delivery.claimed_by = delivery.claimed_until = None
    session.add(delivery)
    record_change(session, sub, "redeliver_webhook", record.Author(user.id, "admin"), clock,
            {"delivery_id": delivery.id, "event_type": delivery.event_type,
             "status_before": before})
    return delivery
