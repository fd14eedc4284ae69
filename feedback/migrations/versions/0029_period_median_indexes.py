"""Period median indexes: each date with the hours to answer, for the trends' medians per week or month

``trends`` took its median hours to answer per week (or month) by sorting every answered fact
by period (about 1 s of its 1.7-2.2 s at a million answers on PostgreSQL: a million hours sorted
by week, then again inside each week). With an index on each of the four dates carrying the hours
and the kind (PostgreSQL ``INCLUDE``; only the facts with hours), each period's median is an
index-only range scan of that period's few thousand entries and a sort of them: 0.2-0.25 s for
all 109 weeks in the same database (``feedback/reports/period_medians.py``).

PostgreSQL only: SQLite's window medians over 100,000 facts are within its target, and these
indexes would only add to its writes.

Revision ID: 0029_period_median_indexes
Revises: 0028_funnel_facts
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0029_period_median_indexes"
down_revision = "0028_funnel_facts"
branch_labels = None
depends_on = None

DATES = ("at", "answered_at", "created_at", "closed_at")
"""The four dates a report may be dated by (``reports.sql.DATE_COLUMNS``)."""


def index_name(date: str) -> str:
    return f"ix_report_fact_{date}_hours"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for date in DATES:
        op.execute(
            f"CREATE INDEX {index_name(date)} ON report_fact ({date}) INCLUDE (hours, kind) "
            "WHERE hours IS NOT NULL"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for date in DATES:
        op.execute(f"DROP INDEX IF EXISTS {index_name(date)}")
