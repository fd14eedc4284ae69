"""A/B variants of a template (weights per version) and the template failures seen at send time

Revision ID: 0020_template_variants
Revises: 0016
Create Date: 2026-12-06 23:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020_template_variants"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "template_variant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.String(), nullable=True),
        sa.UniqueConstraint("name", "language", "version", name="uq_template_variant"),
    )
    op.create_index("ix_template_variant_name", "template_variant", ["name"])
    op.create_table(
        "template_failure",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("template", sa.String(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("version", sa.String(), nullable=False),
        sa.Column("sent_version", sa.String(), nullable=True),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=True),
    )
    op.create_index("ix_template_failure_at", "template_failure", ["at"])


def downgrade() -> None:
    op.drop_index("ix_template_failure_at", table_name="template_failure")
    op.drop_table("template_failure")
    op.drop_index("ix_template_variant_name", table_name="template_variant")
    op.drop_table("template_variant")
