"""The email sender: claims due messages from the outbox, delivers them over SMTP, and
retries with backoff. Several senders (replicas, or `python -m service send-mail`) can run
at once: a claimed message is taken by one of them only, and a sent one is never sent again.

A sender claims one message at a time, for longer than one delivery can take (each SMTP
step has its timeout), so no claim runs out while its sender still works on it: a batch
claimed at once used to expire while a slow server took its head, and a second sender sent
its tail again. Each message gets its Message-ID at its first claim, stored on the row and
sent with every try, so a receiver can tell a repeated message from a new one.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
import uuid
from datetime import timedelta
from email.message import EmailMessage

from sqlalchemy import or_
from sqlmodel import Session, select

from ..config import Settings
from ..core.clock import current_clock
from ..core.db import open_session
from ..core.models import utcnow
from ..followup import notifications
from ..followup.models import Notification
from ..nomination.models import Candidate
from ..record import service as record

# The notification_failed event this sender writes is a webhook event type: importing the
# webhook outbox registers its listener on the record in a process that only sends mail.
from ..webhooks import service as _webhooks  # noqa: F401

log = logging.getLogger(__name__)
CLAIM_SECONDS = 120


def backoff(attempts: int) -> timedelta:
    """Wait before the next try: 30 s, 1 min, 2 min, … up to an hour."""
    return timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def claim_seconds(settings: Settings) -> float:
    """How long one message's claim holds: more than connecting, greeting, logging in and
    sending can take, each bounded by the SMTP timeout."""
    return max(CLAIM_SECONDS, 8 * settings.smtp_timeout_seconds)


def message_id(settings: Settings, n: Notification) -> str:
    """The notification's Message-ID: one per notification, whichever try sends it."""
    domain = settings.mail_from.rsplit("@", 1)[-1] or "localhost"
    return f"<notification-{n.id.hex}@{domain}>"


def _claim_one(settings: Settings, worker: str) -> uuid.UUID | None:
    now = utcnow()
    with open_session(write=True) as session:
        n = session.exec(
            select(Notification)
            .where(Notification.state == "queued", Notification.next_attempt_at <= now,
                   or_(Notification.claimed_until.is_(None),  # type: ignore[union-attr]
                       Notification.claimed_until < now))
            .order_by(Notification.next_attempt_at).limit(1)
            .with_for_update(skip_locked=True)).first()
        if n is None:
            return None
        n.claimed_by = worker
        n.claimed_until = now + timedelta(seconds=claim_seconds(settings))
        n.message_id = n.message_id or message_id(settings, n)
        session.add(n)
        session.commit()
        return n.id


def _message(settings: Settings, n: Notification) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = settings.mail_from
    msg["To"] = n.to_address
    msg["Subject"] = n.subject
    msg["Message-ID"] = n.message_id or message_id(settings, n)
    msg.set_content(n.body, charset="utf-8")
    return msg


def _deliver(settings: Settings, msg: EmailMessage) -> None:
    timeout = settings.smtp_timeout_seconds
    if settings.smtp_security == "ssl":
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                              timeout=timeout,
                                              context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=timeout)
    with smtp:
        if settings.smtp_security == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password or "")
        smtp.send_message(msg)


def _finish(session: Session, n: Notification, worker: str, error: str | None,
            settings: Settings) -> None:
    cand = session.exec(select(Candidate).where(Candidate.id == n.candidate_id)
                        .with_for_update()).one()  # one writer at a time on its chain
    n.attempts += 1
    n.claimed_by = n.claimed_until = None
    clock = current_clock(session, settings)
    author = record.Author(None, "system")
    if error is None:
        n.state, n.sent_at, n.last_error = "sent", utcnow(), None
        action = "notification_sent"
    elif n.attempts >= settings.mail_max_attempts:
        n.state, n.last_error = "failed", error[:2000]
        action = "notification_failed"
    else:
        n.last_error, n.next_attempt_at = error[:2000], utcnow() + backoff(n.attempts)
        action = None
    session.add(n)
    if action:
        # an objector's acknowledgement is told in the objection's record, not the candidate's
        subject_type, subject_id, state = notifications.chain_of(session, n, cand)
        record.append(session, subject_type=subject_type, subject_id=subject_id,
                      selection_id=cand.selection_id, action=action, author=author,
                      clock=clock, from_state=state, to_state=state,
                      params={"notification_id": n.id, "to": n.to_address,
                              "attempts": n.attempts, "error": n.last_error,
                              "worker": worker})


def send_due(settings: Settings, *, worker: str | None = None, limit: int = 20) -> int:
    """Deliver what is due now; return how many were sent. Does nothing without SMTP."""
    if not settings.smtp_host:
        return 0
    worker = worker or f"{socket.gethostname()}-{uuid.uuid4().hex[:8]}"
    sent = 0
    for _ in range(limit):
        nid = _claim_one(settings, worker)
        if nid is None:
            break
        with open_session() as session:
            n = session.get(Notification, nid)
            msg = _message(settings, n)
        error = None
        try:
            _deliver(settings, msg)
        except (OSError, smtplib.SMTPException) as e:
            error = f"{type(e).__name__}: {e}"
            log.warning("email %s to %s failed: %s", nid, msg["To"], error)
        with open_session(write=True) as session:
            n = session.exec(select(Notification).where(Notification.id == nid)
                             .with_for_update()).one()
            if n.claimed_by != worker or n.state != "queued":
                continue  # another sender took it over after our claim expired
            _finish(session, n, worker, error, settings)
            session.commit()
        sent += error is None
    return sent
