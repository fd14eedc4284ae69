"""Hours buckets: the answers with hours counted per whole hour, per rep and team and per campaign and source

The medians of hours to answer are read by rank (``reports.rollup.medians``,
``reports.sla.medians_by_rank``): n from a rollup, then a skip to the middle one or two values
in an index ordered by hours (0004's). A B-tree cannot skip by count, so the skip reads every
entry below the middle: half of each group's answers, about 0.1-0.15 s per grouping at a
million answers, 0.28 s of ``responsiveness`` and 0.36 s of the all-time summary (its target
0.5 s). Counting the answers per whole hour (``hb``, the floor of ``hours``) tells which hour
holds the middle rank and how many answers lie below that hour, so the skip can start at the
hour in the index (``hours >= hb``) and read only that hour's entries.

A range's median (the summary by a date over some months) counts its answers per hour from
the facts, through the date's covering index (0029); statistics on the hour expression let
PostgreSQL count in its parallel workers.

``report_hours_rollup_rep`` holds per kind, rep, team and ``hb`` the facts with hours to answer
(``n``), ``report_hours_rollup_cs`` the same per kind, campaign and source: a few rows per group
and hour. Rows are deltas, kept and merged as 0027's and 0030's (``storage/rollup_upkeep``):
PostgreSQL statement triggers over the transition tables, SQLite row triggers.

Revision ID: 0031_hours_buckets
Revises: 0030_sla_rollup
Create Date: 2026-12-07 22:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0031_hours_buckets"
down_revision = "0030_sla_rollup"
branch_labels = None
depends_on = None

SOURCE = "report_fact"
ROLLUPS = {
    # table -> (fact table, text keys)
    "report_hours_rollup_rep": (SOURCE, ["kind", "rep", "team"]),
    "report_hours_rollup_cs": (SOURCE, ["kind", "campaign", "source"]),
}
"""Each table's keys are its text keys, then ``hb``; its one measure ``n``."""

HOUR_STATISTICS = "st_report_fact_hour"
"""PostgreSQL's statistics on the whole hour of ``report_fact.hours``."""


def keys(table: str) -> list[str]:
    """The table's key columns, in order."""
    return [*ROLLUPS[table][1], "hb"]


HOUR_LIMIT = "1e15"
"""Hours beyond +-10^15 (a hundred billion years; none a clock gives) share the outermost hour:
an infinite or huge value must not fail a fact's write on an integer cast."""


def floor_of(dialect: str, value: str) -> str:
    """``floor(value)`` as an integer, the value held within +-:data:`HOUR_LIMIT`; SQLite's
    ``floor`` needs its math functions, which not every build has: a cast truncates toward
    zero, so one is taken off below zero."""
    if dialect == "postgresql":
        return f"CAST(floor(LEAST(GREATEST({value}, -{HOUR_LIMIT}), {HOUR_LIMIT})) AS BIGINT)"
    held = f"MIN(MAX({value}, -{HOUR_LIMIT}), {HOUR_LIMIT})"
    return f"(CAST({held} AS INTEGER) - ({held} < CAST({held} AS INTEGER)))"


def grouped_select(dialect: str, table: str, x: str, *, sign: int = 1, delta: int = 1) -> str:
    """The rollup rows of the facts in ``{src}`` (aliased ``x``) with hours, times ``sign``."""
    exprs = [*[f"{x}.{k}" for k in ROLLUPS[table][1]], floor_of(dialect, f"{x}.hours")]
    s = "-" if sign < 0 else ""
    group = ", ".join(str(i + 1) for i in range(len(exprs)))
    return (
        f"SELECT {', '.join(exprs)}, {s}count(*), {delta} FROM {{src}} {x} "
        f"WHERE {x}.hours IS NOT NULL GROUP BY {group}"
    )


def _insert(table: str) -> str:
    return f"INSERT INTO {table} ({', '.join([*keys(table), 'n', 'delta'])}) "


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
    referencing = {
        "insert": "NEW TABLE AS new_rows",
        "delete": "OLD TABLE AS old_rows",
        "update": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
    }
    out = []
    for event, stmts in bodies.items():
        fn = f"{SOURCE}_hours_rollup_on_{event}"
        body = ";\n    ".join(stmts)
        out.append(
            f"CREATE FUNCTION {fn}() RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n    {body};\n"
            "    RETURN NULL;\nEND $$"
        )
        out.append(
            f"CREATE TRIGGER {fn} AFTER {event.upper()} ON {SOURCE} REFERENCING {referencing[event]} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {fn}()"
        )
    return out


def _sqlite_row(table: str, x: str, sign: int) -> str:
    """One row's delta (SQLite row trigger), for a fact with hours only."""
    exprs = [*[f"{x}.{k}" for k in ROLLUPS[table][1]], floor_of("sqlite", f"{x}.hours")]
    s = "-" if sign < 0 else ""
    return _insert(table) + f"SELECT {', '.join(exprs)}, {s}1, 1 WHERE {x}.hours IS NOT NULL;"


def _sqlite_triggers() -> list[str]:
    bodies = {
        "insert": [_sqlite_row(t, "NEW", 1) for t in ROLLUPS],
        "delete": [_sqlite_row(t, "OLD", -1) for t in ROLLUPS],
        "update": [_sqlite_row(t, "OLD", -1) for t in ROLLUPS] + [_sqlite_row(t, "NEW", 1) for t in ROLLUPS],
    }
    return [
        f"CREATE TRIGGER {SOURCE}_hours_rollup_on_{event} AFTER {event.upper()} ON {SOURCE} "
        + "FOR EACH ROW\nBEGIN\n    "
        + "\n    ".join(stmts)
        + "\nEND"
        for event, stmts in bodies.items()
    ]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    big = "BIGINT" if dialect == "postgresql" else "INTEGER"
    for table, (source, text_keys) in ROLLUPS.items():
        cols = [f"{k} VARCHAR" for k in text_keys] + [f"hb {big}", f"n {big} NOT NULL"]
        op.execute(f"CREATE TABLE {table} ({', '.join(cols)}, delta SMALLINT NOT NULL)")
        op.execute(f"CREATE INDEX ix_{table}_delta ON {table} (delta) WHERE delta = 1")
        op.execute(_insert(table) + grouped_select(dialect, table, "x", delta=0).format(src=source))
        if dialect == "postgresql":
            op.execute(f"ANALYZE {table}")
    for stmt in _pg_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(stmt)
    if dialect == "postgresql":
        # a range's answers counted per whole hour (``reports.rollup._range_median``): with no
        # statistics on the hour PostgreSQL expects a group per row and counts in the leader
        op.execute(f"CREATE STATISTICS {HOUR_STATISTICS} ON ({floor_of(dialect, 'hours')}) FROM report_fact")
        op.execute("ANALYZE report_fact")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(f"DROP STATISTICS IF EXISTS {HOUR_STATISTICS}")
    for event in ("insert", "delete", "update"):
        name = f"{SOURCE}_hours_rollup_on_{event}"
        on = f" ON {SOURCE}" if dialect == "postgresql" else ""
        op.execute(f"DROP TRIGGER IF EXISTS {name}{on}")
        if dialect == "postgresql":
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for table in ROLLUPS:
        op.execute(f"DROP TABLE {table}")
