"""Raw message bytes in a table of their own: inbound_raw(message_id, raw)

SQLite rewrites a whole row to update any field of it. With the bytes in ``inbound_message``,
every attempt counted and every outcome stored made the worker copy them twice (48 MiB for a
24 MiB message); in ``inbound_raw`` no update of a message touches them. A purged (or erased)
message has no ``inbound_raw`` row, as it had ``raw IS NULL`` before. ``message_id`` is an
``INTEGER PRIMARY KEY``: SQLite's rowid, which its incremental blob I/O reads by.

Plain ``CREATE``/``INSERT ... SELECT``/``ALTER TABLE ... DROP COLUMN`` statements: a batch
(copy-and-move) of ``inbound_message`` on SQLite would drop the triggers and rebuild the table
other tables point at. The downgrade moves the bytes back into a ``raw`` column.

Revision ID: 0025_raw_bytes_table
Revises: 0024_report_speed
Create Date: 2026-12-07 07:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0025_raw_bytes_table"
down_revision = "0024_report_speed"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inbound_raw",
        sa.Column(
            "message_id",
            sa.Integer(),
            sa.ForeignKey("inbound_message.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
    )
    op.execute(
        "INSERT INTO inbound_raw (message_id, raw) SELECT id, raw FROM inbound_message WHERE raw IS NOT NULL"
    )
    op.execute("ALTER TABLE inbound_message DROP COLUMN raw")


def downgrade() -> None:
    op.add_column("inbound_message", sa.Column("raw", sa.LargeBinary(), nullable=True))
    op.execute(
        "UPDATE inbound_message SET raw = "
        "(SELECT r.raw FROM inbound_raw r WHERE r.message_id = inbound_message.id)"
    )
    op.drop_table("inbound_raw")
