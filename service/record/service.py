"""The full-process record (全程纪实): the one place that writes events, their keyed chain
(HMAC-SHA256), verification of the chains, of the rows that decide outcomes and of every
subject's state, and checkpoints (taken by the service itself, or kept in a file)."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import itertools
import json
import math
import multiprocessing
import os
import queue
import re
import threading
import uuid
from collections import namedtuple
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import (
    JSON,
    String,
    Text,
    Uuid,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
)
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import defer
from sqlmodel import Session, select

from ..config import get_settings
from ..core import i18n
from ..core.clock import Clock
from ..core.pagination import keyset_page
from . import keys as record_keys
from .models import Event, RecordCheckpoint

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


# The kinds of subject the record keeps chains of events for, each registered beside the code
# that writes its events (`SUBJECT = record.subject_type("candidate")`): the document's
# `SubjectType` is this set, and `append` takes no other.
SUBJECT_TYPES: set[str] = set()


def subject_type(name: str) -> str:
    """Register a kind of subject of the record; returns its name."""
    SUBJECT_TYPES.add(name)
    return name


@dataclass(frozen=True)
class Author:
    """Who did it: a user (None for the system itself) and the role they acted in."""

    user_id: uuid.UUID | None
    role: str


SYSTEM = Author(None, "system")


def _canonical(event: Any) -> bytes:
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
    if event.key_id is not None:  # events written before the record was keyed lack it
        payload["key_id"] = event.key_id
    return json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def event_hash(event: Any, prev_hash: str, key: bytes | None = None) -> str:
    """HMAC-SHA256 with `key` over the previous hash and the event's canonical JSON; plain
    sha256 without a key (the rule of events written before the record was keyed)."""
    return _link(prev_hash, _canonical(event), key)


def _link(prev_hash: str, body: bytes, key: bytes | None) -> str:
    message = prev_hash.encode() + b"\n" + body
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.digest(key, message, "sha256").hex()


def sealed(values: Mapping[str, Any], key: bytes) -> tuple[str, str]:
    """The canonical JSON of an event's values (what is hashed, kept as its `body`) and its
    hash after `values["prev_hash"]`, with `key`."""
    body = _canonical(SimpleNamespace(**values))
    return body.decode(), _link(values["prev_hash"], body, key)


# json.dumps(…, sort_keys=True, ensure_ascii=False, separators=(",", ":")), its encoder made
# once rather than at each call
_canonical_text = json.JSONEncoder(sort_keys=True, ensure_ascii=False,
                                   separators=(",", ":")).encode


def _canonical_json(value: Any) -> bytes:
    return _canonical_text(to_jsonable_python(value)).encode()


def row_digest(fields: Mapping[str, Any]) -> str:
    """sha256 of a canonical form of a row's deciding fields, as its event carries it."""
    return hashlib.sha256(_canonical_json(dict(fields))).hexdigest()


def covers(coverage: Coverage, row: Any) -> dict[str, str]:
    """What an event's params carry under "covers" for a row that decides an outcome:
    `{"<table>/<row id>": digest}`; verification finds any later change of the row."""
    return {f"{coverage.name}/{getattr(row, coverage.key)}": row_digest(coverage.fields(row))}


@dataclass(frozen=True)
class Coverage:
    """A table whose rows decide outcomes (score sheets, committee meetings, …): each row is
    covered by the event that wrote it, which carries `covers(coverage, row)` in its params.
    The step that owns the table registers it (`cover`); the record knows only this."""

    name: str                       # the table's name, and the prefix in "covers"
    table: Any                      # the SQLModel table class
    subject_type: str               # the subject whose events cover the rows
    subject_column: str             # the row's column holding that subject's id
    actions: tuple[str, ...]        # the actions whose events cover rows
    fields: Callable[[Any], dict[str, Any]]  # the deciding fields of a row (a model or a Row)
    legacy_ref: str | None = None   # param naming the row in events written before "covers"
    key: str = "id"


@dataclass(frozen=True)
class StateCoverage:
    """A table of subjects with a state: each one's state must be its newest event's
    to_state."""

    subject_type: str
    table: Any
    state_column: str = "state"
    id_column: str = "id"


_coverages: list[Coverage] = []
_state_coverages: list[StateCoverage] = []


def cover(coverage: Coverage | StateCoverage) -> Coverage | StateCoverage:
    """Have `verify` check the rows (or the states) of a table against their events."""
    target: list = _coverages if isinstance(coverage, Coverage) else _state_coverages
    if coverage not in target:
        target.append(coverage)
    return coverage


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
    reason: str | dict[str, Any] | None = None,
    params: dict[str, Any] | None = None,
) -> Event:
    """Append one event to the subject's chain, in the caller's transaction. A reason the
    service writes itself (`i18n.said(…)`) is stored in the catalogue's default language,
    and, under `params.reason_said`, as its msgid and parameters for every other reader."""
    if subject_type not in SUBJECT_TYPES:
        raise ValueError(f"{subject_type!r} is not a registered subject type of the record")
    if isinstance(reason, dict):
        params = {**(params or {}), "reason_said": reason}
        reason = i18n.read(reason, i18n.DEFAULT)
    # The subject's pending changes are written first: their UPDATE takes its row's lock, so
    # that a second writer of the same subject waits here, and then reads the head the first
    # one wrote (on PostgreSQL a subject read without FOR UPDATE, such as an account, has no
    # other lock). The head itself is read on the session's connection: the events are plain
    # INSERTs on it, so it sees every one.
    _write_pending(session)
    last = session.connection().execute(
        _CHAIN_HEAD, {"subject_type": subject_type, "subject_id": subject_id}).first()
    seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
    ring = record_keys.keyring()
    values = {
        "id": uuid.uuid4(), "subject_type": subject_type, "subject_id": subject_id, "seq": seq,
        "selection_id": selection_id, "action": action, "from_state": from_state,
        "to_state": to_state, "actor_id": author.user_id, "actor_role": author.role,
        "reason": reason, "params": to_jsonable_python(params or {}),
        "request_id": request_id_var.get(), "occurred_at": clock.real_now,
        "simulated_at": clock.simulated_now, "prev_hash": prev, "key_id": ring.current,
    }
    values["body"], values["hash"] = sealed(values, ring.keys[ring.current])
    # A plain INSERT, and the event as an object no session tracks: no ORM object is
    # validated, tracked or flushed.
    session.connection().execute(_EVENT_INSERT, values)
    event = Event.model_construct(**values)
    for listener in _listeners:  # the webhook outbox, in the event's transaction
        listener(session, event)
    return event


def _write_pending(session: Session) -> None:
    """The session's pending changes, written. The common case, an action's subject (one
    row changed, nothing added or deleted), is one UPDATE of its changed columns, without
    the ORM's unit of work; anything else is the session's flush. Either way the ORM then
    holds the values as written: its commit writes nothing again."""
    if session.new or session.deleted:
        session.flush()
        return
    dirty = session.dirty
    if not dirty:
        return
    if len(dirty) > 1:
        session.flush()
        return
    obj = next(iter(dirty))
    state = sa_inspect(obj)
    mapper = state.mapper
    table = mapper.local_table
    if len(mapper.tables) != 1 or mapper.relationships:
        session.flush()
        return
    unmodified = state.unmodified
    changed = tuple(attr for attr in mapper.column_attrs if attr.key not in unmodified)
    if changed:
        stmt = _UPDATES.get((table, changed))
        if stmt is None:
            stmt = _UPDATES[(table, changed)] = table.update().where(
                *(c == bindparam(f"pk_{c.key}") for c in mapper.primary_key)).values(
                {attr.columns[0].key: bindparam(attr.columns[0].key) for attr in changed})
        values = {attr.columns[0].key: state.dict[attr.key] for attr in changed}
        for c in mapper.primary_key:
            values[f"pk_{c.key}"] = state.dict[mapper.get_property_by_column(c).key]
        session.connection().execute(stmt, values)
    state._commit_all(state.dict, session.identity_map)  # what the flush does when done


_UPDATES: dict[tuple[Any, tuple[Any, ...]], Any] = {}  # one per table and changed columns


_EVENT_INSERT = Event.__table__.insert()  # type: ignore[attr-defined]
_CHAIN_HEAD = (select(Event.seq, Event.hash)
               .where(Event.subject_type == bindparam("subject_type"),
                      Event.subject_id == bindparam("subject_id"))
               .order_by(Event.seq.desc())  # type: ignore[attr-defined]
               .limit(1))


def reason_in(event: Any, lang: i18n.Lang | None = None) -> str:
    """An event's reason as a person reads it: one the service wrote (`params.reason_said`)
    in `lang`, a person's as they wrote it."""
    said = (event.params or {}).get("reason_said")
    return i18n.read(said, lang) if said else (event.reason or "")


@dataclass(frozen=True)
class BrokenLink:
    """The first event whose chain does not hold, and why. `event_id` is None when what is
    wrong is that events are missing (a chain cut short, or gone, since a checkpoint), or
    a row or a subject's state that differs from its events."""

    event_id: uuid.UUID | None
    subject_type: str
    subject_id: uuid.UUID
    seq: int
    code: str  # what kind of problem, a stable identifier (BROKEN_CODES)
    said: Mapping[str, Any]  # why, as `i18n.said` keeps a text: each reader reads their own

    @property
    def problem(self) -> str:
        """Why, in English (the command line, the logs)."""
        return self.text("en")

    def text(self, lang: i18n.Lang | None = None) -> str:
        """Why, in `lang` (the current request's by default)."""
        return i18n.read(self.said, lang)


