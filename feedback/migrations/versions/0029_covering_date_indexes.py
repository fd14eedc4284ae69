"""Covering date indexes: each date's index carries what ``trends`` counts and the hours to answer

``trends`` grouped every fact by week (or month): a scan of the whole of ``report_fact``
(about 1 GB at a million answers, gathered into the leader and hashed there: 0.8-1.0 s) for its
counts, and a sort of every answered fact's hours by period for its medians (0.6-1.0 s). A
period in the report's zone is a range of its date, so ``feedback/reports/periods.py`` reads each
period from its own range of that date's index instead. The four date indexes become covering
(PostgreSQL ``INCLUDE``): besides the date they carry the kind, status, outcome, CRM result,
response, send time and hours, everything the trends' counts and medians read, so each period
is an index-only range scan of its few thousand entries (at a million answers 0.4 s for the
counts of 109 weeks and 0.2 s for their medians, where the grouped forms took 0.8-1.0 and
0.6-1.0 s).

They replace the plain date indexes of the same names (same key, so every range filter still
uses them; ``at`` 87 -> about 100 MB at a million answers). The cost: an update that changes
only one of the carried columns (a status, an outcome) can no longer be a heap-only update.
PostgreSQL only: SQLite has no ``INCLUDE``, and its grouped trends are within target at 100,000.

Revision ID: 0029_covering_date_indexes
Revises: 0028_funnel_facts
Create Date: 2026-12-07 17:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0029_covering_date_indexes"
down_revision = "0028_funnel_facts"
branch_labels = None
depends_on = None

DATES = ("at", "answered_at", "created_at", "closed_at")
"""The four dates a report may be dated by (``reports.sql.DATE_COLUMNS``)."""

CARRIED = ("kind", "status", "outcome", "deal_result", "response_id", "sent_at", "hours")
"""What ``reports.periods`` reads of each fact in a period's range (``reports.periods.CARRIED``)."""


def _indexes(*, covering: bool) -> None:
    for date in DATES:
        op.execute(f"DROP INDEX IF EXISTS ix_report_fact_{date}")
        include = f" INCLUDE ({', '.join(CARRIED)})" if covering else ""
        op.execute(f"CREATE INDEX ix_report_fact_{date} ON report_fact ({date}){include}")


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _indexes(covering=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _indexes(covering=False)
