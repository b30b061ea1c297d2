"""Webhook subscriptions for HR systems, and their deliveries (admins only)."""

import uuid
from typing import Annotated

from fastapi import Path, Query, Response

from ..core import i18n
from ..core.deps import (
    AdminUser,
    ClockDep,
    IfMatch,
    SessionDep,
    SettingsDep,
    check_if_match,
    etag_of,
    set_etag,
)
from ..core.errors import NOT_MODIFIED, problems
from ..core.pagination import Page
from ..core.routing import api_router
from ..webhooks import service as webhooks
from ..webhooks.schemas import (
    EVENT_TYPES,
    DeliveryPublic,
    DeliveryStatus,
    EventTypeInfo,
    WebhookCreate,
    WebhookCreated,
    WebhookPublic,
    WebhookSecret,
    WebhookUpdate,
)
from .common import Cursor, Limit

router = api_router(prefix="/api/v1/webhooks", tags=["webhooks"])
KIND = "webhook"
DeliveryId = Annotated[str, Path(max_length=40, pattern=r"^msg_[0-9a-f]{32}$",
                                 description="The delivery's id, its `webhook-id` header",
                                 examples=["msg_5b0c2f6a9d1e4c7b8a3f2e1d0c9b8a7f"])]
WebhookId = Annotated[uuid.UUID, Path(description="The subscription's id",
                                      examples=["3f0c6a7e-2b9d-4a8e-9a57-0c1f1c7f2b10"])]


def _public(sub, response: Response) -> WebhookPublic:
    set_etag(response, KIND, sub.id, sub.version)
    return webhooks.public(sub)


# Beside the subscriptions, not under them: `/webhooks/{webhook_id}` would otherwise also
# match the name, and a method the types do not take would answer 422 instead of 405.
types_router = api_router(tags=["webhooks"])


@types_router.get("/api/v1/webhook-event-types", response_model=list[EventTypeInfo],
                  responses=problems(401, 403))
def list_webhook_event_types(admin: AdminUser) -> list[EventTypeInfo]:
    """The event types a subscription can ask for, each described in the reader's language
    (and in Chinese and English). Every new subscription is also sent one `webhook.ping`."""
    return [EventTypeInfo(type=t, description=i18n.label("webhook_event_type", t),
                          description_zh=i18n.label("webhook_event_type", t, "zh-CN"),
                          description_en=i18n.label("webhook_event_type", t, "en"))
            for t in EVENT_TYPES]


@router.post("", status_code=201, response_model=WebhookCreated,
             responses=problems(401, 403, 409, 422))
def create_webhook(data: WebhookCreate, session: SessionDep, admin: AdminUser, clock: ClockDep,
                   response: Response) -> WebhookCreated:
    """Register an HR system's endpoint for some event types. The answer holds the signing
    secret (`whsec_…`), shown this once; a `webhook.ping` is queued to the URL."""
    sub = webhooks.create(session=session, data=data, user=admin, clock=clock)
    response.headers["Location"] = f"/api/v1/webhooks/{sub.id}"
    response.headers["Cache-Control"] = "no-store"  # the secret: never cached, nor kept
    return WebhookCreated(**_public(sub, response).model_dump(), secret=sub.secret)


@router.get("", response_model=Page[WebhookPublic], responses=problems(401, 403, 422))
def list_webhooks(
    session: SessionDep, admin: AdminUser,
    active: Annotated[bool | None, Query(description="Only active (or inactive) ones",
                                         examples=[False])] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[WebhookPublic]:
    """The subscriptions, newest first (never their secrets)."""
    rows, nxt = webhooks.list_page(session=session, active=active, limit=limit, cursor=cursor)
    return Page[WebhookPublic](items=[webhooks.public(s) for s in rows], next_cursor=nxt,
                               limit=limit)


@router.get("/{webhook_id}", response_model=WebhookPublic,
            responses=problems(401, 403, 404, 422) | NOT_MODIFIED)
def read_webhook(webhook_id: WebhookId, session: SessionDep, admin: AdminUser,
                 response: Response) -> WebhookPublic:
    """One subscription, with why it is inactive if it is; sends its ETag."""
    return _public(webhooks.get(session=session, webhook_id=webhook_id), response)


@router.patch("/{webhook_id}", response_model=WebhookPublic,
              responses=problems(401, 403, 404, 412, 422))
def update_webhook(webhook_id: WebhookId, data: WebhookUpdate, session: SessionDep,
                   admin: AdminUser, clock: ClockDep, response: Response,
                   if_match: IfMatch = None) -> WebhookPublic:
    """Change the URL, event types, description or activity; fields left out (or null) stay
    as they are. Reactivating a subscription sends what waited while it was inactive."""
    sub = webhooks.get(session=session, webhook_id=webhook_id, lock=True)
    check_if_match(if_match, etag_of(KIND, sub.id, sub.version))
    webhooks.update(session=session, sub=sub, data=data, user=admin, clock=clock)
    return _public(sub, response)


@router.delete("/{webhook_id}", status_code=204, response_class=Response,
               responses=problems(401, 403, 404, 412, 422))
def delete_webhook(webhook_id: WebhookId, session: SessionDep, admin: AdminUser,
                   clock: ClockDep, if_match: IfMatch = None) -> Response:
    """Delete the subscription with its deliveries; nothing more is sent to it. The record
    keeps its history."""
    sub = webhooks.get(session=session, webhook_id=webhook_id, lock=True)
    check_if_match(if_match, etag_of(KIND, sub.id, sub.version))
    webhooks.remove(session=session, sub=sub, user=admin, clock=clock)
    return Response(status_code=204)


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookSecret,
             responses=problems(401, 403, 404, 409, 422))
