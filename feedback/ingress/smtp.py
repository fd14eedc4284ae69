"""The SMTP ingest (aiosmtpd): refuse what must be refused, store durably, then answer 250.

Protocol outcomes are SMTP reply strings returned from handler hooks, never exceptions:

- RCPT outside the reply domain, a tampered token or an unknown request: 550 5.1.1 saying which;
  the database unavailable for that check: 451 4.3.0 (retry later), never 550.
- DATA: the raw message and its envelope are committed (group commit, ``MessageStore``) before
  the 250; the database unavailable: 451 4.3.0. Over the size limit: 552 5.3.4, recorded as a
  refusal (envelope and size, no body).
- Enqueueing the parse job happens after the 250, batched; if Redis is down the message is
  still stored and the sweeper enqueues it later.

The door is bounded, so no peer can exhaust memory or connection slots:

- DATA is streamed line by line into a spool (``SpooledTemporaryFile`` under ``spool_dir``:
  memory for small messages, disk beyond ``SPOOL_IN_MEMORY``); a line longer than
  ``smtp_max_line_length`` or a body over ``data_size_limit`` is discarded as it arrives, never
  held. Bodies are loaded for the commit under a byte budget (``ingest_memory_budget``) shared by
  all sessions, so many concurrent big messages wait their turn rather than add up.
- Command lines are read with a small buffer (``COMMAND_LINE_LIMIT``).
- Connections: ``max_connections`` in all and ``max_connections_per_address`` per client
  address, each refused beyond with a 421 that says which; a session ends with 421 after
  ``smtp_idle_timeout`` without a command (or without data during DATA), after
  ``smtp_session_timeout`` in all, or after ``smtp_max_commands`` commands (NOOP, RSET... count).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import enum
import functools
import hmac
import logging
import re
import ssl
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.engine import Engine

from feedback.core.tokens import TokenError, token_from_address, verify_token
from feedback.ingress.store import (
    Incoming,
    MessageStore,
    StoreRefused,
    StoreUnavailable,
    mark_enqueued,
    record_refusal,
)
from feedback.runtime.settings import Settings
from feedback.storage.models import utcnow

log = logging.getLogger("feedback.ingress.smtp")

_MAIL_FROM = re.compile(r"FROM:\s*<([^>]*)>", re.IGNORECASE)
_SIZE = re.compile(r"\bSIZE=(\d+)", re.IGNORECASE)
COMMAND_LINE_LIMIT = 16 * 1024  # the stream buffer of command lines (aiosmtpd allows 512-1k)
SPOOL_IN_MEMORY = 1024 * 1024  # a body up to this stays in memory while received; beyond, on disk
DROP_GRACE = 2.0  # seconds a dropped session's socket stays open (input discarded) after its 421
KNOWN_REQUEST_TTL = 300.0  # seconds a request id found at RCPT is trusted without a lookup
KNOWN_REQUEST_MAX = 100_000
EnqueueFn = Callable[[list[int]], Awaitable[list[int]]]


class Enqueuer:
    """Collects stored message ids and enqueues them in batches after their 250."""

    def __init__(
        self,
        engine: Engine,
        enqueue: EnqueueFn | None,
        mark: Callable[[list[int]], None] | None = None,
        *,
        linger: float = 0.02,
        max_batch: int = 500,
    ) -> None:
        # Enqueueing is not on the 250 path: lingering a few ms turns one Redis round trip per
        # message into one per few hundred (the sweeper covers a crash in between).
        self.linger = linger
        self.max_batch = max_batch
        self.engine = engine
        self.enqueue = enqueue
        self.mark = mark  # e.g. MessageStore.note_enqueued: marks ride along with the next commit
        self._pending: list[int] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.idle = asyncio.Event()
        self.idle.set()

    def add(self, message_id: int) -> None:
        if self.enqueue is None:
            return
        self._pending.append(message_id)
        self.idle.clear()
        self._wake.set()
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="enqueuer")

    async def _run(self) -> None:
        assert self.enqueue is not None
        while True:
            await self._wake.wait()
            if self.linger and len(self._pending) < self.max_batch:
                await asyncio.sleep(self.linger)
            self._wake.clear()
            batch, self._pending = self._pending, []
            if batch:
                try:
                    done = await self.enqueue(batch)
                    if self.mark is not None:
                        self.mark(done)
                    else:
                        await asyncio.to_thread(mark_enqueued, self.engine, done)
                except Exception as exc:
                    log.warning("enqueue deferred to the sweeper: %s", exc)
            if not self._pending:
                self.idle.set()

    async def close(self) -> None:
        if self._task is not None:
            if self._pending:
                self._wake.set()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.idle.wait(), 5)
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


class ByteBudget:
    """A semaphore counted in bytes: message bodies loaded into memory at once, across sessions.

    A body larger than the whole budget takes all of it (it is then the only one loaded).
    First come, first served: a big body is not overtaken for ever by a stream of small ones.
    """

    def __init__(self, limit: int) -> None:
        self.limit = max(limit, 1)
        self.used = 0
        self._changed = asyncio.Condition()
        self._line: collections.deque[object] = collections.deque()

    @contextlib.asynccontextmanager
    async def hold(self, size: int) -> AsyncIterator[None]:
        need = min(max(size, 1), self.limit)
        me = object()
        async with self._changed:
            self._line.append(me)
            try:
                await self._changed.wait_for(lambda: self._line[0] is me and self.used + need <= self.limit)
            finally:
                self._line.remove(me)
                self._changed.notify_all()
            self.used += need
        try:
            yield
        finally:
            async with self._changed:
                self.used -= need
                self._changed.notify_all()


class SpooledEnvelope(Envelope):
    """An envelope whose body is in a spool file (memory, then disk), not in ``content``."""

    def __init__(self) -> None:
        super().__init__()
        self.spool: IO[bytes] | None = None
        self.size = 0
        self.refusal_recorded = False

    def close_spool(self) -> None:
        if self.spool is not None:
            self.spool.close()
            self.spool = None


def _read_spool(spool: IO[bytes]) -> bytes:
    spool.seek(0)
    return spool.read()


@dataclass
class IngestStats:
    accepted: int = 0
    duplicates: int = 0
    refused: int = 0
    deferred: int = 0
    in_flight: int = 0


class IngestHandler:
    """aiosmtpd handler hooks for the reply domain."""

    def __init__(self, settings: Settings, engine: Engine, store: MessageStore, enqueuer: Enqueuer) -> None:
        self.settings = settings
        self.engine = engine
        self.store = store
        self.enqueuer = enqueuer
        self.secret = settings.secret_bytes()
        self.domain = settings.reply_domain
        self.observers: list[Callable[[float, bool], None]] = []  # (seconds to commit, duplicate)
        self.stats = IngestStats()
        self.closing = False
        self.connections = 0
        self.per_address: dict[str, int] = {}
        self.memory = ByteBudget(settings.ingest_memory_budget)
        self._drained = asyncio.Event()
        self._drained.set()
        self._quiet = asyncio.Event()  # no session is receiving a message
        self._quiet.set()
        # request ids seen to exist recently: saves the RCPT lookup round trip (positive only; a
        # request deleted meanwhile is accepted and ends in review as unmatched, nothing is lost)
        self._known_ids: dict[int, float] = {}

    def admit(self, address: str) -> str | None:
        """Count a new connection from ``address``; the 421 to answer instead when over a limit."""
        s = self.settings
        if self.connections >= s.max_connections:
            return "421 4.7.0 Too many connections, please try again later"
        held = self.per_address.get(address, 0)
        if held >= s.max_connections_per_address:
            return (
                f"421 4.7.0 Too many connections from your address {address} (at most "
                f"{s.max_connections_per_address} at a time), please try again later"
            )
        self.connections += 1
        self.per_address[address] = held + 1
        return None

    def release(self, address: str) -> None:
        """An admitted connection from ``address`` ended."""
        self.connections -= 1
        held = self.per_address.get(address, 0) - 1
        if held > 0:
            self.per_address[address] = held
        else:
            self.per_address.pop(address, None)

    def receiving_changed(self, delta: int) -> None:
        """A session started (+1) or finished (-1) receiving a message; the writer reads the count."""
        self.store.receiving += delta
        if self.store.receiving > 0:
            self._quiet.clear()
        else:
            self._quiet.set()

    def _known(self, request_id: int) -> bool:
        seen = self._known_ids.get(request_id)
        return seen is not None and time.monotonic() - seen < KNOWN_REQUEST_TTL

    def _remember(self, request_id: int) -> None:
        if len(self._known_ids) >= KNOWN_REQUEST_MAX:
            self._known_ids.clear()
        self._known_ids[request_id] = time.monotonic()

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, mail_options: list[str]
    ) -> str:
        if self.closing:
            return "421 4.3.2 Service shutting down, please try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= self.settings.max_recipients:
            return f"452 4.5.3 Too many recipients (at most {self.settings.max_recipients} per message)"
        local, _, domain = address.rpartition("@")
        if domain.lower() != self.domain:
            return f"550 5.1.1 <{address}>: not a reply address of this service (domain {self.domain} only)"
        base = local.lower().partition("+")[0]
        token = token_from_address(address, local=self.settings.reply_local, domain=self.domain)
        if token is None:
            if base == self.settings.reply_local.lower():
                envelope.rcpt_tos.append(address)  # bare address: matched later by headers
                return "250 OK"
            return (
                f"550 5.1.1 <{address}>: unknown mailbox; replies go to "
                f"{self.settings.reply_local}+TOKEN@{self.domain}"
            )
        try:
            request_id = verify_token(token, self.secret)
        except TokenError as exc:
            return f"550 5.1.1 <{address}>: invalid reply token ({exc}); reply to the original request email"
        if not self._known(request_id):
            try:
                exists = await self.store.request_exists(request_id)
            except StoreUnavailable:
                return "451 4.3.0 Temporary lookup failure, please try again later"
            if exists:
                self._remember(request_id)
        else:
            exists = True
        if not exists:
            return f"550 5.1.1 <{address}>: no such feedback request (it may have been deleted)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def _body(self, envelope: Envelope) -> bytes:
        """The message bytes: from the spool (read off the loop when it is on disk), or content."""
        spool = envelope.spool if isinstance(envelope, SpooledEnvelope) else None
        if spool is not None:
            if getattr(spool, "_rolled", True):
                return await asyncio.to_thread(_read_spool, spool)
            return _read_spool(spool)
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        return bytes(raw)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        started = time.perf_counter()
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        if isinstance(envelope, SpooledEnvelope):
            size = envelope.size
        else:
            size = len(envelope.original_content or b"")
        if isinstance(server, IngestSMTP):
            server.message_handed_over()
        self.stats.in_flight += 1
        self._drained.clear()
        head = b""
        try:
            # the body is in memory only from here to its commit, within the shared byte budget
            async with self.memory.hold(size):
                item = Incoming(
                    raw=await self._body(envelope),
                    mail_from=envelope.mail_from or "",
                    rcpt_to=tuple(envelope.rcpt_tos),
                    peer=peer,
                    received_at=utcnow(),
                )
                size = len(item.raw)
                head = item.raw[:16384]  # for the log line of a failure: its Message-ID
                stored = await self.store.store(item)
                del item
        except StoreRefused as exc:  # the database refuses this message's data even alone: 5xx
            self.stats.refused += 1
            log.warning("refused", extra={"peer": peer, "size": size, "status": 554})
            return exc.reply
        except StoreUnavailable:
            self.stats.deferred += 1
            log.warning("deferred", extra={"peer": peer, "size": size, "status": 451})
            return "451 4.3.0 Message not stored (database unavailable), please try again later"
        except Exception:  # a bug: the sender keeps the message and retries; we keep the trace
            self.stats.deferred += 1
            log.exception(
                "error storing a message",
                extra={"peer": peer, "size": size, "status": 451, "mail_id": _message_id(head)},
            )
            return "451 4.3.0 Message not stored (internal error, logged), please try again later"
        finally:
            self.stats.in_flight -= 1
            if self.stats.in_flight == 0:
                self._drained.set()
        elapsed = time.perf_counter() - started
        for observe in self.observers:  # metrics: DATA-to-commit latency
            observe(elapsed, stored.duplicate)
        if stored.duplicate:
            self.stats.duplicates += 1
        else:
            self.stats.accepted += 1
            self.enqueuer.add(stored.id)
        log.info(
            "stored",
            extra={
                "message_id": stored.id,  # "message" is reserved by logging (KeyError)
                "peer": peer,
                "size": size,
                "status": 250,
                "duplicate": stored.duplicate,
                "ms": round(elapsed * 1000, 2),
            },
        )
        return f"250 2.0.0 Ok: stored as #{stored.id}"

    async def handle_exception(self, error: Exception) -> str:
        """aiosmtpd's hook for an error escaping any handler: a temporary failure, never a 500.

        A 5xx tells the sending server to bounce the rep's reply; a 451 makes it try again
        later, by when a fix or a restart may have landed. The error is logged with its trace.
        """
        log.error("unexpected SMTP error", exc_info=error, extra={"status": 451})
        return "451 4.3.0 Temporary server error (logged), please try again later"

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for transactions in flight: messages being received or being stored (shutdown)."""
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(self._quiet.wait(), timeout)
            await asyncio.wait_for(self._drained.wait(), max(deadline - time.monotonic(), 0.1))
        except TimeoutError:
            log.warning("shutdown with %d transaction(s) still in flight", self.stats.in_flight)


