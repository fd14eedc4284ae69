"""SQL for the follow-up SLA figures: time to answer in business hours, reminders, escalations.

One definition per figure (docs/reports.md, "Follow-up SLA"), all over the report frame, so the
requests sent and answered here are the ones ``report summary`` counts:

- **start**: when the rep became responsible: the lead's assignment (``report_fact.created_at``,
  the lead's ``assigned_at``, else its creation) or, for a deal, its close (``closed_at``, noon
  UTC of the close date); a request with neither starts when it was sent.
- **business hours to answer**: from the start to the fact's ``answered_at`` (the first reply),
  in the working hours of the request's rep (their calendar: zone, working days, holidays).
  Stored per request in ``request_sla`` by :func:`feedback.services.sla_facts.refresh_sla`; a row
  counts only while its start and answer times still equal the fact's. ``report_fact`` carries
  the fresh row's hours (``business_hours``, migration 0023) and the request's reminder and
  escalation mails, kept by its triggers, so the figures read one table.
- **answered within the SLA**: answered (``queries.is_answered``) with at most
  ``sla_business_hours`` business hours to answer, as a share of requests sent.
- **reminders needed**: reminder mails sent for an answered request (``outbound_mail``, any rep
  it was with); **escalated**: requests with an escalation mail; **expired**: status ``expired``.

Medians are the mean of the two middle values (as ``sql.median_by``); the 90th percentile is the
nearest-rank value: the ``ceil(0.9 n)``-th smallest. Both come from running counts over
:func:`distribution` rows, the same SQL on both databases (see :func:`quantiles`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    Table,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy.engine import Connection
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE, FromClause, Select

from feedback.reports import ranks
from feedback.reports.queries import ANSWER_STATES, ANSWERED, NOT_YET, answer_state, overdue, text_constant
from feedback.reports.sql import FACT, HOURS_ROLLUP_REP, bytewise, count_if, hour_of, scanned
from feedback.storage.models import RequestSla

SLA = RequestSla.__table__  # type: ignore[attr-defined]

FRAME_COLUMNS = (
    "status", "response_id", "outcome", "sent_at", "business_hours", "reminders", "escalations",
)  # fmt: skip
"""Frame columns the SLA figures read (besides the keys they group by)."""

OTHER_STATES = tuple(s for s in ANSWER_STATES if s != ANSWERED)
"""The answer states besides answered, each counted by a :func:`distribution` made with ``before``."""

STATE_COLUMNS = (*[f"n_{s}" for s in OTHER_STATES], "overdue")

BUCKET_EDGES = (2.0, 4.0, 8.0, 16.0, 24.0, 40.0, 80.0)
"""Upper bounds (business hours, inclusive) of the time-to-answer histogram; the SLA is added."""


def started_at(t: Any) -> ColumnElement[Any]:
    """The SLA clock's start over a fact row (``t`` has deal_id, closed_at, created_at, sent_at)."""
    return func.coalesce(case((t.c.deal_id.is_not(None), t.c.closed_at)), t.c.created_at, t.c.sent_at)


def answered_here(f: FromClause) -> ColumnElement[bool]:
    """``queries.is_answered`` with its statuses written into the SQL (not bound), so the
    grouped values below read exactly as migration 0026's statistics define them."""
    return and_(
        f.c.status.not_in([text_constant(s) for s in NOT_YET]),
        f.c.response_id.is_not(None),
        f.c.outcome.is_not(None),
    )


def grouped_values(f: FromClause) -> tuple[ColumnElement[Any], ColumnElement[Any]]:
    """The two values a distribution is cut by: ``bh``, the business hours to answer, and ``r``,
    the reminders needed; each only for an answered request (null otherwise)."""
    answered = answered_here(f)
    return case((answered, f.c.business_hours)), case((answered, f.c.reminders))


