"""Fitted classifier models, versioned, one active (issue 17)

Revision ID: 0017_classifier_model
Revises: 0016
Create Date: 2026-12-06 22:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017_classifier_model"
down_revision = "0020_template_variants"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "classifier_model",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("corpus_count", sa.Integer(), nullable=False),
        sa.Column("correction_count", sa.Integer(), nullable=False),
        sa.Column("dev_figures", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("weights", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.String(), nullable=True),
    )
    op.create_index("ix_classifier_model_version", "classifier_model", ["version"], unique=True)
    op.create_index("ix_classifier_model_active", "classifier_model", ["active"])


def downgrade() -> None:
    op.drop_index("ix_classifier_model_active", table_name="classifier_model")
    op.drop_index("ix_classifier_model_version", table_name="classifier_model")
    op.drop_table("classifier_model")
