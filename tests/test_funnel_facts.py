"""The facts carry what the funnel joined for (migration 0028), through every write, on both backends.

A disposition fact's ``lead_deals`` / ``lead_deals_won`` are its lead's CRM deals and those won,
a winloss fact's ``lead_asked`` whether its deal's lead has a disposition request. Both change
with writes to *other* rows (a deal, another request), so the triggers that follow them are
checked here write by write; ``assert_exact`` compares every fact with the view each time.
"""

from __future__ import annotations

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from feedback.storage import fact_upkeep
from feedback.storage.db import downgrade, make_engine, upgrade
from feedback.storage.models import Deal, FeedbackRequest
from tests.test_report_fact import T0, add_rows, fact_of, seed_parents


def _deals(engine: Engine, request_id: int) -> tuple[int, int]:
    row = fact_of(engine, request_id)
    return row["lead_deals"], row["lead_deals_won"]


def _asked(engine: Engine, request_id: int) -> int:
    return int(fact_of(engine, request_id)["lead_asked"])


def _write(engine: Engine, sql: str, **params: object) -> None:
    with engine.begin() as conn:
        conn.execute(text(sql), params)


def test_deal_writes_recount_the_leads_deals(engine: Engine) -> None:
    ids = seed_parents(engine)  # d1 (open) from l1
    q1, q2, w1 = add_rows(
        engine,
        FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0),
        FeedbackRequest(kind="disposition", lead_id=ids["l2"], rep_id=ids["r2"], created_at=T0),
        FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0),
    )
    assert _deals(engine, q1) == (1, 0) and _deals(engine, q2) == (0, 0)
    assert _deals(engine, w1) == (0, 0)  # only disposition facts count deals
    # a deal inserted after the request, won
    (d2,) = add_rows(engine, Deal(crm_id="D-2", result="won", lead_id=ids["l1"], rep_id=ids["r1"]))
    assert _deals(engine, q1) == (2, 1)
    # its result changed
    _write(engine, "UPDATE deal SET result = 'lost' WHERE id = :d", d=d2)
    assert _deals(engine, q1) == (2, 0)
    _write(engine, "UPDATE deal SET result = 'won' WHERE id = :d", d=ids["d1"])
    assert _deals(engine, q1) == (2, 1)
    # its lead changed: both leads recounted
    _write(engine, "UPDATE deal SET lead_id = :l WHERE id = :d", l=ids["l2"], d=ids["d1"])
    assert _deals(engine, q1) == (1, 0) and _deals(engine, q2) == (1, 1)
    _write(engine, "UPDATE deal SET lead_id = NULL WHERE id = :d", d=d2)
    assert _deals(engine, q1) == (0, 0)
    _write(engine, "UPDATE deal SET lead_id = :l WHERE id = :d", l=ids["l1"], d=d2)
    assert _deals(engine, q1) == (1, 0)
    # a write that changes neither lead nor result changes nothing
    _write(engine, "UPDATE deal SET name = 'renamed', amount = 5 WHERE id = :d", d=d2)
    assert _deals(engine, q1) == (1, 0)
    # deleted
    _write(engine, "DELETE FROM deal WHERE id = :d", d=d2)
    assert _deals(engine, q1) == (0, 0) and _deals(engine, q2) == (1, 1)


