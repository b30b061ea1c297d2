"""Conditions the listings share: a range of days of creation, a text contained."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from .clock import CHINA
from .errors import InvalidInput


def created_between(column, created_from: date | None, created_to: date | None) -> list:
    """Conditions on a creation time for a range of calendar days in China (the process's
    dates), both ends inclusive; 422 when the range ends before it starts."""
    if created_from and created_to and created_from > created_to:
        raise InvalidInput(
            "created_to ({created_to}) is before created_from ({created_from}).",
            errors=[{"field": "query.created_to", "message": "before created_from",
                     "type": "range_reversed"}], params={"created_to": created_to, "created_from": created_from})
    conds = []
    start = _day_start(created_from) if created_from else None
    end = _day_start(created_to, days_after=1) if created_to else None
    # a bound beyond what a time in UTC can hold bounds nothing: every creation time is inside
    if start is not None:
        conds.append(column >= start)
    if end is not None:
        conds.append(column < end)
    return conds


def _day_start(day: date, days_after: int = 0) -> datetime | None:
    """The start of a day in China (plus some days) as a UTC time; None beyond years 1–9999."""
    try:
        return datetime.combine(day + timedelta(days=days_after), time(), CHINA).astimezone(UTC)
    except OverflowError:
        return None


def text_contains(column, q: str | None) -> list:
    """A case-insensitive substring match; `%`, `_` and the escape character in `q` match
    themselves, not as LIKE wildcards."""
    q = (q or "").strip()
    return [column.icontains(q, autoescape=True)] if q else []
