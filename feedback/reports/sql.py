"""SQL building blocks that read the same on SQLite and PostgreSQL.

Every figure is aggregated in the database. The places the dialects differ are wrapped here:
the start of a week or month (``strftime``/``date`` on SQLite, ``date_trunc`` on PostgreSQL),
hours between two times (``julianday`` vs ``extract(epoch ...)``) and medians (an ordered-set
aggregate on PostgreSQL, ``row_number``/``count`` windows on SQLite, which has no median; see
:func:`median_by`). Both give the same numbers on the same data (tests/test_reports_figures.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Float,
    Integer,
    SmallInteger,
    String,
    Table,
    func,
    literal_column,
    or_,
    select,
    type_coerce,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import CTE, FromClause, Select, Subquery
from sqlmodel import SQLModel

from feedback.reports.filters import DATE_BY, Filters
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response, ResponseReason

REQ = FeedbackRequest.__table__  # type: ignore[attr-defined]
RESP = Response.__table__  # type: ignore[attr-defined]
REASON = ResponseReason.__table__  # type: ignore[attr-defined]
LEAD = Lead.__table__  # type: ignore[attr-defined]
DEAL = Deal.__table__  # type: ignore[attr-defined]
REP = Rep.__table__  # type: ignore[attr-defined]

# The reporting table (migration 0002 creates it, its view ``report_frame_v`` and the triggers
# that keep it equal to the join). Not a SQLModel: nothing writes it but the triggers.
FACT = Table(
    "report_fact",
    SQLModel.metadata,
    Column("request_id", Integer, nullable=False, index=True),
    Column("kind", String),
    Column("status", String),
    Column("sent_at", DateTime),
    Column("at", DateTime, index=True),
    Column("lead_id", Integer, index=True),
    Column("deal_id", Integer, index=True),
    Column("response_id", Integer),
    Column("outcome", String),
    Column("competitor", String),
    Column("answered_at", DateTime, index=True),
    Column("hours", Float),
    Column("campaign", String),
    Column("source", String),
    Column("segment", String),
    Column("crm_id", String),
    Column("subject", String),
    Column("rep_id", Integer, index=True),
    Column("rep", String),
    Column("rep_email", String),
    Column("rep_name", String),
    Column("rep_crm_id", String),
    Column("team", String),
    Column("deal_result", String),
    Column("amount", Float),
    Column("deal_lead_id", Integer, index=True),
    Column("currency", String),  # the deal's, upper-cased (migration 0006)
    Column("created_at", DateTime, index=True),  # the lead's creation (migration 0007)
    Column("closed_at", DateTime, index=True),  # the deal's close, 12:00 UTC of its day
    # the follow-up SLA's inputs (migration 0023): the fresh request_sla hours, reminder and
    # escalation mails
    Column("business_hours", Float),
    Column("reminders", Integer, nullable=False, server_default="0"),
    Column("escalations", Integer, nullable=False, server_default="0"),
    # what the funnel joined for (migration 0028): a disposition request's lead's CRM deals and
    # those won (else 0); a winloss request's deal's lead has a disposition request (1, else 0)
    Column("lead_deals", Integer, nullable=False, server_default="0"),
    Column("lead_deals_won", Integer, nullable=False, server_default="0"),
    Column("lead_asked", Integer, nullable=False, server_default="0"),
)


def _frame_columns(table: Table) -> list[str]:
    """A fact table's frame columns, in order; rep_name and rep_crm_id are only filtered on."""
    return [c.name for c in table.columns if c.name not in ("rep_name", "rep_crm_id")]


# the frame's columns (reply_text goes after competitor; week and month at the end)
FACT_COLUMNS = _frame_columns(FACT)

# One row per reason of a current answer with its request's filter and grouping columns
# (migration 0003, kept by triggers on report_fact and response_reason). Reason reports read it
# instead of joining report_fact to response_reason.
REASON_FACT = Table(
    "report_reason_fact",
    SQLModel.metadata,
    Column("reason_id", Integer, nullable=False, index=True),
    Column("rank", Integer, nullable=False),
    Column("code", String, nullable=False),
    Column("request_id", Integer, nullable=False, index=True),
    Column("response_id", Integer, nullable=False),
    Column("kind", String),
    Column("at", DateTime, index=True),
    Column("outcome", String),
    Column("competitor", String),
    Column("campaign", String),
    Column("source", String),
    Column("segment", String),
    Column("rep_id", Integer),
    Column("rep", String),
    Column("rep_email", String),
    Column("rep_name", String),
    Column("rep_crm_id", String),
    Column("team", String),
    Column("status", String),  # the request's (migration 0006)
    Column("answered_at", DateTime, index=True),
    Column("created_at", DateTime, index=True),
    Column("closed_at", DateTime, index=True),
)

