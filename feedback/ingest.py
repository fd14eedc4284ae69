"""The SMTP ingest (aiosmtpd): refuse what must be refused, store durably, then answer 250.

Protocol outcomes are SMTP reply strings returned from handler hooks, never exceptions:

- RCPT outside the reply domain, a tampered token or an unknown request: 550 5.1.1 saying which;
  the database unavailable for that check: 451 4.3.0 (retry later), never 550.
- DATA: the raw message and its envelope are committed (group commit, ``MessageStore``) before
  the 250; the database unavailable: 451 4.3.0. Over the size limit: 552 5.3.4, recorded as a
  refusal (envelope and size, no body).
- Enqueueing the parse job happens after the 250, batched; if Redis is down the message is
  still stored and the sweeper enqueues it later.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from sqlalchemy.engine import Engine

from feedback.models import utcnow
from feedback.settings import Settings
from feedback.store import (
    Incoming,
    MessageStore,
    StoreRefused,
    StoreUnavailable,
    mark_enqueued,
    record_refusal,
)
from feedback.tokens import TokenError, token_from_address, verify_token

log = logging.getLogger("feedback.ingest")

_MAIL_FROM = re.compile(r"FROM:\s*<([^>]*)>", re.IGNORECASE)
_SIZE = re.compile(r"\bSIZE=(\d+)", re.IGNORECASE)
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
        self.stats = IngestStats()
        self.closing = False
        self.connections = 0
        self._drained = asyncio.Event()
        self._drained.set()
        self._quiet = asyncio.Event()  # no session is receiving a message
        self._quiet.set()
        # request ids seen to exist recently: saves the RCPT lookup round trip (positive only; a
        # request deleted meanwhile is accepted and ends in review as unmatched, nothing is lost)
        self._known_ids: dict[int, float] = {}

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

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        started = time.perf_counter()
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        peer = session.peer[0] if isinstance(session.peer, tuple) else str(session.peer)
        item = Incoming(
            raw=bytes(raw),
            mail_from=envelope.mail_from or "",
            rcpt_to=tuple(envelope.rcpt_tos),
            peer=peer,
            received_at=utcnow(),
        )
        if isinstance(server, IngestSMTP):
            server.message_handed_over()
        self.stats.in_flight += 1
        self._drained.clear()
        try:
            stored = await self.store.store(item)
        except StoreRefused as exc:  # the database refuses this message's data even alone: 5xx
            self.stats.refused += 1
            log.warning("refused", extra={"peer": peer, "size": len(raw), "status": 554})
            return exc.reply
        except StoreUnavailable:
            self.stats.deferred += 1
            log.warning("deferred", extra={"peer": peer, "size": len(raw), "status": 451})
            return "451 4.3.0 Message not stored (database unavailable), please try again later"
        finally:
            self.stats.in_flight -= 1
            if self.stats.in_flight == 0:
                self._drained.set()
        elapsed = time.perf_counter() - started
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
                "size": len(raw),
                "status": 250,
                "duplicate": stored.duplicate,
                "ms": round(elapsed * 1000, 2),
            },
        )
        return f"250 2.0.0 Ok: stored as #{stored.id}"

    async def drain(self, timeout: float = 30.0) -> None:
        """Wait for transactions in flight: messages being received or being stored (shutdown)."""
        deadline = time.monotonic() + timeout
        try:
            await asyncio.wait_for(self._quiet.wait(), timeout)
            await asyncio.wait_for(self._drained.wait(), max(deadline - time.monotonic(), 0.1))
        except TimeoutError:
            log.warning("shutdown with %d transaction(s) still in flight", self.stats.in_flight)


class IngestSMTP(SMTP):
    """aiosmtpd's SMTP with a longer line limit and an actionable, recorded 552."""

    line_length_limit = 1024 * 1024  # an over-long line must not be refused permanently

    def __init__(self, handler: IngestHandler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self.ingest = handler
        self._mail_arg: str | None = None
        self._receiving = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        handler = self.ingest
        handler.connections += 1
        if handler.connections > handler.settings.max_connections:
            # over the limit: say so and hang up before aiosmtpd starts a session
            assert isinstance(transport, asyncio.WriteTransport)
            transport.write(b"421 4.7.0 Too many connections, please try again later\r\n")
            transport.close()
            self._refused_connection = True
            return
        self._refused_connection = False
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        self.ingest.connections -= 1
        if not getattr(self, "_refused_connection", False):
            super().connection_lost(error)

    async def smtp_DATA(self, arg: str) -> None:
        # tell the store a message is on its way, so a commit may wait a moment to include it
        self._receiving = True
        self.ingest.receiving_changed(+1)
        try:
            await super().smtp_DATA(arg)
        finally:
            self.message_handed_over()

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

    async def push(self, status: str) -> None:  # type: ignore[override]
        if isinstance(status, str) and status.startswith("552") and self.data_size_limit:
            status = (
                f"552 5.3.4 Message exceeds the size limit of {self.data_size_limit} bytes; "
                "please reply without attachments"
            )
            env = self.envelope
            if env is not None and not getattr(env, "_refusal_recorded", False):
                env._refusal_recorded = True  # type: ignore[attr-defined]
                peer = self.session.peer[0] if self.session and isinstance(self.session.peer, tuple) else None
                self.ingest.stats.refused += 1
                mail_from, size = env.mail_from or "", self.data_size_limit + 1
                if self._mail_arg is not None:  # refused at MAIL FROM:<addr> SIZE=n
                    if m := _MAIL_FROM.search(self._mail_arg):
                        mail_from = m.group(1)
                    if m := _SIZE.search(self._mail_arg):
                        size = int(m.group(1))
                try:
                    await asyncio.to_thread(
                        record_refusal,
                        self.ingest.engine,
                        peer=peer,
                        mail_from=mail_from,
                        rcpt_to=list(env.rcpt_tos),
                        size=size,
                        code=552,
                        reason="message too big",
                    )
                except Exception as exc:
                    log.warning("could not record refusal: %s", exc)
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
        self._connections = 0

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
