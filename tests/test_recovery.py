"""Recovery after a worker dies or stops, and an ingest that starts while Redis is down.

Each test runs its own redis-server (on a free TCP port, or EmbeddedRedis's unix socket), never
the machine's shared one. The database is the suite's (SQLite, or PostgreSQL in CI's second run).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_ingest_faults import replies, send_all, start_doomed_worker
from test_ingest_protocol import count, make_db, make_settings, wait_for

from feedback.ingress.smtp import IngestServer
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.queue import connect, enqueue_messages
from feedback.runtime.redis_embedded import EmbeddedRedis, _binary
from feedback.runtime.settings import Settings
from feedback.storage.models import InboundMessage, Response
from workers.arq_config import run_worker_forever
from workers.service import running_service

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Call to deprecated close:DeprecationWarning"),
]


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path, database_url=database_url, job_timeout=1.0, poll_delay=0.05)


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_db(settings)
    yield engine
    engine.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisOnPort:
    """A private redis-server on a TCP port of loopback, started and stopped by the test."""

    def __init__(self, port: int, workdir: Path) -> None:
        self.port, self.dir = port, workdir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.dir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


@pytest.fixture
def redis_later(tmp_path: Path) -> Iterator[RedisOnPort]:
    server = RedisOnPort(free_port(), tmp_path / "redis-later")
    yield server
    server.stop()


async def test_ingest_starts_and_accepts_while_redis_is_down_then_enqueues(
    settings: Settings, engine: Engine, redis_later: RedisOnPort, tmp_path: Path
) -> None:
    settings = settings.model_copy(update={"redis_url": redis_later.url})
    mails = replies(engine, settings, 3)
    transport = MaildirTransport(tmp_path / "outbox")
    async with running_service(settings, port=0, engine=engine, migrate=False, transport=transport) as run:
        answers = await send_all(run.address[1], mails)  # Redis is down: the mail is still taken
        assert all(a.startswith("2.0.0 Ok: stored") for a in answers)
        assert count(engine, InboundMessage) == 3
        redis_later.start()  # Redis comes back: the worker reconnects, its sweeper enqueues
        await wait_for(lambda: count(engine, Response) >= 3, timeout=60, what="3 responses")
    with Session(engine) as session:
        assert {m.status for m in session.exec(select(InboundMessage)).all()} == {"processed"}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path).start()
    yield server
    server.stop()


async def _stored_and_queued(settings: Settings, engine: Engine, redis_url: str, n: int) -> None:
    pool = await connect(redis_url, conn_retries=0)

    async def enqueue(ids: list[int]) -> list[int]:
        return await enqueue_messages(pool, ids)

    server = IngestServer(settings, engine, enqueue)
    _, port = await server.start(host="127.0.0.1", port=0)
    try:
        await send_all(port, replies(engine, settings, n))
        await wait_for(lambda: server.enqueuer.idle.is_set(), what="the messages to be enqueued")
    finally:
        await server.stop()
        await pool.aclose()


async def test_message_job_of_a_killed_worker_resumes_within_its_own_timeout(
    settings: Settings, engine: Engine, redis: EmbeddedRedis, tmp_path: Path, monkeypatch: Any
) -> None:
    """The dead worker also ran the 600 s cron rounds: its message job must not wait for those."""
    await _stored_and_queued(settings, engine, redis.url, 2)
    marker = tmp_path / "in-job"
    import test_ingest_faults

    production = test_ingest_faults.WORKER_SCRIPT.replace("crons=False", "crons=True")
    monkeypatch.setattr(test_ingest_faults, "WORKER_SCRIPT", production)
    proc = start_doomed_worker(settings, redis.url, marker)
    try:
        await wait_for(marker.exists, timeout=30, what="the doomed worker to start a job")
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        await asyncio.to_thread(proc.wait, 10)
    loop = asyncio.get_running_loop()
    killed = loop.time()
    stop = asyncio.Event()
    healthy = asyncio.create_task(
        run_worker_forever(settings, engine, redis.url, stop=stop, transport=MaildirTransport(tmp_path / "o"))
    )
    try:
        # the lease is job_timeout (1 s) + 5 s; 610 s before (the longest cron job's + 10 s)
        await wait_for(lambda: count(engine, Response) >= 2, timeout=20, what="2 responses after the crash")
    finally:
        stop.set()
        await asyncio.wait_for(healthy, 30)
    assert loop.time() - killed < 1.0 + 5 + 10


class SlowLink:
    """A TCP proxy in front of a Redis that delays every reply (a slow network to Redis)."""

    def __init__(self, upstream_socket: str, delay: float) -> None:
        self.upstream, self.delay = upstream_socket, delay
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if delay:
                    await asyncio.sleep(delay)  # the link's latency, not a synchronisation
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(self.upstream)
        for coro in (self._pipe(reader, up_writer, 0), self._pipe(up_reader, writer, self.delay)):
            task = asyncio.create_task(coro)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def start(self) -> str:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        return f"redis://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/0"

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)


async def test_stop_while_a_job_is_being_picked_leaves_no_lease(
    settings: Settings, engine: Engine, redis: EmbeddedRedis, tmp_path: Path
) -> None:
    """A stop landing between a job's lease and the start of its task (slow Redis link)."""
    settings = settings.model_copy(update={"job_timeout": 120.0})  # a lease that would show
    await _stored_and_queued(settings, engine, redis.url, 1)
    link = SlowLink(str(redis.socket), delay=0.3)
    slow_url = await link.start()
    direct = await connect(redis.url, conn_retries=0)
    stop = asyncio.Event()
    transport = MaildirTransport(tmp_path / "o")
    first = asyncio.create_task(
        run_worker_forever(settings, engine, slow_url, stop=stop, transport=transport)
    )
    try:
        for _ in range(6000):  # polling Redis (directly, 30 s at most) for the lease being taken
            if await direct.keys("arq:in-progress:parse:*"):
                break
            await asyncio.sleep(0.005)
        else:
            raise AssertionError("the worker never took the job")
        stop.set()  # the pick's reply is still on its way through the slow link
        await asyncio.wait_for(first, 30)
        assert await direct.keys("arq:in-progress:*") == []
        stop2 = asyncio.Event()
        second = asyncio.create_task(
            run_worker_forever(settings, engine, redis.url, stop=stop2, transport=transport)
        )
        try:
            await wait_for(lambda: count(engine, Response) >= 1, timeout=20, what="the response")
        finally:
            stop2.set()
            await asyncio.wait_for(second, 30)
    finally:
        stop.set()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(first, 5)
        await direct.aclose()
        await link.close()


async def test_cron_jobs_keep_their_own_long_lease(settings: Settings, engine: Engine) -> None:
    from workers.arq_config import LEASE_MARGIN_S, build_worker

    worker = build_worker(settings, engine, "redis://127.0.0.1:1/0")
    assert worker.in_progress_timeout_s == settings.job_timeout + LEASE_MARGIN_S
    assert worker.cron_leases["cron:followups"] == 600 + LEASE_MARGIN_S  # type: ignore[attr-defined]
    assert worker.cron_leases["cron:sweep"] == 120 + LEASE_MARGIN_S  # type: ignore[attr-defined]
