"""Figures a marketer can trust (issue 13, items 4, 5, 6, 15), on SQLite and PostgreSQL.

- Amounts keep their currency: no figure adds EUR to USD, and every amount names its currency.
- "Answered" is a usable answer; replies without an outcome, clarifications and reviews are
  counted apart, in every report with an answer rate and in the digest.
- The funnel nests (no stage exceeds the one before, on any data: a property test on the real
  database); deals from leads the rep did not accept are in their own, labelled table.
- Reason charts colour bars by the outcome's role from the taxonomy, with a legend.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from test_reports_figures import BACKENDS, _pg_engine

from feedback.reports import (
    REPORTS,
    Filters,
    Money,
    OutputFormat,
    Rate,
    Report,
    digest_html,
    funnel,
    render_to_string,
    responsiveness,
    summary,
    trends,
    winloss,
)
from feedback.reports import queries as q
from feedback.reports.render import ROLE_COLORS
from feedback.reports.sql import fact_frame
from feedback.runtime.settings import Settings, load_settings
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response, ResponseReason

NOW = datetime(2026, 3, 1, 12, 0)
T0 = datetime(2026, 2, 23, 9, 0)  # a Monday, in the week before NOW
SETTINGS = load_settings({}, timezone="UTC", reminder_after_hours=48.0)


def _engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    if backend == "postgresql":
        gen = _pg_engine()
        engine = next(gen)
    else:
        engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('trust') / 'feedback.db'}")
        gen = None
    try:
        upgrade(engine)
        yield engine
    finally:
        if gen is not None:
            gen.close()
        else:
            engine.dispose()


def _wipe(engine: Engine) -> None:
    with engine.begin() as conn:
        for table in ("response_reason", "response", "feedback_request", "deal", "lead", "rep"):
            conn.execute(text(f"DELETE FROM {table}"))


def _ask(
    s: Session,
    *,
    rep: Rep,
    lead: Lead | None = None,
    deal: Deal | None = None,
    status: str = "sent",
    outcome: str | None = None,
    reasons: tuple[str, ...] = (),
    competitor: str | None = None,
    replied: bool = True,
    at: datetime = T0,
) -> FeedbackRequest:
    """A request sent at ``at``; with ``replied``, a current response (``outcome`` may be None)."""
    req = FeedbackRequest(
        kind="disposition" if lead is not None else "winloss",
        lead_id=lead.id if lead is not None else None,
        deal_id=deal.id if deal is not None else None,
        rep_id=rep.id or 0,
        status=status,
        created_at=at,
        sent_at=at,
        answered_at=at + timedelta(hours=3) if replied else None,
    )
    s.add(req)
    s.flush()
    if replied:
        resp = Response(
            request_id=req.id or 0,
            kind=req.kind,
            outcome=outcome,
            competitor=competitor,
            reply_text=f"reply: {outcome or 'not sure'}",
            created_at=at + timedelta(hours=3),
        )
        s.add(resp)
        s.flush()
        s.add_all(ResponseReason(response_id=resp.id or 0, rank=i, code=c) for i, c in enumerate(reasons))
    return req


def seed(engine: Engine) -> None:
    """The issue's cases, in one week.

    Rep Ann (team East), campaign Webinar: seven replies, two with an outcome (accepted, rejected),
    two with none (status answered: no clarification possible), two waiting on a clarification,
    one in review (rejected/no_budget, in doubt); and one lead not answered.
    Campaign Expo (rep Bob): two leads rejected and one recycled, each with a CRM deal opened
    anyway (two won), one lead accepted without a deal: the "Accepted 0, Opportunity 2" case.
    Deals: Alpha 45,000 EUR lost and Beta 9,500 USD lost (both to Contoso Suite), Gamma 12,000
    "eur" won, Delta 3,000 USD won with no lead.
    """
    with Session(engine) as s:
        ann = Rep(email="ann@example.com", name="Ann", team="East")
        bob = Rep(email="bob@example.com", name="Bob", team="West")
        s.add_all([ann, bob])
        s.flush()

        def lead(n: int, campaign: str, rep: Rep) -> Lead:
            row = Lead(crm_id=f"L-{n}", name=f"Lead {n}", campaign=campaign, source="web", rep_id=rep.id)
            s.add(row)
            s.flush()
            return row

        web = [lead(i, "Webinar", ann) for i in range(1, 9)]
        _ask(s, rep=ann, lead=web[0], status="answered", outcome="accepted", reasons=("meeting_booked",))
        _ask(s, rep=ann, lead=web[1], status="answered", outcome="rejected", reasons=("not_a_fit",))
        _ask(s, rep=ann, lead=web[2], status="answered")
        _ask(s, rep=ann, lead=web[3], status="answered")
        _ask(s, rep=ann, lead=web[4], status="clarifying")
        _ask(s, rep=ann, lead=web[5], status="clarifying")
        _ask(s, rep=ann, lead=web[6], status="review", outcome="rejected", reasons=("no_budget",))
        _ask(s, rep=ann, lead=web[7], replied=False)

        expo = [lead(i, "Expo", bob) for i in range(11, 15)]
        _ask(s, rep=bob, lead=expo[0], status="answered", outcome="rejected", reasons=("no_need",))
        _ask(s, rep=bob, lead=expo[1], status="answered", outcome="rejected", reasons=("not_a_buyer",))
        _ask(s, rep=bob, lead=expo[2], status="answered", outcome="recycled", reasons=("bad_timing",))
        _ask(s, rep=bob, lead=expo[3], status="answered", outcome="accepted", reasons=("in_progress",))

        def deal(name: str, amount: float, currency: str, result: str, lead: Lead | None, rep: Rep) -> Deal:
            row = Deal(
                crm_id=f"D-{name}",
                name=name,
                amount=amount,
                currency=currency,
                result=result,
                lead_id=lead.id if lead is not None else None,
                campaign="Expo" if lead is None else lead.campaign,
                rep_id=rep.id,
            )
            s.add(row)
            s.flush()
            return row

        alpha = deal("Alpha", 45000.0, "EUR", "lost", expo[0], bob)
        beta = deal("Beta", 9500.0, "USD", "lost", expo[1], bob)
        gamma = deal("Gamma", 12000.0, "eur", "won", expo[2], bob)
        delta = deal("Delta", 3000.0, "USD", "won", None, bob)
        at = T0 + timedelta(days=1)
        for d, outcome, reasons in (
            (alpha, "lost", ("competitor",)),
            (beta, "lost", ("price",)),
            (gamma, "won", ("product_fit",)),
            (delta, "won", ("relationship",)),
        ):
            competitor = "Contoso Suite" if outcome == "lost" else None
            _ask(
                s,
                rep=bob,
                deal=d,
                status="answered",
                outcome=outcome,
                reasons=reasons,
                competitor=competitor,
                at=at,
            )
        s.commit()


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    for eng in _engine(request.param, tmp_path_factory):
        seed(eng)
        yield eng


def kpis(report: Report) -> dict[str, Any]:
    return {row["metric"]: row["value"] for row in report.section("overview").rows}


def rows_by(report: Report, section: str, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in report.section(section).rows}


# item 4: currencies ------------------------------------------------------------------------------

LOST = Money((("EUR", 45000.0), ("USD", 9500.0)))


def test_amounts_are_never_added_across_currencies(engine: Engine) -> None:
    report = winloss(engine, Filters(), SETTINGS, now=NOW)
    k = kpis(report)
    assert k["Amount lost"] == LOST
    assert k["Amount won"] == Money((("EUR", 12000.0), ("USD", 3000.0)))  # "eur" is EUR
    expo = rows_by(report, "deals_by_campaign", "campaign")["Expo"]
    assert expo["lost_amount"] == LOST
    contoso = rows_by(
        REPORTS["competitors"](engine, Filters(), SETTINGS, now=NOW), "competitors", "competitor"
    )
    assert contoso["Contoso Suite"]["lost_amount"] == LOST
    for name in ("winloss", "competitors", "summary"):
        rendered = REPORTS[name](engine, Filters(), SETTINGS, now=NOW)
        for fmt in OutputFormat:
            out = render_to_string(rendered, fmt)
            assert "54,500" not in out and "54500" not in out, (name, fmt)
            if fmt in (OutputFormat.table, OutputFormat.md, OutputFormat.html):
                assert "45,000 EUR" in out and "9,500 USD" in out, (name, fmt)


def test_currency_columns_in_csv_and_json(engine: Engine) -> None:
    report = winloss(engine, Filters(), SETTINGS, now=NOW)
    data = json.loads(render_to_string(report, OutputFormat.json))
    overview = next(s for s in data["sections"] if s["key"] == "overview")["rows"]
    assert {"metric": "Amount lost", "value": {"EUR": 45000.0, "USD": 9500.0}} in overview
    text_out = render_to_string(report, OutputFormat.csv)
    block = text_out.split("# Deals by campaign\n")[1].split("\n\n")[0]
    rows = {r["campaign"]: r for r in csv.DictReader(io.StringIO(block))}
    assert (rows["Expo"]["lost_amount_EUR"], rows["Expo"]["lost_amount_USD"]) == ("45000", "9500")
    assert rows["Expo"]["won_amount_EUR"] == "12000" and "lost_amount" not in rows["Expo"]


def test_digest_names_currencies(engine: Engine) -> None:
    _, html, text_out = digest_html(engine, SETTINGS, NOW)
    assert "45,000 EUR · 9,500 USD" in text_out and "54,500" not in html + text_out


# item 5: what "answered" means -----------------------------------------------------------------


def test_answer_rates_count_usable_answers_only(engine: Engine) -> None:
    ann = rows_by(responsiveness(engine, Filters(), SETTINGS, now=NOW), "by_rep", "rep")["Ann"]
    # eight leads sent, seven replies: two with an outcome, two without, two clarifying, one review
    assert ann["answered"] == Rate(2, 8)
    assert (ann["n_no_outcome"], ann["n_clarifying"], ann["n_review"]) == (2, 2, 1)
    k = kpis(summary(engine, Filters(campaigns=("Webinar",)), SETTINGS, now=NOW))
    assert k["Leads answered"] == Rate(2, 8)
    assert (k["Leads: replied, no outcome"], k["Leads: clarification asked"], k["Leads: in review"]) == (
        2,
        2,
        1,
    )
    assert k["Leads accepted (of answered)"] == Rate(1, 2)
    web = rows_by(summary(engine, Filters(), SETTINGS, now=NOW), "leads_by_campaign", "campaign")["Webinar"]
    assert (web["answered"], web["n_rejected"], web["top_reason"]) == (Rate(2, 8), 1, "Not a fit (1)")
    week = trends(engine, Filters(campaigns=("Webinar",)), SETTINGS, now=NOW).section("trend").rows[0]
    assert (week["answer_rate"], week["n_clarifying"], week["accept_rate"]) == (Rate(2, 8), 2, Rate(1, 2))
    stages = rows_by(funnel(engine, Filters(campaigns=("Webinar",)), SETTINGS, now=NOW), "funnel", "stage")
    assert stages["Answered"]["leads"] == 2
    waiting = rows_by(
        funnel(engine, Filters(campaigns=("Webinar",)), SETTINGS, now=NOW), "not_answered", "state"
    )
    assert waiting["In review"]["leads"] == 1 and waiting["Not answered yet"]["leads"] == 1


def test_reasons_of_answers_in_review_are_not_counted_yet(engine: Engine) -> None:
    report = summary(engine, Filters(campaigns=("Webinar",)), SETTINGS, now=NOW)
    reasons = {r["reason"]: r for r in report.section("lead_reasons").rows}
    assert "No budget" not in reasons  # the answer in review said no_budget
    assert reasons["Not a fit"]["share"] == Rate(1, 1)


def test_digest_shows_answer_states(engine: Engine) -> None:
    _, html, text_out = digest_html(engine, SETTINGS, NOW)
    assert "Leads answered: 50 % (6/12)" in text_out  # Ann 2 of 8, Bob 4 of 4
    assert "Leads: clarification asked: 2" in text_out and "Leads: in review: 1" in text_out
    assert "Clarification asked" in html and "usable answer" in html


# item 6: the funnel nests ------------------------------------------------------------------------

STAGES = ("handed", "answered", "accepted", "opportunity", "won")


def _assert_nested(row: dict[str, Any]) -> None:
    values = [int(row[k]) for k in STAGES]
    assert values == sorted(values, reverse=True), row


def test_funnel_stages_nest_and_outside_deals_are_apart(engine: Engine) -> None:
    report = funnel(engine, Filters(), SETTINGS, now=NOW)
    stages = rows_by(report, "funnel", "stage")
    assert [stages[s]["leads"] for s in ("Leads handed", "Answered", "Accepted", "Opportunity", "Won")] == [
        12,
        6,
        2,
        0,
        0,
    ]
    expo = rows_by(report, "funnel_by_campaign", "campaign")["Expo"]
    assert [expo[k] for k in STAGES] == [4, 4, 1, 0, 0]
    for row in report.section("funnel_by_campaign").rows:
        _assert_nested(row)
    outside = {
        (r["campaign"], r["why"]): (r["deals"], r["won"]) for r in report.section("outside_funnel").rows
    }
    assert outside == {
        ("Expo", "Lead rejected by the rep"): (2, 0),
        ("Expo", "Lead recycled by the rep"): (1, 1),
        ("Expo", "Deal has no lead"): (1, 1),
    }
    assert "subset of the one before" in report.section("funnel").note


def _lead_spec() -> st.SearchStrategy[tuple[Any, ...]]:
    return st.tuples(
        st.sampled_from(["A", "B", None]),  # campaign
        st.sampled_from(["none", "unanswered", "no_outcome", "clarifying", "review", "answered"]),
        st.sampled_from(["accepted", "rejected", "recycled", None]),
        st.lists(st.sampled_from(["won", "lost", "open"]), max_size=3),  # its deals' CRM results
    )


def _seed_random(
    engine: Engine,
    leads: list[tuple[Any, ...]],
    loose: list[str],
    *,
    deals_first: bool = False,
    changes: Sequence[tuple[str, int]] = (),
) -> None:
    """The leads (their disposition request after their deals with ``deals_first``), then the
    ``changes`` to the deals: (a result, or 'move' to the next lead, 'unlead', 'delete', deal
    number modulo the deals)."""
    _wipe(engine)
    with Session(engine) as s:
        rep = Rep(email="r@example.com", name="R")
        s.add(rep)
        s.flush()
        for i, (campaign, state, outcome, deals) in enumerate(leads):
            lead = Lead(crm_id=f"L{i}", campaign=campaign, rep_id=rep.id)
            s.add(lead)
            s.flush()
            if deals_first:
                _add_deals(s, rep, lead, f"D{i}", campaign, deals)
            if state != "none":
                status = (
                    state
                    if state in ("clarifying", "review")
                    else "answered"
                    if state != "unanswered"
                    else "sent"
                )
                _ask(
                    s,
                    rep=rep,
                    lead=lead,
                    status=status,
                    outcome=None if state == "no_outcome" else outcome,
                    replied=state != "unanswered",
                )
            if not deals_first:
                _add_deals(s, rep, lead, f"D{i}", campaign, deals)
        for j, result in enumerate(loose):
            deal = Deal(crm_id=f"X{j}", result=result, campaign="A", rep_id=rep.id)
            s.add(deal)
            s.flush()
            _ask(s, rep=rep, deal=deal, status="answered", outcome=result)
        s.commit()
    with engine.begin() as conn:  # plain SQL, after the requests: the triggers must follow
        deal_ids = [int(r[0]) for r in conn.execute(text("SELECT id FROM deal ORDER BY id"))]
        lead_ids = [int(r[0]) for r in conn.execute(text("SELECT id FROM lead ORDER BY id"))]
        for change, n in changes:
            if not deal_ids:
                break
            deal_id = deal_ids[n % len(deal_ids)]
            if change == "delete":
                asked = "(SELECT id FROM feedback_request WHERE deal_id = :d)"
                conn.execute(text(f"DELETE FROM response WHERE request_id IN {asked}"), {"d": deal_id})
                conn.execute(text("DELETE FROM feedback_request WHERE deal_id = :d"), {"d": deal_id})
                conn.execute(text("DELETE FROM deal WHERE id = :d"), {"d": deal_id})
                deal_ids.remove(deal_id)
            elif change == "move" and lead_ids:
                conn.execute(
                    text("UPDATE deal SET lead_id = :l WHERE id = :d"),
                    {"l": lead_ids[(n + 1) % len(lead_ids)], "d": deal_id},
                )
            elif change == "unlead":
                conn.execute(text("UPDATE deal SET lead_id = NULL WHERE id = :d"), {"d": deal_id})
            elif change in ("won", "lost", "open"):
                conn.execute(text("UPDATE deal SET result = :r WHERE id = :d"), {"r": change, "d": deal_id})


def _add_deals(s: Session, rep: Rep, lead: Lead, prefix: str, campaign: str | None, deals: list[str]) -> None:
    """The lead's CRM deals, each closed one asked about."""
    for j, result in enumerate(deals):
        deal = Deal(crm_id=f"{prefix}-{j}", result=result, lead_id=lead.id, campaign=campaign, rep_id=rep.id)
        s.add(deal)
        s.flush()
        if result != "open":
            _ask(s, rep=rep, deal=deal, status="answered", outcome=result)


