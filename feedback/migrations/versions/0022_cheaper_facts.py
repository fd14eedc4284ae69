"""Cheaper facts: a transaction may defer the report triggers and recompute its requests' facts once

The row triggers of 0007 recompute a request's ``report_fact`` row from ``report_frame_v`` on
every write that changes it, and its ``report_reason_fact`` rows with it. The worker's batch
write changes each answered request twice (its update, then its response's insert) and adds its
reasons one row at a time, so the triggers were 58-81 % of the write (``bench/facts.py``).

Every trigger of 0007 now fires only while its transaction has not deferred the facts:

- SQLite: no row in ``report_fact_deferral`` (a row the deferring transaction inserts and deletes
  before it commits, so no other connection ever sees one; SQLite has one writer at a time);
- PostgreSQL: the transaction-local setting ``feedback.facts_deferred`` is not ``on``
  (``set_config(..., true)``: gone at commit or rollback).

``feedback/storage/fact_upkeep.py`` is the one module that defers: it then recomputes the
facts of the requests the transaction changed in four set-based statements before commit. Every
other write (review, erase, purge, imports, direct SQL) is followed by the triggers as before.
The trigger bodies and the PostgreSQL trigger functions are 0007's, unchanged.

Revision ID: 0022_cheaper_facts
Revises: 0019_followup_sla
Create Date: 2026-12-07 01:30:00
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import sqlalchemy as sa
from alembic import op

revision = "0022_cheaper_facts"
down_revision = "0019_followup_sla"
branch_labels = None
depends_on = None

SQLITE_GUARD = "NOT EXISTS (SELECT 1 FROM report_fact_deferral)"
PG_GUARD = "current_setting('feedback.facts_deferred', true) IS DISTINCT FROM 'on'"


def _revision(filename: str) -> ModuleType:
    path = Path(__file__).with_name(filename)
    spec = importlib.util.spec_from_file_location(f"_feedback_rev_{path.stem}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _triggers(dialect: str, guard: bool) -> list[str]:
    """0007's CREATE TRIGGER statements (PostgreSQL: its functions stay), with the guard or not."""
    base = _revision("0007_report_dates.py")
    if dialect == "postgresql":
        stmts = [s for s in base._pg_fact_triggers() + base._pg_reason_triggers() if "CREATE TRIGGER" in s]
        if guard:
            stmts = [_guard_pg(s) for s in stmts]
    else:
        stmts = base._sqlite_fact_triggers() + base._sqlite_reason_triggers()
        if guard:
            stmts = [_guard_sqlite(s) for s in stmts]
    return stmts


def _guard_pg(stmt: str) -> str:
    found = re.search(r"FOR EACH ROW WHEN \((.*)\) EXECUTE FUNCTION", stmt, re.S)
    if found:
        cond = f"({found.group(1)}) AND {PG_GUARD}"
        return stmt[: found.start()] + f"FOR EACH ROW WHEN ({cond}) EXECUTE FUNCTION" + stmt[found.end() :]
    assert "FOR EACH ROW EXECUTE FUNCTION" in stmt, stmt
    return stmt.replace("FOR EACH ROW EXECUTE FUNCTION", f"FOR EACH ROW WHEN ({PG_GUARD}) EXECUTE FUNCTION")


def _guard_sqlite(stmt: str) -> str:
    head, sep, body = stmt.partition("\nBEGIN")
    assert sep and "FOR EACH ROW" in head, stmt
    before, _, when = head.partition("FOR EACH ROW")
    when = when.strip()
    if when:
        assert when.startswith("WHEN "), stmt
        cond = f"({when[5:]}) AND {SQLITE_GUARD}"
    else:
        cond = SQLITE_GUARD
    return f"{before}FOR EACH ROW WHEN {cond}{sep}{body}"


def _drop_triggers(dialect: str) -> None:
    names = re.compile(r"CREATE TRIGGER (\S+) .*? ON (\S+) ", re.S)
    for stmt in _triggers(dialect, guard=False):
        found = names.search(stmt)
        assert found, stmt
        name, table = found.groups()
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql" else ""))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect != "postgresql":
        op.create_table("report_fact_deferral", sa.Column("id", sa.Integer(), primary_key=True))
    _drop_triggers(dialect)
    for stmt in _triggers(dialect, guard=True):
        op.execute(stmt)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    _drop_triggers(dialect)
    for stmt in _triggers(dialect, guard=False):
        op.execute(stmt)
    if dialect != "postgresql":
        op.drop_table("report_fact_deferral")
