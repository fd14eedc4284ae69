"""Time every report on a large PostgreSQL dataset (targets: summary and verbatims 0.5 s, the rest 1 s).

Creates its own database next to ``--url`` (the admin connection), fills it with generate_series
SQL (default 1,000,000 responses over 200 campaigns, 50 reps and two years, with their reason
rows), times each report's queries (format-independent: the Report object, not its rendering),
and drops the database. Each report's time is printed beside a baseline run in the same process:
one plain scan, ``SELECT count(*) FROM response`` (the ``x scan`` ratio). With ``--before REF``
the reports are first timed with the code of git commit REF (extracted with ``git archive``, run
in a subprocess) on the same data, upgraded to REF's own newest migration, before upgrading to
this tree's head.

    .venv/bin/python bench/reports.py [--url postgresql://postgres@127.0.0.1:5432/test] [--responses N]
        [--before f751931]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

# --before runs this file again with another commit's code first on the path
sys.path.insert(0, os.environ.get("BENCH_CODE_ROOT") or str(Path(__file__).resolve().parents[1]))

from feedback.reports import REPORTS, Filters
from feedback.runtime.settings import load_settings
from feedback.storage.db import make_engine, upgrade

ROOT = Path(__file__).resolve().parents[1]
ANSWERED_PER_20 = 17  # 85 % of requests get an answer

SEED_SQL = [
    "SELECT setseed(0.42)",
    """INSERT INTO rep (id, email, name, team, language, active, created_at, updated_at)
       SELECT i, 'rep' || i || '@example.com', 'Rep ' || i, 'Team ' || (i % 5), 'en', true, now(), now()
       FROM generate_series(1, 50) i""",
    # leads: four in five requests are about a lead
    """INSERT INTO lead (id, crm_id, name, company, campaign, source, segment, rep_id, assigned_at,
                         created_at, updated_at)
       SELECT i, 'L-' || i, 'Lead ' || i, 'Company ' || (i % 50000),
              'Campaign ' || lpad(((i::bigint * 7919) % 200)::text, 3, '0'),
              (ARRAY['webinar','ebook','ppc','event','partner','organic','outbound','referral'])[1 + (i % 8)],
              (ARRAY['SMB','Mid-market','Enterprise'])[1 + (i % 3)],
              1 + (i % 50),
              :start + (random() * interval '730 days'), now(), now()
       FROM generate_series(1, :leads) i""",
    # deals: a deal for every third lead (the funnel's opportunities), won or lost in the CRM
    """INSERT INTO deal (id, crm_id, name, amount, currency, stage, result, close_date, rep_id, lead_id,
                         campaign, source, segment, created_at, updated_at)
       SELECT j, 'D-' || j, 'Deal ' || j, round((1000 + random() * 99000)::numeric, 2), 'USD',
              CASE WHEN random() < 0.35 THEN 'Closed Won' ELSE 'Closed Lost' END, 'open',
              (l.assigned_at + interval '30 days')::date, l.rep_id, l.id, l.campaign, l.source,
              l.segment, now(), now()
       FROM generate_series(1, :deals) j JOIN lead l ON l.id = j * 3""",
    "UPDATE deal SET result = CASE WHEN stage = 'Closed Won' THEN 'won' ELSE 'lost' END",
    """INSERT INTO feedback_request (id, kind, lead_id, deal_id, rep_id, template, template_version,
                                     taxonomy_version, status, created_at, sent_at, answered_at,
                                     reminders_sent)
       SELECT l.id, 'disposition', l.id, NULL, l.rep_id, '', '', '',
              CASE WHEN l.id % 20 < :answered THEN 'answered'
                   WHEN l.id % 2 = 0 THEN 'sent' ELSE 'escalated' END,
              l.assigned_at, l.assigned_at + interval '5 minutes',
              CASE WHEN l.id % 20 < :answered
                   THEN l.assigned_at + interval '5 minutes' + random() * interval '96 hours' END,
              0
       FROM lead l""",
    """INSERT INTO feedback_request (id, kind, lead_id, deal_id, rep_id, template, template_version,
                                     taxonomy_version, status, created_at, sent_at, answered_at,
                                     reminders_sent)
       SELECT :leads + d.id, 'winloss', NULL, d.id, d.rep_id, '', '', '',
              CASE WHEN d.id % 20 < :answered THEN 'answered' ELSE 'sent' END,
              l.assigned_at + interval '30 days', l.assigned_at + interval '30 days',
              CASE WHEN d.id % 20 < :answered
                   THEN l.assigned_at + interval '30 days' + random() * interval '120 hours' END,
              0
       FROM deal d JOIN lead l ON l.id = d.lead_id""",
    """INSERT INTO response (id, request_id, kind, outcome, competitor, reply_text, confidence,
                             needs_review, is_current, source, created_at)
       SELECT r.id, r.id, r.kind,
              CASE WHEN r.kind = 'disposition'
                   THEN (ARRAY['accepted','accepted','rejected','rejected','rejected','recycled',NULL])
                        [1 + floor(random() * 7)::int]
                   WHEN d.result = 'won' THEN (ARRAY['won','won','won','lost'])[1 + floor(random() * 4)::int]
                   ELSE (ARRAY['lost','lost','no_decision','won'])[1 + floor(random() * 4)::int] END,
              CASE WHEN random() < CASE WHEN r.kind = 'winloss' THEN 0.3 ELSE 0.02 END
                   THEN (ARRAY['Contoso Suite','Fabrikam','Initech','Globex','Umbrella','Hooli','Acme CRM',
                               'Stark Sales'])[1 + floor(random() * 8)::int] END,
              'Reply ' || r.id, 0.9, false, true, 'reply', r.answered_at
       FROM feedback_request r LEFT JOIN deal d ON d.id = r.deal_id
       WHERE r.answered_at IS NOT NULL
       ORDER BY r.id
       LIMIT :responses""",
    # primary reason for every answer with an outcome, a second one for two in five
    """INSERT INTO response_reason (response_id, rank, code)
       SELECT s.id, 0, s.codes[1 + floor(random() * array_length(s.codes, 1))::int]
       FROM (SELECT id, CASE outcome
               WHEN 'accepted' THEN ARRAY['meeting_booked','opportunity_created','in_progress']
               WHEN 'rejected' THEN ARRAY['not_a_fit','no_budget','no_need','bad_data','wrong_contact',
                                          'not_a_buyer','existing_customer','duplicate']
               WHEN 'recycled' THEN ARRAY['bad_timing','unresponsive','early_research']
               WHEN 'won' THEN ARRAY['product_fit','price_value','relationship','integration','support',
                                     'time_to_value']
               WHEN 'lost' THEN ARRAY['price','missing_feature','competitor','no_budget','champion_left',
                                      'security_compliance']
               ELSE ARRAY['status_quo','timing','budget_frozen','went_dark'] END AS codes
             FROM response WHERE outcome IS NOT NULL) s""",
    """INSERT INTO response_reason (response_id, rank, code)
       SELECT response_id, 1, CASE code WHEN 'not_a_fit' THEN 'no_need' WHEN 'price' THEN 'missing_feature'
                                        ELSE 'no_budget' END
       FROM response_reason WHERE rank = 0 AND response_id % 5 < 2""",
]

# the follow-up SLA's inputs (migration 0019_followup_sla): each answer's business hours, as
# services/sla_facts.refresh_sla stores them, and reminder/escalation mails (a third of the requests
# got a reminder, one in ten an escalation). Run after the upgrade to head (report_fact exists).
SLA_SEED_SQL = [
    """INSERT INTO request_sla (request_id, started_at, answered_at, timezone, business_hours, computed_at)
       SELECT request_id, coalesce(CASE WHEN deal_id IS NOT NULL THEN closed_at END, created_at, sent_at),
              answered_at, 'UTC', round((random() * 60)::numeric, 1), now()
       FROM report_fact WHERE answered_at IS NOT NULL""",
    """INSERT INTO outbound_mail (purpose, to_addr, subject, message_id, request_id, sent_at)
       SELECT CASE WHEN id % 10 = 0 THEN 'escalation' ELSE 'reminder' END, 'rep@example.com', 'Reminder',
              '<r' || id || '@bench>', id, coalesce(sent_at, created_at) + interval '2 days'
       FROM feedback_request WHERE id % 3 = 0 OR id % 10 = 0""",
]

SLA_REVISION = "0019_followup_sla"
TARGETS = {"summary": 0.5, "verbatims": 0.5}
"""Seconds per report at a million answers (issue 20); every other report 1 s."""


def seed_sla(engine: Engine) -> None:
    """The SLA inputs, once. At head the facts carry them (0023): seeded with the facts deferred,
    then every fact recomputed in one statement, not one trigger call per row."""
    from feedback.reports.sql import FACT  # here: --before's older code may have no fact_upkeep
    from feedback.storage import fact_upkeep

    with engine.begin() as conn:
        if conn.execute(text("SELECT count(*) FROM request_sla")).scalar_one():
            return
        cols = {c["name"] for c in inspect(conn).get_columns("report_fact")}
        carried = "business_hours" in cols
        if carried:
            fact_upkeep.defer(conn)
        for sql in SLA_SEED_SQL:
            conn.execute(text(sql))
        if carried:
            names = ", ".join(c.name for c in FACT.columns)
            conn.execute(text("DELETE FROM report_fact"))
            conn.execute(text(f"INSERT INTO report_fact ({names}) SELECT {names} FROM report_frame_v"))
            fact_upkeep.refresh(conn, [])  # ends the deferral


COPIED = (
    "rep",
    "lead",
    "deal",
    "feedback_request",
    "response",
    "response_reason",
    "request_sla",
    "outbound_mail",
)
"""The tables a SQLite copy takes from the seeded PostgreSQL database (parents first)."""


def copy_to_sqlite(source: Engine, path: Path, fraction: int) -> dict[str, int]:
    """One ``fraction``-th of the seeded data (the first leads, their deals, those requests and
    everything hanging off them) into a new SQLite file at head, facts computed once at the end."""
    from sqlalchemy import Table, bindparam, insert, select

    from feedback.reports.sql import FACT, REASON_FACT
    from feedback.storage import fact_upkeep
    from feedback.storage.models import SQLModel

    target = make_engine(f"sqlite:///{path}")
    upgrade(target)
    tables: dict[str, Table] = {t: SQLModel.metadata.tables[t] for t in COPIED}
    with source.connect() as conn:
        max_lead = int(conn.execute(text("SELECT max(id) FROM lead")).scalar_one()) // fraction
    ids = (
        "(SELECT id FROM feedback_request"
        " WHERE lead_id <= :n OR deal_id IN (SELECT id FROM deal WHERE lead_id <= :n))"
    )
    where = {
        "rep": "true",
        "lead": "id <= :n",
        "deal": "lead_id <= :n",
        "feedback_request": f"id IN {ids}",
        "response": f"request_id IN {ids}",
        "response_reason": f"response_id IN (SELECT id FROM response WHERE request_id IN {ids})",
        "request_sla": f"request_id IN {ids}",
        "outbound_mail": f"request_id IN {ids}",
    }
    counts = {}
    with source.connect() as src, target.begin() as dst:
        fact_upkeep.defer(dst)
        for name, table in tables.items():
            cond = text(where[name])
            if ":n" in where[name]:
                cond = cond.bindparams(bindparam("n", max_lead))
            query = select(*table.c).where(cond)
            result = src.execution_options(yield_per=20_000).execute(query)
            counts[name] = 0
            for chunk in result.partitions():
                dst.execute(insert(table), [dict(r._mapping) for r in chunk])
                counts[name] += len(chunk)
        for fact, view in ((FACT, "report_frame_v"), (REASON_FACT, "report_reason_frame_v")):
            names = ", ".join(c.name for c in fact.columns)
            dst.execute(text(f"DELETE FROM {fact.name}"))
            dst.execute(text(f"INSERT INTO {fact.name} ({names}) SELECT {names} FROM {view}"))
        fact_upkeep.refresh(dst, [])  # ends the deferral
    if "report_rollup" in inspect(target).get_table_names():
        from feedback.storage import rollup_upkeep

        rollup_upkeep.compact(target, force=True)  # the follow-up round's, within five minutes
    with target.connect() as conn:
        conn.execute(text("ANALYZE"))
    target.dispose()
    return counts


SEQUENCES = ("rep", "lead", "deal", "feedback_request", "response", "response_reason")


def seed(engine: Engine, responses: int) -> dict[str, int]:
    total = responses * 20 // ANSWERED_PER_20 + 20
    leads = total * 4 // 5
    deals = min(total - leads, leads // 3)
    start = datetime(2024, 1, 1, tzinfo=UTC)
    params = {
        "leads": leads,
        "deals": deals,
        "start": start,
        "answered": ANSWERED_PER_20,
        "responses": responses,
    }
    with engine.begin() as conn:
        for sql in SEED_SQL:
            stmt = text(sql)
            conn.execute(stmt, {k: v for k, v in params.items() if f":{k}" in sql})
        for table in SEQUENCES:
            conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))
        counts = {
            t: int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("lead", "deal", "feedback_request", "response", "response_reason")
        }
    return counts


CASES: list[tuple[str, str, Filters]] = [
    (name, "all time", Filters()) for name in REPORTS if name not in ("verbatims", "export")
] + [
    ("reasons", "--by campaign", Filters(by="campaign")),
    ("summary", "--campaign, 6 months", Filters(campaigns=("Campaign 042",), since=datetime(2025, 7, 1))),
    ("summary", "--rep, 3 months", Filters(reps=("rep7@example.com",), since=datetime(2025, 10, 1))),
    ("verbatims", "--reason price, 200 rows", Filters(reasons=("price",))),
    ("verbatims", "--competitor, 200 rows", Filters(competitors=("Globex",))),
    ("export", "one month (CRM CSV)", Filters(since=datetime(2025, 6, 1), until=datetime(2025, 7, 1))),
    ("trends", "--date-by created", Filters(date_by="created")),
    ("trends", "--date-by closed, months", Filters(date_by="closed", period="month")),
    ("summary", "--date-by created, 6 months", Filters(date_by="created", since=datetime(2025, 7, 1))),
    ("reasons", "--date-by answered, 3 months", Filters(date_by="answered", since=datetime(2025, 10, 1))),
    ("winloss", "--date-by closed, all time", Filters(date_by="closed")),
]

# checking filter values against the database (before every report given one, in the CLI)
RESOLVE = Filters(
    campaigns=("campaign 042",),
    sources=("PPC",),
    teams=("team 3",),
    reps=("Rep 7",),
    competitors=("globex",),
    outcomes=("Lost",),
)


def analyze(engine: Engine) -> None:
    """What autovacuum does after a bulk write (PostgreSQL 13+): statistics, and the visibility
    map the medians' index-only scans need; SQLite: its statistics."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


