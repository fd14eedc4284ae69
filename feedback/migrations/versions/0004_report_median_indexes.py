"""Indexes that hand the medians their rows already sorted

A median is an ordered-set aggregate: PostgreSQL cannot hash it, so it sorts the frame by the
group key and then sorts each group's values again. With the values in an index ordered by
(kind, group, hours), an index-only scan yields them in order and both sorts cost nothing
(the summary's three medians at a million answers: about 1 s -> 0.3 s). The group keys are
indexed ``COLLATE "C"`` because the reports group text byte-wise (see ``reports.sql.bytewise``).

The low-cardinality ``kind`` index goes: these lead with ``kind``.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 02:10:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# name -> columns; a text group key is compared byte-wise
MEDIAN_INDEXES = {
    "ix_report_fact_hours": ["hours"],
    "ix_report_fact_kind_campaign_hours": ["kind", "campaign*", "hours"],
    "ix_report_fact_kind_source_hours": ["kind", "source*", "hours"],
}


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name, columns in MEDIAN_INDEXES.items():
        parts = [c.rstrip("*") + (' COLLATE "C"' if postgres and c.endswith("*") else "") for c in columns]
        op.execute(f"CREATE INDEX {name} ON report_fact ({', '.join(parts)})")
    op.drop_index("ix_report_fact_kind", "report_fact")


def downgrade() -> None:
    op.create_index("ix_report_fact_kind", "report_fact", ["kind"])
    for name in MEDIAN_INDEXES:
        op.drop_index(name, "report_fact")