# The kinds of problem verification names (`BrokenLink.code`), for a client to tell apart.
BROKEN_CODES = (
    "sequence_gap", "prev_hash_mismatch", "unkeyed_after_keyed", "unkeyed_after_checkpoint",
    "hash_mismatch", "unknown_record_key", "columns_changed", "chain_rewritten",
    "chain_cut_short", "chain_gone", "row_gone", "row_changed", "row_without_event",
    "state_without_event", "state_mismatch", "checkpoint_invalid")


_PREV_HASH = i18n.said("prev_hash does not match the previous event's hash")
_UNKEYED_AFTER_KEYED = i18n.said("an event without a key id follows keyed events: it was"
                                 " written without the record's key")
_UNKEYED_AFTER_CHECKPOINT = i18n.said("an event without a key id after the automatic"
                                      " checkpoint: this service signs every new event; it was"
                                      " written without the key")
_HASH = i18n.said("hash does not match the event's content")
_MAC = i18n.said("hash does not match the event's content (or the event was not made with"
                 " the record's key)")
_COLUMNS_CHANGED = i18n.said("hash does not match the event's content: its columns were"
                             " changed")
_DIGEST_ALTERED = i18n.said("the checkpoint's digest does not match its heads: it was altered")


def _broken(event_id: uuid.UUID | None, subject_type: str, subject_id: uuid.UUID, seq: int,
            code: str, said: Mapping[str, Any]) -> BrokenLink:
    assert code in BROKEN_CODES, code
    return BrokenLink(event_id, subject_type, subject_id, seq, code, said)


class CheckpointProblem(ValueError):
    """An automatic checkpoint that cannot vouch for the record, and why (`said`)."""

    def __init__(self, said: Mapping[str, Any]):
        super().__init__(i18n.read(said, "en"))
        self.said = said


Anchors = Mapping[tuple[str, uuid.UUID], tuple[int, str]]


@dataclass
class Report:
    """What `verify_report` found: events checked, the first break, and how far it vouches."""

    events: int = 0
    broken: BrokenLink | None = None
    unkeyed_events: int = 0          # plain sha256: written before the record was keyed
    rows_checked: int = 0            # rows that decide outcomes, matched to their events
    rows_not_covered: int = 0        # rows whose (older, unkeyed) event carries no digest
    subjects_checked: int = 0        # subjects whose state equals their newest event's
    checkpoint_at: datetime | None = None   # the newest automatic checkpoint
    events_after_checkpoint: int = 0        # covered by the keyed links only
    details: dict[str, int] = field(default_factory=dict)


# A part of the record, by its subjects' ids: from the first (inclusive; None: the lowest) to
# the second (exclusive; None: past the highest). The whole record is (None, None).
Bounds = tuple[uuid.UUID | None, uuid.UUID | None]
WHOLE: Bounds = (None, None)


def _within(column: Any, bounds: Bounds) -> list[Any]:
    """The conditions that keep a subject column within `bounds`."""
    lo, hi = bounds
    return [*([column >= lo] if lo is not None else []), *([column < hi] if hi is not None else [])]


def _holds(bounds: Bounds, subject_id: uuid.UUID) -> bool:
    """Whether a subject's id is within `bounds` (a uuid's order is that of its 16 bytes, the
    order of both databases)."""
    lo, hi = bounds
    return (lo is None or subject_id >= lo) and (hi is None or subject_id < hi)


# ---------------------------------------------------------------- anchors, streamed
# A checkpoint's heads are read as the JSON text its row stores and parsed one head at a
# time, beside the chain pass: the chains come in subject order, and so do the heads of each
# subject type in a checkpoint (`heads` writes them so), so each chain meets its anchor, and
# an anchored chain the record lacks is passed over, without a map of all the heads (some
# 450 bytes a chain in Python objects, in each process verifying a part). What is kept is
# the stored text, about 110 bytes a chain.
_WS = re.compile(r"[ \t\n\r]*")
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_decode_at = json.JSONDecoder().raw_decode


def _elements(text: str, at: int | None = None) -> Iterator[tuple[int, Any]]:
    """The elements of the JSON array `text` with their offsets, parsed one at a time, from
    the start or from the element at offset `at`; ValueError where it is not one."""
    if at is None:
        i = _WS.match(text).end()  # type: ignore[union-attr]
        if text[i:i + 1] != "[":
            raise ValueError("not a JSON array")
        i = _WS.match(text, i + 1).end()  # type: ignore[union-attr]
        if text[i:i + 1] == "]":
            return
    else:
        i = at
    while True:
        value, end = _decode_at(text, i)
        yield i, value
        end = _WS.match(text, end).end()  # type: ignore[union-attr]
        if text[end:end + 1] == "]":
            return
        if text[end:end + 1] != ",":
            raise ValueError(f"not a JSON array at offset {end}")
        i = _WS.match(text, end + 1).end()  # type: ignore[union-attr]


Head = tuple[str, int, str]  # a chain's subject id (str(UUID)), sequence, hash


def _head_line(subject_type: Any, subject_id: Any, seq: Any, hash_: Any) -> bytes:
    """A chain's head as a checkpoint's digest takes it, one line each, in the heads' order."""
    return f"{subject_type} {subject_id} {seq} {hash_}\n".encode()


@dataclass(frozen=True)
class _Source:
    """One checkpoint's heads as anchors: where each subject type's heads lie in the stored
    text of the automatic checkpoint `checkpoint_id` (the offset of the first, how many), or
    the heads themselves by subject type in order (a file's, or a checkpoint's stored in
    another order)."""

    checkpoint_id: uuid.UUID | None
    blocks: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    heads: Mapping[str, Sequence[Head]] | None = None


@dataclass(frozen=True)
class _AnchorSet:
    """A named set of anchors: one checkpoint file, or the newest automatic checkpoint with its
    predecessors back to a full one (oldest first; a later head of a chain wins)."""

    name: Mapping[str, Any]  # as `i18n.said` keeps it: "the automatic checkpoint of …"
    sources: tuple[_Source, ...]
    automatic: bool


def _checked_heads(text: str, digest: str, checkpoint_id: uuid.UUID | None) -> _Source:
    """A checkpoint's stored heads, read once: their digest checked, and where each subject
    type's heads lie; ValueError when they cannot be read or the digest differs."""
    hashed = hashlib.sha256()
    blocks: dict[str, tuple[int, int]] = {}
    in_order, kind, last = True, None, ""
    try:
        for offset, (subject_type, subject_id, seq, hash_) in _elements(text):
            if not (isinstance(subject_type, str) and isinstance(subject_id, str)
                    and type(seq) is int and isinstance(hash_, str)):
                raise ValueError(f"a head is not [type, id, sequence, hash]: {subject_type!r},"
                                 f" {subject_id!r}, {seq!r}")
            hashed.update(_head_line(subject_type, subject_id, seq, hash_))
            if not _CANONICAL_UUID.fullmatch(subject_id):
                uuid.UUID(subject_id)  # ValueError when it is no uuid at all
                in_order = False
            if subject_type != kind:
                if subject_type in blocks:
                    in_order = False
                blocks[subject_type] = (offset, 0)
                kind, last = subject_type, ""
            elif subject_id <= last:
                in_order = False
            blocks[subject_type] = (blocks[subject_type][0], blocks[subject_type][1] + 1)
            last = subject_id
    except (TypeError, ValueError, RecursionError) as e:  # nested past Python's limit
        raise CheckpointProblem(i18n.said(
            "the checkpoint's heads cannot be read: {error}", error=f"{type(e).__name__}: {e}"
        )) from e
    if hashed.hexdigest() != digest:
        raise CheckpointProblem(_DIGEST_ALTERED)
    if in_order:
        return _Source(checkpoint_id, blocks)
    found: dict[tuple[str, uuid.UUID], tuple[int, str]] = {}  # stored another way: in memory
    for _, (subject_type, subject_id, seq, hash_) in _elements(text):
        found[(subject_type, uuid.UUID(subject_id))] = (seq, hash_)
    return _memory_source(found)


def _memory_source(anchors: Anchors) -> _Source:
    """Anchors held in memory (a checkpoint file's), by subject type in order."""
    by_type: dict[str, list[tuple[uuid.UUID, int, str]]] = {}
    for (subject_type, subject_id), (seq, hash_) in anchors.items():
        by_type.setdefault(subject_type, []).append((subject_id, seq, hash_))
    return _Source(None, heads={t: [(str(i), s, h) for i, s, h in sorted(rows)]
                                for t, rows in by_type.items()})


def _stored_heads(session: Session, checkpoint_id: uuid.UUID) -> str:
    """An automatic checkpoint's heads as the text its row stores."""
    t = RecordCheckpoint.__table__  # type: ignore[attr-defined]
    return session.connection().execute(
        select(cast(t.c.heads, Text)).where(t.c.id == checkpoint_id)).scalar_one()


class _Cursor:
    """One source's heads of one subject type within bounds, in order, as the chain pass
    meets its subjects (ids as the database gives them: SQLite's 32 hex digits)."""

    def __init__(self, heads: Iterator[Head], bounds: Bounds, dashless: bool):
        lo, hi = ((None if b is None else b.hex if dashless else str(b)) for b in bounds)

        def within() -> Iterator[Head]:
            for subject_id, seq, hash_ in heads:
                key = subject_id.replace("-", "") if dashless else subject_id
                if lo is not None and key < lo:
                    continue
                if hi is not None and key >= hi:
                    return
                yield key, seq, hash_

        self._heads = within()
        self.head = next(self._heads, None)

    def take(self, subject: str | None) -> tuple[Head | None, tuple[int, str] | None]:
        """The first head passed over before `subject` (None: all that are left are), and
        its own."""
        passed: Head | None = None
        while self.head is not None and (subject is None or self.head[0] < subject):
            passed = passed or self.head
            self.head = next(self._heads, None)
        if self.head is not None and self.head[0] == subject:
            own, self.head = (self.head[1], self.head[2]), next(self._heads, None)
            return passed, own
        return passed, None


