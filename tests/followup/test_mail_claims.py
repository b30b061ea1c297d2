"""Two email senders and a slow SMTP server: no message is sent twice, and each keeps one
Message-ID across its tries (issue 14, point 4)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import threading
import time
import uuid
from datetime import timedelta

from aiosmtpd.controller import Controller
from sqlmodel import select

from service.config import Settings
from service.core.db import open_session
from service.core.models import utcnow
from service.followup.models import Notification
from service.outbox import mailer

MAIL_FROM = "zzb@example.cn"


class SlowInbox:
    """An aiosmtpd handler that takes `delay` seconds to accept each message."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        await asyncio.sleep(self.delay)
        self.messages.append(email.message_from_bytes(
            envelope.original_content or envelope.content, policy=email.policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _queue(selection_id, candidate_ids) -> list[uuid.UUID]:
    ids = []
    with open_session(write=True) as s:
        for i, cid in enumerate(candidate_ids):
            n = Notification(dedupe_key=f"test-{i}", candidate_id=cid,
                             selection_id=uuid.UUID(selection_id), outcome="appointed",
                             language="zh-CN", to_address=f"person{i}@example.cn",
                             subject="选拔结果通知", body="您好")
            s.add(n)
            ids.append(n.id)
        s.commit()
    return ids


def _rows() -> dict[str, Notification]:
    with open_session() as s:
        return {n.to_address: n for n in s.exec(select(Notification))}


def test_two_senders_and_a_slow_server_send_each_message_once(make_selection, make_candidate,
                                                              monkeypatch):
    sel = make_selection()
    cands = [make_candidate(sel["id"], state="appointed", full_name=f"人{i}") for i in range(6)]
    _queue(sel["id"], cands)
    inbox = SlowInbox(delay=1.0)
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    # A short claim, to show it is per message: a batch claimed at once for 4 s would run
    # out while the first sender still worked on its tail (6 messages x 1 s).
    monkeypatch.setattr(mailer, "CLAIM_SECONDS", 1)
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from=MAIL_FROM,
                        smtp_timeout_seconds=3)  # a claim: max(1, 8 x 3) = 24 s
    try:
        sent: list[int] = []
        senders = [threading.Thread(target=lambda w=w: sent.append(
            mailer.send_due(settings, worker=w))) for w in ("sender-a", "sender-b")]
        started = time.monotonic()
        for t in senders:
            t.start()
            time.sleep(0.2)
        for t in senders:
            t.join(60)
        elapsed = time.monotonic() - started
    finally:
        controller.stop()
    recipients = [str(m["To"]) for m in inbox.messages]
    assert sorted(recipients) == sorted(f"person{i}@example.cn" for i in range(6)), recipients
    assert sum(sent) == 6 and all(sent), sent  # both senders worked, in parallel
    assert elapsed < 6, elapsed
    rows = _rows()
    for m in inbox.messages:
        assert m["Message-ID"] == rows[str(m["To"])].message_id
    assert len({m["Message-ID"] for m in inbox.messages}) == 6


def test_a_message_keeps_its_message_id_across_tries(make_selection, make_candidate):
    sel = make_selection()
    [nid] = _queue(sel["id"], [make_candidate(sel["id"], state="appointed")])
    port = _free_port()
    settings = Settings(smtp_host="127.0.0.1", smtp_port=port, mail_from=MAIL_FROM,
                        smtp_timeout_seconds=2)
    assert mailer.send_due(settings) == 0  # the server is down: a failed try
    with open_session(write=True) as s:
        n = s.get(Notification, nid)
        first_id = n.message_id
        assert first_id and n.attempts == 1 and n.state == "queued"
        n.next_attempt_at = utcnow() - timedelta(seconds=1)
        s.add(n)
        s.commit()
    inbox = SlowInbox(delay=0)
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert mailer.send_due(settings) == 1
    finally:
        controller.stop()
    [m] = inbox.messages
    assert m["Message-ID"] == first_id
    assert first_id.startswith(f"<notification-{nid.hex}@")
