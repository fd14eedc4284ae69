"""SQL for the follow-up SLA figures: time to answer in business hours, reminders, escalations.

One definition per figure (docs/reports.md, "Follow-up SLA"), all over the report frame, so the
requests sent and answered here are the ones ``report summary`` counts:

- **start**: when the rep became responsible: the lead's assignment (``report_fact.created_at``,
  the lead's ``assigned_at``, else its creation) or, for a deal, its close (``closed_at``, noon
  UTC of the close date); a request with neither starts when it was sent.
- **business hours to answer**: from the start to the fact's ``answered_at`` (the first reply),
  in the working hours of the request's rep (their calendar: zone, working days, holidays).
  Stored per request in ``request_sla`` by :func:`feedback.services.sla_facts.refresh_sla`; a row is
  read only while its start and answer times still equal the fact's.
- **answered within the SLA**: answered (``queries.is_answered``) with at most
  ``sla_business_hours`` business hours to answer, as a share of requests sent.
- **reminders needed**: reminder mails sent for an answered request (``outbound_mail``, any rep
  it was with); **escalated**: requests with an escalation mail; **expired**: status ``expired``.

Medians are the mean of the two middle values (as ``sql.median_by``); the 90th percentile is the
nearest-rank value: the ``ceil(0.9 n)``-th smallest (``percentile_disc(0.9)`` on PostgreSQL, a
``row_number`` window on SQLite). Both databases give the same numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Float, Integer, and_, case, cast, func, literal_column, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CTE, FromClause, Select, Subquery

from feedback.reports.queries import is_answered
from feedback.reports.sql import count_if, median_of
from feedback.storage.models import OutboundMail, RequestSla

SLA = RequestSla.__table__  # type: ignore[attr-defined]
OUT = OutboundMail.__table__  # type: ignore[attr-defined]

FRAME_COLUMNS = (
    "request_id", "kind", "status", "response_id", "outcome", "sent_at", "answered_at",
    "created_at", "closed_at", "deal_id",
)  # fmt: skip
"""Frame columns the SLA figures read (besides the keys they group by)."""

BUCKET_EDGES = (2.0, 4.0, 8.0, 16.0, 24.0, 40.0, 80.0)
"""Upper bounds (business hours, inclusive) of the time-to-answer histogram; the SLA is added."""


def started_at(t: Any) -> ColumnElement[Any]:
    """The SLA clock's start over a fact row (``t`` has deal_id, closed_at, created_at, sent_at)."""
    return func.coalesce(case((t.c.deal_id.is_not(None), t.c.closed_at)), t.c.created_at, t.c.sent_at)


def _followup_mails() -> Subquery:
    """Per request: reminder and escalation mails sent (whichever rep they went to)."""
    return (
        select(
            OUT.c.request_id.label("request_id"),
            count_if(OUT.c.purpose == "reminder").label("reminders"),
            count_if(OUT.c.purpose == "escalation").label("escalations"),
        )
        .where(OUT.c.request_id.is_not(None), OUT.c.purpose.in_(["reminder", "escalation"]))
        .group_by(OUT.c.request_id)
        .subquery("fu")
    )


def sla_frame(f: FromClause, keys: Sequence[str]) -> CTE:
    """One row per frame request: ``keys``, sent_at, answered (0/1), ``bh`` (business hours to
    answer, answered requests with a current ``request_sla`` row only), reminders, escalated,
    expired."""
    fu = _followup_mails()
    answered = is_answered(f.c.status, f.c.response_id, f.c.outcome)
    fresh = and_(
        SLA.c.request_id == f.c.request_id,
        SLA.c.answered_at == f.c.answered_at,
        SLA.c.started_at == started_at(f),
    )
    return (
        select(
            *[f.c[k] for k in keys],
            f.c.sent_at,
            case((answered, 1), else_=0).label("answered"),
            case((answered, SLA.c.business_hours)).label("bh"),
            func.coalesce(fu.c.reminders, 0).label("reminders"),
            case((func.coalesce(fu.c.escalations, 0) > 0, 1), else_=0).label("escalated"),
            case((f.c.status == "expired", 1), else_=0).label("expired"),
        )
        .select_from(f.outerjoin(SLA, fresh).outerjoin(fu, fu.c.request_id == f.c.request_id))
        .cte("sla")
    )