class _Anchoring:
    """The anchors of `sets` met by one pass of the chains within `bounds`: for each chain
    what each set says its head is, and the first anchored chain the pass did not meet."""

    def __init__(self, session: Session, sets: Sequence[_AnchorSet], bounds: Bounds,
                 dashless: bool, texts: Mapping[uuid.UUID, str] | None = None):
        self.sets, self.bounds, self.dashless = sets, bounds, dashless
        self._texts = {cp: (texts or {}).get(cp) or _stored_heads(session, cp)
                       for one in sets for src in one.sources
                       if (cp := src.checkpoint_id) is not None and src.heads is None}
        self._cursors: dict[tuple[int, int, str], _Cursor] = {}
        self.gone: tuple[str, str, str, int] | None = None  # set's name, type, id, sequence

    def _cursor(self, i: int, j: int, subject_type: str) -> _Cursor:
        key = (i, j, subject_type)
        if key not in self._cursors:
            src = self.sets[i].sources[j]
            if src.heads is not None:
                heads: Iterator[Head] = iter(src.heads.get(subject_type, ()))
            elif subject_type in src.blocks:
                offset, count = src.blocks[subject_type]
                text = self._texts[src.checkpoint_id]  # type: ignore[index]
                heads = (tuple(v[1:]) for _, v in  # type: ignore[misc]
                         itertools.islice(_elements(text, offset), count))
            else:
                heads = iter(())
            self._cursors[key] = _Cursor(heads, self.bounds, self.dashless)
        return self._cursors[key]

    def at(self, subject_type: str, subject: str | None) -> tuple[list[tuple[str, int, str]], int]:
        """The heads the sets give the chain of `subject` (None: none, all left are passed
        over), and the automatic checkpoint's sequence for it (0 without)."""
        here: list[tuple[str, int, str]] = []
        auto_seq = 0
        for i, one in enumerate(self.sets):
            newest: tuple[int, str] | None = None
            for j in range(len(one.sources)):
                passed, own = self._cursor(i, j, subject_type).take(subject)
                if passed and self.gone is None:
                    self.gone = (one.name, subject_type, passed[0], passed[1])
                newest = own or newest
            if newest is not None:
                here.append((one.name, *newest))
                if one.automatic:
                    auto_seq = newest[0]
        return here, auto_seq

    def missing(self) -> tuple[str, str, str, int] | None:
        """The first anchored chain within the bounds that the pass did not meet."""
        kinds = {t for one in self.sets for src in one.sources
                 for t in (src.heads if src.heads is not None else src.blocks)}
        for subject_type in sorted(kinds):
            self.at(subject_type, None)
        return self.gone


# The columns verification reads, as the database keeps them: ids, params and (on SQLite)
# times as stored text, decoded only where an event keeps no body (`_Raw.typed`).
_RAW = ("id", "subject_type", "subject_id", "seq", "selection_id", "action", "from_state",
        "to_state", "actor_id", "actor_role", "reason", "params", "request_id", "occurred_at",
        "simulated_at", "prev_hash", "hash", "key_id", "body")
_AS_TEXT = {"id", "subject_id", "selection_id", "actor_id", "params"}


def _raw_columns(dialect: str) -> list[Any]:
    t = Event.__table__  # type: ignore[attr-defined]
    text_too = _AS_TEXT | ({"occurred_at", "simulated_at"} if dialect == "sqlite" else set())
    return [*(cast(t.c[n], String).label(n) if n in text_too else t.c[n] for n in _RAW),
            literal_column(_CONSISTENT.get(dialect, "0")).label("consistent")]


# Whether an event's columns say what its body says, asked of the database (in C, and on
# PostgreSQL in its own process): true for every event the service wrote; otherwise (no
# body, JSON written another way, or a changed column) Python looks again (_body_matches).
def _sqlite_iso(c: str) -> str:  # a stored time as Python's isoformat() of it in UTC
    return (f"CASE WHEN {c} IS NULL THEN NULL WHEN substr({c}, 20) = '.000000' THEN"
            f" replace(substr({c}, 1, 19), ' ', 'T') || '+00:00'"
            f" ELSE replace({c}, ' ', 'T') || '+00:00' END")


def _pg_iso(c: str) -> str:
    return (f"CASE WHEN {c} IS NULL THEN NULL WHEN mod(CAST(EXTRACT(MICROSECONDS FROM {c}) AS"
            f" BIGINT), 1000000) = 0 THEN to_char({c} AT TIME ZONE 'UTC',"
            f" 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"') ELSE to_char({c} AT TIME ZONE 'UTC',"
            f" 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') END")


def _sqlite_consistent() -> str:
    # the body's values, two json_extract calls of many paths each, against the columns as
    # JSON arrays (ids without their dashes, as SQLite keeps them); json_valid first, so that
    # a body or params that are not JSON make the event inconsistent, not the query fail
    ids = ("id", "subject_id", "selection_id", "actor_id")
    rest = ("subject_type", "seq", "action", "from_state", "to_state", "actor_role", "reason",
            "request_id", "key_id", "occurred_at", "simulated_at", "params")
    column = {"occurred_at": _sqlite_iso("event.occurred_at"),
              "simulated_at": _sqlite_iso("event.simulated_at"), "params": "json(event.params)"}

    def in_body(keys: Sequence[str]) -> str:
        return "json_extract(event.body, " + ", ".join(f"'$.{k}'" for k in keys) + ")"

    def stored(keys: Sequence[str]) -> str:
        return "json_array(" + ", ".join(column.get(k, f"event.{k}") for k in keys) + ")"

    return (f"(CASE WHEN event.body IS NOT NULL AND json_valid(event.body)"
            f" AND json_valid(event.params) THEN replace({in_body(ids)}, '-', '') = {stored(ids)}"
            f" AND {in_body(rest)} = {stored(rest)} ELSE 0 END)")


def _pg_consistent() -> str:
    # the canonical JSON made again from the columns, in PostgreSQL's own process, and
    # compared with the body as text: to_json quotes as the record's JSON does
    def string(c: str) -> str:
        return f"coalesce(CAST(to_json({c}) AS TEXT), 'null')"

    def quoted(text: str) -> str:
        return f"coalesce('\"' || {text} || '\"', 'null')"

    fields = {
        "action": string("event.action"), "actor_id": quoted("CAST(event.actor_id AS TEXT)"),
        "actor_role": string("event.actor_role"), "from_state": string("event.from_state"),
        "id": quoted("CAST(event.id AS TEXT)"), "key_id": string("event.key_id"),
        "occurred_at": quoted(_pg_iso("event.occurred_at")),
        "params": "CAST(event.params AS TEXT)", "reason": string("event.reason"),
        "request_id": string("event.request_id"),
        "selection_id": quoted("CAST(event.selection_id AS TEXT)"),
        "seq": "CAST(event.seq AS TEXT)", "simulated_at": quoted(_pg_iso("event.simulated_at")),
        "subject_id": quoted("CAST(event.subject_id AS TEXT)"),
        "subject_type": string("event.subject_type"), "to_state": string("event.to_state")}
    made = " || ',' || ".join(f"'\"{k}\":' || {v}" for k, v in sorted(fields.items()))
    return (f"(event.body IS NOT NULL AND event.key_id IS NOT NULL AND"
            f" event.body = '{{' || {made} || '}}')")


_CONSISTENT = {"sqlite": _sqlite_consistent(), "postgresql": _pg_consistent()}


