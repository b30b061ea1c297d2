"""Chinese working days (工作日): weekends off, statutory holidays off, make-up workdays on.

The `chinesecalendar` package holds the State Council's schedule for the years it knows
(2004–2026 in the version pinned); beyond them this module counts weekends only, plus
the holidays and make-up workdays an administrator has entered as overrides, and says so
in a warning. Overrides win over the package everywhere, so an administrator can also
correct a year the package knows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta

import chinese_calendar
from sqlmodel import Session, select

from . import i18n
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
    """A span of working days: its first and last working day, and the years counted
    without the official schedule."""

    start_on: date
    first_day: date
    end_on: date
    working_days: int
    fallback_years: tuple[int, ...] = ()

    @property
    def warnings(self) -> list[str]:
        """The warning for the fallback years, in the current request's language."""
        return fallback_warnings(self.fallback_years)


def known_year(year: int) -> bool:
    """Whether the official schedule (the `chinesecalendar` package) covers `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def fallback_years(start_on: date | None, end_on: date | None) -> tuple[int, ...]:
    """The years of a stored period (start to end, both included) the official schedule
    does not cover: its days there were counted from weekends and overrides only."""
    if start_on is None or end_on is None:
        return ()
    return tuple(y for y in range(start_on.year, end_on.year + 1) if not known_year(y))


def fallback_warnings(years: tuple[int, ...] | list[int]) -> list[str]:
    """One warning naming the years counted without the official schedule (none if none)."""
    if not years:
        return []
    listed = ", ".join(str(y) for y in sorted(years))
    return [i18n._("The official holiday schedule for {listed} is not known to this service;"
                   " those days were counted as weekends off only, plus the holidays and"
                   " make-up workdays an administrator has entered.", listed=listed)]


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
    fallback: set[int] = set()
    limit = start_on + timedelta(days=MAX_SPAN_DAYS)
    while len(counted) < days:
        if day > limit:
            raise too_far
        info = day_info(day, overrides)
        if info.source == "weekend_fallback":
            fallback.add(day.year)
        if info.workday:
            counted.append(day)
        day += timedelta(days=1)
    return Period(start_on, counted[0], counted[-1], days, tuple(sorted(fallback)))


def overrides(session: Session) -> dict[date, bool]:
    """Every calendar override an administrator has entered."""
    return {o.day: o.workday for o in session.exec(select(CalendarOverride))}
