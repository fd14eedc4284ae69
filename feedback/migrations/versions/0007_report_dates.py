"""Report dates: the facts carry the lead's creation and the deal's close besides send and answer

Reports could only date a request by its send (``at``), so two months of imported CRM history,
asked about in one ``feedback send``, were one point in ``trends``. The frame now also carries:

- ``created_at``: the lead's creation: its CRM created/assigned date (``lead.assigned_at``), else
  when it was first imported; for a deal, the creation of the lead it came from, else when the
  deal was first imported;
- ``closed_at``: the deal's CRM close date, at 12:00 UTC. The CRM gives a day without a time;
  its middle reads as the same calendar day in any reporting time zone within 12 hours of UTC
  (midnight UTC would be the day before anywhere west of Greenwich). Lead requests have none.

``answered_at`` was already there. ``report_reason_fact`` gains the three, so a reason report
filters by the same date without a join. Each date is indexed on both facts (a date range reads
its slice through the index, as ``at`` does); ``report_fact.deal_lead_id`` is indexed for the lead
trigger, which now also refreshes the deals opened from a changed lead.

The views and every trigger of 0002/0003 name the column lists, so they are dropped and made
again here (same names), and both facts are rebuilt from their views once.

The lists and view below are 0006's (currency, the reason fact's status) with these additions.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06 20:00:00
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

FACT_COLUMNS = [
    "request_id",
    "kind",
    "status",
    "sent_at",
    "at",
    "lead_id",
    "deal_id",
    "response_id",
    "outcome",
    "competitor",
    "answered_at",
    "hours",
    "campaign",
    "source",
    "segment",
    "crm_id",
    "subject",
    "rep_id",
    "rep",
    "rep_email",
    "rep_name",
    "rep_crm_id",
    "team",
    "deal_result",
    "amount",
    "deal_lead_id",
    "currency",
    "created_at",
    "closed_at",
]
NEW_FACT_COLUMNS = ["created_at", "closed_at"]
COLS = ", ".join(FACT_COLUMNS)
FACT_INDEXES = ["created_at", "closed_at", "answered_at", "deal_lead_id"]

# the reason fact: its own columns, then those copied from the request's fact row
REASON_OWN = ["reason_id", "rank", "code"]
REASON_FROM_FACT = [
    "request_id",
    "response_id",
    "kind",
    "at",
    "outcome",
    "competitor",
    "campaign",
    "source",
    "segment",
    "rep_id",
    "rep",
    "rep_email",
    "rep_name",
    "rep_crm_id",
    "team",
    "status",
    "answered_at",
    "created_at",
    "closed_at",
]
NEW_REASON_COLUMNS = ["answered_at", "created_at", "closed_at"]
REASON_COLS = ", ".join(REASON_OWN + REASON_FROM_FACT)
REASON_INDEXES = ["answered_at", "created_at", "closed_at"]

# source table -> (columns whose change alters the frame, the fact columns pointing at its row)
WATCH = {
    "feedback_request": (
        ["id", "kind", "status", "sent_at", "created_at", "answered_at", "lead_id", "deal_id", "rep_id"],
        ["request_id"],
    ),
    "response": (["id", "request_id", "is_current", "outcome", "competitor", "created_at"], ["request_id"]),
    "lead": (
        ["id", "campaign", "source", "segment", "crm_id", "company", "name", "assigned_at", "created_at"],
        ["lead_id", "deal_lead_id"],  # its own requests, and those about deals opened from it
    ),
    "deal": (
        [
            "id",
            "campaign",
            "source",
            "segment",
            "crm_id",
            "name",
            "result",
            "amount",
            "lead_id",
            "currency",
            "close_date",
            "created_at",
        ],
        ["deal_id"],
    ),
    "rep": (["id", "name", "email", "team", "crm_id"], ["rep_id"]),
}


def _view_sql(dialect: str) -> str:
    if dialect == "postgresql":
        current = "p.is_current"
        closed = "(d.close_date + time '12:00')"

        def hours(start: str, end: str) -> str:
            return f"(CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION) / 3600.0)"

    else:
        current = "p.is_current = 1"
        # the text SQLAlchemy stores a DateTime as, so bounds compare as they do on every column
        closed = "(strftime('%Y-%m-%d', d.close_date) || ' 12:00:00.000000')"

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
       nullif(upper(trim(d.currency)), '') AS currency,
       coalesce(l.assigned_at, l.created_at, dl.assigned_at, dl.created_at, d.created_at) AS created_at,
       {closed} AS closed_at
FROM feedback_request r
JOIN rep e ON e.id = r.rep_id
LEFT OUTER JOIN response p ON p.request_id = r.id AND {current}
LEFT OUTER JOIN lead l ON l.id = r.lead_id
LEFT OUTER JOIN deal d ON d.id = r.deal_id
LEFT OUTER JOIN lead dl ON dl.id = d.lead_id
"""


def _reason_select(fact: str, reason: str) -> str:
    """The reason fact's select list in ``REASON_COLS`` order."""
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


