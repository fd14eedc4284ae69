"""Report figures from the rollup: whole months summed, the partial months at either end from the facts.

``report_rollup`` and ``report_reason_rollup`` (migration 0027, kept by the facts' triggers)
hold the summary's grouped counts per UTC month of each date. A range (any instant) is cut into
the whole months it covers, summed from the rollup, and the parts of a month at either end, read
from the facts with the report's own SQL (:func:`queries.grouped_select`); the two add up to
exactly what the facts alone give. A filter the rollup does not key (campaign, source, rep,
team, segment) reads the facts alone (:func:`split` is None): those read a small indexed
slice anyway (migration 0024).

The medians cannot be summed: with no filter at all they are taken by rank from the medians'
indexes (:func:`medians`: the middle one or two of the ordered values, counted and skipped to
in one index range, no sort); otherwise the report computes them from the facts as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    String,
    Table,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE, Select

from feedback.reports import queries as q
from feedback.reports.filters import Filters
from feedback.reports.sql import (
    DATE_COLUMNS,
    FACT,
    MONTH_COLUMNS,
    REASON_FACT,
    REASON_ROLLUP,
    REASON_ROLLUP_ALL,
    ROLLUP,
    ROLLUP_ALL,
    bind_time,
    bytewise,
    select_frame,
)

KEYS = ("kind", "campaign", "source", "outcome", "competitor")
"""The keys a report may group the rollup by (with :data:`queries.GRAIN` and the answer state)."""

MEDIAN_CHUNK = 100
"""Medians per statement (SQLite allows 500 terms in one UNION ALL)."""


@dataclass(frozen=True, slots=True)
class Split:
    """The whole UTC months of a report's range: [first, end); None is open (no bound)."""

    filters: Filters
    first: datetime | None
    end: datetime | None

    @property
    def all_time(self) -> bool:
        """Every request (dated by the send, which each has): the ``_all`` tables, no months."""
        return self.filters.date_by == "sent" and self.filters.since is None and self.filters.until is None

    def table(self, monthly: Table, whole: Table) -> Table:
        return whole if self.all_time else monthly

    def months(self, table: Table) -> list[ColumnElement[bool]]:
        """The rollup rows of the whole months, of the report's kind."""
        if self.all_time:
            return [table.c.kind == self.filters.kind] if self.filters.kind else []
        month = table.c[MONTH_COLUMNS[self.filters.date_by]]
        conds: list[ColumnElement[bool]] = [month.is_not(None)]
        if self.first is not None:
            conds.append(month >= _month(self.first))
        if self.end is not None:
            conds.append(month < _month(self.end))
        if self.filters.kind:
            conds.append(table.c.kind == self.filters.kind)
        return conds

    def edges(self, table: Table) -> list[ColumnElement[bool]]:
        """The parts of the range outside the whole months (read from the facts), or none."""
        at = table.c[DATE_COLUMNS[self.filters.date_by]]
        since, until = self.filters.since, self.filters.until
        out: list[ColumnElement[bool]] = []
        if since is not None and self.first is not None and since < self.first:
            out.append(and_(at >= bind_time(at, since), at < bind_time(at, self.first)))
        if until is not None and self.end is not None and self.end < until:
            out.append(and_(at >= bind_time(at, self.end), at < bind_time(at, until)))
        return out


def _month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def _month_start(moment: datetime) -> datetime:
    return datetime(moment.year, moment.month, 1)


def _next_month(moment: datetime) -> datetime:
    return datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1)


def split(filters: Filters) -> Split | None:
    """Where the rollup can answer: the whole months of the range, or None (the facts alone).

    None when a filter the rollup does not key is set, or the range holds no whole month.
    """
    if filters.campaigns or filters.sources or filters.reps or filters.teams or filters.segments:
        return None
    first = end = None
    if filters.since is not None:
        start = _month_start(filters.since)
        first = start if start == filters.since else _next_month(start)
    if filters.until is not None:
        end = _month_start(filters.until)
    if first is not None and end is not None and first >= end:
        return None
    return Split(filters, first, end)


