"""The whole loop for real: requests out -> rep replies over SMTP -> arq worker -> stored reasons."""

from __future__ import annotations

import asyncio
import mailbox
import time
from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path

import aiosmtplib
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.importing import import_file
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.demo import build_reply, sample_dir
from feedback.runtime.settings import Settings
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    Rep,
    RequestStatus,
    Response,
    ResponseReason,
)
from workers.service import running_service

REPLIES = {
    "disposition": "Rejected - no budget this year.",
    "winloss": "Lost to Contoso on price, we were 30% higher.",
}


def _import_samples(engine: Engine, settings: Settings) -> None:
    with Session(engine) as session:
        for kind in ("reps", "leads", "deals"):
            result = import_file(
                session=session, kind=kind, path=sample_dir() / f"{kind}.csv", settings=settings
            )
            assert not result.errors
            session.commit()


async def _wait_for(predicate, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(predicate):
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_loop_end_to_end(engine: Engine, settings: Settings, clean_redis: str, tmp_path: Path) -> None:
    from datetime import datetime

    settings = settings.model_copy(update={"redis_url": clean_redis, "send_since": datetime(2020, 1, 1)})
    _import_samples(engine, settings)
    outbox = MaildirTransport(tmp_path / "outbox")
    sent = await send_due_requests(engine, settings, outbox)
    assert sent.sent > 10 and not sent.errors

    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    requests = [box.get_bytes(k) for k in sorted(box.keys())]
    assert len(requests) == sent.sent
    first = message_from_bytes(requests[0], policy=policy.default)
    assert first["Auto-Submitted"] == "auto-generated"
    assert first["X-Auto-Response-Suppress"] == "All"
    assert first.get_body(preferencelist=("html",)) is not None

    async with running_service(settings, port=0, engine=engine, migrate=False) as running:
        host, port = running.address
        async with aiosmtplib.SMTP(hostname=host, port=port) as smtp:
            for raw in requests:
                req = message_from_bytes(raw, policy=policy.default)
                rep = parseaddr(str(req["To"]))[1]
                kind = "winloss" if str(req["Subject"]).startswith("Closed deal") else "disposition"
                reply, rcpt = build_reply(raw, text=REPLIES[kind], sender_name="Rep", sender=rep)
                errors, answer = await smtp.send_message(reply, sender=rep, recipients=[rcpt])
                assert not errors and "stored as #" in answer

        def all_answered() -> bool:
            with Session(engine) as s:
                return len(s.exec(select(Response)).all()) == len(requests)

        await _wait_for(all_answered)

    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == len(requests)
        statuses = {r.status for r in s.exec(select(FeedbackRequest)).all()}
        assert statuses == {RequestStatus.answered}
        for response in s.exec(select(Response)).all():
            reasons = s.exec(
                select(ResponseReason.code)
                .where(ResponseReason.response_id == response.id)
                .order_by(col(ResponseReason.rank))
            ).all()
            if response.kind == "disposition":
                assert (response.outcome, reasons[:1]) == ("rejected", ["no_budget"])
            else:
                assert (response.outcome, reasons[:1], response.competitor) == (
                    "lost",
                    ["price"],
                    "Contoso Suite",
                )
            assert "wrote:" not in response.reply_text


async def test_reply_from_stranger_is_quarantined(
    engine: Engine, settings: Settings, clean_redis: str, tmp_path: Path
) -> None:
    from datetime import datetime

    settings = settings.model_copy(update={"redis_url": clean_redis, "send_since": datetime(2020, 1, 1)})
    _import_samples(engine, settings)
    outbox = MaildirTransport(tmp_path / "outbox")
    await send_due_requests(engine, settings, outbox, limit=1)
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    raw = box.get_bytes(next(iter(box.keys())))
    async with running_service(settings, port=0, engine=engine, migrate=False) as running:
        host, port = running.address
        reply, rcpt = build_reply(
            raw, text="Won, great fit.", sender_name="Mallory", sender="mallory@evil.example"
        )
        async with aiosmtplib.SMTP(hostname=host, port=port) as smtp:
            await smtp.send_message(reply, sender="mallory@evil.example", recipients=[rcpt])

        def quarantined() -> bool:
            with Session(engine) as s:
                m = s.exec(select(InboundMessage)).first()
                return m is not None and m.status == "quarantined"

        await _wait_for(quarantined)
    with Session(engine) as s:
        assert s.exec(select(Response)).all() == []
        assert s.exec(select(Rep)).first() is not None


async def test_store_refuses_after_close_instead_of_hanging(engine: Engine) -> None:
    from feedback.ingress.store import Incoming, MessageStore, StoreUnavailable
    from feedback.storage.models import utcnow

    store = MessageStore(engine)
    item = Incoming(raw=b"Subject: x\r\n\r\nWon.\r\n", mail_from="a@b", rcpt_to=("feedback@x",), peer=None,
                    received_at=utcnow())  # fmt: skip
    assert (await store.store(item)).id > 0
    await store.close()
    try:
        await store.store(item)
    except StoreUnavailable as exc:
        assert "shutting down" in str(exc)
    else:
        raise AssertionError("a closed store accepted a message")
