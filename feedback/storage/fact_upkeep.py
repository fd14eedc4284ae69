"""The report facts of a bulk write, recomputed once per transaction instead of once per row.

``report_fact`` and ``report_reason_fact`` are kept equal to their views (``report_frame_v``,
``report_reason_frame_v``) by row triggers (migrations 0002-0007): every write, whatever its path,
leaves them exact. Row by row that is dear for a writer that changes many requests in one
transaction (the worker's batch: each answer updates its request, inserts its response and its
reasons, and each of these recomputed the request's facts).

A writer that knows which requests its transaction changes defers the facts: the triggers skip
its writes (migration 0022), and :func:`refresh` recomputes those requests' rows in four
set-based statements before the commit. This module is the only one that defers; it never
commits, so a rollback takes the deferral with it.

    with engine.begin() as conn:
        fact_upkeep.defer(conn)
        ... writes that change only the facts of ``request_ids`` ...
        fact_upkeep.refresh(conn, request_ids)   # ends the deferral

Every write between the two calls must change the facts of the requests given to ``refresh``
only (their own rows, their responses and reasons); a change to a lead, deal or rep reaches
other requests and must not be made while deferred, nor may a disposition request be inserted,
deleted or given another kind or lead (its lead's winloss facts carry ``lead_asked``: 0028).
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection

from feedback.reports.sql import FACT, REASON_FACT

_COLS = ", ".join(c.name for c in FACT.columns)
_REASON_COLS = ", ".join(c.name for c in REASON_FACT.columns)

_RECOMPUTE = [
    text("DELETE FROM report_reason_fact WHERE request_id IN :ids"),
    text("DELETE FROM report_fact WHERE request_id IN :ids"),
    text(f"INSERT INTO report_fact ({_COLS}) SELECT {_COLS} FROM report_frame_v WHERE request_id IN :ids"),
    text(
        f"INSERT INTO report_reason_fact ({_REASON_COLS}) "
        f"SELECT {_REASON_COLS} FROM report_reason_frame_v WHERE request_id IN :ids"
    ),
]
_RECOMPUTE = [s.bindparams(bindparam("ids", expanding=True)) for s in _RECOMPUTE]


def defer(conn: Connection) -> None:
    """From now until :func:`refresh` (or the end of the transaction), the report triggers skip
    this transaction's writes."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('feedback.facts_deferred', 'on', true)"))
    else:  # one writer at a time; the row is deleted before commit, so no one else sees it
        conn.execute(text("INSERT INTO report_fact_deferral DEFAULT VALUES"))


def refresh(conn: Connection, request_ids: Collection[int]) -> None:
    """Recompute the requests' facts from the views and end the deferral."""
    ids = sorted(set(request_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        for stmt in _RECOMPUTE:
            conn.execute(stmt, {"ids": chunk})
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('feedback.facts_deferred', 'off', true)"))
    else:
        conn.execute(text("DELETE FROM report_fact_deferral"))
