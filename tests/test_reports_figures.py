"""Report figures against a small dataset whose every number is computed by hand below.

Runs on SQLite always and on PostgreSQL too when FEEDBACK_TEST_DATABASE_URL is set (a private
database is created and dropped), so the same data must give the same numbers on both.

The dataset (times UTC, January/February 2026; hours = time from request to answer):

    lead campaign/source   rep    sent         hours outcome   reasons (rank order)          note
    L1   Webinar/events    Alice  01-05 09:00  2     accepted  meeting_booked                 -> deal D2
    L2   Webinar/events    Alice  01-05 10:00  4     accepted  opportunity_created, meeting_booked -> D1
    L3   Webinar/events    Bob    01-06 09:00  10    rejected  no_budget, not_a_fit
    L4   Webinar/events    Bob    01-07 09:00  -     (unanswered, status sent: overdue)
    L5   Ebook/content     Carol  01-12 03:00  1     rejected  not_a_fit    (Fabrikam; Sun 22:00 in New York)
    L6   Ebook/content     Carol  01-12 12:00  3     recycled  bad_timing
    L7   Ebook/content     Alice  01-13 09:00  6     rejected  not_a_fit, wrong_contact
    L8   PPC/ads           Dan    01-14 09:00  20    (replied, no outcome, clarifying; answered_at unset)
    L9   PPC/ads           Dan    01-20 09:00  -     (unanswered, status escalated: overdue too)
    L10  PPC/ads           Bob    01-21 09:00  5     accepted  in_progress  (a superseded answer said no_need)

    deal  from  campaign  rep    amount CRM   sent         hours rep said     reasons           competitor
    D1    L2    Webinar   Alice  10000  won   01-26 09:00  2     won          product_fit, price_value
    D2    L1    Webinar   Alice   5000  lost  01-27 09:00  8     lost         competitor, price Contoso Suite
    D3    -     Ebook     Carol  20000  won   02-02 09:00  4     lost (!)     price             Contoso Suite
    D4    -     PPC       Dan     7000  lost  02-03 09:00  12    no_decision  status_quo
    D5    L10   PPC       Bob     3000  won   02-04 09:00  -     (unanswered, status sent: overdue)

Teams: Alice, Bob = East; Carol = West; Dan has none. Reports run at 2026-03-01 12:00 UTC.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from feedback.reports import (
    Filters,
    Money,
    Rate,
    Report,
    competitors,
    export,
    funnel,
    reasons,
    responsiveness,
    summary,
    trends,
    verbatims,
    winloss,
)
from feedback.runtime.settings import Settings, load_settings
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response, ResponseReason

NOW = datetime(2026, 3, 1, 12, 0)
PG_URL = os.environ.get("FEEDBACK_TEST_DATABASE_URL")


def _t(column: Any, value: datetime | None) -> datetime | None:
    """A naive-UTC time in the form the column's type wants (aware for timezone columns)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if getattr(column.type, "timezone", False) else value


