"""The full-process record (全程纪实): the one place that writes events, their keyed chain
(HMAC-SHA256), verification of the chains, of the rows that decide outcomes and of every
subject's state, and checkpoints (taken by the service itself, or kept in a file)."""

from __future__ import annotations

import hashlib
import heapq
import hmac
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import String, cast, func, literal_column
from sqlmodel import Session, select

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


def _canonical_json(value: Any) -> bytes:
    return json.dumps(to_jsonable_python(value), sort_keys=True, ensure_ascii=False,
                      separators=(",", ":")).encode()


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
    if isinstance(reason, dict):
        params = {**(params or {}), "reason_said": reason}
        reason = i18n.read(reason, i18n.DEFAULT)
    last = session.exec(
        select(Event.seq, Event.hash)
        .where(Event.subject_type == subject_type, Event.subject_id == subject_id)
        .order_by(Event.seq.desc())  # type: ignore[attr-defined]
        .limit(1)
    ).first()
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


_EVENT_INSERT = Event.__table__.insert()  # type: ignore[attr-defined]


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
    problem: str


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


def _anchored(anchor_sets: Sequence[tuple[str, Anchors]], key: tuple[str, uuid.UUID]
              ) -> list[tuple[str, int, str]]:
    return [(name, *a[key]) for name, a in anchor_sets if key in a]


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
    def in_body(key: str) -> str:
        return f"json_extract(event.body, '$.{key}')"

    def uid(key: str, op: str = "IS") -> str:
        return f"replace({in_body(key)}, '-', '') {op} event.{key}"

    parts = [uid("id", "="), uid("subject_id", "="), uid("selection_id"), uid("actor_id"),
             f"{in_body('seq')} = event.seq",
             *(f"{in_body(k)} IS event.{k}" for k in (
                 "subject_type", "action", "from_state", "to_state", "actor_role", "reason",
                 "request_id", "key_id")),
             f"{in_body('occurred_at')} = {_sqlite_iso('event.occurred_at')}",
             f"{in_body('simulated_at')} IS {_sqlite_iso('event.simulated_at')}",
             f"{in_body('params')} = json(event.params)"]
    return "(event.body IS NOT NULL AND " + " AND ".join(parts) + ")"


def _pg_consistent() -> str:
    fields = ", ".join([
        "'id', CAST(event.id AS TEXT)", "'subject_type', event.subject_type",
        "'subject_id', CAST(event.subject_id AS TEXT)", "'seq', event.seq",
        "'selection_id', CAST(event.selection_id AS TEXT)", "'action', event.action",
        "'from_state', event.from_state", "'to_state', event.to_state",
        "'actor_id', CAST(event.actor_id AS TEXT)", "'actor_role', event.actor_role",
        "'reason', event.reason", "'params', CAST(event.params AS JSONB)",
        "'request_id', event.request_id", f"'occurred_at', {_pg_iso('event.occurred_at')}",
        f"'simulated_at', {_pg_iso('event.simulated_at')}", "'key_id', event.key_id"])
    return (f"(event.body IS NOT NULL AND event.key_id IS NOT NULL AND"
            f" CAST(event.body AS JSONB) = jsonb_build_object({fields}))")


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


