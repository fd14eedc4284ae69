"""Follow-up that respects people: a rep's own time zone and absence; a request's admin note

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs: a batch (copy-and-move) on SQLite would drop the report triggers (0002)
    op.add_column("rep", sa.Column("timezone", sa.String(), nullable=True))
    op.add_column("rep", sa.Column("away_until", sa.DateTime(), nullable=True))
    op.add_column("feedback_request", sa.Column("note", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE feedback_request DROP COLUMN note")
    op.execute("ALTER TABLE rep DROP COLUMN away_until")
    op.execute("ALTER TABLE rep DROP COLUMN timezone")
