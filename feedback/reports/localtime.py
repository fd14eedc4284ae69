"""Many stored instants as the report's local time in ISO 8601, each UTC hour's offset read once.

The CRM export writes every answer's time in the report's zone: 40,754 rows for the bench's month
at a million answers, where ``astimezone`` with a ``ZoneInfo`` and a zone-aware ``isoformat`` cost
about 3 µs a row. A zone's offset changes only at its transitions, and no zone has two
transitions within an hour of each other, so when the offsets at both ends of a UTC hour agree,
every instant of that hour has that offset: its local time is the naive value plus the offset,
formatted without a zone and the offset's text appended. An hour holding a transition has its
values converted one by one. The rows come ordered by time, so the last hour read is kept and
nearly every value is a comparison away from its offset.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

_HOUR = timedelta(hours=1)
_TICK = timedelta(microseconds=1)


def _iso_zone(value: datetime, tz: tzinfo) -> str:
    return value.replace(tzinfo=UTC).astimezone(tz).isoformat(timespec="seconds")


class LocalISO:
    """``value`` (naive UTC, or text SQLite handed back) as local ISO 8601 to the second, with
    its offset: the same string as ``value.replace(tzinfo=UTC).astimezone(tz).isoformat(
    timespec="seconds")``, and the same ``OverflowError`` beyond year 9999 in the zone."""

    __slots__ = ("_end", "_offset", "_start", "_suffix", "_tz")

    def __init__(self, tz: tzinfo) -> None:
        self._tz = tz
        self._start = self._end = datetime.min  # an empty hour: the first value reads its own
        self._offset: timedelta | None = None
        self._suffix = ""

    def __call__(self, value: datetime | str | None) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        if not self._start <= value < self._end:
            self._read_hour(value)
        if self._offset is None:  # the hour holds a transition, or lies at the end of time
            return _iso_zone(value, self._tz)
        return (value + self._offset).isoformat(timespec="seconds") + self._suffix

    def _read_hour(self, value: datetime) -> None:
        """Keep ``value``'s UTC hour and its offset (None if the hour holds a transition; an
        empty hour if its far end is beyond what ``datetime`` holds)."""
        start = value.replace(minute=0, second=0, microsecond=0)
        try:
            end = start + _HOUR
            first = start.replace(tzinfo=UTC).astimezone(self._tz)
            last = (end - _TICK).replace(tzinfo=UTC).astimezone(self._tz)
        except OverflowError:
            self._start = self._end = datetime.min
            self._offset = None
            return
        offset = first.utcoffset()
        self._start, self._end = start, end
        self._offset = offset if offset is not None and offset == last.utcoffset() else None
        self._suffix = first.isoformat(timespec="seconds")[19:]  # "+02:00" (or "+00:53:28")
