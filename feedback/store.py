"""Durable storage of incoming messages with group commit.

Concurrent SMTP sessions hand their messages to one ``MessageStore``; a writer task commits
whatever has arrived since its last commit in a single transaction (one fsync for many
messages), then resolves each session's future. Every 250 therefore still follows a durable
commit containing its own message, but N sessions share one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.sql.dml import Update

from feedback.db import write_lock
from feedback.dedup import dedup_key
from feedback.models import InboundMessage, MessageStatus, Refusal, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Incoming:
    raw: bytes
    mail_from: str
    rcpt_to: tuple[str, ...]
    peer: str | None
    received_at: datetime


@dataclass(frozen=True, slots=True)
class Stored:
    id: int
    duplicate: bool  # the same message (by dedup key) was stored before


class StoreUnavailable(RuntimeError):
    """The database could not commit; the SMTP answer must be 451 so the sender retries."""


_COLUMNS = (
    "dedup_key", "message_id", "mail_from", "rcpt_to", "peer", "size", "raw", "received_at", "status",
    "attempts", "deliveries",
)  # fmt: skip


def _upsert_sql(engine: Engine) -> str:
    """One plain upsert statement per dialect: compiled once, not per message (hot path)."""
    mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
    return (
        f"INSERT INTO inbound_message ({', '.join(_COLUMNS)}) VALUES ({', '.join([mark] * len(_COLUMNS))}) "
        "ON CONFLICT (dedup_key) DO UPDATE SET deliveries = inbound_message.deliveries + 1 "
        "RETURNING id, deliveries"
    )


def store_batch(engine: Engine, batch: list[Incoming], *, enqueued: Sequence[int] = ()) -> list[Stored]:
    """Insert (or count a redelivery of) each message in one transaction; returns ids in order.

    ``enqueued``: ids whose parse job is now queued, marked in the same transaction (one commit,
    one fsync, no second writer competing for SQLite's lock).
    """
    sql = _upsert_sql(engine)
    sqlite = engine.dialect.name == "sqlite"
    rows: list[tuple[object, ...]] = []
    for item in batch:
        key, message_id = dedup_key(item.raw)
        received = item.received_at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else item.received_at
        rows.append((
            key, message_id, item.mail_from[:320], ",".join(item.rcpt_to)[:2000], item.peer,
            len(item.raw), item.raw, received, MessageStatus.received.value, 0, 1,
        ))  # fmt: skip
    out: list[Stored] = []
    with write_lock(engine), engine.begin() as conn:
        if sqlite:
            for params in rows:
                row = conn.exec_driver_sql(sql, params).one()
                out.append(Stored(id=int(row[0]), duplicate=int(row[1]) > 1))
        else:
            # psycopg pipelines executemany: the whole batch costs one round trip, not one each
            cursor: Any = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.executemany(sql, rows, returning=True)
                while True:
                    ident, deliveries = cursor.fetchone()
                    out.append(Stored(id=int(ident), duplicate=int(deliveries) > 1))
                    if not cursor.nextset():
                        break
            finally:
                cursor.close()
        if enqueued:
            conn.execute(_mark_stmt(enqueued))
    return out


def record_refusal(
    engine: Engine, *, peer: str | None, mail_from: str, rcpt_to: list[str], size: int, code: int, reason: str
) -> None:
    with write_lock(engine), engine.begin() as conn:
        conn.execute(
            Refusal.__table__.insert().values(  # type: ignore[attr-defined]
                at=utcnow(),
                peer=peer,
                mail_from=mail_from[:320],
                rcpt_to=",".join(rcpt_to)[:2000],
                size=size,
                code=code,
                reason=reason,
            )
        )


def _mark_stmt(ids: Sequence[int]) -> Update:
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    return (
        update(table)
        .where(table.c.id.in_(list(ids)), table.c.status == MessageStatus.received.value)
        .values(status=MessageStatus.queued.value, enqueued_at=utcnow())
    )


def mark_enqueued(engine: Engine, ids: list[int]) -> None:
    if not ids:
        return
    with write_lock(engine), engine.begin() as conn:
        conn.execute(_mark_stmt(ids))


class MessageStore:
    """Group-committing writer shared by all SMTP sessions of one process.

    The writer is also the only place the ingest writes "queued" marks (``note_enqueued``): they
    ride along in the next commit instead of a second transaction competing for the write lock.
    A mark lost to a crash or a failed commit only leaves a message "received"; the sweeper
    enqueues those again and arq's deterministic job ids refuse a second copy.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 64) -> None:
        self.engine = engine
        self.max_batch = max_batch
        # None is a wake-up: "only marks to write"
        self._queue: asyncio.Queue[tuple[Incoming, asyncio.Future[Stored]] | None] = asyncio.Queue()
        self._marks: list[int] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="message-store")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def store(self, item: Incoming) -> Stored:
        """Durably store ``item``; raises ``StoreUnavailable`` when the database cannot commit."""
        self.start()
        fut: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        await self._queue.put((item, fut))
        return await fut

    def note_enqueued(self, ids: Sequence[int]) -> None:
        """Mark ``ids`` as queued with the next commit (best effort, see the class doc)."""
        if not ids:
            return
        self._marks.extend(ids)
        if self._queue.empty():
            self._queue.put_nowait(None)

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch = [first] if first is not None else []
            while len(batch) < self.max_batch and not self._queue.empty():
                entry = self._queue.get_nowait()
                if entry is not None:
                    batch.append(entry)
            marks, self._marks = self._marks, []
            if not batch and not marks:
                continue
            try:
                stored = await asyncio.to_thread(
                    store_batch, self.engine, [item for item, _ in batch], enqueued=marks
                )
            except Exception as exc:
                log.error("store failed for %d message(s): %s", len(batch), exc)
                for _, fut in batch:
                    if not fut.done():
                        fut.set_exception(StoreUnavailable(str(exc)))
                continue
            for (_, fut), result in zip(batch, stored, strict=True):
                if not fut.done():
                    fut.set_result(result)
