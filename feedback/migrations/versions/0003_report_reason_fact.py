"""report_reason_fact: one row per reason of a current answer, with its request's report columns

Reason reports used to join ``report_fact`` to ``response_reason`` on every run (1.3 s of a 2.4 s
summary at a million answers). ``report_reason_frame_v`` is that join (its SQL is written only
here); ``report_reason_fact`` holds its rows, kept exact by triggers:

- on ``report_fact`` (its rows are only ever deleted and inserted by 0002's refresh): a new fact
  row brings its answer's reasons, a deleted one takes them away;
- on ``response_reason``: a reason written, changed or deleted is written to, or removed from,
  the fact rows of its answer (none if the answer is not current).

It carries only what reason reports filter and group by; ``report_fact`` gains an index on
``response_id`` for the reason triggers' lookups.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 01:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

REASON_COLUMNS = [
    ("reason_id", sa.Integer(), False),
    ("rank", sa.Integer(), False),
    ("code", sa.String(), False),
]
# copied from the request's report_fact row (the filters' and groupings' columns)
FACT_COLUMNS = [
    ("request_id", sa.Integer(), False),
    ("response_id", sa.Integer(), False),
    ("kind", sa.String(), True),
    ("at", sa.DateTime(), True),
    ("outcome", sa.String(), True),
    ("competitor", sa.String(), True),
    ("campaign", sa.String(), True),
    ("source", sa.String(), True),
    ("segment", sa.String(), True),
    ("rep_id", sa.Integer(), True),
    ("rep", sa.String(), True),
    ("rep_email", sa.String(), True),
    ("rep_name", sa.String(), True),
    ("rep_crm_id", sa.String(), True),
    ("team", sa.String(), True),
]
COLUMNS = REASON_COLUMNS + FACT_COLUMNS
COLS = ", ".join(name for name, _, _ in COLUMNS)
INDEXES = ["reason_id", "request_id", "at"]


def _select(fact: str, reason: str) -> str:
    """The select list in ``COLS`` order, fact columns from ``fact``, reason columns from ``reason``."""
    return ", ".join(
        [f"{reason}.id AS reason_id", f"{reason}.rank", f"{reason}.code"]
        + [f"{fact}.{n}" for n, _, _ in FACT_COLUMNS]
    )


VIEW = f"""
CREATE VIEW report_reason_frame_v AS
SELECT {_select("f", "rr")}
FROM report_fact f
JOIN response_reason rr ON rr.response_id = f.response_id
"""

# what each trigger does, as (event, statements) with NEW/OLD the changed row
ON_FACT = {
    "insert": [
        f"INSERT INTO report_reason_fact ({COLS}) SELECT {_select('NEW', 'rr')} "
        "FROM response_reason rr WHERE rr.response_id = NEW.response_id"
    ],
    "delete": [
        "DELETE FROM report_reason_fact WHERE request_id = OLD.request_id AND response_id = OLD.response_id"
    ],
}
ON_FACT["update"] = ON_FACT["delete"] + ON_FACT["insert"]
ON_REASON = {
    "insert": [
        f"INSERT INTO report_reason_fact ({COLS}) SELECT {_select('f', 'NEW')} "
        "FROM report_fact f WHERE f.response_id = NEW.response_id"
    ],
    "delete": ["DELETE FROM report_reason_fact WHERE reason_id = OLD.id"],
}
ON_REASON["update"] = ON_REASON["delete"] + ON_REASON["insert"]
TRIGGERS = {"report_fact": ON_FACT, "response_reason": ON_REASON}


def _pg_triggers() -> list[str]:
    out = []
    for table, events in TRIGGERS.items():
        for event, stmts in events.items():
            name = f"report_reason_on_{table}_{event}"
            body = ";\n    ".join(stmts)
            out.append(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                f"BEGIN\n    {body};\n    RETURN NULL;\nEND $$"
            )
            out.append(
                f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION {name}()"
            )
    return out


def _sqlite_triggers() -> list[str]:
    out = []
    for table, events in TRIGGERS.items():
        for event, stmts in events.items():
            body = ";\n    ".join(stmts)
            out.append(
                f"CREATE TRIGGER report_reason_on_{table}_{event} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW\nBEGIN\n    {body};\nEND"
            )
    return out


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_index("ix_report_fact_response_id", "report_fact", ["response_id"])
    op.create_table("report_reason_fact", *(sa.Column(n, t, nullable=null) for n, t, null in COLUMNS))
    op.execute(VIEW)
    op.execute(f"INSERT INTO report_reason_fact ({COLS}) SELECT {COLS} FROM report_reason_frame_v")
    for col in INDEXES:
        op.create_index(f"ix_report_reason_fact_{col}", "report_reason_fact", [col])
    for stmt in _pg_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table, events in TRIGGERS.items():
        for event in events:
            name = f"report_reason_on_{table}_{event}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql" else ""))
            if dialect == "postgresql":
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.execute("DROP VIEW IF EXISTS report_reason_frame_v")
    op.drop_table("report_reason_fact")
    op.drop_index("ix_report_fact_response_id", "report_fact")