def test_disposition_request_writes_mark_the_deals_asked(engine: Engine) -> None:
    ids = seed_parents(engine)
    (d2,) = add_rows(engine, Deal(crm_id="D-2", result="lost", rep_id=ids["r1"]))  # no lead
    w1, w2 = add_rows(
        engine,
        FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0),
        FeedbackRequest(kind="winloss", deal_id=d2, rep_id=ids["r2"], created_at=T0),
    )
    assert _asked(engine, w1) == 0 and _asked(engine, w2) == 0
    # a disposition request created after the deal and its winloss request
    (q1,) = add_rows(
        engine, FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0)
    )
    assert _asked(engine, w1) == 1 and _asked(engine, q1) == 0
    assert _deals(engine, q1) == (1, 0)  # and its own fact counts the deals there already
    # its lead changed, then its kind
    _write(engine, "UPDATE feedback_request SET lead_id = :l WHERE id = :q", l=ids["l2"], q=q1)
    assert _asked(engine, w1) == 0
    _write(engine, "UPDATE feedback_request SET lead_id = :l WHERE id = :q", l=ids["l1"], q=q1)
    assert _asked(engine, w1) == 1
    _write(engine, "UPDATE feedback_request SET status = 'answered' WHERE id = :q", q=q1)
    assert _asked(engine, w1) == 1
    # the deal moved to another lead, and back (its winloss fact is recomputed from the view)
    _write(engine, "UPDATE deal SET lead_id = :l WHERE id = :d", l=ids["l2"], d=ids["d1"])
    assert _asked(engine, w1) == 0
    _write(engine, "UPDATE deal SET lead_id = :l WHERE id = :d", l=ids["l1"], d=ids["d1"])
    assert _asked(engine, w1) == 1
    # deleted
    _write(engine, "DELETE FROM feedback_request WHERE id = :q", q=q1)
    assert _asked(engine, w1) == 0 and _asked(engine, w2) == 0


def test_deferred_writes_leave_the_funnel_facts_to_refresh(engine: Engine) -> None:
    """Under 0022's deferral the new triggers skip too; ``fact_upkeep.refresh`` recomputes the
    requests it is given from the view, funnel columns included."""
    ids = seed_parents(engine)
    q1, w1 = add_rows(
        engine,
        FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0),
        FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0),
    )
    with engine.begin() as conn:
        fact_upkeep.defer(conn)
        conn.execute(text("UPDATE deal SET result = 'won' WHERE id = :d"), {"d": ids["d1"]})
        conn.execute(text("DELETE FROM feedback_request WHERE id = :q"), {"q": q1})
        stale = conn.execute(text("SELECT lead_asked FROM report_fact WHERE request_id = :w"), {"w": w1})
        assert stale.scalar_one() == 1  # deferred: the trigger skipped the delete
        fact_upkeep.refresh(conn, [q1, w1])
    assert _asked(engine, w1) == 0
    (q2,) = add_rows(
        engine, FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0)
    )
    assert _deals(engine, q2) == (1, 1) and _asked(engine, w1) == 1  # followed again after the deferral


def test_migration_0028_backfills_and_downgrades(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0027_report_rollup")
        ids = seed_parents(engine)
        add_rows(engine, Deal(crm_id="D-2", result="won", lead_id=ids["l1"], rep_id=ids["r1"]))
        q1, q2, w1 = add_rows(
            engine,
            FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], created_at=T0),
            FeedbackRequest(kind="disposition", lead_id=ids["l2"], rep_id=ids["r2"], created_at=T0),
            FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], created_at=T0),
        )
        with engine.connect() as conn:
            rollup_rows = conn.execute(text("SELECT count(*) FROM report_rollup")).scalar_one()
        upgrade(engine)
        assert _deals(engine, q1) == (2, 1) and _deals(engine, q2) == (0, 0) and _asked(engine, w1) == 1
        with engine.connect() as conn:  # the backfill added no rollup rows (it changes no key)
            assert conn.execute(text("SELECT count(*) FROM report_rollup")).scalar_one() == rollup_rows
        downgrade(engine, "0027_report_rollup")
        assert "lead_deals" not in {c["name"] for c in inspect(engine).get_columns("report_fact")}
        with engine.begin() as conn:  # 0023's triggers are back with their columns, and work
            conn.execute(text("UPDATE lead SET campaign = 'x'"))
            conn.execute(text("DELETE FROM feedback_request WHERE id = :q"), {"q": q1})
        upgrade(engine)
        assert fact_of(engine, q2)["campaign"] == "x" and _asked(engine, w1) == 0
    finally:
        engine.dispose()
