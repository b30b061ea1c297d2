"""The one clock: real UTC time, and the date in China (dates of the process are local)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from ..config import Settings
from .models import SimulatedClock

CHINA = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Clock:
    """The time of one request: the real time and, in simulation mode, the simulated one."""

    real_now: datetime
    simulated_now: datetime | None = None

    @property
    def now(self) -> datetime:
        """The time the process runs at (simulated when simulation is on)."""
        return self.simulated_now or self.real_now

    def today(self) -> date:
        """Today's date in China."""
        return self.now.astimezone(CHINA).date()


def real_clock() -> Clock:
    """A clock at the real current time."""
    return Clock(real_now=datetime.now(UTC))


_SIMULATED = select(SimulatedClock.simulated_at, SimulatedClock.set_at).where(
    SimulatedClock.id == 1)


def current_clock(session: Session, settings: Settings) -> Clock:
    """The clock for this request: simulated when a simulation is set (development only;
    service/record/simulation.py sets it)."""
    clock = real_clock()
    if settings.environment != "development":
        return clock
    # two columns on the session's connection, not the ORM: every write in development
    # mode asks
    row = session.connection().execute(_SIMULATED).first()
    if row is None:
        return clock
    simulated_at, set_at = row
    return Clock(real_now=clock.real_now, simulated_now=simulated_at + (
        clock.real_now - set_at))
