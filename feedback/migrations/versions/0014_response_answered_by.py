"""Record who gave an answer: the rep, one of their aliases, or their manager after escalation

Revision ID: 0014
Revises: 0007
Create Date: 2026-12-06 20:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a plain ADD COLUMN: a batch (copy-and-move) on SQLite would drop the report triggers (0002)
    op.add_column("response", sa.Column("answered_by", sa.String(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE response DROP COLUMN answered_by")
