"""The report facts stay equal to their joins through every write path, on both backends.

report_fact equals report_frame_v (migration 0002's triggers recompute a request's row whenever
the request, its response, its lead or deal, or its rep changes); report_reason_fact equals
report_reason_frame_v (0003's triggers follow report_fact and response_reason). Rows here are
written through the ORM and as plain SQL.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, SQLModel, select

from feedback.reports.sql import FACT, REASON_FACT
from feedback.storage.db import downgrade, make_engine, upgrade
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response, ResponseReason

COLS = ", ".join(c.name for c in FACT.columns)
REASON_COLS = ", ".join(c.name for c in REASON_FACT.columns)
T0 = datetime(2026, 3, 2, 9, 0)


def _rows(conn: Connection, source: str, cols: str = COLS) -> list[tuple[Any, ...]]:
    found = [tuple(r) for r in conn.execute(text(f"SELECT {cols} FROM {source}"))]
    return sorted(found, key=repr)


def assert_exact(engine: Engine) -> list[dict[str, Any]]:
    """Both facts equal their views; returns the fact rows as dicts."""
    with engine.connect() as conn:
        fact, view = _rows(conn, "report_fact"), _rows(conn, "report_frame_v")
        assert fact == view
        reasons = _rows(conn, "report_reason_fact", REASON_COLS)
        assert reasons == _rows(conn, "report_reason_frame_v", REASON_COLS)
        return [dict(r._mapping) for r in conn.execute(text(f"SELECT {COLS} FROM report_fact"))]


def reasons_of(engine: Engine, request_id: int) -> list[tuple[int, str, str | None, str]]:
    """(rank, code, outcome, campaign) of the request's reason fact rows, checked against the view."""
    assert_exact(engine)
    with engine.connect() as conn:
        found = conn.execute(
            text(
                "SELECT rank, code, outcome, campaign FROM report_reason_fact"
                " WHERE request_id = :id ORDER BY rank, code"
            ),
            {"id": request_id},
        )
        return [tuple(r) for r in found]  # type: ignore[misc]


def fact_of(engine: Engine, request_id: int) -> dict[str, Any]:
    found = [r for r in assert_exact(engine) if r["request_id"] == request_id]
    assert len(found) == 1, found
    return found[0]


def add_rows(engine: Engine, *rows: SQLModel) -> list[int]:
    """Insert model rows with only the columns the database has now (a test may run on an older
    revision than the models describe), returning their ids."""
    ids: list[int] = []
    with engine.begin() as conn:
        for row in rows:
            table = type(row).__table__  # type: ignore[attr-defined]
            present = {c["name"] for c in inspect(conn).get_columns(table.name)}
            values = {k: v for k, v in row.model_dump().items() if k in present and k != "id"}
            ids.append(int(conn.execute(table.insert().values(**values).returning(table.c.id)).scalar_one()))
    return ids


def seed_parents(engine: Engine) -> dict[str, int]:
    r1, r2 = add_rows(
        engine,
        Rep(email="ann@example.com", name="Ann", team="East", crm_id="U1"),
        Rep(email="bob@example.com", name="", team=None),
    )
    l1, l2 = add_rows(
        engine,
        Lead(crm_id="L-1", name="Lena", company="Acme", campaign="Webinar", source="ppc", rep_id=r1),
        Lead(crm_id="L-2", name="Lou", campaign=None, source="event", rep_id=r2),
    )
    (d1,) = add_rows(
        engine, Deal(crm_id="D-1", name="Acme deal", amount=1000.0, result="open", lead_id=l1, rep_id=r2)
    )
    return {"r1": r1, "r2": r2, "l1": l1, "l2": l2, "d1": d1}


