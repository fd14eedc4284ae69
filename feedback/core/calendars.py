"""Whose calendar applies to a mail: the rep's zone, else their team's, else the service's.

Small glue between the settings, a rep row and :class:`~feedback.core.business_time.WorkCalendar`
(calendars are cached: the follow-up round asks once per request).
"""

from __future__ import annotations

from datetime import date, datetime, time
from functools import lru_cache

from sqlmodel import Session, select

from feedback.core.business_time import WorkCalendar, parse_hours
from feedback.runtime.settings import Settings
from feedback.storage.lifecycle import Elapsed, wall_hours
from feedback.storage.models import Rep


def calendar_for(timezone: str | None, team: str | None, settings: Settings) -> WorkCalendar:
    """A person's work calendar: their zone, else their team's, else the service's."""
    start, end = parse_hours(settings.working_hours)
    zone = timezone or (settings.team_timezones.get(team) if team else None) or settings.timezone
    return _calendar(
        zone, tuple(settings.working_days), start, end, tuple(settings.holidays), settings.holiday_country
    )


@lru_cache(maxsize=256)
def _calendar(
    zone: str, days: tuple[int, ...], start: time, end: time, holidays: tuple[date, ...], country: str | None
) -> WorkCalendar:
    return WorkCalendar(zone, frozenset(days), start, end, frozenset(holidays), country)


def rep_calendar(rep: Rep, settings: Settings) -> WorkCalendar:
    return calendar_for(rep.timezone, rep.team, settings)


def manager_calendar(session: Session, rep: Rep, settings: Settings) -> WorkCalendar:
    """The manager's calendar when they are a rep here too, else their report's."""
    manager = (
        session.exec(select(Rep).where(Rep.email == rep.manager_email)).first() if rep.manager_email else None
    )
    return rep_calendar(manager or rep, settings)


def outside_hours(cal: WorkCalendar, now: datetime, settings: Settings) -> bool:
    """True when mail to this person must wait for their working hours."""
    return settings.business_time and not cal.working_at(now)


def elapsed_for(cal: WorkCalendar, settings: Settings) -> Elapsed:
    return cal.hours_between if settings.business_time else wall_hours