# Sums of the facts per UTC month of each date and the summary's grain (migration 0027), rows
# added by triggers as deltas: read with sum() per group, never row by row (reports/rollup.py).
MONTH_COLUMNS = {
    "sent": "sent_month",
    "answered": "answered_month",
    "created": "created_month",
    "closed": "closed_month",
}
"""The rollup column holding the month ('YYYY-MM', UTC) of each ``--date-by`` date."""

ROLLUP_KEYS = ("kind", "campaign", "source", "outcome", "competitor", "deal_result", "currency", "answer")
REASON_ROLLUP_KEYS = ("kind", "campaign", "source", "outcome", "competitor", "code")


def _rollup(
    name: str,
    keys: Sequence[str],
    measures: Sequence[str],
    *,
    months: bool,
    values: Sequence[Column[Any]] = (),
) -> Table:
    """A rollup table: text keys (the months first, if any), then ``values`` (more keys), the
    measures, and ``delta``; ``info["keys"]`` names the keys, in order."""
    texts = [*(MONTH_COLUMNS.values() if months else ()), *keys]
    return Table(
        name,
        SQLModel.metadata,
        *[Column(k, String) for k in texts],
        *values,
        *[Column(m, BigInteger, nullable=False) for m in measures],
        Column("delta", SmallInteger, nullable=False),  # 1 until rollup_upkeep.compact merges it
        info={"keys": (*texts, *(v.name for v in values))},
    )


FACT_ROLLUP_MEASURES = ("requests", "sent", "amount_n", "amount_micros", "hours_n")
"""Requests, sent, deals with an amount, their amounts in millionths, answers with hours."""
REASON_ROLLUP_MEASURES = ("mentions", "firsts")
"""Reasons of answered requests, and of those the ones given first (rank 0)."""

ROLLUP = _rollup("report_rollup", ROLLUP_KEYS, FACT_ROLLUP_MEASURES, months=True)
ROLLUP_ALL = _rollup("report_rollup_all", ROLLUP_KEYS, FACT_ROLLUP_MEASURES, months=False)
REASON_ROLLUP = _rollup("report_reason_rollup", REASON_ROLLUP_KEYS, REASON_ROLLUP_MEASURES, months=True)
REASON_ROLLUP_ALL = _rollup(
    "report_reason_rollup_all", REASON_ROLLUP_KEYS, REASON_ROLLUP_MEASURES, months=False
)

SLA_ROLLUP_MEASURES = ("requests", "sent", "answered", "escalated", "expired", "hours_n")
"""Requests, sent, answered, escalated (an escalation mail), expired, with hours to answer: per
``bh`` and ``r`` (migration 0030)."""


def _sla_rollup(name: str, keys: Sequence[str]) -> Table:
    values = [Column("bh", Float), Column("r", Integer)]  # ``sla.grouped_values``: answered only
    return _rollup(name, [*keys, "answer"], SLA_ROLLUP_MEASURES, months=False, values=values)


SLA_ROLLUP_REP = _sla_rollup("report_sla_rollup_rep", ("kind", "rep", "team"))
SLA_ROLLUP_CS = _sla_rollup("report_sla_rollup_cs", ("kind", "campaign", "source"))


def _hours_rollup(name: str, keys: Sequence[str]) -> Table:
    return _rollup(name, keys, ("n",), months=False, values=[Column("hb", BigInteger)])


HOURS_ROLLUP_REP = _hours_rollup("report_hours_rollup_rep", ("kind", "rep", "team"))
HOURS_ROLLUP_CS = _hours_rollup("report_hours_rollup_cs", ("kind", "campaign", "source"))
"""Facts with hours to answer (``n``) per whole hour ``hb`` (the floor of ``hours``): where the
medians by rank start their skip (migration 0031, ``reports.ranks``)."""
ROLLUPS = (
    ROLLUP, ROLLUP_ALL, REASON_ROLLUP, REASON_ROLLUP_ALL, SLA_ROLLUP_REP, SLA_ROLLUP_CS,
    HOURS_ROLLUP_REP, HOURS_ROLLUP_CS,
)  # fmt: skip