def _edge_frame(s: Split, table: Table, columns: Iterable[str]) -> Select[Any] | None:
    """The facts of the range's partial months (the filters' other conditions as the frame's)."""
    edges = s.edges(table)
    if not edges:
        return None
    unbounded = replace(s.filters, since=None, until=None)
    return select_frame(unbounded, columns=set(columns), table=table).where(or_(*edges))


def grouped(s: Split, keys: Sequence[str], *, name: str = "g") -> CTE:
    """:func:`queries.grouped` of the report's frame (``keys`` from :data:`KEYS`), from the rollup."""
    names = list(dict.fromkeys([*keys, *q.GRAIN]))
    r = s.table(ROLLUP, ROLLUP_ALL)
    amount = case(
        (func.sum(r.c.amount_n) > 0, cast(func.sum(r.c.amount_micros), Float) / 1000000.0),
        else_=None,
    )
    summed = (
        select(
            *[r.c[k].label(k) for k in names],
            r.c.answer.label("answer"),
            cast(func.sum(r.c.requests), BigInteger).label("requests"),
            cast(func.sum(r.c.sent), BigInteger).label("sent"),
            cast(amount, Float).label("amount"),
        )
        .where(*s.months(r))
        .group_by(*[r.c[k] for k in names], r.c.answer)
        .having(func.sum(r.c.requests) != 0)  # a group whose facts all went: deltas summing to 0
    )
    edge = _edge_frame(s, FACT, [*names, "status", "response_id", "sent_at", "amount"])
    if edge is None:
        return summed.cte(name)
    both = union_all(summed, q.grouped_select(edge.subquery("e"), keys)).subquery("u")
    return (
        select(
            *[both.c[k] for k in names],
            both.c.answer,
            cast(func.sum(both.c.requests), BigInteger).label("requests"),
            cast(func.sum(both.c.sent), BigInteger).label("sent"),
            cast(func.sum(both.c.amount), Float).label("amount"),
        )
        .group_by(*[both.c[k] for k in names], both.c.answer)
        .cte(name)
    )


def reason_grouped(s: Split, keys: Sequence[str], *, name: str = "rc") -> CTE:
    """:func:`queries.reason_grouped` of the report's reasons (``keys`` from :data:`KEYS`), from
    the rollup."""
    r = s.table(REASON_ROLLUP, REASON_ROLLUP_ALL)
    summed = (
        select(
            *[r.c[k].label(k) for k in keys],
            r.c.code.label("code"),
            cast(func.sum(r.c.mentions), BigInteger).label("mentions"),
            cast(func.sum(r.c.firsts), BigInteger).label("primary"),
        )
        .where(*s.months(r))
        .group_by(*[r.c[k] for k in keys], r.c.code)
        .having(func.sum(r.c.mentions) != 0)
    )
    edge = _edge_frame(s, REASON_FACT, [*keys, "code", "rank", "status", "response_id", "outcome"])
    if edge is None:
        return summed.cte(name)
    both = union_all(summed, q.reason_grouped_select(edge.subquery("e"), keys)).subquery("u")
    return (
        select(
            *[both.c[k] for k in keys],
            both.c.code,
            cast(func.sum(both.c.mentions), BigInteger).label("mentions"),
            cast(func.sum(both.c.primary), BigInteger).label("primary"),
        )
        .group_by(*[both.c[k] for k in keys], both.c.code)
        .cte(name)
    )


def unfiltered(filters: Filters) -> bool:
    """No filter at all: the whole fact table is the frame, so the medians' indexes hold it."""
    cut = split(filters)
    return cut is not None and cut.all_time and filters.kind is None


