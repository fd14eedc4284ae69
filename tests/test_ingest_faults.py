"""Fault tolerance of ingest + queue + worker: Redis down, a worker killed mid-job, the database
unreachable at accept time, every message delivered twice.

Each test uses a private SQLite database and a private Redis (``EmbeddedRedis`` on a unix
socket in the test's temp dir), never the machine's shared services, and ends with:
accepted == stored == responses, no duplicates. Waits poll conditions with a deadline.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_ingest_protocol import count, make_db, make_requests, make_settings, reply, wait_for

from feedback.ingress.smtp import IngestServer
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.queue import connect, enqueue_messages
from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import Settings
from feedback.storage.db import make_engine
from feedback.storage.models import InboundMessage, Response
from workers.arq_config import run_worker_forever

pytestmark = [
    pytest.mark.slow,
    # arq 0.28's Worker.close() calls redis-py 5's deprecated close(): not ours to fix here
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """The suite's database (SQLite, or PostgreSQL in CI's second run); Redis is always private."""
    return make_settings(tmp_path, database_url=database_url, job_timeout=1.0, poll_delay=0.05)


@pytest.fixture
def engine(settings: Settings) -> Engine:
    engine = make_db(settings)
    yield engine  # type: ignore[misc]
    engine.dispose()


@pytest.fixture
def redis(tmp_path: Path) -> EmbeddedRedis:
    server = EmbeddedRedis(tmp_path).start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
async def ingest(
    settings: Settings, engine: Engine, redis: EmbeddedRedis
) -> AsyncIterator[tuple[IngestServer, int]]:
    pool = await connect(redis.url, conn_retries=0)

    async def enqueue(ids: list[int]) -> list[int]:
        return await enqueue_messages(pool, ids)

    server = IngestServer(settings, engine, enqueue)
    _, port = await server.start(host="127.0.0.1", port=0)
    try:
        yield server, port
    finally:
        await server.stop()
        await pool.aclose()


@pytest.fixture
async def worker(
    settings: Settings, engine: Engine, redis: EmbeddedRedis, tmp_path: Path
) -> AsyncIterator[Any]:
    """``await start()`` runs a worker (with its startup sweep) until the test ends."""
    stop = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def start() -> None:
        tasks.append(
            asyncio.create_task(
                run_worker_forever(
                    settings, engine, redis.url, stop=stop, transport=MaildirTransport(tmp_path / "acks")
                )
            )
        )

    yield start
    stop.set()
    for task in tasks:
        await asyncio.wait_for(task, 30)


async def send_all(port: int, mails: list[tuple[str, str, bytes]]) -> list[str]:
    """Send each mail; returns the server's answers (all must be 2xx)."""
    answers = []
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=20) as smtp:
        for sender, rcpt, raw in mails:
            errors, answer = await smtp.sendmail(sender, [rcpt], raw)
            assert errors == {}
            answers.append(answer)
    return answers


def replies(engine: Engine, settings: Settings, n: int) -> list[tuple[str, str, bytes]]:
    return [(rep, rcpt, reply(rep, rcpt)) for rep, rcpt in make_requests(engine, settings, n)]


def assert_exactly_once(engine: Engine, accepted: int) -> None:
    with Session(engine) as session:
        messages = session.exec(select(InboundMessage)).all()
        responses = session.exec(select(Response)).all()
    assert len(messages) == accepted
    assert len(responses) == accepted
    assert len({r.inbound_message_id for r in responses}) == accepted  # one response per message
    assert {m.status for m in messages} == {"processed"}


async def test_redis_down_during_load_messages_kept_and_swept(
    ingest: tuple[IngestServer, int], engine: Engine, settings: Settings, redis: EmbeddedRedis, worker: Any
) -> None:
    server, port = ingest
    mails = replies(engine, settings, 12)
    answers = await send_all(port, mails[:4])
    await wait_for(lambda: server.enqueuer.idle.is_set(), what="the first messages to be enqueued")
    await asyncio.to_thread(redis.stop)  # Redis goes away mid-load
    answers += await send_all(port, mails[4:])
    assert all(a.startswith("2.0.0 Ok: stored") for a in answers)
    assert count(engine, InboundMessage) == 12  # stored although the queue is down
    await wait_for(lambda: server.enqueuer.idle.is_set(), what="the failed enqueue to be given up")
    await asyncio.to_thread(redis.start)  # back, empty (no persistence): the sweeper must re-enqueue
    await worker()
    await wait_for(lambda: count(engine, Response) >= 12, timeout=40, what="12 responses")
    assert_exactly_once(engine, 12)


