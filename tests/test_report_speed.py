"""Migration 0024's indexes and statistics serve the SQL the reports write, and change no figure.

An expression index or a statistics object helps only while the query writes the very expression
it was made on; these tests fail when a report's filter or the answer state is written another way.
The figures themselves are checked by tests/test_reports_figures.py (filters included) and
tests/test_report_filters.py; here the rep and campaign filters are compared with the same
filters applied in Python to the facts.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine

from feedback.reports import Filters
from feedback.reports.queries import answer_state
from feedback.reports.sql import FACT, REASON_FACT, select_frame
from feedback.storage.db import downgrade, upgrade
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response
from tests.test_report_fact import add_rows

T0 = datetime(2026, 3, 2, 9, 0)


def _seed(engine: Engine, leads: int = 60) -> None:
    reps = add_rows(
        engine,
        Rep(email="Ann@Example.com", name="Ann", team="East", crm_id="U1"),
        Rep(email="bob@example.com", name="Bob", team=None, crm_id=None),
        Rep(email="cy@example.com", name="", team="West", crm_id="u3"),
    )
    for i in range(leads):
        rep = reps[i % 3]
        (lead,) = add_rows(
            engine,
            Lead(
                crm_id=f"L{i}",
                name=f"Lead {i}",
                campaign=["Webinar", "webinar", "Ebook", None][i % 4],
                source="ppc",
                rep_id=rep,
                created_at=T0 + timedelta(hours=i),
                assigned_at=T0 + timedelta(hours=i),
            ),
        )
        (req,) = add_rows(
            engine,
            FeedbackRequest(
                kind="disposition",
                lead_id=lead,
                rep_id=rep,
                status=["answered", "sent", "review", "clarifying"][i % 4],
                created_at=T0 + timedelta(hours=i),
                sent_at=T0 + timedelta(hours=i),
            ),
        )
        if i % 4 != 1:
            add_rows(
                engine,
                Response(
                    request_id=req,
                    kind="disposition",
                    outcome=["accepted", "rejected", None][i % 3],
                    reply_text=f"reply {i}",
                    is_current=True,
                    source="reply",
                    created_at=T0 + timedelta(hours=i, minutes=30),
                ),
            )
    add_rows(
        engine,
        Deal(crm_id="D1", name="D1", amount=100.0, currency="usd", result="won", rep_id=reps[0]),
    )


def _plan(engine: Engine, query: Any) -> str:
    """The plan of ``query`` as one string (SQLite: EXPLAIN QUERY PLAN; PostgreSQL: EXPLAIN)."""
    with engine.connect() as conn:
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if engine.dialect.name == "postgresql":
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")  # a tiny table: force the choice
            found = conn.exec_driver_sql(f"EXPLAIN {sql}")
            return "\n".join(r[0] for r in found)
        return "\n".join(str(r[-1]) for r in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))


def _estimated_rows(engine: Engine, query: Any) -> int:
    """PostgreSQL's estimate of the rows ``query`` returns, after a fresh ANALYZE of the facts."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE report_fact")
    plan = _plan(engine, query)
    return int(re.findall(r"rows=(\d+)", plan.splitlines()[0])[0])


def test_filters_read_the_expression_indexes(engine: Engine) -> None:
    _seed(engine)
    for table, prefix in ((FACT, "ix_report_fact_lower_"), (REASON_FACT, "ix_report_reason_fact_lower_")):
        by_campaign = select_frame(Filters(campaigns=("WEBINAR",)), columns=["kind"], table=table)
        assert f"{prefix}campaign" in _plan(engine, by_campaign)
        by_rep = _plan(engine, select_frame(Filters(reps=("U1",)), columns=["kind"], table=table))
        for side in ("rep_email", "rep_name", "rep_crm_id"):
            assert f"{prefix}{side}" in by_rep, by_rep


def test_campaign_and_rep_filters_keep_their_rows(engine: Engine) -> None:
    """The rows a filter keeps are those whose value matches case-insensitively, a missing CRM id
    matching nothing but the empty name; computed here in Python from the unfiltered facts."""
    _seed(engine)
    with engine.connect() as conn:
        every = [dict(r._mapping) for r in conn.execute(select_frame(Filters(), columns=None))]
        assert len(every) == 60

        def kept(filters: Filters) -> list[int]:
            query = select_frame(filters, columns=["request_id"])
            return sorted(int(r.request_id) for r in conn.execute(query))

        def rep_named(row: dict[str, Any], names: set[str]) -> bool:
            sides = (row["rep_email"], row.get("rep_name"), row.get("rep_crm_id") or "")
            return any((s or "").lower() in names for s in sides if s is not None)

        with_names = {
            r["request_id"]: r
            for r in (
                dict(x._mapping)
                for x in conn.execute(select(FACT.c.request_id, FACT.c.rep_name, FACT.c.rep_crm_id))
            )
        }
        for row in every:
            row.update(with_names[row["request_id"]])
        for names in (("webinar",), ("EBOOK", "none")):
            lowered = {n.lower() for n in names}
            want = sorted(r["request_id"] for r in every if (r["campaign"] or "\0").lower() in lowered)
            assert kept(Filters(campaigns=names)) == want, names
        for reps in (("ann@example.com",), ("u3",), ("",), ("bob",)):
            want = sorted(r["request_id"] for r in every if rep_named(r, {v.lower() for v in reps}))
            assert kept(Filters(reps=reps)) == want, reps
            assert want or reps == ("",)


def test_answer_state_statistics_match_the_reports(engine: Engine) -> None:
    """PostgreSQL: the planner knows the answer state has a handful of values (0024's statistics
    on the very expression ``queries.answer_state`` writes); unknown, it would count one group per
    response, as at a million answers where that kept the aggregate off the parallel workers."""
    if engine.dialect.name != "postgresql":
        return
    _seed(engine, leads=200)
    state = answer_state(FACT.c.status, FACT.c.response_id, FACT.c.outcome)
    query = select(state, func.count()).group_by(state)
    assert _estimated_rows(engine, query) <= 5, _plan(engine, query)
    with engine.connect() as conn:
        states = {r[0] for r in conn.execute(query)}
    assert states == {"answered", "no_outcome", "review", "clarifying", "unanswered"}


def test_migration_downgrades(engine: Engine) -> None:
    _seed(engine, leads=8)
    downgrade(engine, "0023_sla_facts")
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            names = conn.execute(text("SELECT indexname FROM pg_indexes WHERE tablename LIKE 'report%'"))
        else:
            names = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'index'"))
        assert not [n for (n,) in names if "_lower_" in n]
    upgrade(engine)