def _moment(value: Any) -> datetime | None:
    """A stored time as the UTC datetime the event was written with."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's text, UTC without a zone
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _typed(ev: Any) -> SimpleNamespace:
    """An event without a body, decoded as the ORM would, to rebuild its canonical JSON."""
    def uid(v: str | None) -> uuid.UUID | None:
        return uuid.UUID(v) if v else None

    return SimpleNamespace(
        id=uid(ev.id), subject_type=ev.subject_type, subject_id=uid(ev.subject_id),
        seq=ev.seq, selection_id=uid(ev.selection_id), action=ev.action,
        from_state=ev.from_state, to_state=ev.to_state, actor_id=uid(ev.actor_id),
        actor_role=ev.actor_role, reason=ev.reason, params=json.loads(ev.params),
        request_id=ev.request_id, occurred_at=_moment(ev.occurred_at),
        simulated_at=_moment(ev.simulated_at), key_id=ev.key_id)


_decode = json.JSONDecoder().decode


def _body_matches(ev: Any, dashless: bool) -> bool:
    """Whether every column of the event says what its body (the bytes hashed) says."""
    try:
        d = _decode(ev.body)
    except ValueError:
        return False

    def same_id(said: str | None, stored: str | None) -> bool:
        if said is None or stored is None:
            return said is stored
        return (said.replace("-", "") if dashless else said) == stored

    try:
        return (same_id(d["id"], ev.id) and d["subject_type"] == ev.subject_type
                and same_id(d["subject_id"], ev.subject_id) and d["seq"] == ev.seq
                and same_id(d["selection_id"], ev.selection_id) and d["action"] == ev.action
                and d["from_state"] == ev.from_state and d["to_state"] == ev.to_state
                and same_id(d["actor_id"], ev.actor_id) and d["actor_role"] == ev.actor_role
                and d["reason"] == ev.reason and d["request_id"] == ev.request_id
                and d.get("key_id") == ev.key_id and ev.key_id is not None
                and len(d) == 16
                and datetime.fromisoformat(d["occurred_at"]) == _moment(ev.occurred_at)
                and (d["simulated_at"] is None if ev.simulated_at is None else
                     d["simulated_at"] is not None and
                     datetime.fromisoformat(d["simulated_at"]) == _moment(ev.simulated_at))
                and _decode(ev.params) == d["params"])
    except (KeyError, TypeError, ValueError):
        return False


def _keyed(key: bytes) -> Any:
    """An HMAC-SHA256 keyed once with `key`, to be copied for each event: OpenSSL's own
    object where there is one (its copy, update and hexdigest in C, without the wrapper of
    `hmac.new`)."""
    try:
        from _hashlib import hmac_new
    except ImportError:  # a Python built without OpenSSL
        return hmac.new(key, digestmod=hashlib.sha256)
    return hmac_new(key, digestmod="sha256")


def _diff(fields: Mapping[str, Any], params: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Which of the row's fields differ from the same names in its event's params, each a
    text to read."""
    now = to_jsonable_python(dict(fields))
    return [i18n.said("{field} is {now}, the event recorded {then}", field=k,
                      now=json.dumps(now[k], ensure_ascii=False),
                      then=json.dumps(params[k], ensure_ascii=False))
            for k in now if k in params and params[k] != now[k]]


def _sqlite_serialized() -> bool:
    """Whether this Python's SQLite serializes the calls on one connection (threadsafety 3)."""
    import sqlite3

    return sqlite3.threadsafety == 3


