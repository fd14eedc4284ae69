"""People change: away, leaving with their requests handed over, aliases removed, no self-managers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from feedback.outbound.requesting import send_due_requests, send_followups
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.storage.models import FeedbackRequest, Lead, OutboundMail, Rep, RepAlias, utcnow


@pytest.fixture
def env(engine: Engine, settings: Settings, tmp_path: Path) -> dict[str, str]:
    with Session(engine) as s:
        anna = Rep(email="anna@x.example", name="Anna", manager_email="boss@x.example")
        s.add(anna)
        s.add(Rep(email="ben@x.example", name="Ben"))
        s.commit()
        s.add(RepAlias(rep_id=anna.id or 0, email="anna@home.example"))
        s.add(Lead(crm_id="L1", rep_id=anna.id, assigned_at=utcnow() - timedelta(hours=1)))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    return {
        "FEEDBACK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_OUTBOX_DIR": str(tmp_path / "outbox"),
        "FEEDBACK_BUSINESS_TIME": "false",
        "COLUMNS": "200",
    }


def invoke(env: dict[str, str], *args: str) -> object:
    return CliRunner().invoke(app, list(args), env=env)


def test_a_rep_away_gets_no_reminders_until_back(
    engine: Engine, settings: Settings, env: dict[str, str]
) -> None:
    until = (utcnow() + timedelta(days=10)).date().isoformat()
    result = CliRunner().invoke(app, ["reps", "away", "anna@x.example", "--until", until], env=env)
    assert result.exit_code == 0, result.output
    later = utcnow() + timedelta(days=6)
    counts = asyncio.run(
        send_followups(engine, settings, MaildirTransport(Path(env["FEEDBACK_OUTBOX_DIR"])), now=later)
    )
    assert counts["reminders"] == 0 and counts["deferred"] == 1
    assert CliRunner().invoke(app, ["reps", "away", "anna@x.example", "--back"], env=env).exit_code == 0
    counts = asyncio.run(
        send_followups(engine, settings, MaildirTransport(Path(env["FEEDBACK_OUTBOX_DIR"])), now=later)
    )
    assert counts["reminders"] == 1
    bad = CliRunner().invoke(app, ["reps", "away", "anna@x.example", "--until", "soon"], env=env)
    assert bad.exit_code == 2 and "YYYY-MM-DD" in bad.output


def test_a_rep_who_leaves_hands_over_their_requests(engine: Engine, env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["reps", "deactivate", "anna@x.example", "--reassign-to", "ben@x.example"], env=env
    )
    assert result.exit_code == 0, result.output
    assert "1 open request(s) handed to ben@x.example" in result.output
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest)).one()
        assert s.get(Rep, request.rep_id).email == "ben@x.example"  # type: ignore[union-attr]
        assert "reassigned from anna@x.example" in (request.note or "")
        assert [m.to_addr for m in s.exec(select(OutboundMail).order_by(OutboundMail.id)).all()] == [
            "anna@x.example",
            "ben@x.example",
        ]
        assert not s.exec(select(Rep).where(Rep.email == "anna@x.example")).one().active


def test_aliases_can_be_removed_and_nobody_manages_themself(engine: Engine, env: dict[str, str]) -> None:
    assert (
        CliRunner()
        .invoke(app, ["reps", "alias", "anna@x.example", "anna@home.example", "--remove"], env=env)
        .exit_code
        == 0
    )
    with Session(engine) as s:
        assert s.exec(select(RepAlias)).all() == []
    own = CliRunner().invoke(app, ["reps", "add", "ben@x.example", "--manager", "BEN@x.example"], env=env)
    assert own.exit_code != 0 and "own manager" in own.output


def test_requests_commands_list_show_and_refuse_wrong_ids(env: dict[str, str]) -> None:
    listed = CliRunner().invoke(app, ["requests", "list", "--format", "json"], env=env)
    assert listed.exit_code == 0, listed.output
    assert '"rep": "anna@x.example"' in listed.output and '"status": "sent"' in listed.output
    shown = CliRunner().invoke(app, ["requests", "show", "1", "--format", "csv"], env=env)
    assert shown.exit_code == 0 and "sent,to anna@x.example" in shown.output
    missing = CliRunner().invoke(app, ["requests", "show", "999"], env=env)
    assert missing.exit_code == 2 and "no request 999" in missing.output
    bad = CliRunner().invoke(app, ["requests", "list", "--status", "bogus"], env=env)
    assert bad.exit_code == 2 and "unknown status" in bad.output
