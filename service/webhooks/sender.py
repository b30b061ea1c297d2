"""The webhook sender: claims due deliveries, POSTs them signed (Standard Webhooks), retries
with exponential backoff and jitter, keeps every attempt; a 410 Gone disables the
subscription. Several senders (replicas, or `python -m service send-webhooks`) can run at
once and each message is claimed by one."""

from __future__ import annotations

import logging
import random
import socket
import time
import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import or_
from sqlmodel import Session, col, select

from .. import __version__
from ..config import Settings
from ..core import i18n
from ..core.clock import current_clock
from ..core.db import open_session
from ..core.models import utcnow
from ..record import service as record
from .models import WebhookAttempt, WebhookDelivery, WebhookSubscription
from .service import body_of, iso_utc, record_change, sign, signing_secrets, stored_reason

if TYPE_CHECKING:  # httpx is imported when there is something to send, not by every worker
    import httpx

log = logging.getLogger(__name__)

CLAIM_SECONDS = 120
EXCERPT_CHARS = 1000


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
    import httpx

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
    said = i18n.said("The receiver answered 410 Gone to {delivery} at {at}.", delivery=d.id,
                     at=iso_utc(sub.disabled_at))
    sub.disabled_reason = stored_reason(said)
    sub.version += 1
    sub.updated_at = sub.disabled_at
    session.add(sub)
    record_change(session, sub, "disable_webhook", record.SYSTEM, current_clock(session, settings),
            {"reason": i18n.read(said, "en"), "reason_said": said, "delivery_id": d.id,
             "status_code": 410})


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
    import httpx

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
