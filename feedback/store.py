"""Durable storage of incoming messages with group commit.

Concurrent SMTP sessions hand their messages to one ``MessageStore``; a writer thread commits
whatever has arrived since its last commit in a single transaction (one fsync for many
messages), then resolves each session's future. Every 250 therefore still follows a durable
commit containing its own message, but N sessions share one commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Update

from feedback.db import write_lock
from feedback.dedup import dedup_key
from feedback.models import FeedbackRequest, InboundMessage, MessageStatus, Refusal, utcnow

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


def _rows(batch: Sequence[Incoming], sqlite: bool) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for item in batch:
        key, message_id = dedup_key(item.raw)
        received = item.received_at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else item.received_at
        rows.append((
            key, message_id, item.mail_from[:320], ",".join(item.rcpt_to)[:2000], item.peer,
            len(item.raw), item.raw, received, MessageStatus.received.value, 0, 1,
        ))  # fmt: skip
    return rows


def _store_on(conn: Connection, batch: Sequence[Incoming], enqueued: Sequence[int]) -> list[Stored]:
    """The batch's upserts and the queued marks, on ``conn`` inside its open transaction."""
    sqlite = conn.dialect.name == "sqlite"
    sql = _upsert_sql(conn.engine)
    rows = _rows(batch, sqlite)
    out: list[Stored] = []
    if sqlite:
        for params in rows:
            row = conn.exec_driver_sql(sql, params).one()
            out.append(Stored(id=int(row[0]), duplicate=int(row[1]) > 1))
    elif rows:
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


def store_batch(engine: Engine, batch: list[Incoming], *, enqueued: Sequence[int] = ()) -> list[Stored]:
    """Insert (or count a redelivery of) each message in one transaction; returns ids in order.

    ``enqueued``: ids whose parse job is now queued, marked in the same transaction (one commit,
    one fsync, no second writer competing for SQLite's lock).
    """
    with write_lock(engine), engine.begin() as conn:
        return _store_on(conn, batch, enqueued)


def existing_requests(conn: Connection, ids: Sequence[int]) -> set[int]:
    """Which of ``ids`` name a feedback request (one query for many RCPT checks)."""
    if not ids:
        return set()
    table = FeedbackRequest.__table__  # type: ignore[attr-defined]
    return {int(r[0]) for r in conn.execute(select(table.c.id).where(table.c.id.in_(list(set(ids)))))}


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


@dataclass(slots=True)
class _Lookup:
    request_id: int
    future: asyncio.Future[bool]


@dataclass(slots=True)
class _Write:
    item: Incoming
    future: asyncio.Future[Stored]


_WAKE = object()  # "only marks to write"
_STOP = object()