def _rows(table: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for row in rows:
        out.append({k: (_t(table.c[k], v) if isinstance(v, datetime) else v) for k, v in row.items()})
    return out


LEADS = [
    # id, campaign, source, rep, sent, hours, outcome, reasons, competitor, status
    (1, "Webinar", "events", 1, datetime(2026, 1, 5, 9), 2, "accepted", ["meeting_booked"], None),
    (
        2,
        "Webinar",
        "events",
        1,
        datetime(2026, 1, 5, 10),
        4,
        "accepted",
        ["opportunity_created", "meeting_booked"],
        None,
    ),
    (3, "Webinar", "events", 2, datetime(2026, 1, 6, 9), 10, "rejected", ["no_budget", "not_a_fit"], None),
    (4, "Webinar", "events", 2, datetime(2026, 1, 7, 9), None, None, [], None),
    (5, "Ebook", "content", 3, datetime(2026, 1, 12, 3), 1, "rejected", ["not_a_fit"], "Fabrikam"),
    (6, "Ebook", "content", 3, datetime(2026, 1, 12, 12), 3, "recycled", ["bad_timing"], None),
    (7, "Ebook", "content", 1, datetime(2026, 1, 13, 9), 6, "rejected", ["not_a_fit", "wrong_contact"], None),
    (8, "PPC", "ads", 4, datetime(2026, 1, 14, 9), 20, None, [], None),
    (9, "PPC", "ads", 4, datetime(2026, 1, 20, 9), None, None, [], None),
    (10, "PPC", "ads", 2, datetime(2026, 1, 21, 9), 5, "accepted", ["in_progress"], None),
]
DEALS = [
    # id, lead, campaign, source, rep, amount, result, sent, hours, outcome, reasons, competitor
    (
        1,
        2,
        "Webinar",
        "events",
        1,
        10000.0,
        "won",
        datetime(2026, 1, 26, 9),
        2,
        "won",
        ["product_fit", "price_value"],
        None,
    ),
    (
        2,
        1,
        "Webinar",
        "events",
        1,
        5000.0,
        "lost",
        datetime(2026, 1, 27, 9),
        8,
        "lost",
        ["competitor", "price"],
        "Contoso Suite",
    ),
    (
        3,
        None,
        "Ebook",
        "content",
        3,
        20000.0,
        "won",
        datetime(2026, 2, 2, 9),
        4,
        "lost",
        ["price"],
        "Contoso Suite",
    ),
    (
        4,
        None,
        "PPC",
        "ads",
        4,
        7000.0,
        "lost",
        datetime(2026, 2, 3, 9),
        12,
        "no_decision",
        ["status_quo"],
        None,
    ),
    (5, 10, "PPC", "ads", 2, 3000.0, "won", datetime(2026, 2, 4, 9), None, None, [], None),
]


def seed(engine: Engine) -> None:
    """Insert the dataset of the module docstring."""
    rep, lead, deal = Rep.__table__, Lead.__table__, Deal.__table__  # type: ignore[attr-defined]
    req, resp, reason = (
        FeedbackRequest.__table__,  # type: ignore[attr-defined]
        Response.__table__,  # type: ignore[attr-defined]
        ResponseReason.__table__,  # type: ignore[attr-defined]
    )
    created = datetime(2026, 1, 1)
    reps = [
        (1, "alice@example.com", "Alice", "East"),
        (2, "bob@example.com", "Bob", "East"),
        (3, "carol@example.com", "Carol", "West"),
        (4, "dan@example.com", "Dan", None),
    ]
    requests: list[dict[str, Any]] = []
    responses: list[dict[str, Any]] = []
    reason_rows: list[dict[str, Any]] = []

    def add(
        rid: int,
        kind: str,
        rep_id: int,
        sent: datetime,
        hours: int | None,
        outcome: str | None,
        codes: list[str],
        competitor: str | None,
        lead_id: int | None,
        deal_id: int | None,
        status: str,
    ) -> None:
        answered = sent + timedelta(hours=hours) if hours is not None else None
        requests.append(
            {
                "id": rid,
                "kind": kind,
                "lead_id": lead_id,
                "deal_id": deal_id,
                "rep_id": rep_id,
                "status": status,
                "created_at": sent - timedelta(minutes=5),
                "sent_at": sent,
                # L8 leaves answered_at unset: the answer time falls back to the response's
                "answered_at": answered if rid != 8 else None,
                "template": "",
                "template_version": "",
                "taxonomy_version": "",
                "reminders_sent": 0,
            }
        )
        if answered is None:
            return
        responses.append(
            {
                "id": rid,
                "request_id": rid,
                "kind": kind,
                "outcome": outcome,
                "competitor": competitor,
                "reply_text": f"reply {rid}: {outcome or 'not sure'}",
                "confidence": 0.9,
                "needs_review": False,
                "is_current": True,
                "source": "reply",
                "created_at": answered,
            }
        )
        for rank, code in enumerate(codes):
            reason_rows.append({"response_id": rid, "rank": rank, "code": code})

    for lid, _campaign, _source, rep_id, sent, hours, outcome, codes, comp in LEADS:
        status = "sent" if lid == 4 else "escalated" if lid == 9 else "clarifying" if lid == 8 else "answered"
        add(lid, "disposition", rep_id, sent, hours, outcome, codes, comp, lid, None, status)
    for did, _lead, _c, _s, rep_id, _a, _r, sent, hours, outcome, codes, comp in DEALS:
        add(
            100 + did,
            "winloss",
            rep_id,
            sent,
            hours,
            outcome,
            codes,
            comp,
            None,
            did,
            "sent" if hours is None else "answered",
        )
    # L10's first answer was superseded by a later one: it must not count anywhere
    responses.append(
        {
            "id": 99,
            "request_id": 10,
            "kind": "disposition",
            "outcome": "rejected",
            "competitor": "Initech",
            "reply_text": "old answer",
            "confidence": 0.5,
            "needs_review": False,
            "is_current": False,
            "source": "reply",
            "created_at": datetime(2026, 1, 21, 10),
        }
    )
    reason_rows.append({"response_id": 99, "rank": 0, "code": "no_need"})

    with engine.begin() as conn:
        conn.execute(
            insert(rep),
            _rows(
                rep,
                [
                    {
                        "id": i,
                        "email": e,
                        "name": n,
                        "team": t,
                        "language": "en",
                        "active": True,
                        "created_at": created,
                        "updated_at": created,
                    }
                    for i, e, n, t in reps
                ],
            ),
        )
        conn.execute(
            insert(lead),
            _rows(
                lead,
                [
                    {
                        "id": lid,
                        "crm_id": f"L-{lid}",
                        "name": f"Lead {lid}",
                        "company": f"Company {lid}",
                        "campaign": c,
                        "source": s,
                        "segment": "SMB" if lid % 2 else "Enterprise",
                        "rep_id": r,
                        "assigned_at": sent,
                        "created_at": created,
                        "updated_at": created,
                    }
                    for lid, c, s, r, sent, *_ in LEADS
                ],
            ),
        )
        conn.execute(
            insert(deal),
            _rows(
                deal,
                [
                    {
                        "id": did,
                        "crm_id": f"D-{did}",
                        "name": f"Deal {did}",
                        "amount": amount,
                        "currency": "USD",
                        "stage": "Closed " + result,
                        "result": result,
                        "rep_id": r,
                        "lead_id": lead_id,
                        "campaign": c,
                        "source": s,
                        "created_at": created,
                        "updated_at": created,
                    }
                    for did, lead_id, c, s, r, amount, result, *_ in DEALS
                ],
            ),
        )
        conn.execute(insert(req), _rows(req, requests))
        conn.execute(insert(resp), _rows(resp, responses))
        conn.execute(insert(reason), reason_rows)
        if engine.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table in ("rep", "lead", "deal", "feedback_request", "response", "response_reason"):
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )


def _pg_engine() -> Iterator[Engine]:
    assert PG_URL
    name = f"fb_reports_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        str(make_url(PG_URL).set(drivername="postgresql+psycopg")), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(str(make_url(PG_URL).set(database=name)))
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def seeded_engine(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated, seeded database on ``backend``; shared by the report test modules."""
    if backend == "postgresql":
        gen = _pg_engine()
        engine = next(gen)
    else:
        path = tmp_path_factory.mktemp("reports") / "feedback.db"
        engine = make_engine(f"sqlite:///{path}")
        gen = None
    try:
        upgrade(engine)
        seed(engine)
        yield engine
    finally:
        if gen is not None:
            gen.close()
        else:
            engine.dispose()


@pytest.fixture(scope="module", params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from seeded_engine(request.param, tmp_path_factory)


def make_settings(tz: str = "UTC") -> Settings:
    return load_settings({}, timezone=tz, reminder_after_hours=48.0)


SETTINGS = make_settings()


def rows_by(report: Report, section: str, key: str) -> dict[Any, dict[str, Any]]:
    return {row[key]: row for row in report.section(section).rows}


def kpis(report: Report) -> dict[str, Any]:
    return {row["metric"]: row["value"] for row in report.section("overview").rows}


# summary -----------------------------------------------------------------------------------------


def test_summary_overview(engine: Engine) -> None:
    k = kpis(summary(engine, Filters(), SETTINGS, now=NOW))
    assert k["Leads handed to sales"] == 10
    # L8 replied without an outcome and is waiting on a clarification: not answered
    assert k["Leads answered"] == Rate(7, 10)
    assert k["Leads: clarification asked"] == 1
    assert (k["Leads: replied, no outcome"], k["Leads: in review"]) == (0, 0)
    assert k["Leads accepted (of answered)"] == Rate(3, 7)
    # all 12 answer times: 1 2 2 3 4 4 | 5 6 8 10 12 20 -> (4 + 5) / 2
    assert k["Median hours to answer"] == 4.5
    assert k["Closed deals asked about"] == 5
    assert k["Deals answered"] == Rate(4, 5)
    assert k["Win rate (CRM)"] == Rate(3, 5)
    assert k["CRM and rep disagree"] == 1


def test_summary_by_campaign_and_source(engine: Engine) -> None:
    report = summary(engine, Filters(), SETTINGS, now=NOW)
    by = rows_by(report, "leads_by_campaign", "campaign")
    assert [r["campaign"] for r in report.section("leads_by_campaign").rows] == ["Webinar", "Ebook", "PPC"]
    web, ebook, ppc = by["Webinar"], by["Ebook"], by["PPC"]
    assert (web["handed"], web["answered"], web["accepted"]) == (4, Rate(3, 4), Rate(2, 3))
    assert (web["n_rejected"], web["n_recycled"]) == (1, 0)
    assert web["top_reason"] == "No budget (1)"  # tie with not_a_fit, broken by code
    assert web["median_hours"] == 4.0
    assert (ebook["handed"], ebook["answered"], ebook["accepted"]) == (3, Rate(3, 3), Rate(0, 3))
    assert (ebook["n_rejected"], ebook["n_recycled"]) == (2, 1)
    assert ebook["top_reason"] == "Not a fit (2)"
    assert ebook["median_hours"] == 3.0
    assert (ppc["handed"], ppc["answered"], ppc["accepted"]) == (3, Rate(1, 3), Rate(1, 1))
    assert (ppc["n_clarifying"], ppc["n_no_outcome"], ppc["n_review"]) == (1, 0, 0)
    assert ppc["top_reason"] == ""  # the superseded "no need" does not count
    assert ppc["median_hours"] == 12.5
    src = rows_by(report, "leads_by_source", "source")
    assert src["events"]["accepted"] == Rate(2, 3) and src["ads"]["handed"] == 3


def test_summary_reasons_and_competitors(engine: Engine) -> None:
    report = summary(engine, Filters(), SETTINGS, now=NOW)
    lead = {(r["outcome"], r["reason"]): r for r in report.section("lead_reasons").rows}
    assert (
        lead["Accepted", "Meeting booked"]["mentions"],
        lead["Accepted", "Meeting booked"]["primary"],
    ) == (2, 1)
    assert lead["Accepted", "Meeting booked"]["share"] == Rate(2, 3)
    assert lead["Rejected", "Not a fit"]["mentions"] == 3 and lead["Rejected", "Not a fit"]["primary"] == 2
    assert lead["Rejected", "Not a fit"]["share"] == Rate(3, 3)
    assert lead["Recycled", "Bad timing"]["share"] == Rate(1, 1)
    assert ("Rejected", "No need") not in lead
    assert [r["outcome"] for r in report.section("lead_reasons").rows][:3] == ["Accepted"] * 3
    wl = {(r["outcome"], r["reason"]): r for r in report.section("winloss_reasons").rows}
    assert wl["Lost", "Price"]["mentions"] == 2 and wl["Lost", "Price"]["primary"] == 1
    assert wl["Lost", "Price"]["share"] == Rate(2, 2)
    assert wl["No decision", "Status quo"]["mentions"] == 1
    outcomes = rows_by(report, "winloss_outcomes", "outcome")
    assert outcomes["Lost"]["share"] == Rate(2, 4) and outcomes["Won"]["responses"] == 1
    comp = rows_by(report, "competitors", "competitor")
    assert set(comp) == {"Contoso Suite", "Fabrikam"}
    contoso = comp["Contoso Suite"]
    assert (contoso["mentions"], contoso["deals"], contoso["won"], contoso["lost"]) == (2, 2, 1, 1)
    assert contoso["win_rate"] == Rate(1, 2) and contoso["lost_amount"] == Money((("USD", 5000.0),))
    assert contoso["top_reason"] == "Price (2)"
    assert comp["Fabrikam"]["win_rate"] == Rate(0, 0) and comp["Fabrikam"]["top_reason"] == "Not a fit (1)"


# the other reports -----------------------------------------------------------------------------


def test_funnel(engine: Engine) -> None:
    report = funnel(engine, Filters(), SETTINGS, now=NOW)
    stages = rows_by(report, "funnel", "stage")
    assert [stages[s]["leads"] for s in ("Leads handed", "Answered", "Accepted", "Opportunity", "Won")] == [
        10,
        7,
        3,
        3,
        2,
    ]
    assert stages["Won"]["of_previous"] == Rate(2, 3) and stages["Won"]["of_handed"] == Rate(2, 10)
    by = rows_by(report, "funnel_by_campaign", "campaign")
    assert [by["Webinar"][k] for k in ("handed", "answered", "accepted", "opportunity", "won")] == [
        4,
        3,
        2,
        2,
        1,
    ]
    assert [by["Ebook"][k] for k in ("handed", "answered", "accepted", "opportunity", "won")] == [
        3,
        3,
        0,
        0,
        0,
    ]
    assert [by["PPC"][k] for k in ("handed", "answered", "accepted", "opportunity", "won")] == [3, 1, 1, 1, 1]


def test_reasons_crossed_by_rep(engine: Engine) -> None:
    report = reasons(engine, Filters(by="rep", kind="disposition"), SETTINGS, now=NOW)
    rows = {(r["rep"], r["reason"]): r for r in report.section("disposition_reasons_by_rep").rows}
    # Alice: L1, L2 accepted (meeting_booked twice), L7 rejected (not_a_fit, wrong_contact)
    assert rows["Alice", "Meeting booked"]["mentions"] == 2
    assert rows["Alice", "Meeting booked"]["share"] == Rate(2, 2)
    assert rows["Alice", "Not a fit"]["share"] == Rate(1, 1)
    assert rows["Carol", "Not a fit"]["share"] == Rate(1, 1)  # Carol: L5 rejected, L6 recycled
    assert ("Bob", "No need") not in rows


def test_winloss(engine: Engine) -> None:
    report = winloss(engine, Filters(), SETTINGS, now=NOW)
    k = kpis(report)
    assert k["Win rate (CRM)"] == Rate(3, 5)
    assert (k["Amount won"], k["Amount lost"]) == (Money((("USD", 33000.0),)), Money((("USD", 12000.0),)))
    by = rows_by(report, "deals_by_campaign", "campaign")
    assert (by["Webinar"]["won"], by["Webinar"]["lost"], by["Webinar"]["win_rate"]) == (1, 1, Rate(1, 2))
    assert (by["Webinar"]["won_amount"], by["Webinar"]["lost_amount"]) == (
        Money((("USD", 10000.0),)),
        Money((("USD", 5000.0),)),
    )
    assert (by["Ebook"]["disagree"], by["PPC"]["answered"]) == (1, Rate(1, 2))
    flagged = report.section("disagreements").rows
    assert [(r["crm_id"], r["crm"], r["rep_said"]) for r in flagged] == [("D-3", "won", "Lost")]
    assert flagged[0]["reason"] == "Price"


def test_competitors(engine: Engine) -> None:
    report = competitors(engine, Filters(), SETTINGS, now=NOW)
    crossed = {
        (r["competitor"], r["reason"]): r["mentions"] for r in report.section("competitor_reasons").rows
    }
    assert crossed == {
        ("Contoso Suite", "Competitor"): 1,
        ("Contoso Suite", "Price"): 2,
        ("Fabrikam", "Not a fit"): 1,
    }


def test_responsiveness(engine: Engine) -> None:
    report = responsiveness(engine, Filters(), SETTINGS, now=NOW)
    reps = rows_by(report, "by_rep", "rep")
    assert (reps["Alice"]["sent"], reps["Alice"]["answered"], reps["Alice"]["median_hours"]) == (
        5,
        Rate(5, 5),
        4.0,
    )
    assert (reps["Bob"]["answered"], reps["Bob"]["median_hours"], reps["Bob"]["overdue"]) == (
        Rate(2, 4),
        7.5,
        2,
    )
    # L8 (clarification asked) and L9 (escalated) still wait for an answer: overdue like one only sent
    assert (reps["Carol"]["median_hours"], reps["Dan"]["median_hours"], reps["Dan"]["overdue"]) == (
        3.0,
        16.0,
        2,
    )
    teams = rows_by(report, "by_team", "team")
    assert (teams["East"]["sent"], teams["East"]["answered"], teams["East"]["median_hours"]) == (
        9,
        Rate(7, 9),
        5.0,
    )
    assert teams["East"]["overdue"] == 2 and teams["(none)"]["answered"] == Rate(1, 3)  # L8 is clarifying
    assert teams["(none)"]["n_clarifying"] == 1
    # overdue means unanswered for 48 h: on 8 January L4 (sent the 7th) is not yet, on the 10th it is
    early = responsiveness(engine, Filters(), SETTINGS, now=datetime(2026, 1, 8, 9))
    assert rows_by(early, "by_rep", "rep")["Bob"]["overdue"] == 0
    later = responsiveness(engine, Filters(), SETTINGS, now=datetime(2026, 1, 10, 9))
    assert rows_by(later, "by_rep", "rep")["Bob"]["overdue"] == 1


def test_trends_weeks_and_months(engine: Engine) -> None:
    weeks = rows_by(trends(engine, Filters(), SETTINGS, now=NOW), "trend", "week")
    assert list(weeks) == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26", "2026-02-02"]
    assert (weeks["2026-01-05"]["leads"], weeks["2026-01-05"]["answer_rate"]) == (4, Rate(3, 4))
    assert weeks["2026-01-05"]["accept_rate"] == Rate(2, 3)
    assert (weeks["2026-01-12"]["leads"], weeks["2026-01-12"]["accept_rate"]) == (4, Rate(0, 3))
    assert weeks["2026-02-02"]["win_rate"] == Rate(2, 3) and weeks["2026-01-26"]["deals"] == 2
    months = rows_by(trends(engine, Filters(period="month"), SETTINGS, now=NOW), "trend", "month")
    assert (months["2026-01-01"]["leads"], months["2026-01-01"]["deals"], months["2026-02-01"]["deals"]) == (
        10,
        2,
        3,
    )


def test_trend_buckets_follow_the_time_zone(engine: Engine) -> None:
    # L5 was sent Monday 03:00 UTC = Sunday 22:00 in New York: it belongs to the week before there
    ny = trends(engine, Filters(), make_settings("America/New_York"), now=NOW)
    weeks = rows_by(ny, "trend", "week")
    assert weeks["2026-01-05"]["leads"] == 5 and weeks["2026-01-12"]["leads"] == 3


def test_verbatims_and_export(engine: Engine) -> None:
    all_rows = verbatims(engine, Filters(), SETTINGS, now=NOW).section("verbatims").rows
    assert len(all_rows) == 12 and all("old answer" not in r["text"] for r in all_rows)
    price = verbatims(engine, Filters(reasons=("price",)), SETTINGS, now=NOW).section("verbatims").rows
    assert [r["crm_id"] for r in price] == ["D-3", "D-2"]  # newest first
    assert price[1]["reasons"] == "Competitor, Price"
    contoso = verbatims(engine, Filters(competitors=("contoso suite",)), SETTINGS, now=NOW)
    assert {r["crm_id"] for r in contoso.section("verbatims").rows} == {"D-2", "D-3"}
    rows = {
        r["crm_lead_id"] or r["crm_deal_id"]: r
        for r in export(engine, Filters(), SETTINGS, now=NOW).section("responses").rows
    }
    assert set(rows) == {f"L-{i}" for i in (1, 2, 3, 5, 6, 7, 8, 10)} | {f"D-{i}" for i in (1, 2, 3, 4)}
    assert rows["L-2"]["reasons"] == "opportunity_created;meeting_booked"
    assert rows["L-2"]["primary_reason"] == "opportunity_created" and rows["L-2"]["crm_deal_id"] == ""
    assert rows["D-3"]["crm_result"] == "won" and rows["D-3"]["outcome"] == "lost"
    assert rows["L-8"]["answered_at"] == "2026-01-15T05:00:00+00:00"  # from the response time
    # each time in the report's zone, as ``astimezone`` writes it (``reports.localtime``)
    ny = export(engine, Filters(), make_settings("America/New_York"), now=NOW).section("responses").rows
    zone = ZoneInfo("America/New_York")
    assert [r["answered_at"] for r in ny] == [
        datetime.fromisoformat(r["answered_at"]).astimezone(zone).isoformat(timespec="seconds")
        for r in export(engine, Filters(), SETTINGS, now=NOW).section("responses").rows
    ]
    assert ny[0]["answered_at"].endswith("-05:00")
    # a page with a limit probes each answer's reasons, a whole export on PostgreSQL reads the
    # reason facts: the same rows, reasons in the same rank order, the same texts
    whole = export(engine, Filters(), SETTINGS, now=NOW).section("responses").rows
    for n in (1, 5, len(whole)):
        assert export(engine, Filters(limit=n), SETTINGS, now=NOW).section("responses").rows == whole[:n]
    narrowed = export(engine, Filters(reasons=("price",)), SETTINGS, now=NOW).section("responses").rows
    assert narrowed == [r for r in whole if "price" in r["reasons"].split(";")]


# filters -----------------------------------------------------------------------------------------


def test_filters_narrow_every_figure(engine: Engine) -> None:
    k = kpis(summary(engine, Filters(campaigns=("webinar",)), SETTINGS, now=NOW))
    assert (k["Leads handed to sales"], k["Closed deals asked about"], k["Win rate (CRM)"]) == (
        4,
        2,
        Rate(1, 2),
    )
    k = kpis(summary(engine, Filters(reps=("bob@example.com",)), SETTINGS, now=NOW))
    assert (k["Leads handed to sales"], k["Leads answered"]) == (3, Rate(2, 3))
    k = kpis(summary(engine, Filters(teams=("West",)), SETTINGS, now=NOW))
    assert (k["Leads handed to sales"], k["Closed deals asked about"]) == (2, 1)
    k = kpis(summary(engine, Filters(sources=("ads",), kind="disposition"), SETTINGS, now=NOW))
    assert (k["Leads handed to sales"], k["Closed deals asked about"]) == (3, 0)


def test_date_filters(engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    from feedback.reports import parse_when

    tz = ZoneInfo("UTC")
    since = parse_when("2026-01-12", now=NOW, tz=tz)
    until = parse_when("2026-01-18", now=NOW, tz=tz, end=True)
    k = kpis(summary(engine, Filters(since=since, until=until), SETTINGS, now=NOW))
    assert k["Leads handed to sales"] == 4  # L5..L8
    # "4w" back from 1 March 12:00 is 1 February 12:00: D3..D5 only
    k = kpis(summary(engine, Filters(since=parse_when("4w", now=NOW, tz=tz)), SETTINGS, now=NOW))
    assert (k["Leads handed to sales"], k["Closed deals asked about"]) == (0, 3)