def _verify_chains(session: Session, report: Report, batch: int,
                   anchor_sets: Sequence[tuple[str, Anchors]], auto: Anchors | None) -> None:
    ring = record_keys.keyring()
    # Raw rows, not ORM objects nor decoded values: an event that keeps the bytes it was
    # hashed from costs one MAC over them and a comparison of its columns with them.
    conn = session.connection()
    dialect = conn.dialect.name
    dashless = dialect == "sqlite"  # SQLite keeps ids as 32 hex digits
    stmt = (select(*_raw_columns(dialect))
            .order_by(Event.subject_type, Event.subject_id, Event.seq)
            .execution_options(stream_results=True, yield_per=batch))
    current: tuple[str, uuid.UUID] | None = None
    current_raw: tuple[str, str] | None = None
    prev, expected_seq, keyed_seen = GENESIS, 1, False
    anchors_here: list[tuple[str, int, str]] = []
    auto_seq = 0
    seen: set[tuple[str, uuid.UUID]] = set()
    keys = dict(ring.keys)

    def cut_short(last_seq: int) -> BrokenLink | None:
        assert current is not None
        for name, seq, _ in anchors_here:
            if seq > last_seq:
                return BrokenLink(None, current[0], current[1], last_seq,
                                  f"the chain ends at sequence {last_seq}, but the {name} saw it"
                                  f" reach {seq}: later events were removed")
        return None

    rows: Iterator[Any] = conn.execute(stmt)
    for ev in rows:
        raw_key = (ev.subject_type, ev.subject_id)
        if raw_key != current_raw:
            if current is not None and (gap := cut_short(expected_seq - 1)):
                report.broken = gap
                return
            current_raw = raw_key
            key = (ev.subject_type, uuid.UUID(ev.subject_id))
            current, prev, expected_seq, keyed_seen = key, GENESIS, 1, False
            anchors_here = _anchored(anchor_sets, key) if anchor_sets else []
            auto_seq = auto[key][0] if auto and key in auto else 0
            if anchors_here:
                seen.add(key)
        problem = None
        if ev.seq != expected_seq:
            problem = f"expected sequence {expected_seq}, found {ev.seq}"
        elif ev.prev_hash != prev:
            problem = "prev_hash does not match the previous event's hash"
        elif ev.key_id is None:
            if keyed_seen:
                problem = ("an event without a key id follows keyed events: it was written"
                           " without the record's key")
            elif auto is not None and ev.seq > auto_seq:
                problem = ("an event without a key id after the automatic checkpoint: this"
                           " service signs every new event; it was written without the key")
            elif event_hash(_typed(ev), prev) != ev.hash:
                problem = "hash does not match the event's content"
        elif (key_bytes := keys.get(ev.key_id) or ring.key(ev.key_id)) is None:
            problem = (f"signed with the record key '{ev.key_id}', which this service does not"
                       " have (SELECTION_RECORD_KEYS or the key file)")
        elif ev.body is None:  # written before events kept their body
            if event_hash(_typed(ev), prev, key_bytes) != ev.hash:
                problem = ("hash does not match the event's content (or the event was not made"
                           " with the record's key)")
        elif _link(prev, ev.body.encode(), key_bytes) != ev.hash:
            problem = ("hash does not match the event's content (or the event was not made"
                       " with the record's key)")
        elif not ev.consistent and not _body_matches(ev, dashless):
            problem = "hash does not match the event's content: its columns were changed"
        if problem is None:
            for name, seq, hash_ in anchors_here:
                if seq == ev.seq and hash_ != ev.hash:
                    problem = f"the hash differs from the {name}'s: the chain was rewritten"
        if problem:
            report.broken = BrokenLink(uuid.UUID(ev.id), ev.subject_type, current[1], ev.seq,
                                       problem)
            return
        report.events += 1
        if ev.key_id is None:
            report.unkeyed_events += 1
        else:
            keyed_seen = True
        if auto is not None and ev.seq > auto_seq:
            report.events_after_checkpoint += 1
        prev, expected_seq = ev.hash, expected_seq + 1
    if current is not None and (gap := cut_short(expected_seq - 1)):
        report.broken = gap
        return
    for name, anchors in anchor_sets:
        for key, (seq, _) in anchors.items():
            if key not in seen:
                report.broken = BrokenLink(None, key[0], key[1], 0,
                                           f"the {name} saw this chain reach sequence {seq};"
                                           " the record no longer has it")
                return


def _diff(fields: Mapping[str, Any], params: Mapping[str, Any]) -> str:
    """Which of the row's fields differ from the same names in its event's params."""
    now = to_jsonable_python(dict(fields))
    out = [f"{k} is {json.dumps(now[k], ensure_ascii=False)}, the event recorded"
           f" {json.dumps(params[k], ensure_ascii=False)}"
           for k in now if k in params and params[k] != now[k]]
    return "; ".join(out)


