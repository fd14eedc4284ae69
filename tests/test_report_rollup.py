"""Every report read from the rollup (migration 0027) equals the same report from the facts alone.

On random requests spread over months (both kinds, every answer state, reasons, competitors,
amounts in two currencies, the four dates), then random writes the facts' triggers follow
(corrections: a new current answer; retirements: the current answer made not current; status
changes into review or clarification; reasons replaced; erasure of a request), with the rollup
merged or not, each report that reads it (summary, reasons alone and by campaign or rep,
win/loss alone and by source, competitors, and responsiveness, whose all-time figures 0030's
SLA rollups give) with ``use_rollup=True`` (whole months from the rollup, the edges
and medians as ``reports.rollup`` reads them) equals ``use_rollup=False`` (today's query over
the facts) for random filters: ``--since``/``--until`` at any instant (month starts among
them), each ``--date-by``, ``--kind``, and a campaign (which the rollup does not key: the facts
alone). Figures are compared exactly; amounts to 1e-9 (the rollup adds them in millionths, the
facts as floats in scan order). Both backends.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from test_reports_figures import BACKENDS
from test_reports_trust import _engine

from feedback.reports import (
    Filters,
    Money,
    Report,
    competitors,
    reasons,
    render_to_string,
    responsiveness,
    summary,
    trends,
    winloss,
)
from feedback.reports import rollup as rollup_reads
from feedback.runtime.settings import load_settings
from feedback.storage import rollup_upkeep
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response, ResponseReason

NOW = datetime(2026, 6, 1, 12, 0)
START = datetime(2025, 11, 20)  # the data spans about four months from here
SETTINGS = load_settings({}, timezone="UTC")
REASONS = ["price", "no_budget", "not_a_fit", "meeting_booked"]
READERS = (  # every report that reads the rollup, with the --by values it may take
    (summary, None),
    (reasons, None),
    (reasons, "campaign"),
    (reasons, "rep"),  # not keyed by the rollup: the facts on both sides
    (winloss, None),
    (winloss, "source"),
    (competitors, None),
    (responsiveness, None),  # all time: 0030's SLA rollups (else the facts on both sides)
)
OUTCOMES = {"disposition": ["accepted", "rejected", "recycled"], "winloss": ["won", "lost", "no_decision"]}


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from _engine(request.param, tmp_path_factory)


REQUEST = st.fixed_dictionaries(
    {
        "deal": st.booleans(),
        "campaign": st.sampled_from(["A", "B"]),
        "source": st.sampled_from(["x", None]),
        "state": st.sampled_from(["sent", "answered", "no_outcome", "review", "clarifying", "escalated"]),
        "outcome": st.integers(0, 2),
        "reasons": st.lists(st.sampled_from(REASONS), max_size=3, unique=True),
        "competitor": st.sampled_from([None, "Globex"]),
        "sent": st.integers(0, 120 * 24 * 60),  # minutes after START
        "assigned": st.integers(-30 * 24 * 60, 0),  # the lead's assignment, minutes before the send
        "hours": st.integers(0, 24 * 40),  # minutes to the answer, in quarter hours
        "result": st.sampled_from(["won", "lost"]),
        "amount": st.sampled_from([None, 1000.5, 0.1, 2500.25, 0.0]),
        "currency": st.sampled_from(["USD", "eur"]),
    }
)

WRITE = st.tuples(st.sampled_from(["correct", "retire", "review", "reasons", "erase"]), st.integers(0, 30))


def _seed(engine: Engine, requests: list[dict[str, Any]]) -> list[int]:
    with engine.begin() as conn:
        for table in ("response_reason", "response", "outbound_mail", "request_sla", "feedback_request"):
            conn.execute(text(f"DELETE FROM {table}"))
        for table in ("deal", "lead", "rep"):
            conn.execute(text(f"DELETE FROM {table}"))
    ids = []
    with Session(engine) as s:
        rep = Rep(email="r@example.com", name="R")
        s.add(rep)
        s.flush()
        for i, spec in enumerate(requests):
            sent = START + timedelta(minutes=spec["sent"])
            lead = Lead(
                crm_id=f"L{i}",
                campaign=spec["campaign"],
                source=spec["source"],
                rep_id=rep.id,
                assigned_at=sent + timedelta(minutes=spec["assigned"]),
            )
            s.add(lead)
            s.flush()
            deal = None
            if spec["deal"]:
                deal = Deal(
                    crm_id=f"D{i}",
                    result=spec["result"],
                    lead_id=lead.id if i % 2 else None,
                    campaign=spec["campaign"],
                    source=spec["source"],
                    rep_id=rep.id,
                    amount=spec["amount"],
                    currency=spec["currency"],
                    close_date=(sent - timedelta(days=i % 3)).date(),
                )
                s.add(deal)
                s.flush()
            kind = "winloss" if deal is not None else "disposition"
            replied = spec["state"] not in ("sent", "escalated")
            answered = sent + timedelta(minutes=15 * spec["hours"]) if replied else None
            status = "answered" if spec["state"] == "no_outcome" else spec["state"]
            req = FeedbackRequest(
                kind=kind,
                lead_id=None if deal is not None else lead.id,
                deal_id=deal.id if deal is not None else None,
                rep_id=rep.id or 0,
                status=status,
                created_at=sent,
                sent_at=sent if i % 7 else None,  # never sent: dated by its creation
                answered_at=answered,
            )
            s.add(req)
            s.flush()
            ids.append(req.id or 0)
            if replied:
                outcome = None if spec["state"] == "no_outcome" else OUTCOMES[kind][spec["outcome"]]
                _answer(s, req, outcome, spec["competitor"], spec["reasons"], answered or sent)
        s.commit()
    return ids


def _answer(
    s: Session,
    req: FeedbackRequest,
    outcome: str | None,
    competitor: str | None,
    reasons: list[str],
    at: datetime,
) -> None:
    resp = Response(
        request_id=req.id or 0,
        kind=req.kind,
        outcome=outcome,
        competitor=competitor,
        reply_text="r",
        created_at=at,
    )
    s.add(resp)
    s.flush()
    s.add_all(ResponseReason(response_id=resp.id or 0, rank=i, code=c) for i, c in enumerate(reasons))


def _write(engine: Engine, ids: list[int], op: str, pick: int) -> None:
    """One write of the kinds the facts' triggers follow, through plain SQL and the ORM."""
    if not ids:
        return
    request_id = ids[pick % len(ids)]
    with Session(engine) as s:
        req = s.get(FeedbackRequest, request_id)
        if req is None:
            return
        found = text(f"SELECT id FROM response WHERE request_id = {request_id} AND is_current = true")
        current = s.execute(found).first()
        if op == "correct":  # a corrected answer: the old one kept, not current
            if current is not None:
                s.execute(text(f"UPDATE response SET is_current = false WHERE id = {current[0]}"))
            s.flush()
            req.status = "answered"
            req.answered_at = req.answered_at or (req.created_at + timedelta(hours=5))
            s.add(req)
            _answer(s, req, OUTCOMES[req.kind][pick % 3], None, REASONS[pick % 4 :][:2], req.answered_at)
        elif op == "retire" and current is not None:
            s.execute(text(f"UPDATE response SET is_current = false WHERE id = {current[0]}"))
        elif op == "review":
            req.status = "review" if pick % 2 else "clarifying"
            s.add(req)
        elif op == "reasons" and current is not None:
            s.execute(text(f"DELETE FROM response_reason WHERE response_id = {current[0]}"))
            s.add(ResponseReason(response_id=current[0], rank=0, code=REASONS[pick % 4]))
        elif op == "erase":
            s.execute(
                text(
                    "DELETE FROM response_reason WHERE response_id IN "
                    f"(SELECT id FROM response WHERE request_id = {request_id})"
                )
            )
            s.execute(text(f"DELETE FROM response WHERE request_id = {request_id}"))
            s.execute(text(f"DELETE FROM feedback_request WHERE id = {request_id}"))
        s.commit()


