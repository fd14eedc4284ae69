"""Who sent it: the trusted authentication verdict, ambiguous From headers, a second answer by
another path (issue: hostile mail)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.store import Incoming, store_batch
from feedback.mail import parse_message
from feedback.mail.authres import verdict
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.storage.models import FeedbackRequest, Lead, Rep, RepAlias, Response, ReviewItem

MTA = "mx.brightline.example"


@pytest.fixture
def trusted(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Settings, FeedbackRequest]:
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "authserv_id": MTA})
    with Session(engine) as s:
        rep = Rep(email="dana@brightline.example", name="Dana")
        s.add(rep)
        s.commit()
        s.add(RepAlias(rep_id=rep.id or 0, email="dana@home.example"))
        s.add(Lead(crm_id="L1", name="Peter", rep_id=rep.id, assigned_at=datetime(2026, 1, 5)))
        s.commit()
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "o")))
    with Session(engine) as s:
        return settings, s.exec(select(FeedbackRequest)).one()


def _deliver(engine: Engine, settings: Settings, request: FeedbackRequest, text: str, *, frm: str,
             auth: str | None = None, n: int = 0) -> str:  # fmt: skip
    msg = EmailMessage()
    if auth is not None:
        msg["Authentication-Results"] = auth
    msg["From"] = frm
    msg["To"] = f"feedback+{request.token}@{settings.reply_domain}"
    msg["Subject"] = "Re: lead"
    msg["Message-ID"] = f"<a{n}@x.example>"
    msg.set_content(text)
    rcpt = f"feedback+{request.token}@{settings.reply_domain}"
    mid = store_batch(engine, [Incoming(raw=msg.as_bytes(), mail_from="x", rcpt_to=(rcpt,), peer=None,
                                        received_at=datetime.now())])[0].id  # fmt: skip
    return str(process_message(engine, settings, mid).status)


def _current(engine: Engine) -> list[str | None]:
    with Session(engine) as s:
        return [r.outcome for r in s.exec(select(Response).where(Response.is_current)).all()]


def test_a_spoofed_from_with_failed_dmarc_is_quarantined(
    engine: Engine, trusted: tuple[Settings, FeedbackRequest]
) -> None:
    settings, request = trusted
    fail = f"{MTA}; dmarc=fail (p=none) header.from=brightline.example; spf=fail smtp.mailfrom=evil.example"
    assert (
        _deliver(engine, settings, request, "Rejected, no budget.", frm="dana@brightline.example", auth=fail)
        == "quarantined"
    )
    # the same failure stamped by somebody else's server is not trusted either way
    forged_pass = "other.mx; dmarc=pass header.from=brightline.example\n"
    assert verdict(forged_pass, "dana@brightline.example").verdict == "pass"  # parsed, but only ours counts
    ok = f"{MTA}; dkim=pass header.d=brightline.example; spf=pass smtp.mailfrom=brightline.example"
    assert (
        _deliver(
            engine, settings, request, "Rejected, no budget.", frm="dana@brightline.example", auth=ok, n=1
        )
        == "processed"
    )
    with Session(engine) as s:
        assert [i.type for i in s.exec(select(ReviewItem)).all()] == ["quarantined"]


def test_accepting_failed_authentication_is_a_setting(
    engine: Engine, trusted: tuple[Settings, FeedbackRequest]
) -> None:
    settings, request = trusted
    settings = settings.model_copy(update={"auth_fail_action": "accept"})
    fail = f"{MTA}; dmarc=fail header.from=brightline.example"
    assert (
        _deliver(engine, settings, request, "Rejected, no budget.", frm="dana@brightline.example", auth=fail)
        == "processed"
    )


@pytest.mark.parametrize(
    "frm",
    [
        "dana@brightline.example, eve@evil.example",
        '"dana@brightline.example" <eve@evil.example>',
    ],
)
def test_ambiguous_from_headers_are_refused(
    engine: Engine, trusted: tuple[Settings, FeedbackRequest], frm: str
) -> None:
    settings, request = trusted
    assert _deliver(engine, settings, request, "Rejected, no budget.", frm=frm) == "quarantined"
    assert _current(engine) == []


def test_two_from_headers_are_ambiguous() -> None:
    raw = b"From: dana@brightline.example\r\nFrom: eve@evil.example\r\nSubject: x\r\n\r\nWon.\r\n"
    assert parse_message(raw).from_ambiguous == "2 From headers"


def test_a_second_answer_by_another_path_goes_to_review(
    engine: Engine, trusted: tuple[Settings, FeedbackRequest]
) -> None:
    settings, request = trusted
    dkim = f"{MTA}; dkim=pass header.d=brightline.example"
    spf = f"{MTA}; spf=pass smtp.mailfrom=brightline.example"
    assert (
        _deliver(engine, settings, request, "Rejected, no budget.", frm="dana@brightline.example", auth=dkim)
        == "processed"
    )
    # the rep corrects themself the same way: replaces
    assert (
        _deliver(
            engine,
            settings,
            request,
            "Sorry: accepted, meeting booked.",
            frm="dana@brightline.example",
            auth=dkim,
            n=1,
        )
        == "processed"
    )
    assert _current(engine) == ["accepted"]
    # a mail from the rep's alias, or authenticated another way, does not replace: review
    assert (
        _deliver(engine, settings, request, "Rejected, not a fit.", frm="dana@home.example", n=2)
        == "processed"
    )
    assert (
        _deliver(
            engine, settings, request, "Rejected, no need.", frm="dana@brightline.example", auth=spf, n=3
        )
        == "processed"
    )
    assert _current(engine) == ["accepted"]
    with Session(engine) as s:
        reasons = [i.reason for i in s.exec(select(ReviewItem).where(ReviewItem.type == "response")).all()]
        assert len(reasons) == 2 and "dana@home.example" in reasons[0] and "spf:" in reasons[1]
