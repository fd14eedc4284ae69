"""Funnel facts: report_fact carries each lead's CRM deals and whether a deal's lead was asked about

The funnel (``queries.funnel_parts``) joined every disposition fact (941k at a million answers)
with the deals grouped per lead (a GROUP BY over all of ``deal``), a hash join gathered into the
leader (the inner aggregate has its own Gather, so the join could not run in the workers): 1.5 s
of the report's 1.6 s under load. Its "deals outside the funnel" filtered the winloss facts by
``NOT EXISTS`` a disposition request for the deal's lead, a hashed subplan over every request
(0.8 s). The facts now carry both, so the funnel reads ``report_fact`` alone:

- ``lead_deals`` / ``lead_deals_won``: on a disposition request with a lead, the ``deal`` rows
  opened from that lead, and those the CRM has won; 0 on every other request;
- ``lead_asked``: on a winloss request, 1 when its deal's lead has a disposition
  ``feedback_request`` (the funnel's "asked"), else 0.

``report_frame_v`` gains the three (0023's view plus three correlated counts, each an index
probe). A deal or a disposition request changes the facts of *other* requests, so new triggers
follow them: inserting a deal with a lead, deleting one, or changing its ``lead_id`` or
``result`` recounts the deals on the disposition facts of the old and the new lead; inserting,
deleting or changing the ``kind``/``lead_id`` of a disposition request sets ``lead_asked`` on the
winloss facts whose ``deal_lead_id`` is that lead. They update those two or one columns in place
(only where the value changes), under 0022's deferral guard like every fact trigger (no
deferring writer writes deals or requests: ``fact_upkeep``). Every other fact refresh recomputes
the row from the view, new columns included: 0023's column list grows by three, so
``report_fact_refresh`` (PostgreSQL) and the SQLite fact and SLA triggers that name it are made
again with it.

A partial index holds the winloss facts whose lead was never asked about (``lead_asked`` = 0):
the funnel's "deals outside the funnel" reads them through it instead of scanning every fact for
a handful (none in the 1M benchmark data: funnel 1.17 -> 0.59 s under load).

Backfill: two set-based updates (the deals grouped per lead; the leads asked, as a semi-join),
only of the rows whose value is not the default 0, deferred (no reason fact is redone) and with
the rollup's update trigger (0027) off: its keys and measures read none of these columns, so it
would only add rows that cancel out.

Revision ID: 0028_funnel_facts
Revises: 0027_report_rollup
Create Date: 2026-12-07 14:45:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0028_funnel_facts"
down_revision = "0027_report_rollup"
branch_labels = None
depends_on = None

NEW_COLUMNS = ["lead_deals", "lead_deals_won", "lead_asked"]


def _revision(filename: str) -> ModuleType:
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"_feedback_rev_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _sla_revision(new: bool) -> ModuleType:
    """0023, whose fact and SLA triggers name its column list: with this revision's three
    columns added (``new``) or as it was."""
    base = _revision("0023_sla_facts.py")
    if new:
        base.NEW_COLUMNS = base.NEW_COLUMNS + NEW_COLUMNS  # its _cols reads the module's list
    return base


def _deals(lead: str, won: bool = False) -> str:
    result = " AND x.result = 'won'" if won else ""
    return f"(SELECT count(*) FROM deal x WHERE x.lead_id = {lead}{result})"


def _asked(lead: str) -> str:
    return f"EXISTS (SELECT 1 FROM feedback_request q WHERE q.kind = 'disposition' AND q.lead_id = {lead})"


def _view_sql(dialect: str) -> str:
    """0023's ``report_frame_v`` with the three funnel columns."""
    sql = _revision("0023_sla_facts.py")._view_sql(dialect)
    lead = "r.kind = 'disposition' AND r.lead_id IS NOT NULL"
    extra = (
        f",\n       CASE WHEN {lead} THEN {_deals('r.lead_id')} ELSE 0 END AS lead_deals,\n"
        f"       CASE WHEN {lead} THEN {_deals('r.lead_id', won=True)} ELSE 0 END AS lead_deals_won,\n"
        f"       CASE WHEN r.kind = 'winloss' AND {_asked('d.lead_id')} THEN 1 ELSE 0 END AS lead_asked"
    )
    head, sep, tail = sql.partition("\nFROM feedback_request r")
    assert sep, sql
    return f"{head}{extra}{sep}{tail}"


