"""report_fact: the report frame stored per feedback request, kept exact by triggers

Every report used to start from a four-table join (feedback_request ⋈ rep ⋈ current response ⋈
lead/deal). ``report_frame_v`` is that join (the only place its SQL is written, per dialect);
``report_fact`` holds its rows, and triggers on the five source tables recompute the affected
requests' rows (delete + insert from the view) on every write, whoever makes it.

``request_id`` is indexed but not unique: the fact is exactly the join's rows, even in the moment
between two statements where a request has two current responses.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

COLUMNS = [
    ("request_id", sa.Integer(), False),
    ("kind", sa.String(), True),
    ("status", sa.String(), True),
    ("sent_at", sa.DateTime(), True),
    ("at", sa.DateTime(), True),
    ("lead_id", sa.Integer(), True),
    ("deal_id", sa.Integer(), True),
    ("response_id", sa.Integer(), True),
    ("outcome", sa.String(), True),
    ("competitor", sa.String(), True),
    ("answered_at", sa.DateTime(), True),
    ("hours", sa.Float(), True),
    ("campaign", sa.String(), True),
    ("source", sa.String(), True),
    ("segment", sa.String(), True),
    ("crm_id", sa.String(), True),
    ("subject", sa.String(), True),
    ("rep_id", sa.Integer(), True),
    ("rep", sa.String(), True),
    ("rep_email", sa.String(), True),
    ("rep_name", sa.String(), True),
    ("rep_crm_id", sa.String(), True),
    ("team", sa.String(), True),
    ("deal_result", sa.String(), True),
    ("amount", sa.Float(), True),
    ("deal_lead_id", sa.Integer(), True),
]
COLS = ", ".join(name for name, _, _ in COLUMNS)
INDEXES = ["request_id", "at", "kind", "lead_id", "deal_id", "rep_id"]

# source table -> (columns whose change alters the frame, how to find the affected fact rows)
WATCH = {
    "feedback_request": (
        ["id", "kind", "status", "sent_at", "created_at", "answered_at", "lead_id", "deal_id", "rep_id"],
        "request_id",
    ),
    "response": (["id", "request_id", "is_current", "outcome", "competitor", "created_at"], "request_id"),
    "lead": (["id", "campaign", "source", "segment", "crm_id", "company", "name"], "lead_id"),
    "deal": (
        ["id", "campaign", "source", "segment", "crm_id", "name", "result", "amount", "lead_id"],
        "deal_id",
    ),
    "rep": (["id", "name", "email", "team", "crm_id"], "rep_id"),
}


def _view_sql(dialect: str) -> str:
    if dialect == "postgresql":
        current = "p.is_current"

        def hours(start: str, end: str) -> str:
            return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0)"

    else:
        current = "p.is_current = 1"

        def hours(start: str, end: str) -> str:
            return f"((julianday({end}) - julianday({start})) * 24.0)"

    answered_at = "coalesce(r.answered_at, p.created_at)"
    return f"""
CREATE VIEW report_frame_v AS
SELECT r.id AS request_id,
       r.kind AS kind,
       r.status AS status,
       r.sent_at AS sent_at,
       coalesce(r.sent_at, r.created_at) AS at,
       r.lead_id AS lead_id,
       r.deal_id AS deal_id,
       p.id AS response_id,
       p.outcome AS outcome,
       p.competitor AS competitor,
       CASE WHEN p.id IS NOT NULL THEN {answered_at} END AS answered_at,
       CASE WHEN p.id IS NOT NULL THEN {hours("r.sent_at", answered_at)} END AS hours,
       coalesce(l.campaign, d.campaign, '(none)') AS campaign,
       coalesce(l.source, d.source, '(none)') AS source,
       coalesce(l.segment, d.segment, '(none)') AS segment,
       coalesce(l.crm_id, d.crm_id) AS crm_id,
       coalesce(d.name, l.company, l.name) AS subject,
       e.id AS rep_id,
       coalesce(nullif(e.name, ''), e.email) AS rep,
       e.email AS rep_email,
       e.name AS rep_name,
       e.crm_id AS rep_crm_id,
       coalesce(e.team, '(none)') AS team,
       d.result AS deal_result,
       d.amount AS amount,
       d.lead_id AS deal_lead_id
