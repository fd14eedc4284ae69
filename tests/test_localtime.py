"""``reports.localtime.LocalISO`` writes what ``astimezone`` + ``isoformat`` write, for every
instant and zone, whatever order the values come in (it keeps the last UTC hour's offset)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from feedback.reports.localtime import LocalISO

# zones with transitions at odd times: half-hour DST (Lord Howe), negative DST (Dublin), offsets
# in seconds before standard time (Amsterdam's +00:19:32 until 1937, Kolkata's LMT), a day skipped
# (Apia, 2011), 45-minute offsets (Chatham), DST dropped and brought back (Casablanca, Sao Paulo)
ZONES = [
    "UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Europe/Dublin",
    "Europe/Amsterdam", "Asia/Kolkata", "Pacific/Apia", "Pacific/Chatham", "Africa/Casablanca",
    "America/Sao_Paulo", "Asia/Kathmandu", "Pacific/Kiritimati", "America/St_Johns",
]  # fmt: skip


def reference(value: datetime, zone: ZoneInfo) -> str:
    return value.replace(tzinfo=UTC).astimezone(zone).isoformat(timespec="seconds")


def outcome(convert: object, value: datetime) -> str:
    try:
        return convert(value)  # type: ignore[operator, no-any-return]
    except OverflowError:
        return "OverflowError"


def ref_outcome(value: datetime, zone: ZoneInfo) -> str:
    try:
        return reference(value, zone)
    except OverflowError:
        return "OverflowError"


instants = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59))
near_now = st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1))


@settings(max_examples=300, deadline=None)
@given(zone=st.sampled_from(ZONES), values=st.lists(st.one_of(instants, near_now), max_size=40))
def test_every_value_as_astimezone_writes_it(zone: str, values: list[datetime]) -> None:
    tz = ZoneInfo(zone)
    convert = LocalISO(tz)
    assert [outcome(convert, v) for v in values] == [ref_outcome(v, tz) for v in values]


@pytest.mark.parametrize("zone", ZONES)
def test_every_minute_around_each_transition_of_recent_years(zone: str) -> None:
    """Sorted values, newest first as the export reads them and oldest first: every minute (at 0
    and 59 seconds) of the two days from each change of offset between 2010 and 2030."""
    tz = ZoneInfo(zone)
    changes = []
    day = datetime(2010, 1, 1)
    while day < datetime(2030, 1, 1):
        nxt = day + timedelta(days=1)
        if reference(day, tz)[19:] != reference(nxt, tz)[19:]:
            changes.append(day)
        day = nxt
    minutes = [timedelta(minutes=m, seconds=s) for m in range(-60, 48 * 60) for s in (0, 59)]
    values = [c + m for c in changes for m in minutes]
    values.sort(reverse=True)
    convert = LocalISO(tz)
    assert [convert(v) for v in values] == [reference(v, tz) for v in values]
    values.reverse()  # oldest first: the hour after the one kept starts where that one ends
    assert [convert(v) for v in values] == [reference(v, tz) for v in values]
    assert zone in ("UTC", "Asia/Kolkata", "Asia/Kathmandu", "Pacific/Kiritimati") or changes


def test_text_aware_and_missing_values() -> None:
    convert = LocalISO(ZoneInfo("Europe/Berlin"))
    assert convert(None) == ""
    assert convert("2026-07-01 10:00:00") == "2026-07-01T12:00:00+02:00"  # SQLite's text
    aware = datetime(2026, 1, 1, 10, tzinfo=timezone(timedelta(hours=-5)))
    assert convert(aware) == "2026-01-01T16:00:00+01:00"
    with pytest.raises(OverflowError):  # beyond year 9999 in the zone, as astimezone says
        convert(datetime(9999, 12, 31, 23, 30))