class MessageStore:
    """Group-committing writer shared by all SMTP sessions of one process.

    A dedicated thread owns one connection. It takes whatever arrived since its last commit
    (messages, RCPT lookups, "queued" marks) and handles it in one transaction, then resolves the
    sessions' futures with one call back into the loop. Compared with a task that hands each
    batch to ``asyncio.to_thread`` and checks a connection out of the pool each time, this cuts
    the CPU spent per message on the event loop, which the SMTP sessions need.

    "Queued" marks (``note_enqueued``) ride along in the next commit. A mark lost to a crash or a
    failed commit only leaves a message "received"; the sweeper enqueues those again and arq's
    deterministic job ids refuse a second copy.
    """

    def __init__(self, engine: Engine, *, max_batch: int = 128, linger: float = 0.002) -> None:
        self.engine = engine
        self.max_batch = max_batch
        # Sessions currently receiving a message (set by the SMTP side, read here as a hint):
        # while some are, a commit waits up to ``linger`` for them, so one fsync serves more
        # messages. With nobody else receiving (a single sender) it never waits.
        self.receiving = 0
        self.linger = linger
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._marks: list[int] = []
        self._marks_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    def start(self) -> None:
        if self._thread is None:
            self._loop = asyncio.get_running_loop()
            self._thread = threading.Thread(target=self._run, name="message-store", daemon=True)
            self._thread.start()

    async def close(self) -> None:
        self._closed = True
        if self._thread is not None:
            self._queue.put(_STOP)
            await asyncio.to_thread(self._thread.join, 30)
            self._thread = None

    def _future(self) -> asyncio.Future[Any]:
        """A future the writer thread resolves; refused once the store is closing."""
        if self._closed:
            raise StoreUnavailable("the ingest is shutting down")
        self.start()
        assert self._loop is not None
        return self._loop.create_future()

    async def store(self, item: Incoming) -> Stored:
        """Durably store ``item``; raises ``StoreUnavailable`` when the database cannot commit."""
        fut: asyncio.Future[Stored] = self._future()
        self._queue.put(_Write(item, fut))
        return await fut

    async def request_exists(self, request_id: int) -> bool:
        """Whether a request exists; ``StoreUnavailable`` when the database cannot answer."""
        fut: asyncio.Future[bool] = self._future()
        self._queue.put(_Lookup(request_id, fut))
        return await fut

    def note_enqueued(self, ids: Sequence[int]) -> None:
        """Mark ``ids`` as queued with the next commit (best effort, see the class doc)."""
        if not ids:
            return
        with self._marks_lock:
            self._marks.extend(ids)
        self._queue.put(_WAKE)

    # the writer thread ---------------------------------------------------------------------

    def _take(self) -> tuple[list[_Write], list[_Lookup], bool]:
        writes: list[_Write] = []
        lookups: list[_Lookup] = []
        stop = False
        entry = self._queue.get()
        deadline = time.monotonic() + self.linger
        while True:
            if entry is _STOP:
                stop = True
            elif isinstance(entry, _Write):
                writes.append(entry)
            elif isinstance(entry, _Lookup):
                lookups.append(entry)
            if stop or len(writes) + len(lookups) >= self.max_batch:
                break
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if not writes or self.receiving <= 0 or remaining <= 0:
                    break  # lookups never wait: only commits gain from company
                try:
                    entry = self._queue.get(timeout=remaining)
                except queue.Empty:
                    break
        return writes, lookups, stop

    def _transact(
        self, conn: Connection, writes: list[_Write], lookups: list[_Lookup], marks: list[int]
    ) -> tuple[list[Stored], set[int]]:
        with write_lock(self.engine), conn.begin():
            found = existing_requests(conn, [lk.request_id for lk in lookups])
            stored = _store_on(conn, [w.item for w in writes], marks) if writes or marks else []
        return stored, found

    def _run(self) -> None:
        conn: Connection | None = None
        stop = False
        while not stop:
            writes, lookups, stop = self._take()
            with self._marks_lock:
                marks, self._marks = self._marks, []
            if not writes and not lookups and not marks:
                continue
            result: tuple[list[Stored], set[int]] | BaseException
            for attempt in (1, 2):  # a connection gone stale (server restart) gets one fresh retry
                try:
                    if conn is None:
                        conn = self.engine.connect()
                    result = self._transact(conn, writes, lookups, marks)
                    break
                except Exception as exc:
                    result = exc
                    if conn is not None:
                        with contextlib.suppress(Exception):
                            conn.invalidate()
                            conn.close()
                        conn = None
                    if attempt == 2:
                        log.error("store failed for %d message(s): %s", len(writes), exc)
            assert self._loop is not None
            with contextlib.suppress(RuntimeError):  # the loop is closing
                self._loop.call_soon_threadsafe(_settle, writes, lookups, result)
        # anything that raced in behind the stop is refused (451: the sender retries), never hung
        late_writes: list[_Write] = []
        late_lookups: list[_Lookup] = []
        while True:
            try:
                entry = self._queue.get_nowait()
            except queue.Empty:
                break
            if isinstance(entry, _Write):
                late_writes.append(entry)
            elif isinstance(entry, _Lookup):
                late_lookups.append(entry)
        if (late_writes or late_lookups) and self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(
                    _settle, late_writes, late_lookups, StoreUnavailable("the ingest is shutting down")
                )
        if conn is not None:
            conn.close()


def _settle(
    writes: list[_Write], lookups: list[_Lookup], result: tuple[list[Stored], set[int]] | BaseException
) -> None:
    """On the loop: resolve every future of one batch."""
    if isinstance(result, BaseException):
        error = StoreUnavailable(str(result))
        for write in writes:
            if not write.future.done():
                write.future.set_exception(error)
        for lookup in lookups:
            if not lookup.future.done():
                lookup.future.set_exception(error)
        return
    stored, found = result
    for write, one in zip(writes, stored, strict=True):
        if not write.future.done():
            write.future.set_result(one)
    for lookup in lookups:
        if not lookup.future.done():
            lookup.future.set_result(lookup.request_id in found)