FROM feedback_request r
JOIN rep e ON e.id = r.rep_id
LEFT OUTER JOIN response p ON p.request_id = r.id AND {current}
LEFT OUTER JOIN lead l ON l.id = r.lead_id
LEFT OUTER JOIN deal d ON d.id = r.deal_id
"""


def _pg_triggers() -> list[str]:
    out = [
        f"""
CREATE FUNCTION report_fact_refresh(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_fact WHERE request_id = ANY(ids);
    INSERT INTO report_fact ({COLS}) SELECT {COLS} FROM report_frame_v WHERE request_id = ANY(ids);
END $$"""
    ]
    for table, (watched, key) in WATCH.items():
        if table == "feedback_request":
            new_ids, old_ids = "ARRAY[NEW.id]", "ARRAY[OLD.id]"
        elif table == "response":
            new_ids, old_ids = "ARRAY[NEW.request_id]", "ARRAY[OLD.request_id]"
        else:  # a parent row: the requests pointing at it, found through the fact's own index
            old_ids = f"ARRAY(SELECT request_id FROM report_fact WHERE {key} = OLD.id)"
            new_ids = "'{}'::integer[]"  # its id never changes what points at it
        out.append(f"""
CREATE FUNCTION report_fact_on_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM report_fact_refresh({new_ids});
    ELSIF TG_OP = 'UPDATE' THEN
        PERFORM report_fact_refresh({old_ids} || {new_ids});
    ELSE
        PERFORM report_fact_refresh({old_ids});
    END IF;
    RETURN NULL;
END $$""")
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        events = ["insert", "delete"] if table in ("feedback_request", "response") else ["delete"]
        for event in events:
            out.append(
                f"CREATE TRIGGER report_fact_{table}_{event} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW EXECUTE FUNCTION report_fact_on_{table}()"
            )
        out.append(
            f"CREATE TRIGGER report_fact_{table}_update AFTER UPDATE OF {', '.join(watched)} ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION report_fact_on_{table}()"
        )
    return out


def _sqlite_triggers() -> list[str]:
    out = []

    def refresh(where: str) -> str:
        return (
            f"DELETE FROM report_fact WHERE {where};\n"
            f"    INSERT INTO report_fact ({COLS}) SELECT {COLS} FROM report_frame_v WHERE {where};"
        )

    for table, (watched, key) in WATCH.items():
        if table == "feedback_request":
            where = {"NEW": "request_id = NEW.id", "OLD": "request_id = OLD.id"}
        elif table == "response":
            where = {"NEW": "request_id = NEW.request_id", "OLD": "request_id = OLD.request_id"}
        else:  # the view's lead_id/deal_id/rep_id are the request's own, unchanged by this write
            where = {"NEW": f"{key} = NEW.id", "OLD": f"{key} = OLD.id"}
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
        bodies = {"update": (f"UPDATE OF {', '.join(watched)}", f"WHEN {changed}", ["OLD", "NEW"])}
        if table in ("feedback_request", "response"):
            bodies["insert"] = ("INSERT", "", ["NEW"])
        bodies["delete"] = ("DELETE", "", ["OLD"])
        for event, (what, when, sides) in bodies.items():
            stmts = "\n    ".join(refresh(where[side]) for side in sides)
            out.append(
                f"CREATE TRIGGER report_fact_{table}_{event} AFTER {what} ON {table} FOR EACH ROW {when}\n"
                f"BEGIN\n    {stmts}\nEND"
            )
    return out


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table("report_fact", *(sa.Column(n, t, nullable=null) for n, t, null in COLUMNS))
    op.execute(_view_sql(dialect))
    op.execute(f"INSERT INTO report_fact ({COLS}) SELECT {COLS} FROM report_frame_v")
    for col in INDEXES:
        op.create_index(f"ix_report_fact_{col}", "report_fact", [col])
    for stmt in _pg_triggers() if dialect == "postgresql" else _sqlite_triggers():
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in WATCH:
        for event in ("insert", "update", "delete"):
            suffix = f" ON {table}" if dialect == "postgresql" else ""
            op.execute(f"DROP TRIGGER IF EXISTS report_fact_{table}_{event}{suffix}")
    if dialect == "postgresql":
        for table in WATCH:
            op.execute(f"DROP FUNCTION IF EXISTS report_fact_on_{table}()")
        op.execute("DROP FUNCTION IF EXISTS report_fact_refresh(integer[])")
    op.execute("DROP VIEW IF EXISTS report_frame_v")
    op.drop_table("report_fact")
