"""SMTP protocol behaviour of the ingest, with a real client (aiosmtplib) on loopback."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

import feedback.ingress.store
from feedback.core.tokens import make_token, reply_address
from feedback.ingress.smtp import IngestServer
from feedback.runtime.settings import Settings, load_settings
from feedback.storage import raw_bytes
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import FeedbackRequest, InboundMessage, Lead, Refusal, Rep, RequestStatus, utcnow

DOMAIN = "feedback.localhost"
SECRET = "0123456789abcdef" * 4


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "data_dir": tmp_path,
        "secret": SECRET,
        "reply_domain": DOMAIN,
        "job_timeout": 1.0,
    }
    values.update(overrides)
    return load_settings({}, **values)


def make_db(settings: Settings) -> Engine:
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return engine


def make_requests(engine: Engine, settings: Settings, n: int) -> list[tuple[str, str]]:
    """``n`` sent requests (one rep each); returns (rep email, reply address) pairs."""
    out: list[tuple[str, str]] = []
    with Session(engine) as session:
        start = int(session.exec(select(func.count()).select_from(Rep)).one())
        for i in range(start, start + n):
            rep = Rep(email=f"rep{i}@example.com", name=f"Pat Rep{i}")
            session.add(rep)
            session.flush()
            lead = Lead(crm_id=f"L{i}", name=f"Lead {i}", company="Acme", rep_id=rep.id, assigned_at=utcnow())
            session.add(lead)
            session.flush()
            req = FeedbackRequest(
                kind="disposition",
                lead_id=lead.id,
                rep_id=rep.id or 0,
                status=RequestStatus.sent,
                taxonomy_version=settings.taxonomy.fingerprint,
                sent_at=utcnow(),
                expires_at=utcnow() + timedelta(days=30),
            )
            session.add(req)
            session.flush()
            assert req.id is not None
            req.token = make_token(req.id, settings.secret_bytes())
            out.append((rep.email, reply_address(req.token, local=settings.reply_local, domain=DOMAIN)))
        session.commit()
    return out


def reply(sender: str, rcpt: str, text: str = "Not a fit, they have no budget this year.") -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Pat Rep <{sender}>"
    msg["To"] = rcpt
    msg["Subject"] = "Re: What happened to lead Lead?"
    msg["Message-ID"] = make_msgid(domain="example.com")
    msg.set_content(f"{text}\n\nThanks,\nPat\n")
    return msg.as_bytes()


def count(engine: Engine, model: Any) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


async def wait_for(condition: Callable[[], bool], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll ``condition`` (run in a thread: it may query the database) until true or the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(condition):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url, data_size_limit=64 * 1024, max_recipients=3)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_db(settings)
    yield engine  # type: ignore[misc]
    engine.dispose()


@pytest.fixture
async def server(settings: Settings, engine: Engine) -> AsyncIterator[tuple[IngestServer, str, int]]:
    ingest = IngestServer(settings, engine, None)
    host, port = await ingest.start(host="127.0.0.1", port=0)
    try:
        yield ingest, host, port
    finally:
        await ingest.stop()


def client(host: str, port: int) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(hostname=host, port=port, timeout=20)


async def test_ehlo_advertises_size(server: tuple[IngestServer, str, int], settings: Settings) -> None:
    _, host, port = server
    async with client(host, port) as smtp:
        await smtp.ehlo()
        assert smtp.supports_extension("size")
        assert smtp.esmtp_extensions["size"] == str(settings.data_size_limit)


@pytest.mark.parametrize("declared", [True, False], ids=["size-declared-at-mail", "found-at-data"])
async def test_too_big_is_552_and_recorded_without_body(
    server: tuple[IngestServer, str, int], engine: Engine, settings: Settings, declared: bool
) -> None:
    _, host, port = server
    ((rep, rcpt),) = make_requests(engine, settings, 1)
    big = reply(rep, rcpt, "x" * 70 + "\n" + ("filler line of text\n" * 4000))
    assert len(big) > settings.data_size_limit
    async with client(host, port) as smtp:
        with pytest.raises(aiosmtplib.SMTPResponseException) as err:
            if declared:  # aiosmtplib sends MAIL FROM:<..> SIZE=n: refused before RCPT
                await smtp.sendmail(rep, [rcpt], big)
            else:
                await smtp.ehlo()
                await smtp.mail(rep)
                await smtp.rcpt(rcpt)
                await smtp.data(big)
        assert err.value.code == 552
        assert "size limit" in err.value.message
    assert count(engine, InboundMessage) == 0
    with Session(engine) as session:
        (refusal,) = session.exec(select(Refusal)).all()
    assert (refusal.code, refusal.mail_from) == (552, rep)
    assert refusal.rcpt_to == ("" if declared else rcpt)
    assert refusal.size > settings.data_size_limit
    assert "raw" not in Refusal.model_fields  # envelope and size only, never the body


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        ("foreign", "not a reply address of this service"),
        ("tampered", "invalid reply token"),
        ("unknown", "no such feedback request"),
        ("mailbox", "unknown mailbox"),
    ],
)
async def test_rcpt_refusals_say_which(
    server: tuple[IngestServer, str, int], engine: Engine, settings: Settings, which: str, expected: str
) -> None:
    _, host, port = server
    ((rep, good),) = make_requests(engine, settings, 1)
    local, _, _ = good.partition("@")
    token = local.partition("+")[2]
    tampered = token[:-1] + ("a" if token[-1] != "a" else "b")
    address = {
        "foreign": f"feedback+{token}@elsewhere.example",
        "tampered": f"feedback+{tampered}@{DOMAIN}",
        "unknown": reply_address(
            make_token(99_999, settings.secret_bytes()), local="feedback", domain=DOMAIN
        ),
        "mailbox": f"sales@{DOMAIN}",
    }[which]
    async with client(host, port) as smtp:
        await smtp.mail(rep)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as err:
            await smtp.rcpt(address)
        assert err.value.code == 550
        assert err.value.message.startswith("5.1.1") and expected in err.value.message
        await smtp.rcpt(good)  # the session goes on; the good address is still accepted


async def test_bare_reply_address_is_accepted_and_stored(
    server: tuple[IngestServer, str, int], engine: Engine
) -> None:
    _, host, port = server
    async with client(host, port) as smtp:
        errors, answer = await smtp.sendmail(
            "rep@example.com", [f"feedback@{DOMAIN}"], reply("rep@example.com", f"feedback@{DOMAIN}")
        )
    assert errors == {} and answer.startswith("2.0.0 Ok: stored as #")
    assert count(engine, InboundMessage) == 1


async def test_too_many_recipients_is_452(
    server: tuple[IngestServer, str, int], engine: Engine, settings: Settings
) -> None:
    _, host, port = server
    reqs = make_requests(engine, settings, 4)
    async with client(host, port) as smtp:
        await smtp.mail(reqs[0][0])
        for _, rcpt in reqs[:3]:
            await smtp.rcpt(rcpt)
        with pytest.raises(aiosmtplib.SMTPRecipientRefused) as err:
            await smtp.rcpt(reqs[3][1])
        assert err.value.code == 452 and "Too many recipients" in err.value.message


async def test_over_long_line_is_accepted(
    server: tuple[IngestServer, str, int], engine: Engine, settings: Settings
) -> None:
    _, host, port = server
    ((rep, rcpt),) = make_requests(engine, settings, 1)
    line = b"y" * 100_000
    raw = reply(rep, rcpt).replace(b"Thanks,", line + b"\nThanks,")
    settings.data_size_limit = 1024 * 1024  # the factory reads it per connection
    async with client(host, port) as smtp:
        errors, answer = await smtp.sendmail(rep, [rcpt], raw)
    assert errors == {} and answer.startswith("2.0.0")
    with Session(engine) as session:
        (stored,) = session.exec(select(InboundMessage)).all()
    with engine.connect() as conn:
        kept = raw_bytes.read(conn, stored.id or 0)
    assert kept is not None and line in kept


async def test_stop_finishes_transaction_in_flight_then_421(
    settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ((rep, rcpt),) = make_requests(engine, settings, 1)
    entered, gate = threading.Event(), threading.Event()
    real = feedback.ingress.store._store_on

    def gated(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        if not gate.wait(20):
            raise RuntimeError("test gate never opened")
        return real(*args, **kwargs)

    monkeypatch.setattr(feedback.ingress.store, "_store_on", gated)
    ingest = IngestServer(settings, engine, None)
    host, port = await ingest.start(host="127.0.0.1", port=0)
    stopping: asyncio.Task[None] | None = None
    try:
        async with client(host, port) as first, client(host, port) as second:
            await second.ehlo()
            sending = asyncio.create_task(first.sendmail(rep, [rcpt], reply(rep, rcpt)))
            await wait_for(entered.is_set, what="the DATA commit to start")
            stopping = asyncio.create_task(ingest.stop())
            await wait_for(lambda: ingest.handler.closing, what="stop to begin")
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as err:
                await second.mail(rep)
            assert err.value.code == 421
            assert not stopping.done()  # still waiting for the transaction in flight
            gate.set()
            errors, answer = await sending
            assert errors == {} and answer.startswith("2.0.0 Ok: stored")
            await asyncio.wait_for(stopping, 20)
    finally:
        gate.set()
        if stopping is None:
            await ingest.stop()
    assert count(engine, InboundMessage) == 1


async def test_connections_over_the_limit_get_421(engine: Engine, tmp_path: Path, database_url: str) -> None:
    settings = make_settings(tmp_path, database_url=database_url, max_connections=2)
    ingest = IngestServer(settings, engine, None)
    host, port = await ingest.start(host="127.0.0.1", port=0)
    try:
        async with client(host, port) as one, client(host, port) as two:
            await one.ehlo()
            await two.ehlo()
            reader, writer = await asyncio.open_connection(host, port)
            banner = await asyncio.wait_for(reader.readline(), 10)
            assert banner.startswith(b"421 4.7.0") and b"Too many connections" in banner
            writer.close()
        # the sessions left: a new one is welcome again
        await wait_for(lambda: ingest.handler.connections == 0, what="the connections to close")
        async with client(host, port) as three:
            code, _ = await three.ehlo()
            assert code == 250
    finally:
        await ingest.stop()