def _driver_batches(session: Session, stmt: Any, batch: int, ahead: int = 2,
                   described: Callable[[Sequence[Any]], None] | None = None
                   ) -> Generator[list[tuple], None, None]:
    """The rows of `stmt` in batches, straight from the database driver (no result objects):
    a server-side cursor on PostgreSQL, SQLite's own cursor, in the session's transaction.

    The batches are read on a thread of their own, up to `ahead` of the one being checked:
    the database's work for a batch (SQLite's, which runs without the GIL; PostgreSQL's, in
    its own process) then overlaps the Python that checks the one before, and memory stays
    that of a few batches. With `ahead` 0, on the caller's thread, and `described` is
    called with the cursor's description before the first batch."""
    conn = session.connection()
    sql = str(stmt.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    driver = conn.connection.driver_connection
    assert driver is not None
    cursor = (driver.cursor(name=f"verify_{uuid.uuid4().hex}")  # type: ignore[call-arg]
              if conn.dialect.name == "postgresql" else driver.cursor())
    if conn.dialect.name == "postgresql":
        cursor.itersize = batch
    elif not _sqlite_serialized():  # one connection on two threads needs SQLite's mutex
        ahead = 0
    if not ahead:
        try:
            cursor.execute(sql)
            if described is not None:
                described(cursor.description)
            while rows := cursor.fetchmany(batch):
                yield rows
        finally:
            cursor.close()
        return
    ready: queue.Queue[list[tuple] | BaseException] = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def read() -> None:
        try:
            cursor.execute(sql)
            while not stop.is_set():
                rows = cursor.fetchmany(batch)
                ready.put(rows)
                if not rows:
                    return
        except BaseException as e:  # handed to the reader of the batches, raised there
            ready.put(e)

    reader = threading.Thread(target=read, name="verify-read", daemon=True)
    reader.start()
    try:
        while (rows := ready.get()):
            if isinstance(rows, BaseException):
                raise rows
            yield rows
    finally:
        stop.set()
        while reader.is_alive():  # a reader waiting to hand over a batch is let go
            with contextlib.suppress(queue.Empty):
                ready.get(timeout=0.05)
        reader.join()
        cursor.close()


def _chain_stmt(dialect: str, bounds: Bounds = WHOLE) -> Any:
    """What the chain pass reads of each event of the subjects within `bounds`, in chain order
    (the unique index on subject and sequence): the link, the bytes hashed, whether the
    columns say what they say, the state it moved to, and for the events that cover rows,
    what they cover."""
    t = Event.__table__  # type: ignore[attr-defined]
    actions = sorted({a for cov in _coverages for a in cov.actions})
    covering = t.c.action.in_(actions) if actions else literal_column("1 = 0")
    if dialect == "postgresql":
        covers = func.json_extract_path_text(t.c.params, "covers")
        kind = func.json_typeof(func.json_extract_path(t.c.params, "covers"))
    else:  # params that are not JSON cover nothing (and their event is found inconsistent)
        covering = covering & (func.json_valid(t.c.params) == 1)
        covers = func.json_extract(t.c.params, "$.covers")
        kind = func.json_type(t.c.params, "$.covers")
    legacy = case((covering & t.c.key_id.is_(None) & kind.is_(None), cast(t.c.params, String)))
    return (select(t.c.subject_type, cast(t.c.subject_id, String), t.c.seq, t.c.prev_hash,
                   t.c.hash, t.c.key_id, t.c.body, t.c.to_state,
                   literal_column(_CONSISTENT[dialect]), case((covering, t.c.action)),
                   case((covering, cast(t.c.id, String))),
                   case((covering & (kind == "object"), covers)), legacy)
            .where(*_within(t.c.subject_id, bounds))
            .order_by(t.c.subject_type, t.c.subject_id, t.c.seq))


def _claim(checks: Iterable[_RowCheck], action: str, covers: str | None,
           legacy_params: str | None, event_raw: str, seq: int,
           claims: dict[str, tuple[str, Any, int]], legacy: set[str]) -> None:
    """What an event of a covering action says of the rows: their digests under "covers"
    (the newest event of a row speaks for it), or, for an older unkeyed event without them,
    the row it names."""
    said = json.loads(covers) if covers else {}
    params = json.loads(legacy_params) if legacy_params else None
    for check in checks:
        cov = check.cov
        if action not in cov.actions:
            continue
        for ref, digest in said.items():
            if ref.startswith(check.prefix):
                claims[ref] = (digest, event_raw, seq)
        if cov.legacy_ref and isinstance(params, dict):
            legacy.add(f"{cov.name}/{params.get(cov.legacy_ref)}")


def _one_event(session: Session, subject_type: str, subject_id: str, seq: int) -> Any:
    """One event's columns as verification reads them, for the rare event whose body does not
    speak for it (none, or its columns differ) and for naming a broken one."""
    t = Event.__table__  # type: ignore[attr-defined]
    dialect = session.connection().dialect.name
    return session.connection().execute(
        select(*_raw_columns(dialect)).where(
            t.c.subject_type == subject_type, t.c.subject_id == uuid.UUID(subject_id),
            t.c.seq == seq)).first()


def _rebuilt(session: Session, subject_type: str, subject_id: str, seq: int, prev: str,
             key: bytes | None) -> str | None:
    """The hash of an event that keeps no body (or no key id), from its columns; None when
    they cannot be read as the service wrote them (params that are not JSON)."""
    try:
        return event_hash(_typed(_one_event(session, subject_type, subject_id, seq)), prev, key)
    except ValueError:
        return None


class _Beside:
    """A table read beside the chains, in the order of its subjects, its ids as text (the
    subject as the chain pass reads it: SQLite's 32 hex digits, PostgreSQL's text): each
    subject's rows are handed over when its chain ends, and those of subjects without a
    chain too, so that every row is seen once, in one pass of both."""

    def __init__(self, session: Session, columns: Sequence[Any], subject: Any, batch: int,
                 bounds: Bounds = WHOLE):
        self.uuids = [isinstance(c.type, Uuid) for c in columns]
        self.json = [isinstance(c.type, JSON) for c in columns]
        read = [cast(c, String).label(c.name) if is_uuid or is_json else c
                for c, is_uuid, is_json in zip(columns, self.uuids, self.json, strict=True)]
        self._at = [c.name for c in columns].index(subject.name)
        self.description: Sequence[Any] = ()

        def described(description: Sequence[Any]) -> None:
            self.description = description

        # the driver's rows as they come (ids and JSON as text), no result object per row
        self._batches = _driver_batches(session, select(*read).where(*_within(subject, bounds)).order_by(subject), batch, ahead=0,
                                        described=described)
        self._rows: Iterator[tuple] = iter(())
        self._next = self._advance()

    def _advance(self) -> tuple | None:
        row = next(self._rows, None)
        if row is None and (batch := next(self._batches, None)):
            self._rows = iter(batch)
            row = next(self._rows, None)
        return row

    def before(self, subject: str | None) -> Iterator[tuple]:
        """The rows of subjects ordered before `subject` (every row left, with None)."""
        while self._next is not None and (subject is None or self._next[self._at] < subject):
            yield self._next
            self._next = self._advance()

    def of(self, subject: str) -> list[tuple]:
        """The rows of `subject` (after those before it were taken)."""
        out = []
        while self._next is not None and self._next[self._at] == subject:
            out.append(self._next)
            self._next = self._advance()
        return out

    def waiting(self, subject: str) -> bool:
        """Whether a row of `subject` or of one before it is next."""
        return self._next is not None and self._next[self._at] <= subject

    def close(self) -> None:
        """Stop reading (the cursor is closed)."""
        self._batches.close()


def _dashed(value: str | None) -> str | None:
    """A uuid as SQLite keeps it (32 hex digits) in its usual form, as str(UUID) writes it."""
    if value is None or len(value) != 32:
        return value
    return f"{value[:8]}-{value[8:12]}-{value[12:16]}-{value[16:20]}-{value[20:]}"


class _RawJSON(str):
    """A JSON column's text as stored (the service stores the canonical form, core.db.json_text)."""


def _quick_canonical(fields: Mapping[str, Any]) -> str | None:
    """`_canonical_json(fields)`, quicker, for a row read raw: strings, numbers, booleans and
    nulls as json.dumps writes them, a JSON column's stored text as it is (one at most, so
    that equal text still means equal values); None for anything else, which is then
    decoded as the ORM would (`_RowCheck._exact`)."""
    parts, raw = [], 0
    for k in sorted(fields):
        v, kind = fields[k], type(fields[k])
        if kind is str:
            text = _quote(v)
        elif v is None:
            text = "null"
        elif kind is _RawJSON:
            raw, text = raw + 1, v
        elif kind is bool:
            text = "true" if v else "false"
        elif kind is int:
            text = int.__repr__(v)
        elif kind is float and math.isfinite(v):
            text = float.__repr__(v)
        else:
            return None
        parts.append(f"{_quote(k)}:{text}")
    return "{" + ",".join(parts) + "}" if raw <= 1 else None


_quote = json.encoder.encode_basestring  # type: ignore[attr-defined]  # json.dumps's, in C


class _RowCheck:
    """Every row of a covered table equals what its newest covering event recorded, and every
    recorded row exists (see Coverage); the first difference is kept. A row's digest is made
    first from its raw columns (`_quick_canonical`), and where that differs, from the row
    decoded as the ORM would (each column's own result processing); the ids as text, the
    form the digests hold them in."""

    def __init__(self, session: Session, cov: Coverage, report: Report, batch: int,
                 bounds: Bounds = WHOLE):
        table = cov.table.__table__
        self.session, self.cov, self.report = session, cov, report
        self.dialect = session.connection().dialect
        self.columns = list(table.columns)
        self.rows = _Beside(session, self.columns, table.c[cov.subject_column], batch, bounds)
        # the ids as str(UUID) writes them, as the digests hold them (SQLite keeps 32 digits)
        self._dash = ([i for i, is_uuid in enumerate(self.rows.uuids) if is_uuid]
                      if self.dialect.name == "sqlite" else [])
        self._json = [i for i, is_json in enumerate(self.rows.json) if is_json]
        self._processors: list[tuple[int, Callable[[Any], Any]]] | None = None
        self._row_type = namedtuple(f"{cov.name}_row", [c.name for c in self.columns])  # type: ignore[misc]
        self.problem: BrokenLink | None = None
        self.prefix = cov.name + "/"
        report.details[cov.name] = 0

    def subject(self, subject: str | None,
                claims: Mapping[str, tuple[str, Any, int]], legacy: set[str]) -> None:
        """A chain of the covered subjects ended (None: every chain did)."""
        if self.problem is not None:
            return
        if subject is not None and not claims and not self.rows.waiting(subject):
            return  # nothing recorded, nothing stored: the common case, at once
        for raw in self.rows.before(subject):  # a subject without events
            self._check(self._row(raw), {}, set())
            return
        if subject is None:
            return
        found = set()
        for raw in self.rows.of(subject):
            found.add(self._check(self._row(raw), claims, legacy))
            if self.problem is not None:
                return
        for ref, (_, event_id, seq) in claims.items():
            if ref.startswith(self.prefix) and ref not in found:
                self.problem = _broken(uuid.UUID(event_id), self.cov.subject_type,
                                       uuid.UUID(subject), seq, "row_gone", i18n.said(
                                           "{row} recorded by this event is gone from the"
                                           " table", row=ref))
                return

    def _row(self, raw: tuple) -> Any:
        values = list(raw)
        for i in self._dash:
            values[i] = _dashed(values[i])
        for i in self._json:
            if values[i] is not None:
                values[i] = _RawJSON(values[i])
        return self._row_type._make(values)

    def _exact(self, row: Any) -> Any:
        """The row as the ORM decodes it (its ids as text)."""
        if self._processors is None:
            self._processors = [
                (i, p) for i, (c, d) in enumerate(zip(self.columns, self.rows.description,
                                                      strict=True))
                if not self.rows.uuids[i] and not self.rows.json[i]
                and (p := c.type.dialect_impl(self.dialect).result_processor(self.dialect, d[1]))]
        values = list(row)
        for i in self._json:
            values[i] = None if values[i] is None else json.loads(values[i])
        for i, process in self._processors:
            values[i] = process(values[i])
        return self._row_type._make(values)

    def _check(self, row: Any, claims: Mapping[str, tuple[str, Any, int]],
               legacy: set[str]) -> str:
        cov, key = self.cov, getattr(row, self.cov.key)
        ref, subject = f"{self.prefix}{key}", getattr(row, cov.subject_column)
        if ref in claims:
            digest, event_id, seq = claims[ref]
            quick = _quick_canonical(cov.fields(row))
            if quick is None or hashlib.sha256(quick.encode()).hexdigest() != digest:
                fields = cov.fields(self._exact(row))
                if digest != row_digest(fields):
                    self.problem = _broken(None, cov.subject_type, uuid.UUID(subject), seq,
                                           "row_changed", i18n.said(
                                               "{table} {key} differs from what event {event}"
                                               " recorded: {what}", table=cov.name, key=key,
                                               event=uuid.UUID(event_id),
                                               what=self._what(fields, uuid.UUID(event_id))))
                    return ref
            self.report.rows_checked += 1
            self.report.details[cov.name] += 1
        elif ref in legacy:
            self.report.rows_not_covered += 1
        else:
            self.problem = _broken(None, cov.subject_type, uuid.UUID(subject), 0,
                                   "row_without_event", i18n.said(
                                       "{table} {key} has no event that recorded it: it was"
                                       " written outside the service", table=cov.name,
                                       key=key))
        return ref

    def _what(self, fields: Mapping[str, Any], event_id: uuid.UUID) -> list[dict[str, Any]]:
        params = self.session.connection().execute(
            select(Event.params).where(Event.id == event_id)).scalar()
        return _diff(fields, params or {}) or [i18n.said("its deciding fields changed")]


class _StateCheck:
    """Every subject's state equals the to_state of its newest state-changing event; the
    first that does not is kept."""

    def __init__(self, session: Session, cov: StateCoverage, report: Report, batch: int,
                 bounds: Bounds = WHOLE):
        table = cov.table.__table__
        self.cov, self.report = cov, report
        id_col, state_col = table.c[cov.id_column], table.c[cov.state_column]
        self.rows = _Beside(session, [id_col, state_col], id_col, batch, bounds)
        self.problem: BrokenLink | None = None

    def subject(self, subject: str | None, recorded: str | None) -> None:
        """A chain of these subjects ended, its newest state `recorded` (None: every chain
        did)."""
        if self.problem is not None:
            return
        for row in self.rows.before(subject):  # a subject without events
            return self._check(row, None)
        if subject is not None:
            for row in self.rows.of(subject):
                self._check(row, recorded)

    def _check(self, row: tuple, recorded: str | None) -> None:
        state, kind = row[1], self.cov.subject_type
        if recorded is not None and recorded == state:
            self.report.subjects_checked += 1
            return
        subject_id = uuid.UUID(row[0])
        if recorded is None:
            self.problem = _broken(None, kind, subject_id, 0, "state_without_event", i18n.said(
                "{kind} {subject} is '{state}' but has no event: it was written outside the"
                " service", kind=kind, subject=subject_id, state=state))
        else:
            self.problem = _broken(None, kind, subject_id, 0, "state_mismatch", i18n.said(
                "{kind} {subject} is '{state}', but its newest event moved it to '{recorded}':"
                " the state was changed outside the service", kind=kind, subject=subject_id,
                state=state, recorded=recorded))


# Which of two problems is reported, the lower first: a chain's break (0, in the order of
# the chains' subject types), then a chain that the checkpoints anchor and the record no
# longer has (1), then a row's, in the order of `_coverages`, then a state's (2, 3, …).
Rank = tuple[int, str]


def _verify_chains(session: Session, report: Report, batch: int,
                   anchor_sets: Sequence[_AnchorSet], keys: Mapping[str, bytes],
                   bounds: Bounds = WHOLE, texts: Mapping[uuid.UUID, str] | None = None
                   ) -> Rank | None:
    """Every chain of the subjects within `bounds` in one ordered pass of the raw rows:
    sequence, link, key, the MAC over the bytes that were hashed and the columns against
    them, the checkpoints' heads; beside it, the covered rows and the subjects' states, each
    table read once in subject order. The first problem by its `Rank` is reported; the rank
    is returned."""
    row_checks: dict[str, list[_RowCheck]] = {}
    state_checks: dict[str, list[_StateCheck]] = {}
    try:
        for cov in _coverages:
            row_checks.setdefault(cov.subject_type, []).append(
                _RowCheck(session, cov, report, batch, bounds))
        for state_cov in _state_coverages:
            state_checks.setdefault(state_cov.subject_type, []).append(
                _StateCheck(session, state_cov, report, batch, bounds))
        anchoring = (_Anchoring(session, anchor_sets, bounds,
                                session.connection().dialect.name == "sqlite", texts)
                     if anchor_sets else None)
        return _walk(session, report, batch, anchoring, row_checks, state_checks, keys,
                     bounds)
    finally:  # the tables read beside the chains, read to the end or not
        for check in [*(c for cs in row_checks.values() for c in cs),
                      *(c for cs in state_checks.values() for c in cs)]:
            check.rows.close()


def _walk(session: Session, report: Report, batch: int,
          anchoring: _Anchoring | None,
          row_checks: Mapping[str, list[_RowCheck]],
          state_checks: Mapping[str, list[_StateCheck]], keys: Mapping[str, bytes],
          bounds: Bounds) -> Rank | None:
    """The pass of `_verify_chains`, its tables beside the chains opened."""
    dialect = session.connection().dialect.name
    dashless = dialect == "sqlite"  # SQLite keeps ids as 32 hex digits
    macs = {key_id: _keyed(key) for key_id, key in keys.items()}
    typed = set(row_checks) | set(state_checks)
    automatic = anchoring is not None and any(a.automatic for a in anchoring.sets)

    current_type: str | None = None
    current_raw: str | None = None
    prev, expected_seq, keyed_seen, newest_state = GENESIS, 1, False, None
    anchors_here: list[tuple[str, int, str]] = []
    auto_seq = 0
    claims: dict[str, tuple[str, Any, int]] = {}
    legacy: set[str] = set()

    def chain_ended() -> BrokenLink | None:
        """The chain just read is over: is it cut short? Then its rows and its state."""
        assert current_type is not None and current_raw is not None
        last_seq = expected_seq - 1
        for name, seq, _ in anchors_here:
            if seq > last_seq:
                return _broken(None, current_type, uuid.UUID(current_raw), last_seq,
                               "chain_cut_short", i18n.said(
                                   "the chain ends at sequence {last}, but {checkpoint} saw it"
                                   " reach {seq}: later events were removed", last=last_seq,
                                   checkpoint=name, seq=seq))
        if current_type in typed:
            for check in row_checks.get(current_type, ()):
                check.subject(current_raw, claims, legacy)
            for state_check in state_checks.get(current_type, ()):
                state_check.subject(current_raw, newest_state)
        return None

    def named(problem: tuple[str, dict[str, Any]], seq: int) -> BrokenLink:
        assert current_type is not None and current_raw is not None
        ev = _one_event(session, current_type, current_raw, seq)
        return _broken(uuid.UUID(ev.id) if ev else None, current_type,
                       uuid.UUID(current_raw), seq, *problem)

    for rows in _driver_batches(session, _chain_stmt(dialect, bounds), batch):
        for (subject_type, subject_raw, seq, prev_hash, hash_, key_id, body, to_state,
             consistent, action, event_raw, covers, legacy_params) in rows:
            if subject_raw != current_raw or subject_type != current_type:
                if current_raw is not None and (gap := chain_ended()):
                    report.broken = gap
                    return 0, gap.subject_type
                current_type, current_raw = subject_type, subject_raw
                prev, expected_seq, keyed_seen, newest_state = GENESIS, 1, False, None
                if anchoring is not None:
                    anchors_here, auto_seq = anchoring.at(subject_type, subject_raw)
                if claims or legacy:
                    claims, legacy = {}, set()
            problem: tuple[str, dict[str, Any]] | None = None
            if seq != expected_seq:
                problem = "sequence_gap", i18n.said("expected sequence {expected}, found {seq}",
                                                    expected=expected_seq, seq=seq)
            elif prev_hash != prev:
                problem = "prev_hash_mismatch", _PREV_HASH
            elif key_id is None:
                if keyed_seen:
                    problem = "unkeyed_after_keyed", _UNKEYED_AFTER_KEYED
                elif automatic and seq > auto_seq:
                    problem = "unkeyed_after_checkpoint", _UNKEYED_AFTER_CHECKPOINT
                elif _rebuilt(session, subject_type, subject_raw, seq, prev, None) != hash_:
                    problem = "hash_mismatch", _HASH
            elif (mac := macs.get(key_id)) is None:
                problem = "unknown_record_key", i18n.said(
                    "signed with the record key '{key_id}', which this service does not have"
                    " (SELECTION_RECORD_KEYS or the key file)", key_id=key_id)
            elif body is None:  # written before events kept their body
                if _rebuilt(session, subject_type, subject_raw, seq, prev,
                            keys[key_id]) != hash_:
                    problem = "hash_mismatch", _MAC
            else:
                m = mac.copy()
                m.update(f"{prev}\n{body}".encode())
                if m.hexdigest() != hash_:
                    problem = "hash_mismatch", _MAC
                elif not consistent and not _body_matches(
                        _one_event(session, subject_type, subject_raw, seq), dashless):
                    problem = "columns_changed", _COLUMNS_CHANGED
            if problem is None and anchors_here:
                for name, anchored_seq, anchored_hash in anchors_here:
                    if anchored_seq == seq and anchored_hash != hash_:
                        problem = "chain_rewritten", i18n.said(
                            "the hash differs from the one {checkpoint} saw: the chain was"
                            " rewritten", checkpoint=name)
            if problem:
                report.broken = named(problem, seq)
                return 0, subject_type
            report.events += 1
            if key_id is None:
                report.unkeyed_events += 1
            else:
                keyed_seen = True
            if automatic and seq > auto_seq:
                report.events_after_checkpoint += 1
            if to_state is not None:
                newest_state = to_state
            if action is not None:  # an event of the actions that cover rows
                _claim(row_checks.get(subject_type, ()), action, covers, legacy_params,
                       event_raw, seq, claims, legacy)
            prev, expected_seq = hash_, expected_seq + 1
    if current_raw is not None and (gap := chain_ended()):
        report.broken = gap
        return 0, gap.subject_type
    if anchoring is not None and (gone := anchoring.missing()):
        name, subject_type, subject_id, seq = gone
        report.broken = _broken(None, subject_type, uuid.UUID(subject_id), 0, "chain_gone",
                                i18n.said("{checkpoint} saw this chain reach sequence {seq};"
                                          " the record no longer has it", checkpoint=name,
                                          seq=seq))
        return 1, ""
    for checks in row_checks.values():
        for check in checks:
            check.subject(None, {}, set())
    for state_list in state_checks.values():
        for state_check in state_list:
            state_check.subject(None, None)
    by_cov = {id(c.cov): c.problem for cs in row_checks.values() for c in cs}
    by_state = {id(c.cov): c.problem for cs in state_checks.values() for c in cs}
    found = [*(by_cov[id(c)] for c in _coverages), *(by_state[id(c)] for c in _state_coverages)]
    for rank, problem in enumerate(found, start=2):
        if problem is not None:
            report.broken = problem
            return rank, ""
    return None


def verify_report(session: Session, *, batch: int = 2000, anchors: Anchors | None = None,
                  automatic: bool = True, processes: int | None = None) -> Report:
    """Verify the whole record, streaming: every chain (keyed links, sequence), against the
    newest automatic checkpoint (and `anchors`, the heads of a checkpoint file, if given);
    then every row that decides an outcome against its event, and every subject's state
    against its newest event. Stops at the first problem. A large record is verified by
    `processes` at once (None: SELECTION_VERIFY_PROCESSES; see PARALLEL_FROM)."""
    report = Report()
    anchor_sets: list[_AnchorSet] = []
    texts: dict[uuid.UUID, str] = {}
    if automatic:
        newest = newest_checkpoint(session)
        if newest is not None:
            try:
                anchor_sets.append(_automatic_set(session, newest, texts))
            except ValueError as e:
                report.broken = _broken(None, "record_checkpoint", newest.id, 0,
                                        "checkpoint_invalid", e.said if isinstance(
                                            e, CheckpointProblem) else i18n.said(
                                            "the automatic checkpoint cannot be read: {error}",
                                            error=str(e)))
                return report
            report.checkpoint_at = newest.created_at
    if anchors:
        anchor_sets.append(_AnchorSet(i18n.said("the checkpoint given"),
                                      (_memory_source(anchors),), False))
    keys = dict(record_keys.keyring().keys)
    processes = _processes(session, processes)
    if processes < 2:
        _verify_chains(session, report, batch, anchor_sets, keys, texts=texts)
        return report
    _verify_in_parts(session, report, _Part(
        url=session.get_bind().url.render_as_string(hide_password=False),
        settings=get_settings(), snapshot=_exported_snapshot(session), batch=batch,
        anchor_sets=tuple(anchor_sets), keys=keys, bounds=WHOLE), processes, texts)
    return report


# The record verified by several processes at once. The subjects' ids are uuid4s, so equal
# ranges of the id space hold about equal shares of the chains; each range is verified alone,
# its chains with its subjects' rows and states (no check crosses two subjects), and the
# first problem of all by its rank is reported. A record of fewer events than PARALLEL_FROM
# is verified in this process: starting others would cost more than they save.
PARALLEL_FROM = 20_000


@dataclass(frozen=True)
class _Part:
    """What a process needs to verify one range of the record."""

    url: str                     # the database, as the caller's session reaches it
    settings: Any                # the caller's Settings (SQLite's engine is made from them)
    snapshot: str | None         # PostgreSQL: the caller's snapshot, so every part reads it
    batch: int
    anchor_sets: Sequence[_AnchorSet]  # where each part reads its anchors (no heads)
    keys: Mapping[str, bytes]
    bounds: Bounds


def _processes(session: Session, wanted: int | None) -> int:
    """How many processes verify the record: `wanted` (None: the setting, 0 there: one per
    core), or one for a small record or one in memory (no other process can open it)."""
    bind = session.get_bind()
    if bind.dialect.name == "sqlite" and bind.url.database in (None, "", ":memory:"):
        return 1
    n = get_settings().verify_processes if wanted is None else wanted
    n = n or (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
              else os.cpu_count() or 1)
    if n < 2:
        return 1
    events = session.exec(select(func.count()).select_from(Event)).one()  # type: ignore[call-overload]
    return n if events >= PARALLEL_FROM else 1


def _exported_snapshot(session: Session) -> str | None:
    """On PostgreSQL, the session's snapshot, exported for the parts to read the same moment
    (valid while the session's transaction lasts); SQLite has none to share, and each part's
    transaction reads its own moment, which is sound because no check crosses two subjects."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    return str(session.connection().exec_driver_sql("SELECT pg_export_snapshot()").scalar())


def _verify_in_parts(session: Session, report: Report, whole: _Part, n: int,
                     texts: Mapping[uuid.UUID, str]) -> None:
    """Verify `n` ranges of the record, the first in this process, on `session`, the others
    each in a process of its own, and merge what they found into `report`. The others are
    forked from this process when it runs no other thread (the CLI); otherwise from a fork
    server that imported the steps once (a serving worker has threads, and a fork of a
    threaded process may inherit a lock some thread held)."""
    edges = [None, *(uuid.UUID(int=(i << 128) // n) for i in range(1, n)), None]
    parts = [replace(whole, bounds=(edges[i], edges[i + 1])) for i in range(n)]
    context = multiprocessing.get_context(_start_method())
    if context.get_start_method() == "forkserver":
        context.set_forkserver_preload(["service.facts"])
    with ProcessPoolExecutor(max_workers=n - 1, mp_context=context) as pool:
        others = [pool.submit(_verify_part, part) for part in parts[1:]]
        here = Report()
        rank = _verify_chains(session, here, whole.batch, whole.anchor_sets, whole.keys,
                              parts[0].bounds, texts)
        found = [(here, rank), *(f.result() for f in others)]
    first: tuple[tuple[Rank, int], BrokenLink | None] | None = None
    for i, (part, rank) in enumerate(found):
        report.events += part.events
        report.unkeyed_events += part.unkeyed_events
        report.rows_checked += part.rows_checked
        report.rows_not_covered += part.rows_not_covered
        report.subjects_checked += part.subjects_checked
        report.events_after_checkpoint += part.events_after_checkpoint
        for name, count in part.details.items():
            report.details[name] = report.details.get(name, 0) + count
        if rank is not None and (first is None or (rank, i) < first[0]):
            first = ((rank, i), part.broken)
    report.broken = first[1] if first else None


def _start_method() -> str:
    """How the parts' processes start: forked from this one when it runs no other thread."""
    return "fork" if threading.active_count() == 1 else "forkserver"


_SNAPSHOT_ID = re.compile(r"[0-9A-Fa-f-]+")


def _verify_part(part: _Part) -> tuple[Report, Rank | None]:
    """One range of the record, verified in a process of its own on a connection of its own;
    what it found, and the rank of its first problem."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from ..core.db import json_text, make_engine

    if part.snapshot is None:
        engine = make_engine(part.settings, part.url)
    else:  # the snapshot is set first in a transaction that keeps it (REPEATABLE READ)
        assert _SNAPSHOT_ID.fullmatch(part.snapshot)
        engine = create_engine(part.url, poolclass=NullPool, json_serializer=json_text,
                               isolation_level="REPEATABLE READ")
    report = Report()
    try:
        with Session(engine) as session:
            if part.snapshot is not None:
                session.connection().exec_driver_sql(
                    f"SET TRANSACTION SNAPSHOT '{part.snapshot}'")
            rank = _verify_chains(session, report, part.batch, part.anchor_sets, part.keys,
                                  part.bounds)
    finally:
        engine.dispose()
    return report, rank


def verify(session: Session, *, batch: int = 2000, anchors: Anchors | None = None,
           automatic: bool = True) -> tuple[int, BrokenLink | None]:
    """Walk every chain in order, streaming; return the count checked and the first break.

    With `anchors` (the chain heads of an earlier checkpoint), also check that every chain
    still reaches its anchored event with the same hash: a chain whose newest events were
    removed, or a whole chain removed, is found, which the hash links alone cannot show.
    The rows that decide outcomes and the subjects' states are checked too (verify_report)."""
    report = verify_report(session, batch=batch, anchors=anchors, automatic=automatic)
    return report.events, report.broken


def vouching(report: Report, lang: i18n.Lang | None = None) -> str:
    """How far back the record is vouched for, in a sentence, in `lang` (the current
    request's by default)."""
    parts = []
    if report.checkpoint_at is not None:
        parts.append(i18n._(
            "every chain is vouched for up to the automatic checkpoint of {at}; {after} events"
            " after it are covered by the keyed chain only", lang=lang,
            at=report.checkpoint_at, after=report.events_after_checkpoint))
    else:
        parts.append(i18n._("no automatic checkpoint yet: the chains' links and MACs alone"
                            " vouch (a removed newest event or chain cannot be seen)", lang=lang))
    if report.unkeyed_events:
        parts.append(i18n._("{count} events written before the record was keyed carry"
                            " plain sha256 links", lang=lang, count=report.unkeyed_events))
    if report.rows_not_covered:
        parts.append(i18n._("{rows} deciding rows match their events, {older} older rows are"
                            " not covered (their events carry no digest)", lang=lang,
                            rows=report.rows_checked, older=report.rows_not_covered))
    else:
        parts.append(i18n._("{rows} deciding rows match their events", lang=lang,
                            rows=report.rows_checked))
    parts.append(i18n._("{subjects} subjects' states match their newest events", lang=lang,
                        subjects=report.subjects_checked))
    return i18n._("; ", lang=lang).join(parts)


def heads(session: Session, *, since: datetime | None = None
          ) -> Iterator[tuple[str, uuid.UUID, int, str]]:
    """The newest event of every chain: (subject type, subject id, sequence, hash), in order;
    with `since`, only of the chains with an event that occurred at or after it."""
    if since is not None:
        yield from _heads_written_since(session, since)
        return
    newest = (select(Event.subject_type, Event.subject_id, func.max(Event.seq).label("seq"))
              .group_by(Event.subject_type, Event.subject_id).subquery())
    stmt = (select(Event.subject_type, Event.subject_id, Event.seq, Event.hash)
            .join(newest, (Event.subject_type == newest.c.subject_type)
                  & (Event.subject_id == newest.c.subject_id) & (Event.seq == newest.c.seq))
            .order_by(Event.subject_type, Event.subject_id))
    for row in session.exec(stmt.execution_options(yield_per=5000)):  # type: ignore[call-overload]
        yield row[0], row[1], row[2], row[3]


def _heads_written_since(session: Session, since: datetime
                         ) -> Iterator[tuple[str, uuid.UUID, int, str]]:
    """The newest event at or after `since` of each chain written since then, in order: one
    range of the index on the events' time. That is the chain's head unless an event was
    appended later with an earlier time (taken before its transaction waited for the chain),
    and then still an event of the chain, so a sound anchor."""
    newest: dict[tuple[str, uuid.UUID], tuple[int, str]] = {}
    for subject_type, subject_id, seq, hash_ in session.exec(  # type: ignore[call-overload]
            select(Event.subject_type, Event.subject_id, Event.seq, Event.hash)
            .where(Event.occurred_at >= since)):
        key = (subject_type, subject_id)
        if key not in newest or seq > newest[key][0]:
            newest[key] = (seq, hash_)
    for (subject_type, subject_id), (seq, hash_) in sorted(newest.items()):
        yield subject_type, subject_id, seq, hash_


def checkpoint(session: Session, now: datetime, *, since: datetime | None = None
               ) -> dict[str, Any]:
    """A checkpoint of the record: every chain's head (with `since`, those of the chains
    written since then) and one digest over them. Kept outside the database (a file, another
    system), it lets `verify` find removed events."""
    text, chains, digest = _heads_text(session, since)
    out = json.loads(text)
    return {"format": 1, "created_at": now.isoformat(), "chains": chains,
            "events": sum(h[2] for h in out), "digest": digest, "heads": out}


def _heads_text(session: Session, since: datetime | None) -> tuple[str, int, str]:
    """The heads of `checkpoint` as the JSON text the checkpoint's row stores (the bytes
    `json_text` writes for the list), made one head at a time: the chains' count and the
    digest beside it. No list of the heads is built: at 100k candidates they were some
    40 MB of Python objects in the serving worker that took the checkpoint."""
    digest, buf, chains = hashlib.sha256(), io.StringIO(), 0
    buf.write("[")
    for subject_type, subject_id, seq, hash_ in heads(session, since=since):
        buf.write(f'{"," if chains else ""}[{_quote(subject_type)},"{subject_id}",{int(seq)},'
                  f'{_quote(hash_)}]')
        digest.update(_head_line(subject_type, subject_id, seq, hash_))
        chains += 1
    buf.write("]")
    return buf.getvalue(), chains, digest.hexdigest()


def anchors_of(document: Mapping[str, Any]) -> dict[tuple[str, uuid.UUID], tuple[int, str]]:
    """The anchors of a checkpoint document; ValueError when it is not one or was altered."""
    if not isinstance(document, Mapping) or document.get("format") != 1:
        raise ValueError("not a checkpoint of this service (format 1)")
    digest = hashlib.sha256()
    found: dict[tuple[str, uuid.UUID], tuple[int, str]] = {}
    try:
        for subject_type, subject_id, seq, hash_ in document["heads"]:
            digest.update(_head_line(subject_type, subject_id, seq, hash_))
            found[(str(subject_type), uuid.UUID(str(subject_id)))] = (int(seq), str(hash_))
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"the checkpoint's heads cannot be read: {e}") from e
    if digest.hexdigest() != document.get("digest"):
        raise ValueError("the checkpoint's digest does not match its heads: it was altered")
    return found