def _instant(minutes: int | None, month: int | None) -> datetime | None:
    if month is not None:  # a month start, the rollup's own boundary
        return datetime(2025 + (10 + month) // 12, (10 + month) % 12 + 1, 1)
    return None if minutes is None else START + timedelta(minutes=minutes)


BOUND = st.one_of(
    st.none(),
    st.builds(_instant, st.integers(-60 * 24 * 60, 150 * 24 * 60), st.none()),
    st.builds(_instant, st.none(), st.integers(0, 6)),
)


def _plain(value: Any) -> Any:
    """A report's value with amounts rounded far below a cent (see the module docstring)."""
    if isinstance(value, Money):
        return {k: round(v, 9) for k, v in value.amounts}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return value


def _figures(report: Report) -> list[Any]:
    return [(s.key, _plain(s.rows)) for s in report.sections]


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=st.lists(REQUEST, max_size=30),
    writes=st.lists(WRITE, max_size=6),
    compact=st.sampled_from(["never", "before", "after"]),
    since=BOUND,
    until=BOUND,
    span=st.one_of(st.none(), st.integers(20 * 24 * 60, 120 * 24 * 60)),  # minutes: a range by its length
    date_by=st.sampled_from(["sent", "answered", "created", "closed"]),
    kind=st.sampled_from([None, None, "disposition", "winloss"]),
    campaign=st.sampled_from([(), (), ("A",)]),
)
def test_reports_from_the_rollup_equal_the_facts(
    engine: Engine,
    requests: list[dict[str, Any]],
    writes: list[tuple[str, int]],
    compact: str,
    since: datetime | None,
    until: datetime | None,
    span: int | None,
    date_by: str,
    kind: str | None,
    campaign: tuple[str, ...],
) -> None:
    if span is not None and since is not None:
        until = since + timedelta(minutes=span)
    if since is not None and until is not None and since >= until:
        since, until = until - timedelta(minutes=1), since + timedelta(minutes=1)
    ids = _seed(engine, requests)
    if compact == "before":
        rollup_upkeep.compact(engine, force=True)
    for op, pick in writes:
        _write(engine, ids, op, pick)
    if compact == "after":
        rollup_upkeep.compact(engine, force=True)
    for filters in (
        Filters(since=since, until=until, date_by=date_by, kind=kind, campaigns=campaign),
        Filters(),  # no filter at all: the medians by rank too
    ):
        for report, by in READERS:
            wanted = replace(filters, by=by)
            from_rollup = report(engine, wanted, SETTINGS, now=NOW)
            from_facts = report(engine, wanted, SETTINGS, now=NOW, use_rollup=False)
            assert _figures(from_rollup) == _figures(from_facts), (report.__name__, wanted)


