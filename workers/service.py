"""Run the whole service in one process: embedded Redis (if needed), SMTP ingest and a worker.

Used by ``feedback serve`` and ``feedback demo``. On SIGTERM/SIGINT: stop accepting (421),
finish SMTP transactions in flight, stop the worker (unfinished jobs are retried) and stop the
embedded Redis explicitly.

Accepting mail needs only the database: the ingest starts while Redis is down and connects to
it on first use (``LazyQueue``); messages stored meanwhile are enqueued by the worker's sweeper
once Redis is back (the worker reconnects on its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from arq.connections import ArqRedis
from redis.exceptions import RedisError
from sqlalchemy.engine import Engine

from feedback.ingress.smtp import IngestServer
from feedback.outbound.transports import Transport
from feedback.runtime.queue import close_pool, connect, enqueue_messages
from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import Settings
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import utcnow
from workers.arq_config import run_worker_forever
from workers.extras import extras

log = logging.getLogger("feedback.service")


class LazyQueue:
    """The ingest's queue: connected on first use, and again after a failed connection.

    ``create_pool`` refuses to return while Redis is down; the ingest must not depend on it to
    start or to answer 250, so it connects here, when it has something to enqueue. A failure
    raises to the ``Enqueuer``, which leaves the messages to the sweeper.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.pool: ArqRedis | None = None

    async def enqueue(self, ids: list[int]) -> list[int]:
        if self.pool is None:
            self.pool = await connect(self.url, conn_retries=0)
        return await enqueue_messages(self.pool, ids)

    async def close(self) -> None:
        if self.pool is not None:
            with contextlib.suppress(RedisError, OSError):
                await close_pool(self.pool)
            self.pool = None


@dataclass
class Running:
    settings: Settings
    engine: Engine
    redis_url: str
    ingest: IngestServer
    address: tuple[str, int]
    queue: LazyQueue
    stop: asyncio.Event
    http: tuple[str, int] | None = None  # webhooks, /healthz, /readyz, /metrics (http_port)


@contextlib.asynccontextmanager
async def redis_for(settings: Settings) -> AsyncIterator[str]:
    """The configured Redis URL, or an embedded one started (and stopped) here."""
    if settings.redis_url:
        yield settings.redis_url
        return
    embedded = await asyncio.to_thread(EmbeddedRedis(settings.data_dir).start)
    try:
        yield embedded.url
    finally:
        await asyncio.to_thread(embedded.stop)


@contextlib.asynccontextmanager
async def running_service(
    settings: Settings,
    *,
    worker: bool = True,
    port: int | None = None,
    transport: Transport | None = None,
    engine: Engine | None = None,
    migrate: bool = True,
    clock: Callable[[], datetime] = utcnow,
    crons: bool = True,
) -> AsyncIterator[Running]:
    """Start everything; leave the block to shut down in order."""
    own_engine = engine is None
    engine = engine or make_engine(settings.resolved_database_url)
    if migrate:
        await asyncio.to_thread(upgrade, engine)
    stop = asyncio.Event()
    async with redis_for(settings) as redis_url:
        queue = LazyQueue(redis_url)
        ingest = IngestServer(settings, engine, queue.enqueue)
        address = await ingest.start(port=port)
        log.info("SMTP ingest listening on %s:%d", *address)
        worker_task = (
            asyncio.create_task(
                run_worker_forever(
                    settings, engine, redis_url, stop=stop, transport=transport, clock=clock, crons=crons
                )
            )
            if worker
            else None
        )
        try:
            async with extras(
                settings, engine, queue.enqueue, redis_url=redis_url, smtp=address, stop=stop, ingest=ingest
            ) as http:
                yield Running(settings, engine, redis_url, ingest, address, queue, stop, http)
        finally:
            stop.set()
            await ingest.stop()
            if worker_task is not None:
                try:
                    await asyncio.wait_for(worker_task, 15)
                except (TimeoutError, Exception):
                    worker_task.cancel()
            await queue.close()
            if own_engine:
                engine.dispose()


async def serve_forever(settings: Settings, *, worker: bool = True) -> None:
    """Run until SIGTERM or SIGINT."""
    loop = asyncio.get_running_loop()
    stop_signal = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop_signal.set)
    async with running_service(settings, worker=worker) as running:
        host, port = running.address
        redis_kind = "embedded" if settings.embedded_redis else "external"
        print(
            f"feedback: SMTP ingest on {host}:{port} for *@{settings.reply_domain}; "
            f"worker {'on' if worker else 'off'}; redis {redis_kind}. "
            "Ctrl-C to stop.",
            flush=True,
        )
        await stop_signal.wait()
        print("feedback: shutting down (finishing transactions in flight)...", flush=True)
