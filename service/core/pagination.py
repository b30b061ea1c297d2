"""The one pagination helper: keyset (cursor) pages in a stable order."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from datetime import datetime
from typing import Any, Generic, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, literal, tuple_
from sqlmodel import Session

from .errors import InvalidInput

T = TypeVar("T")
EXAMPLE_CURSOR = "WyIyMDI2LTA5LTMwVDAxOjAwOjAwKzAwOjAwIiwgIjViMGMyZjZhIl0"


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
                         "next_cursor": EXAMPLE_CURSOR, "limit": 50}


class Page(BaseModel, Generic[T]):
    """One page of a list; pass `next_cursor` back as `cursor` for the next page."""

    model_config = ConfigDict(json_schema_extra=_document_page)

    items: list[T]
    next_cursor: str | None = Field(
        default=None, description="Opaque cursor of the next page; null on the last page"
    )
    limit: int = Field(description="The page size asked for")


def _encode(values: list[Any]) -> str:
    raw = json.dumps([v.isoformat() if isinstance(v, datetime) else str(v) if isinstance(
        v, uuid.UUID) else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, kinds: list[type]) -> list[Any]:
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
        for v, kind in zip(values, kinds, strict=True):
            if kind is datetime:
                moment = datetime.fromisoformat(v)
                if moment.tzinfo is None:
                    raise bad
                out.append(moment)
            elif kind is uuid.UUID:
                out.append(uuid.UUID(v))
            elif kind is int:
                if not isinstance(v, int) or isinstance(v, bool):
                    raise bad
                out.append(v)
            else:
                out.append(str(v))
        return out
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, AttributeError) as e:
        raise bad from e


def _python_type(column) -> type:
    t = column.type
    impl = getattr(t, "impl", None)  # a TypeDecorator answers for its implementation
    for candidate in (t, impl):
        if isinstance(candidate, DateTime):
            return datetime
    return t.python_type


def keyset_page(
    session: Session, stmt, keys: list, *, limit: int, cursor: str | None, descending: bool
) -> tuple[list, str | None]:
    """Run `stmt` ordered by `keys`, after `cursor`; return rows and the next cursor."""
    kinds = [_python_type(k) for k in keys]
    if cursor:
        # Bind each value with its column's type, so dates compare as the column stores them.
        values = tuple_(*[literal(v, type_=k.type) for v, k in
                          zip(_decode(cursor, kinds), keys, strict=True)])
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
