"""The worker on large stored messages: only what the parser reads is read, and the answer is the
one a small message with the same reply gets (real SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import base64
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.store import Incoming, store_batch
from feedback.mail.parse import MAX_BYTES
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.batch import READ_WHOLE
from feedback.services.processing import process_batch
from feedback.storage.models import FeedbackRequest, InboundMessage, Lead, Rep, Response, utcnow
from feedback.storage.raw_bytes import read_start

MiB = 1024 * 1024


@pytest.fixture
def sent(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Settings, list[FeedbackRequest]]:
    """One rep and two sent disposition requests."""
    with Session(engine) as s:
        rep = Rep(email="dana@brightline.example", name="Dana Whitfield")
        s.add(rep)
        s.commit()
        for crm_id, name in (("L1", "Peter Hoffmann"), ("L2", "Ana Ruiz")):
            s.add(
                Lead(
                    crm_id=crm_id,
                    name=name,
                    company="Globex",
                    rep_id=rep.id,
                    assigned_at=utcnow() - timedelta(hours=1),
                )
            )
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    result = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    assert result.sent == 2
    with Session(engine) as s:
        return settings, list(s.exec(select(FeedbackRequest).order_by(FeedbackRequest.id)).all())  # type: ignore[arg-type]


def _reply(request: FeedbackRequest, settings: Settings, attachment: int) -> bytes:
    """A rep's answer with a PDF of ``attachment`` bytes, base64 as mail clients send it."""
    head = (
        f"From: Dana <dana@brightline.example>\r\nTo: feedback+{request.token}@{settings.reply_domain}\r\n"
        f"Subject: Re: lead\r\nMessage-ID: <{request.id}-{attachment}@brightline.example>\r\n"
        f"In-Reply-To: {request.message_id}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
    ).encode()
    return (
        head + b"--B\r\nContent-Type: text/plain\r\n\r\nRejected, no budget this year.\r\n"
        b"--B\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=quote.pdf\r\n\r\n"
        + base64.encodebytes(b"%PDF" * (attachment // 4)).replace(b"\n", b"\r\n")
        + b"\r\n--B--\r\n"
    )


def _store(engine: Engine, raw: bytes, rcpt: str) -> int:
    incoming = Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer="127.0.0.1", received_at=utcnow())
    return store_batch(engine, [incoming])[0].id


def test_a_large_reply_is_answered_as_a_small_one(
    engine: Engine, sent: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (small_req, large_req) = sent
    rcpt = f"feedback@{settings.reply_domain}"
    small = _store(engine, _reply(small_req, settings, 4096), rcpt)
    raw = _reply(large_req, settings, 6 * MiB)
    assert len(raw) > MAX_BYTES  # past what the parser reads: the worker reads its start only
    large = _store(engine, raw, rcpt)
    out = process_batch(engine, settings, [small, large])
    assert [out[small].status, out[large].status] == ["processed", "processed"]
    with Session(engine) as s:
        answers = {r.request_id: r for r in s.exec(select(Response)).all()}
        for req in (small_req, large_req):
            assert answers[req.id or 0].reply_text == "Rejected, no budget this year."
        assert answers[large_req.id or 0].outcome == answers[small_req.id or 0].outcome is not None
        message = s.get(InboundMessage, large)
        assert message is not None and message.raw == raw  # stored bytes untouched


def test_read_start_reads_the_first_bytes_only(engine: Engine) -> None:
    raw = b"From: a@b.example\r\n\r\n" + bytes(range(256)) * (READ_WHOLE // 128)
    mid = _store(engine, raw, "feedback@feedback.localhost")
    with engine.connect() as conn:
        assert read_start(conn, mid, 1000) == raw[:1000]
        assert read_start(conn, mid, len(raw) + 10) == raw
    with engine.begin() as conn:
        conn.execute(update(InboundMessage).where(InboundMessage.id == mid).values(raw=None))  # type: ignore[arg-type]
    with engine.connect() as conn:
        assert read_start(conn, mid, 1000) is None  # purged
        assert read_start(conn, mid + 1000, 1000) is None  # no such message
