"""Build the arq worker for a ``Settings``: functions, cron jobs, startup and tuning."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from arq import cron
from arq.worker import Worker, func
from sqlalchemy.engine import Engine

from feedback.db import session_scope
from feedback.models import utcnow
from feedback.outbound import Transport, transport_for
from feedback.processing import load_learned
from feedback.queue import PARSE_JOB, QUEUE_NAME, redis_settings
from feedback.settings import Settings
from workers import jobs

log = logging.getLogger("feedback.worker")


def build_worker(
    settings: Settings,
    engine: Engine,
    redis_url: str,
    *,
    transport: Transport | None = None,
    burst: bool = False,
    handle_signals: bool = False,
    crons: bool = True,
    clock: Callable[[], datetime] = utcnow,
) -> Worker:
    """An arq Worker whose ctx holds the engine, settings, transport and learned corrections.

    Tuned for throughput: arq's defaults (poll 0.5 s, 10 jobs) drain far fewer jobs per second
    than this service needs; see bench/ingest.py.
    """

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["engine"] = engine
        ctx["settings"] = settings
        ctx["transport"] = transport or transport_for(settings)
        ctx["clock"] = clock  # jobs ask it the time: the demo and tests simulate weeks in seconds

        def _learned() -> Any:
            with session_scope(engine) as session:
                return load_learned(session)

        ctx["learned"] = await asyncio.to_thread(_learned)
        try:
            await jobs.sweep(ctx, older_than_s=0)
        except Exception as exc:
            log.warning("startup sweep failed: %s", exc)

    cron_jobs = (
        [
            cron(jobs.sweep, second={0, 15, 30, 45}, run_at_startup=False, unique=True, timeout=120),
            cron(jobs.followups, minute=set(range(0, 60, 5)), second=0, unique=True, timeout=600),
            # new leads and closed deals: two minutes after each follow-up round
            *(
                [cron(jobs.send_requests, minute=set(range(2, 60, 5)), second=0, unique=True, timeout=600)]
                if settings.auto_send
                else []
            ),
            # Mondays 08:00 UTC; send_digest itself refuses a second digest within six days
            cron(jobs.weekly_digest, weekday=0, hour=8, minute=0, second=0, unique=True, timeout=600),
        ]
        if crons
        else []
    )
    return Worker(
        functions=[func(jobs.process_message, name=PARSE_JOB, max_tries=settings.job_max_tries)],
        cron_jobs=cron_jobs,
        redis_settings=redis_settings(redis_url),
        queue_name=QUEUE_NAME,
        on_startup=startup,
        burst=burst,
        handle_signals=handle_signals,
        max_jobs=settings.max_jobs,
        job_timeout=settings.job_timeout,
        poll_delay=settings.poll_delay,
        keep_result=60,
        max_tries=settings.job_max_tries,
        health_check_interval=30,
        log_results=False,
    )


async def _close(worker: Worker) -> None:
    """Close a worker; jobs cut short are retried later (arq cancels them, which surfaces here)."""
    try:
        await worker.close()
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # we are being cancelled ourselves: let it through


async def run_worker_forever(
    settings: Settings,
    engine: Engine,
    redis_url: str,
    *,
    stop: asyncio.Event,
    transport: Transport | None = None,
    clock: Callable[[], datetime] = utcnow,
    crons: bool = True,
) -> None:
    """Run the worker; reconnect after Redis comes back (arq's own loop does not)."""
    delay = 0.5
    while not stop.is_set():
        worker = build_worker(settings, engine, redis_url, transport=transport, clock=clock, crons=crons)
        task = asyncio.create_task(worker.async_run())
        stopper = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        if stopper in done:
            await _close(worker)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
            return
        stopper.cancel()
        exc = task.exception() if not task.cancelled() else None
        with contextlib.suppress(Exception):
            await _close(worker)
        log.warning("worker stopped (%s); reconnecting in %.1fs", exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(delay * 2, 10)