DATE_COLUMNS = {"sent": "at", "answered": "answered_at", "created": "created_at", "closed": "closed_at"}
"""The fact column each ``--date-by`` reads (both fact tables have all four)."""
assert DATE_COLUMNS.keys() == DATE_BY.keys()

NONE_LABEL = "(none)"

Db = Engine | Connection | Session


@contextmanager
def connect(db: Db) -> Iterator[Connection]:
    """A connection from whatever the caller holds: an engine, a connection or a session."""
    if isinstance(db, Connection):
        conn = db
    elif isinstance(db, Session):
        conn = db.connection()
    else:
        with db.connect() as conn:
            _one_snapshot(conn)
            _tune(conn)
            yield conn
        return
    _tune(conn)
    yield conn


def _one_snapshot(conn: Connection) -> None:
    """A report's statements read one snapshot of the database (a connection of our own only).

    The summary reads its counts from the rollup and then its medians from the facts at the
    ranks those counts give (``reports.rollup.medians``): a write between the two must not
    move a rank. PostgreSQL: a repeatable-read transaction; SQLite: a read transaction (its
    driver begins none for a SELECT), ended by the rollback that closes the connection.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")


def _tune(conn: Connection) -> None:
    """Per connection on PostgreSQL: sort in memory, in parallel, without JIT.

    Report queries are a few large scans; the default 4 MB ``work_mem`` spills the median sorts to
    disk, JIT adds a fixed cost to each, and the default parallel costs keep the frame scans on
    one core. ``SET LOCAL`` ends with the transaction.
    """
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.exec_driver_sql("SET LOCAL parallel_tuple_cost = 0.001")
        conn.exec_driver_sql("SET LOCAL parallel_setup_cost = 10")


def bind_time(column: Any, value: datetime) -> datetime:
    """A naive-UTC bound in the form the column's type accepts (aware for timezone-aware columns)."""
    if getattr(column.type, "timezone", False):
        return value.replace(tzinfo=UTC)
    return value


# dialect-aware functions ---------------------------------------------------------------------


class period_start(FunctionElement[str]):
    """``period_start(unit, ts, offset_minutes)``: 'YYYY-MM-DD' of the week (Monday) or month start.

    ``offset_minutes`` shifts UTC to the reporting time zone first, so a Monday 00:30 in Berlin
    lands in that week and not the one before.
    """

    type = String()
    name = "period_start"
    inherit_cache = True


@compiles(period_start, "sqlite")
def _period_start_sqlite(element: period_start, compiler: SQLCompiler, **kw: Any) -> str:
    unit, ts, offset = list(element.clauses)
    shifted = f"datetime({compiler.process(ts, **kw)}, ({compiler.process(offset, **kw)}) || ' minutes')"
    unit_sql = compiler.process(unit, **kw)
    return (
        f"(CASE WHEN {unit_sql} = 'month' THEN strftime('%Y-%m-01', {shifted}) "
        f"ELSE date({shifted}, 'weekday 0', '-6 days') END)"
    )


@compiles(period_start, "postgresql")
def _period_start_pg(element: period_start, compiler: SQLCompiler, **kw: Any) -> str:
    unit, ts, offset = list(element.clauses)
    ts_sql = compiler.process(ts, **kw)
    if getattr(ts.type, "timezone", False):
        ts_sql = f"({ts_sql} AT TIME ZONE 'UTC')"
    return (
        f"to_char(date_trunc({compiler.process(unit, **kw)}, "
        f"{ts_sql} + make_interval(mins => {compiler.process(offset, **kw)})), 'YYYY-MM-DD')"
    )


class hours_between(FunctionElement[float]):
    """``hours_between(start, end)`` as a float number of hours."""

    type = Float()
    name = "hours_between"
    inherit_cache = True


@compiles(hours_between, "sqlite")
def _hours_sqlite(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 24.0)"


@compiles(hours_between, "postgresql")
def _hours_pg(element: hours_between, compiler: SQLCompiler, **kw: Any) -> str:
    start, end = (compiler.process(c, **kw) for c in element.clauses)
    # float8: EXTRACT returns numeric on PostgreSQL 14+, several times slower to sort and average
    return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0)"