def test_fact_follows_every_write(engine: Engine) -> None:
    ids = seed_parents(engine)
    assert assert_exact(engine) == []

    # new requests (ORM), one never sent
    with Session(engine) as s:
        q1 = FeedbackRequest(
            kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0, sent_at=T0
        )
        q2 = FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0, sent_at=T0)
        q3 = FeedbackRequest(
            kind="disposition", lead_id=ids["l2"], rep_id=ids["r2"], status="skipped", created_at=T0
        )
        s.add_all([q1, q2, q3])
        s.commit()
        q1_id, q2_id, q3_id = q1.id or 0, q2.id or 0, q3.id or 0
    row = fact_of(engine, q1_id)
    assert (row["campaign"], row["source"], row["segment"], row["team"]) == (
        "Webinar",
        "ppc",
        "(none)",
        "East",
    )
    assert (row["response_id"], row["rep"], row["subject"], row["crm_id"]) == (None, "Ann", "Acme", "L-1")
    assert fact_of(engine, q2_id)["subject"] == "Acme deal"
    assert fact_of(engine, q2_id)["rep"] == "bob@example.com"
    assert fact_of(engine, q3_id)["sent_at"] is None and fact_of(engine, q3_id)["at"] is not None

    # an answer (plain SQL insert, as the test fixtures do) and the request's status
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO response (request_id, kind, outcome, competitor, reply_text, confidence,"
                " needs_review, is_current, source, created_at)"
                " VALUES (:r, 'disposition', 'accepted', NULL, 'ok', 0.9, :f, :t, 'reply', :at)"
            ),
            {"r": q1_id, "f": False, "t": True, "at": T0 + timedelta(hours=3)},
        )
        conn.execute(
            text("UPDATE feedback_request SET status = 'answered', answered_at = :at WHERE id = :id"),
            {"at": T0 + timedelta(hours=2), "id": q1_id},
        )
    row = fact_of(engine, q1_id)
    assert (row["outcome"], row["status"]) == ("accepted", "answered")
    assert row["response_id"] is not None and abs(row["hours"] - 2.0) < 1e-6

    # a replaced answer: the old one stops being current, the new one is (the ORM flush order)
    with Session(engine) as s:
        old = s.exec(select(Response).where(Response.request_id == q1_id)).one()
        old.is_current = False
        s.add(old)
        s.add(
            Response(
                request_id=q1_id,
                kind="disposition",
                outcome="rejected",
                competitor="Globex",
                source="review",
                created_at=T0 + timedelta(hours=5),
            )
        )
        s.commit()
        old_id = old.id
    row = fact_of(engine, q1_id)
    assert (row["outcome"], row["competitor"]) == ("rejected", "Globex") and row["response_id"] != old_id

    # a winloss answer, then CRM changes: lead campaign, deal result and amount, rep team and name
    with Session(engine) as s:
        s.add(Response(request_id=q2_id, kind="winloss", outcome="lost", created_at=T0 + timedelta(days=1)))
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE lead SET campaign = 'Ebook', segment = 'SMB' WHERE id = :id"), {"id": ids["l1"]}
        )
        conn.execute(text("UPDATE lead SET campaign = 'Webinar' WHERE id = :id"), {"id": ids["l2"]})
        conn.execute(
            text("UPDATE deal SET result = 'won', amount = 2500.5 WHERE id = :id"), {"id": ids["d1"]}
        )
    assert (fact_of(engine, q1_id)["campaign"], fact_of(engine, q1_id)["segment"]) == ("Ebook", "SMB")
    assert fact_of(engine, q3_id)["campaign"] == "Webinar"
    row = fact_of(engine, q2_id)
    assert (row["deal_result"], row["amount"], row["deal_lead_id"]) == ("won", 2500.5, ids["l1"])
    assert row["campaign"] == "(none)"  # the deal has no campaign of its own; the lead's is not its
    with Session(engine) as s:
        rep = s.get(Rep, ids["r2"])
        assert rep is not None
        rep.team, rep.name = "West", "Bob"
        s.add(rep)
        s.commit()
    assert {fact_of(engine, q)["team"] for q in (q2_id, q3_id)} == {"West"}
    assert fact_of(engine, q2_id)["rep"] == "Bob"
    assert fact_of(engine, q1_id)["team"] == "East"

    # a request moved to another rep; an unrelated column leaves the fact alone
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE feedback_request SET rep_id = :r WHERE id = :id"), {"r": ids["r1"], "id": q3_id}
        )
        conn.execute(text("UPDATE rep SET language = 'de'"))
    assert fact_of(engine, q3_id)["team"] == "East"

    # deletes: the current answer (the request is unanswered again), then the request
    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM response WHERE request_id = :id AND is_current = :t"), {"id": q1_id, "t": True}
        )
    assert fact_of(engine, q1_id)["response_id"] is None
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM response WHERE request_id = :id"), {"id": q1_id})
        conn.execute(text("DELETE FROM feedback_request WHERE id = :id"), {"id": q1_id})
    assert {r["request_id"] for r in assert_exact(engine)} == {q2_id, q3_id}


