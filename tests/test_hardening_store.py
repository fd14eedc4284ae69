"""Issue 14 item 1: text no database can hold, and one bad message in a group commit.

Through real SMTP on the suite's database (PostgreSQL in CI's second run, where NUL fails);
the isolation tests make one message fail with a real trigger in the real database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiosmtplib
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_ingest_protocol import make_db, make_requests, make_settings, reply

from feedback.ingress.smtp import IngestServer
from feedback.ingress.store import Incoming, store_batch
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.storage import raw_bytes
from feedback.storage.models import InboundMessage, MessageStatus, Response, utcnow
from workers import jobs


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_db(settings)
    yield engine  # type: ignore[misc]
    engine.dispose()


@pytest.fixture
async def ingest(settings: Settings, engine: Engine) -> AsyncIterator[int]:
    server = IngestServer(settings, engine, None)
    # commits wait for every session that is receiving, so the test's messages share one batch
    server.store.linger = 2.0
    _, port = await server.start(host="127.0.0.1", port=0)
    try:
        yield port
    finally:
        await server.stop()


async def send_together(port: int, mails: list[tuple[str, str, bytes]]) -> list[tuple[int, str]]:
    """Open a session per mail, take them all to DATA, then send every body at once.

    All sessions are receiving when the first body is handed over, so the writer's commit waits
    for the others (``linger``): the messages share one group commit, as under real load.
    """
    sessions = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=30) for _ in mails]
    for smtp, (sender, rcpt, _) in zip(sessions, mails, strict=True):
        await smtp.connect()
        await smtp.ehlo()
        await smtp.mail(sender)
        await smtp.rcpt(rcpt)

    async def data(smtp: aiosmtplib.SMTP, raw: bytes) -> tuple[int, str]:
        try:
            answer = await smtp.data(raw)
        except aiosmtplib.SMTPResponseException as exc:
            return exc.code, exc.message
        return answer.code, answer.message

    try:
        return list(await asyncio.gather(*(data(s, m[2]) for s, m in zip(sessions, mails, strict=True))))
    finally:
        for smtp in sessions:
            smtp.close()


def raw_of(engine: Engine, message_id: int) -> bytes | None:
    with engine.connect() as conn:
        return raw_bytes.read(conn, message_id)


def messages(engine: Engine) -> list[InboundMessage]:
    with Session(engine) as session:
        return list(session.exec(select(InboundMessage).order_by(InboundMessage.id)).all())  # type: ignore[arg-type]


async def test_nul_in_a_header_stores_every_message_of_its_batch(
    ingest: int, engine: Engine, settings: Settings
) -> None:
    mails = [(rep, rcpt, reply(rep, rcpt)) for rep, rcpt in make_requests(engine, settings, 6)]
    rep, rcpt, raw = mails[2]
    mails[2] = (rep, rcpt, raw.replace(b"Message-ID: <", b"Message-ID: <nul\x00here."))
    answers = await send_together(ingest, mails)
    assert [code for code, _ in answers] == [250] * 6, answers
    stored = messages(engine)
    assert len(stored) == 6
    (poisoned,) = [m for m in stored if m.message_id and m.message_id.startswith("<nul")]
    assert "\x00" not in poisoned.message_id and "\ufffd" in poisoned.message_id  # type: ignore[operator]
    kept = raw_of(engine, poisoned.id or 0)
    assert kept is not None and b"\x00" in kept  # the raw message is kept as received


def utf16_labelled_cp1252(rep: str, rcpt: str, words: str) -> bytes:
    head = (
        f"From: Pat Rep <{rep}>\r\nTo: {rcpt}\r\nSubject: Re: What happened to lead Lead?\r\n"
        "Message-ID: <utf16@example.com>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="windows-1252"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n'
    )
    return head.encode() + f"{words}\r\n".encode("utf-16-le")


def test_utf16_text_labelled_windows_1252_is_read_and_stored(engine: Engine, settings: Settings) -> None:
    ((rep, rcpt),) = make_requests(engine, settings, 1)
    raw = utf16_labelled_cp1252(rep, rcpt, "Not a fit, they have no budget this year.")
    (stored,) = store_batch(
        engine, [Incoming(raw=raw, mail_from=rep, rcpt_to=(rcpt,), peer=None, received_at=utcnow())]
    )
    out = process_message(engine, settings, stored.id)  # raised DataError on PostgreSQL
    assert out.status == MessageStatus.processed
    with Session(engine) as session:
        (response,) = session.exec(select(Response)).all()
    assert response.reply_text.startswith("Not a fit, they have no budget this year.")


def poison_trigger(engine: Engine, column: str, table: str = "inbound_message") -> None:
    """A real trigger that refuses rows whose ``column`` contains 'poison' (a data error)."""
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.execute(
                text(
                    f"CREATE TRIGGER poison BEFORE INSERT ON {table} "
                    f"WHEN NEW.{column} LIKE '%poison%' BEGIN SELECT RAISE(ABORT, 'poisoned'); END"
                )
            )
            return
        conn.execute(
            text(
                "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                f"IF NEW.{column} LIKE '%poison%' THEN "
                "RAISE EXCEPTION 'poisoned' USING ERRCODE = 'data_exception'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
        )
        conn.execute(
            text(f"CREATE TRIGGER poison BEFORE INSERT ON {table} FOR EACH ROW EXECUTE FUNCTION poison()")
        )


async def test_a_data_error_in_one_message_never_fails_its_batch(
    ingest: int, engine: Engine, settings: Settings
) -> None:
    poison_trigger(engine, "message_id")
    mails = [(rep, rcpt, reply(rep, rcpt)) for rep, rcpt in make_requests(engine, settings, 6)]
    rep, rcpt, raw = mails[3]
    mails[3] = (rep, rcpt, raw.replace(b"Message-ID: <", b"Message-ID: <poison."))
    answers = await send_together(ingest, mails)
    assert [code for code, _ in answers] == [250] * 6, answers
    stored = messages(engine)
    assert len(stored) == 6
    # stored alone, without the metadata that failed: the raw message is whole for the worker
    bare = [m for m in stored if m.message_id is None]
    assert len(bare) == 1
    kept = raw_of(engine, bare[0].id or 0)
    assert kept is not None and b"<poison." in kept
    assert bare[0].status in (MessageStatus.received, MessageStatus.queued)


async def test_a_message_that_cannot_be_stored_alone_is_refused_not_deferred(
    ingest: int, engine: Engine, settings: Settings
) -> None:
    poison_trigger(engine, "mail_from")
    mails = [(rep, rcpt, reply(rep, rcpt)) for rep, rcpt in make_requests(engine, settings, 5)]
    bare = f"feedback@{settings.reply_domain}"
    mails.insert(2, ("poison@example.com", bare, reply("poison@example.com", bare)))
    answers = await send_together(ingest, mails)
    codes = [code for code, _ in answers]
    assert codes[:2] + codes[3:] == [250] * 5, answers
    assert codes[2] == 554 and "cannot be stored" in answers[2][1]  # permanent: no retry loop
    assert len(messages(engine)) == 5


async def test_a_data_error_in_the_worker_marks_the_message_failed(
    engine: Engine, settings: Settings
) -> None:
    """Not a database outage: no retry loop, the message ends `failed` with the reason."""
    poison_trigger(engine, "reply_text", table="response")
    ((rep, rcpt),) = make_requests(engine, settings, 1)
    raw = reply(rep, rcpt, "Not a fit, poison pill pricing.")
    (stored,) = store_batch(
        engine, [Incoming(raw=raw, mail_from=rep, rcpt_to=(rcpt,), peer=None, received_at=utcnow())]
    )
    ctx = {"engine": engine, "settings": settings, "job_try": 1}
    assert await jobs.process_job(ctx, stored.id) == MessageStatus.failed
    (message,) = messages(engine)
    assert message.status == MessageStatus.failed
    assert message.error is not None and "poisoned" in message.error


async def test_relayed_redeliveries_are_one_message_and_one_response(
    ingest: int, engine: Engine, settings: Settings
) -> None:
    """Issue 14 item 8: raw, re-encoded quoted-printable, base64, with a Date added by a relay."""
    import base64
    import quopri

    ((rep, rcpt),) = make_requests(engine, settings, 1)
    head = (
        f"From: Pat Rep <{rep}>\r\nTo: {rcpt}\r\nSubject: Re: What happened to lead Lead?\r\n"
        "Message-ID: <relayed-1@example.com>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    ).encode()
    body = "Not a fit, they have no budget this year. Désolé.\r\n\r\nThanks,\r\nPat\r\n".encode()
    qp = quopri.encodestring(body.replace(b"\r\n", b"\n")).replace(b"\n", b"\r\n")
    b64 = base64.encodebytes(body).replace(b"\n", b"\r\n")
    copies = [
        head + body,
        head.replace(b": 8bit", b": quoted-printable") + qp,
        head.replace(b": 8bit", b": base64") + b64,
        b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\n" + head + body,
    ]
    answers = [(await send_together(ingest, [(rep, rcpt, raw)]))[0] for raw in copies]
    assert [code for code, _ in answers] == [250] * 4, answers
    (stored,) = messages(engine)
    assert stored.deliveries == 4
    for _ in copies:  # the ingest acknowledged each copy with the same id; process each "job"
        process_message(engine, settings, stored.id or 0)
    with Session(engine) as session:
        assert len(session.exec(select(Response)).all()) == 1
