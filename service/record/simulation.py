"""Simulation mode (情景模拟): the service's clock set to a date, for training walk-throughs.

Development mode only. The simulated time runs on with the real clock from where it was
set, lives in the database (so every replica agrees) and is recorded in every event
beside the real time.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta

from sqlmodel import Session

from ..config import Settings
from ..core.clock import CHINA, Clock, current_clock, real_clock
from ..core.errors import Conflict, Forbidden, InvalidInput
from ..core.models import SimulatedClock, User
from . import service as record

SUBJECT = record.subject_type("clock")
SUBJECT_ID = uuid.uuid5(uuid.NAMESPACE_URL, "selection-service:clock")
# The simulated time stays where every date the service computes from it (periods of working
# days, trial months, years in the reserve pool, tokens' expiry) is still representable.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def _out_of_range(field: str) -> InvalidInput:
    return InvalidInput(
        "The simulated time must be from {EARLIEST} up to (not including) {LATEST}.", code="clock_out_of_range",
        details={"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()},
        errors=[{"field": field, "message": "outside the simulated clock's range",
                 "type": "clock_out_of_range"}], params={"EARLIEST": EARLIEST.date(), "LATEST": LATEST.date()})


def _refuse_in_production(settings: Settings) -> None:
    if settings.environment != "development":
        raise Forbidden("The clock can only be simulated in development mode.",
                        code="simulation_disabled")


def _store(session: Session, target: datetime, user: User, clock: Clock, action: str) -> Clock:
    if clock.simulated_now is not None and target < clock.now:
        raise Conflict(
            "A running simulation only moves forward: {target} is before the simulated time "
            "{now}; end the simulation (DELETE) to start another.", code="clock_backwards",
            details={"now": clock.now.isoformat()}, params={"target": target.isoformat(), "now": clock.now.isoformat()})
    row = session.get(SimulatedClock, 1, with_for_update=True) or SimulatedClock(id=1,
                                                                                simulated_at=target)
    row.simulated_at, row.set_at, row.set_by = target, clock.real_now, user.id
    session.add(row)
    new = Clock(real_now=clock.real_now, simulated_now=target)
    record.append(session, subject_type=SUBJECT, subject_id=SUBJECT_ID, selection_id=None,
                  action=action, author=record.Author(user.id, "admin"), clock=new,
                  params={"simulated_now": target.isoformat(),
                          "previous": clock.now.isoformat()})
    return new


def set_to(session: Session, settings: Settings, *, day=None, at=None, user: User) -> Clock:
    """Set the simulated clock to a day (09:00 China time) or an exact time."""
    _refuse_in_production(settings)
    try:
        target = (at if at is not None else datetime.combine(day, time(9, 0), CHINA)
                  ).astimezone(UTC)
    except OverflowError:  # e.g. 9999-12-31T23:59:59-14:00 is in year 10000 in UTC
        target = LATEST
    if not EARLIEST <= target < LATEST:
        raise _out_of_range("body.at" if at is not None else "body.day")
    return _store(session, target, user, current_clock(session, settings), "set_clock")


def advance(session: Session, settings: Settings, *, delta: timedelta, user: User) -> Clock:
    """Move the simulated clock forward (starting from real time when none is set)."""
    _refuse_in_production(settings)
    clock = current_clock(session, settings)
    try:
        target = clock.now + delta
    except OverflowError:
        target = LATEST
    if not target < LATEST:
        raise _out_of_range("body.days")
    return _store(session, target, user, clock, "advance_clock")


def clear(session: Session, settings: Settings, *, user: User) -> Clock:
    """End the simulation: the service runs on real time again."""
    _refuse_in_production(settings)
    row = session.get(SimulatedClock, 1, with_for_update=True)
    clock = current_clock(session, settings)
    if row is not None:
        session.delete(row)
        record.append(session, subject_type=SUBJECT, subject_id=SUBJECT_ID, selection_id=None,
                      action="clear_clock", author=record.Author(user.id, "admin"),
                      clock=real_clock(), params={"previous": clock.now.isoformat()})
    return real_clock()
