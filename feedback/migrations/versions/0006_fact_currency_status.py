"""report_fact gains the deal's currency, report_reason_fact the request's status

Amounts are reported per currency (no figure adds two currencies), so the fact carries the deal's
currency, upper-cased (``eur`` and ``EUR`` are one currency). Reason reports count only usable
answers (an outcome, not in review or clarification: ``reports.queries.answer_state``), so the
reason fact carries the request's status.

Both views are recreated with the new column and every trigger of 0002 and 0003 with the new
column lists (their bodies name the columns); the deal trigger now also watches ``currency``.
The facts are rebuilt from the views once, with the triggers off. The SQL below is 0002's and
0003's with those additions: a later migration that recreates a view must keep these columns.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

FACT_COLUMNS = [
    "request_id", "kind", "status", "sent_at", "at", "lead_id", "deal_id", "response_id", "outcome",
    "competitor", "answered_at", "hours", "campaign", "source", "segment", "crm_id", "subject",
    "rep_id", "rep", "rep_email", "rep_name", "rep_crm_id", "team", "deal_result", "amount",
    "deal_lead_id", "currency",
]  # fmt: skip
COLS = ", ".join(FACT_COLUMNS)

# source table -> (columns whose change alters the frame, how to find the affected fact rows)
WATCH = {
    "feedback_request": (
        ["id", "kind", "status", "sent_at", "created_at", "answered_at", "lead_id", "deal_id", "rep_id"],
        "request_id",
    ),
    "response": (["id", "request_id", "is_current", "outcome", "competitor", "created_at"], "request_id"),
    "lead": (["id", "campaign", "source", "segment", "crm_id", "company", "name"], "lead_id"),
    "deal": (
        ["id", "campaign", "source", "segment", "crm_id", "name", "result", "amount", "lead_id", "currency"],
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
       d.lead_id AS deal_lead_id,
       nullif(upper(trim(d.currency)), '') AS currency
FROM feedback_request r
JOIN rep e ON e.id = r.rep_id
LEFT OUTER JOIN response p ON p.request_id = r.id AND {current}
LEFT OUTER JOIN lead l ON l.id = r.lead_id
LEFT OUTER JOIN deal d ON d.id = r.deal_id
"""


def _pg_fact_triggers() -> list[str]:
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


def _sqlite_fact_triggers() -> list[str]:
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


# report_reason_fact (0003 with ``status``) ------------------------------------------------------

REASON_OWN = ["reason_id", "rank", "code"]
REASON_FROM_FACT = [
    "request_id", "response_id", "kind", "at", "outcome", "competitor", "campaign", "source",
    "segment", "rep_id", "rep", "rep_email", "rep_name", "rep_crm_id", "team", "status",
]  # fmt: skip
REASON_COLS = ", ".join(REASON_OWN + REASON_FROM_FACT)


def _reason_select(fact: str, reason: str) -> str:
    """The select list in ``REASON_COLS`` order: fact columns from ``fact``, the rest from ``reason``."""
    return ", ".join(
        [f"{reason}.id AS reason_id", f"{reason}.rank", f"{reason}.code"]
        + [f"{fact}.{n}" for n in REASON_FROM_FACT]
    )


REASON_VIEW = f"""
CREATE VIEW report_reason_frame_v AS
SELECT {_reason_select("f", "rr")}
FROM report_fact f
JOIN response_reason rr ON rr.response_id = f.response_id
"""

