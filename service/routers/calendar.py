"""Working days (工作日), calendar overrides, and the simulated clock (情景模拟)."""

import uuid
from datetime import date, timedelta
from typing import Annotated

from fastapi import Path, Query
from sqlmodel import select

from ..core import calendar as workcal
from ..core.deps import AdminUser, ClockDep, CurrentUser, SessionDep, SettingsDep
from ..core.errors import InvalidInput, NotFound, problems
from ..core.models import CalendarOverride
from ..core.routing import api_router
from ..core.schemas import (
    ClockAdvance,
    ClockSet,
    ClockState,
    IsoDate,
    OverridePublic,
    OverrideSet,
    WorkingPeriod,
)
from ..record import service as record
from ..record import simulation

router = api_router(tags=["calendar and clock"])
CALENDAR = record.subject_type("calendar")  # the calendar's overrides, one chain
CALENDAR_ID = uuid.uuid5(uuid.NAMESPACE_URL, "selection-service:calendar")
Day = Annotated[IsoDate, Path(description="The day, e.g. 2027-01-01", examples=["2027-01-01"])]


@router.get("/api/v1/calendar/working-days", response_model=WorkingPeriod,
            responses=problems(401, 422))
def compute_working_days(
    session: SessionDep, user: CurrentUser,
    start: Annotated[IsoDate, Query(description="The publicity's start date",
                                    examples=["2026-09-30"])],
    days: Annotated[int, Query(ge=1, le=60, description="Working days it lasts",
                               examples=[5])] = 5,
    counts_start_day: Annotated[bool, Query(description="Whether the start day is day 1",
                                            examples=[False])] = False,
) -> WorkingPeriod:
    """The end date of a period of Chinese working days (holidays off, 调休 make-up days on),
    with a warning when a year beyond the official schedule was counted."""
    try:
        p = workcal.working_period(start, days, counts_start_day=counts_start_day,
                                   overrides=workcal.overrides(session))
    except workcal.CalendarRangeError as e:
        raise InvalidInput(str(e), code="period_out_of_range") from e
    return WorkingPeriod(start_on=p.start_on, first_counted_day=p.first_day, end_on=p.end_on,
                         working_days=p.working_days, counts_start_day=counts_start_day,
                         warnings=p.warnings)


@router.get("/api/v1/calendar/overrides", response_model=list[OverridePublic],
            responses=problems(401, 422))
def list_calendar_overrides(
    session: SessionDep, user: CurrentUser,
    year: Annotated[int | None, Query(ge=2000, le=2100, description="Only overrides of this"
                                      " year", examples=[2027])] = None,
) -> list[OverridePublic]:
    """Days administrators declared worked or off, over the official schedule."""
    stmt = select(CalendarOverride).order_by(CalendarOverride.day)
    if year:
        stmt = stmt.where(CalendarOverride.day >= date(year, 1, 1),
                          CalendarOverride.day < date(year + 1, 1, 1))
    return [OverridePublic.model_validate(o, from_attributes=True) for o in session.exec(stmt)]


@router.put("/api/v1/calendar/overrides/{day}", response_model=OverridePublic,
            responses=problems(401, 403, 422))
def set_calendar_override(
    day: Day, data: OverrideSet, session: SessionDep, admin: AdminUser, clock: ClockDep,
) -> OverridePublic:
    """Declare a day a holiday (workday false) or a make-up workday (workday true)."""
    row = session.get(CalendarOverride, day, with_for_update=True)
    before = {"workday": row.workday, "note": row.note} if row else None
    row = row or CalendarOverride(day=day, workday=data.workday)
    row.workday, row.note, row.created_by = data.workday, data.note, admin.id
    session.add(row)
    record.append(session, subject_type=CALENDAR, subject_id=CALENDAR_ID, selection_id=None,
                  action="set_override", author=record.Author(admin.id, "admin"), clock=clock,
                  params={"day": day, "workday": data.workday, "note": data.note,
                          "before": before})
    session.flush()
    return OverridePublic.model_validate(row, from_attributes=True)


@router.delete("/api/v1/calendar/overrides/{day}", status_code=204,
               responses=problems(401, 403, 404, 422))
def delete_calendar_override(
    day: Day, session: SessionDep, admin: AdminUser, clock: ClockDep,
) -> None:
    """Remove an override; the day follows the official schedule (or weekends) again."""
    row = session.get(CalendarOverride, day, with_for_update=True)
    if row is None:
        raise NotFound("No override for {day}.", code="override_not_found", params={"day": day})
    session.delete(row)
    record.append(session, subject_type=CALENDAR, subject_id=CALENDAR_ID, selection_id=None,
                  action="remove_override", author=record.Author(admin.id, "admin"),
                  clock=clock, params={"day": day, "workday": row.workday, "note": row.note})


def _state(clock) -> ClockState:
    return ClockState(simulated=clock.simulated_now is not None, now=clock.now,
                      today=clock.today(), real_now=clock.real_now)


@router.get("/api/v1/admin/clock", response_model=ClockState, responses=problems(401, 403))
def read_clock(admin: AdminUser, clock: ClockDep) -> ClockState:
    """The service's clock: real, or simulated (情景模拟)."""
    return _state(clock)


@router.put("/api/v1/admin/clock", response_model=ClockState,
            responses=problems(401, 403, 409, 422))
def set_clock(
    data: ClockSet, session: SessionDep, settings: SettingsDep, admin: AdminUser,
) -> ClockState:
    """Start or move a simulation: set the clock to a day or a time (development mode only;
    a running simulation only moves forward)."""
    return _state(simulation.set_to(session, settings, day=data.day, at=data.at, user=admin))


@router.post("/api/v1/admin/clock/advance", response_model=ClockState,
             responses=problems(401, 403, 409, 422))
def advance_clock(
    data: ClockAdvance, session: SessionDep, settings: SettingsDep, admin: AdminUser,
) -> ClockState:
    """Move the simulated clock forward by days and hours (development mode only)."""
    delta = timedelta(days=data.days, hours=data.hours)
    return _state(simulation.advance(session, settings, delta=delta, user=admin))


@router.delete("/api/v1/admin/clock", response_model=ClockState, responses=problems(401, 403))
def clear_clock(session: SessionDep, settings: SettingsDep, admin: AdminUser) -> ClockState:
    """End the simulation; the service runs on real time again."""
    return _state(simulation.clear(session, settings, user=admin))
