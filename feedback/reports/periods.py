"""Trends period by period: each week or month read from its own range of its date's index.

``trends`` groups the facts by period. Grouping every fact by a computed week scans the whole
of ``report_fact`` (about 1 GB at a million answers; PostgreSQL cannot estimate the weeks, so it
gathers every row into one process to hash them: 0.8-1.0 s) and sorts every answered fact's
hours by week for the medians (0.6-1.0 s). But a period in the report's zone is a range of its
date: the week of ``2026-03-02`` in a zone at UTC+1 is ``[2026-03-01 23:00, 2026-03-08 23:00)``
UTC, exactly the facts whose ``period_start('week', at, 60)`` is that Monday
(:func:`~feedback.reports.sql.period_of`). So each period is read from its own range through
migration 0029's covering index on the date (it carries :data:`CARRIED`): counts per kind,
outcome, CRM result and answer state, and the median hours to answer, each an index-only scan of
the period's few thousand entries (0.4 and 0.2 s for 109 weeks at a million answers).

PostgreSQL only (SQLite has no covering indexes and its grouped trends are within target), only
for a report that holds its own connection (listing the periods and reading them are two
statements, which ``sql.connect`` puts in one snapshot only then), and only when the frame is the
kind and the date range: a campaign, source, rep, team or segment
filter is not in the index, so those frames (small indexed slices) are grouped as before. Both
give the same figures (``tests/test_report_rollup.py`` compares them in several zones).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, DateTime, Float, String, cast, column, func, null, select, true, values
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE, Select, Values

from feedback.reports.filters import Filters
from feedback.reports.queries import answer_state
from feedback.reports.sql import DATE_COLUMNS, FACT, kind_and_range, median_of

CARRIED = ("kind", "status", "outcome", "deal_result", "response_id", "sent_at", "hours")
"""What a period's counts and median read of each fact: migration 0029's indexes carry these."""


MAX_PERIODS = 2000
"""More periods than this (dates decades apart) are grouped as before: each period is a row of
the statement's VALUES list, three parameters each."""


def applies(filters: Filters, dialect: str) -> bool:
    """Whether trends can be read per period: PostgreSQL (0029's indexes), and a frame of the
    kind and the date range only."""
    narrowed = filters.campaigns or filters.sources or filters.reps or filters.teams or filters.segments
    return dialect == "postgresql" and not narrowed


def period_key(moment: datetime, unit: str, offset_minutes: int) -> str:
    """'YYYY-MM-DD' of the week (Monday) or month holding the UTC instant ``moment`` in a zone
    ``offset_minutes`` ahead of UTC (what ``sql.period_of`` computes in SQL)."""
    local = (moment + timedelta(minutes=offset_minutes)).date()
    start = local - timedelta(days=local.weekday()) if unit == "week" else local.replace(day=1)
    return start.isoformat()


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


def keys(conn: Connection, filters: Filters, unit: str, offset_minutes: int) -> list[str]:
    """Every period from the frame's first date to its last (the two ends of the date's index);
    none (the caller groups instead) for an empty frame, more than :data:`MAX_PERIODS` periods,
    or dates so far out (a CRM's 9999-12-31 placeholder) that Python's dates cannot hold their
    periods."""
    at = FACT.c[DATE_COLUMNS[filters.date_by]]
    first, last = conn.execute(select(func.min(at), func.max(at)).where(*kind_and_range(filters))).one()
    if first is None or last is None:
        return []
    days = 7 if unit == "week" else 28  # a period is at least this long
    if (last - first).days > days * MAX_PERIODS:
        return []
    try:
        out = [period_key(first, unit, offset_minutes)]
        end = period_key(last, unit, offset_minutes)
        while out[-1] < end:
            _, after = bounds(out[-1], unit, 0)  # the next period's start, as a local date
            out.append(after.date().isoformat())
        bounds(end, unit, offset_minutes)  # the last period's end exists too
    except (OverflowError, ValueError):  # beyond year 1 or 9999 in the report's zone
        return []
    return out if len(out) <= MAX_PERIODS else []


def _periods(unit: str, offset_minutes: int, keys: Sequence[str]) -> Values:
    rows = [(key, *bounds(key, unit, offset_minutes)) for key in keys]
    return values(column("key", String()), column("lo", DateTime()), column("hi", DateTime()), name="p").data(
        rows
    )


def _in(filters: Filters, p: Values) -> list[ColumnElement[bool]]:
    at = FACT.c[DATE_COLUMNS[filters.date_by]]
    return [*kind_and_range(filters), at >= p.c.lo, at < p.c.hi]


def grouped(filters: Filters, unit: str, offset_minutes: int, keys: Sequence[str], *, name: str) -> CTE:
    """:func:`queries.grouped` of the frame by period (column ``name``), period by period: the
    same columns (the key, kind, outcome, CRM result, currency, answer state, requests, sent,
    amount), the currency and amount null (trends reads neither)."""
    p = _periods(unit, offset_minutes, keys)
    answer = answer_state(FACT.c.status, FACT.c.response_id, FACT.c.outcome)
    grain = [FACT.c.kind, FACT.c.outcome, FACT.c.deal_result, answer]
    counted = (
        select(
            FACT.c.kind.label("kind"),
            FACT.c.outcome.label("outcome"),
            FACT.c.deal_result.label("deal_result"),
            answer.label("answer"),
            func.count().label("requests"),
            func.count(FACT.c.sent_at).label("sent"),
        )
        .where(*_in(filters, p))
        .group_by(*grain)
        .lateral("c")
    )
    c = counted.c
    return (
        select(
            p.c.key.label(name),
            c.kind,
            c.outcome,
            c.deal_result,
            cast(null(), String()).label("currency"),
            c.answer,
            cast(c.requests, BigInteger()).label("requests"),
            cast(c.sent, BigInteger()).label("sent"),
            cast(null(), Float()).label("amount"),
        )
        .select_from(p.join(counted, true()))
        .cte("g")
    )


def medians(
    filters: Filters, unit: str, offset_minutes: int, keys: Sequence[str], *, name: str
) -> Select[Any]:
    """Per period (column ``name``): the ``median`` hours to answer of its answered facts (null
    when it has none), each a median over the period's range."""
    p = _periods(unit, offset_minutes, keys)
    median = select(median_of(FACT.c.hours)).where(*_in(filters, p), FACT.c.hours.is_not(None))
    return select(p.c.key.label(name), median.scalar_subquery().label("median"))
