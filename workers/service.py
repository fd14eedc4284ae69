"""Run the whole service in one process: embedded Redis (if needed), SMTP ingest and a worker.

Used by ``feedback serve`` and ``feedback demo``. On SIGTERM/SIGINT: stop accepting (421),
finish SMTP transactions in flight, stop the worker (unfinished jobs are retried) and stop the
embedded Redis explicitly.
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
from sqlalchemy.engine import Engine

from feedback.db import make_engine, upgrade
from feedback.ingest import IngestServer
from feedback.models import utcnow
from feedback.outbound import Transport
from feedback.queue import close_pool, connect, enqueue_messages
from feedback.redis_embedded import EmbeddedRedis
from feedback.settings import Settings
from workers.settings import run_worker_forever

log = logging.getLogger("feedback.service")


@dataclass
class Running:
    settings: Settings
    engine: Engine
    redis_url: str
    ingest: IngestServer
    address: tuple[str, int]
    pool: ArqRedis
    stop: asyncio.Event


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
        pool = await connect(redis_url)

        async def enqueue(ids: list[int]) -> list[int]:
            return await enqueue_messages(pool, ids)

        ingest = IngestServer(settings, engine, enqueue)
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
            yield Running(settings, engine, redis_url, ingest, address, pool, stop)
        finally:
            stop.set()
            await ingest.stop()
            if worker_task is not None:
                try:
                    await asyncio.wait_for(worker_task, 15)
                except (TimeoutError, Exception):
                    worker_task.cancel()
            await close_pool(pool)
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