def test_split_cuts_whole_utc_months() -> None:
    split = rollup_reads.split
    whole = split(Filters(since=datetime(2026, 1, 15, 8), until=datetime(2026, 4, 1)))
    assert whole is not None and (whole.first, whole.end) == (datetime(2026, 2, 1), datetime(2026, 4, 1))
    exact = split(Filters(since=datetime(2026, 1, 1), until=datetime(2026, 2, 1)))
    assert exact is not None and (exact.first, exact.end) == (datetime(2026, 1, 1), datetime(2026, 2, 1))
    assert split(Filters(since=datetime(2026, 1, 2), until=datetime(2026, 1, 30))) is None  # no whole month
    assert split(Filters(since=datetime(2026, 12, 2))) is not None  # December rolls into January
    assert split(Filters(since=datetime(2026, 12, 2))).first == datetime(2027, 1, 1)  # type: ignore[union-attr]
    assert split(Filters(campaigns=("A",))) is None  # not keyed: the facts alone
    assert split(Filters(reps=("r@example.com",))) is None


def test_compact_merges_deltas_and_keeps_the_sums(engine: Engine) -> None:
    ids = _seed(
        engine,
        [
            {"deal": False, "campaign": "A", "source": "x", "state": "answered", "outcome": 0,
             "reasons": ["price"], "competitor": None, "sent": 60 * 24 * i, "assigned": 0,
             "hours": 8, "result": "won", "amount": None, "currency": "USD"}
            for i in range(20)
        ],
    )  # fmt: skip
    for pick in range(10):
        _write(engine, ids, "correct", pick)
    tables = ("report_rollup", "report_sla_rollup_rep", "report_sla_rollup_cs", "report_hours_rollup_rep")
    with engine.connect() as conn:
        before = {t: rollup_upkeep.stored(conn, t) for t in tables}
        for t in tables:
            assert conn.execute(text(f"SELECT count(*) FROM {t} WHERE delta = 1")).scalar_one() > 0, t
    assert rollup_upkeep.compact(engine) == 0  # under MIN_DELTAS: left as it is
    assert rollup_upkeep.compact(engine, force=True) > 0
    with engine.connect() as conn:
        for t in tables:
            assert rollup_upkeep.stored(conn, t) == before[t], t
            assert conn.execute(text(f"SELECT count(*) FROM {t} WHERE delta = 1")).scalar_one() == 0, t
            assert conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() == len(before[t]), t


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    requests=st.lists(REQUEST, min_size=20, max_size=40),
    writes=st.lists(WRITE, max_size=4),
    since=st.one_of(st.none(), st.none(), BOUND),
    until=st.one_of(st.none(), st.none(), BOUND),
    date_by=st.sampled_from(["sent", "answered", "created", "closed"]),
    kind=st.sampled_from([None, "disposition", "winloss"]),
    period=st.sampled_from(["week", "month"]),
    zone=st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu"]),
)
def test_trends_per_period_equal_trends_grouped(
    engine: Engine,
    requests: list[dict[str, Any]],
    writes: list[tuple[str, int]],
    since: datetime | None,
    until: datetime | None,
    date_by: str,
    kind: str | None,
    period: str,
    zone: str,
) -> None:
    """``trends`` reads each period from its own range of the date (migration 0029's indexes,
    PostgreSQL) or groups every fact by period: the same figures, medians included, in zones a
    whole hour, half an hour and three quarters off UTC, for weeks and months (on SQLite both
    sides group)."""
    if since is not None and until is not None and since >= until:
        since, until = until - timedelta(minutes=1), since + timedelta(minutes=1)
    ids = _seed(engine, requests)
    for op, pick in writes:
        _write(engine, ids, op, pick)
    zoned = load_settings({}, timezone=zone)
    filters = Filters(since=since, until=until, date_by=date_by, kind=kind, period=period)
    by_range = trends(engine, filters, zoned, now=NOW)
    grouped = trends(engine, filters, zoned, now=NOW, per_period=False)
    assert _figures(by_range) == _figures(grouped), filters