def test_reason_fact_follows_every_write(engine: Engine) -> None:
    ids = seed_parents(engine)
    with Session(engine) as s:
        req = FeedbackRequest(
            kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0, sent_at=T0
        )
        s.add(req)
        s.flush()
        first = Response(request_id=req.id or 0, kind="disposition", outcome="rejected", created_at=T0)
        s.add(first)
        s.flush()
        s.add_all(
            [
                ResponseReason(response_id=first.id or 0, rank=0, code="no_budget"),
                ResponseReason(response_id=first.id or 0, rank=1, code="bad_timing"),
            ]
        )
        s.commit()
        rid, first_id = req.id or 0, first.id or 0
    assert reasons_of(engine, rid) == [
        (0, "no_budget", "rejected", "Webinar"),
        (1, "bad_timing", "rejected", "Webinar"),
    ]

    # a reason edited and one removed (plain SQL, as a reviewer's correction writes them)
    with engine.begin() as conn:
        conn.execute(text("UPDATE response_reason SET code = 'no_need' WHERE rank = 1"))
    assert reasons_of(engine, rid)[1] == (1, "no_need", "rejected", "Webinar")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM response_reason WHERE rank = 0"))
    assert reasons_of(engine, rid) == [(1, "no_need", "rejected", "Webinar")]

    # the lead moves campaign, the answer's outcome changes: the reason rows follow the fact row
    with engine.begin() as conn:
        conn.execute(text("UPDATE lead SET campaign = 'Ebook' WHERE id = :id"), {"id": ids["l1"]})
        conn.execute(text("UPDATE response SET outcome = 'recycled' WHERE id = :id"), {"id": first_id})
    assert reasons_of(engine, rid) == [(1, "no_need", "recycled", "Ebook")]

    # a replacing answer: only the current answer's reasons count; a reason added to the old
    # answer afterwards is not reported either
    with Session(engine) as s:
        old = s.get(Response, first_id)
        assert old is not None
        old.is_current = False
        s.add(old)
        new = Response(request_id=rid, kind="disposition", outcome="accepted", created_at=T0)
        s.add(new)
        s.flush()
        s.add(ResponseReason(response_id=new.id or 0, rank=0, code="meeting_booked"))
        s.add(ResponseReason(response_id=first_id, rank=2, code="duplicate"))
        s.commit()
    assert reasons_of(engine, rid) == [(0, "meeting_booked", "accepted", "Ebook")]

    # the request goes: its answers' reason rows go with it
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM response_reason"))
        conn.execute(text("DELETE FROM response"))
        conn.execute(text("DELETE FROM feedback_request"))
    assert reasons_of(engine, rid) == []


def test_migration_backfills_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0001")
        ids = seed_parents(engine)
        qid, _ = add_rows(
            engine,
            FeedbackRequest(
                kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0, sent_at=T0
            ),
            FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0),
        )
        (answer,) = add_rows(
            engine, Response(request_id=qid, kind="disposition", outcome="accepted", created_at=T0)
        )
        add_rows(engine, ResponseReason(response_id=answer, rank=0, code="meeting_booked"))
        upgrade(engine)
        rows = assert_exact(engine)
        assert len(rows) == 2 and {r["outcome"] for r in rows} == {"accepted", None}
        assert reasons_of(engine, qid) == [(0, "meeting_booked", "accepted", "Webinar")]
        downgrade(engine, "0001")
        tables = inspect(engine).get_table_names()
        assert "report_fact" not in tables and "report_reason_fact" not in tables
        with engine.begin() as conn:  # no trigger is left behind to write a missing table
            conn.execute(text("UPDATE lead SET campaign = 'x'"))
            conn.execute(text("UPDATE response SET outcome = 'rejected'"))
            conn.execute(text("UPDATE response_reason SET code = 'no_need'"))
        upgrade(engine)
        assert reasons_of(engine, qid) == [(0, "no_need", "rejected", "x")]
        assert {r["campaign"] for r in assert_exact(engine)} == {"x", "(none)"}
    finally:
        engine.dispose()


