"""Business time: working hours, working days and holidays in a person's own time zone (pure).

Reminders and escalations wait a number of *business* hours, and mail goes out only inside the
recipient's working hours: a request assigned on Friday evening is not chased on Saturday, and
nobody gets a reminder at 3 a.m. because the server runs in UTC. Times in and out are naive UTC
(as stored); the calendar converts to the person's zone for the working-hours question only.
Holidays come from the ``holidays`` package (one country code per calendar, maintained upstream
for ~150 countries) plus an explicit list from settings.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MAX_DAYS = 366 * 2  # a search that finds no working hour in two years is a misconfiguration


class CalendarError(ValueError):
    """A calendar with no working time at all (the message says which setting)."""


@dataclass(frozen=True)
class WorkCalendar:
    """When one person works: time zone, weekdays (Mon=0), hours, holidays."""

    timezone: str = "UTC"
    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)
    country: str | None = None  # holidays of this country (ISO 3166 code) are days off too

    def __post_init__(self) -> None:
        if not self.days or self.end <= self.start:
            raise CalendarError("working days and hours leave no working time (working_days/working_hours)")

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def is_workday(self, day: date) -> bool:
        if day.weekday() not in self.days or day in self.holidays:
            return False
        return not (self.country and day in _country_holidays(self.country, day.year))

    def _local(self, at: datetime) -> datetime:
        return at.replace(tzinfo=UTC).astimezone(self.zone)

    def _utc(self, local: datetime) -> datetime:
        return local.astimezone(UTC).replace(tzinfo=None)

    def working_at(self, at: datetime) -> bool:
        """Whether ``at`` (naive UTC) falls inside this person's working hours."""
        local = self._local(at)
        return self.is_workday(local.date()) and self.start <= local.time() < self.end

    def _windows(self, at: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Working windows (naive UTC) from the day of ``at`` on, in order."""
        day = self._local(at).date()
        for _ in range(MAX_DAYS):
            if self.is_workday(day):
                open_ = datetime.combine(day, self.start, tzinfo=self.zone)
                close = datetime.combine(day, self.end, tzinfo=self.zone)
                yield self._utc(open_), self._utc(close)
            day += timedelta(days=1)

    def next_working(self, at: datetime) -> datetime:
        """``at`` itself when working, else the start of the next working window."""
        for open_, close in self._windows(at):
            if at < close:
                return max(at, open_)
        raise CalendarError("no working time in the next two years (holidays/working_days)")

    def hours_between(self, start: datetime, end: datetime) -> float:
        """Business hours from ``start`` to ``end`` (0 when end <= start)."""
        if end <= start:
            return 0.0
        total = 0.0
        for open_, close in self._windows(start):
            if open_ >= end:
                break
            lo, hi = max(open_, start), min(close, end)
            if hi > lo:
                total += (hi - lo).total_seconds() / 3600
        return total

    def add_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` business hours after ``start``."""
        left = timedelta(hours=hours)
        for open_, close in self._windows(start):
            lo = max(open_, start)
            if lo >= close:
                continue
            if lo + left <= close:
                return lo + left
            left -= close - lo
        raise CalendarError("no working time in the next two years (holidays/working_days)")


def parse_hours(text: str) -> tuple[time, time]:
    """``"09:00-17:30"`` -> (09:00, 17:30); ValueError with the expected shape otherwise."""
    try:
        a, b = (part.strip() for part in text.split("-", 1))
        start, end = time.fromisoformat(a), time.fromisoformat(b)
    except ValueError:
        raise ValueError(f"working hours {text!r}: write them as HH:MM-HH:MM, e.g. 09:00-17:00") from None
    if end <= start:
        raise ValueError(f"working hours {text!r}: the end must be after the start")
    return start, end


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def _country_holidays(country: str, year: int) -> frozenset[date]:
    import holidays

    return frozenset(holidays.country_holidays(country, years=year).keys())