def _checkpoint_mac(cp: Any, key: bytes) -> str:
    created = cp.created_at.isoformat() if isinstance(cp.created_at, datetime) else cp.created_at
    fields: dict[str, Any] = {"created_at": created, "chains": cp.chains, "events": cp.events,
                              "unkeyed_events": cp.unkeyed_events, "digest": cp.digest,
                              "key_id": cp.key_id}
    if cp.prev_id is not None or cp.scope != "full":  # linked checkpoints sign their link too
        fields |= {"scope": cp.scope, "prev_id": str(cp.prev_id) if cp.prev_id else None}
    return hmac.new(key, _canonical_json(fields), hashlib.sha256).hexdigest()


_NO_HEADS = defer(RecordCheckpoint.heads)  # type: ignore[arg-type]


# A delta checkpoint takes the chains with an event that occurred since a little before the
# checkpoint it follows: an event's time is taken in its transaction, which may commit after
# that checkpoint read the record; anchoring a chain twice costs nothing.
DELTA_OVERLAP = timedelta(minutes=5)


def newest_checkpoint(session: Session) -> RecordCheckpoint | None:
    """The newest automatic checkpoint, if any, without its heads (read when asked for: every
    round of the automatic checkpoints reads the newest)."""
    return session.exec(select(RecordCheckpoint).options(_NO_HEADS).order_by(
        RecordCheckpoint.created_at.desc()).limit(1)).first()  # type: ignore[attr-defined]