def test_period_bounds_are_the_periods_in_utc() -> None:
    from feedback.reports.periods import bounds, period_key

    # the week of Monday 2 March 2026 at UTC+1 starts Sunday 23:00 UTC; at UTC-5 Monday 05:00
    assert bounds("2026-03-02", "week", 60) == (datetime(2026, 3, 1, 23), datetime(2026, 3, 8, 23))
    assert bounds("2026-03-02", "week", -300) == (datetime(2026, 3, 2, 5), datetime(2026, 3, 9, 5))
    assert bounds("2026-12-01", "month", 345) == (
        datetime(2026, 11, 30, 18, 15),
        datetime(2026, 12, 31, 18, 15),
    )
    # and back: the instant's period in the zone
    assert period_key(datetime(2026, 3, 1, 23, 30), "week", 60) == "2026-03-02"
    assert period_key(datetime(2026, 3, 1, 22, 59), "week", 60) == "2026-02-23"
    assert period_key(datetime(2026, 11, 30, 18, 15), "month", 345) == "2026-12-01"


def test_date_indexes_cover_what_a_period_reads(engine: Engine) -> None:
    """On PostgreSQL migration 0029 makes each date's index carry what ``reports.periods`` reads
    (its speed is bench/reports.py's)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("0029's covering indexes are PostgreSQL's")
    from feedback.reports.periods import CARRIED

    with engine.connect() as conn:
        listed = conn.execute(
            text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'report_fact'")
        )
        found = {name: definition for name, definition in listed}
    for date in ("at", "answered_at", "created_at", "closed_at"):
        definition = found[f"ix_report_fact_{date}"]
        assert f"({date}) INCLUDE ({', '.join(CARRIED)})" in definition, definition


def test_trends_with_placeholder_dates_fall_back_to_grouping(engine: Engine) -> None:
    """A CRM's 9999-12-31 close date, in a zone ahead of UTC, has no period Python's dates can
    hold, and decades of weeks are more than ``periods.MAX_PERIODS``: ``trends`` groups instead
    (no error, no long loop) and gives the grouped figures."""
    from feedback.reports import periods

    ids = _seed(
        engine,
        [
            {"deal": True, "campaign": "A", "source": "x", "state": "answered", "outcome": i % 3,
             "reasons": [], "competitor": None, "sent": 60 * 24 * i, "assigned": 0, "hours": 8 + i,
             "result": "won", "amount": None, "currency": "USD"}
            for i in range(4)
        ],
    )  # fmt: skip
    placeholder = (
        "UPDATE deal SET close_date = '{}' WHERE id = (SELECT deal_id FROM feedback_request WHERE id = {})"
    )
    with engine.begin() as conn:
        conn.execute(text(placeholder.format("9999-12-31", ids[0])))
        conn.execute(text(placeholder.format("1900-01-01", ids[1])))
    auckland = load_settings({}, timezone="Pacific/Auckland")
    filters = Filters(date_by="closed")
    with engine.connect() as conn:
        assert periods.keys(conn, filters, "week", 780) == []  # too far out: grouped instead
        assert periods.keys(conn, Filters(date_by="closed", until=datetime(2030, 1, 1)), "week", 780) == []
    grouped = trends(engine, filters, auckland, now=NOW, per_period=False)
    assert _figures(trends(engine, filters, auckland, now=NOW)) == _figures(grouped)
    assert sum(r["deals"] for r in grouped.sections[0].rows) == 4  # none left out
    for fmt in ("table", "html", "csv", "json", "md"):
        assert render_to_string(grouped, fmt)  # the period-less row renders
