"""Report speed: indexes for the campaign and rep filters; group-count statistics on PostgreSQL

Filters compare ``lower(column)`` with the lower-cased values asked for (``sql.select_frame``).
No index held those expressions, so a report for one campaign or one rep read all of
``report_fact`` (1 GB at a million answers) and of ``report_reason_fact`` once per part: the
summary for one campaign over six months took 1.6 s at a million answers, for one rep 1.6 s.
Expression indexes on ``lower(campaign)`` and on the three ways a rep is named (e-mail, name,
CRM id, the last as ``lower(coalesce(rep_crm_id, ''))``) on both fact tables let each part read
its slice (0.1-0.3 s). Source, team and segment (a handful of values each) are not selective
enough for an index to pay.

PostgreSQL only: statistics on the answer state (``queries.answer_state``, the same CASE
expression) and on the summary's grain. Without them the planner counts the groups of a
``grouped`` CTE as the product of its keys' distinct values, and the answer state reads
``response_id`` (unique), so it expected about a million groups (there are 13,275) and gathered
every row into one hash aggregate in the leader instead of aggregating in the workers. The
statistics change no result, only the plan (summary's grouped scan 1.0 -> 0.7 s); the expression
must read exactly as the reports write it (tests/test_report_speed.py checks the estimate).

Revision ID: 0024_report_speed
Revises: 0023_sla_facts
Create Date: 2026-12-07 07:15:00
"""

from __future__ import annotations

from alembic import op

revision = "0024_report_speed"
down_revision = "0023_sla_facts"
branch_labels = None
depends_on = None

FILTER_EXPRESSIONS = {
    "campaign": "lower(campaign)",
    "rep_email": "lower(rep_email)",
    "rep_name": "lower(rep_name)",
    "rep_crm_id": "lower(coalesce(rep_crm_id, ''))",
}
"""Index suffix -> the expression ``sql.select_frame`` filters on."""

TABLES = {"report_fact": "ix_report_fact_lower_", "report_reason_fact": "ix_report_reason_fact_lower_"}

ANSWER_STATE = (
    "(CASE WHEN (status = 'review') THEN 'review' WHEN (status = 'clarifying') THEN 'clarifying' "
    "WHEN (response_id IS NULL) THEN 'unanswered' WHEN (outcome IS NULL) THEN 'no_outcome' "
    "ELSE 'answered' END)"
)
"""``queries.answer_state`` over the fact's columns, as the reports render it."""

STATISTICS = {
    "st_report_fact_answer_state": f"ON {ANSWER_STATE} FROM report_fact",
    "st_report_fact_summary_grain": (
        "(ndistinct) ON kind, campaign, source, outcome, competitor, deal_result, currency FROM report_fact"
    ),
}
"""Name -> definition: the answer state's distinct values, and those of the summary's grain together."""


def upgrade() -> None:
    for table, prefix in TABLES.items():
        for suffix, expr in FILTER_EXPRESSIONS.items():
            op.execute(f"CREATE INDEX {prefix}{suffix} ON {table} ({expr})")
    if op.get_bind().dialect.name == "postgresql":
        for name, body in STATISTICS.items():
            op.execute(f"CREATE STATISTICS {name} {body}")
        op.execute("ANALYZE report_fact")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name in STATISTICS:
            op.execute(f"DROP STATISTICS {name}")
    for table, prefix in TABLES.items():
        for suffix in FILTER_EXPRESSIONS:
            op.drop_index(f"{prefix}{suffix}", table)
