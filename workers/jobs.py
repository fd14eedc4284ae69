"""arq jobs. Only ids cross the queue; dependencies travel in ``ctx`` (filled by ``startup``).

Transient faults (``feedback.runtime.errors.is_transient``: database, network) raise ``Retry`` with
backoff; anything else (bad data, a bug) marks the message failed at once, and a message whose
processing keeps failing transiently ends failed after ``job_max_tries`` counted attempts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from arq import Retry
from sqlalchemy import select

from feedback.ingress.store import is_data_error, mark_enqueued, mark_failed
from feedback.outbound import requesting
from feedback.runtime.errors import is_transient
from feedback.runtime.queue import enqueue_messages
from feedback.services import processing
from feedback.services.batch import analysis_pool
from feedback.services.handover import hand_over_open_requests
from feedback.services.sla_facts import refresh_sla
from feedback.storage import rollup_upkeep
from feedback.storage.models import InboundMessage, MessageStatus, utcnow

log = logging.getLogger("feedback.worker")


def _now(ctx: dict[str, Any]) -> datetime:
    """The worker's clock (the system's, or a simulated one in the demo and tests)."""
    clock: Callable[[], datetime] = ctx.get("clock", utcnow)
    return clock()


class Batcher:
    """Gathers the message jobs arq runs at the same moment and processes them as batches.

    arq starts up to ``max_jobs`` jobs at a time, each for one message id; each job hands its id
    here and awaits its own outcome. A batch has two stages: its analysis (reads, parse, classify,
    in the analysis pool) and its write. Up to ``concurrency`` batches are in flight, but one at a
    time in its analysis: the next batch takes its ids only when the one before has finished its
    analysis, so it holds everything that arrived meanwhile and is parsed while the other writes.
    (A batch that took its ids at once held the one id that arrived first, queued behind the
    other in the pool and the write lock, and paid a batch's fixed cost for one message: half the
    batches were of one message under load.) Under no load a batch is one message and waits for
    nothing. A job cut short (timeout, shutdown) leaves its message to its batch, which is
    idempotent.
    """

    def __init__(
        self,
        run: Callable[[list[int], Callable[[], None]], dict[int, Any]],
        *,
        max_batch: int = 200,
        concurrency: int = 1,
    ) -> None:
        self.run = run
        self.max_batch = max_batch
        self.concurrency = max(1, concurrency)
        self._pending: dict[int, list[asyncio.Future[Any]]] = {}
        self._running: set[asyncio.Task[None]] = set()
        self._analysing = asyncio.Lock()

    async def submit(self, message_id: int) -> processing.Outcome:
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending.setdefault(message_id, []).append(fut)
        if len(self._running) < self.concurrency:
            task = asyncio.create_task(self._drain(), name="message-batches")
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        result = await fut
        if isinstance(result, BaseException):
            raise result
        assert isinstance(result, processing.Outcome)
        return result

    def _releaser(self) -> Callable[[], None]:
        """Releases the analysis stage once, for one batch: the call the batch's thread schedules
        and the one after the batch ends may come in either order."""
        done = False

        def release() -> None:
            nonlocal done
            if not done:
                done = True
                self._analysing.release()

        return release

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            await self._analysing.acquire()
            if not self._pending:  # another batch took them while this one waited
                self._analysing.release()
                return
            ids = list(self._pending)[: self.max_batch]
            batch = {mid: self._pending.pop(mid) for mid in ids}
            release = self._releaser()

            def analysed(release: Callable[[], None] = release) -> None:  # from the batch's thread
                loop.call_soon_threadsafe(release)

            try:
                results: dict[int, Any] = await asyncio.to_thread(self.run, ids, analysed)
            except Exception as exc:  # shared by the batch (a database fault): every job retries
                results = dict.fromkeys(ids, exc)
            finally:
                release()  # a batch that failed before its analysis ended, or never reported it
            for mid, futures in batch.items():
                for fut in futures:
                    if not fut.done():
                        fut.set_result(results.get(mid, RuntimeError(f"message {mid}: no outcome")))


def make_batcher(ctx: dict[str, Any]) -> Batcher:
    """The worker's batcher, built in ``startup``: arq gives each job a copy of ``ctx``, so one
    made in a job would serve that job alone."""
    engine, settings = ctx["engine"], ctx["settings"]
    pool = analysis_pool(settings.analysis_processes)

    def run(ids: list[int], analysed: Callable[[], None]) -> dict[int, Any]:
        return processing.process_batch(
            engine, settings, ids, learned=ctx.get("learned"), now=_now(ctx), pool=pool, on_analysed=analysed
        )

    return Batcher(run, concurrency=2 if pool is not None else 1)


def _batcher(ctx: dict[str, Any]) -> Batcher:
    batcher = ctx.get("batcher")
    if batcher is None:  # a ctx without startup (tests): a batch per job
        batcher = ctx["batcher"] = make_batcher(ctx)
    assert isinstance(batcher, Batcher)
    return batcher


async def process_job(ctx: dict[str, Any], message_id: int) -> str:
    """Parse, match, classify and store one message (in a batch with the jobs running beside it);
    send any follow-up mail after commit."""
    engine, settings = ctx["engine"], ctx["settings"]
    try:
        outcome = await _batcher(ctx).submit(message_id)
    except Exception as exc:
        if is_transient(exc):
            tries = int(ctx.get("job_try", 1))
            log.warning("message %s: database fault, retry %d: %s", message_id, tries, exc)
            raise Retry(defer=min(2**tries, 60)) from exc
        # the database refuses what this message produced, or a stage has a bug: retrying ends the
        # same way, and a message left queued would be re-queued by the sweeper forever
        reason = (
            f"could not be processed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        )
        log.error("message %s %s", message_id, reason, exc_info=not is_data_error(exc))
        await asyncio.to_thread(mark_failed, engine, message_id, reason)
        return str(MessageStatus.failed)
    for template, info in outcome.mail:
        try:
            await requesting.send_notice(
                engine,
                settings,
                ctx["transport"],
                template=template,
                request_id=info["request_id"],
                subject=info.get("subject", ""),
                now=_now(ctx),
            )
        except Exception as exc:
            log.warning("message %s: %s mail not sent: %s", message_id, template, exc)
    log.info(
        "processed",
        extra={
            "message_id": message_id,
            "status": outcome.status,
            "request": outcome.request_id,
            "skipped": outcome.skipped,
        },
    )
    return str(outcome.status)


def _stranded(engine: Any, older_than_s: float, limit: int) -> list[int]:
    cutoff = utcnow() - timedelta(seconds=older_than_s)
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        rows = conn.execute(
            select(table.c.id)
            .where(
                table.c.status.in_([MessageStatus.received.value, MessageStatus.queued.value]),
                table.c.received_at <= cutoff,
            )
            .order_by(table.c.id)
            .limit(limit)
        ).all()
    return [int(r[0]) for r in rows]


async def sweep(ctx: dict[str, Any], older_than_s: float = 5.0, limit: int = 5000) -> int:
    """Enqueue stored messages that have no job (Redis was down, a worker died mid-job)."""
    engine, pool = ctx["engine"], ctx["redis"]
    ids = await asyncio.to_thread(_stranded, engine, older_than_s, limit)
    if not ids:
        return 0
    done = await enqueue_messages(pool, ids)
    await asyncio.to_thread(mark_enqueued, engine, done)
    if done:
        log.info("sweeper enqueued %d stored message(s)", len(done))
    return len(done)


T = TypeVar("T")


async def _off_loop(run: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a mail round on its own event loop in a thread.

    The sending routines interleave blocking database work with awaits; after a large import a
    round can take minutes, and on this loop it would stall the other jobs and, under
    ``feedback serve``, the SMTP ingest sharing it. The transports hold no connection between
    sends, so a loop of their own is safe.
    """
    return await asyncio.to_thread(lambda: asyncio.run(run()))


