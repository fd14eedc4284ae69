"""Report filters and the date words marketers type: ``2026-01-31``, ``30d``, ``12w``, ``6m``, ``today``.

Dates are read in the configured time zone (a day is the marketer's day, not UTC's) and turned
into naive UTC bounds, the way times are stored. ``until`` is inclusive of the day given.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

DIMENSIONS = ("campaign", "source", "segment", "rep", "team", "week", "month")
"""What ``--by`` may cross a report with."""

DATE_BY = {
    "sent": "the request's send",
    "answered": "the answer",
    "created": "the lead's creation",
    "closed": "the deal's close",
}
"""What ``--date-by`` may date a request by (``--since``/``--until``, weeks and months), and how
to say it. ``sent`` is the default: it is the only date every request has."""

_RELATIVE = re.compile(r"^\s*(\d+)\s*(h|d|w|m|y)\s*$", re.IGNORECASE)


class FilterError(ValueError):
    """A filter value that cannot be understood; the message says what is accepted."""


@dataclass(frozen=True, slots=True)
class Filters:
    """What to include. Empty tuples mean "all"; several values of one filter mean "any of"."""

    since: datetime | None = None  # naive UTC, inclusive
    until: datetime | None = None  # naive UTC, exclusive
    campaigns: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    reps: tuple[str, ...] = ()  # email, name or CRM id
    teams: tuple[str, ...] = ()
    segments: tuple[str, ...] = ()
    kind: str | None = None  # disposition | winloss
    by: str | None = None  # a DIMENSIONS entry
    period: str = "week"  # week | month, for trends
    date_by: str = "sent"  # a DATE_BY key: the date periods and --since/--until read
    reasons: tuple[str, ...] = ()  # verbatims: reason codes
    competitors: tuple[str, ...] = ()  # verbatims / competitors
    outcomes: tuple[str, ...] = ()  # verbatims
    limit: int | None = None

    def __post_init__(self) -> None:
        if self.by is not None and self.by not in DIMENSIONS:
            raise FilterError(f"--by must be one of {', '.join(DIMENSIONS)}, not {self.by!r}")
        if self.period not in ("week", "month"):
            raise FilterError(f"--period must be week or month, not {self.period!r}")
        if self.date_by not in DATE_BY:
            raise FilterError(f"--date-by must be one of {', '.join(DATE_BY)}, not {self.date_by!r}")
        if self.kind is not None and self.kind not in ("disposition", "winloss"):
            raise FilterError(f"--kind must be disposition or winloss, not {self.kind!r}")
        if self.since and self.until and self.since >= self.until:
            raise FilterError("--since must be before --until")

    def as_dict(self) -> dict[str, Any]:
        return {
            k: (list(v) if isinstance(v, tuple) else v)
            for k, v in asdict(self).items()
            if v not in (None, ())
        }

    def describe(self, tz: ZoneInfo) -> str:
        """One line a reader can check: which period and which slice the figures cover."""
        parts: list[str] = []
        if self.since or self.until:
            since = _local_day(self.since, tz) if self.since else "the start"
            until = _local_day(self.until - timedelta(microseconds=1), tz) if self.until else "now"
            parts.append(f"{since} to {until}")
        else:
            parts.append("all time")
        if self.date_by != "sent":
            parts[-1] += f" by {DATE_BY[self.date_by]}"
        for label, values in (
            ("campaign", self.campaigns),
            ("source", self.sources),
            ("rep", self.reps),
            ("team", self.teams),
            ("segment", self.segments),
            ("reason", self.reasons),
            ("competitor", self.competitors),
            ("outcome", self.outcomes),
        ):
            if values:
                parts.append(f"{label}: {', '.join(values)}")
        if self.kind:
            parts.append(f"kind: {self.kind}")
        return " · ".join(parts)


def _local_day(value: datetime, tz: ZoneInfo) -> str:
    return value.replace(tzinfo=UTC).astimezone(tz).date().isoformat()


def _months_back(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    month += 1
    for d in (day.day, 30, 29, 28):  # clamp 31 March - 1 month to 28/29 February
        try:
            return date(year, month, d)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def parse_when(text: str, *, now: datetime, tz: ZoneInfo, end: bool = False) -> datetime:
    """A date word -> naive UTC. ``end=True`` reads a bare date as the end of that day (exclusive bound).

    Relative forms count back from ``now``: ``48h``, ``30d``, ``12w``, ``6m`` (calendar months),
    ``1y``. ``today`` and ``yesterday`` are local days.
    """
    now_local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(tz)
    raw = text.strip().lower()
    match = _RELATIVE.match(raw)
    if match:
        amount, unit = int(match.group(1)), match.group(2).lower()
        if unit == "h":
            moment = now_local - timedelta(hours=amount)
        elif unit == "d":
            moment = now_local - timedelta(days=amount)
        elif unit == "w":
            moment = now_local - timedelta(weeks=amount)
        else:
            months = amount * (12 if unit == "y" else 1)
            moment = datetime.combine(_months_back(now_local.date(), months), now_local.timetz())
        return moment.astimezone(UTC).replace(tzinfo=None)
    if raw in ("today", "yesterday", "now"):
        if raw == "now":
            return now_local.astimezone(UTC).replace(tzinfo=None)
        day = now_local.date() - timedelta(days=1 if raw == "yesterday" else 0)
        return _day_bound(day, tz, end)
    try:
        if len(raw) == 10:
            return _day_bound(date.fromisoformat(raw), tz, end)
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise FilterError(
            f"cannot read the date {text!r}: use YYYY-MM-DD, a date and time, today, yesterday, "
            "or a span back from now like 30d, 12w, 6m, 1y"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC).replace(tzinfo=None)


def _day_bound(day: date, tz: ZoneInfo, end: bool) -> datetime:
    if end:
        day += timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tz).astimezone(UTC).replace(tzinfo=None)
