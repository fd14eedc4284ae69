"""Reports date a request by its send, its answer, its lead's creation or its deal's close.

Imported CRM history is asked about in one ``feedback send``: dated by the send it is one point,
dated by the lead's creation or the deal's close it is the history. The fact columns behind the
two CRM dates follow every write (request, lead, deal, through the ORM and plain SQL), on both
backends.
"""

from __future__ import annotations

import json
import mailbox
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session
from test_report_fact import assert_exact, fact_of, seed_parents
from typer.testing import CliRunner

from feedback.reports import Filters, reasons, summary, trends
from feedback.runtime.settings import Settings, load_settings
from feedback.storage.models import Deal, FeedbackRequest, Lead, Response, ResponseReason

T0 = datetime(2026, 3, 2, 9, 0)
NOON = timedelta(hours=12)


def _dt(value: Any) -> datetime | None:
    """A time read with plain SQL: SQLite hands back the stored text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def dates_of(engine: Engine, request_id: int) -> tuple[datetime | None, datetime | None]:
    """(created_at, closed_at) of the request's fact row, checked against the view."""
    row = fact_of(engine, request_id)
    return _dt(row["created_at"]), _dt(row["closed_at"])


def test_crm_dates_follow_every_write(engine: Engine) -> None:
    ids = seed_parents(engine)  # lead l1 (no CRM date) -> deal d1
    with Session(engine) as s:
        q1 = FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], sent_at=T0)
        q2 = FeedbackRequest(kind="winloss", deal_id=ids["d1"], rep_id=ids["r2"], sent_at=T0)
        s.add_all([q1, q2])
        s.commit()
        q1_id, q2_id = q1.id or 0, q2.id or 0
        lead_imported = s.get(Lead, ids["l1"]).created_at  # type: ignore[union-attr]
    # no CRM date yet: the lead was created when it was imported; a deal dates by its lead
    assert dates_of(engine, q1_id) == (lead_imported, None)
    assert dates_of(engine, q2_id) == (lead_imported, None)

    # a re-import brings the CRM's created date (plain SQL) and the close date (ORM)
    created = datetime(2026, 1, 7, 15, 30)
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE lead SET assigned_at = :at WHERE id = :id"), {"at": created, "id": ids["l1"]}
        )
    with Session(engine) as s:
        deal = s.get(Deal, ids["d1"])
        assert deal is not None
        deal.close_date, deal.result = date(2026, 2, 20), "won"
        s.add(deal)
        s.commit()
    assert dates_of(engine, q1_id) == (created, None)
    # the deal's lead changed, not the deal: its creation follows all the same
    assert dates_of(engine, q2_id) == (created, datetime(2026, 2, 20) + NOON)

    # the deal is re-linked to the other lead, then to none: its creation follows
    with engine.begin() as conn:
        conn.execute(text("UPDATE lead SET assigned_at = :at WHERE id = :id"), {"at": T0, "id": ids["l2"]})
        conn.execute(text("UPDATE deal SET lead_id = :l WHERE id = :id"), {"l": ids["l2"], "id": ids["d1"]})
    assert dates_of(engine, q2_id)[0] == T0
    with engine.begin() as conn:
        conn.execute(text("UPDATE deal SET lead_id = NULL WHERE id = :id"), {"id": ids["d1"]})
        deal_imported = conn.execute(text("SELECT created_at FROM deal")).scalar_one()
    assert dates_of(engine, q2_id)[0] == _dt(deal_imported)

    # an answer brings the reason rows their dates; a later close-date change reaches them too
    with Session(engine) as s:
        answer = Response(request_id=q2_id, kind="winloss", outcome="won", created_at=T0)
        s.add(answer)
        s.flush()
        s.add(ResponseReason(response_id=answer.id or 0, rank=0, code="product_fit"))
        s.commit()
    with engine.begin() as conn:
        conn.execute(
            text("UPDATE deal SET close_date = :d WHERE id = :id"), {"d": date(2026, 2, 27), "id": ids["d1"]}
        )
    assert_exact(engine)  # both facts equal their views
    with engine.connect() as conn:
        got = conn.execute(text("SELECT answered_at, closed_at FROM report_reason_fact")).one()
    assert (_dt(got[0]), _dt(got[1])) == (T0, datetime(2026, 2, 27) + NOON)


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def _history(tmp_path: Path) -> dict[str, Path]:
    """Two months of CRM history: two leads created each week from 5 January 2026 (nine weeks),
    a deal opened from every third lead, closed one to four weeks later."""
    leads, deals = [], []
    for i in range(18):
        created = datetime(2026, 1, 5, 9) + timedelta(weeks=i // 2, hours=i % 2)
        campaign = "Webinar" if i % 2 else "Ebook"
        leads.append(f"L{i},Lead {i},Co {i},{campaign},web,ann@example.com,{created:%Y-%m-%d %H:%M}")
        if i % 3 == 0:
            closed = created.date() + timedelta(weeks=1 + i % 4)
            result = "Closed Won" if i % 2 else "Closed Lost"
            deals.append(f"D{i},Deal {i},1000,{result},{closed},ann@example.com,L{i}")
    return {
        "reps": _write(tmp_path / "reps.csv", "email,name,team", ["ann@example.com,Ann,East"]),
        "leads": _write(
            tmp_path / "leads.csv",
            "Lead ID,Name,Company,Campaign,Lead Source,Owner Email,Created Date",
            leads,
        ),
        "deals": _write(
            tmp_path / "deals.csv", "Deal ID,Deal Name,Amount,Stage,Close Date,Owner Email,Lead ID", deals
        ),
    }


def app_of() -> Any:
    from cli.main import app

    return app


def _cli(env: dict[str, str], *args: str) -> Any:
    result = CliRunner().invoke(app_of(), list(args), env=env)
    assert result.exit_code == 0, result.output
    return result


def _weeks(env: dict[str, str], *args: str) -> dict[str, tuple[int, int]]:
    """trends as JSON -> {week: (leads handed, closed deals)}."""
    data = json.loads(_cli(env, "report", "trends", "-f", "json", *args).stdout)
    return {r["week"]: (r["leads"], r["deals"]) for r in data["sections"][0]["rows"]}


def test_trends_show_imported_history_by_crm_dates(settings: Settings, tmp_path: Path) -> None:
    files = _history(tmp_path)
    env = {
        "FEEDBACK_DATABASE_URL": settings.resolved_database_url,
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_SECRET": "x" * 32,
        "FEEDBACK_SEND_SINCE": "2020-01-01T00:00:00",
        "FEEDBACK_DAILY_CAP_PER_REP": "100",
        "FEEDBACK_BUSINESS_TIME": "false",  # the suite runs at any hour, on any day
    }
    (tmp_path / "var").mkdir()
    mailbox.Maildir(tmp_path / "var" / "outbox", create=True)  # `send` needs it (issue 13, item 14)
    for kind in ("reps", "leads", "deals"):
        _cli(env, "import", kind, str(files[kind]))
    _cli(env, "send")  # every lead and closed deal asked about today

    by_send = _weeks(env)
    assert len(by_send) == 1 and list(by_send.values()) == [(18, 6)]  # what was reported

    by_creation = _weeks(env, "--date-by", "created")
    assert sorted(by_creation) == [(date(2026, 1, 5) + timedelta(weeks=w)).isoformat() for w in range(9)]
    assert all(leads == 2 for leads, _ in by_creation.values())
    assert sum(d for _, d in by_creation.values()) == 6  # a deal dates by the lead it came from

    by_close = _weeks(env, "--date-by", "closed")
    assert sum(d for _, d in by_close.values()) == 6 and all(n == 0 for n, _ in by_close.values())
    # closed 12 Jan, 9 Feb, 16 Feb (two), 23 Feb, 23 Mar
    assert sorted(by_close) == ["2026-01-12", "2026-02-09", "2026-02-16", "2026-02-23", "2026-03-23"]

    # --since/--until read the same date: January's leads (weeks of 5, 12, 19, 26 January)
    january = _weeks(env, "--date-by", "created", "--since", "2026-01-01", "--until", "2026-01-31")
    assert sorted(january) == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
    summary_json = json.loads(
        _cli(
            env,
            "report",
            "summary",
            "-f",
            "json",
            "--date-by",
            "created",
            "--since",
            "2026-01-01",
            "--until",
            "2026-01-31",
        ).stdout
    )
    overview = {r["metric"]: r["value"] for r in summary_json["sections"][0]["rows"]}
    assert overview["Leads handed to sales"] == 8
    assert summary_json["filters"]["date_by"] == "created"

    # the default and the choices are in --help
    help_text = _cli(env, "report", "trends", "--help").stdout
    assert "--date-by" in help_text and "[default: sent]" in help_text
    wrong = CliRunner().invoke(app_of(), ["report", "trends", "--date-by", "shipped"], env=env)
    assert wrong.exit_code == 2 and "shipped" in wrong.output


def test_dating_by_answer_counts_answers_of_the_period(engine: Engine) -> None:
    """A request answered in February but sent in January is February's when dated by answer."""
    ids = seed_parents(engine)
    with Session(engine) as s:
        sent = FeedbackRequest(kind="disposition", lead_id=ids["l1"], rep_id=ids["r1"], sent_at=T0)
        other = FeedbackRequest(kind="disposition", lead_id=ids["l2"], rep_id=ids["r2"], sent_at=T0)
        s.add_all([sent, other])
        s.flush()
        answer = Response(
            request_id=sent.id or 0,
            kind="disposition",
            outcome="rejected",
            created_at=T0 + timedelta(days=30),
        )
        s.add(answer)
        s.flush()
        s.add(ResponseReason(response_id=answer.id or 0, rank=0, code="no_budget"))
        s.commit()
    settings = load_settings({}, timezone="UTC")
    april = Filters(since=datetime(2026, 4, 1), until=datetime(2026, 5, 1), date_by="answered")
    overview = {r["metric"]: r["value"] for r in summary(engine, april, settings).sections[0].rows}
    assert overview["Leads handed to sales"] == 1  # the unanswered one has no answer date
    assert summary(engine, Filters(since=datetime(2026, 4, 1)), settings).sections[0].rows[0]["value"] == 0
    lead_reasons = reasons(engine, april, settings).sections[0].rows
    assert [r["mentions"] for r in lead_reasons] == [1]  # the reason fact reads the same date
    weeks = trends(engine, Filters(date_by="answered"), settings).sections[0].rows
    assert [r["week"] for r in weeks] == ["2026-03-30"]  # answered Wed 1 April