@pytest.fixture(scope="module", params=BACKENDS)
def empty_engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    yield from _engine(request.param, tmp_path_factory)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    leads=st.lists(_lead_spec(), max_size=10), loose=st.lists(st.sampled_from(["won", "lost"]), max_size=2)
)
def test_no_funnel_stage_exceeds_the_one_before(
    empty_engine: Engine, leads: list[tuple[Any, ...]], loose: list[str]
) -> None:
    _seed_random(empty_engine, leads, loose)
    report = funnel(empty_engine, Filters(), SETTINGS, now=NOW)
    overall = {r["stage"]: r["leads"] for r in report.section("funnel").rows}
    total = dict(zip(STAGES, overall.values(), strict=True))
    _assert_nested(total)
    asked = [spec for spec in leads if spec[1] != "none"]
    assert total["handed"] == len(asked)
    per = report.section("funnel_by_campaign").rows
    for row in per:
        _assert_nested(row)
    for key in STAGES:  # the groups partition the leads
        assert sum(int(r[key]) for r in per) == total[key]
    # every deal of an asked lead is in the funnel's opportunities or outside it, never both
    outside = report.section("outside_funnel").rows
    from_leads = sum(r["deals"] for r in outside if r["why"].startswith("Lead") and "never" not in r["why"])
    accepted_deals = sum(len(spec[3]) for spec in asked if spec[1] == "answered" and spec[2] == "accepted")
    assert from_leads + accepted_deals == sum(len(spec[3]) for spec in asked)
    assert total["opportunity"] == sum(
        1 for spec in asked if spec[1] == "answered" and spec[2] == "accepted" and spec[3]
    )


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    leads=st.lists(_lead_spec(), max_size=10),
    loose=st.lists(st.sampled_from(["won", "lost"]), max_size=2),
    by=st.sampled_from(["campaign", "source", "rep"]),
    deals_first=st.booleans(),
    changes=st.lists(
        st.tuples(st.sampled_from(["won", "lost", "open", "move", "unlead", "delete"]), st.integers(0, 30)),
        max_size=4,
    ),
)
def test_funnel_in_one_scan_equals_its_definition(
    empty_engine: Engine,
    leads: list[tuple[Any, ...]],
    loose: list[str],
    by: str,
    deals_first: bool,
    changes: list[tuple[str, int]],
) -> None:
    """The report's funnel (one scan: ``queries.funnel_parts``) equals the funnel and the deals
    outside it each computed on its own (``queries.funnel``, ``deals_outside_funnel``), row for
    row, in the same order. The one scan reads the deals per lead and whether a deal's lead was
    asked from the facts (migration 0028), the definitions join ``deal`` and the requests: so the
    triggers are checked against the joins whatever the order of the writes (a lead's request
    before or after its deals) and after deals change result or lead or are deleted."""
    _seed_random(empty_engine, leads, loose, deals_first=deals_first, changes=changes)
    columns = [by, "lead_id", *q.FUNNEL_COLUMNS]
    f = fact_frame(Filters(), columns=columns)
    with empty_engine.connect() as conn:
        one_scan = q.run_parts(conn, q.funnel_parts(f, [by], accepted="accepted"))
        apart = q.run_parts(
            conn,
            {
                "total": q.funnel(f, accepted="accepted"),
                "per": q.funnel(f, [by], accepted="accepted"),
                "outside": q.deals_outside_funnel(f, [by], accepted="accepted"),
            },
        )
    assert one_scan == apart