def period_of(unit: str, ts: ColumnElement[Any], offset_minutes: int) -> ColumnElement[str]:
    """Rendered with literal unit and offset so GROUP BY sees one identical expression."""
    if unit not in ("week", "month"):
        raise ValueError(f"unknown period {unit!r}")
    return period_start(
        literal_column(f"'{unit}'", String()), ts, literal_column(str(int(offset_minutes)), Integer())
    )


class median_of(FunctionElement[float]):
    """``median_of(value)`` on PostgreSQL: the mean of a group's two middle values.

    One ordered-set aggregate returns both (``percentile_disc`` at 0.5 is the lower one, at
    0.5 + 1e-9 the upper one for groups under 10^9 rows) from one sort of the group's values.
    Other databases get the window form in :func:`median_by`.
    """

    type = Float()
    name = "median_of"
    inherit_cache = True


@compiles(median_of, "postgresql")
def _median_pg(element: median_of, compiler: SQLCompiler, **kw: Any) -> str:
    value = compiler.process(element.clauses, **kw)
    middle = f"(percentile_disc(ARRAY[0.5, 0.500000001]::float8[]) WITHIN GROUP (ORDER BY {value}))"
    return f"(({middle})[1] + ({middle})[2]) / 2"


class hour_of(FunctionElement[int]):
    """``hour_of(hours)``: the whole hour below a value, ``floor`` as an integer (migration 0031's
    ``hb``), the value held within +-:data:`HOUR_LIMIT`. SQLite's ``floor`` needs its math
    functions, which not every build has: a cast truncates toward zero, so one is taken off
    below zero."""

    type = BigInteger()
    name = "hour_of"
    inherit_cache = True


_HOUR_LIMIT_SQL = "1e15"
"""Written as migration 0031 writes it: PostgreSQL matches its statistics on the hour by the
expression, constants included."""
HOUR_LIMIT = int(float(_HOUR_LIMIT_SQL))
"""``hour_of`` holds a value within +-10^15 hours first (migration 0031's ``HOUR_LIMIT``): the
outermost hours take everything beyond, infinities included, so no value fails a cast."""


@compiles(hour_of)
def _hour_of(element: hour_of, compiler: SQLCompiler, **kw: Any) -> str:
    held = f"MIN(MAX({compiler.process(element.clauses, **kw)}, -{_HOUR_LIMIT_SQL}), {_HOUR_LIMIT_SQL})"
    return f"(CAST({held} AS INTEGER) - ({held} < CAST({held} AS INTEGER)))"


@compiles(hour_of, "postgresql")
def _hour_of_pg(element: hour_of, compiler: SQLCompiler, **kw: Any) -> str:
    v = compiler.process(element.clauses, **kw)
    return f"CAST(floor(LEAST(GREATEST({v}, -{_HOUR_LIMIT_SQL}), {_HOUR_LIMIT_SQL})) AS BIGINT)"


class bytewise(FunctionElement[str]):
    """``bytewise(text)``: the same text, compared byte by byte (``COLLATE "C"`` on PostgreSQL).

    Equality is the same under any deterministic collation, so groups are unchanged; sorting a
    million rows under a linguistic collation costs several times more.
    """

    type = String()
    name = "bytewise"
    inherit_cache = True