def distribution(f: FromClause, keys: Sequence[str], name: str, *, before: datetime | None = None) -> CTE:
    """The frame ``f`` counted per ``keys`` and distinct (``bh``, ``r``): ``cnt`` requests, of
    which ``sent``, ``answered``, ``escalated`` (an escalation mail) and ``expired``; with
    ``before``, also each other answer state (``n_<state>``, ``queries.answer_state``) and the
    requests ``overdue`` at ``before`` (``queries.overdue``), so :func:`answer_counts` reads the
    responsiveness table from the same scan.

    Every SLA figure of a grouping is a sum over these rows, and a quantile a running sum over
    them: one aggregate of the frame per grouping instead of one scan per figure. Business hours
    are stored to the tenth of an hour and reminders are small numbers, so the rows are few (a few
    hundred per group). The flags are counted, not grouped by: a group key the planner cannot
    estimate made PostgreSQL expect a group per request and aggregate every row in the leader;
    ``bh`` and ``r`` have statistics (migration 0026), so the workers aggregate their share.
    """
    kcols = [scanned(f.c[k]) for k in keys]
    bh, r = grouped_values(f)
    cols = [
        func.count().label("cnt"),
        func.count(f.c.sent_at).label("sent"),
        count_if(answered_here(f)).label("answered"),
        count_if(f.c.escalations > 0).label("escalated"),
        count_if(f.c.status == text_constant("expired")).label("expired"),
    ]
    if before is not None:
        state = answer_state(f.c.status, f.c.response_id, f.c.outcome)
        cols += [count_if(state == text_constant(s)).label(f"n_{s}") for s in OTHER_STATES]
        cols.append(count_if(overdue(f, before)).label("overdue"))
    named = [c.label(k) for c, k in zip(kcols, keys, strict=True)]
    return select(*named, bh.label("bh"), r.label("r"), *cols).group_by(*kcols, bh, r).cte(name)


def rolled_distribution(
    table: Table,
    keys: Sequence[str],
    name: str,
    *,
    kind: str | None,
    before: datetime | None = None,
) -> CTE:
    """:func:`distribution` of the all-time frame (of ``kind``, if set) per ``keys``, read from an
    SLA rollup (migration 0030: ``sql.SLA_ROLLUP_REP`` or ``sql.SLA_ROLLUP_CS``) instead of the
    facts; the same columns and the same sums.

    The rollup's rows are read as they are, deltas and all: a group may come in several rows,
    some of them negative, which is what a distribution's readers expect anyway (they sum its
    rows, and leave out a group or value whose rows sum to no request), so nothing is grouped
    twice. *Overdue* depends on the time of the report, so with ``before`` it is counted
    from the facts (the waiting requests, through migration 0030's partial index) and added as
    rows of their own, with no requests and null values: every reader of a distribution sums its
    rows and takes quantiles of non-null values only, so extra rows change nothing else.
    """
    kinds = [table.c.kind == kind] if kind else []
    zero = literal_column("0", BigInteger())

    def of_state(state: str) -> ColumnElement[Any]:
        return case((table.c.answer == text_constant(state), table.c.requests), else_=zero)

    cols = [
        cast(table.c.requests, Integer()).label("cnt"),
        cast(table.c.sent, Integer()).label("sent"),
        cast(table.c.answered, Integer()).label("answered"),  # :func:`answered_here`
        cast(table.c.escalated, Integer()).label("escalated"),
        cast(table.c.expired, Integer()).label("expired"),
    ]
    if before is None:
        return select(*[table.c[k] for k in keys], table.c.bh, table.c.r, *cols).where(*kinds).cte(name)
    cols += [cast(of_state(s), Integer()).label(f"n_{s}") for s in OTHER_STATES]
    rolled = select(*[table.c[k] for k in keys], table.c.bh, table.c.r, *cols, zero.label("overdue")).where(
        *kinds
    )
    nothing = [zero.label(c) for c in ("cnt", "sent", "answered", "escalated", "expired")]
    nothing += [zero.label(f"n_{s}") for s in OTHER_STATES]
    # ``scanned``: SQLite would otherwise walk an index in the keys' order for the GROUP BY (the
    # whole table, 0.25 s at 100,000 answers) instead of the partial index of the waiting requests
    late_keys = [scanned(FACT.c[k]) for k in keys]
    late = (
        select(
            *[c.label(k) for c, k in zip(late_keys, keys, strict=True)],
            cast(null(), Float()).label("bh"),
            cast(null(), Integer()).label("r"),
            *nothing,
            cast(func.count(), BigInteger()).label("overdue"),
        )
        .where(*([FACT.c.kind == kind] if kind else []), overdue(FACT, before))
        .group_by(*late_keys)
    )
    return union_all(rolled, late).cte(name)


