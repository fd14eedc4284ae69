"""Report rollup: the facts counted per month of each date and the summary's grain, kept by triggers

The all-time summary read every fact and every reason fact (2.4 M rows at a million answers)
to add up a few thousand groups. ``report_rollup`` holds those sums per UTC month of each of
the four dates (``sent_month`` from ``at``, ``answered_month``, ``created_month``,
``closed_month``: 'YYYY-MM', null where the date is) and the summary's grain (kind, campaign,
source, outcome, competitor, CRM result, currency, answer state): requests, sent, deals with an
amount and their amounts in millionths (integers, so adding and taking away a fact leaves the
sum exact), answers with hours to answer (the medians' counts). ``report_reason_rollup``
counts the reasons of answered requests likewise (mentions, as main reason). The ``_all``
tables hold the same sums without the months, for the all-time report. A report sums whole
months from them and reads only the partial months at either end of its range from the facts
(``feedback/reports/rollup.py``). 0004's median indexes carry the four dates, so the
medians are taken by rank (a skip to the middle of an index, the range checked in it) for any
range from the rollup's counts.

Rows are deltas: a trigger on ``report_fact`` (``report_reason_fact``) adds a row per group a
write touches, +1 per fact inserted and -1 per fact deleted (an update is both), in the same
transaction; nothing is updated in place, so concurrent writers never wait on one another for
a rollup row and never deadlock on one. Readers sum the rows per group, so the sums are exact
whether or not they were merged. ``feedback/storage/rollup_upkeep.compact`` merges them
(``delta`` = 1 marks the rows not yet merged). The triggers fire while the facts are deferred
too (0022): they follow ``report_fact`` itself, whoever writes it. PostgreSQL: statement
triggers over the transition tables (one grouped insert per statement, which suits the
set-based writes of ``fact_upkeep``); SQLite: row triggers.

Revision ID: 0027_report_rollup
Revises: 0026_sla_statistics
Create Date: 2026-12-07 11:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0027_report_rollup"
down_revision = "0026_sla_statistics"
branch_labels = None
depends_on = None

MONTHS = {
    "sent_month": "at",
    "answered_month": "answered_at",
    "created_month": "created_at",
    "closed_month": "closed_at",
}
FACT_KEYS = ["kind", "campaign", "source", "outcome", "competitor", "deal_result", "currency"]
REASON_KEYS = ["kind", "campaign", "source", "outcome", "competitor", "code"]
FACT_MEASURES = ["requests", "sent", "amount_n", "amount_micros", "hours_n"]
REASON_MEASURES = ["mentions", "firsts"]

ROLLUPS = {
    # table -> (fact table, key columns, measures)
    "report_rollup": ("report_fact", [*MONTHS, *FACT_KEYS, "answer"], FACT_MEASURES),
    "report_rollup_all": ("report_fact", [*FACT_KEYS, "answer"], FACT_MEASURES),
    "report_reason_rollup": ("report_reason_fact", [*MONTHS, *REASON_KEYS], REASON_MEASURES),
    "report_reason_rollup_all": ("report_reason_fact", REASON_KEYS, REASON_MEASURES),
}
"""The ``_all`` tables are the same sums over all time (no month keys): the all-time report
(dated by the send, which every request has) reads a few thousand groups, not one per month."""

ANSWERED = (
    "({x}.status NOT IN ('review', 'clarifying') AND {x}.response_id IS NOT NULL AND {x}.outcome IS NOT NULL)"
)
"""``queries.is_answered``: only these reasons count."""


def _month(dialect: str, column: str) -> str:
    return f"to_char({column}, 'YYYY-MM')" if dialect == "postgresql" else f"strftime('%Y-%m', {column})"


def _micros(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"CAST(round({column} * 1000000) AS BIGINT)"
    return f"CAST(round({column} * 1000000) AS INTEGER)"


def _keys(dialect: str, table: str, x: str) -> list[str]:
    """The key expressions over fact row ``x``, in the rollup's key order."""
    months = (
        [_month(dialect, f"{x}.{col}") for col in MONTHS.values()]
        if "sent_month" in ROLLUPS[table][1]
        else []
    )
    if ROLLUPS[table][0] == "report_reason_fact":
        return months + [f"{x}.{k}" for k in REASON_KEYS]
    answer = (
        f"CASE WHEN {x}.status = 'review' THEN 'review' WHEN {x}.status = 'clarifying' THEN 'clarifying' "
        f"WHEN {x}.response_id IS NULL THEN 'unanswered' WHEN {x}.outcome IS NULL THEN 'no_outcome' "
        "ELSE 'answered' END"
    )
    return months + [f"{x}.{k}" for k in FACT_KEYS] + [answer]


def grouped_select(dialect: str, table: str, x: str, *, sign: int = 1, delta: int = 1) -> str:
    """The rollup rows of the facts in ``x`` (a table or transition table aliased ``x``), times ``sign``."""
    exprs = _keys(dialect, table, x)
    s = "-" if sign < 0 else ""
    if ROLLUPS[table][0] == "report_fact":
        measures = [
            f"{s}count(*)",
            f"{s}count({x}.sent_at)",
            f"{s}count({x}.amount)",
            f"{s}coalesce(sum({_micros(dialect, f'{x}.amount')}), 0)",
            f"{s}count({x}.hours)",
        ]
        where = ""
    else:
        measures = [f"{s}count(*)", f"{s}count(*) FILTER (WHERE {x}.rank = 0)"]
        where = f" WHERE {ANSWERED.format(x=x)}"
    group = ", ".join(str(i + 1) for i in range(len(exprs)))
    return f"SELECT {', '.join(exprs + measures)}, {delta} FROM {{src}} {x}{where} GROUP BY {group}"


