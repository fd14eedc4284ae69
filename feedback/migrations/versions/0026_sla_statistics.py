"""SLA speed: PostgreSQL statistics on the values the SLA distributions are cut by

``sla.distribution`` counts the frame per grouping (rep and team, campaign, source) and per
``bh`` (business hours to answer of an answered request) and ``r`` (its reminders), two CASE
expressions. Without statistics the planner reads the columns inside them, ``response_id``
among them (unique), expects a group per request (1.2 M at a million answers; there are 10-210
thousand) and so gathers every row into one hash aggregate in the leader, once per grouping,
instead of aggregating in the parallel workers. Statistics on the very expressions the report
writes, and on their combinations with the grouping keys, give the planner the real counts.
They change no result, only the plan; the expressions must read exactly as ``sla.grouped_values``
writes them (tests/test_sla_speed.py checks the estimate). SQLite has no such statistics:
nothing to do there.

Revision ID: 0026_sla_statistics
Revises: 0025_raw_bytes_table
Create Date: 2026-12-07 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0026_sla_statistics"
down_revision = "0025_raw_bytes_table"
branch_labels = None
depends_on = None

ANSWERED = "(status NOT IN ('review', 'clarifying') AND response_id IS NOT NULL AND outcome IS NOT NULL)"
"""``sla.answered_here`` over the fact's columns, as the reports render it."""

VALUES = (f"(CASE WHEN {ANSWERED} THEN business_hours END)", f"(CASE WHEN {ANSWERED} THEN reminders END)")
"""``sla.grouped_values``: business hours to answer and reminders, of answered requests."""

STATISTICS = {"st_report_fact_sla_values": f"(ndistinct) ON rep, team, campaign, source, {', '.join(VALUES)}"}
"""Name -> definition: the values' distinct counts, alone and with each grouping key."""


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, body in STATISTICS.items():
            op.execute(f"CREATE STATISTICS {name} {body} FROM report_fact")
        op.execute("ANALYZE report_fact")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in STATISTICS:
            op.execute(f"DROP STATISTICS {name}")