def rotate_webhook_secret(webhook_id: WebhookId, session: SessionDep, admin: AdminUser,
                          clock: ClockDep, settings: SettingsDep,
                          response: Response) -> WebhookSecret:
    """A new signing secret, shown once. For a grace period (SELECTION_WEBHOOK_PREVIOUS_
    SECRET_HOURS) messages carry two signatures, one per secret, so the receiver can switch
    without losing any."""
    sub = webhooks.get(session=session, webhook_id=webhook_id, lock=True)
    webhooks.rotate_secret(session=session, sub=sub, user=admin, clock=clock, settings=settings)
    set_etag(response, KIND, sub.id, sub.version)
    response.headers["Cache-Control"] = "no-store"  # the secret: never cached, nor kept
    return WebhookSecret(secret=sub.secret,
                         previous_secret_expires_at=sub.previous_secret_expires_at)


@router.get("/{webhook_id}/deliveries", response_model=Page[DeliveryPublic],
            responses=problems(401, 403, 404, 422))
def list_webhook_deliveries(
    webhook_id: WebhookId, session: SessionDep, admin: AdminUser,
    status: Annotated[DeliveryStatus | None, Query(description="Only deliveries in this"
                                                   " status", examples=["failed"])] = None,
    limit: Limit = 50, cursor: Cursor = None,
) -> Page[DeliveryPublic]:
    """The subscription's messages, newest first, each with every try: when, the status
    code or error, an excerpt of the answer, and how long it took."""
    sub = webhooks.get(session=session, webhook_id=webhook_id)
    items, nxt = webhooks.deliveries_page(session=session, sub=sub, status=status, limit=limit,
                                          cursor=cursor)
    return Page[DeliveryPublic](items=items, next_cursor=nxt, limit=limit)


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=DeliveryPublic,
            responses=problems(401, 403, 404, 422))
def read_webhook_delivery(webhook_id: WebhookId, delivery_id: DeliveryId, session: SessionDep,
                          admin: AdminUser) -> DeliveryPublic:
    """One message with its body and every try."""
    sub = webhooks.get(session=session, webhook_id=webhook_id)
    d = webhooks.get_delivery(session=session, sub=sub, delivery_id=delivery_id)
    return webhooks.delivery_public(d, webhooks.attempts_of(session, [d.id])[d.id])


@router.post("/{webhook_id}/deliveries/{delivery_id}/redeliver", status_code=202,
             response_model=DeliveryPublic, responses=problems(401, 403, 404, 409, 422))
def redeliver_webhook(webhook_id: WebhookId, delivery_id: DeliveryId, session: SessionDep,
                      admin: AdminUser, clock: ClockDep) -> DeliveryPublic:
    """Send a message again, now, with the same `webhook-id` and body (freshly signed): after
    it failed, or when the receiver lost it. 409 while it still waits for its first try, or
    when the subscription is inactive."""
    sub = webhooks.get(session=session, webhook_id=webhook_id, lock=True)
    d = webhooks.get_delivery(session=session, sub=sub, delivery_id=delivery_id, lock=True)
    webhooks.redeliver(session=session, sub=sub, delivery=d, user=admin, clock=clock)
    return webhooks.delivery_public(d, webhooks.attempts_of(session, [d.id])[d.id])