def _pg_fact_triggers() -> list[str]:
    out = [
        f"""
CREATE FUNCTION report_fact_refresh(ids integer[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM report_fact WHERE request_id = ANY(ids);
    INSERT INTO report_fact ({COLS}) SELECT {COLS} FROM report_frame_v WHERE request_id = ANY(ids);
END $$"""
    ]
    for table, (watched, keys) in WATCH.items():
        if table == "feedback_request":
            new_ids, old_ids = "ARRAY[NEW.id]", "ARRAY[OLD.id]"
        elif table == "response":
            new_ids, old_ids = "ARRAY[NEW.request_id]", "ARRAY[OLD.request_id]"
        else:  # a parent row: the requests pointing at it, found through the fact's own indexes
            where = " OR ".join(f"{key} = OLD.id" for key in keys)
            old_ids = f"ARRAY(SELECT request_id FROM report_fact WHERE {where})"
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

    for table, (watched, keys) in WATCH.items():
        # one refresh per pointing column: the sets are disjoint (a lead's own requests have no
        # deal_lead_id), and each equality finds its rows through an index where an OR would not
        if table == "feedback_request":
            wheres = {"NEW": ["request_id = NEW.id"], "OLD": ["request_id = OLD.id"]}
        elif table == "response":
            wheres = {"NEW": ["request_id = NEW.request_id"], "OLD": ["request_id = OLD.request_id"]}
        else:  # the view's lead_id/deal_id/rep_id are the request's own, unchanged by this write
            wheres = {side: [f"{key} = {side}.id" for key in keys] for side in ("NEW", "OLD")}
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
        bodies = {"update": (f"UPDATE OF {', '.join(watched)}", f"WHEN {changed}", ["OLD", "NEW"])}
        if table in ("feedback_request", "response"):
            bodies["insert"] = ("INSERT", "", ["NEW"])
        bodies["delete"] = ("DELETE", "", ["OLD"])
        for event, (what, when, sides) in bodies.items():
            stmts = "\n    ".join(refresh(where) for side in sides for where in wheres[side])
            out.append(
                f"CREATE TRIGGER report_fact_{table}_{event} AFTER {what} ON {table} FOR EACH ROW {when}\n"
                f"BEGIN\n    {stmts}\nEND"
            )
    return out


def _pg_reason_triggers() -> list[str]:
    out = []
    for table, events in REASON_TRIGGERS.items():
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


def _sqlite_reason_triggers() -> list[str]:
    out = []
    for table, events in REASON_TRIGGERS.items():
        for event, stmts in events.items():
            body = ";\n    ".join(stmts)
            out.append(
                f"CREATE TRIGGER report_reason_on_{table}_{event} AFTER {event.upper()} ON {table} "
                f"FOR EACH ROW\nBEGIN\n    {body};\nEND"
            )
    return out


def _drop_triggers_and_views(dialect: str) -> None:
    """Every trigger, trigger function and view of 0002/0003 (and of this revision: same names)."""
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
        for table in WATCH:
            op.execute(f"DROP FUNCTION IF EXISTS report_fact_on_{table}()")
        op.execute("DROP FUNCTION IF EXISTS report_fact_refresh(integer[])")
    op.execute("DROP VIEW IF EXISTS report_reason_frame_v")
    op.execute("DROP VIEW IF EXISTS report_frame_v")


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_triggers_and_views(dialect)
    for name in NEW_FACT_COLUMNS:
        op.add_column("report_fact", sa.Column(name, sa.DateTime(), nullable=True))
    for name in NEW_REASON_COLUMNS:
        op.add_column("report_reason_fact", sa.Column(name, sa.DateTime(), nullable=True))
    op.execute(_view_sql(dialect))
    op.execute(REASON_VIEW)
    # rebuilt once from the views, before any trigger exists to follow the writes
    op.execute("DELETE FROM report_reason_fact")
    op.execute("DELETE FROM report_fact")
    op.execute(f"INSERT INTO report_fact ({COLS}) SELECT {COLS} FROM report_frame_v")
    op.execute(
        f"INSERT INTO report_reason_fact ({REASON_COLS}) SELECT {REASON_COLS} FROM report_reason_frame_v"
    )
    for col in FACT_INDEXES:
        op.create_index(f"ix_report_fact_{col}", "report_fact", [col])
    for col in REASON_INDEXES:
        op.create_index(f"ix_report_reason_fact_{col}", "report_reason_fact", [col])
    if dialect == "postgresql":
        stmts = _pg_fact_triggers() + _pg_reason_triggers()
    else:
        stmts = _sqlite_fact_triggers() + _sqlite_reason_triggers()
    for stmt in stmts:
        op.execute(stmt)


def _revision(filename: str) -> ModuleType:
    """An earlier revision's module, to make its views and triggers again on downgrade."""
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"_feedback_rev_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_triggers_and_views(dialect)
    for col in REASON_INDEXES:
        op.drop_index(f"ix_report_reason_fact_{col}", "report_reason_fact")
    for col in FACT_INDEXES:
        op.drop_index(f"ix_report_fact_{col}", "report_fact")
    for name in NEW_REASON_COLUMNS:
        op.drop_column("report_reason_fact", name)
    for name in NEW_FACT_COLUMNS:
        op.drop_column("report_fact", name)
    before = _revision("0006_fact_currency_status.py")  # its views and triggers come back
    op.execute(before._view_sql(dialect))
    op.execute(before.REASON_VIEW)
    fact_triggers = before._pg_fact_triggers() if dialect == "postgresql" else before._sqlite_fact_triggers()
    for stmt in [*fact_triggers, *before._reason_triggers(dialect)]:
        op.execute(stmt)