def time_baseline(engine: Engine, repeat: int) -> float:
    """One plain scan, ``SELECT count(*) FROM response``: the floor every report is compared with."""
    times = []
    with engine.connect() as conn:
        conn.execute(text("SELECT count(*) FROM response")).scalar_one()  # warm the cache
        for _ in range(repeat):
            t0 = time.perf_counter()
            conn.execute(text("SELECT count(*) FROM response")).scalar_one()
            times.append(time.perf_counter() - t0)
    return statistics.median(times)


def time_reports(engine: Engine, repeat: int, only: list[str] | None = None) -> list[tuple[str, str, float]]:
    settings = load_settings({}, timezone="Europe/Berlin")
    now = datetime(2026, 1, 1, tzinfo=UTC)
    out = []
    for name, label, filters in CASES:
        if only and name not in only:
            continue
        REPORTS[name](engine, filters, settings, now=now)  # warm the cache as a real second run would
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            REPORTS[name](engine, filters, settings, now=now)
            times.append(time.perf_counter() - t0)
        out.append((name, label, statistics.median(times)))
    if not only and "date_by" in Filters.__dataclass_fields__:  # absent from --before's older code
        from feedback.reports.values import resolve_report_filters

        times = []
        for _ in range(repeat + 1):
            t0 = time.perf_counter()
            resolve_report_filters(engine, RESOLVE, settings)
            times.append(time.perf_counter() - t0)
        out.append(("(filter check)", "6 filters, values from the db", statistics.median(times[1:])))
    return out