def _recount_deals(lead: str) -> str:
    """The disposition facts of lead ``lead`` get its deal counts (only rows that change)."""
    return (
        f"UPDATE report_fact SET lead_deals = {_deals(lead)}, lead_deals_won = {_deals(lead, won=True)}\n"
        f"    WHERE kind = 'disposition' AND lead_id = {lead}\n"
        f"      AND (lead_deals <> {_deals(lead)} OR lead_deals_won <> {_deals(lead, won=True)})"
    )


def _reask(lead: str) -> str:
    """The winloss facts whose deal's lead is ``lead`` get whether it was asked about."""
    asked = f"CASE WHEN {_asked(lead)} THEN 1 ELSE 0 END"
    return (
        f"UPDATE report_fact SET lead_asked = {asked}\n"
        f"    WHERE kind = 'winloss' AND deal_lead_id = {lead} AND lead_asked <> {asked}"
    )


# table -> (what the trigger does per lead, columns whose change matters, a row that counts)
FUNNEL_WATCH = {
    "deal": (_recount_deals, ["lead_id", "result"], "{side}.lead_id IS NOT NULL"),
    "feedback_request": (
        _reask,
        ["kind", "lead_id"],
        "{side}.kind = 'disposition' AND {side}.lead_id IS NOT NULL",
    ),
}


