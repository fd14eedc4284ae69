"""SLA rollup: the facts counted per rep and team, and per campaign and source, by hours and reminders

``responsiveness`` (all time) grouped every fact twice, by rep and team and by campaign and
source, each with the two values its quantiles need (``bh``, the business hours to answer, and
``r``, the reminders needed, both of answered requests only; ``reports.sla.distribution``): two
hash aggregates of 1.18 M facts at a million answers, about 1.2 s each; and it sorted every
fact's hours to answer twice for the medians per rep and per team (0.5 s each). The groups are
far fewer than the facts and they are sums, so triggers can keep them as 0027 keeps the
summary's: ``report_sla_rollup_rep`` holds per kind, rep, team, answer state, ``bh`` and ``r``
the requests, those sent, those answered, those escalated (an escalation mail), those expired and
those with hours to answer (``hours_n``, the n of the medians, now taken by rank: a skip to the
middle of 0004's ``(rep, team, hours)`` and ``(team, hours)`` indexes); ``report_sla_rollup_cs``
the same per kind, campaign and source. The all-time report reads them
(``reports.sla.rolled_distribution``, ``reports.sla.medians_by_rank``); *overdue*, which depends
on the time of the report, is still counted from the facts, through a new partial index of the
waiting requests.

Rows are deltas, kept and merged exactly as 0027's (``storage/rollup_upkeep``): PostgreSQL
statement triggers over the transition tables, SQLite row triggers.

Revision ID: 0030_sla_rollup
Revises: 0029_covering_date_indexes
Create Date: 2026-12-07 19:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0030_sla_rollup"
down_revision = "0029_covering_date_indexes"
branch_labels = None
depends_on = None

SOURCE = "report_fact"
ROLLUPS = {
    # table -> (fact table, text keys)
    "report_sla_rollup_rep": (SOURCE, ["kind", "rep", "team", "answer"]),
    "report_sla_rollup_cs": (SOURCE, ["kind", "campaign", "source", "answer"]),
}
"""Each table's keys are its text keys, then ``bh`` and ``r``; its measures :data:`MEASURES`."""

MEASURES = ["requests", "sent", "answered", "escalated", "expired", "hours_n"]
"""``answered``: ``queries.is_answered`` as the SLA figures count it (a fact with no status is
not, though its answer state says answered); ``hours_n``: requests with hours to answer
(``hours``), the n of the medians by rank."""

WAITING = ("sent", "clarifying", "escalated")
"""``storage.lifecycle.WAITING``: the statuses *overdue* counts (``queries.overdue``)."""

ANSWERED = (
    "({x}.status NOT IN ('review', 'clarifying') AND {x}.response_id IS NOT NULL AND {x}.outcome IS NOT NULL)"
)
"""``queries.is_answered``: ``bh`` and ``r`` only for these (``reports.sla.grouped_values``)."""


def keys(table: str) -> list[str]:
    """The table's key columns, in order."""
    return [*ROLLUPS[table][1], "bh", "r"]


def _keys(table: str, x: str) -> list[str]:
    """The key expressions over fact row ``x``, in the rollup's key order."""
    answer = (
        f"CASE WHEN {x}.status = 'review' THEN 'review' WHEN {x}.status = 'clarifying' THEN 'clarifying' "
        f"WHEN {x}.response_id IS NULL THEN 'unanswered' WHEN {x}.outcome IS NULL THEN 'no_outcome' "
        "ELSE 'answered' END"
    )
    text = [answer if k == "answer" else f"{x}.{k}" for k in ROLLUPS[table][1]]
    answered = ANSWERED.format(x=x)
    return [
        *text,
        f"CASE WHEN {answered} THEN {x}.business_hours END",
        f"CASE WHEN {answered} THEN {x}.reminders END",
    ]


def grouped_select(dialect: str, table: str, x: str, *, sign: int = 1, delta: int = 1) -> str:
    """The rollup rows of the facts in ``{src}`` (aliased ``x``), times ``sign``."""
    exprs = _keys(table, x)
    s = "-" if sign < 0 else ""
    measures = [
        f"{s}count(*)",
        f"{s}count({x}.sent_at)",
        f"{s}count(*) FILTER (WHERE {ANSWERED.format(x=x)})",
        f"{s}count(*) FILTER (WHERE {x}.escalations > 0)",
        f"{s}count(*) FILTER (WHERE {x}.status = 'expired')",
        f"{s}count({x}.hours)",
    ]
    group = ", ".join(str(i + 1) for i in range(len(exprs)))
    return f"SELECT {', '.join(exprs + measures)}, {delta} FROM {{src}} {x} GROUP BY {group}"