def _insert(table: str) -> str:
    _, keys, measures = ROLLUPS[table]
    return f"INSERT INTO {table} ({', '.join([*keys, *measures, 'delta'])}) "


SOURCES = {"report_fact": ["report_rollup", "report_rollup_all"]}
SOURCES["report_reason_fact"] = ["report_reason_rollup", "report_reason_rollup_all"]


def _pg_triggers(source: str) -> list[str]:
    def plus(table: str) -> str:
        return _insert(table) + grouped_select("postgresql", table, "n").format(src="new_rows")

    def minus(table: str) -> str:
        return _insert(table) + grouped_select("postgresql", table, "o", sign=-1).format(src="old_rows")

    tables = SOURCES[source]
    bodies = {
        "insert": [plus(t) for t in tables],
        "delete": [minus(t) for t in tables],
        "update": [minus(t) for t in tables] + [plus(t) for t in tables],
    }
    out = []
    for event, stmts in bodies.items():
        fn = f"{source}_rollup_on_{event}"
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
            f"CREATE TRIGGER {fn} AFTER {event.upper()} ON {source} REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        )
    return out


def _sqlite_row(table: str, x: str, sign: int) -> str:
    """One row's delta (SQLite row trigger): the grouped select over the one row ``x``."""
    exprs = _keys("sqlite", table, x)
    s = "-" if sign < 0 else ""
    if ROLLUPS[table][0] == "report_fact":
        measures = [
            f"{s}1",
            f"{s}({x}.sent_at IS NOT NULL)",
            f"{s}({x}.amount IS NOT NULL)",
            f"{s}coalesce({_micros('sqlite', f'{x}.amount')}, 0)",
            f"{s}({x}.hours IS NOT NULL)",
        ]
        where = ""
    else:
        measures = [f"{s}1", f"{s}({x}.rank = 0)"]
        where = f" WHERE {ANSWERED.format(x=x)}"
    return _insert(table) + f"SELECT {', '.join(exprs + measures)}, 1{where};"


def _sqlite_triggers(source: str) -> list[str]:
    tables = SOURCES[source]
    bodies = {
        "insert": [_sqlite_row(t, "NEW", 1) for t in tables],
        "delete": [_sqlite_row(t, "OLD", -1) for t in tables],
        "update": [_sqlite_row(t, "OLD", -1) for t in tables] + [_sqlite_row(t, "NEW", 1) for t in tables],
    }
    return [
        f"CREATE TRIGGER {source}_rollup_on_{event} AFTER {event.upper()} ON {source} "
        + "FOR EACH ROW\nBEGIN\n    "
        + "\n    ".join(stmts)
        + "\nEND"
        for event, stmts in bodies.items()
    ]


MEDIAN_INDEXES = {
    "ix_report_fact_hours": ["hours"],
    "ix_report_fact_kind_campaign_hours": ["kind", "campaign*", "hours"],
    "ix_report_fact_kind_source_hours": ["kind", "source*", "hours"],
}
"""0004's, which 0027 makes carry the four dates (a text key byte-wise on PostgreSQL, as 0004)."""


def _median_indexes(dialect: str, *, dates: bool) -> None:
    """0004's median indexes, with the four dates (PostgreSQL ``INCLUDE``, SQLite trailing keys)
    or without: the medians by rank skip through them checking the range in the index."""
    for name, columns in MEDIAN_INDEXES.items():
        op.execute(f"DROP INDEX {name}")
        parts = [
            c.rstrip("*") + (' COLLATE "C"' if dialect == "postgresql" and c.endswith("*") else "")
            for c in columns
        ]
        if dates and dialect == "postgresql":
            include = f" INCLUDE ({', '.join(MONTHS.values())})"
        else:
            include = ""
            parts += list(MONTHS.values()) if dates else []
        op.execute(f"CREATE INDEX {name} ON report_fact ({', '.join(parts)}){include}")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _median_indexes(dialect, dates=True)
    big = "BIGINT" if dialect == "postgresql" else "INTEGER"
    for table, (source, keys, measures) in ROLLUPS.items():
        cols = [f"{k} VARCHAR" for k in keys] + [f"{m} {big} NOT NULL" for m in measures]
        op.execute(f"CREATE TABLE {table} ({', '.join(cols)}, delta SMALLINT NOT NULL)")
        op.execute(f"CREATE INDEX ix_{table}_delta ON {table} (delta) WHERE delta = 1")
        op.execute(_insert(table) + grouped_select(dialect, table, "x", delta=0).format(src=source))
        if dialect == "postgresql":
            # the groups the reports make of it: without, the planner multiplies the keys'
            # distinct counts, expects a tenth of the groups and sorts where it should hash
            key_list = ", ".join(k for k in keys if not k.endswith("_month"))
            op.execute(f"CREATE STATISTICS st_{table}_keys (ndistinct) ON {key_list} FROM {table}")
            op.execute(f"ANALYZE {table}")
    for source in SOURCES:
        for stmt in _pg_triggers(source) if dialect == "postgresql" else _sqlite_triggers(source):
            op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _median_indexes(dialect, dates=False)
    for source in SOURCES:
        for event in ("insert", "delete", "update"):
            name = f"{source}_rollup_on_{event}"
            on = f" ON {source}" if dialect == "postgresql" else ""
            op.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
            if dialect == "postgresql":
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for table in ROLLUPS:
        op.execute(f"DROP TABLE {table}")
