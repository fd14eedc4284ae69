"""Index feedback_request by lead and by deal

The report triggers (0002) recompute a lead's or deal's requests on every change to it; on SQLite
they find them with ``lead_id = ?`` / ``deal_id = ?`` on feedback_request, which the unique
(kind, lead_id) / (kind, deal_id) constraints cannot serve, so each changed lead scanned every
request (a CSV re-import touching 2,000 of 20,000 leads: 2.7 s). ``feedback send`` asks the same
question of every due lead and deal.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 02:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_feedback_request_lead_id", "feedback_request", ["lead_id"])
    op.create_index("ix_feedback_request_deal_id", "feedback_request", ["deal_id"])


def downgrade() -> None:
    op.drop_index("ix_feedback_request_deal_id", "feedback_request")
    op.drop_index("ix_feedback_request_lead_id", "feedback_request")