# item 15: reason charts coloured by outcome ----------------------------------------------------


def _bars(html: str, section: str) -> dict[str, str]:
    """Reason label -> bar colour in one section's chart (the title of each rect names it)."""
    part = html.split(f'<section id="{section}">')[1].split("</section>")[0]
    found = re.findall(r'<rect [^>]*fill="(#[0-9a-f]{6})"[^>]*><title>([^<]*): [^<]*</title>', part)
    return {title: color for color, title in found}


def _legend(html: str, section: str) -> list[str]:
    part = html.split(f'<section id="{section}">')[1].split("</section>")[0]
    return re.findall(r'<g class="legend"><rect [^>]*/><text [^>]*>([^<]*)</text></g>', part)


def test_reason_charts_colour_by_outcome_role_with_a_legend(engine: Engine) -> None:
    html = render_to_string(summary(engine, Filters(), SETTINGS, now=NOW), OutputFormat.html)
    bars = _bars(html, "lead_reasons")
    assert bars["Accepted: Meeting booked"] == ROLE_COLORS["positive"]
    assert bars["Rejected: Not a fit"] == ROLE_COLORS["negative"]
    assert bars["Recycled: Bad timing"] == ROLE_COLORS["undecided"]
    assert _legend(html, "lead_reasons") == ["Accepted", "Rejected", "Recycled"]
    won_lost = _bars(html, "winloss_reasons")
    assert won_lost["Won: Product fit"] == ROLE_COLORS["positive"]
    assert won_lost["Lost: Price"] == ROLE_COLORS["negative"]
    assert _legend(html, "winloss_reasons") == ["Won", "Lost"]