def _check_rows(session: Session, cov: Coverage, report: Report, chunk: int = 500) -> None:
    """Every row of `cov` equals what its event recorded, and every recorded row exists.
    Streams the rows (and then the events) ordered by subject, a chunk of subjects at once."""
    table = cov.table.__table__
    subject_col = table.c[cov.subject_column]

    def check(subject_ids: list[uuid.UUID]) -> BrokenLink | None:
        claims: dict[str, tuple[str, Any]] = {}
        legacy: set[str] = set()
        for ev in session.connection().execute(
                select(Event.id, Event.subject_id, Event.seq, Event.params, Event.key_id)
                .where(Event.subject_type == cov.subject_type,
                       Event.subject_id.in_(subject_ids),  # type: ignore[attr-defined]
                       Event.action.in_(cov.actions))  # type: ignore[attr-defined]
                .order_by(Event.subject_id, Event.seq)):  # a row's newest event speaks for it
            params = ev.params or {}
            for ref, digest in (params.get("covers") or {}).items():
                if ref.startswith(cov.name + "/"):
                    claims[ref] = (digest, ev)
            if ev.key_id is None and cov.legacy_ref and "covers" not in params:
                legacy.add(f"{cov.name}/{params.get(cov.legacy_ref)}")
        found: set[str] = set()
        for row in session.connection().execute(
                select(*table.columns).where(subject_col.in_(subject_ids))):
            ref = f"{cov.name}/{getattr(row, cov.key)}"
            found.add(ref)
            subject_id = getattr(row, cov.subject_column)
            fields = cov.fields(row)
            if ref in claims:
                digest, ev = claims[ref]
                if digest != row_digest(fields):
                    what = _diff(fields, ev.params) or "its deciding fields changed"
                    return BrokenLink(None, cov.subject_type, subject_id, ev.seq,
                                      f"{cov.name} {getattr(row, cov.key)} differs from what"
                                      f" event {ev.id} recorded: {what}")
                report.rows_checked += 1
            elif ref in legacy:
                report.rows_not_covered += 1
            else:
                return BrokenLink(None, cov.subject_type, subject_id, 0,
                                  f"{cov.name} {getattr(row, cov.key)} has no event that"
                                  " recorded it: it was written outside the service")
        for ref, (_, ev) in claims.items():
            if ref not in found:
                return BrokenLink(ev.id, cov.subject_type, ev.subject_id, ev.seq,
                                  f"{ref} recorded by this event is gone from the table")
        return None

    def run(ids: Iterable[Any]) -> BrokenLink | None:
        pending: list[uuid.UUID] = []
        last = None
        for subject_id in ids:  # ordered: each subject once, a chunk of subjects at a time
            if subject_id == last:
                continue
            last = subject_id
            pending.append(subject_id)
            if len(pending) >= chunk:
                if problem := check(pending):
                    return problem
                pending = []
        return check(pending) if pending else None

    def stream(stmt):
        return session.connection().execute(
            stmt.execution_options(stream_results=True, yield_per=5000)).scalars()

    before = report.rows_checked
    # The subjects with rows and the subjects whose events cover rows (those whose every row
    # was removed too), merged in one ordered pass: each subject is checked once.
    report.broken = run(heapq.merge(
        stream(select(subject_col).order_by(subject_col)),
        stream(select(Event.subject_id).where(Event.subject_type == cov.subject_type,
                                              Event.action.in_(cov.actions))  # type: ignore[attr-defined]
               .order_by(Event.subject_id))))
    report.details[cov.name] = report.rows_checked - before


def _check_states(session: Session, cov: StateCoverage, report: Report) -> None:
    """Every subject's state equals the to_state of its newest state-changing event."""
    table = cov.table.__table__
    id_col, state_col = table.c[cov.id_column], table.c[cov.state_column]
    newest = (select(Event.to_state)
              .where(Event.subject_type == cov.subject_type, Event.subject_id == id_col,
                     Event.to_state.is_not(None))  # type: ignore[union-attr]
              .order_by(Event.seq.desc()).limit(1)  # type: ignore[attr-defined]
              .correlate(table).scalar_subquery())
    stmt = (select(id_col, state_col, newest.label("recorded")).order_by(id_col)
            .execution_options(stream_results=True, yield_per=5000))
    for subject_id, state, recorded in session.connection().execute(stmt):
        if recorded is None:
            report.broken = BrokenLink(None, cov.subject_type, subject_id, 0,
                                       f"{cov.subject_type} {subject_id} is '{state}' but has no"
                                       " event: it was written outside the service")
            return
        if state != recorded:
            report.broken = BrokenLink(None, cov.subject_type, subject_id, 0,
                                       f"{cov.subject_type} {subject_id} is '{state}', but its"
                                       f" newest event moved it to '{recorded}': the state was"
                                       " changed outside the service")
            return
        report.subjects_checked += 1