WORKER_SCRIPT = textwrap.dedent("""
    import asyncio, sys, time
    from pathlib import Path
    from feedback.services import processing
    from feedback.storage.db import make_engine
    from feedback.runtime.settings import load_settings
    from workers.arq_config import build_worker

    data_dir, redis_url, marker, secret, database_url = sys.argv[1:6]
    settings = load_settings({}, data_dir=Path(data_dir), secret=secret, reply_domain="feedback.localhost",
                             job_timeout=1.0, poll_delay=0.05, database_url=database_url)

    def hang(*args, **kwargs):
        Path(marker).write_text("in job")
        time.sleep(600)  # killed here, mid-job, before anything is committed

    processing.process_message = processing.process_batch = hang
    engine = make_engine(settings.resolved_database_url)

    async def main():
        await build_worker(settings, engine, redis_url, crons=False).async_run()

    asyncio.run(main())
""")


def start_doomed_worker(settings: Settings, redis_url: str, marker: Path) -> subprocess.Popen[bytes]:
    root = Path(__file__).resolve().parent.parent
    assert settings.secret is not None
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            WORKER_SCRIPT,
            str(settings.data_dir),
            redis_url,
            str(marker),
            settings.secret.get_secret_value(),
            settings.resolved_database_url,
        ],
        env={**os.environ, "PYTHONPATH": str(root)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


async def test_worker_killed_mid_job_is_retried_once(
    ingest: tuple[IngestServer, int],
    engine: Engine,
    settings: Settings,
    redis: EmbeddedRedis,
    worker: Any,
    tmp_path: Path,
) -> None:
    server, port = ingest
    mails = replies(engine, settings, 3)
    await send_all(port, mails)
    await wait_for(lambda: server.enqueuer.idle.is_set(), what="the messages to be enqueued")
    marker = tmp_path / "in-job"
    proc = start_doomed_worker(settings, redis.url, marker)
    try:
        await wait_for(marker.exists, timeout=30, what="the doomed worker to start a job")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
    assert count(engine, Response) == 0
    # a healthy worker retries once arq's in-progress lease (job_timeout + 10 s) has expired
    await worker()
    await wait_for(lambda: count(engine, Response) >= 3, timeout=45, what="3 responses after the retry")
    assert_exactly_once(engine, 3)


class LoopbackProxy:
    """A TCP proxy on loopback in front of PostgreSQL that a test can cut and restore."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.server: asyncio.base_events.Server | None = None
        self.pipes: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        for task in (self._pipe(reader, up_writer), self._pipe(up_reader, writer)):
            t = asyncio.create_task(task)
            self.pipes.add(t)
            t.add_done_callback(self.pipes.discard)

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        """Refuse new connections and break the open ones."""
        assert self.server is not None
        self.server.close()
        for task in list(self.pipes):
            task.cancel()
        await asyncio.gather(*self.pipes, return_exceptions=True)
        self.server = None


async def _assert_451_then_recover(
    settings: Settings, engine: Engine, mails: list[tuple[str, str, bytes]], go_down: Any, come_back: Any
) -> IngestServer:
    server = IngestServer(settings, engine, None)
    _, port = await server.start(host="127.0.0.1", port=0)
    try:
        await go_down()
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=20) as smtp:
            sender, rcpt, raw = mails[0]
            await smtp.mail(sender)
            with pytest.raises(aiosmtplib.SMTPRecipientRefused) as err:
                await smtp.rcpt(rcpt)  # the token is valid but its request cannot be looked up
            assert err.value.code == 451 and "try again later" in err.value.message
            await smtp.rset()
            with pytest.raises(aiosmtplib.SMTPDataError) as data_err:  # bare address: no lookup
                await smtp.sendmail(sender, ["feedback@feedback.localhost"], raw)
            assert data_err.value.code == 451
            assert "database unavailable" in data_err.value.message
        await come_back()  # the database is back: the sender's retry succeeds
        answers = await send_all(port, mails)
        assert all(a.startswith("2.0.0 Ok: stored") for a in answers)
    finally:
        await server.stop()
    return server


async def test_database_unreachable_at_accept_time_is_451(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    from sqlalchemy.engine import make_url

    mails = replies(engine, settings, 2)
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "postgresql":
        proxy = LoopbackProxy(url.host or "127.0.0.1", url.port or 5432)
        await proxy.start()
        via_proxy = make_engine(
            url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        )
        try:
            server = await _assert_451_then_recover(settings, via_proxy, mails, proxy.cut, proxy.start)
        finally:
            via_proxy.dispose()
        assert count(engine, InboundMessage) == 2
        assert server.handler.stats.deferred == 1 and server.handler.stats.accepted == 2
        return

    engine.dispose()
    db_dir = tmp_path / "db"
    db_dir.mkdir()
    for name in ("feedback.db", "feedback.db-wal", "feedback.db-shm"):
        if (tmp_path / name).exists():
            (tmp_path / name).rename(db_dir / name)
    down = make_engine(f"sqlite:///{db_dir / 'feedback.db'}")  # a fresh pool: no open connection
    away = tmp_path / "db-away"

    async def vanish() -> None:
        db_dir.rename(away)  # the database vanishes (unmounted volume, lost network share)

    async def reappear() -> None:
        away.rename(db_dir)

    try:
        server = await _assert_451_then_recover(settings, down, mails, vanish, reappear)
    finally:
        down.dispose()
    check = make_engine(f"sqlite:///{db_dir / 'feedback.db'}")
    try:
        assert count(check, InboundMessage) == 2
        assert server.handler.stats.deferred == 1 and server.handler.stats.accepted == 2
    finally:
        check.dispose()


async def test_every_message_delivered_twice_stored_once_answered_once(
    ingest: tuple[IngestServer, int], engine: Engine, settings: Settings, worker: Any
) -> None:
    server, port = ingest
    mails = replies(engine, settings, 5)
    first = await send_all(port, mails)
    # the relay retries (lost 250, say): same message, one more trace header
    again = [
        (s, r, b"Received: from relay2.example by mx.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n" + raw)
        for s, r, raw in mails
    ]
    second = await send_all(port, again)
    assert first == second  # "stored as #id": the same ids
    assert server.handler.stats.accepted == 5 and server.handler.stats.duplicates == 5
    await worker()
    await wait_for(lambda: count(engine, Response) >= 5, timeout=30, what="5 responses")
    assert_exactly_once(engine, 5)
    with Session(engine) as session:
        assert {m.deliveries for m in session.exec(select(InboundMessage)).all()} == {2}


async def test_a_bug_in_the_ingest_answers_451_and_logs_it_never_500(
    engine: Engine, settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected error while storing (DATA) or looking up (RCPT) is a temporary failure: the
    sending server keeps the rep's reply and retries, where a 500 would bounce it for good."""
    mails = replies(engine, settings, 1)
    sender, rcpt, raw = mails[0]
    server = IngestServer(settings, engine, None)
    _, port = await server.start(host="127.0.0.1", port=0)
    try:

        async def broken_store(item: Any) -> Any:
            raise RuntimeError("a bug in store")

        async def broken_lookup(request_id: int) -> bool:
            raise KeyError("a bug in lookup")

        with monkeypatch.context() as patch:
            patch.setattr(server.handler.store, "store", broken_store)
            with pytest.raises(aiosmtplib.SMTPDataError) as data_err:
                async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=20) as smtp:
                    await smtp.sendmail(sender, [rcpt], raw)
            assert data_err.value.code == 451 and "try again later" in data_err.value.message
            patch.setattr(server.handler.store, "request_exists", broken_lookup)
            server.handler._known = lambda request_id: False  # type: ignore[method-assign]
            async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=20) as smtp:
                await smtp.mail(sender)
                with pytest.raises(aiosmtplib.SMTPRecipientRefused) as rcpt_err:
                    await smtp.rcpt(rcpt)
            assert rcpt_err.value.code == 451
        logged = [r for r in caplog.records if r.levelname in ("ERROR",)]
        assert any(
            getattr(r, "mail_id", None) and r.exc_info and "a bug in store" in str(r.exc_info[1])
            for r in logged
        )
        assert any(r.exc_info and "a bug in lookup" in str(r.exc_info[1]) for r in logged)
        answers = await send_all(port, mails)  # fixed: the sender's retry is stored
        assert all(a.startswith("2.0.0 Ok: stored") for a in answers)
    finally:
        await server.stop()
    assert count(engine, InboundMessage) == 1
