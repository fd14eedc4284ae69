"""The service's optional sides, started beside the SMTP ingest when configured: the HTTP server
(webhooks, /healthz, /readyz, /metrics on ``http_port``) and the mailbox poller (``imap_url``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from sqlalchemy.engine import Engine

from feedback.ingress.accept import Enqueue
from feedback.ingress.http import Check, HttpDeps, build_app, database_check, tcp_check
from feedback.ingress.imap import Mailbox, MailboxPoller
from feedback.ingress.metrics import Metrics
from feedback.ingress.smtp import IngestServer
from feedback.ingress.sns import SnsVerifier
from feedback.runtime.queue import close_pool, connect
from feedback.runtime.settings import Settings

log = logging.getLogger("feedback.service")


def _redis_check(url: str) -> Check:
    async def check() -> None:
        pool = await connect(url, conn_retries=0)
        try:
            await pool.ping()
        finally:
            await close_pool(pool)

    return check


def _queue_depth(url: str) -> Callable[[], int | None]:
    """Parse jobs waiting in Redis, read on scrape (None when Redis cannot be asked)."""

    def depth() -> int | None:
        import redis

        from feedback.runtime.queue import QUEUE_NAME

        try:
            client = redis.Redis.from_url(url, socket_timeout=2)
            try:
                return int(client.zcard(QUEUE_NAME))
            finally:
                client.close()
        except Exception:  # redis+sentinel:// or Redis down: the gauge is left out
            return None

    return depth


@contextlib.asynccontextmanager
async def extras(
    settings: Settings,
    engine: Engine,
    enqueue: Enqueue,
    *,
    redis_url: str,
    smtp: tuple[str, int] | None,
    stop: asyncio.Event,
    imap: bool = True,
    ingest: IngestServer | None = None,
) -> AsyncIterator[tuple[str, int] | None]:
    """Start what is configured; yields the HTTP address (None when off); stops both on exit.

    ``imap=False`` for worker processes: one poller per mailbox (the one in ``serve``) is enough.
    """
    tasks: list[asyncio.Task[None]] = []
    address: tuple[str, int] | None = None
    server = None
    if settings.http_port is not None:
        import uvicorn

        checks = {"database": database_check(engine), "redis": _redis_check(redis_url)}
        if smtp is not None:
            checks["smtp"] = tcp_check(*smtp)
        deps = HttpDeps(
            settings=settings,
            engine=engine,
            enqueue=enqueue,
            sns=SnsVerifier(topics=tuple(settings.ses_topic_arns)) if settings.ses_topic_arns else None,
            checks=checks,
            metrics=Metrics(engine, queue_depth=_queue_depth(redis_url)),
        )
        if ingest is not None and deps.metrics is not None:
            ingest.handler.observers.append(deps.metrics.observe_ingest)
        config = uvicorn.Config(
            build_app(deps),
            host=settings.http_host,
            port=settings.http_port,
            log_level="warning",
            lifespan="off",
        )
        server = uvicorn.Server(config)
        tasks.append(asyncio.create_task(server.serve()))
        while not server.started:  # the listener is bound (a condition, polled)
            if tasks[-1].done():
                tasks[-1].result()  # raises why it could not start (port in use...)
            await asyncio.sleep(0.01)
        sock = server.servers[0].sockets[0].getsockname()
        address = (str(sock[0]), int(sock[1]))
        log.info("HTTP (webhooks, health, metrics) on %s:%d", *address)
    if imap and settings.imap_url is not None:
        box = Mailbox.from_url(settings.imap_url.get_secret_value(), move_to=settings.imap_move_to)
        poller = MailboxPoller(box, settings=settings, engine=engine, enqueue=enqueue)
        tasks.append(asyncio.create_task(poller.run(stop)))
        log.info("polling the mailbox %s@%s/%s", box.user, box.host, box.folder)
    try:
        yield address
    finally:
        if server is not None:
            server.should_exit = True
        for task in tasks:
            try:
                await asyncio.wait_for(task, 10)
            except (TimeoutError, Exception):
                task.cancel()