def verify_report(session: Session, *, batch: int = 2000, anchors: Anchors | None = None,
                  automatic: bool = True) -> Report:
    """Verify the whole record, streaming: every chain (keyed links, sequence), against the
    newest automatic checkpoint (and `anchors`, the heads of a checkpoint file, if given);
    then every row that decides an outcome against its event, and every subject's state
    against its newest event. Stops at the first problem."""
    report = Report()
    anchor_sets: list[tuple[str, Anchors]] = []
    auto: Anchors | None = None
    if automatic:
        newest = newest_checkpoint(session)
        if newest is not None:
            try:
                auto = checkpoint_anchors(newest, session)
            except ValueError as e:
                report.broken = BrokenLink(None, "record_checkpoint", newest.id, 0, str(e))
                return report
            report.checkpoint_at = newest.created_at
            anchor_sets.append(("automatic checkpoint of " + newest.created_at.isoformat(),
                                auto))
    if anchors:
        anchor_sets.append(("checkpoint", anchors))
    _verify_chains(session, report, batch, anchor_sets, auto)
    for cov in _coverages:
        if report.broken is None:
            _check_rows(session, cov, report)
    for state_cov in _state_coverages:
        if report.broken is None:
            _check_states(session, state_cov, report)
    return report


def verify(session: Session, *, batch: int = 2000, anchors: Anchors | None = None,
           automatic: bool = True) -> tuple[int, BrokenLink | None]:
    """Walk every chain in order, streaming; return the count checked and the first break.

    With `anchors` (the chain heads of an earlier checkpoint), also check that every chain
    still reaches its anchored event with the same hash: a chain whose newest events were
    removed, or a whole chain removed, is found, which the hash links alone cannot show.
    The rows that decide outcomes and the subjects' states are checked too (verify_report)."""
    report = verify_report(session, batch=batch, anchors=anchors, automatic=automatic)
    return report.events, report.broken


def vouching(report: Report) -> str:
    """How far back the record is vouched for, in a sentence."""
    parts = []
    if report.checkpoint_at is not None:
        parts.append(f"every chain is vouched for up to the automatic checkpoint of"
                     f" {report.checkpoint_at.isoformat()}; {report.events_after_checkpoint}"
                     " events after it are covered by the keyed chain only")
    else:
        parts.append("no automatic checkpoint yet: the chains' links and MACs alone vouch"
                     " (a removed newest event or chain cannot be seen)")
    if report.unkeyed_events:
        parts.append(f"{report.unkeyed_events} events written before the record was keyed"
                     " carry plain sha256 links")
    parts.append(f"{report.rows_checked} deciding rows match their events"
                 + (f", {report.rows_not_covered} older rows are not covered (their events"
                    " carry no digest)" if report.rows_not_covered else ""))
    parts.append(f"{report.subjects_checked} subjects' states match their newest events")
    return "; ".join(parts)


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
    digest = hashlib.sha256()
    out: list[list[Any]] = []
    for subject_type, subject_id, seq, hash_ in heads(session, since=since):
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


def _checkpoint_mac(cp: Any, key: bytes) -> str:
    created = cp.created_at.isoformat() if isinstance(cp.created_at, datetime) else cp.created_at
    fields: dict[str, Any] = {"created_at": created, "chains": cp.chains, "events": cp.events,
                              "unkeyed_events": cp.unkeyed_events, "digest": cp.digest,
                              "key_id": cp.key_id}
    if cp.prev_id is not None or cp.scope != "full":  # linked checkpoints sign their link too
        fields |= {"scope": cp.scope, "prev_id": str(cp.prev_id) if cp.prev_id else None}
    return hmac.new(key, _canonical_json(fields), hashlib.sha256).hexdigest()


# A delta checkpoint takes the chains with an event that occurred since a little before the
# checkpoint it follows: an event's time is taken in its transaction, which may commit after
# that checkpoint read the record; anchoring a chain twice costs nothing.
DELTA_OVERLAP = timedelta(minutes=5)


