"""SLA facts: report_fact carries each request's business hours, reminders and escalations

The follow-up SLA sections (0019) joined ``report_fact`` with ``request_sla`` and with the
per-request counts of reminder and escalation mails at report time: at a million answers that
join was most of ``responsiveness`` (3-5 s of it under load). The facts now carry them, so the
SLA figures read one table like every other figure:

- ``business_hours``: the request's ``request_sla`` hours while the row is fresh (its start and
  answer times equal the fact's: ``sla.started_at`` and ``answered_at``), else null, exactly the
  row the report joined before;
- ``reminders`` / ``escalations``: the request's ``outbound_mail`` rows of that purpose.

``report_frame_v`` gains the three (0007's view plus a join and two counts); the fact triggers
of 0007 name the column list, so they are made again with it (guarded as in 0022; on PostgreSQL
only ``report_fact_refresh`` names it). New triggers on ``request_sla`` and on reminder and
escalation mails recompute their request's facts, under the same deferral guard, so
``refresh_sla`` writes its rows deferred and recomputes them set-based (fact_upkeep). The reason
fact is unchanged. Two indexes hand responsiveness's medians per rep and per team their rows in
group order (as 0004's do for the summary's).

Revision ID: 0023_sla_facts
Revises: 0022_cheaper_facts
Create Date: 2026-12-07 04:20:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0023_sla_facts"
down_revision = "0022_cheaper_facts"
branch_labels = None
depends_on = None

NEW_COLUMNS = ["business_hours", "reminders", "escalations"]
MAIL_PURPOSES = "('reminder', 'escalation')"
MEDIAN_INDEXES = {"ix_report_fact_rep_team_hours": ["rep", "team"], "ix_report_fact_team_hours": ["team"]}


def _revision(filename: str) -> ModuleType:
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"_feedback_rev_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cols(new: bool) -> str:
    base = _revision("0007_report_dates.py")
    return ", ".join(base.FACT_COLUMNS + (NEW_COLUMNS if new else []))


def _view_sql(dialect: str) -> str:
    """0007's ``report_frame_v`` with the three SLA columns."""
    sql = _revision("0007_report_dates.py")._view_sql(dialect)
    if dialect == "postgresql":
        closed = "(d.close_date + time '12:00')"
    else:
        closed = "(strftime('%Y-%m-%d', d.close_date) || ' 12:00:00.000000')"
    created = "coalesce(l.assigned_at, l.created_at, dl.assigned_at, dl.created_at, d.created_at)"
    answered = "CASE WHEN p.id IS NOT NULL THEN coalesce(r.answered_at, p.created_at) END"
    # sla.started_at over the fact's columns
    started = f"coalesce(CASE WHEN r.deal_id IS NOT NULL THEN {closed} END, {created}, r.sent_at)"

    def mails(purpose: str) -> str:
        return f"(SELECT count(*) FROM outbound_mail o WHERE o.request_id = r.id AND o.purpose = '{purpose}')"

    extra = (
        f",\n       CASE WHEN s.answered_at = {answered} AND s.started_at = {started} "
        "THEN s.business_hours END AS business_hours,\n"
        f"       {mails('reminder')} AS reminders,\n"
        f"       {mails('escalation')} AS escalations"
    )
    head, sep, tail = sql.partition("\nFROM feedback_request r")
    assert sep, sql
    return f"{head}{extra}{sep}{tail.rstrip()}\nLEFT OUTER JOIN request_sla s ON s.request_id = r.id\n"


def _fact_triggers(dialect: str, new: bool) -> list[str]:
    """0007's fact triggers with the column list of this revision (``new``) or 0007's, guarded
    as in 0022. PostgreSQL: the one function that names the columns."""
    if dialect == "postgresql":
        cols = _cols(new)
        return [
            f"""
CREATE OR REPLACE FUNCTION report_fact_refresh(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_fact WHERE request_id = ANY(ids);
    INSERT INTO report_fact ({cols}) SELECT {cols} FROM report_frame_v WHERE request_id = ANY(ids);
END $$"""
        ]
    base = _revision("0007_report_dates.py")
    base.COLS = _cols(new)  # its trigger bodies read the module's column list
    guard = _revision("0022_cheaper_facts.py")._guard_sqlite
    return [guard(s) for s in base._sqlite_fact_triggers()]


def _drop_sqlite_fact_triggers() -> None:
    for table in _revision("0007_report_dates.py").WATCH:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS report_fact_{table}_{event}")


# the SLA inputs: table -> (columns whose change alters the facts, condition on a row that counts)
SLA_WATCH = {
    "request_sla": (["request_id", "started_at", "answered_at", "business_hours"], None),
    "outbound_mail": (["request_id", "purpose"], f"purpose IN {MAIL_PURPOSES}"),
}