def _median(part: str, key: str | None, n: int, conds: Sequence[ColumnElement[bool]]) -> Select[Any]:
    """The median of the ``n`` hours of the facts where ``conds``: the mean of the values
    ranked (n+1) div 2 and (n+2) div 2 (as :func:`sql.median_by`), reached in the index's order
    (0004's ``(hours)`` and ``(kind, campaign or source, hours)``): a skip, no sort."""
    middle = (
        select(FACT.c.hours.label("h"))
        .where(*conds, FACT.c.hours.is_not(None))
        .order_by(FACT.c.hours)
        .limit(2 - n % 2)
        .offset((n - 1) // 2)
        .subquery("m")
    )
    value = select(func.avg(middle.c.h)).scalar_subquery()
    return select(
        literal(part, String()).label("part"),
        literal(key, String()).label("key"),
        cast(value, Float).label("median"),
    )


def medians(conn: Connection, dims: Sequence[str]) -> dict[str, dict[str | None, float | None]]:
    """The summary's medians with no filter: hours to answer over every fact (part ``""``, key
    None) and over the disposition facts per value of each of ``dims`` (part ``dim``).

    The counts come from the rollup, read in the same snapshot as the facts (``sql.connect``
    reads a report in one), so each rank is the one the facts hold.
    """
    if conn.dialect.name == "postgresql":
        return _medians_correlated(conn, dims)
    r = ROLLUP_ALL
    whole: list[ColumnElement[Any]] = [literal("", String()), literal(None, String()), func.sum(r.c.hours_n)]
    counted = [select(*whole)]
    for dim in dims:
        per: list[ColumnElement[Any]] = [literal(dim, String()), r.c[dim], func.sum(r.c.hours_n)]
        counted.append(select(*per).where(r.c.kind == "disposition").group_by(r.c[dim]))
    selects: list[Select[Any]] = []
    for dim, value, n in conn.execute(union_all(*counted)):
        if not n:
            continue
        if dim == "":
            selects.append(_median("", None, int(n), []))
            continue
        col = FACT.c[dim]
        match = col.is_(None) if value is None else bytewise(col) == value
        selects.append(_median(dim, value, int(n), [FACT.c.kind == "disposition", match]))
    out: dict[str, dict[str | None, float | None]] = {part: {} for part in ["", *dims]}
    for start in range(0, len(selects), MEDIAN_CHUNK):
        chunk = selects[start : start + MEDIAN_CHUNK]
        statement = chunk[0] if len(chunk) == 1 else union_all(*chunk)
        for row in conn.execute(statement):
            m = row._mapping
            out[m["part"]][m["key"]] = m["median"]
    return out


def _medians_correlated(conn: Connection, dims: Sequence[str]) -> dict[str, dict[str | None, float | None]]:
    """PostgreSQL: each ``dims`` value's median in one statement with its count from the rollup
    (a LIMIT may read the outer row there), planned once rather than once per value."""
    r = ROLLUP_ALL
    out: dict[str, dict[str | None, float | None]] = {}
    for dim in ["", *dims]:
        keys = [r.c[dim].label("key")] if dim else [literal(None, String()).label("key")]
        n = cast(func.sum(r.c.hours_n), BigInteger)
        counted = select(*keys, n.label("n"))
        if dim:
            counted = counted.where(r.c.kind == "disposition").group_by(r.c[dim])
        v = counted.subquery("v")
        conds = [FACT.c.kind == "disposition", bytewise(FACT.c[dim]) == v.c.key] if dim else []
        middle = (
            select(FACT.c.hours.label("h"))
            .where(*conds, FACT.c.hours.is_not(None))
            .order_by(FACT.c.hours)
            .limit(2 - v.c.n % 2)
            .offset((v.c.n - 1) // 2)
            .correlate(v)
            .subquery("m")
        )
        value = select(func.avg(middle.c.h)).scalar_subquery()
        query = select(v.c.key, cast(value, Float).label("median")).where(v.c.n > 0)
        out[dim] = {row.key: row.median for row in conn.execute(query)}
    return out
