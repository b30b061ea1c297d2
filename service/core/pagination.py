"""The one pagination helper: keyset (cursor) pages in a stable order."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import BigInteger, DateTime, Integer, SmallInteger, literal, tuple_
from sqlmodel import Session

from .errors import InvalidInput

T = TypeVar("T")

# A cursor holds the keys of a page's last row. An integer key is refused outside what its
# column holds on every database (INTEGER is 32 bits on PostgreSQL, BIGINT 64), so a made-up
# cursor is refused the same way on SQLite and PostgreSQL and never reaches the database.
_INT_BITS = ((BigInteger, 64), (SmallInteger, 16), (Integer, 32))


def _encode(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(
        v, uuid.UUID) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


# Real cursors, as this service issues them, for the document's examples: lists ordered by
# creation page by (created_at, id); a record (events) pages by its sequence number.
EXAMPLE_CURSOR = _encode([datetime(2026, 9, 30, 1, 0, tzinfo=UTC),
                          uuid.UUID("5b0c2f6a-1d2e-4f3a-8b4c-5d6e7f8a9b0c")])
EXAMPLE_EVENTS_CURSOR = _encode([50])


def _document_page(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Each Page[X] is a schema of its own (JSON Schema has no generics): describe it, and give
    it an example page holding X's own example."""
    item = (get_args(cls.model_fields["items"].annotation) or (Any,))[0]
    name = getattr(item, "__name__", "item")
    schema["description"] = (f"One page of a list of {name}; pass `next_cursor` back as"
                             " `cursor` for the next page (null on the last page).")
    extra = getattr(item, "model_config", {}).get("json_schema_extra")
    example = extra.get("example") if isinstance(extra, dict) else None
    schema["example"] = {"items": [] if example is None else [example],
                         "next_cursor": EXAMPLE_EVENTS_CURSOR if "seq" in getattr(
                             item, "model_fields", {}) else EXAMPLE_CURSOR, "limit": 50}


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next page."""

    model_config = ConfigDict(json_schema_extra=_document_page)

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Opaque cursor of the next page; null on the last page"
    )
    limit: int = Field(description="The page size asked for")


def _decode(cursor: str, kinds: list[type], bits: list[int]) -> list[Any]:
    bad = InvalidInput(
        "The cursor is not one this service issued; start again without it.",
        code="invalid_cursor",
        errors=[{"field": "query.cursor", "message": "invalid cursor", "type": "invalid_cursor"}],
    )
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise bad
        out = []
        for v, kind, width in zip(values, kinds, bits, strict=True):
            if kind is datetime:
                moment = datetime.fromisoformat(v)
                if moment.tzinfo is None:
                    raise bad
                # Stored as UTC: a time whose UTC form is outside years 1-9999 cannot be one
                # this service issued (astimezone raises OverflowError).
                out.append(moment.astimezone(UTC))
            elif kind is uuid.UUID:
                if not isinstance(v, str):
                    raise bad
                out.append(uuid.UUID(v))
            elif kind is int:
                if not isinstance(v, int) or isinstance(v, bool) or not (
                        -(2 ** (width - 1)) <= v < 2 ** (width - 1)):
                    raise bad
                out.append(v)
            else:
                if not isinstance(v, str) or "\x00" in v:
                    raise bad
                out.append(v)
        return out
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, AttributeError,
            OverflowError, RecursionError) as e:
        raise bad from e


def _python_type(column) -> type:
    t = column.type
    impl = getattr(t, "impl", None)  # a TypeDecorator answers for its implementation
    for candidate in (t, impl):
        if isinstance(candidate, DateTime):
            return datetime
    return t.python_type


def _int_bits(column) -> int:
    """How many bits an integer key's column holds on every database."""
    for cls, width in _INT_BITS:
        if isinstance(column.type, cls):
            return width
    return 64


def keyset_page(
    session: Session, stmt, keys: list, *, limit: int, cursor: str | None, descending: bool
) -> tuple[list, str | None]:
    """Run `stmt` ordered by `keys`, after `cursor`; return rows and the next cursor."""
    kinds = [_python_type(k) for k in keys]
    if cursor:
        # Bind each value with its column's type, so dates compare as the column stores them.
        values = tuple_(*[literal(v, type_=k.type) for v, k in
                          zip(_decode(cursor, kinds, [_int_bits(k) for k in keys]), keys,
                              strict=True)])
        cmp = tuple_(*keys) < values if descending else tuple_(*keys) > values
        stmt = stmt.where(cmp)
    order = [k.desc() for k in keys] if descending else [k.asc() for k in keys]
    rows = list(session.exec(stmt.order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = _encode([getattr(last, k.key) for k in keys])
    return rows, next_cursor