@compiles(bytewise)
def _bytewise(element: bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(bytewise, "postgresql")
def _bytewise_pg(element: bytewise, compiler: SQLCompiler, **kw: Any) -> str:
    return f'({compiler.process(element.clauses, **kw)} COLLATE "C")'


class _scanned(FunctionElement[Any]):
    """``+column`` on SQLite, the column itself elsewhere: see :func:`scanned`."""

    name = "scanned"
    inherit_cache = True


@compiles(_scanned)
def _scanned_default(element: _scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_scanned, "sqlite")
def _scanned_sqlite(element: _scanned, compiler: SQLCompiler, **kw: Any) -> str:
    return f"(+{compiler.process(element.clauses, **kw)})"


def scanned(column: ColumnElement[Any]) -> ColumnElement[Any]:
    """The same value, grouped by without reading an index in its order (``+column`` on SQLite).

    SQLite groups by the first key through any index that starts with it, to save the sort: the
    medians' index ``(rep, team, hours)`` (0023) made every grouping by rep read the table row by
    row in that index's order, about twice the time of a scan and a sort of the groups. The
    unary ``+`` keeps the value and makes the expression match no index.
    """
    return type_coerce(_scanned(column), column.type)


# the request frame ---------------------------------------------------------------------------


def frame(
    filters: Filters,
    *,
    kind: str | None = None,
    offset_minutes: int = 0,
    columns: Collection[str] | None = None,
) -> Subquery:
    """One row per feedback request with everything reports group by, filters applied.

    The date filters and trend buckets read the filters' ``date_by`` date (default ``at``: when the
    request was sent, or created if never sent). ``response_id`` is the current response, null
    when unanswered.
    ``columns`` keeps only those (see :func:`fact_frame`).
    """
    return select_frame(filters, kind=kind, offset_minutes=offset_minutes, columns=columns).subquery("f")


def fact_frame(
    filters: Filters, *, offset_minutes: int = 0, columns: Collection[str], inline: bool = False
) -> CTE:
    """The frame as a CTE with only ``columns``, for a report's single statement.

    ``NOT MATERIALIZED`` on PostgreSQL: each part that reads it scans ``report_fact`` with its
    own (parallel) plan, cheaper than writing a million rows to a tuplestore first. SQLite writes
    a CTE read more than once to a temporary table; ``inline`` asks it to plan each part on
    ``report_fact`` too. That pays only where every part reads the whole frame through a scan or
    an index in its own order (responsiveness: 1.85 -> 1.56 s at 100,000 answers); where the
    frame is a filtered slice, reading it again per part costs more (summary for one rep 0.10 ->
    0.50 s, funnel 0.22 -> 0.41 s).
    """
    cte = select_frame(filters, offset_minutes=offset_minutes, columns=columns).cte("f")
    cte = cte.prefix_with("NOT MATERIALIZED", dialect="postgresql")
    return cte.prefix_with("NOT MATERIALIZED", dialect="sqlite") if inline else cte


def reason_frame(filters: Filters, *, offset_minutes: int = 0, columns: Collection[str]) -> CTE:
    """The reasons of the frame's answers, one row per reason (``code``, ``rank``) with ``columns``.

    Read from ``report_reason_fact`` with the frame's filters, so it holds exactly the reasons of
    the answers :func:`fact_frame` holds.
    """
    query = select_frame(
        filters, offset_minutes=offset_minutes, columns={*columns, "code", "rank"}, table=REASON_FACT
    )
    return query.cte("rf").prefix_with("NOT MATERIALIZED", dialect="postgresql")


def select_frame(
    filters: Filters,
    *,
    kind: str | None = None,
    offset_minutes: int = 0,
    columns: Collection[str] | None = None,
    table: Table = FACT,
) -> Select[Any]:
    """The frame's SELECT (see :func:`frame`), read from ``report_fact`` (or ``report_reason_fact``).

    ``report_fact`` holds the request ⋈ rep ⋈ current response ⋈ lead/deal join per request,
    kept exact by triggers (migration 0002); only the week/month (which depend on the report's
    time-zone offset) and the reply text (joined by ``response_id`` when asked for) are added here.
    The filters name columns both tables have.

    The date the period bounds and the week/month read is the filters' ``date_by`` column; a
    request without that date (unanswered, dated by the answer; a lead, dated by a deal's close)
    is in no period, so it is left out even with no bounds: figures do not jump when a bound
    that covers everything is added, and trends add up to the other reports.
    """
    at = table.c[DATE_COLUMNS[filters.date_by]]
    names = _frame_columns(table)
    with_text = table is FACT and (columns is None or "reply_text" in columns)
    cols: list[ColumnElement[Any]] = [table.c[name].label(name) for name in names]
    if with_text:
        cols.insert(FACT_COLUMNS.index("competitor") + 1, RESP.c.reply_text.label("reply_text"))
    cols += [
        period_of("week", at, offset_minutes).label("week"),
        period_of("month", at, offset_minutes).label("month"),
    ]
    if columns is not None:
        cols = [c for c in cols if c.key in columns]
    source: FromClause = table
    if with_text:
        source = table.outerjoin(RESP, RESP.c.id == table.c.response_id)
    conds: list[ColumnElement[bool]] = []
    for kind_code in {kind, filters.kind} - {None}:  # a report's own kind and --kind must both hold
        conds.append(table.c.kind == kind_code)
    if filters.date_by != "sent":  # the send date (else the creation) is never null
        conds.append(at.is_not(None))
    if filters.since:
        conds.append(at >= bind_time(at, filters.since))
    if filters.until:
        conds.append(at < bind_time(at, filters.until))
    for values, name in (
        (filters.campaigns, "campaign"),
        (filters.sources, "source"),
        (filters.teams, "team"),
        (filters.segments, "segment"),
    ):
        if values:
            conds.append(func.lower(table.c[name]).in_([v.lower() for v in values]))
    if filters.reps:
        wanted = [v.lower() for v in filters.reps]
        # each side as migration 0024 indexes it; the '' written in, so SQLite matches the index
        conds.append(
            or_(
                func.lower(table.c.rep_email).in_(wanted),
                func.lower(table.c.rep_name).in_(wanted),
                func.lower(func.coalesce(table.c.rep_crm_id, literal_column("''", String()))).in_(wanted),
            )
        )
    return select(*cols).select_from(source).where(*conds)


def kind_and_range(filters: Filters) -> list[ColumnElement[bool]]:
    """The frame's conditions on ``report_fact`` when it is filtered by nothing but the kind and
    the date range (as :func:`select_frame` writes them): what the rollup's medians and the
    trends' periods read through the date and median indexes."""
    at = FACT.c[DATE_COLUMNS[filters.date_by]]
    conds: list[ColumnElement[bool]] = [FACT.c.kind == filters.kind] if filters.kind else []
    if filters.date_by != "sent":  # the send date (else the creation) is never null
        conds.append(at.is_not(None))
    if filters.since is not None:
        conds.append(at >= bind_time(at, filters.since))
    if filters.until is not None:
        conds.append(at < bind_time(at, filters.until))
    return conds


def count_if(cond: ColumnElement[bool]) -> ColumnElement[int]:
    """``count(*) FILTER (WHERE cond)``: both databases have it (SQLite since 3.30), and on
    PostgreSQL it costs a quarter less than ``sum(CASE ...)`` over a million rows."""
    return func.count().filter(cond)


def dialect_of(db: Db) -> str:
    """The database's dialect name ("sqlite", "postgresql") from an engine, connection or session."""
    if isinstance(db, Session):
        return db.get_bind().dialect.name
    return db.dialect.name


def median_by(
    source: FromClause,
    value: ColumnElement[Any],
    keys: Sequence[ColumnElement[Any]],
    where: Sequence[ColumnElement[bool]] = (),
    *,
    dialect: str,
) -> Select[Any]:
    """Median of ``value`` per ``keys``: the middle value, or the mean of the two middle ones.

    The result has the key columns (same names) and ``median``; ``where`` narrows the rows first.
    PostgreSQL: the ordered-set aggregate :class:`median_of`, which cannot hash and so needs its
    rows sorted by the keys; text keys are grouped :class:`bytewise`, the order of migration
    0004's ``COLLATE "C"`` indexes, so an index-only scan hands the rows over already sorted.
    SQLite, which has no median: ``row_number`` and ``count`` windows per group, then the mean
    of the rows numbered (n+1) div 2 and (n+2) div 2 (one row when n is odd).
    """
    if dialect == "postgresql":
        grouping = [bytewise(k) if isinstance(k.type, String) else k for k in keys]
        labelled = [g.label(k.key) if g is not k else k for g, k in zip(grouping, keys, strict=True)]
        query = (
            select(*labelled, median_of(value).label("median"))
            .select_from(source)
            .where(value.is_not(None), *where)
        )
        return query.group_by(*grouping) if keys else query
    partition = list(keys) or None
    numbered = (
        select(
            *keys,
            value.label("v"),
            func.row_number().over(partition_by=partition, order_by=value).label("rn"),
            func.count().over(partition_by=partition).label("n"),
        )
        .select_from(source)
        .where(value.is_not(None), *where)
        .subquery("m")
    )
    key_cols = [numbered.c[k.key] for k in keys if k.key is not None]
    n = numbered.c.n
    query = select(*key_cols, func.avg(numbered.c.v, type_=Float()).label("median")).where(
        numbered.c.rn.in_([(n + 1) // 2, (n + 2) // 2])
    )
    return query.group_by(*key_cols) if key_cols else query
