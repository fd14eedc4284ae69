"""Median hours to answer per week or month, each period read from its own slice of a date index.

``trends`` shows a median per period. Grouping every answered fact by period sorts them all (a
million hours by week, then again inside each week: about 1 s at a million answers on
PostgreSQL). A period is a range of its date: the week of ``2026-03-02`` in a zone at UTC+1 is
``[2026-03-01 23:00, 2026-03-08 23:00)`` UTC, exactly the facts whose
``period_start('week', at, 60)`` is that Monday (:func:`~feedback.reports.sql.period_of`). So
each period's median is taken over that range alone, through migration 0029's index on the date
carrying the hours and the kind: an index-only scan of a few thousand entries and their sort,
per period (0.2 s for 109 weeks where the grouped sort took 0.6-1.0 s).

PostgreSQL only (SQLite has no such index and its window medians are within target), and only
when the report's frame is the date range and the kind: a campaign, source, rep, team or
segment filter is not in the index, so those frames (small indexed slices) keep the grouped
median. Both give the same figure (``tests/test_report_rollup.py`` compares them).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import DateTime, String, column, select, values
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import Select

from feedback.reports.filters import Filters
from feedback.reports.sql import DATE_COLUMNS, FACT, bind_time, median_of


def applies(filters: Filters, dialect: str) -> bool:
    """Whether the medians can be read per period: PostgreSQL (0029's indexes), and a frame of
    the kind and the date range only."""
    narrowed = filters.campaigns or filters.sources or filters.reps or filters.teams or filters.segments
    return dialect == "postgresql" and not narrowed


def bounds(key: str, unit: str, offset_minutes: int) -> tuple[datetime, datetime]:
    """The UTC range [start, end) of the period starting on ``key`` ('YYYY-MM-DD', a Monday or a
    1st) in a zone ``offset_minutes`` ahead of UTC."""
    start = datetime.strptime(key, "%Y-%m-%d")
    if unit == "week":
        end = start + timedelta(days=7)
    else:
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1)
    shift = timedelta(minutes=offset_minutes)
    return start - shift, end - shift


def query(filters: Filters, unit: str, offset_minutes: int, keys: Sequence[str]) -> Select[tuple[str, float]]:
    """One row per period key: ``key`` and ``median`` (null when the period has no hours), each a
    correlated median over the period's range of the filters' date."""
    at = FACT.c[DATE_COLUMNS[filters.date_by]]
    periods = values(
        column("key", String()), column("lo", DateTime()), column("hi", DateTime()), name="p"
    ).data([(key, *bounds(key, unit, offset_minutes)) for key in keys])
    conds: list[ColumnElement[bool]] = [FACT.c.hours.is_not(None), at >= periods.c.lo, at < periods.c.hi]
    if filters.kind:
        conds.append(FACT.c.kind == filters.kind)
    if filters.since:
        conds.append(at >= bind_time(at, filters.since))
    if filters.until:
        conds.append(at < bind_time(at, filters.until))
    median = select(median_of(FACT.c.hours)).where(*conds).scalar_subquery()
    return select(periods.c.key, median.label("median"))


def medians(
    conn: Connection, filters: Filters, unit: str, offset_minutes: int, keys: Sequence[str]
) -> dict[tuple[str], float | None]:
    """The median hours to answer of each period in ``keys`` (as ``queries.median_map`` keys them)."""
    if not keys:
        return {}
    found = conn.execute(query(filters, unit, offset_minutes, keys))
    return {(row.key,): (float(row.median) if row.median is not None else None) for row in found}
