"""SLA figures: each answer's time in business hours (request_sla); when a rep was deactivated

Revision ID: 0019_followup_sla
Revises: 0016
Create Date: 2026-12-06 22:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0019_followup_sla"
down_revision = "0017_classifier_model"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_sla",
        sa.Column("request_id", sa.Integer(), sa.ForeignKey("feedback_request.id"), primary_key=True),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("timezone", sa.String(), nullable=False),
        sa.Column("business_hours", sa.Float(), nullable=False),
        sa.Column("computed_at", sa.DateTime(), nullable=False),
    )
    # plain ADD COLUMN: a batch (copy-and-move) on SQLite would drop the report triggers (0002)
    op.add_column("rep", sa.Column("deactivated_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE rep DROP COLUMN deactivated_at")
    op.drop_table("request_sla")
