"""Each rep's signature as learned from their replies (issue 16 item 5)

Revision ID: 0021
Revises: 0016
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rep_signature",
        sa.Column("rep_id", sa.Integer(), sa.ForeignKey("rep.id"), primary_key=True),
        sa.Column("lines", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("samples", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("messages", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rep_signature")