def _message_id(head: bytes) -> str | None:
    """The Message-ID header in the first bytes of a message, for the log line of a failure."""
    for line in head.split(b"\n"):
        if not line.strip():
            break  # end of the header
        if line[:11].lower() == b"message-id:":
            return line[11:].strip().decode("ascii", "replace")[:200]
    return None


class _Data(enum.Enum):
    OK = "ok"
    TOO_LONG = "too long"
    TOO_BIG = "too big"


# A reverse- or forward-path as nearly every client sends it: "<dot-atom@domain>", then nothing or
# blanks and parameters. aiosmtpd reads every path with the email package's full RFC 5322 parser
# (~60 us each, a tenth of the ingest's CPU per message); this form is read by one regex, with the
# same result (a property test holds it to aiosmtpd's), and anything else still goes to the parser.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_PLAIN_PATH = re.compile(
    rf"<({_ATEXT}(?:\.{_ATEXT})*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)>(?:[ \t]+(?=[^ \t(])|$)"
)


class IngestSMTP(SMTP):
    """aiosmtpd's SMTP with a bounded door: streamed DATA, per-address slots, session limits.

    The stream buffer (``line_length_limit``, read by aiosmtpd's constructor) is sized for
    command lines; DATA lines of any length are streamed in pieces by ``smtp_DATA`` below, so an
    over-long line costs no memory.
    """

    line_length_limit = COMMAND_LINE_LIMIT

    def __init__(self, handler: IngestHandler, *, spool_dir: Path | None = None, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        s = handler.settings
        self.ingest = handler
        self.spool_dir = spool_dir
        self.max_line = s.smtp_max_line_length
        self.max_commands = s.smtp_max_commands
        self.session_timeout = s.smtp_session_timeout
        self._mail_arg: str | None = None
        self._receiving = False
        self._address: str | None = None  # set once admitted; released on connection_lost
        self._refused_connection = False
        self._commands = 0
        self._dropped = False
        self._storing = False
        self._last_activity = self.loop.time()
        self._session_handle: asyncio.TimerHandle | None = None
        # every recognised command except QUIT counts toward smtp_max_commands
        self._smtp_methods = {
            name: (method if name == "QUIT" else self._counted(method))
            for name, method in self._smtp_methods.items()
        }

    def _getaddr(self, arg: str) -> tuple[str | None, str | None]:
        m = _PLAIN_PATH.match(arg)
        if m is None:
            return super()._getaddr(arg)
        addr = m.group(1)
        if self.local_part_limit and len(addr.rpartition("@")[0]) > self.local_part_limit:
            return None, None
        return addr, arg[m.end() :]

    def _create_envelope(self) -> Envelope:
        old = getattr(self, "envelope", None)
        if isinstance(old, SpooledEnvelope):
            old.close_spool()
        return SpooledEnvelope()

    # connection slots and timers ------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if self._address is not None:  # STARTTLS: the same session on a new transport
            super().connection_made(transport)
            return
        peer = transport.get_extra_info("peername")
        address = str(peer[0]) if isinstance(peer, tuple) else str(peer)
        refusal = self.ingest.admit(address)
        if refusal is not None:
            # over a limit: say so and hang up before aiosmtpd starts a session
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(refusal.encode() + b"\r\n")
            transport.close()
            self._refused_connection = True
            log.info("connection refused", extra={"peer": address, "status": 421})
            return
        self._address = address
        super().connection_made(transport)
        self._session_handle = self.loop.call_later(self.session_timeout, self._session_expired)

    def connection_lost(self, error: Exception | None) -> None:
        if self._refused_connection:
            return
        if self._session_handle is not None:
            self._session_handle.cancel()
        if self._address is not None:
            self.ingest.release(self._address)
            self._address = None
        if isinstance(self.envelope, SpooledEnvelope):
            self.envelope.close_spool()
        super().connection_lost(error)

    def _drop(self, reply: str) -> None:
        """Answer ``reply`` (a 421) and end the session, whatever it is doing.

        Closing a socket with unread input sends a reset, which can destroy the 421 before the
        client reads it (a client still sending, say). So: the reply, then our end of the stream
        (FIN), input read and discarded from now on, the socket closed ``DROP_GRACE`` later or
        when the client hangs up.
        """
        transport = self.transport
        if transport is None or self._dropped:
            return
        self._dropped = True
        log.info("session closed", extra={"peer": self._address, "status": 421, "reason": reply[10:]})
        with contextlib.suppress(Exception):
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(reply.encode() + b"\r\n")
            if transport.can_write_eof():
                transport.write_eof()
        self.loop.call_later(DROP_GRACE, transport.close)

    def data_received(self, data: bytes) -> None:
        if not self._dropped:  # after a 421 nothing more is read as SMTP
            super().data_received(data)

    def _reset_timeout(self, duration: float | None = None) -> None:
        # aiosmtpd re-arms a timer per command; here a command (or DATA progress) only notes the
        # time and one timer re-checks it, which costs nothing per line of a big message
        self._last_activity = self.loop.time()
        if self._timeout_handle is None:
            self._timeout_handle = self.loop.call_later(duration or self._timeout_duration, self._timeout_cb)

    def _timeout_cb(self) -> None:
        idle = 0.0 if self._storing else self.loop.time() - self._last_activity
        if idle < self._timeout_duration:
            self._timeout_handle = self.loop.call_later(self._timeout_duration - idle, self._timeout_cb)
            return
        self._drop(
            f"421 4.4.2 {self.hostname} Idle for {self._timeout_duration:g} s (smtp_idle_timeout), "
            "closing connection"
        )

    def _session_expired(self) -> None:
        self._drop(
            f"421 4.4.2 {self.hostname} Session longer than {self.session_timeout:g} s "
            "(smtp_session_timeout), closing connection; please reconnect"
        )

    def _counted(self, method: Callable[[str], Awaitable[None]]) -> Callable[[str], Awaitable[None]]:
        @functools.wraps(method)
        async def counted(arg: str) -> None:
            self._commands += 1
            if self._commands > self.max_commands:
                self._drop(
                    f"421 4.7.0 {self.hostname} Too many commands in one session (at most "
                    f"{self.max_commands}, smtp_max_commands), closing connection"
                )
                return
            await method(arg)

        return counted

    # DATA, streamed ------------------------------------------------------------------------

    async def smtp_DATA(self, arg: str) -> None:
        # tell the store a message is on its way, so a commit may wait a moment to include it
        self._receiving = True
        self.ingest.receiving_changed(+1)
        try:
            await self._data(arg)
        finally:
            self.message_handed_over()
            if isinstance(self.envelope, SpooledEnvelope):
                self.envelope.close_spool()

    async def _data(self, arg: str) -> None:
        """aiosmtpd's DATA, but each line goes to a spool as it arrives and nothing else is kept."""
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        envelope = self.envelope
        assert isinstance(envelope, SpooledEnvelope)
        if not envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        spool: IO[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115 - closed with the envelope
            max_size=SPOOL_IN_MEMORY, dir=str(self.spool_dir) if self.spool_dir else None, prefix="smtp-"
        )
        envelope.spool = spool
        limit = self.data_size_limit
        size = line = 0
        state = _Data.OK
        while self.transport is not None:
            try:
                piece = await self._reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError as exc:  # a line longer than the buffer: a piece of it
                piece = await self._reader.read(exc.consumed)
            self._last_activity = self.loop.time()
            if line == 0 and piece == b".\r\n":
                break
            size += len(piece)
            line += len(piece)
            if state is _Data.OK:
                if line > self.max_line:
                    state = _Data.TOO_LONG
                elif limit and size > limit:
                    state = _Data.TOO_BIG
                else:
                    spool.write(piece[1:] if line == len(piece) and piece[:1] == b"." else piece)
                if state is not _Data.OK:
                    envelope.close_spool()  # what came so far is dropped at once
            if piece.endswith(b"\r\n"):
                line = 0
        if state is _Data.TOO_BIG:
            await self.push("552 Error: Too much mail data")  # rewritten and recorded by push()
        elif state is _Data.TOO_LONG:
            await self._record_refusal(500, "line too long", size)
            await self.push(
                f"500 5.5.2 Line too long: more than {self.max_line} bytes without a line break; "
                "please send long lines encoded (base64 or quoted-printable)"
            )
        else:
            envelope.size = size
            self._storing = True  # waiting for the commit is not the client being idle
            try:
                status = await self._call_handler_hook("DATA")
            finally:
                self._storing = False
                self._last_activity = self.loop.time()
            self._set_post_data_state()  # type: ignore[no-untyped-call]
            await self.push(status)
            return
        self._set_post_data_state()  # type: ignore[no-untyped-call]

    def message_handed_over(self) -> None:
        """The message of this session was handed over (or refused): no longer expected."""
        if self._receiving:
            self._receiving = False
            self.ingest.receiving_changed(-1)

    async def smtp_MAIL(self, arg: str) -> None:
        # a 552 for a declared SIZE comes before the envelope exists: keep the argument to record it
        self._mail_arg = arg
        try:
            await super().smtp_MAIL(arg)
        finally:
            self._mail_arg = None

    async def _record_refusal(self, code: int, reason: str, size: int) -> None:
        """Record a refused message (envelope and size, never the body), once per envelope."""
        env = self.envelope
        if not isinstance(env, SpooledEnvelope) or env.refusal_recorded:
            return
        env.refusal_recorded = True
        self.ingest.stats.refused += 1
        mail_from = env.mail_from or ""
        if self._mail_arg is not None:  # refused at MAIL FROM:<addr> SIZE=n
            if m := _MAIL_FROM.search(self._mail_arg):
                mail_from = m.group(1)
            if m := _SIZE.search(self._mail_arg):
                size = int(m.group(1))
        try:
            await asyncio.to_thread(
                record_refusal,
                self.ingest.engine,
                peer=self._address,
                mail_from=mail_from,
                rcpt_to=list(env.rcpt_tos),
                size=size,
                code=code,
                reason=reason,
            )
        except Exception as exc:
            log.warning("could not record refusal: %s", exc)

    async def push(self, status: str) -> None:  # type: ignore[override]
        if isinstance(status, str) and status.startswith("552") and self.data_size_limit:
            status = (
                f"552 5.3.4 Message exceeds the size limit of {self.data_size_limit} bytes; "
                "please reply without attachments"
            )
            await self._record_refusal(552, "message too big", self.data_size_limit + 1)
        await super().push(status)


def tls_context(settings: Settings) -> ssl.SSLContext | None:
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(settings.tls_cert), str(settings.tls_key))
    return ctx