def medians_by_rank(conn: Connection, keys: Sequence[str]) -> list[dict[str, Any]]:
    """The median hours to answer of every request per ``keys`` (``rep, team`` or ``team``), as
    :func:`sql.median_by` gives them over the all-time frame of both kinds, taken by rank.

    Each group's answers per whole hour come from ``report_hours_rollup_rep`` (migration 0031;
    read in the report's one snapshot, so the ranks are the facts'), and its middle one or two
    values are skipped to from their hour on in migration 0004's ``(rep, team, hours)`` or
    ``(team, hours)`` index (``reports.ranks``): an hour's entries read, none sorted, where
    ``median_by`` reads and orders them all. The indexes hold no kind, so a report of one kind
    sorts its facts as before.
    """

    def conds(values: tuple[Any, ...]) -> list[ColumnElement[bool]]:
        return [
            FACT.c[k].is_(None) if v is None else bytewise(FACT.c[k]) == v
            for k, v in zip(keys, values, strict=True)
        ]

    found = ranks.medians(conn, ranks.buckets(conn, HOURS_ROLLUP_REP, keys), keys, conds)
    return [{**dict(zip(keys, values, strict=True)), "median": m} for values, m in found.items()]


def regrouped(d: CTE, of: Sequence[str], keys: Sequence[str], name: str) -> CTE:
    """A :func:`distribution` ``d`` (grouped by ``of``) summed to ``keys``, a subset of ``of``: the
    same columns, so every part that reads a coarser grouping scans these few rows, not ``d``'s."""
    kcols = [d.c[k] for k in keys]
    sums = [cast(func.sum(c), BigInteger()).label(c.key) for c in d.c if c.key not in {*of, "bh", "r"}]
    return select(*kcols, d.c.bh, d.c.r, *sums).group_by(*kcols, d.c.bh, d.c.r).cte(name)


def answer_counts(d: FromClause, keys: Sequence[str]) -> Select[Any]:
    """Per ``keys`` (from a :func:`distribution` made with ``before``), as ``queries.rollup``
    names them: requests, sent, answered, ``n_<state>`` of the other states, overdue; the
    groups with the most requests first."""
    kcols = [d.c[k] for k in keys]
    requests = func.sum(d.c.cnt)
    sums = [cast(func.sum(d.c[n]), BigInteger()).label(n) for n in ("sent", "answered", *STATE_COLUMNS)]
    query = select(*kcols, cast(requests, BigInteger()).label("requests"), *sums).select_from(d)
    return query.group_by(*kcols).having(requests != 0).order_by(requests.desc(), *kcols)