def _insert(table: str) -> str:
    return f"INSERT INTO {table} ({', '.join([*keys(table), *MEASURES, 'delta'])}) "


def _pg_triggers() -> list[str]:
    def plus(table: str) -> str:
        return _insert(table) + grouped_select("postgresql", table, "n").format(src="new_rows")

    def minus(table: str) -> str:
        return _insert(table) + grouped_select("postgresql", table, "o", sign=-1).format(src="old_rows")

    bodies = {
        "insert": [plus(t) for t in ROLLUPS],
        "delete": [minus(t) for t in ROLLUPS],
        "update": [minus(t) for t in ROLLUPS] + [plus(t) for t in ROLLUPS],
    }
    out = []
    for event, stmts in bodies.items():
        fn = f"{SOURCE}_sla_rollup_on_{event}"
        body = ";\n    ".join(stmts)
        out.append(
            f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    {body};\n"
            "    RETURN NULL;\nEND $$"
        )
        referencing = {
            "insert": "NEW TABLE AS new_rows",
            "delete": "OLD TABLE AS old_rows",
            "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        }[event]
        out.append(
            f"CREATE TRIGGER {fn} AFTER {event.upper()} ON {SOURCE} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        )
    return out


def _sqlite_row(table: str, x: str, sign: int) -> str:
    """One row's delta (SQLite row trigger)."""
    s = "-" if sign < 0 else ""
    measures = [
        f"{s}1",
        f"{s}({x}.sent_at IS NOT NULL)",
        f"{s}(CASE WHEN {ANSWERED.format(x=x)} THEN 1 ELSE 0 END)",
        f"{s}({x}.escalations > 0)",
        f"{s}({x}.status IS 'expired')",
        f"{s}({x}.hours IS NOT NULL)",
    ]
    return _insert(table) + f"SELECT {', '.join(_keys(table, x) + measures)}, 1;"


def _sqlite_triggers() -> list[str]:
    bodies = {
        "insert": [_sqlite_row(t, "NEW", 1) for t in ROLLUPS],
        "delete": [_sqlite_row(t, "OLD", -1) for t in ROLLUPS],
        "update": [_sqlite_row(t, "OLD", -1) for t in ROLLUPS] + [_sqlite_row(t, "NEW", 1) for t in ROLLUPS],
    }
    return [
        f"CREATE TRIGGER {SOURCE}_sla_rollup_on_{event} AFTER {event.upper()} ON {SOURCE} "
        + "FOR EACH ROW\nBEGIN\n    "
        + "\n    ".join(stmts)
        + "\nEND"
        for event, stmts in bodies.items()
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    big = "BIGINT" if dialect == "postgresql" else "INTEGER"
    real = "DOUBLE PRECISION" if dialect == "postgresql" else "FLOAT"
    for table, (source, text_keys) in ROLLUPS.items():
        cols = [f"{k} VARCHAR" for k in text_keys] + [f"bh {real}", "r INTEGER"]
        cols += [f"{m} {big} NOT NULL" for m in MEASURES]
        op.execute(f"CREATE TABLE {table} ({', '.join(cols)}, delta SMALLINT NOT NULL)")
        op.execute(f"CREATE INDEX ix_{table}_delta ON {table} (delta) WHERE delta = 1")
        op.execute(_insert(table) + grouped_select(dialect, table, "x", delta=0).format(src=source))
        if dialect == "postgresql":
            op.execute(f"ANALYZE {table}")
    # overdue (sent before the report's time less the reminder delay, still waiting) per rep and
    # team: the waiting requests are a small share of the facts once most are answered
    statuses = ", ".join(f"'{s}'" for s in WAITING)
    op.execute(
        "CREATE INDEX ix_report_fact_waiting ON report_fact (sent_at, kind, rep, team) "
        f"WHERE status IN ({statuses})"
    )
    for stmt in _pg_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for event in ("insert", "delete", "update"):
        name = f"{SOURCE}_sla_rollup_on_{event}"
        on = f" ON {SOURCE}" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP INDEX ix_report_fact_waiting")
    for table in ROLLUPS:
        op.execute(f"DROP TABLE {table}")
