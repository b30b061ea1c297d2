"""The full-process record (全程纪实): the one place that writes events, and their hash chain."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func
from sqlmodel import Session, select

from .clock import Clock
from .models import Event
from .pagination import keyset_page

GENESIS = "0" * 64
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)


@dataclass(frozen=True)
class Author:
    """Who did it: a user (None for the system itself) and the role they acted in."""

    user_id: uuid.UUID | None
    role: str


SYSTEM = Author(None, "system")


def _canonical(event: Event) -> bytes:
    payload = {
        "id": str(event.id),
        "subject_type": event.subject_type,
        "subject_id": str(event.subject_id),
        "seq": event.seq,
        "selection_id": str(event.selection_id) if event.selection_id else None,
        "action": event.action,
        "from_state": event.from_state,
        "to_state": event.to_state,
        "actor_id": str(event.actor_id) if event.actor_id else None,
        "actor_role": event.actor_role,
        "reason": event.reason,
        "params": event.params,
        "request_id": event.request_id,
        "occurred_at": event.occurred_at.isoformat(),
        "simulated_at": event.simulated_at.isoformat() if event.simulated_at else None,
    }
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: Event, prev_hash: str) -> str:
    """sha256 over the previous hash and the event's canonical JSON."""
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(event)).hexdigest()


def append(
    session: Session,
    *,
    subject_type: str,
    subject_id: uuid.UUID,
    selection_id: uuid.UUID | None,
    action: str,
    author: Author,
    clock: Clock,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    params: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the subject's chain, in the caller's transaction."""
    last = session.exec(
        select(Event.seq, Event.hash)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.seq.desc())  # type: ignore[attr-defined]
        .limit(1)
    ).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = Event(
        subject_type=subject_type,
        subject_id=subject_id,
        seq=seq,
        selection_id=selection_id,
        action=action,
        from_state=from_state,
        to_state=to_state,
        actor_id=author.user_id,
        actor_role=author.role,
        reason=reason,
        params=to_jsonable_python(params or {}),
        request_id=request_id_var.get(),
        occurred_at=clock.real_now,
        simulated_at=clock.simulated_now,
        prev_hash=prev,
        hash="",
    )
    event.hash = event_hash(event, prev)
    session.add(event)
    session.flush()
    return event


@dataclass(frozen=True)
class BrokenLink:
    """The first event whose chain does not hold, and why."""

    event_id: uuid.UUID
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    problem: str


def verify(session: Session, *, batch: int = 2000) -> tuple[int, BrokenLink | None]:
    """Walk every chain in order, streaming; return the count checked and the first break."""
    stmt = select(Event).order_by(Event.subject_type, Event.subject_id, Event.seq)
    count = 0
    current: tuple[str, uuid.UUID] | None = None
    prev, expected_seq = GENESIS, 1
    rows: Iterator[Event] = session.exec(stmt.execution_options(yield_per=batch))  # type: ignore[arg-type]
    for ev in rows:
        key = (ev.subject_type, ev.subject_id)
        if key != current:
            current, prev, expected_seq = key, GENESIS, 1
        problem = None
        if ev.seq != expected_seq:
            problem = f"expected sequence {expected_seq}, found {ev.seq}"
        elif ev.prev_hash != prev:
            problem = "prev_hash does not match the previous event's hash"
        elif event_hash(ev, prev) != ev.hash:
            problem = "hash does not match the event's content"
        if problem:
            return count, BrokenLink(ev.id, ev.subject_type, ev.subject_id, ev.seq, problem)
        count += 1
        prev, expected_seq = ev.hash, expected_seq + 1
        session.expunge(ev)
    return count, None


def count_events(session: Session) -> int:
    """How many events the record holds."""
    return session.exec(select(func.count()).select_from(Event)).one()


def events_page(
    session: Session, *, subject_type: str, subject_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Event], str | None]:
    """A page of one subject's events, oldest first."""
    stmt = select(Event).where(Event.subject_type == subject_type, Event.subject_id == subject_id)
    return keyset_page(session, stmt, [Event.seq], limit=limit, cursor=cursor, descending=False)
