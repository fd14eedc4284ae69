"""Durable storage of incoming messages with group commit.

Concurrent SMTP sessions hand their messages to one ``MessageStore``; a writer thread commits
whatever has arrived since its last commit in a single transaction (one fsync for many
messages), then resolves each session's future. Every 250 therefore still follows a durable
commit containing its own message, but N sessions share one commit.

One message whose data the database refuses (a data or integrity error, unlike an outage) must
not take its batch down with it: the batch is retried message by message, the bad one is stored
alone without the envelope metadata that failed (its raw bytes are whole, the worker reads them),
and only if even that fails is it refused with 554 and recorded as a refusal.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import exc as sa_exc
from sqlalchemy import select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.sql.dml import Update

from feedback.ingress.dedup import dedup_key
from feedback.runtime.errors import PermanentError, TransientError
from feedback.storage import raw_bytes
from feedback.storage.db import write_lock
from feedback.storage.dbtext import clean_text
from feedback.storage.models import FeedbackRequest, InboundMessage, MessageStatus, Refusal, utcnow

log = logging.getLogger(__name__)

FINAL_STATUSES = (
    MessageStatus.processed,
    MessageStatus.ignored,
    MessageStatus.quarantined,
    MessageStatus.unmatched,
    MessageStatus.failed,
)


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


class StoreUnavailable(TransientError):
    """The database could not commit; the SMTP answer must be 451 so the sender retries."""


class StoreRefused(PermanentError):
    """This one message cannot be stored even alone (the database refuses its data, not an outage).

    Answering 451 would make the sender retry it forever; ``reply`` is a permanent 554.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason, hint="the sender's copy is the only one; the message is refused for good")
        self.reply = f"554 5.6.0 Message cannot be stored ({reason[:120]}); it will not be accepted"


def is_data_error(exc: BaseException) -> bool:
    """Whether ``exc`` is a fault of the data written (retrying the same rows fails the same way).

    SQLAlchemy's DataError/IntegrityError, the drivers' own (the ingest's psycopg pipeline is not
    wrapped by SQLAlchemy: SQLSTATE class 22 or 23), and encoding errors raised while binding.
    Connection and server faults are not: those are outages, retried with 451.
    """
    if isinstance(exc, sa_exc.DataError | sa_exc.IntegrityError):
        return True
    if isinstance(exc, sa_exc.DBAPIError):
        return False
    sqlstate = getattr(exc, "sqlstate", None)
    if isinstance(sqlstate, str) and sqlstate:
        return sqlstate[:2] in ("22", "23")
    if isinstance(exc, sqlite3.DataError | sqlite3.IntegrityError):
        return True
    with contextlib.suppress(ImportError):
        import psycopg

        if isinstance(exc, psycopg.DataError | psycopg.IntegrityError):
            return True
        if isinstance(exc, psycopg.Error):
            return False
    return isinstance(exc, ValueError | TypeError)  # UnicodeEncodeError and friends while binding