class IngestServer:
    """The listening SMTP server on the running loop (so the DB engine and pool live there)."""

    def __init__(self, settings: Settings, engine: Engine, enqueue: EnqueueFn | None) -> None:
        self.settings = settings
        self.engine = engine
        self.store = MessageStore(engine)
        self.enqueuer = Enqueuer(engine, enqueue, self.store.note_enqueued)
        self.handler = IngestHandler(settings, engine, self.store, self.enqueuer)
        self.server: asyncio.AbstractServer | None = None
        self.spool_dir = settings.resolved_spool_dir

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        """The upstream relay's credentials (LOGIN or PLAIN), compared in constant time."""
        s = self.settings
        if (
            not isinstance(auth_data, LoginPassword)
            or s.smtp_auth_user is None
            or s.smtp_auth_password is None
        ):
            return AuthResult(success=False, handled=False)
        ok_user = hmac.compare_digest(auth_data.login, s.smtp_auth_user.encode())
        ok_password = hmac.compare_digest(
            auth_data.password, s.smtp_auth_password.get_secret_value().encode()
        )
        return AuthResult(success=ok_user and ok_password, handled=False)

    def _factory(self) -> SMTP:
        s = self.settings
        auth: dict[str, Any] = {}
        if s.smtp_auth_user:
            auth = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": s.smtp_auth_require_tls,
            }
        return IngestSMTP(
            self.handler,
            spool_dir=self.spool_dir,
            data_size_limit=s.data_size_limit,
            hostname=s.smtp_hostname or s.reply_domain,
            ident="feedback ingest",
            tls_context=tls_context(s),
            timeout=s.smtp_idle_timeout,
            enable_SMTPUTF8=True,
            **auth,
        )

    async def start(self, host: str | None = None, port: int | None = None) -> tuple[str, int]:
        loop = asyncio.get_running_loop()
        self.spool_dir.mkdir(parents=True, exist_ok=True)
        self.store.start()
        self.server = await loop.create_server(
            self._factory,
            host=host or self.settings.smtp_host,
            port=self.settings.smtp_port if port is None else port,
            backlog=self.settings.max_connections,
        )
        sock = self.server.sockets[0].getsockname()
        return sock[0], sock[1]

    async def stop(self) -> None:
        """Stop listening, refuse new transactions (421), finish those in flight."""
        self.handler.closing = True
        if self.server is not None:
            self.server.close()
        await self.handler.drain()
        await self.enqueuer.close()
        await self.store.close()
        if self.server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.server.wait_closed(), 2)
            self.server = None