def test_chart_colours_come_from_the_taxonomy_roles(engine: Engine) -> None:
    """An admin's taxonomy decides what an outcome means; the codes themselves mean nothing."""
    custom: Settings = load_settings(
        {},
        timezone="UTC",
        taxonomy_override={
            "kinds": {"disposition": {"outcomes": [{"code": "recycled", "role": "positive"}]}}
        },
    )
    html = render_to_string(summary(engine, Filters(), custom, now=NOW), OutputFormat.html)
    bars = _bars(html, "lead_reasons")
    assert bars["Recycled: Bad timing"] == ROLE_COLORS["positive"]
    assert _legend(html, "lead_reasons") == ["Accepted", "Recycled", "Rejected"]  # positives first


def test_digest_bars_colour_by_outcome(engine: Engine) -> None:
    _, html, _ = digest_html(engine, SETTINGS, NOW)
    lead_part = html.split("Why leads are accepted or not")[1].split("<h3")[0]
    assert f"background:{ROLE_COLORS['positive']}" in lead_part
    assert f"background:{ROLE_COLORS['negative']}" in lead_part


def test_every_report_renders_the_new_figures(engine: Engine) -> None:
    for name, fn in REPORTS.items():
        report = fn(engine, Filters(), SETTINGS, now=datetime(2026, 3, 1, 12, tzinfo=UTC))
        for fmt in OutputFormat:
            assert render_to_string(report, fmt).strip(), (name, fmt)


def test_is_answered_is_the_answer_state(empty_engine: Engine) -> None:
    """The WHERE form of "answered" and the grouping form agree on every combination."""
    from itertools import product

    from sqlalchemy import String, literal, null, select, union_all

    from feedback.reports.queries import ANSWERED, answer_state, is_answered

    combos = list(
        product(["sent", "answered", "review", "clarifying", "escalated"], [None, "1"], [None, "won"])
    )

    def value(v: str | None) -> Any:
        return null() if v is None else literal(v, String())

    rows = union_all(
        *[
            select(value(st).label("status"), value(rid).label("rid"), value(out).label("outcome"))
            for st, rid, out in combos
        ]
    ).subquery("v")
    query = select(
        answer_state(rows.c.status, rows.c.rid, rows.c.outcome) == ANSWERED,
        is_answered(rows.c.status, rows.c.rid, rows.c.outcome),
    )
    with empty_engine.connect() as conn:
        found = [(bool(a), bool(b)) for a, b in conn.execute(query)]
    assert len(found) == len(combos) and all(a == b for a, b in found)
    assert sum(a for a, _ in found) == 3  # sent, answered, escalated: with a response and an outcome
