"""Build the arq worker for a ``Settings``: functions, cron jobs, startup and tuning."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from datetime import datetime
from typing import Any

from arq import cron
from arq.constants import in_progress_key_prefix
from arq.worker import Worker, func
from sqlalchemy.engine import Engine

from feedback.outbound.transports import Transport, transport_for
from feedback.runtime.queue import PARSE_JOB, QUEUE_NAME, close_pool, redis_settings
from feedback.runtime.settings import Settings
from feedback.services.processing import load_learned
from feedback.storage.db import session_scope
from feedback.storage.models import utcnow
from workers import jobs

log = logging.getLogger("feedback.worker")

LEASE_MARGIN_S = 5.0  # a job's lease outlives its timeout by this much (arq: 10 s)


class FeedbackWorker(Worker):
    """arq's Worker with a lease per kind of job, and one released when closing.

    arq marks a job it starts with an in-progress key that no other worker may pass, for one
    duration for every job: the longest timeout of all functions and cron jobs + 10 s. With the
    600 s mail rounds among the cron jobs, a message job whose worker crashed waited 610 s. Here
    the key set at pick-up lasts the message job's own timeout + ``LEASE_MARGIN_S``; a cron job
    lengthens its key to its own timeout + margin as it starts (cron job ids are
    ``cron:<name>:<time>``, message job ids ``parse:<id>``).

    Closing does not cut a pick short (a stop landing between a job's key and the start of its
    task left that job waiting for the whole lease), waits for every cancelled job to record that
    it will run again (arq's ``close`` gives up at the first cancelled one and leaves the others'
    keys), then deletes the keys of jobs that were cancelled before they could.
    """

    def __init__(self, *args: Any, message_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_progress_timeout_s = message_timeout + LEASE_MARGIN_S
        self.cron_leases = {
            c.name: (c.timeout_s or self.job_timeout_s) + LEASE_MARGIN_S for c in self.cron_jobs
        }
        self._picking: asyncio.Future[None] | None = None

    async def start_jobs(self, job_ids: list[bytes]) -> None:
        self._picking = asyncio.ensure_future(super().start_jobs(job_ids))
        await asyncio.shield(self._picking)

    async def run_job(self, job_id: str, score: int) -> None:
        lease = self.cron_leases.get(job_id.rpartition(":")[0])
        if lease is not None:
            await self.pool.pexpire(in_progress_key_prefix + job_id, int(lease * 1000))
        await super().run_job(job_id, score)

    async def close(self) -> None:
        self.allow_pick_jobs = False
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)  # cancels the jobs in flight: they will run again
        if not self._pool:
            return
        if self._picking is not None:
            await asyncio.gather(self._picking, return_exceptions=True)  # a pick under way ends
        for task in self.tasks.values():
            task.cancel()  # including the jobs of that last pick
        running = dict(self.tasks)
        await asyncio.gather(*running.values(), return_exceptions=True)
        # a run_job that did not return normally may not have reached arq's clean-up of its key
        orphans = [
            in_progress_key_prefix + job_id
            for job_id, task in running.items()
            if task.cancelled() or task.exception() is not None
        ]
        with contextlib.suppress(Exception):
            if orphans:
                await self.pool.delete(*orphans)
            await self.pool.delete(self.health_check_key)
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        with contextlib.suppress(Exception):
            await close_pool(self.pool)
        self._pool = None


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
        ctx["batcher"] = jobs.make_batcher(ctx)  # shared: arq hands each job a copy of ctx
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
            # every 5 minutes: the job sends at digest_weekday/digest_hour local by the worker's
            # clock (which the demo and tests simulate), once per week
            cron(jobs.weekly_digest, minute=set(range(1, 60, 5)), second=0, unique=True, timeout=600),
            *(
                [
                    cron(
                        jobs.retrain_model,
                        hour=settings.model_retrain_hour,
                        minute=17,
                        second=0,
                        unique=True,
                        # four groups' folds and the final fit: about 15 minutes of CPU in one
                        # process; one writer at a time (model_train_groups = 0) about 90
                        timeout=4 * 3600,
                    )
                ]
                if settings.model_retrain_nightly
                else []
            ),
        ]
        if crons
        else []
    )
    return FeedbackWorker(
        message_timeout=settings.job_timeout,
        functions=[func(jobs.process_job, name=PARSE_JOB, max_tries=settings.job_max_tries)],
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
    """Close a worker; jobs cut short are retried later (a cancellation may surface here)."""
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
