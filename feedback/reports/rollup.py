"""Report figures from the rollup: whole months summed, the partial months at either end from the facts.

``report_rollup`` and ``report_reason_rollup`` (migration 0027, kept by the facts' triggers)
hold the grouped counts of the summary, reasons, win/loss and competitors reports
(``build._counts`` picks them) per UTC month of each date. A range (any instant) is cut into
the whole months it covers, summed from the rollup, and the parts of a month at either end, read
from the facts with the report's own SQL (:func:`queries.grouped_select`); the two add up to
exactly what the facts alone give. A filter the rollup does not key (campaign, source, rep,
team, segment) reads the facts alone (:func:`split` is None): those read a small indexed
slice anyway (migration 0024).

The medians cannot be summed: they are taken by rank from the medians' indexes (:func:`medians`:
the middle one or two of the ordered values, n from the rollup, skipped to in the index, which
carries the four dates so the range is checked there, no sort), unless the range holds few of
the answers (then its facts are sorted, as before).
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
from sqlalchemy.sql.selectable import CTE, Select, Subquery

from feedback.reports import queries as q
from feedback.reports import ranks
from feedback.reports.filters import Filters
from feedback.reports.ranks import MEDIAN_CHUNK
from feedback.reports.sql import (
    DATE_COLUMNS,
    FACT,
    HOURS_ROLLUP_CS,
    MONTH_COLUMNS,
    REASON_FACT,
    REASON_ROLLUP,
    REASON_ROLLUP_ALL,
    ROLLUP,
    ROLLUP_ALL,
    bind_time,
    bytewise,
    hour_of,
    kind_and_range,
    select_frame,
)

KEYS = ("kind", "campaign", "source", "outcome", "competitor")
"""The keys a report may group the rollup by (with :data:`queries.GRAIN` and the answer state)."""


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


RANK_SHARE = 10
"""Medians by rank when the range holds at least 1/RANK_SHARE of the answers: the skip reads
about half of an index whatever the range, a sort reads only the range."""


def _counts(s: Split, dim: str) -> Subquery:
    """Per value of ``dim`` (``""``: one row, key null) the frame's answers with hours to answer
    (of disposition requests per value): whole months from the rollup, the edges from the facts."""
    r = s.table(ROLLUP, ROLLUP_ALL)
    per = [r.c.kind == "disposition"] if dim else []
    key: ColumnElement[Any] = r.c[dim] if dim else literal(None, String())
    summed = select(key.label("key"), cast(func.sum(r.c.hours_n), BigInteger).label("n")).where(
        *s.months(r), *per
    )
    parts: list[Select[Any]] = [summed.group_by(r.c[dim]) if dim else summed]
    edges = s.edges(FACT)
    if edges:
        f = s.filters
        at = FACT.c[DATE_COLUMNS[f.date_by]]
        conds = [FACT.c.kind == f.kind] if f.kind else []
        fkey: ColumnElement[Any] = FACT.c[dim] if dim else literal(None, String())
        edge = select(fkey.label("key"), cast(func.count(FACT.c.hours), BigInteger).label("n")).where(
            *conds, at.is_not(None), or_(*edges), *([FACT.c.kind == "disposition"] if dim else [])
        )
        parts.append(edge.group_by(FACT.c[dim]) if dim else edge)
    both = union_all(*parts).subquery("c")
    total = select(both.c.key, cast(func.sum(both.c.n), BigInteger).label("n")).group_by(both.c.key)
    return total.subquery("v")


def _median(s: Split, dim: str, key: Any, n: Any) -> ColumnElement[Any]:
    """The median of hours to answer in the frame (of the disposition requests with ``dim`` =
    ``key``): the mean of the values ranked (n+1) div 2 and (n+2) div 2, as
    :func:`sql.median_by` defines it, reached in the order of the medians' indexes (0004's,
    carrying the four dates since 0027, so the range is checked in the index): a skip, no sort."""
    conds = kind_and_range(s.filters)
    if dim:
        col = FACT.c[dim]
        conds += [FACT.c.kind == "disposition", bytewise(col) == key]
    middle = (
        select(FACT.c.hours.label("h"))
        .where(*conds, FACT.c.hours.is_not(None))
        .order_by(FACT.c.hours)
        .limit(2 - n % 2)
        .offset((n - 1) // 2)
        .correlate_except(FACT)  # ``key`` and ``n`` may be the outer row's (PostgreSQL)
        .subquery("m")
    )
    return cast(select(func.avg(middle.c.h)).scalar_subquery(), Float)


def medians(
    conn: Connection, s: Split, dims: Sequence[str]
) -> dict[str, dict[str | None, float | None]] | None:
    """The summary's medians of hours to answer by rank: over the frame (part ``""``, key None)
    and over its disposition requests per value of each of ``dims``; None when the range holds
    under 1/:data:`RANK_SHARE` of the answers (the report then sorts its few facts).

    Each value's count comes from the rollup (and the range's edges), read in the report's one
    snapshot (``sql.connect``), so each rank is the one the facts hold; all time on
    PostgreSQL, the answers per whole hour too, so each skip starts at the hour holding its rank
    (:func:`_medians_from_hours`). Text keys never null: the facts store ``(none)`` for a
    missing campaign or source.
    """
    if s.all_time and conn.dialect.name == "postgresql":
        return _medians_from_hours(conn, s, dims)
    if not s.all_time:  # all time holds every answer: no count needed to know it is enough
        everything = conn.execute(select(func.sum(ROLLUP_ALL.c.hours_n))).scalar_one() or 0
        wanted = select(_counts(s, "").c.n)
        if (conn.execute(wanted).scalar() or 0) * RANK_SHARE < everything:
            return None
    out: dict[str, dict[str | None, float | None]] = {}
    for dim in ["", *dims]:
        if not dim and conn.dialect.name == "postgresql":
            out[dim] = _range_median(conn, s)
            continue
        v = _counts(s, dim)
        if conn.dialect.name == "postgresql":  # a LIMIT may read the outer row: planned once
            value = _median(s, dim, v.c.key, v.c.n)
            query = select(v.c.key, value.label("median")).where(v.c.n > 0)
            out[dim] = {row.key: row.median for row in conn.execute(query)}
            continue
        counts = [(key, int(n)) for key, n in conn.execute(select(v.c.key, v.c.n)) if n]
        out[dim] = {}
        for start in range(0, len(counts), MEDIAN_CHUNK):
            chunk: list[Select[Any]] = [
                select(literal(key, String()).label("key"), _median(s, dim, key, n).label("median"))
                for key, n in counts[start : start + MEDIAN_CHUNK]
            ]
            statement = chunk[0] if len(chunk) == 1 else union_all(*chunk)
            out[dim].update({row.key: row.median for row in conn.execute(statement)})
    return out


def _medians_from_hours(
    conn: Connection, s: Split, dims: Sequence[str]
) -> dict[str, dict[str | None, float | None]]:
    """:func:`medians` of the all-time frame on PostgreSQL: each median skipped to from the whole
    hour that holds it (``reports.ranks``; the answers per hour from migration 0031's
    ``report_hours_rollup_cs``), an hour's index entries read instead of half the group's
    (0.49 -> 0.40 s for the all-time summary at a million answers, interleaved in one process).
    SQLite steps through an index in process, so its plain skip costs less than reading the
    buckets of 200 campaigns (0.23 s against 0.35 at 100,000 answers, measured the same way)."""
    t = HOURS_ROLLUP_CS
    kinds = [t.c.kind == s.filters.kind] if s.filters.kind else []
    frame = kind_and_range(s.filters)
    out: dict[str, dict[str | None, float | None]] = {}
    for dim in ["", *dims]:
        keys = [dim] if dim else []
        per = [t.c.kind == "disposition"] if dim else []

        def conds(values: tuple[Any, ...], dim: str = dim) -> list[ColumnElement[bool]]:
            if not dim:
                return frame
            return [*frame, FACT.c.kind == "disposition", bytewise(FACT.c[dim]) == values[0]]

        found = ranks.medians(conn, ranks.buckets(conn, t, keys, [*kinds, *per]), keys, conds)
        out[dim] = {(values[0] if dim else None): median for values, median in found.items()}
    return out


def _range_median(conn: Connection, s: Split) -> dict[str | None, float | None]:
    """The frame's median (part ``""`` of :func:`medians`) over a range, on PostgreSQL: the
    range's answers counted per whole hour from its date's covering index (0029's, carrying the
    hours; migration 0031's statistics on the hour let the workers count in parallel), then the
    middle skipped to from its hour in 0004's index of hours (``reports.ranks``): about 0.09 s
    where the skip from the lowest hour read half the index (0.28 s at a million answers)."""
    frame = kind_and_range(s.filters)
    hour = hour_of(FACT.c.hours)
    rows = conn.execute(select(hour, func.count()).where(*frame, FACT.c.hours.is_not(None)).group_by(hour))
    hours = sorted((int(h), int(n)) for h, n in rows)
    found = ranks.medians(conn, {(): hours}, [], lambda values: frame) if hours else {}
    return {None: found[()]} if found else {}
