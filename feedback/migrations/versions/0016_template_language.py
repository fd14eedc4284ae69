"""Templates per language, with a comment on each version; the version each mail was sent with

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs: existing overrides were English, the server default says so
    op.add_column(
        "template_override",
        sa.Column("language", sa.String(length=8), nullable=False, server_default="en"),
    )
    op.add_column("template_override", sa.Column("comment", sa.String(), nullable=True))
    op.add_column("outbound_mail", sa.Column("template_version", sa.String(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE outbound_mail DROP COLUMN template_version")
    op.execute("ALTER TABLE template_override DROP COLUMN comment")
    op.execute("ALTER TABLE template_override DROP COLUMN language")
