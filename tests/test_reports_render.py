"""Every report in every format, the CLI, the weekly digest, and the HTML page in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from test_reports_figures import NOW, SETTINGS, seeded_engine
from typer.testing import CliRunner

from feedback.reports import REPORTS, Filters, OutputFormat, digest_html, render_to_string, summary
from feedback.reports.filters import FilterError, parse_when


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    yield from seeded_engine("sqlite", tmp_path_factory)


@pytest.mark.parametrize("name", sorted(REPORTS))
@pytest.mark.parametrize("fmt", list(OutputFormat))
def test_every_report_in_every_format(engine: Engine, name: str, fmt: OutputFormat) -> None:
    report = REPORTS[name](engine, Filters(), SETTINGS, now=NOW)
    text = render_to_string(report, fmt)
    assert text.strip()
    if fmt is OutputFormat.json:
        data = json.loads(text)
        assert data["report"] == name and data["sections"]
    elif fmt is OutputFormat.html:
        assert text.startswith("<!doctype html>") and "<script" not in text and "http-equiv" not in text
        assert "href=" not in text and "src=" not in text  # nothing to fetch: opens offline
    elif fmt is OutputFormat.csv:
        assert list(csv.reader(io.StringIO(text)))


def test_small_samples_show_their_n_and_are_marked(engine: Engine) -> None:
    text = render_to_string(summary(engine, Filters(), SETTINGS, now=NOW), OutputFormat.md)
    assert "67 % (2/3) †" in text and "fewer than 5 answers" in text
    html = render_to_string(summary(engine, Filters(), SETTINGS, now=NOW), OutputFormat.html)
    assert 'class="num low"' in html


def test_export_csv_is_keyed_by_crm_ids(engine: Engine) -> None:
    text = render_to_string(
        REPORTS["export"](engine, Filters(kind="winloss"), SETTINGS, now=NOW), OutputFormat.csv
    )
    rows = list(csv.DictReader(io.StringIO(text)))
    assert {r["crm_deal_id"] for r in rows} == {"D-1", "D-2", "D-3", "D-4"}
    assert rows[0].keys() >= {"crm_lead_id", "crm_deal_id", "outcome", "reasons", "competitor", "feedback"}


def test_rates_in_csv_and_json_carry_counts(engine: Engine) -> None:
    report = summary(engine, Filters(campaigns=("Webinar",)), SETTINGS, now=NOW)
    data = json.loads(render_to_string(report, OutputFormat.json))
    row = next(s for s in data["sections"] if s["key"] == "leads_by_campaign")["rows"][0]
    assert row["accepted"] == {"count": 2, "n": 3, "rate": pytest.approx(2 / 3), "low_sample": True}
    text = render_to_string(report, OutputFormat.csv)
    assert "accepted_pct,accepted_count,accepted_n" in text and "66.7,2,3" in text


def test_relative_dates() -> None:
    from zoneinfo import ZoneInfo

    now = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    utc, berlin = ZoneInfo("UTC"), ZoneInfo("Europe/Berlin")
    assert parse_when("30d", now=now, tz=utc) == datetime(2026, 3, 1, 12, 0)
    assert parse_when("12w", now=now, tz=utc) == datetime(2026, 1, 6, 12, 0)
    assert parse_when("1m", now=now, tz=utc) == datetime(2026, 2, 28, 12, 0)  # 31 March - 1 month
    assert parse_when("1y", now=now, tz=utc) == datetime(2025, 3, 31, 12, 0)
    # a day is the reader's day: midnight in Berlin (summer time from 29 March) is 22:00 UTC
    assert parse_when("2026-03-30", now=now, tz=berlin) == datetime(2026, 3, 29, 22, 0)
    assert parse_when("2026-03-30", now=now, tz=berlin, end=True) == datetime(2026, 3, 30, 22, 0)
    assert parse_when("today", now=now, tz=utc) == datetime(2026, 3, 31)
    with pytest.raises(FilterError, match="30d"):
        parse_when("last tuesday", now=now, tz=utc)
    with pytest.raises(FilterError):
        Filters(by="colour")
    assert "2026-03-01 to 2026-03-30" in Filters(
        since=datetime(2026, 3, 1), until=datetime(2026, 3, 31)
    ).describe(utc)


def test_digest(engine: Engine) -> None:
    subject, html, text = digest_html(engine, SETTINGS, datetime(2026, 1, 19, 0, 0, tzinfo=UTC))
    # the week before 19 January: L5..L8 handed (4), none accepted of 3 with an outcome
    assert subject == "Sales feedback, week to 19 Jan 2026: 4 leads, 0 % accepted"
    assert "<svg" not in html and "<style" not in html  # mail clients drop both
    assert "Ebook" in html and "Ebook" in text and "Leads handed to sales: 4" in text


def test_cli_writes_every_format(engine: Engine, tmp_path: Path) -> None:
    from cli.main import app

    env = {"FEEDBACK_DATABASE_URL": str(engine.url), "FEEDBACK_SECRET": "x" * 32}
    runner = CliRunner()
    out = tmp_path / "summary.html"
    result = runner.invoke(app, ["report", "summary", "--format", "html", "--output", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert "<svg" in out.read_text()
    result = runner.invoke(
        app, ["report", "reasons", "--by", "campaign", "--since", "2026-01-01", "-f", "json"], env=env
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["sections"][0]["key"] == "disposition_reasons_by_campaign"
    result = runner.invoke(app, ["report", "trends", "--since", "someday"], env=env)
    assert result.exit_code != 0 and "cannot read the date" in result.output
    result = runner.invoke(app, ["report", "export"], env=env)
    assert result.exit_code == 0 and result.stdout.startswith("crm_lead_id,crm_deal_id")


@pytest.mark.parametrize("name", sorted(REPORTS))
def test_cli_every_report_takes_every_filter(engine: Engine, name: str) -> None:
    from cli.main import app

    env = {"FEEDBACK_DATABASE_URL": str(engine.url), "FEEDBACK_SECRET": "x" * 32}
    kind = {"winloss": "winloss"}.get(name, "disposition")
    filters = ["--since", "2025-01-01", "--until", "2026-12-31", "--campaign", "Ebook", "--source", "ads"]
    filters += ["--rep", "alice@example.com", "--team", "East", "--kind", kind, "-f", "json"]
    result = CliRunner().invoke(app, ["report", name, *filters], env=env)
    assert result.exit_code == 0, result.output
    described = json.loads(result.stdout)["filters"]
    assert described["campaigns"] == ["Ebook"] and described["kind"] == kind


def test_cli_refuses_a_kind_the_report_is_not_about(engine: Engine) -> None:
    from cli.main import app

    env = {"FEEDBACK_DATABASE_URL": str(engine.url), "FEEDBACK_SECRET": "x" * 32}
    result = CliRunner().invoke(app, ["report", "funnel", "--kind", "winloss"], env=env)
    assert result.exit_code == 2
    assert "about disposition requests only" in result.output and "--kind disposition" in result.output


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _chromium(tmp_path: Path, page: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM
    return subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", f"--user-data-dir={tmp_path / 'profile'}",
            "--window-size=1200,2000", *args, page.as_uri(),
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium binary (apt-get install -y chromium)")
def test_html_renders_in_chromium(engine: Engine, tmp_path: Path) -> None:
    page = tmp_path / "summary.html"
    page.write_text(render_to_string(summary(engine, Filters(), SETTINGS, now=NOW), OutputFormat.html))
    dom = _chromium(tmp_path, page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert (
        "<h1>Feedback summary</h1>" in dom.stdout and "<h2>Why leads are accepted or not</h2>" in dom.stdout
    )
    assert dom.stdout.count("<svg") >= 3 and "<rect" in dom.stdout
    shot = tmp_path / "summary.png"
    result = _chromium(tmp_path, page, f"--screenshot={shot}")
    assert result.returncode == 0 and shot.exists()
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000  # drawn, not blank

    trend = tmp_path / "trends.html"
    trend.write_text(
        render_to_string(REPORTS["trends"](engine, Filters(), SETTINGS, now=NOW), OutputFormat.html)
    )
    dom = _chromium(tmp_path, trend, "--dump-dom")
    assert "<polyline" in dom.stdout and "<h2>By week</h2>" in dom.stdout
