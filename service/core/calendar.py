"""Chinese working days (工作日): weekends off, statutory holidays off, make-up workdays on.

The `chinesecalendar` package holds the State Council's schedule for the years it knows
(2004–2026 in the version pinned); beyond them this module counts weekends only, plus
the holidays and make-up workdays an administrator has entered as overrides, and says so
in a warning. Overrides win over the package everywhere, so an administrator can also
correct a year the package knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import chinese_calendar
from sqlmodel import Session, select

from .models import CalendarOverride

MAX_SPAN_DAYS = 3 * 366  # no period of this service is longer


@dataclass(frozen=True)
class DayInfo:
    """Whether a day is worked, and where the answer came from."""

    on: date
    workday: bool
    source: str  # "override", "official", "weekend_fallback"


def day_info(day: date, overrides: Mapping[date, bool]) -> DayInfo:
    """Whether `day` is a working day: override, else the official schedule, else weekends."""
    if day in overrides:
        return DayInfo(day, overrides[day], "override")
    try:
        return DayInfo(day, chinese_calendar.is_workday(day), "official")
    except NotImplementedError:
        return DayInfo(day, day.weekday() < 5, "weekend_fallback")


@dataclass(frozen=True)
class Period:
    """A span of working days: its first and last working day, and any warning."""

    start_on: date
    first_day: date
    end_on: date
    working_days: int
    warnings: list[str] = field(default_factory=list)


class CalendarRangeError(ValueError):
    """The period would run beyond what this service counts."""


def working_period(
    start_on: date, days: int, *, counts_start_day: bool, overrides: Mapping[date, bool]
) -> Period:
    """The period of `days` working days from `start_on`.

    With counts_start_day, `start_on` is day 1 when it is itself a working day; otherwise
    counting starts on the next working day after `start_on`.
    """
    if days < 1:
        raise CalendarRangeError("a period has at least one working day")
    too_far = CalendarRangeError(f"{days} working days from {start_on} run past the calendar")
    if start_on.year > date.max.year - 10:
        raise too_far
    day = start_on if counts_start_day else start_on + timedelta(days=1)
    counted: list[date] = []
    fallback_years: set[int] = set()
    limit = start_on + timedelta(days=MAX_SPAN_DAYS)
    while len(counted) < days:
        if day > limit:
            raise too_far
        info = day_info(day, overrides)
        if info.source == "weekend_fallback":
            fallback_years.add(day.year)
        if info.workday:
            counted.append(day)
        day += timedelta(days=1)
    warnings = []
    if fallback_years:
        years = ", ".join(str(y) for y in sorted(fallback_years))
        warnings.append(
            f"The official holiday schedule for {years} is not known to this service; those"
            " days were counted as weekends off only, plus the holidays and make-up workdays"
            " an administrator has entered."
        )
    return Period(start_on, counted[0], counted[-1], days, warnings)


def overrides(session: Session) -> dict[date, bool]:
    """Every calendar override an administrator has entered."""
    return {o.day: o.workday for o in session.exec(select(CalendarOverride))}
