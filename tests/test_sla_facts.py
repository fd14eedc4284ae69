"""The facts carry each request's SLA inputs (migration 0023) through every write, on both backends.

``report_fact.business_hours`` is the request's ``request_sla`` hours while that row is fresh (its
start and answer equal the fact's), ``reminders`` and ``escalations`` its reminder and escalation
mails: the responsiveness report reads them from the fact instead of joining at run time, so
they must follow every write of either table, and the backfill must give what the join gave.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session

from feedback.runtime.settings import Settings
from feedback.services.sla_facts import refresh_sla
from feedback.storage.db import downgrade, make_engine, upgrade
from feedback.storage.models import FeedbackRequest, Lead, RequestSla, Response
from tests.test_report_fact import T0, add_rows, fact_of, seed_parents

SLA = RequestSla.__table__  # type: ignore[attr-defined]
REQ = FeedbackRequest.__table__  # type: ignore[attr-defined]


def _sla_row(conn: Connection, qid: int, start: datetime, answer: datetime, hours: float) -> None:
    """A ``request_sla`` row, through its table so dates are stored as every writer stores them."""
    conn.execute(
        SLA.insert().values(
            request_id=qid, started_at=start, answered_at=answer, timezone="UTC", business_hours=hours
        )
    )


MAIL_INSERT = text(
    "INSERT INTO outbound_mail (purpose, to_addr, subject, message_id, request_id, sent_at)"
    " VALUES (:p, 'rep@example.com', 's', :m, :r, :at)"
)


def _answered(engine: Engine, ids: dict[str, int]) -> int:
    """A lead request answered two hours after its send (the lead has no assignment date, so the
    SLA clock starts at the lead's creation)."""
    qid, _ = add_rows(
        engine,
        FeedbackRequest(
            kind="disposition",
            lead_id=ids["l1"],
            rep_id=ids["r1"],
            created_at=T0,
            sent_at=T0,
            status="answered",
            answered_at=T0 + timedelta(hours=2),
        ),
        FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0, sent_at=T0),
    )
    add_rows(engine, Response(request_id=qid, kind="disposition", outcome="accepted", created_at=T0))
    return qid


def _sla(engine: Engine, qid: int) -> tuple[Any, int, int]:
    row = fact_of(engine, qid)  # also checks the facts equal their views
    return row["business_hours"], row["reminders"], row["escalations"]


def _start(engine: Engine, qid: int) -> datetime:
    """The SLA clock's start: the lead's creation (it has no assignment date)."""
    with Session(engine) as s:
        req = s.get(FeedbackRequest, qid)
        lead = s.get(Lead, req.lead_id) if req else None
        assert lead is not None
        return lead.created_at


def test_fact_follows_request_sla_and_followup_mails(engine: Engine, settings: Settings) -> None:
    ids = seed_parents(engine)
    qid = _answered(engine, ids)
    assert _sla(engine, qid) == (None, 0, 0)
    start, answer = _start(engine, qid), T0 + timedelta(hours=2)

    # a fresh row counts; a stale one (another answer time) does not; each change follows
    with engine.begin() as conn:
        _sla_row(conn, qid, start, answer, 1.5)
    assert _sla(engine, qid) == (1.5, 0, 0)
    with engine.begin() as conn:
        conn.execute(text("UPDATE request_sla SET business_hours = 2.5"))
    assert _sla(engine, qid)[0] == 2.5
    with engine.begin() as conn:
        conn.execute(SLA.update().values(answered_at=answer + timedelta(hours=1)))
    assert _sla(engine, qid)[0] is None
    with engine.begin() as conn:
        conn.execute(SLA.update().values(answered_at=answer))
    assert _sla(engine, qid)[0] == 2.5
    # the answer moves (a later first reply): the row is stale until the next refresh
    with engine.begin() as conn:
        conn.execute(REQ.update().where(REQ.c.id == qid).values(answered_at=answer + timedelta(hours=3)))
    assert _sla(engine, qid)[0] is None
    assert refresh_sla(engine, settings) == 1  # deferred writes, facts recomputed set-based
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT business_hours FROM request_sla")).scalar_one()
    assert stored is not None and _sla(engine, qid)[0] == stored
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM request_sla"))
    assert _sla(engine, qid)[0] is None

    # reminders and escalations count; other mails do not
    with engine.begin() as conn:
        for i, purpose in enumerate(["request", "reminder", "reminder", "escalation", "ack", "reminder"]):
            conn.execute(MAIL_INSERT, {"p": purpose, "m": f"<m{i}@t>", "r": qid, "at": T0})
        conn.execute(MAIL_INSERT, {"p": "reminder", "m": "<none@t>", "r": None, "at": T0})
    assert _sla(engine, qid) == (None, 3, 1)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbound_mail SET purpose = 'escalation' WHERE message_id = '<m1@t>'"))
        conn.execute(text("UPDATE outbound_mail SET purpose = 'reminder' WHERE message_id = '<m4@t>'"))
    assert _sla(engine, qid) == (None, 3, 2)
    with engine.begin() as conn:
        conn.execute(text("UPDATE outbound_mail SET request_id = NULL WHERE message_id = '<m5@t>'"))
        conn.execute(text("DELETE FROM outbound_mail WHERE message_id = '<m3@t>'"))
        conn.execute(text("UPDATE outbound_mail SET request_id = :r WHERE request_id IS NULL"), {"r": qid})
    assert _sla(engine, qid) == (None, 4, 1)


def test_migration_0023_backfills_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0022_cheaper_facts")
        ids = seed_parents(engine)
        qid = _answered(engine, ids)
        start, answer = _start(engine, qid), T0 + timedelta(hours=2)
        with engine.begin() as conn:
            _sla_row(conn, qid, start, answer, 1.5)
            for i, purpose in enumerate(["reminder", "reminder", "escalation", "request"]):
                conn.execute(MAIL_INSERT, {"p": purpose, "m": f"<m{i}@t>", "r": qid, "at": T0})
        upgrade(engine)
        assert _sla(engine, qid) == (1.5, 2, 1)
        downgrade(engine, "0022_cheaper_facts")
        assert "business_hours" not in {c["name"] for c in inspect(engine).get_columns("report_fact")}
        with engine.begin() as conn:  # 0007's triggers are back with their columns, and work
            conn.execute(text("UPDATE lead SET campaign = 'x'"))
            conn.execute(MAIL_INSERT, {"p": "reminder", "m": "<late@t>", "r": qid, "at": T0})
            fact = conn.execute(text("SELECT campaign FROM report_fact WHERE request_id = :id"), {"id": qid})
            assert fact.scalar_one() == "x"
        upgrade(engine)
        assert _sla(engine, qid) == (1.5, 3, 1)
        assert fact_of(engine, qid)["campaign"] == "x"
    finally:
        engine.dispose()
