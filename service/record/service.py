"""The full-process record (全程纪实): the one place that writes events, and their hash chain."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import func
from sqlmodel import Session, select

from ..core.clock import Clock
from ..core.pagination import keyset_page
from .models import Event

GENESIS = "0" * 64
request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Called with every event appended, in its transaction (the webhook outbox registers here,
# service/webhooks/service.py): the record knows nothing of who listens.
Listener = Callable[[Session, Event], object]
_listeners: list[Listener] = []


def on_append(listener: Listener) -> Listener:
    """Have `listener(session, event)` called after each event is appended, in the event's
    transaction; whatever it writes commits or rolls back with the event."""
    if listener not in _listeners:
        _listeners.append(listener)
    return listener


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
    for listener in _listeners:  # the webhook outbox, in the event's transaction
        listener(session, event)
    return event


@dataclass(frozen=True)
class BrokenLink:
    """The first event whose chain does not hold, and why. `event_id` is None when what is
    wrong is that events are missing (a chain cut short, or gone, since a checkpoint)."""

    event_id: uuid.UUID | None
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    problem: str


Anchors = Mapping[tuple[str, uuid.UUID], tuple[int, str]]


def verify(session: Session, *, batch: int = 2000,
           anchors: Anchors | None = None) -> tuple[int, BrokenLink | None]:
    """Walk every chain in order, streaming; return the count checked and the first break.

    With `anchors` (the chain heads of an earlier checkpoint), also check that every chain
    still reaches its anchored event with the same hash: a chain whose newest events were
    removed, or a whole chain removed, is found, which the hash links alone cannot show."""
    anchors = anchors or {}
    # Plain rows, not ORM objects: nothing is added to the session, and it is twice as fast.
    columns = [c for c in Event.__table__.columns]  # type: ignore[attr-defined]
    stmt = (select(*columns).order_by(Event.subject_type, Event.subject_id, Event.seq)
            .execution_options(stream_results=True, yield_per=batch))
    count = 0
    current: tuple[str, uuid.UUID] | None = None
    prev, expected_seq = GENESIS, 1
    reached: set[tuple[str, uuid.UUID]] = set()

    def cut_short(key: tuple[str, uuid.UUID], last_seq: int) -> BrokenLink | None:
        anchor = anchors.get(key)
        if anchor is None or key in reached:
            return None
        return BrokenLink(None, key[0], key[1], last_seq,
                          f"the chain ends at sequence {last_seq}, but the checkpoint saw it"
                          f" reach {anchor[0]}: later events were removed")

    rows: Iterator[Any] = session.connection().execute(stmt)
    for ev in rows:
        key = (ev.subject_type, ev.subject_id)
        if key != current:
            if current is not None and (gap := cut_short(current, expected_seq - 1)):
                return count, gap
            current, prev, expected_seq = key, GENESIS, 1
        problem = None
        if ev.seq != expected_seq:
            problem = f"expected sequence {expected_seq}, found {ev.seq}"
        elif ev.prev_hash != prev:
            problem = "prev_hash does not match the previous event's hash"
        elif event_hash(ev, prev) != ev.hash:
            problem = "hash does not match the event's content"
        elif (anchor := anchors.get(key)) is not None and anchor[0] == ev.seq:
            if anchor[1] != ev.hash:
                problem = "the hash differs from the checkpoint's: the chain was rewritten"
            reached.add(key)
        if problem:
            return count, BrokenLink(ev.id, ev.subject_type, ev.subject_id, ev.seq, problem)
        count += 1
        prev, expected_seq = ev.hash, expected_seq + 1
    if current is not None and (gap := cut_short(current, expected_seq - 1)):
        return count, gap
    for key, (seq, _) in anchors.items():
        if key not in reached:
            return count, BrokenLink(None, key[0], key[1], 0,
                                     f"the checkpoint saw this chain reach sequence {seq};"
                                     " the record no longer has it")
    return count, None


def heads(session: Session) -> Iterator[tuple[str, uuid.UUID, int, str]]:
    """The newest event of every chain: (subject type, subject id, sequence, hash), in order."""
    newest = (select(Event.subject_type, Event.subject_id, func.max(Event.seq).label("seq"))
              .group_by(Event.subject_type, Event.subject_id).subquery())
    stmt = (select(Event.subject_type, Event.subject_id, Event.seq, Event.hash)
            .join(newest, (Event.subject_type == newest.c.subject_type)
                  & (Event.subject_id == newest.c.subject_id) & (Event.seq == newest.c.seq))
            .order_by(Event.subject_type, Event.subject_id))
    for row in session.exec(stmt.execution_options(yield_per=5000)):  # type: ignore[call-overload]
        yield row[0], row[1], row[2], row[3]


def checkpoint(session: Session, now: datetime) -> dict[str, Any]:
    """A checkpoint of the record: every chain's head and one digest over them all. Kept
    outside the database (a file, another system), it lets `verify` find removed events."""
    digest = hashlib.sha256()
    out: list[list[Any]] = []
    for subject_type, subject_id, seq, hash_ in heads(session):
        out.append([subject_type, str(subject_id), seq, hash_])
        digest.update(f"{subject_type} {subject_id} {seq} {hash_}\n".encode())
    return {"format": 1, "created_at": now.isoformat(), "chains": len(out),
            "events": sum(h[2] for h in out), "digest": digest.hexdigest(), "heads": out}


def anchors_of(document: Mapping[str, Any]) -> dict[tuple[str, uuid.UUID], tuple[int, str]]:
    """The anchors of a checkpoint document; ValueError when it is not one or was altered."""
    if not isinstance(document, Mapping) or document.get("format") != 1:
        raise ValueError("not a checkpoint of this service (format 1)")
    digest = hashlib.sha256()
    found: dict[tuple[str, uuid.UUID], tuple[int, str]] = {}
    try:
        for subject_type, subject_id, seq, hash_ in document["heads"]:
            digest.update(f"{subject_type} {subject_id} {seq} {hash_}\n".encode())
            found[(str(subject_type), uuid.UUID(str(subject_id)))] = (int(seq), str(hash_))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"the checkpoint's heads cannot be read: {e}") from e
    if digest.hexdigest() != document.get("digest"):
        raise ValueError("the checkpoint's digest does not match its heads: it was altered")
    return found


def count_events(session: Session) -> int:
    """How many events the record holds."""
    return session.exec(select(func.count()).select_from(Event)).one()


def events_page(
    session: Session, *, subject_type: str, subject_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Event], str | None]:
    """A page of one subject's events, oldest first."""
    stmt = select(Event).where(Event.subject_type == subject_type, Event.subject_id == subject_id)
    return keyset_page(session, stmt, [Event.seq], limit=limit, cursor=cursor, descending=False)