_COLUMNS = (
    "dedup_key", "message_id", "mail_from", "rcpt_to", "peer", "size", "received_at", "status",
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


def _ascii(value: str) -> str:
    return value.encode("ascii", "backslashreplace").decode("ascii")


def _rows(batch: Sequence[Incoming], sqlite: bool, *, bare: bool = False) -> list[tuple[object, ...]]:
    """Upsert parameters; text passes ``clean_text`` here because the PostgreSQL path is driver SQL.

    ``bare``: the last try for a message the database refused: no Message-ID and the envelope as
    escaped ASCII, so only the key, sizes and raw bytes remain to fail.
    """
    rows: list[tuple[object, ...]] = []
    for item in batch:
        key, message_id = dedup_key(item.raw)
        received = item.received_at.strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else item.received_at
        mail_from, rcpt_to, peer = item.mail_from[:320], ",".join(item.rcpt_to)[:2000], item.peer
        if bare:
            message_id, mail_from, rcpt_to = None, _ascii(mail_from)[:320], _ascii(rcpt_to)[:2000]
            peer = _ascii(peer) if peer is not None else None
        rows.append((
            key, clean_text(message_id) if message_id else None, clean_text(mail_from), clean_text(rcpt_to),
            clean_text(peer) if peer else peer, len(item.raw), received,
            MessageStatus.received.value, 0, 1,
        ))  # fmt: skip
    return rows


def _store_on(
    conn: Connection,
    batch: Sequence[Incoming],
    enqueued: Sequence[int],
    *,
    bare: bool = False,
    rows: list[tuple[object, ...]] | None = None,
) -> list[Stored]:
    """The batch's upserts, the new messages' bytes and the queued marks, on ``conn`` inside its
    open transaction (one commit holds a message's row and its bytes: the 250 follows it).
    A redelivery stores no bytes: the first copy's are kept (or stay purged).

    ``rows``: the batch's parameters computed beforehand (the dedup keys read whole bodies: the
    writer computes them before it takes SQLite's write lock, not while holding it).
    """
    sqlite = conn.dialect.name == "sqlite"
    sql = _upsert_sql(conn.engine)
    if rows is None:
        rows = _rows(batch, sqlite, bare=bare)
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
    raw_bytes.store(conn, [(s.id, item.raw) for s, item in zip(out, batch, strict=True) if not s.duplicate])
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


def _refusal_on(
    conn: Connection,
    *,
    peer: str | None,
    mail_from: str,
    rcpt_to: Sequence[str],
    size: int,
    code: int,
    reason: str,
) -> None:
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


def record_refusal(
    engine: Engine, *, peer: str | None, mail_from: str, rcpt_to: list[str], size: int, code: int, reason: str
) -> None:
    with write_lock(engine), engine.begin() as conn:
        _refusal_on(
            conn, peer=peer, mail_from=mail_from, rcpt_to=rcpt_to, size=size, code=code, reason=reason
        )


def mark_failed(engine: Engine, message_id: int, reason: str) -> bool:
    """End a message that cannot be processed as ``failed`` with ``reason`` (never left queued).

    For faults that retrying cannot cure (the database refuses what processing wrote, a bug in a
    stage): otherwise the job's retries run out, the message stays ``queued`` and the sweeper
    re-queues it forever. Only a message not yet in a final state is changed.
    """
    table = InboundMessage.__table__  # type: ignore[attr-defined]
    final = [s.value for s in FINAL_STATUSES]
    with write_lock(engine), engine.begin() as conn:
        res = conn.execute(
            update(table)
            .where(table.c.id == message_id, table.c.status.not_in(final))
            .values(status=MessageStatus.failed.value, error=reason[:2000], processed_at=utcnow())
        )
    return bool(res.rowcount)


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


_Result = tuple[list[Stored | Exception], set[int]]  # per message, in order; request ids found
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
        self,
        conn: Connection,
        writes: list[_Write],
        lookups: list[_Lookup],
        marks: list[int],
        *,
        bare: bool = False,
    ) -> tuple[list[Stored], set[int]]:
        items = [w.item for w in writes]
        rows = _rows(items, conn.dialect.name == "sqlite", bare=bare)  # outside the lock
        with write_lock(self.engine), conn.begin():
            found = existing_requests(conn, [lk.request_id for lk in lookups])
            stored = _store_on(conn, items, marks, bare=bare, rows=rows) if writes or marks else []
        return stored, found

    def _isolate(
        self,
        conn: Connection,
        writes: list[_Write],
        lookups: list[_Lookup],
        marks: list[int],
        error: Exception,
    ) -> _Result:
        """A data error failed the batch: commit the rest, then each message alone (see module doc).

        Costs one transaction per message of this batch only; an outage met here still answers
        451 (``StoreUnavailable``) to the messages not yet committed.
        """
        log.warning(
            "a batch of %d message(s) failed on its data (%s): storing them one by one", len(writes), error
        )
        _, found = self._transact(conn, [], lookups, marks)
        out: list[Stored | Exception] = []
        for write in writes:
            try:
                out.append(self._transact(conn, [write], [], [])[0][0])
                continue
            except Exception as exc:
                if not is_data_error(exc):
                    out.append(StoreUnavailable(str(exc)))
                    continue
                first = exc
            try:
                out.append(self._transact(conn, [write], [], [], bare=True)[0][0])
                log.warning("stored without its Message-ID and envelope text (%s)", first)
            except Exception as exc:
                if not is_data_error(exc):
                    out.append(StoreUnavailable(str(exc)))
                    continue
                out.append(self._refuse(conn, write.item, exc))
        return out, found

    def _refuse(self, conn: Connection, item: Incoming, error: Exception) -> Exception:
        """Refuse one message permanently and record the refusal (envelope and size, no body)."""
        reason = f"the database refuses this message's data: {type(error).__name__}"
        log.error("message refused with 554: %s", error)
        with contextlib.suppress(Exception), write_lock(self.engine), conn.begin():
            _refusal_on(
                conn,
                peer=_ascii(item.peer) if item.peer else None,
                mail_from=_ascii(item.mail_from),
                rcpt_to=[_ascii(r) for r in item.rcpt_to],
                size=len(item.raw),
                code=554,
                reason=reason,
            )
        return StoreRefused(reason)

    def _run(self) -> None:
        conn: Connection | None = None
        stop = False
        while not stop:
            writes, lookups, stop = self._take()
            with self._marks_lock:
                marks, self._marks = self._marks, []
            if not writes and not lookups and not marks:
                continue
            result: _Result | BaseException
            for attempt in (1, 2):  # a connection gone stale (server restart) gets one fresh retry
                try:
                    if conn is None:
                        conn = self.engine.connect()
                    try:
                        stored, found = self._transact(conn, writes, lookups, marks)
                        result = (list(stored), found)
                    except Exception as exc:
                        if not (writes and is_data_error(exc)):
                            raise
                        result = self._isolate(conn, writes, lookups, marks, exc)
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


def _settle(writes: list[_Write], lookups: list[_Lookup], result: _Result | BaseException) -> None:
    """On the loop: resolve every future of one batch (per message after an isolated failure)."""
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
        if write.future.done():
            continue
        if isinstance(one, Exception):
            write.future.set_exception(one)
        else:
            write.future.set_result(one)
    for lookup in lookups:
        if not lookup.future.done():
            lookup.future.set_result(lookup.request_id in found)