async def send_requests(ctx: dict[str, Any]) -> int:
    """Cron: a request for each lead assigned and deal closed that has none (``auto_send``)."""
    engine, settings, transport = ctx["engine"], ctx["settings"], ctx["transport"]
    now = _now(ctx)
    result = await _off_loop(lambda: requesting.send_due_requests(engine, settings, transport, now=now))
    if result.sent or result.held:
        held = ", ".join(f"{n} {reason}" for reason, n in result.held.items())
        log.info("sent %d request(s); held back: %s", result.sent, held or "none")
    for error in result.errors:
        log.warning("request not sent: %s", error)
    return result.sent


async def followups(ctx: dict[str, Any]) -> dict[str, int]:
    """Cron: reminders, escalations to managers, then one clarification mail per rep."""
    engine, settings, transport = ctx["engine"], ctx["settings"], ctx["transport"]

    now = _now(ctx)

    async def round_() -> dict[str, int]:
        moved = await hand_over_open_requests(engine, settings, transport, now=now, to_manager=True)
        counts = await requesting.send_followups(engine, settings, transport, now=now)
        counts["clarifications"] = await requesting.send_clarifications(engine, settings, transport, now=now)
        counts["handed_over"] = len(moved)
        counts["sla_refreshed"] = refresh_sla(engine, settings, now=now)
        counts["rollup_merged"] = rollup_upkeep.compact(engine)  # the report rollup's deltas
        return counts

    return await _off_loop(round_)


async def weekly_digest(ctx: dict[str, Any]) -> int:
    """Cron (every 5 minutes): the weekly summary to the marketing addresses, at the configured
    weekday and local hour by the worker's clock (``digest_weekday``, ``digest_hour``, ``timezone``)."""
    from feedback.outbound.digest_mail import send_scheduled_digest

    engine, settings, transport = ctx["engine"], ctx["settings"], ctx["transport"]
    now = _now(ctx)
    return await _off_loop(lambda: send_scheduled_digest(engine, settings, transport, now=now))


async def retrain_model(ctx: dict[str, Any]) -> int:
    """Nightly (``model_retrain_nightly``): fit a new model version from every correction and
    activate it; workers pick it up within ``classifier_models.MODEL_TTL``. Returns the version."""

    def run() -> int:
        from sqlmodel import Session

        from feedback.services.classifier_models import train_version

        with Session(ctx["engine"]) as session:
            settings = ctx["settings"]
            row = train_version(
                session,
                taxonomy=settings.taxonomy,
                note="nightly retrain",
                jobs=settings.model_train_jobs,
                groups=settings.model_train_groups,
            )
            return row.version

    version = await asyncio.to_thread(run)
    log.info("model retrained", extra={"version": version})
    return version
