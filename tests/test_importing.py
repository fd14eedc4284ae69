"""CRM CSV import, function level: headers, upserts, row errors with lines, refusals, parsers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from feedback.importing import (
    OWNER_UNKNOWN,
    FileRefused,
    ImportResult,
    import_deals,
    import_file,
    import_leads,
    import_reps,
    map_stage,
    parse_amount,
    parse_date,
    parse_datetime,
    read_csv,
)
from feedback.runtime.settings import Settings
from feedback.storage.db import make_engine, session_scope, upgrade
from feedback.storage.models import Deal, Lead, Rep, RepAlias

REPS = (
    "email,name,team,manager_email,language,aliases\n"
    "Ann.Lee@brightline.example,Ann Lee,East,boss@brightline.example,en,ann@home.example;a.lee@old.example\n"
    "bo.kim@brightline.example,Bo Kim,West,boss2@brightline.example,de,\n"
)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine("sqlite:///" + str(tmp_path / "t.db"))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def settings() -> Settings:
    return Settings(timezone="Europe/Berlin")


def run(engine: Engine, kind: str, text: str | bytes, settings: Settings | None = None) -> ImportResult:
    data = text.encode() if isinstance(text, str) else text
    importer = {"reps": import_reps, "leads": import_leads, "deals": import_deals}[kind]
    with session_scope(engine) as session:
        return importer(session=session, rows=read_csv(data), settings=settings)


def count(engine: Engine, model: type[Rep] | type[Lead] | type[Deal] | type[RepAlias]) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def one_lead(engine: Engine, crm_id: str) -> Lead:
    with Session(engine) as session:
        return session.exec(select(Lead).where(Lead.crm_id == crm_id)).one()


def one_deal(engine: Engine, crm_id: str) -> Deal:
    with Session(engine) as session:
        return session.exec(select(Deal).where(Deal.crm_id == crm_id)).one()


def rep_email(engine: Engine, rep_id: int | None) -> str | None:
    with Session(engine) as session:
        rep = session.get(Rep, rep_id) if rep_id else None
        return rep.email if rep else None


# --- recognised forms -------------------------------------------------------------------


def test_generic_reps_with_aliases(engine: Engine) -> None:
    result = run(engine, "reps", REPS)
    assert (result.created, result.errors) == (2, [])
    with Session(engine) as session:
        ann = session.exec(select(Rep).where(Rep.email == "ann.lee@brightline.example")).one()
        assert (ann.name, ann.team, ann.manager_email, ann.language) == (
            "Ann Lee",
            "East",
            "boss@brightline.example",
            "en",
        )
        aliases = {a.email for a in session.exec(select(RepAlias).where(RepAlias.rep_id == ann.id))}
    assert aliases == {"ann@home.example", "a.lee@old.example"}


def test_salesforce_users_leads_and_opportunities(engine: Engine, settings: Settings) -> None:
    users = (
        "User ID,First Name,Last Name,Email,Role,Manager Email,Active\n"
        "005A1,Ann,Lee,ann.lee@brightline.example,AE East,boss@brightline.example,true\n"
    )
    assert run(engine, "reps", users).created == 1
    leads = (
        "Lead ID,First Name,Last Name,Title,Company,Email,Lead Source,Primary Campaign Source,"
        "Lead Owner,Created Date\n"
        "00Q1,Max,Moe,CFO,Acme Corp,max@acme.example,Web,Spring Webinar,Ann Lee,10/5/2026 9:30 AM\n"
    )
    assert run(engine, "leads", leads, settings).created == 1
    lead = one_lead(engine, "00Q1")
    assert (lead.name, lead.title, lead.company, lead.source, lead.campaign) == (
        "Max Moe",
        "CFO",
        "Acme Corp",
        "Web",
        "Spring Webinar",
    )
    assert rep_email(engine, lead.rep_id) == "ann.lee@brightline.example"
    assert lead.assigned_at == datetime(2026, 10, 5, 7, 30)  # 9:30 Berlin summer time, as UTC
    opps = (
        "Opportunity ID,Opportunity Name,Account Name,Amount,Stage,Close Date,Opportunity Owner,"
        "Converted Lead ID\n"
        '006X,Acme expansion,Acme Corp,"$12,500.00",Closed Won,11/3/2026,Ann Lee,00Q1\n'
    )
    assert run(engine, "deals", opps, settings).created == 1
    deal = one_deal(engine, "006X")
    assert (deal.amount, deal.currency, deal.result, deal.stage, deal.close_date) == (
        12500.0,
        "USD",
        "won",
        "Closed Won",
        date(2026, 11, 3),
    )
    assert deal.lead_id == lead.id


def test_hubspot_contacts_and_deals(engine: Engine, settings: Settings) -> None:
    run(engine, "reps", REPS)
    contacts = (
        "Record ID,First Name,Last Name,Email,Job Title,Company Name,Original Source,Latest Source,"
        "First campaign,HubSpot Owner email,Create Date,Owner assigned date\n"
        "501,Eva,Nagy,eva@nagy.example,COO,Nagy Kft,Organic Search,Direct Traffic,Q4 Push,"
        "BO.KIM@brightline.example,2026-10-01 08:00,2026-10-02 10:15\n"
    )
    assert run(engine, "leads", contacts, settings).created == 1
    lead = one_lead(engine, "501")
    assert (lead.source, lead.campaign, lead.title, lead.company) == (
        "Organic Search",
        "Q4 Push",
        "COO",
        "Nagy Kft",
    )
    assert lead.assigned_at == datetime(2026, 10, 2, 8, 15)  # assigned date wins over create date
    assert rep_email(engine, lead.rep_id) == "bo.kim@brightline.example"
    deals = (
        "Record ID,Deal Name,Amount,Deal Stage,Close Date,Deal owner,Original Source,Associated Contact IDs\n"
        "9001,Nagy rollout,9900,Closed lost,2026-11-20 16:00,Bo Kim,,501\n"
    )
    assert run(engine, "deals", deals, settings).created == 1
    deal = one_deal(engine, "9001")
    assert (deal.result, deal.amount, deal.lead_id, deal.source) == (
        "lost",
        9900.0,
        lead.id,
        "Organic Search",
    )


def test_headers_match_ignoring_case_spaces_and_underscores(engine: Engine) -> None:
    run(engine, "reps", REPS)
    text = "LEAD_ID;first-name;LastName;OWNER EMAIL;lead source\nL9;Jo;Doe;ann.lee@brightline.example;Event\n"
    result = run(engine, "leads", text)
    assert (result.created, result.errors) == (1, [])
    assert one_lead(engine, "L9").name == "Jo Doe"


# --- upserts --------------------------------------------------------------------------------


def test_reimport_updates_rather_than_duplicates(engine: Engine) -> None:
    run(engine, "reps", REPS)
    leads = "id,name,campaign,rep_email\nL1,One,Alpha,ann.lee@brightline.example\nL2,Two,Beta,\n"
    assert run(engine, "leads", leads).created == 2
    again = run(engine, "leads", leads)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    changed = run(engine, "leads", leads.replace("Beta", "Gamma"))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 1)
    assert count(engine, Lead) == 2
    assert one_lead(engine, "L2").campaign == "Gamma"

    reps_again = run(engine, "reps", REPS.replace("Ann.Lee@", "ANN.LEE@").replace(",East,", ",North,"))
    assert (reps_again.created, reps_again.updated, reps_again.unchanged) == (0, 1, 1)
    assert count(engine, Rep) == 2
    assert count(engine, RepAlias) == 2


# --- bad rows and bad files ------------------------------------------------------------------


def test_bad_rows_reported_by_line_while_good_rows_land(engine: Engine) -> None:
    run(engine, "reps", REPS)
    text = (
        "id,name,company,amount,stage,close_date,rep_email,description\n"  # line 1
        "D1,Good one,Acme,100,Closed Won,2026-11-01,ann.lee@brightline.example,\n"  # 2
        'D2,Two,Acme,200,Closed Lost,2026-11-02,bo.kim@brightline.example,"A note\nspanning\nthree lines"\n'
        "D3,Bad amount,Acme,lots,Closed Won,2026-11-03,ann.lee@brightline.example,\n"  # 6
        "D4,Bad date,Acme,5,Closed Won,31.31.2026,ann.lee@brightline.example,\n"  # 7
        "\n"  # 8: blank lines are skipped, not refused
        'D5,"A name\non two lines",Acme,5,Closed Won,2026-11-03,ann.lee@brightline.example,\n'  # 9-10
        ",No id,Acme,5,Closed Won,2026-11-03,ann.lee@brightline.example,\n"  # 11
        "D6,Good two,Acme,300,Open,2026-11-05,Bo Kim,\n"  # 12
    )
    result = run(engine, "deals", text)
    assert result.created == 3
    assert [e.line for e in result.errors] == [6, 7, 9, 11]
    reasons = " | ".join(e.reason for e in result.errors)
    assert "'lots' is not an amount" in reasons
    assert "'31.31.2026' is not a date" in reasons
    assert "line break" in reasons
    assert "no deal id" in reasons
    assert one_deal(engine, "D2").name == "Two"  # a line break in an ignored column is no reason
    assert count(engine, Deal) == 3


def test_row_with_too_many_cells_is_refused(engine: Engine) -> None:
    run(engine, "reps", REPS)
    text = "id,name,amount\nD1,Fine,100\nD2,Unquoted,12,500\n"
    result = run(engine, "deals", text)
    assert result.created == 1
    assert result.errors[0].line == 3
    assert "header has 3 columns" in result.errors[0].reason


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "PNG image"),
        (b'{"leads": [{"id": 1}]}', "JSON"),
        (b"", "empty"),
        (b"   \r\n\n", "empty"),
        (bytes(range(256)) * 4, "binary"),
        (b"PK\x03\x04rest-of-an-xlsx", "xlsx"),
        (b"<html><body><table></table></body></html>", "HTML"),
        (b"hello world\nthis is just text\n", "no recognisable leads header"),
    ],
)
def test_non_csv_is_refused_and_nothing_written(
    engine: Engine, tmp_path: Path, data: bytes, message: str
) -> None:
    path = tmp_path / "upload.csv"
    path.write_bytes(data)
    with pytest.raises(FileRefused, match=message), session_scope(engine) as session:
        import_file(session=session, kind="leads", path=path)
    assert count(engine, Lead) == 0


def test_encoding_and_delimiter_detection(engine: Engine) -> None:
    run(engine, "reps", REPS)
    cp1252 = "Lead ID;Last Name;Company;Lead Owner\r\nL1;Müller;Café Noël;Ann Lee\r\n".encode("cp1252")
    assert run(engine, "leads", cp1252).created == 1
    assert one_lead(engine, "L1").company == "Café Noël"
    bom_tab = "\ufeffid\tname\trep_email\nL2\tZoë\tann.lee@brightline.example\n".encode()
    assert run(engine, "leads", bom_tab).created == 1
    assert one_lead(engine, "L2").name == "Zoë"
    utf16 = "id\tname\nL3\tŁukasz\n".encode("utf-16")
    assert run(engine, "leads", utf16).created == 1
    table = read_csv(b"sep=;\nid;name\nL4;X\n")
    assert (table.delimiter, table.rows[0].line) == (";", 3)


# --- cell parsers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stage", "expected"),
    [
        ("Closed Won", "won"),
        ("closedwon", "won"),
        ("CLOSED LOST", "lost"),
        ("Closed - No Decision", "lost"),
        ("Closed Won - Renewal", "won"),
        ("Lost to competitor", "lost"),
        ("Negotiation/Review", "open"),
        ("", "open"),
        ("Wonderful", "open"),
    ],
)
def test_stage_mapping(stage: str, expected: str) -> None:
    assert map_stage(stage, Settings().crm_stages) == expected


def test_stage_mapping_follows_settings(engine: Engine) -> None:
    run(engine, "reps", REPS)
    settings = Settings(crm_stages={"Signed": "won", "Dead": "lost"})
    result = run(engine, "deals", "id,stage\nD1,signed\nD2,DEAD\nD3,Closed Won\n", settings)
    assert result.created == 3
    assert [one_deal(engine, d).result for d in ("D1", "D2", "D3")] == ["won", "lost", "won"]


BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-10-05", datetime(2026, 10, 4, 22, 0)),
        ("2026-10-05T09:30:00", datetime(2026, 10, 5, 7, 30)),
        ("2026-10-05 09:30", datetime(2026, 10, 5, 7, 30)),
        ("2026-10-05T09:30:00Z", datetime(2026, 10, 5, 9, 30)),
        ("2026-10-05T09:30:00-05:00", datetime(2026, 10, 5, 14, 30)),
        ("2026-11-05 09:30 UTC", datetime(2026, 11, 5, 9, 30)),
        ("10/5/2026", datetime(2026, 10, 4, 22, 0)),
        ("10/5/2026 9:30 PM", datetime(2026, 10, 5, 19, 30)),
        ("10/5/2026, 9:30 AM", datetime(2026, 10, 5, 7, 30)),
        ("5.10.2026", datetime(2026, 10, 4, 22, 0)),
        ("05.11.2026 14:00", datetime(2026, 11, 5, 13, 0)),  # winter time: UTC+1
    ],
)
def test_datetime_formats_become_naive_utc(value: str, expected: datetime) -> None:
    parsed = parse_datetime(value, tz=BERLIN)
    assert parsed == expected
    assert parsed.tzinfo is None


def test_close_date_is_the_local_day() -> None:
    assert parse_date("2026-11-03T23:30:00Z", tz=BERLIN) == date(2026, 11, 4)
    assert parse_date("11/3/2026", tz=BERLIN) == date(2026, 11, 3)
    assert parse_date("3.11.2026", tz=BERLIN) == date(2026, 11, 3)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("$12,500.00", (12500.0, "USD")),
        ("12.500,00 €", (12500.0, "EUR")),
        ("12500", (12500.0, None)),
        ("12,500", (12500.0, None)),
        ("1.250.000", (1250000.0, None)),
        ("9 900,50 EUR", (9900.5, "EUR")),
        ("£1,000", (1000.0, "GBP")),
        ("", (None, None)),
    ],
)
def test_amount_formats(value: str, expected: tuple[float | None, str | None]) -> None:
    assert parse_amount(value) == expected


def test_amount_currency_lands_on_the_deal(engine: Engine) -> None:
    run(engine, "deals", 'id,amount\nD1,"12.500,00 €"\n')
    deal = one_deal(engine, "D1")
    assert (deal.amount, deal.currency) == (12500.0, "EUR")


# --- attribution and owners ---------------------------------------------------------------------


def test_deal_inherits_lead_attribution(engine: Engine) -> None:
    run(engine, "reps", REPS)
    run(
        engine,
        "leads",
        "id,name,campaign,source,segment,rep_email\n"
        "L1,Lead,Webinar Q4,Event,Enterprise,bo.kim@brightline.example\n",
    )
    deals = (
        "id,name,amount,stage,lead_id,campaign,source,segment,rep_email\n"
        "D1,From lead,1000,Closed Won,L1,,,,\n"
        "D2,Own source,1000,Closed Won,L1,,Partner,,ann.lee@brightline.example\n"
        "D3,Unknown lead,1000,Closed Lost,L404,,,,ann.lee@brightline.example\n"
    )
    result = run(engine, "deals", deals)
    assert (result.created, result.errors) == (3, [])
    d1, d2, d3 = (one_deal(engine, d) for d in ("D1", "D2", "D3"))
    lead = one_lead(engine, "L1")
    assert (d1.lead_id, d1.campaign, d1.source, d1.segment) == (lead.id, "Webinar Q4", "Event", "Enterprise")
    assert rep_email(engine, d1.rep_id) == "bo.kim@brightline.example"  # owner taken from the lead
    assert (d2.campaign, d2.source) == ("Webinar Q4", "Partner")
    assert rep_email(engine, d2.rep_id) == "ann.lee@brightline.example"
    assert d3.lead_id is None
    assert [w.line for w in result.warnings] == [4]
    assert "L404" in result.warnings[0].reason


def test_owner_resolved_by_email_alias_or_name(engine: Engine) -> None:
    run(engine, "reps", REPS)
    leads = (
        "id,rep\n"
        "L1,  ann   LEE \n"  # name: case and spacing ignored
        "L2,ann@home.example\n"  # an alias address
        "L3,Bo Kim\n"
        "L4,Nobody Here\n"
    )
    result = run(engine, "leads", leads)
    assert (result.created, result.errors) == (4, [])  # an unknown owner lands, listed as unaskable
    assert [(u.line, u.reason, u.owner) for u in result.unaskable] == [(5, OWNER_UNKNOWN, "Nobody Here")]
    assert rep_email(engine, one_lead(engine, "L1").rep_id) == "ann.lee@brightline.example"
    assert rep_email(engine, one_lead(engine, "L2").rep_id) == "ann.lee@brightline.example"
    assert rep_email(engine, one_lead(engine, "L3").rep_id) == "bo.kim@brightline.example"


def test_rep_rows_refused_for_bad_email_or_taken_alias(engine: Engine) -> None:
    run(engine, "reps", REPS)
    text = (
        "email,name,aliases\n"
        "not-an-address,X,\n"
        "cy.ng@brightline.example,Cy Ng,ann@home.example\n"
        "dee@brightline.example,Dee,\n"
    )
    result = run(engine, "reps", text)
    assert result.created == 1
    assert [e.line for e in result.errors] == [2, 3]
    assert "already belongs to ann.lee@brightline.example" in result.errors[1].reason


# --- the shipped sample ---------------------------------------------------------------------------


def test_sample_files_import_without_errors(engine: Engine) -> None:
    sample = resources.files("feedback") / "data" / "sample"
    results = {}
    with session_scope(engine) as session:
        for kind in ("reps", "leads", "deals"):
            results[kind] = import_file(session=session, kind=kind, path=Path(str(sample / f"{kind}.csv")))
    for result in results.values():
        assert result.errors == [] and result.warnings == []
    assert (results["reps"].created, results["leads"].created, results["deals"].created) == (6, 24, 12)
    with Session(engine) as session:
        teams = set(session.exec(select(Rep.team)).all())
        campaigns = set(session.exec(select(Lead.campaign)).all())
        sources = set(session.exec(select(Lead.source)).all())
        results_seen = set(session.exec(select(Deal.result)).all())
        linked = session.exec(select(func.count()).select_from(Deal).where(Deal.lead_id.is_not(None))).one()  # type: ignore[union-attr]
        unowned = session.exec(select(func.count()).select_from(Lead).where(Lead.rep_id.is_(None))).one()  # type: ignore[union-attr]
    assert len(teams) == 2 and len(campaigns) == 4 and len(sources) == 4
    assert results_seen == {"won", "lost"}
    assert linked >= 4 and unowned == 0