def _funnel_triggers(dialect: str) -> list[str]:
    """Triggers on ``deal`` and on disposition requests: the funnel columns of the other
    requests they change, under 0022's guard."""
    m22 = _revision("0022_cheaper_facts.py")
    out = []
    for table, (action, watched, counts) in FUNNEL_WATCH.items():
        name = f"report_fact_funnel_on_{table}"
        old, new = counts.format(side="OLD"), counts.format(side="NEW")
        if dialect == "postgresql":
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
            guard = m22.PG_GUARD
            out.append(f"""
CREATE FUNCTION {name}_lead(p_lead integer) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    {action("p_lead")};
END $$""")
            out.append(f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') AND {old} THEN
        PERFORM {name}_lead(OLD.lead_id);
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND {new} THEN
        PERFORM {name}_lead(NEW.lead_id);
    END IF;
    RETURN NULL;
END $$""")
            conds = {
                "insert": ("INSERT", f"{new} AND {guard}"),
                "delete": ("DELETE", f"{old} AND {guard}"),
                "update": (
                    f"UPDATE OF {', '.join(watched)}",
                    f"(({old}) OR ({new})) AND ({changed}) AND {guard}",
                ),
            }
            for event, (what, cond) in conds.items():
                out.append(
                    f"CREATE TRIGGER {name}_{event} AFTER {what} ON {table} "
                    f"FOR EACH ROW WHEN ({cond}) EXECUTE FUNCTION {name}()"
                )
        else:
            changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
            guard = m22.SQLITE_GUARD
            bodies = {
                "insert": ("INSERT", f"{new} AND {guard}", [action("NEW.lead_id")]),
                "delete": ("DELETE", f"{old} AND {guard}", [action("OLD.lead_id")]),
                "update": (
                    f"UPDATE OF {', '.join(watched)}",
                    f"(({old}) OR ({new})) AND ({changed}) AND {guard}",
                    # a side that does not count matches no fact (a null lead) or sets what
                    # the view reads anyway (the lead's requests are counted either way)
                    [action("OLD.lead_id"), action("NEW.lead_id")],
                ),
            }
            for event, (what, cond, stmts) in bodies.items():
                body = ";\n    ".join(stmts)
                out.append(
                    f"CREATE TRIGGER {name}_{event} AFTER {what} ON {table} "
                    f"FOR EACH ROW WHEN {cond}\nBEGIN\n    {body};\nEND"
                )
    return out


def _drop_funnel_triggers(dialect: str) -> None:
    pg = dialect == "postgresql"
    for table in FUNNEL_WATCH:
        name = f"report_fact_funnel_on_{table}"
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}_{event}" + (f" ON {table}" if pg else ""))
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
            op.execute(f"DROP FUNCTION IF EXISTS {name}_lead(integer)")


def _drop_sqlite_column_triggers() -> None:
    """The SQLite triggers that name the fact's columns: 0007's fact triggers and 0023's SLA ones."""
    m23 = _revision("0023_sla_facts.py")
    m23._drop_sqlite_fact_triggers()
    m23._drop_sla_triggers("sqlite")


def _column_triggers(dialect: str, new: bool) -> list[str]:
    """0023's fact triggers (PostgreSQL: ``report_fact_refresh``) and, on SQLite, its SLA
    triggers, with this revision's column list (``new``) or 0023's."""
    m23 = _sla_revision(new)
    stmts: list[str] = m23._fact_triggers(dialect, new=True)
    if dialect != "postgresql":
        stmts += m23._sla_triggers(dialect)
    return stmts


BACKFILL = [
    """
UPDATE report_fact SET lead_deals = x.deals, lead_deals_won = x.won
FROM (SELECT lead_id, count(*) AS deals, count(*) FILTER (WHERE result = 'won') AS won
      FROM deal WHERE lead_id IS NOT NULL GROUP BY lead_id) x
WHERE report_fact.kind = 'disposition' AND report_fact.lead_id = x.lead_id
""",
    """
UPDATE report_fact SET lead_asked = 1
WHERE kind = 'winloss'
  AND deal_lead_id IN (SELECT lead_id FROM feedback_request
                       WHERE kind = 'disposition' AND lead_id IS NOT NULL)
""",
]

UNASKED_INDEX = "ix_report_fact_unasked"
UNASKED = "kind = 'winloss' AND lead_asked = 0"
"""The partial index's rows: ``queries._outside`` writes this condition with literals to match it."""

ROLLUP_UPDATE = "report_fact_rollup_on_update"
"""0027's trigger adding a fact update's rollup deltas (the backfill changes no rollup key)."""


def _backfill(dialect: str) -> None:
    m23 = _revision("0023_sla_facts.py")
    m23._defer(dialect, True)
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE report_fact DISABLE TRIGGER {ROLLUP_UPDATE}")
    else:
        op.execute(f"DROP TRIGGER {ROLLUP_UPDATE}")
    for stmt in BACKFILL:
        op.execute(stmt)
    if dialect == "postgresql":
        op.execute(f"ALTER TABLE report_fact ENABLE TRIGGER {ROLLUP_UPDATE}")
    else:
        m27 = _revision("0027_report_rollup.py")
        (again,) = [s for s in m27._sqlite_triggers("report_fact") if f"TRIGGER {ROLLUP_UPDATE} " in s]
        op.execute(again)
    m23._defer(dialect, False)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect != "postgresql":
        _drop_sqlite_column_triggers()
    op.execute("DROP VIEW report_frame_v")
    for name in NEW_COLUMNS:
        op.add_column("report_fact", sa.Column(name, sa.Integer(), nullable=False, server_default="0"))
    op.execute(_view_sql(dialect))
    _backfill(dialect)
    for stmt in _column_triggers(dialect, new=True) + _funnel_triggers(dialect):
        op.execute(stmt)
    op.execute(f"CREATE INDEX {UNASKED_INDEX} ON report_fact (deal_lead_id) WHERE {UNASKED}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(f"DROP INDEX {UNASKED_INDEX}")
    _drop_funnel_triggers(dialect)
    if dialect != "postgresql":
        _drop_sqlite_column_triggers()
    op.execute("DROP VIEW report_frame_v")
    for name in NEW_COLUMNS:
        op.drop_column("report_fact", name)
    op.execute(_revision("0023_sla_facts.py")._view_sql(dialect))
    for stmt in _column_triggers(dialect, new=False):
        op.execute(stmt)