def _fact_currency(engine: Engine, request_id: int) -> str | None:
    value = fact_of(engine, request_id)["currency"]
    return None if value is None else str(value)


def _reason_statuses(engine: Engine, request_id: int) -> set[str | None]:
    assert_exact(engine)
    with engine.connect() as conn:
        found = conn.execute(
            text("SELECT status FROM report_reason_fact WHERE request_id = :id"), {"id": request_id}
        )
        return {r[0] for r in found}


def test_fact_keeps_the_deal_currency_and_reasons_the_status(engine: Engine) -> None:
    """Amounts are reported per currency and reasons per answer state: both columns follow every
    write (ORM and plain SQL) like the rest of the fact."""
    ids = seed_parents(engine)
    with Session(engine) as s:
        lead_q = FeedbackRequest(
            kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0, sent_at=T0
        )
        deal_q = FeedbackRequest(
            kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0, sent_at=T0
        )
        s.add_all([lead_q, deal_q])
        s.commit()
        lead_id, deal_id = lead_q.id or 0, deal_q.id or 0
    assert _fact_currency(engine, deal_id) == "USD"  # the model's default
    assert _fact_currency(engine, lead_id) is None  # a lead has no amount
    with Session(engine) as s:  # ORM: lower case is the same currency
        deal = s.get(Deal, ids["d1"])
        assert deal is not None
        deal.currency = "eur"
        s.add(deal)
        s.commit()
    assert _fact_currency(engine, deal_id) == "EUR"
    with engine.begin() as conn:  # plain SQL, as a re-import writes
        conn.execute(text("UPDATE deal SET currency = ' gbp ' WHERE id = :id"), {"id": ids["d1"]})
    assert _fact_currency(engine, deal_id) == "GBP"
    with engine.begin() as conn:
        conn.execute(text("UPDATE deal SET currency = '' WHERE id = :id"), {"id": ids["d1"]})
    assert _fact_currency(engine, deal_id) is None

    # a new deal and its request
    with Session(engine) as s:
        d2 = Deal(crm_id="D-2", name="Other", amount=9500.0, currency="chf", result="lost", rep_id=ids["r1"])
        s.add(d2)
        s.flush()
        q = FeedbackRequest(kind="winloss", deal_id=d2.id, rep_id=ids["r1"], created_at=T0, sent_at=T0)
        s.add(q)
        s.commit()
        d2_q = q.id or 0
    assert _fact_currency(engine, d2_q) == "CHF"

    # the reason rows carry the request's status as it changes
    with Session(engine) as s:
        answer = Response(request_id=lead_id, kind="disposition", outcome="rejected", created_at=T0)
        s.add(answer)
        s.flush()
        s.add(ResponseReason(response_id=answer.id or 0, rank=0, code="no_budget"))
        req = s.get(FeedbackRequest, lead_id)
        assert req is not None
        req.status = "review"
        s.add(req)
        s.commit()
    assert _reason_statuses(engine, lead_id) == {"review"}
    with engine.begin() as conn:
        conn.execute(text("UPDATE feedback_request SET status = 'answered' WHERE id = :id"), {"id": lead_id})
    assert _reason_statuses(engine, lead_id) == {"answered"}


