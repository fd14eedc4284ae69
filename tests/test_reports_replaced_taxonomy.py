"""A replaced taxonomy (other outcome codes) runs every report and the digest: reports follow
the taxonomy's outcome roles, never literal codes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session

from feedback.reports import REPORTS, render_to_string
from feedback.reports.digest import digest_html
from feedback.reports.filters import Filters
from feedback.runtime.settings import Settings
from feedback.storage.models import Deal, FeedbackRequest, Lead, Rep, Response, ResponseReason

T0 = datetime(2026, 3, 2, 10)
REPLACED = {
    "mode": "replace",
    "version": "acme-1",
    "kinds": {
        "disposition": {
            "label": "Lead", "question": "Lead?",
            "outcomes": [
                {"code": "qualified", "role": "positive", "label": "Qualified",
                 "reasons": [{"code": "icp_match", "label": "ICP match", "phrases": {"en": ["icp match"]}}]},
                {"code": "disqualified", "role": "negative", "label": "Disqualified",
                 "reasons": [{"code": "too_small", "label": "Too small", "phrases": {"en": ["too small"]}}]},
                {"code": "nurture", "role": "undecided", "label": "Nurture",
                 "reasons": [{"code": "later", "label": "Later", "phrases": {"en": ["later"]}}]},
            ],
        },
        "winloss": {
            "label": "Deal", "question": "Deal?",
            "outcomes": [
                {"code": "closed_won", "role": "positive", "label": "Closed won",
                 "reasons": [{"code": "features", "label": "Features", "phrases": {"en": ["features"]}}]},
                {"code": "closed_lost", "role": "negative", "label": "Closed lost",
                 "reasons": [{"code": "pricing", "label": "Pricing", "phrases": {"en": ["pricing"]}}]},
            ],
        },
    },
}  # fmt: skip


def test_every_report_and_the_digest_run_on_a_replaced_taxonomy(engine: Engine, settings: Settings) -> None:
    settings = settings.model_copy(update={"taxonomy_override": REPLACED})
    assert settings.taxonomy.kind("disposition").outcomes[0].code == "qualified"
    with Session(engine) as s:
        rep = Rep(email="a@x.example", name="A", team="East")
        s.add(rep)
        s.commit()
        lead = Lead(crm_id="L1", campaign="Webinar", rep_id=rep.id, assigned_at=T0)
        s.add(lead)
        s.commit()
        deal = Deal(crm_id="D1", result="won", amount=100, currency="EUR", rep_id=rep.id, lead_id=lead.id,
                    close_date=T0.date())  # fmt: skip
        s.add(deal)
        s.commit()
        for kind, target, outcome, reason in (
            ("disposition", {"lead_id": lead.id}, "qualified", "icp_match"),
            ("winloss", {"deal_id": deal.id}, "closed_won", "features"),
        ):
            request = FeedbackRequest(kind=kind, rep_id=rep.id or 0, status="answered", sent_at=T0,
                                      answered_at=T0, created_at=T0, **target)  # fmt: skip
            s.add(request)
            s.commit()
            response = Response(request_id=request.id or 0, kind=kind, outcome=outcome, created_at=T0)
            s.add(response)
            s.commit()
            s.add(ResponseReason(response_id=response.id or 0, rank=0, code=reason))
            s.commit()
    for build in REPORTS.values():
        report = build(engine, Filters(), settings, now=datetime(2026, 3, 9))
        for fmt in ("table", "csv", "json", "md", "html"):
            assert render_to_string(report, fmt)
    summary = render_to_string(
        REPORTS["summary"](engine, Filters(), settings, now=datetime(2026, 3, 9)), "csv"
    )
    assert "Qualified" in summary or "qualified" in summary
    subject, html, text = digest_html(engine, settings, datetime(2026, 3, 9))
    assert subject and html and text


def test_reports_read_the_replica_when_one_is_configured(engine: Engine, tmp_path: Path) -> None:
    """`report_database_url`: reports read the replica (here a second database with the data),
    never the primary."""
    from typer.testing import CliRunner

    from cli.main import app
    from feedback.storage.db import make_engine, upgrade

    replica_url = f"sqlite:///{tmp_path / 'replica.db'}"
    replica = make_engine(replica_url)
    upgrade(replica)
    with Session(replica) as s:
        rep = Rep(email="r@x.example", name="Replica Rep")
        s.add(rep)
        s.commit()
        lead = Lead(crm_id="L1", campaign="From the replica", rep_id=rep.id, assigned_at=T0)
        s.add(lead)
        s.commit()
        s.add(
            FeedbackRequest(
                kind="disposition", lead_id=lead.id, rep_id=rep.id or 0, sent_at=T0, created_at=T0
            )
        )
        s.commit()
    replica.dispose()
    env = {"FEEDBACK_DATABASE_URL": engine.url.render_as_string(hide_password=False), "FEEDBACK_SECRET": "s",
           "FEEDBACK_REPORT_DATABASE_URL": replica_url, "COLUMNS": "200"}  # fmt: skip
    result = CliRunner().invoke(app, ["report", "summary", "--format", "csv"], env=env)
    assert result.exit_code == 0, result.output
    assert "From the replica" in result.output