def counts(s: FromClause, keys: Sequence[str], *, sla_hours: float) -> Select[Any]:
    """Per ``keys``: sent, answered, answered within the SLA, timed (answers with business hours),
    escalated, expired."""
    kcols = [s.c[k] for k in keys]
    query = select(
        *kcols,
        func.count(s.c.sent_at).label("sent"),
        func.coalesce(func.sum(s.c.answered), 0).label("answered"),
        count_if(s.c.bh <= literal_column(repr(float(sla_hours)), Float())).label("within"),
        func.count(s.c.bh).label("timed"),
        func.coalesce(func.sum(s.c.escalated), 0).label("escalated"),
        func.coalesce(func.sum(s.c.expired), 0).label("expired"),
    ).select_from(s)
    if kcols:
        query = query.group_by(*kcols).order_by(func.count(s.c.sent_at).desc(), *kcols)
    return query


class p90_of(FunctionElement[float]):
    """``p90_of(value)`` on PostgreSQL: the nearest-rank 90th percentile (``percentile_disc``)."""

    type = Float()
    name = "p90_of"
    inherit_cache = True


@compiles(p90_of, "postgresql")
def _p90_pg(element: p90_of, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    return f"(percentile_disc(0.9) WITHIN GROUP (ORDER BY {value}))"


def quantiles_by(
    s: FromClause,
    value: ColumnElement[Any],
    keys: Sequence[str],
    where: Sequence[ColumnElement[bool]] = (),
    *,
    dialect: str,
) -> Select[Any]:
    """Per ``keys``: ``median`` (mean of the two middle values) and ``p90`` (nearest rank) of
    ``value`` over the rows of ``s`` passing ``where``, nulls left out."""
    kcols = [s.c[k] for k in keys]
    if dialect == "postgresql":
        query = select(
            *kcols, cast(median_of(value), Float()).label("median"), cast(p90_of(value), Float()).label("p90")
        ).where(value.is_not(None), *where)
        return query.group_by(*kcols) if kcols else query
    partition = kcols or None
    numbered = (
        select(
            *kcols,
            value.label("v"),
            func.row_number().over(partition_by=partition, order_by=value).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .where(value.is_not(None), *where)
        .subquery("q")
    )
    n, rn, v = numbered.c.n, numbered.c.rn, numbered.c.v
    nkeys = [numbered.c[k] for k in keys]
    query = select(
        *nkeys,
        cast(func.avg(v).filter(rn.in_([(n + 1) // 2, (n + 2) // 2])), Float()).label("median"),
        cast(func.max(v).filter(rn == (n * 9 + 9) // 10), Float()).label("p90"),
    )
    return query.group_by(*nkeys) if nkeys else query


def bucket_edges(sla_hours: float) -> tuple[float, ...]:
    """The histogram's upper bounds with the SLA among them, so the buckets up to it add up to
    the answers within the SLA."""
    return tuple(sorted({*BUCKET_EDGES, float(sla_hours)}))


def histogram(s: FromClause, edges: Sequence[float]) -> Select[Any]:
    """Answers with business hours per bucket: ``bucket`` i holds ``edges[i-1] < bh <= edges[i]``
    (the last one everything above the last edge)."""
    bucket = case(
        *[
            (s.c.bh <= literal_column(repr(float(e)), Float()), literal_column(str(i), Integer()))
            for i, e in enumerate(edges)
        ],
        else_=literal_column(str(len(edges)), Integer()),
    )
    b = bucket.label("bucket")
    return select(b, func.count().label("answers")).where(s.c.bh.is_not(None)).group_by(b).order_by(b)
