"""`feedback erase`: personal data gone everywhere, figures kept."""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from typer.testing import CliRunner

from cli.main import app
from feedback.ingress.store import Incoming, store_batch
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.reports import summary
from feedback.reports.filters import Filters
from feedback.runtime.settings import Settings
from feedback.services.erase import EraseError, erase
from feedback.services.processing import process_message
from feedback.storage import raw_bytes
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    Lead,
    OutboundMail,
    Rep,
    RepAlias,
    Response,
)

T0 = datetime(2026, 3, 2, 10)


@pytest.fixture
def answered(engine: Engine, settings: Settings, tmp_path: Path) -> Settings:
    with Session(engine) as s:
        rep = Rep(email="dana@x.example", name="Dana Whitfield")
        s.add(rep)
        s.commit()
        s.add(RepAlias(rep_id=rep.id or 0, email="dana@home.example"))
        s.add(Lead(crm_id="L1", name="Peter Hoffmann", email="peter@globex.example", company="Globex",
                   title="CFO", rep_id=rep.id, assigned_at=T0))  # fmt: skip
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "o"), now=T0))
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest)).one()
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = (
        "Dana <dana@x.example>",
        f"feedback+{request.token}@x",
        "Re: Peter",
    )
    msg["Message-ID"] = "<r1@x.example>"
    msg.set_content("Rejected, no budget. Peter Hoffmann said so.")
    mid = store_batch(engine, [Incoming(raw=msg.as_bytes(), mail_from="dana@x.example",
                                        rcpt_to=(f"feedback+{request.token}@{settings.reply_domain}",),
                                        peer=None, received_at=T0)])[0].id  # fmt: skip
    assert process_message(engine, settings, mid, now=T0).status == "processed"
    return settings


def test_erasing_a_lead_keeps_the_figures(engine: Engine, answered: Settings) -> None:
    before = summary(engine, Filters(), answered)
    with Session(engine) as s:
        counted = erase(s, lead="L1", dry_run=True)
        assert counted.touched["lead"] == 1 and s.exec(select(Lead)).one().name == "Peter Hoffmann"
        result = erase(s, lead="L1")
        s.commit()
        assert result.touched["lead"] == 1 and result.touched["inbound_message.raw"] == 1
    with Session(engine) as s:
        lead = s.exec(select(Lead)).one()
        assert (lead.name, lead.email, lead.company, lead.title) == ("(erased)", None, None, None)
        ids = [m.id or 0 for m in s.exec(select(InboundMessage)).all()]
        assert ids and raw_bytes.read_many(s.connection(), ids) == {}  # the bytes are gone
        assert all("Peter" not in r.reply_text for r in s.exec(select(Response)).all())
        assert all("Peter" not in m.subject for m in s.exec(select(OutboundMail)).all())
        assert s.exec(select(Response)).one().outcome == "rejected"  # the figure stays
    after = summary(engine, Filters(), answered)
    assert [s.rows for s in after.sections][:1] == [s.rows for s in before.sections][:1]


def test_erasing_a_rep_by_address_cli(engine: Engine, answered: Settings) -> None:
    env = {"FEEDBACK_DATABASE_URL": engine.url.render_as_string(hide_password=False), "FEEDBACK_SECRET": "s"}
    dry = CliRunner().invoke(app, ["erase", "--email", "DANA@x.example", "--dry-run"], env=env)
    assert dry.exit_code == 0 and "would be erased" in dry.output
    done = CliRunner().invoke(app, ["erase", "--rep", "dana@x.example"], env=env)
    assert done.exit_code == 0, done.output
    with Session(engine) as s:
        rep = s.exec(select(Rep)).one()
        assert rep.name == "(erased)" and rep.email.endswith("@invalid")
        assert s.exec(select(RepAlias)).all() == []
        assert s.exec(select(Response)).one().answered_by == "(erased)"
        assert all(m.to_addr == rep.email for m in s.exec(select(OutboundMail)).all())
    nothing = CliRunner().invoke(app, ["erase", "--email", "nobody@x.example"], env=env)
    assert nothing.exit_code == 2 and "nothing stored matches" in nothing.output


def test_exactly_one_target(engine: Engine) -> None:
    with Session(engine) as s, pytest.raises(EraseError, match="exactly one"):
        erase(s, lead="L1", rep="a@b.example")