def time_before(
    ref: str, url: str, repeat: int, only: list[str] | None = None
) -> list[tuple[str, str, float]]:
    """The reports timed with the code of git commit ``ref``, in a subprocess on database ``url``."""
    with tempfile.TemporaryDirectory() as tree:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", tree], input=archive.stdout, check=True)
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--time-only",
                url,
                "--repeat",
                str(repeat),
                *[arg for name in only or () for arg in ("--only", name)],
            ],
            env={**os.environ, "BENCH_CODE_ROOT": tree},
            check=True,
            capture_output=True,
            text=True,
        )
    return [(n, label, secs) for n, label, secs in json.loads(out.stdout)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="postgresql://postgres@127.0.0.1:5432/test", help="admin connection")
    parser.add_argument("--responses", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--before", metavar="REF", help="also time the reports with commit REF's code and schema first"
    )
    parser.add_argument(
        "--keep",
        metavar="NAME",
        help="seed database NAME once and keep it; later runs reuse it (upgrading it to head)",
    )
    parser.add_argument(
        "--only", metavar="REPORT", action="append", help="time only this report (repeatable)"
    )
    parser.add_argument(
        "--sqlite",
        metavar="FILE",
        help="time the reports on SQLite: FILE, made once from 1/--fraction of the seeded data",
    )
    parser.add_argument("--fraction", type=int, default=10, help="the share --sqlite copies (1/N)")
    parser.add_argument("--time-only", metavar="URL", help=argparse.SUPPRESS)  # --before's subprocess
    args = parser.parse_args()
    if args.time_only:
        engine = make_engine(args.time_only)
        try:
            upgrade(engine)  # REF's migrations, REF's head (its code is first on the path)
        except Exception as exc:  # a kept database already past REF's head: REF reads it as it is
            print(f"not upgraded with REF's migrations ({exc})", file=sys.stderr)
        analyze(engine)
        print(json.dumps(time_reports(engine, args.repeat, args.only)))
        engine.dispose()
        return

    name = args.keep or f"fb_bench_reports_{uuid.uuid4().hex[:8]}"
    admin_url = make_url(args.url).set(drivername="postgresql+psycopg")
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(admin_url.set(database=name).render_as_string(hide_password=False))
    try:
        if exists:
            print(f"reusing database {name} (--keep)")
        else:
            upgrade(engine, "0001")
            t0 = time.perf_counter()
            counts = seed(engine, args.responses)
            # the SLA inputs before any trigger follows them (0023): at the revision that made them
            upgrade(engine, SLA_REVISION)
            seed_sla(engine)
            print(
                f"seeded in {time.perf_counter() - t0:.1f} s: "
                + ", ".join(f"{v:,} {k}" for k, v in counts.items())
            )
        timed = engine
        if args.sqlite:  # the reports on a SQLite copy of part of the seeded data instead
            upgrade(engine)
            path = Path(args.sqlite)
            if not path.exists():
                t0 = time.perf_counter()
                counts = copy_to_sqlite(engine, path, args.fraction)
                print(
                    f"copied 1/{args.fraction} to {path} in {time.perf_counter() - t0:.1f} s: "
                    + ", ".join(f"{v:,} {k}" for k, v in counts.items())
                )
            timed = make_engine(f"sqlite:///{path}")
        db_url = timed.url.render_as_string(hide_password=False)
        baseline = time_before(args.before, db_url, args.repeat, args.only) if args.before else None
        t0 = time.perf_counter()
        upgrade(timed)  # 0002 and later: report_fact, its backfill and triggers
        seed_sla(timed)  # a database kept before the SLA inputs were seeded
        analyze(timed)
        print(f"upgraded to head in {time.perf_counter() - t0:.1f} s")
        scan = time_baseline(timed, args.repeat)
        after = time_reports(timed, args.repeat, args.only)
        if timed is not engine:
            timed.dispose()
        print(f"\nbaseline: SELECT count(*) FROM response (one scan) {scan:.3f} s")
        print(f"\n{'report':<16}{'filters':<28}{'before s':>12}{'head s':>10}{'x scan':>9}  target")
        before = {(n, label): secs for n, label, secs in baseline or []}
        for rname, label, secs in after:
            base = f"{before[rname, label]:>12.3f}" if (rname, label) in before else f"{'-':>12}"
            ratio = secs / scan if scan else float("inf")
            target = TARGETS.get(rname, 1.0)
            verdict = "ok" if secs <= target else "SLOW"
            print(f"{rname:<16}{label:<28}{base}{secs:>10.3f}{ratio:>9.1f}  {target:g} s {verdict}")
    finally:
        engine.dispose()
        if not args.keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    main()