def _sla_triggers(dialect: str) -> list[str]:
    """Triggers on ``request_sla`` and on reminder/escalation mails: their request's facts."""
    out = []
    for table, (watched, counts) in SLA_WATCH.items():

        def when(side: str, counts: str | None = counts) -> str:
            return f"{side}.{counts}" if counts else ""

        if dialect == "postgresql":
            guard = _revision("0022_cheaper_facts.py").PG_GUARD
            out.append(f"""
CREATE FUNCTION report_fact_on_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_fact_refresh(ARRAY[NEW.request_id]);
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM report_fact_refresh(ARRAY[OLD.request_id, NEW.request_id]);
    ELSE
        PERFORM report_fact_refresh(ARRAY[OLD.request_id]);
    END IF;
    RETURN NULL;
END $$""")
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
            either = f"({when('OLD')} OR {when('NEW')}) AND " if counts else ""
            conds = {
                "insert": ("INSERT", " AND ".join(filter(None, [when("NEW"), guard]))),
                "delete": ("DELETE", " AND ".join(filter(None, [when("OLD"), guard]))),
                "update": (f"UPDATE OF {', '.join(watched)}", f"{either}({changed}) AND {guard}"),
            }
            for event, (what, cond) in conds.items():
                out.append(
                    f"CREATE TRIGGER report_fact_{table}_{event} AFTER {what} ON {table} "
                    f"FOR EACH ROW WHEN ({cond}) EXECUTE FUNCTION report_fact_on_{table}()"
                )
        else:
            guard = _revision("0022_cheaper_facts.py").SQLITE_GUARD
            cols = _cols(True)

            def refresh(side: str, cols: str = cols) -> str:
                where = f"request_id = {side}.request_id"
                return (
                    f"DELETE FROM report_fact WHERE {where};\n"
                    f"    INSERT INTO report_fact ({cols}) SELECT {cols} FROM report_frame_v WHERE {where};"
                )

            changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
            either = f"({when('OLD')} OR {when('NEW')}) AND " if counts else ""
            bodies = {
                "insert": ("INSERT", " AND ".join(filter(None, [when("NEW"), guard])), ["NEW"]),
                "delete": ("DELETE", " AND ".join(filter(None, [when("OLD"), guard])), ["OLD"]),
                "update": (
                    f"UPDATE OF {', '.join(watched)}",
                    f"{either}({changed}) AND {guard}",
                    ["OLD", "NEW"],
                ),
            }
            for event, (what, cond, sides) in bodies.items():
                stmts = "\n    ".join(refresh(side) for side in sides)
                out.append(
                    f"CREATE TRIGGER report_fact_{table}_{event} AFTER {what} ON {table} "
                    f"FOR EACH ROW WHEN {cond}\nBEGIN\n    {stmts}\nEND"
                )
    return out


def _drop_sla_triggers(dialect: str) -> None:
    pg = dialect == "postgresql"
    for table in SLA_WATCH:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS report_fact_{table}_{event}" + (f" ON {table}" if pg else ""))
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS report_fact_on_{table}()")


def _defer(dialect: str, on: bool) -> None:
    """The 0022 deferral, so the backfill's update does not redo every reason fact row."""
    if dialect == "postgresql":
        op.execute(f"SELECT set_config('feedback.facts_deferred', '{'on' if on else 'off'}', true)")
    elif on:
        op.execute("INSERT INTO report_fact_deferral DEFAULT VALUES")
    else:
        op.execute("DELETE FROM report_fact_deferral")


# the facts with something to carry, from the same rows the view reads (one hash join each:
# correlated subqueries per fact row took minutes at a million)
BACKFILL = f"""
UPDATE report_fact SET business_hours = x.business_hours, reminders = x.reminders, escalations = x.escalations
FROM (SELECT f.request_id AS request_id, s.business_hours AS business_hours,
             coalesce(m.reminders, 0) AS reminders, coalesce(m.escalations, 0) AS escalations
      FROM report_fact f
      LEFT OUTER JOIN request_sla s
        ON s.request_id = f.request_id AND s.answered_at = f.answered_at
       AND s.started_at = coalesce(CASE WHEN f.deal_id IS NOT NULL THEN f.closed_at END,
                                   f.created_at, f.sent_at)
      LEFT OUTER JOIN (SELECT request_id,
                              count(*) FILTER (WHERE purpose = 'reminder') AS reminders,
                              count(*) FILTER (WHERE purpose = 'escalation') AS escalations
                       FROM outbound_mail WHERE purpose IN {MAIL_PURPOSES} GROUP BY request_id) m
        ON m.request_id = f.request_id
      WHERE s.request_id IS NOT NULL OR m.request_id IS NOT NULL) x
WHERE x.request_id = report_fact.request_id
"""


def _median_indexes(dialect: str) -> None:
    for name, keys in MEDIAN_INDEXES.items():
        if dialect == "postgresql":
            cols = ", ".join(f'{k} COLLATE "C"' for k in keys)
            op.execute(f"CREATE INDEX {name} ON report_fact ({cols}, hours)")
        else:
            op.create_index(name, "report_fact", [*keys, "hours"])


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect != "postgresql":
        _drop_sqlite_fact_triggers()
    op.execute("DROP VIEW report_frame_v")
    op.add_column("report_fact", sa.Column("business_hours", sa.Float(), nullable=True))
    for name in ("reminders", "escalations"):
        op.add_column("report_fact", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(_view_sql(dialect))
    _defer(dialect, True)
    op.execute(BACKFILL)
    _defer(dialect, False)
    for stmt in _fact_triggers(dialect, new=True) + _sla_triggers(dialect):
        op.execute(stmt)
    _median_indexes(dialect)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in MEDIAN_INDEXES:
        op.drop_index(name, "report_fact")
    _drop_sla_triggers(dialect)
    if dialect != "postgresql":
        _drop_sqlite_fact_triggers()
    op.execute("DROP VIEW report_frame_v")
    for name in NEW_COLUMNS:
        op.drop_column("report_fact", name)
    op.execute(_revision("0007_report_dates.py")._view_sql(dialect))
    for stmt in _fact_triggers(dialect, new=False):
        op.execute(stmt)