def newest_checkpoint(session: Session) -> RecordCheckpoint | None:
    """The newest automatic checkpoint, if any."""
    return session.exec(select(RecordCheckpoint).order_by(
        RecordCheckpoint.created_at.desc()).limit(1)).first()  # type: ignore[attr-defined]


def _mac_checked(cp: RecordCheckpoint) -> Anchors:
    key = record_keys.keyring().key(cp.key_id)
    if key is None:
        raise ValueError(f"the automatic checkpoint {cp.id} is signed with the record key"
                         f" '{cp.key_id}', which this service does not have")
    if not hmac.compare_digest(_checkpoint_mac(cp, key), cp.mac):
        raise ValueError(f"the automatic checkpoint {cp.id} does not carry a valid MAC: it was"
                         " forged or altered")
    try:
        return anchors_of({"format": 1, "heads": cp.heads, "digest": cp.digest})
    except ValueError as e:
        raise ValueError(f"the automatic checkpoint {cp.id}: {e}") from None


def checkpoint_anchors(cp: RecordCheckpoint, session: Session | None = None) -> Anchors:
    """The anchors of an automatic checkpoint: its heads, and for a delta those of its
    predecessors back to the newest full one (a later head of a chain wins); ValueError when
    a MAC or digest fails or a predecessor is missing."""
    series = [cp]
    while series[-1].scope == "delta":
        if session is None or series[-1].prev_id is None:
            raise ValueError(f"the automatic checkpoint {series[-1].id} is a delta without the"
                             " checkpoint it follows")
        prev = session.get(RecordCheckpoint, series[-1].prev_id)
        if prev is None:
            raise ValueError(f"the automatic checkpoint {series[-1].id} follows checkpoint"
                             f" {series[-1].prev_id}, which the record no longer has:"
                             " checkpoints were removed")
        series.append(prev)
    anchors: dict[tuple[str, uuid.UUID], tuple[int, str]] = {}
    for one in reversed(series):
        anchors.update(_mac_checked(one))
    return anchors


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


def take_checkpoint(session: Session, now: datetime, *,
                    write: Session | None = None) -> RecordCheckpoint:
    """Write an automatic checkpoint of the record, MAC'ed with the current key: a delta of
    the chains written since the newest one, or a full one (the first, and whenever the
    deltas carry as many heads as the last full one). The record is read in `session`; the
    row is written in `write` (by default the same session)."""
    prev = newest_checkpoint(session)
    delta = prev is not None and not _full_due(session, prev)
    document = checkpoint(session, now,
                          since=prev.created_at - DELTA_OVERLAP if delta and prev else None)
    events = count_events(session)
    # the service signs every event it writes, so a delta carries the count over (an unkeyed
    # event written since is refused by verification anyway)
    unkeyed = prev.unkeyed_events if delta and prev else session.exec(
        select(func.count()).select_from(Event).where(
            Event.key_id.is_(None))).one()  # type: ignore[union-attr]
    ring = record_keys.keyring()
    cp = RecordCheckpoint(created_at=now, chains=document["chains"], events=events,
                          unkeyed_events=unkeyed, digest=document["digest"],
                          heads=document["heads"], key_id=ring.current, mac="",
                          scope="delta" if delta else "full", prev_id=prev.id if prev else None)
    cp.mac = _checkpoint_mac(cp, ring.keys[ring.current])
    target = write or session
    target.add(cp)
    target.flush()
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

    The record is read outside the write lock (a read transaction does not hold up writers),
    and only the row is written under it; when another worker took a checkpoint meanwhile,
    this round writes nothing."""
    from ..core.clock import real_clock
    from ..core.db import open_session

    now = real_clock().real_now
    with open_session() as reading:
        newest = newest_checkpoint(reading)
        if not checkpoint_due(reading, now, every_events=settings.record_checkpoint_events,
                              every=timedelta(hours=settings.record_checkpoint_hours)):
            return None
        with open_session(write=True) as writing:
            again = newest_checkpoint(writing)
            if (again.id if again else None) != (newest.id if newest else None):
                return None
            cp = take_checkpoint(reading, now, write=writing)
            writing.commit()
    return cp