def _mac_checked(cp: RecordCheckpoint) -> None:
    key = record_keys.keyring().key(cp.key_id)
    if key is None:
        raise CheckpointProblem(i18n.said(
            "the automatic checkpoint {checkpoint} is signed with the record key '{key_id}',"
            " which this service does not have", checkpoint=cp.id, key_id=cp.key_id))
    if not hmac.compare_digest(_checkpoint_mac(cp, key), cp.mac):
        raise CheckpointProblem(i18n.said(
            "the automatic checkpoint {checkpoint} does not carry a valid MAC: it was forged"
            " or altered", checkpoint=cp.id))


def _automatic_set(session: Session, cp: RecordCheckpoint, texts: dict[uuid.UUID, str]
                   ) -> _AnchorSet:
    """The anchors of an automatic checkpoint: its heads, and for a delta those of its
    predecessors back to the newest full one (a later head of a chain wins), each MAC and
    digest checked (their stored texts kept in `texts`); ValueError when one fails or a
    predecessor is missing."""
    series = [cp]
    while series[-1].scope == "delta":
        if series[-1].prev_id is None:
            raise CheckpointProblem(i18n.said(
                "the automatic checkpoint {checkpoint} is a delta without the checkpoint it"
                " follows", checkpoint=series[-1].id))
        prev = session.exec(select(RecordCheckpoint).options(_NO_HEADS).where(
            RecordCheckpoint.id == series[-1].prev_id)).first()
        if prev is None:
            raise CheckpointProblem(i18n.said(
                "the automatic checkpoint {checkpoint} follows checkpoint {prev}, which the"
                " record no longer has: checkpoints were removed", checkpoint=series[-1].id,
                prev=series[-1].prev_id))
        series.append(prev)
    sources = []
    for one in reversed(series):
        _mac_checked(one)
        texts[one.id] = _stored_heads(session, one.id)
        try:
            sources.append(_checked_heads(texts[one.id], one.digest, one.id))
        except ValueError as e:
            raise CheckpointProblem(i18n.said(
                "the automatic checkpoint {checkpoint}: {why}", checkpoint=one.id,
                why=getattr(e, "said", None) or str(e))) from None
    return _AnchorSet(i18n.said("the automatic checkpoint of {at}", at=cp.created_at),
                      tuple(sources), True)


