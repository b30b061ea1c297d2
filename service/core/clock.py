"""The one clock: real UTC time, and the date in China (dates of the process are local)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

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
