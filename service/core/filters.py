"""Conditions the listings share: a range of days of creation, a text contained."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from .clock import CHINA
from .errors import InvalidInput


def created_between(column, created_from: date | None, created_to: date | None) -> list:
    """Conditions on a creation time for a range of calendar days in China (the process's
    dates), both ends inclusive; 422 when the range ends before it starts."""
    if created_from and created_to and created_from > created_to:
        raise InvalidInput(
            f"created_to ({created_to}) is before created_from ({created_from}).",
            errors=[{"field": "query.created_to", "message": "before created_from",
                     "type": "range_reversed"}])
    conds = []
    if created_from:
        conds.append(column >= datetime.combine(created_from, time(), CHINA))
    if created_to:
        conds.append(column < datetime.combine(created_to + timedelta(days=1), time(), CHINA))
    return conds


def text_contains(column, q: str | None) -> list:
    """A case-insensitive substring match; `%`, `_` and the escape character in `q` match
    themselves, not as LIKE wildcards."""
    q = (q or "").strip()
    return [column.icontains(q, autoescape=True)] if q else []