def counts(d: FromClause, keys: Sequence[str], *, sla_hours: float) -> Select[Any]:
    """Per ``keys`` (from a :func:`distribution`): sent, answered, answered within the SLA, timed
    (answers with business hours), escalated, expired."""
    kcols = [d.c[k] for k in keys]

    def total(value: ColumnElement[Any], where: ColumnElement[bool] | None = None) -> Any:
        summed = func.sum(value) if where is None else func.sum(value).filter(where)
        return cast(func.coalesce(summed, 0), BigInteger())

    sla = literal_column(repr(float(sla_hours)), Float())
    sent = total(d.c.sent)
    query = select(
        *kcols,
        sent.label("sent"),
        total(d.c.answered).label("answered"),
        total(d.c.cnt, d.c.bh <= sla).label("within"),
        total(d.c.cnt, d.c.bh.is_not(None)).label("timed"),
        total(d.c.escalated).label("escalated"),
        total(d.c.expired).label("expired"),
    ).select_from(d)
    if kcols:  # a group whose rows sum to no request (a rollup's cancelled deltas) is none
        query = query.group_by(*kcols).having(func.sum(d.c.cnt) != 0).order_by(sent.desc(), *kcols)
    return query


def bucket_edges(sla_hours: float) -> tuple[float, ...]:
    """The histogram's upper bounds with the SLA among them, so the buckets up to it add up to
    the answers within the SLA."""
    return tuple(sorted({*BUCKET_EDGES, float(sla_hours)}))


def histogram(d: FromClause, edges: Sequence[float]) -> Select[Any]:
    """Answers with business hours per bucket (from a :func:`distribution`): ``bucket`` i holds
    ``edges[i-1] < bh <= edges[i]`` (the last one everything above the last edge)."""
    bucket = case(
        *[
            (d.c.bh <= literal_column(repr(float(e)), Float()), literal_column(str(i), Integer()))
            for i, e in enumerate(edges)
        ],
        else_=literal_column(str(len(edges)), Integer()),
    )
    b = bucket.label("bucket")
    answers = cast(func.sum(d.c.cnt), BigInteger()).label("answers")
    query = select(b, answers).where(d.c.bh.is_not(None)).group_by(b)
    return query.having(func.sum(d.c.cnt) != 0).order_by(b)


