"""An unlisted competitor is flagged for review the first time it is stored, and only then."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.ingress.store import Incoming, store_batch
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.storage.models import FeedbackRequest, Lead, Rep, RequestStatus, Response, ReviewItem, utcnow


def _requests(engine: Engine, settings: Settings, tmp_path: Path, n: int) -> list[FeedbackRequest]:
    with Session(engine) as s:
        rep = Rep(email="ann@brightline.example", name="Ann Kowalski")
        s.add(rep)
        s.commit()
        at = utcnow() - timedelta(minutes=5)
        s.add_all([Lead(crm_id=f"L{i}", name=f"Lead {i}", rep_id=rep.id, assigned_at=at) for i in range(n)])
        s.commit()
    sent = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    assert sent.sent == n
    with Session(engine) as s:
        return list(s.exec(select(FeedbackRequest).order_by(col(FeedbackRequest.id))).all())


def _answer(engine: Engine, settings: Settings, request: FeedbackRequest, text: str) -> FeedbackRequest:
    msg = EmailMessage()
    msg["From"] = "Ann <ann@brightline.example>"
    msg["To"] = f"feedback+{request.token}@{settings.reply_domain}"
    msg["Subject"] = "Re: your lead"
    msg["Message-ID"] = f"<{request.id}-{abs(hash(text))}@brightline.example>"
    msg.set_content(text)
    rcpt = f"feedback+{request.token}@{settings.reply_domain}"
    stored = store_batch(
        engine,
        [
            Incoming(
                raw=msg.as_bytes(), mail_from="x@y", rcpt_to=(rcpt,), peer="127.0.0.1", received_at=utcnow()
            )
        ],
    )
    process_message(engine, settings, stored[0].id)
    with Session(engine) as s:
        got = s.get(FeedbackRequest, request.id)
        assert got is not None
        return got


def test_a_new_unlisted_competitor_is_reviewed_once(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    first, second, third, fourth = _requests(engine, settings, tmp_path, 4)
    text = "Rejected - not a fit, they signed with Globex Dataworks last month"
    assert _answer(engine, settings, first, text).status == RequestStatus.review
    with Session(engine) as s:
        item = s.exec(select(ReviewItem)).one()
        assert "new competitor 'Globex Dataworks'" in item.reason and "configured" in item.reason
        assert s.exec(select(Response.competitor)).one() == "Globex Dataworks"  # stored as written
    # the same name again, in another case, is no longer new
    again = "Rejected - not a fit, they signed with GLOBEX DATAWORKS last month"
    assert _answer(engine, settings, second, again).status == RequestStatus.answered
    # configured names, also misspelt, are never new
    assert (
        _answer(engine, settings, third, "Rejected, they signed with Contosso").status
        == RequestStatus.answered
    )
    assert (
        _answer(engine, settings, fourth, "Rejected, they went with fabrikam").status
        == RequestStatus.answered
    )
    with Session(engine) as s:
        assert len(s.exec(select(ReviewItem)).all()) == 1
        names = s.exec(select(Response.competitor).order_by(col(Response.id))).all()
        assert names == ["Globex Dataworks", "GLOBEX DATAWORKS", "Contoso Suite", "Fabrikam Analytics"]


def test_a_reps_name_is_no_competitor(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    with Session(engine) as s:
        s.add(Rep(email="sarah@brightline.example", name="Sarah Lindqvist"))
        s.commit()
    (request,) = _requests(engine, settings, tmp_path, 1)
    answered = _answer(engine, settings, request, "Rejected, not a fit. They went with Sarah on it.")
    assert answered.status == RequestStatus.answered
    with Session(engine) as s:
        assert s.exec(select(Response.competitor)).one() is None
        assert s.exec(select(ReviewItem)).all() == []