ON_FACT = {
    "insert": [
        f"INSERT INTO report_reason_fact ({REASON_COLS}) SELECT {_reason_select('NEW', 'rr')} "
        "FROM response_reason rr WHERE rr.response_id = NEW.response_id"
    ],
    "delete": [
        "DELETE FROM report_reason_fact WHERE request_id = OLD.request_id AND response_id = OLD.response_id"
    ],
}
ON_FACT["update"] = ON_FACT["delete"] + ON_FACT["insert"]
ON_REASON = {
    "insert": [
        f"INSERT INTO report_reason_fact ({REASON_COLS}) SELECT {_reason_select('f', 'NEW')} "
        "FROM report_fact f WHERE f.response_id = NEW.response_id"
    ],
    "delete": ["DELETE FROM report_reason_fact WHERE reason_id = OLD.id"],
}
ON_REASON["update"] = ON_REASON["delete"] + ON_REASON["insert"]
REASON_TRIGGERS = {"report_fact": ON_FACT, "response_reason": ON_REASON}


def _reason_triggers(dialect: str) -> list[str]:
    out = []
    for table, events in REASON_TRIGGERS.items():
        for event, stmts in events.items():
            name = f"report_reason_on_{table}_{event}"
            body = ";\n    ".join(stmts)
            if dialect == "postgresql":
                out.append(
                    f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$\n"
                    f"BEGIN\n    {body};\n    RETURN NULL;\nEND $$"
                )
                out.append(
                    f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION {name}()"
                )
            else:
                out.append(
                    f"CREATE TRIGGER {name} AFTER {event.upper()} ON {table} "
                    f"FOR EACH ROW\nBEGIN\n    {body};\nEND"
                )
    return out


# up and down ----------------------------------------------------------------------------------


def _drop_all(dialect: str) -> None:
    """Every trigger, trigger function and view of 0002/0003 (or of this revision): same names."""
    pg = dialect == "postgresql"
    for table, events in REASON_TRIGGERS.items():
        for event in events:
            name = f"report_reason_on_{table}_{event}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if pg else ""))
            if pg:
                op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    for table in WATCH:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS report_fact_{table}_{event}" + (f" ON {table}" if pg else ""))
        if pg:
            op.execute(f"DROP FUNCTION IF EXISTS report_fact_on_{table}()")
    if pg:
        op.execute("DROP FUNCTION IF EXISTS report_fact_refresh(integer[])")
    op.execute("DROP VIEW IF EXISTS report_reason_frame_v")
    op.execute("DROP VIEW IF EXISTS report_frame_v")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_all(dialect)
    op.add_column("report_fact", sa.Column("currency", sa.String(), nullable=True))
    op.add_column("report_reason_fact", sa.Column("status", sa.String(), nullable=True))
    op.execute(_view_sql(dialect))
    op.execute(REASON_VIEW)
    # rebuild both facts from their views (no trigger is there to interfere)
    op.execute("DELETE FROM report_reason_fact")
    op.execute("DELETE FROM report_fact")
    op.execute(f"INSERT INTO report_fact ({COLS}) SELECT {COLS} FROM report_frame_v")
    op.execute(
        f"INSERT INTO report_reason_fact ({REASON_COLS}) SELECT {REASON_COLS} FROM report_reason_frame_v"
    )
    fact_triggers = _pg_fact_triggers() if dialect == "postgresql" else _sqlite_fact_triggers()
    for stmt in [*fact_triggers, *_reason_triggers(dialect)]:
        op.execute(stmt)


def _revision(filename: str) -> ModuleType:
    """An earlier revision's module, for its view and trigger SQL (restored on downgrade)."""
    spec = importlib.util.spec_from_file_location(
        f"_fb_rev_{filename[:4]}", Path(__file__).with_name(filename)
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_all(dialect)
    op.drop_column("report_reason_fact", "status")
    op.drop_column("report_fact", "currency")
    fact, reason = _revision("0002_report_fact.py"), _revision("0003_report_reason_fact.py")
    op.execute(fact._view_sql(dialect))
    op.execute(reason.VIEW)
    triggers = (
        [*fact._pg_triggers(), *reason._pg_triggers()]
        if dialect == "postgresql"
        else [*fact._sqlite_triggers(), *reason._sqlite_triggers()]
    )
    for stmt in triggers:
        op.execute(stmt)