def quantiles(
    d: FromClause,
    value: ColumnElement[Any],
    keys: Sequence[str],
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """Per ``keys``: ``median`` (mean of the two middle values) and ``p90`` (nearest rank) of
    ``value`` over the requests of a :func:`distribution` passing ``where``, nulls left out.

    The same SQL on both databases: per ``keys`` and value a count, then a running count per
    group over those few rows; the value at rank r is the smallest whose running count reaches r.
    """
    kcols = [d.c[k] for k in keys]
    c = (
        # an integer count: PostgreSQL's window sums of a bigint are numeric, several times slower
        select(*kcols, value.label("v"), cast(func.sum(d.c.cnt), Integer()).label("cnt"))
        .where(value.is_not(None), *where)
        .group_by(*kcols, value)
        .having(func.sum(d.c.cnt) != 0)  # a value whose rows cancel out (rollup deltas) is none
        .subquery("qc")
    )
    ck = [c.c[k] for k in keys]
    part = [bytewise(k) for k in ck] or None  # sorted byte by byte: the order does not matter
    w = select(
        *ck,
        c.c.v,
        cast(func.sum(c.c.cnt).over(partition_by=part, order_by=c.c.v), BigInteger()).label("cum"),
        cast(func.sum(c.c.cnt).over(partition_by=part), BigInteger()).label("n"),
    ).subquery("qw")
    return _at_ranks(w, keys)


def _at_ranks(w: FromClause, keys: Sequence[str]) -> Select[Any]:
    """Per ``keys``, the median (mean of the values ranked (n+1) div 2 and (n+2) div 2) and the
    p90 (ranked (9n+9) div 10) from rows of a value ``v``, its group's ``n`` and ``cum``, the
    values of its group up to it: the value at rank r is the smallest whose ``cum`` reaches r."""
    n, cum, v = w.c.n, w.c.cum, w.c.v
    wk: list[ColumnElement[Any]] = [bytewise(w.c[k]).label(k) for k in keys]  # in the windows' order

    def at(rank: ColumnElement[Any]) -> ColumnElement[Any]:
        return func.min(v).filter(cum >= rank)

    query = select(
        *wk,
        cast((at((n + 1) // 2) + at((n + 2) // 2)) / 2.0, Float()).label("median"),
        cast(at((n * 9 + 9) // 10), Float()).label("p90"),
    )
    return query.group_by(*[bytewise(w.c[k]) for k in keys]) if wk else query


def quantiles_by_hour(
    d: FromClause,
    value: ColumnElement[Any],
    keys: Sequence[str],
    where: Sequence[ColumnElement[bool]] = (),
) -> Select[Any]:
    """:func:`quantiles` of business hours, the same figures read in two steps: first the
    counts per whole hour (a few dozen rows per group), whose running sums tell which hours hold
    the three ranks (the median's two and the p90's) and how many values lie below each; then
    the distinct values of those hours only, ranked from that count on.

    :func:`quantiles` groups and sorts every distinct value of every group (112,000 campaign x
    business-hour values at a million answers, a third of the all-time report); the hours that
    hold a rank are a few per group.
    """
    kcols = [d.c[k] for k in keys]
    hour = hour_of(value)
    cnt = func.sum(d.c.cnt)
    per_hour = (
        select(*kcols, hour.label("b"), cast(cnt, Integer()).label("cnt"))
        .where(value.is_not(None), *where)
        .group_by(*kcols, hour)
        .having(cnt != 0)
        .subquery("qh")
    )
    hk = [per_hour.c[k] for k in keys]
    part = [bytewise(k) for k in hk] or None
    running = select(
        *hk,
        per_hour.c.b,
        per_hour.c.cnt,
        cast(func.sum(per_hour.c.cnt).over(partition_by=part, order_by=per_hour.c.b), BigInteger()).label(
            "cum"
        ),
        cast(func.sum(per_hour.c.cnt).over(partition_by=part), BigInteger()).label("n"),
    ).subquery("qhw")
    n, cum = running.c.n, running.c.cum
    below = cum - running.c.cnt

    def holds(rank: ColumnElement[Any]) -> ColumnElement[bool]:
        return and_(cum >= rank, below < rank)

    picked = (
        select(*[running.c[k] for k in keys], running.c.b, below.label("below"), n.label("n"))
        .where(or_(holds((n + 1) // 2), holds((n + 2) // 2), holds((n * 9 + 9) // 10)))
        .cte(f"qp_{getattr(d, 'name', 'd')}_{'_'.join(keys)}")  # read twice below: computed once
    )

    # the values of the picked hours only: the filter is a hashed lookup in the few picked
    # rows (a join let PostgreSQL misjudge them and sort every row to merge); a key compared
    # null-safe as its text (null as '') and whether it is null
    def sig(t: FromClause, h: ColumnElement[Any]) -> list[ColumnElement[Any]]:
        named = [x for k in keys for x in (func.coalesce(t.c[k], ""), t.c[k].is_(None))]
        return [*named, h]

    in_picked = tuple_(*sig(d, hour)).in_(select(*sig(picked, picked.c.b)))
    values = (
        select(*kcols, value.label("v"), cast(cnt, Integer()).label("cnt"))
        .where(value.is_not(None), *where, in_picked)
        .group_by(*kcols, value)
        .having(cnt != 0)
        .subquery("qv")
    )
    same = and_(
        *[a == b for a, b in zip(sig(values, hour_of(values.c.v)), sig(picked, picked.c.b), strict=True)]
    )
    pk = [picked.c[k] for k in keys]
    fine = (
        select(*pk, values.c.v, picked.c.b, picked.c.below, picked.c.n, values.c.cnt)
        .select_from(values.join(picked, same))
        .subquery("qf")
    )
    fk = [fine.c[k] for k in keys]
    fpart = [*[bytewise(k) for k in fk], fine.c.b]
    w = select(
        *fk,
        fine.c.v,
        fine.c.n,
        (fine.c.below + func.sum(fine.c.cnt).over(partition_by=fpart, order_by=fine.c.v)).label("cum"),
    ).subquery("qw")
    return _at_ranks(w, keys)