def test_migration_0006_backfills_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0005")
        ids = seed_parents(engine)
        _, qid = add_rows(
            engine,
            FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0),
            FeedbackRequest(
                kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0, status="clarifying"
            ),
        )
        (answer,) = add_rows(
            engine, Response(request_id=qid, kind="disposition", outcome="accepted", created_at=T0)
        )
        add_rows(engine, ResponseReason(response_id=answer, rank=0, code="meeting_booked"))
        with engine.begin() as conn:
            conn.execute(text("UPDATE deal SET currency = 'eur'"))
        upgrade(engine)
        rows = assert_exact(engine)
        assert {r["currency"] for r in rows} == {"EUR", None}
        assert _reason_statuses(engine, qid) == {"clarifying"}
        downgrade(engine, "0005")
        assert "currency" not in {c["name"] for c in inspect(engine).get_columns("report_fact")}
        with engine.begin() as conn:  # 0002's and 0003's triggers are back and work
            conn.execute(text("UPDATE lead SET campaign = 'x'"))
            fact = conn.execute(text("SELECT campaign FROM report_fact WHERE request_id = :id"), {"id": qid})
            assert fact.scalar_one() == "x"
            reason = conn.execute(
                text("SELECT campaign FROM report_reason_fact WHERE request_id = :id"), {"id": qid}
            )
            assert reason.scalar_one() == "x"
            conn.execute(text("UPDATE deal SET currency = 'usd'"))
        upgrade(engine)
        assert {r["currency"] for r in assert_exact(engine)} == {"USD", None}
    finally:
        engine.dispose()


def test_a_deferred_transaction_recomputes_its_facts_once(engine: Engine) -> None:
    """fact_upkeep.defer makes the triggers skip the transaction's writes (the facts are stale
    inside it), refresh recomputes the requests named and ends the deferral: later writes in the
    same transaction and in the next are followed by the triggers again; a rollback keeps none."""
    from feedback.storage import fact_upkeep

    ids = seed_parents(engine)
    q1, q2 = add_rows(
        engine,
        FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0, sent_at=T0),
        FeedbackRequest(kind="disposition", lead_id=ids["l2"], rep_id=ids["r2"], created_at=T0, sent_at=T0),
    )
    answer = (
        "INSERT INTO response (request_id, kind, outcome, competitor, reply_text, confidence,"
        " needs_review, is_current, source, created_at)"
        " VALUES (:r, 'disposition', :o, NULL, 'ok', 0.9, :f, :t, 'reply', :at) RETURNING id"
    )
    at = T0 + timedelta(hours=2)
    with engine.begin() as conn:
        fact_upkeep.defer(conn)
        conn.execute(text("UPDATE feedback_request SET status = 'answered', answered_at = :at"), {"at": at})
        rid = conn.execute(text(answer), {"r": q1, "o": "accepted", "f": False, "t": True, "at": at}).scalar()
        conn.execute(
            text("INSERT INTO response_reason (response_id, rank, code) VALUES (:r, 0, 'meeting_booked')"),
            {"r": rid},
        )
        stale = conn.execute(text("SELECT status, outcome FROM report_fact WHERE request_id = :q"), {"q": q1})
        assert stale.one() == ("sent", None)  # deferred: the triggers skipped these writes
        fact_upkeep.refresh(conn, [q1, q2])
        conn.execute(text("UPDATE response SET outcome = 'rejected' WHERE id = :r"), {"r": rid})
    assert fact_of(engine, q1)["outcome"] == "rejected"  # the trigger followed the write after refresh
    assert fact_of(engine, q2)["status"] == "answered"
    assert reasons_of(engine, q1) == [(0, "meeting_booked", "rejected", "Webinar")]
    try:
        with engine.begin() as conn:
            fact_upkeep.defer(conn)
            conn.execute(text("UPDATE feedback_request SET status = 'expired'"))
            raise RuntimeError("rolled back")
    except RuntimeError:
        pass
    with engine.begin() as conn:  # a plain write in a later transaction: the triggers follow it
        conn.execute(text("UPDATE feedback_request SET status = 'expired' WHERE id = :q"), {"q": q2})
    assert fact_of(engine, q2)["status"] == "expired" and fact_of(engine, q1)["status"] == "answered"
