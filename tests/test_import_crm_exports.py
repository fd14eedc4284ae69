"""CRM exports as Salesforce, HubSpot, Pipedrive and Dynamics 365 write them; owners by full name;
what an import reports (columns read and ignored, rows never to be asked about, duplicate ids);
control characters refused in every imported or typed field. Runs on SQLite and PostgreSQL
(the conftest ``engine`` / ``database_url``)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select
from typer.testing import CliRunner

from cli.main import app
from feedback.importing import (
    COLUMNS,
    NO_OWNER,
    OWNER_AMBIGUOUS,
    OWNER_UNKNOWN,
    REP_INACTIVE,
    ImportResult,
    InvalidValue,
    check_text,
    control_character,
    import_deals,
    import_leads,
    import_reps,
    line_ranges,
    normalise_header,
    parse_currency,
    read_csv,
    upsert_rep,
)
from feedback.runtime.settings import Settings
from feedback.storage.db import session_scope
from feedback.storage.models import Deal, Lead, Rep

runner = CliRunner()


def run(engine: Engine, kind: str, text: str, settings: Settings | None = None) -> ImportResult:
    importer = {"reps": import_reps, "leads": import_leads, "deals": import_deals}[kind]
    with session_scope(engine) as session:
        return importer(session=session, rows=read_csv(text.encode()), settings=settings)


def lead(engine: Engine, crm_id: str) -> tuple[Lead, str | None]:
    with Session(engine) as session:
        found = session.exec(select(Lead).where(Lead.crm_id == crm_id)).one()
        rep = session.get(Rep, found.rep_id) if found.rep_id else None
        return found, rep.email if rep else None


def deal(engine: Engine, crm_id: str) -> tuple[Deal, str | None]:
    with Session(engine) as session:
        found = session.exec(select(Deal).where(Deal.crm_id == crm_id)).one()
        rep = session.get(Rep, found.rep_id) if found.rep_id else None
        return found, rep.email if rep else None


def rep(engine: Engine, email: str) -> Rep:
    with Session(engine) as session:
        return session.exec(select(Rep).where(Rep.email == email)).one()


def clean(result: ImportResult) -> bool:
    return not (result.errors or result.warnings or result.unaskable or result.duplicates)


# --- the four CRMs, with their real header rows -------------------------------------------------


def test_salesforce_report_exports(engine: Engine, settings: Settings) -> None:
    users = (
        "Full Name,Email,Role,User ID,Active,Manager: Full Name,Username,Alias,Last Login\n"
        "Ann Lee,ann.lee@brightline.example,AE East,0055e000001AaaA,1,,ann.lee@brightline.example.sf,alee,"
        "10/1/2026 9:00 AM\n"
        "Bo Kim,bo.kim@brightline.example,AE West,0055e000001BbbB,1,Ann Lee,bo@sf,bkim,\n"
    )
    result = run(engine, "reps", users)
    assert (result.created, clean(result)) == (2, True)
    assert (
        rep(engine, "bo.kim@brightline.example").team,
        rep(engine, "bo.kim@brightline.example").manager_email,
    ) == (
        "AE West",
        "ann.lee@brightline.example",
    )
    leads = (
        '"Lead Owner","First Name","Last Name","Title","Company / Account","Email","Lead Source",'
        '"Lead Status","Create Date","Owner Full Name","Lead ID","Rating"\n'
        '"ann lee","Max","Moe","CFO","Acme Corp","max@acme.example","Web","Working - Contacted",'
        '"10/5/2026","Ann Lee","00Q5e00000AbCdE","Hot"\n'
        '"","Ida","Ng","CTO","Ng Labs","ida@ng.example","Partner","Open","10/6/2026","Bo  KIM",'
        '"00Q5e00000FgHiJ",""\n'
    )
    result = run(engine, "leads", leads, settings)
    assert (result.created, clean(result)) == (2, True)
    first, owner = lead(engine, "00Q5e00000AbCdE")
    assert (first.company, first.title, first.source, owner) == (
        "Acme Corp",
        "CFO",
        "Web",
        "ann.lee@brightline.example",
    )
    assert lead(engine, "00Q5e00000FgHiJ")[1] == "bo.kim@brightline.example"  # Owner Full Name
    opportunities = (
        "Opportunity Owner: Full Name,Account Name: Account Name,Opportunity Name,Stage,Fiscal Period,"
        "Amount,Probability (%),Age,Close Date,Created Date,Next Step,Lead Source,Type,Opportunity ID,"
        "Primary Campaign Source\n"
        'Bo Kim,Ng Labs,Ng Labs - Platform,Closed Lost,Q4-2026,"$9,500.00",0,30,11/3/2026,10/4/2026,,'
        "Partner,New Business,0065e00000XyZ01,Autumn Show\n"
    )
    result = run(engine, "deals", opportunities, settings)
    assert (result.created, clean(result)) == (1, True)
    opp, owner = deal(engine, "0065e00000XyZ01")
    assert (opp.company, opp.result, opp.amount, opp.currency, opp.close_date, opp.campaign, owner) == (
        "Ng Labs",
        "lost",
        9500.0,
        "USD",
        date(2026, 11, 3),
        "Autumn Show",
        "bo.kim@brightline.example",
    )


def test_salesforce_converted_opportunity_links_the_deal_to_its_lead(
    engine: Engine, settings: Settings
) -> None:
    run(engine, "reps", "Full Name,Email\nAnn Lee,ann@b.example\n")
    opportunities = (
        "Opportunity ID,Opportunity Name,Account Name,Stage,Amount,Close Date,Opportunity Owner\n"
        "006X1,Acme - Platform,Acme Corp,Closed Won,1000,11/3/2026,Ann Lee\n"
    )
    run(engine, "deals", opportunities, settings)
    leads = (
        "Lead ID,First Name,Last Name,Company / Account,Lead Source,Primary Campaign Source,Lead Owner,"
        "Converted,Converted Opportunity ID\n"
        "00Q1,Max,Moe,Acme Corp,Web,Spring Webinar,Ann Lee,1,006X1\n"
        "00Q2,Ida,Ng,Ng Labs,Partner,,Ann Lee,1,006X9\n"
    )
    result = run(engine, "leads", leads, settings)
    assert (result.created, result.errors) == (2, [])
    assert [(w.line, "006X9" in w.reason) for w in result.warnings] == [(3, True)]
    won = deal(engine, "006X1")[0]
    assert (won.lead_id, won.campaign, won.source) == (lead(engine, "00Q1")[0].id, "Spring Webinar", "Web")


def test_hubspot_exports(engine: Engine, settings: Settings) -> None:
    users = (
        "User ID,First Name,Last Name,Email,Last login,Primary Team,Role,Permissions\n"
        "51234,Ann,Lee,ann.lee@brightline.example,2026-10-01,Enterprise East,Sales User,Contacts\n"
    )
    assert run(engine, "reps", users).created == 1
    assert rep(engine, "ann.lee@brightline.example").team == "Enterprise East"
    contacts = (
        "Record ID,First Name,Last Name,Email,Phone Number,Contact owner,Job Title,Associated Company,"
        "Lifecycle Stage,Lead Status,Create Date,Original Source,Original Source Drill-Down 1,"
        "First Touch Converting Campaign,Owner assigned date\n"
        "701,Eva,Nagy,eva@nagy.example,+36 1 555,Ann Lee,COO,Nagy Kft,Lead,New,2026-10-01 08:00,"
        "Paid Social,Facebook,Q4 Push,2026-10-02 10:15\n"
    )
    result = run(engine, "leads", contacts, settings)
    assert (result.created, clean(result)) == (1, True)
    contact, owner = lead(engine, "701")
    assert (contact.company, contact.campaign, contact.source, owner) == (
        "Nagy Kft",
        "Q4 Push",
        "Paid Social",
        "ann.lee@brightline.example",
    )
    deals = (
        "Record ID,Deal Name,Deal Stage,Pipeline,Close Date,Deal owner,Amount,Currency,"
        "Amount in company currency,Create Date,Deal Type,Associated Contact,Associated Contact IDs,"
        "Associated Company\n"
        "9101,Nagy rollout,Closed won,Sales Pipeline,2026-11-20 16:00,Ann Lee,9900,EUR,10750,2026-10-03,"
        "newbusiness,Eva Nagy,701,Nagy Kft\n"
    )
    result = run(engine, "deals", deals, settings)
    assert (result.created, clean(result)) == (1, True)
    won, owner = deal(engine, "9101")
    assert (won.result, won.amount, won.currency, won.company, won.lead_id, owner) == (
        "won",
        9900.0,
        "EUR",
        "Nagy Kft",
        contact.id,
        "ann.lee@brightline.example",
    )


def test_pipedrive_exports(engine: Engine, settings: Settings) -> None:
    run(engine, "reps", "email,name\nann.lee@brightline.example,Ann Lee\nbo.kim@brightline.example,Bo Kim\n")
    persons = (
        "Person - ID,Person - Name,Person - First name,Person - Last name,Person - Organization,"
        "Person - Email - Work,Person - Phone - Work,Person - Owner,Person - Label,Person - Person created,"
        "Person - Source channel\n"
        "41,Lena Roth,Lena,Roth,Roth GmbH,lena@roth.example,+49 30 1,Bo Kim,Hot lead,2026-10-07 09:00:00,"
        "Organic search\n"
    )
    result = run(engine, "leads", persons, settings)
    assert (result.created, clean(result)) == (1, True)
    person, owner = lead(engine, "41")
    assert (person.name, person.email, person.company, person.source, owner) == (
        "Lena Roth",
        "lena@roth.example",
        "Roth GmbH",
        "Organic search",
        "bo.kim@brightline.example",
    )
    deals = (
        "Deal - ID,Deal - Title,Deal - Creator,Deal - Owner,Deal - Value,Deal - Currency of Value,"
        "Deal - Weighted value,Deal - Probability,Deal - Organization,Deal - Pipeline,Deal - Contact person,"
        "Deal - Stage,Deal - Status,Deal - Deal created,Deal - Won time,Deal - Lost time,"
        "Deal - Deal closed on,Deal - Lost reason,Deal - Expected close date\n"
        "301,Roth deal,Ann Lee,Bo Kim,15000,EUR,15000,,Roth GmbH,Main,Lena Roth,Negotiations Started,Won,"
        "2026-10-08 10:00:00,2026-11-02 12:00:00,,2026-11-02 12:00:00,,2026-11-30\n"
        "302,Kern deal,Ann Lee,Ann Lee,8000,USD,0,,Kern AG,Main,,Proposal Made,Lost,2026-10-09 10:00:00,,"
        "2026-11-05 09:00:00,2026-11-05 09:00:00,Price,2026-12-15\n"
        "303,Open deal,Ann Lee,Ann Lee,5000,USD,2500,50,Open AG,Main,,Qualified,Open,2026-10-10 10:00:00,,,,"
        ",2026-12-20\n"
    )
    result = run(engine, "deals", deals, settings)
    assert (result.created, clean(result)) == (3, True)
    won, owner = deal(engine, "301")
    assert (
        won.name,
        won.result,
        won.stage,
        won.amount,
        won.currency,
        won.company,
        won.close_date,
        owner,
    ) == (
        "Roth deal",
        "won",  # the status, though the pipeline stage never says so
        "Negotiations Started",
        15000.0,
        "EUR",
        "Roth GmbH",
        date(2026, 11, 2),
        "bo.kim@brightline.example",
    )
    assert (deal(engine, "302")[0].result, deal(engine, "302")[0].close_date) == ("lost", date(2026, 11, 5))
    assert (deal(engine, "303")[0].result, deal(engine, "303")[0].close_date) == ("open", date(2026, 12, 20))


def test_dynamics_365_exports(engine: Engine, settings: Settings) -> None:
    users = (
        "(Do Not Modify) User,(Do Not Modify) Row Checksum,(Do Not Modify) Modified On,Full Name,"
        "Business Unit,Title,Primary Email,Manager\n"
        "6f1c2a4e-1111-4c1e-9a55-000000000001,abc=,2026-10-01T08:00:00,Ann Lee,Enterprise,AE,"
        "ann.lee@brightline.example,\n"
        "6f1c2a4e-1111-4c1e-9a55-000000000002,def=,2026-10-01T08:00:00,Bo Kim,Mid-Market,AE,"
        "bo.kim@brightline.example,Ann Lee\n"
    )
    result = run(engine, "reps", users)
    assert (result.created, clean(result)) == (2, True)
    bo = rep(engine, "bo.kim@brightline.example")
    assert (bo.name, bo.team, bo.manager_email, bo.crm_id) == (
        "Bo Kim",
        "Mid-Market",
        "ann.lee@brightline.example",
        "6f1c2a4e-1111-4c1e-9a55-000000000002",
    )
    leads = (
        "(Do Not Modify) Lead,(Do Not Modify) Row Checksum,(Do Not Modify) Modified On,Name,Topic,"
        "Status Reason,Created On,Company Name,Email,Job Title,Lead Source,Source Campaign,Owner\n"
        "a1b2c3d4-0000-0000-0000-000000000001,x=,2026-10-02T08:00:00,Yara Diaz,10 seats,New,"
        "10/2/2026 8:15 AM,Diaz SL,yara@diaz.example,CEO,Web,Spring Webinar,Bo Kim\n"
    )
    result = run(engine, "leads", leads, settings)
    assert (result.created, clean(result)) == (1, True)
    dynamics_lead, owner = lead(engine, "a1b2c3d4-0000-0000-0000-000000000001")
    assert (dynamics_lead.name, dynamics_lead.company, dynamics_lead.campaign, owner) == (
        "Yara Diaz",
        "Diaz SL",
        "Spring Webinar",
        "bo.kim@brightline.example",
    )
    opportunities = (
        "(Do Not Modify) Opportunity,(Do Not Modify) Row Checksum,(Do Not Modify) Modified On,Topic,"
        "Potential Customer,Est. Close Date,Actual Close Date,Est. Revenue,Actual Revenue,Currency,"
        "Status,Status Reason,Sales Stage,Probability,Owner,Originating Lead\n"
        "c0ffee00-0000-0000-0000-000000000001,y=,2026-11-02T08:00:00,Diaz rollout,Diaz SL,11/30/2026,"
        '11/2/2026,"€20,000.00","€18,500.00",Euro,Won,Won,Close,100,Bo Kim,yara  DIAZ\n'
        "c0ffee00-0000-0000-0000-000000000002,z=,2026-11-03T08:00:00,Kern pilot,Kern AG,12/15/2026,"
        '11/3/2026,"$7,000.00",,US Dollar,Lost,Out-Sold,Propose,0,Ann Lee,\n'
        "c0ffee00-0000-0000-0000-000000000003,w=,2026-11-03T08:00:00,Vega pilot,Vega BV,12/20/2026,,"
        '"$4,000.00",,US Dollar,Open,In Progress,Develop,40,Ann Lee,Nobody Known\n'
    )
    result = run(engine, "deals", opportunities, settings)
    assert (result.created, result.errors, result.unaskable) == (3, [], [])
    assert [(w.line, "'Nobody Known' not found" in w.reason) for w in result.warnings] == [(4, True)]
    won, owner = deal(engine, "c0ffee00-0000-0000-0000-000000000001")
    assert (won.lead_id, won.campaign) == (dynamics_lead.id, "Spring Webinar")  # linked by the lead's name
    assert (won.name, won.company, won.result, won.amount, won.currency, won.close_date, owner) == (
        "Diaz rollout",
        "Diaz SL",
        "won",
        18500.0,  # the actual revenue of a won deal, not the estimate
        "EUR",
        date(2026, 11, 2),  # the actual close date, not the estimated one
        "bo.kim@brightline.example",
    )
    lost = deal(engine, "c0ffee00-0000-0000-0000-000000000002")[0]
    assert (lost.result, lost.amount, lost.currency, lost.close_date) == (
        "lost",
        7000.0,
        "USD",
        date(2026, 11, 3),
    )
    still_open = deal(engine, "c0ffee00-0000-0000-0000-000000000003")[0]
    assert (still_open.result, still_open.close_date) == ("open", date(2026, 12, 20))


def test_no_header_feeds_two_fields() -> None:
    for kind, table in COLUMNS.items():
        owners: dict[str, str] = {}
        for name, aliases in table.items():
            for alias in aliases:
                key = normalise_header(alias)
                assert owners.setdefault(key, name) == name, (kind, alias, owners[key], name)


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("usd", "USD"),
        ("EUR", "EUR"),
        ("€", "EUR"),
        ("US Dollar", "USD"),
        ("Pound Sterling", "GBP"),
        ("Euro (EUR)", "EUR"),
    ],
)
def test_currency_names_and_codes(value: str, code: str) -> None:
    assert parse_currency(value) == code


def test_unknown_currency_refuses_the_row_not_the_file(engine: Engine) -> None:
    result = run(engine, "deals", "id,amount,currency\nD1,10,Moon Rocks\nD2,10,chf\n")
    assert [e.line for e in result.errors] == [2]
    assert "not a currency" in result.errors[0].reason
    assert deal(engine, "D2")[0].currency == "CHF"


# --- owners by full name, and rows that can never be asked about ---------------------------------


def test_owner_full_name_resolves_and_ambiguous_or_unknown_names_are_listed(engine: Engine) -> None:
    run(
        engine,
        "reps",
        "email,name\n"
        "sam.lee@brightline.example,Sam Lee\n"
        "sam.lee2@brightline.example,Sam Lee\n"
        "zoe.muller@brightline.example,Zoë Müller\n",
    )
    leads = (
        "Lead ID,Last Name,Owner Full Name\n"
        "L1,One,  ZOË   müller \n"  # case, spacing: the rep
        "L2,Two,Zoe\u0308 Mu\u0308ller\n"  # the same name written with combining marks
        "L3,Three,Sam Lee\n"  # two reps have this name
        "L4,Four,Nobody Here\n"
        "L5,Five,sam lee\n"
    )
    result = run(engine, "leads", leads)
    assert (result.created, result.errors) == (5, [])
    assert lead(engine, "L1")[1] == lead(engine, "L2")[1] == "zoe.muller@brightline.example"
    assert [(u.line, u.reason, u.owner) for u in result.unaskable] == [
        (4, OWNER_AMBIGUOUS, "Sam Lee"),
        (5, OWNER_UNKNOWN, "Nobody Here"),
        (6, OWNER_AMBIGUOUS, "sam lee"),
    ]
    assert lead(engine, "L3")[1] is None
    # an owner email next to the ambiguous name settles it
    result = run(
        engine, "leads", "Lead ID,Owner Full Name,Owner Email\nL3,Sam Lee,sam.lee2@brightline.example\n"
    )
    assert (result.updated, result.unaskable) == (1, [])
    assert lead(engine, "L3")[1] == "sam.lee2@brightline.example"


def test_rows_that_can_never_be_asked_about_are_counted_with_lines(engine: Engine) -> None:
    run(engine, "reps", "email,name,active\nann@b.example,Ann Lee,true\nold@b.example,Old Timer,false\n")
    deals = (
        "Opportunity ID,Opportunity Name,Stage,Opportunity Owner\n"
        "D1,Fine,Closed Won,Ann Lee\n"
        "D2,Nobody,Closed Lost,\n"
        "D3,Stranger,Closed Lost,Zed Quinn\n"
        "D4,Retired,Closed Won,Old Timer\n"
        "D5,Stranger again,Closed Won,Zed Quinn\n"
    )
    result = run(engine, "deals", deals)
    assert (result.created, result.errors) == (5, [])
    assert result.unaskable_groups() == [
        (NO_OWNER, [], [3]),
        (OWNER_UNKNOWN, ["Zed Quinn"], [4, 6]),
        (REP_INACTIVE, ["Old Timer"], [5]),
    ]
    assert "4 never to be asked about" in result.summary()
    assert deal(engine, "D3")[1] is None


def test_unknown_deal_owner_is_not_replaced_by_the_leads_rep(engine: Engine) -> None:
    run(engine, "reps", "email,name\nann@b.example,Ann Lee\n")
    run(engine, "leads", "id,name,rep\nL1,Lead,Ann Lee\n")
    result = run(
        engine, "deals", "id,name,lead_id,Deal owner\nD1,With stranger,L1,Zed Quinn\nD2,No owner,L1,\n"
    )
    assert deal(engine, "D1")[1] is None  # the CRM says someone else owns it: never ask Ann
    assert deal(engine, "D2")[1] == "ann@b.example"  # no owner at all: the lead's rep
    assert [(u.line, u.reason) for u in result.unaskable] == [(2, OWNER_UNKNOWN)]


def test_duplicate_ids_are_reported_with_their_lines(engine: Engine) -> None:
    result = run(engine, "leads", "Lead ID,Last Name\nL1,First\nL2,Other\nL1,Second\n\nL1,Third\n")
    assert [(d.key, d.lines) for d in result.duplicates] == [("L1", (2, 4, 6))]
    assert lead(engine, "L1")[0].name == "Third"
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Lead)).one() == 2
    reps = run(engine, "reps", "email,name\na@b.example,A\nA@B.example,A again\n")
    assert [(d.key, d.lines) for d in reps.duplicates] == [("a@b.example", (2, 3))]


def test_columns_read_and_ignored_are_reported(engine: Engine) -> None:
    text = "Lead ID,First Name,Last Name,Phone,Company / Account,Lead Owner,Rating,\nL1,A,B,1,C,,Hot,\n"
    result = run(engine, "leads", text)
    assert result.columns == [
        ("Lead ID", "id"),
        ("First Name", "name (first)"),
        ("Last Name", "name (last)"),
        ("Company / Account", "company"),
        ("Lead Owner", "owner"),
    ]
    assert result.ignored == ["Phone", "Rating"]


def test_line_ranges() -> None:
    assert line_ranges([9, 2, 3, 4, 7, 10]) == "2-4, 7, 9-10"
    assert line_ranges(range(2, 200, 2), limit=3) == "2, 4, 6, … (96 more)"


# --- control characters ---------------------------------------------------------------------------

CONTROLS = ["\n", "\r", "\r\n", "\t", "\x00", "\x1b", "\x7f", "\x85", "\x9b", "\u2028", "\u2029"]


@pytest.mark.parametrize("char", CONTROLS, ids=[repr(c) for c in CONTROLS])
def test_control_characters_refused_in_every_imported_field(engine: Engine, char: str) -> None:
    reps = (
        "email,name,team\nok@b.example,Ok Rep,East\n"
        f'bad@b.example,"Ann{char}Lee",East\nt@b.example,T,"Ea{char}st"\n'
    )
    result = run(engine, "reps", reps)
    assert result.created == 1
    breaks = 1 if char in ("\n", "\r", "\r\n") else 0  # a quoted line break spans two lines
    assert [e.line for e in result.errors] == [3, 4 + breaks]
    assert all("not allowed" in e.reason and "\n" not in e.reason for e in result.errors)
    leads = f'id,name,company,rep_email\nL1,Fine,Acme,ok@b.example\nL2,Bad,"Ac{char}me",ok@b.example\n'
    result = run(engine, "leads", leads)
    assert (result.created, [e.line for e in result.errors]) == (1, [3])
    deals = f'id,name,stage\nD1,Fine,Closed Won\n"D{char}2",Bad id,Closed Won\nD3,"Ba{char}d",Closed Won\n'
    result = run(engine, "deals", deals)
    assert result.created == 1 and len(result.errors) == 2
    with Session(engine) as session:
        names = session.exec(select(Rep.name)).all() + session.exec(select(Deal.name)).all()
    assert not any(control_character(n) for n in names)


@given(st.text(max_size=30))
def test_check_text_refuses_exactly_the_control_characters(value: str) -> None:
    bad = any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2029" for c in value)
    try:
        check_text(value, "the name")
    except InvalidValue as exc:
        assert bad
        assert "\n" not in str(exc) and "\r" not in str(exc)
    else:
        assert not bad


def test_upsert_rep_refuses_control_characters(engine: Engine) -> None:
    for kwargs in (
        {"name": "Ann\r\nBcc: x@evil.example"},
        {"team": "East\x00"},
        {"email": "a\u2028@b.example"},
    ):
        with pytest.raises(InvalidValue, match="not allowed"), session_scope(engine) as session:
            upsert_rep(session=session, **{"email": "ann@b.example", **kwargs})
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(Rep)).one() == 0


# --- through the CLI ----------------------------------------------------------------------------------


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    config = tmp_path / "feedback.toml"
    config.write_text("")
    return {
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_CONFIG": str(config),
        "COLUMNS": "200",
    }


def invoke(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("reps", "add", "ann@b.example", "--name", "Ann\r\nLee"),
        ("reps", "add", "ann@b.example", "--name", "Ann Lee", "--team", "East\u2028West"),
        ("reps", "add", "ann\x07@b.example", "--name", "Ann"),
        ("reps", "add", "ann@b.example", "--language", "en\x1b[31m"),
        ("reps", "alias", "ok@b.example", "a\nb@b.example"),
        ("reps", "deactivate", "ok@b.example\n"),
        ("reps", "list", "--team", "East\n"),
    ],
    ids=[
        "name-crlf",
        "team-u2028",
        "email-bell",
        "language-escape",
        "alias-lf",
        "deactivate-lf",
        "list-team",
    ],
)
def test_reps_commands_refuse_control_characters_in_one_line(
    env: dict[str, str], args: tuple[str, ...]
) -> None:
    invoke(env, "reps", "add", "ok@b.example", "--name", "Ok")
    code, out, err = invoke(env, *args)
    assert code != 0
    assert "Traceback" not in out + err
    message = [line for line in err.splitlines() if line.strip()]
    assert len(message) == 1 and "control characters" in message[0], err
    code, out, _ = invoke(env, "reps", "list", "--all", "--format", "json")
    assert [r["email"] for r in json.loads(out)] == ["ok@b.example"]


def test_import_prints_columns_unaskable_rows_and_duplicates(env: dict[str, str], tmp_path: Path) -> None:
    reps = tmp_path / "reps.csv"
    reps.write_text('email,name\nann@b.example,Ann Lee\nbad@b.example,"Bad\r\nName"\n')
    code, out, _ = invoke(env, "import", "reps", str(reps))
    assert code == 0
    assert "1 created" in out and "1 row refused" in out
    assert "line break" in out or "carriage return" in out
    opps = tmp_path / "opps.csv"
    opps.write_text(
        "Opportunity Owner: Full Name,Account Name,Opportunity Name,Stage,Amount,Opportunity ID,Next Step\n"
        "Ann Lee,Acme,Acme - Platform,Closed Won,100,006A,\n"
        "Zed Quinn,Beta,Beta - Platform,Closed Lost,100,006B,\n"
        ",Gamma,Gamma - Platform,Closed Lost,100,006C,\n"
        "Ann Lee,Acme,Acme - Platform,Closed Won,100,006A,\n"
    )
    code, out, _ = invoke(env, "import", "deals", str(opps))
    assert code == 0
    assert "2 never to be asked about" in out and "1 duplicate id" in out
    assert "Opportunity Owner: Full Name │ owner" in out
    assert "Columns ignored (1): Next Step" in out
    assert "no owner: 1 row, line 4" in out
    assert "owner is not a known rep (Zed Quinn): 1 row, line 3" in out
    assert "Duplicate id 006A on lines 2, 5" in out
    code, out, err = invoke(env, "import", "deals", str(opps), "--format", "json")
    rows = json.loads(out)
    assert [(r["line"], r["status"]) for r in rows] == [
        (2, "duplicate id"),
        (3, "never asked"),
        (4, "never asked"),
        (5, "duplicate id"),
    ]
    assert "Columns ignored (1): Next Step" in err
