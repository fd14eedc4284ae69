"""Responsiveness in two scans (issue 20 item 4) gives every figure its definition gives.

``build._sla_parts`` counts the frame once per rep and team and once per campaign and source
(``sla.distribution``: the flags counted, not grouped by) and reads the responsiveness table's
answer counts from the first. Here random fact rows go into a scratch table shaped like
``report_fact`` (no triggers: any combination of status, answer, business hours, reminders and
mails, nulls included) and each figure is recomputed in Python from its definition
(docs/reports.md, "Follow-up SLA"; ``queries.answer_state``; ``queries.overdue``), on SQLite and
PostgreSQL. Migration 0026's statistics are checked to match the expressions the reports write.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import (
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine
from test_reports_figures import BACKENDS
from test_reports_trust import _engine

from feedback.reports import Filters, sla
from feedback.reports import queries as q
from feedback.reports.build import _sla_parts, make_context, responsiveness
from feedback.reports.sql import FACT
from feedback.runtime.settings import load_settings
from feedback.storage import rollup_upkeep
from feedback.storage.db import downgrade, upgrade
from tests.test_report_speed import _estimated_rows, _plan, _seed

NOW = datetime(2026, 3, 1, 12, 0)
BEFORE = NOW - timedelta(hours=48)
SETTINGS = load_settings({}, timezone="UTC", reminder_after_hours=48.0, sla_business_hours=16.0)

SAMPLE = Table(
    "sla_sample",
    MetaData(),
    *[
        Column(name, kind)
        for name, kind in (
            ("rep", String),
            ("team", String),
            ("campaign", String),
            ("source", String),
            ("status", String),
            ("response_id", Integer),
            ("outcome", String),
            ("sent_at", DateTime),
            ("business_hours", Float),
            ("reminders", Integer),
            ("escalations", Integer),
        )
    ],
)
"""The columns of ``report_fact`` the SLA parts read, in a table of their own."""

STATUSES = ["sent", "answered", "review", "clarifying", "escalated", "expired", "cancelled"]


def _row() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries(
        {
            "rep": st.sampled_from(["Ann", "Bob", None]),
            "team": st.sampled_from(["East", None]),
            "campaign": st.sampled_from(["Webinar", "Ebook", None]),
            "source": st.sampled_from(["ppc", None]),
            "status": st.sampled_from(STATUSES),
            "response_id": st.sampled_from([None, 1]),
            "outcome": st.sampled_from([None, "accepted", "rejected"]),
            "sent_at": st.sampled_from([None, BEFORE - timedelta(hours=1), BEFORE + timedelta(hours=1)]),
            "business_hours": st.one_of(st.none(), st.integers(0, 300).map(lambda t: t / 10)),
            "reminders": st.integers(0, 3),
            "escalations": st.integers(0, 2),
        }
    )


@pytest.fixture(scope="module", params=BACKENDS)
def sample_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    for engine in _engine(request.param, tmp_path_factory):
        SAMPLE.create(engine)
        yield engine


# the definitions, in Python --------------------------------------------------------------------


def _answered(r: dict[str, Any]) -> bool:
    return r["status"] not in q.NOT_YET and r["response_id"] is not None and r["outcome"] is not None


def _state(r: dict[str, Any]) -> str:
    if r["status"] in q.NOT_YET:
        return str(r["status"])
    if r["response_id"] is None:
        return "unanswered"
    return "no_outcome" if r["outcome"] is None else q.ANSWERED


def _median(values: list[float]) -> float | None:
    return float(statistics.median(values)) if values else None


def _p90(values: list[float]) -> float | None:
    return float(sorted(values)[math.ceil(0.9 * len(values)) - 1]) if values else None


def _figures(rows: list[dict[str, Any]], sla_hours: float) -> dict[str, Any]:
    answered = [r for r in rows if _answered(r)]
    bh = [r["business_hours"] for r in answered if r["business_hours"] is not None]
    reminders = [float(r["reminders"]) for r in answered]
    return {
        "sent": sum(r["sent_at"] is not None for r in rows),
        "answered": len(answered),
        "within": sum(v <= sla_hours for v in bh),
        "timed": len(bh),
        "escalated": sum(r["escalations"] > 0 for r in rows),
        "expired": sum(r["status"] == "expired" for r in rows),
        "bh": (_median(bh), _p90(bh)),
        "r": (_median(reminders), _p90(reminders)),
    }


def _volumes(rows: list[dict[str, Any]]) -> dict[str, int]:
    waiting = ("sent", "clarifying", "escalated")
    out = {
        "requests": len(rows),
        "sent": sum(r["sent_at"] is not None for r in rows),
        "answered": sum(_state(r) == q.ANSWERED for r in rows),
        "overdue": sum(
            r["status"] in waiting and r["sent_at"] is not None and r["sent_at"] < BEFORE for r in rows
        ),
    }
    return out | {f"n_{s}": sum(_state(r) == s for r in rows) for s in sla.OTHER_STATES}


def _by(rows: list[dict[str, Any]], keys: list[str]) -> dict[tuple[Any, ...], list[dict[str, Any]]]:
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in rows:
        groups.setdefault(tuple(r[k] for k in keys), []).append(r)
    return groups


# the test --------------------------------------------------------------------------------------


def _got_figures(got: dict[str, list[dict[str, Any]]], name: str, key: list[str]) -> dict[Any, Any]:
    qh = {tuple(r[k] for k in key): r for r in got[f"q_{name}"]}
    qr = {tuple(r[k] for k in key): r for r in got[f"r_{name}"]}
    out = {}
    for n in got["all" if name == "all" else f"n_{name}"]:
        k = tuple(n[c] for c in key)
        h, m = qh.get(k), qr.get(k)
        out[k] = {
            **{c: int(n[c]) for c in ("sent", "answered", "within", "timed", "escalated", "expired")},
            "bh": (h["median"], h["p90"]) if h else (None, None),
            "r": (m["median"], m["p90"]) if m else (None, None),
        }
    return out


def _rounded(value: Any) -> Any:
    """Figures compared to 9 decimals: SQL and Python may add two middle values in either order."""
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return tuple(_rounded(v) for v in value)
    return round(value, 9) if isinstance(value, float) else value


def _answered_row(campaign: str | None, hours: float) -> dict[str, Any]:
    return {"rep": "Ann", "team": "East", "campaign": campaign, "source": "ppc", "status": "answered",
            "response_id": 1, "outcome": "accepted", "sent_at": BEFORE, "business_hours": hours,
            "reminders": 0, "escalations": 0}  # fmt: skip


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(_row(), max_size=40))
@example(  # an empty key beside a null one: two groups, each its own quantiles (quantiles_by_hour)
    rows=[_answered_row("", 1.5), _answered_row("", 2.5), _answered_row(None, 1.2), _answered_row(None, 2.7)]
)
def test_two_scans_give_every_figure_its_definition(
    sample_engine: Engine, rows: list[dict[str, Any]]
) -> None:
    with sample_engine.begin() as conn:
        conn.execute(SAMPLE.delete())
        if rows:
            conn.execute(insert(SAMPLE), rows)
    f = select(SAMPLE).cte("f")
    ctx = make_context(sample_engine, SETTINGS, Filters(), NOW)
    with sample_engine.connect() as conn:
        got = q.run_parts(conn, _sla_parts(ctx, f, before=BEFORE, use_rollup=False))
    sla_hours = SETTINGS.sla_business_hours

    def want(keys: list[str]) -> dict[Any, Any]:
        groups = _by(rows, keys) if keys else {(): rows}
        return _rounded({k: _figures(v, sla_hours) for k, v in groups.items()})

    assert _rounded(_got_figures(got, "all", [])) == want([])
    for name in ("rep", "team", "campaign", "source"):
        assert _rounded(_got_figures(got, name, [name])) == want([name]), name
    for name, keys in (("rep", ["rep", "team"]), ("team", ["team"])):
        found = got[f"vol_{name}"]
        vol = {tuple(r[k] for k in keys): {c: int(r[c]) for c in _volumes([])} for r in found}
        assert vol == {k: _volumes(v) for k, v in _by(rows, keys).items()}, name
        requests = [int(r["requests"]) for r in found]
        assert requests == sorted(requests, reverse=True)  # the most requests first
    edges = sla.bucket_edges(sla_hours)
    timed = [r["business_hours"] for r in rows if _answered(r) and r["business_hours"] is not None]

    def bucket(v: float) -> int:
        return next((i for i, e in enumerate(edges) if v <= e), len(edges))

    want_hist: dict[int, int] = {}
    for v in timed:
        want_hist[bucket(v)] = want_hist.get(bucket(v), 0) + 1
    assert {int(r["bucket"]): int(r["answers"]) for r in got["hist"]} == want_hist


# migration 0030: the SLA rollup ---------------------------------------------------------------

ROLLED = (
    "report_sla_rollup_rep", "report_sla_rollup_cs", "report_hours_rollup_rep", "report_hours_rollup_cs",
)  # fmt: skip
"""The rollups the all-time responsiveness reads (0030's, and 0031's for its medians)."""


def _fact_row(i: int, r: dict[str, Any]) -> dict[str, Any]:
    sent = r["sent_at"]
    return {
        **r,
        "request_id": i + 1,
        "at": sent or NOW - timedelta(days=3),
        "hours": None if r["business_hours"] is None else r["business_hours"] * 1.5,
    }


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    old=st.lists(_row().map(lambda r: {**r, "kind": "disposition"}), max_size=10),
    rows=st.lists(
        st.tuples(_row(), st.sampled_from(["disposition", "winloss"]), st.integers(0, 9)).map(
            # now and then no status (the facts allow it): not answered, though its state says so
            lambda t: {**t[0], "kind": t[1], "status": None if t[2] == 0 else t[0]["status"]}
        ),
        max_size=40,
    ),
    merge=st.sampled_from(["never", "between", "after"]),
    kind=st.sampled_from([None, "disposition", "winloss"]),
)
@example(  # an answer with no status: its answer state says answered, the SLA figures do not
    old=[],
    rows=[
        {"rep": "Ann", "team": "East", "campaign": "Webinar", "source": "ppc", "status": None,
         "response_id": 1, "outcome": "accepted", "sent_at": BEFORE, "business_hours": 2.5,
         "reminders": 1, "escalations": 0, "kind": "disposition"},
    ],
    merge="never",
    kind=None,
)
@example(  # hours no clock gives (huge, infinite): written like any other, each in the outermost hour
    old=[],
    rows=[
        {**_answered_row("Webinar", bh), "rep": rep, "kind": "disposition"}
        for rep, bh in [("Ann", 2.5), ("Ann", 1e19), ("Ann", math.inf),
                        ("Bob", -2e19), ("Bob", -math.inf), ("Bob", 1.0)]
    ],
    merge="after",
    kind=None,
)  # fmt: skip
def test_the_sla_rollup_gives_the_figures_the_facts_give(
    engine: Engine, old: list[dict[str, Any]], rows: list[dict[str, Any]], merge: str, kind: str | None
) -> None:
    """Facts written straight into ``report_fact`` (the rollup's triggers follow it, whoever
    writes), some deleted and replaced, the deltas merged or not: the all-time responsiveness
    read through 0030's rollups equals the same report read from the facts alone, and each SLA
    figure its definition (in a transaction rolled back, so the suite's recompute check at
    teardown sees the database as it was)."""
    with engine.connect() as conn:
        trans = conn.begin()
        try:
            conn.execute(FACT.delete())
            if old:
                conn.execute(insert(FACT), [_fact_row(1000 + i, r) for i, r in enumerate(old)])
            if merge == "between":
                for table in ROLLED:
                    rollup_upkeep._merge(conn, table)
            conn.execute(FACT.delete())  # the old facts go: their deltas must cancel
            if rows:
                conn.execute(insert(FACT), [_fact_row(i, r) for i, r in enumerate(rows)])
            if merge == "after":
                for table in ROLLED:
                    rollup_upkeep._merge(conn, table)
            filters = Filters(kind=kind)
            rolled = responsiveness(conn, filters, SETTINGS, now=NOW)
            plain = responsiveness(conn, filters, SETTINGS, now=NOW, use_rollup=False)
            assert [(x.key, x.rows) for x in rolled.sections] == [(x.key, x.rows) for x in plain.sections]
            ctx = make_context(conn, SETTINGS, filters, NOW)
            got = q.run_parts(conn, _sla_parts(ctx, FACT.select().cte("unused"), before=BEFORE))
        finally:
            trans.rollback()
    if any(r["status"] is None for r in rows):
        return  # the definitions below read a status; the two paths were compared above
    mine = [r for r in rows if kind in (None, r["kind"])]
    sla_hours = SETTINGS.sla_business_hours
    for name in ("rep", "team", "campaign", "source"):
        want = {k: _figures(v, sla_hours) for k, v in _by(mine, [name]).items()}
        assert _rounded(_got_figures(got, name, [name])) == _rounded(want), name
    for name, keys in (("rep", ["rep", "team"]), ("team", ["team"])):
        vol = {tuple(r[k] for k in keys): {c: int(r[c]) for c in _volumes([])} for r in got[f"vol_{name}"]}
        assert vol == {k: _volumes(v) for k, v in _by(mine, keys).items()}, name


# migration 0026 -------------------------------------------------------------------------------


def test_sla_statistics_match_the_reports(engine: Engine) -> None:
    """PostgreSQL: the planner knows ``bh`` and ``r`` take a few values (0026's statistics on the
    very expressions ``sla.grouped_values`` writes); unknown, it reads ``response_id`` (unique)
    inside them and expects a group per request, as at a million answers, where that kept the
    aggregate off the parallel workers."""
    if engine.dialect.name != "postgresql":
        return
    _seed(engine, leads=200)
    bh, r = sla.grouped_values(FACT)
    query = select(FACT.c.source, bh, r, func.count()).group_by(FACT.c.source, bh, r)
    assert _estimated_rows(engine, query) <= 5, _plan(engine, query)
    with engine.connect() as conn:
        groups = conn.execute(query).all()
    assert 1 <= len(groups) <= 5


def test_migration_downgrades(engine: Engine) -> None:
    _seed(engine, leads=8)
    downgrade(engine, "0025_raw_bytes_table")
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            names = conn.execute(text("SELECT stxname FROM pg_statistic_ext")).scalars().all()
        assert "st_report_fact_sla_values" not in names
    upgrade(engine)
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            names = conn.execute(text("SELECT stxname FROM pg_statistic_ext")).scalars().all()
        assert "st_report_fact_sla_values" in names