def _full_due(session: Session, prev: RecordCheckpoint) -> bool:
    """Whether the next checkpoint should be full: when the deltas since the newest full one
    already carry as many heads as it does, so verification reads at most about twice the
    chains' heads."""
    full = session.exec(select(RecordCheckpoint.created_at, RecordCheckpoint.chains)
                        .where(RecordCheckpoint.scope == "full")
                        .order_by(RecordCheckpoint.created_at.desc())  # type: ignore[attr-defined]
                        .limit(1)).first()
    if full is None:
        return True
    carried = session.exec(select(func.coalesce(func.sum(RecordCheckpoint.chains), 0)).where(
        RecordCheckpoint.scope == "delta", RecordCheckpoint.created_at > full[0])).one()
    return carried >= full[1]


def take_checkpoint(session: Session, now: datetime) -> RecordCheckpoint:
    """Write an automatic checkpoint of the record, MAC'ed with the current key: a delta of
    the chains written since the newest one, or a full one (the first, and whenever the
    deltas carry as many heads as the last full one), read and written in `session`."""
    return _stored(session, _checkpoint_of(session, now))


def _checkpoint_of(session: Session, now: datetime) -> RecordCheckpoint:
    """The automatic checkpoint of the record as `session` reads it, not yet written (its
    heads, as text, in `heads`)."""
    prev = newest_checkpoint(session)
    delta = prev is not None and not _full_due(session, prev)
    text, chains, digest = _heads_text(
        session, prev.created_at - DELTA_OVERLAP if delta and prev else None)
    events = count_events(session)
    # the service signs every event it writes, so a delta carries the count over (an unkeyed
    # event written since is refused by verification anyway)
    unkeyed = prev.unkeyed_events if delta and prev else session.exec(
        select(func.count()).select_from(Event).where(
            Event.key_id.is_(None))).one()  # type: ignore[union-attr]
    ring = record_keys.keyring()
    cp = RecordCheckpoint(created_at=now, chains=chains, events=events,
                          unkeyed_events=unkeyed, digest=digest, heads=[], key_id=ring.current,
                          mac="", scope="delta" if delta else "full",
                          prev_id=prev.id if prev else None)
    cp.mac = _checkpoint_mac(cp, ring.keys[ring.current])
    cp.heads = text  # type: ignore[assignment]
    return cp


def _stored(session: Session, cp: RecordCheckpoint) -> RecordCheckpoint:
    """`cp` written in `session`, its heads' text as it is, not a list encoded again
    (PostgreSQL is told it is JSON)."""
    stored = literal(cp.heads, Text)
    cp.heads = (cast(stored, JSON) if session.get_bind().dialect.name == "postgresql"
                else stored)  # type: ignore[assignment]
    session.add(cp)
    session.flush()
    return cp


def checkpoint_due(session: Session, now: datetime, *, every_events: int,
                   every: timedelta) -> bool:
    """Whether an automatic checkpoint is due: none yet (and the record is not empty), or
    `every_events` new events since the newest, or new events and `every` has passed."""
    last = session.exec(select(RecordCheckpoint.created_at, RecordCheckpoint.events).order_by(
        RecordCheckpoint.created_at.desc()).limit(1)).first()  # type: ignore[attr-defined]
    events = count_events(session)
    if last is None:
        return events > 0
    new = events - last[1]
    return new >= every_events or (new > 0 and now - last[0] >= every)


def auto_checkpoint(session: Session, now: datetime, *, every_events: int,
                    every: timedelta) -> RecordCheckpoint | None:
    """Take an automatic checkpoint when one is due (`checkpoint_due`); None otherwise."""
    if not checkpoint_due(session, now, every_events=every_events, every=every):
        return None
    return take_checkpoint(session, now)


def count_events(session: Session) -> int:
    """How many events the record holds."""
    return session.exec(select(func.count()).select_from(Event)).one()


def events_page(
    session: Session, *, subject_type: str, subject_id: uuid.UUID, limit: int, cursor: str | None
) -> tuple[list[Event], str | None]:
    """A page of one subject's events, oldest first."""
    stmt = select(Event).where(Event.subject_type == subject_type, Event.subject_id == subject_id)
    return keyset_page(session, stmt, [Event.seq], limit=limit, cursor=cursor, descending=False)


def checkpoint_round(settings: Any) -> RecordCheckpoint | None:
    """One round of the automatic checkpoints (serve runs it every few seconds, and once at
    start): take one when `settings.record_checkpoint_events` events were written since the
    newest, or `record_checkpoint_hours` passed with new events, or there is none yet.

    The record is read in a read transaction, which holds up no writer, and only then is
    the row written, in a transaction of its own (on SQLite, the writers' gate is held for
    that insert alone: held while the heads were read, it stalled every writer for half a
    second at 100k candidates); when another worker took a checkpoint meanwhile, this
    round writes nothing."""
    from ..core.clock import real_clock
    from ..core.db import open_session

    now = real_clock().real_now
    with open_session() as reading:
        newest = newest_checkpoint(reading)
        if not checkpoint_due(reading, now, every_events=settings.record_checkpoint_events,
                              every=timedelta(hours=settings.record_checkpoint_hours)):
            return None
        cp = _checkpoint_of(reading, now)
    with open_session(write=True) as writing:
        again = newest_checkpoint(writing)
        if (again.id if again else None) != (newest.id if newest else None):
            return None
        _stored(writing, cp)
        writing.commit()
    return cp
