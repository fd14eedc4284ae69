"""Mailbox polling: replies that land in an ordinary mailbox (Microsoft 365, Google Workspace).

Each new message is fetched without marking it read (``BODY.PEEK[]``), stored through the same
durable door as SMTP (:func:`feedback.ingress.accept.accept`) and only then flagged
``$FeedbackStored`` (or moved to a folder): a crash between the commit and the flag fetches the
message again next time, and the store counts it as a redelivery, so nothing is lost and nothing
is recorded twice. IDLE is used when the server offers it (the new message is seen at once),
else the folder is polled every ``imap_poll_seconds``. aioimaplib: asyncio, IDLE, maintained.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.utils import getaddresses
from urllib.parse import unquote, urlsplit

from aioimaplib import IMAP4, IMAP4_SSL
from sqlalchemy.engine import Engine

from feedback.ingress.accept import Enqueue, Refused, accept
from feedback.runtime.settings import Settings

log = logging.getLogger("feedback.imap")
STORED_FLAG = "$FeedbackStored"
REFUSED_FLAG = "$FeedbackRefused"
_FETCH_UID = re.compile(rb"UID (\d+)")


class ImapError(RuntimeError):
    """The server refused a command (login, select...): the message says which and why."""


@dataclass(frozen=True)
class Mailbox:
    host: str
    port: int
    user: str
    password: str
    folder: str
    tls: bool
    move_to: str | None = None

    @classmethod
    def from_url(cls, url: str, *, move_to: str | None = None) -> Mailbox:
        """``imap://user:pass@host:143/INBOX`` or ``imaps://...:993/Folder``."""
        parts = urlsplit(url)
        if parts.scheme not in {"imap", "imaps"} or not parts.hostname or not parts.username:
            raise ValueError("imap_url: write it as imaps://user:password@host:993/INBOX")
        return cls(
            host=parts.hostname,
            port=parts.port or (993 if parts.scheme == "imaps" else 143),
            user=unquote(parts.username),
            password=unquote(parts.password or ""),
            folder=unquote(parts.path.lstrip("/")) or "INBOX",
            tls=parts.scheme == "imaps",
            move_to=move_to,
        )


@dataclass
class PollStats:
    stored: int = 0
    duplicates: int = 0
    refused: int = 0
    errors: list[str] = field(default_factory=list)


def _ok(response: object, what: str) -> list[bytes]:
    result = getattr(response, "result", "NO")
    lines = list(getattr(response, "lines", []))
    if result != "OK":
        raise ImapError(f"IMAP {what} refused: {b' '.join(x for x in lines if isinstance(x, bytes))!r}")
    return lines


def _recipients(raw: bytes) -> tuple[str, ...]:
    """Where the message was delivered: the token is in one of these addresses."""
    msg = message_from_bytes(raw[:65536], policy=policy.compat32)
    values = [
        str(v) for name in ("Delivered-To", "X-Original-To", "To", "Cc") for v in msg.get_all(name) or []
    ]
    return tuple(dict.fromkeys(addr.lower() for _, addr in getaddresses(values) if "@" in addr))


class MailboxPoller:
    """One connection to one folder; ``poll_once`` stores what is new, ``run`` keeps doing it."""

    def __init__(
        self,
        mailbox: Mailbox,
        *,
        settings: Settings,
        engine: Engine,
        enqueue: Enqueue | None,
        after_store: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        self.mailbox, self.settings, self.engine, self.enqueue = mailbox, settings, engine, enqueue
        self.after_store = after_store  # tests: a connection dropping between commit and flag
        self.client: IMAP4 | None = None

    async def connect(self) -> IMAP4:
        box = self.mailbox
        client = (IMAP4_SSL if box.tls else IMAP4)(host=box.host, port=box.port, timeout=30)
        await client.wait_hello_from_server()
        _ok(await client.login(box.user, box.password), "LOGIN")
        _ok(await client.select(box.folder), f"SELECT {box.folder}")
        self.client = client
        return client

    async def close(self) -> None:
        if self.client is not None:
            try:
                await self.client.logout()
            except Exception:  # the connection may already be gone
                log.debug("logout failed", exc_info=True)
            self.client = None

    async def poll_once(self) -> PollStats:
        """Store every message not yet flagged; flag (or move) each after its commit."""
        client = self.client or await self.connect()
        stats = PollStats()
        lines = _ok(await client.uid_search(f"UNKEYWORD {STORED_FLAG} UNKEYWORD {REFUSED_FLAG}"), "SEARCH")
        uids = [u for line in lines if isinstance(line, bytes) and line[:1].isdigit() for u in line.split()]
        for uid in (u.decode() for u in uids):
            fetched = _ok(await client.uid("fetch", uid, "(BODY.PEEK[])"), f"FETCH {uid}")
            raw = next((bytes(x) for x in fetched if isinstance(x, bytearray)), None)
            if raw is None:
                stats.errors.append(f"UID {uid}: no body in the FETCH answer")
                continue
            try:
                stored = await accept(
                    raw,
                    mail_from="",
                    recipients=_recipients(raw),
                    peer=f"imap:{self.mailbox.host}",
                    settings=self.settings,
                    engine=self.engine,
                    enqueue=self.enqueue,
                )
            except Refused as exc:
                if exc.retry:
                    raise  # the database is down: leave the message for the next poll
                log.warning("imap message refused", extra={"uid": uid, "reason": str(exc)})
                _ok(await client.uid("store", uid, "+FLAGS", f"({REFUSED_FLAG})"), f"STORE {uid}")
                stats.refused += 1
                continue
            if self.after_store is not None:
                await self.after_store(stored.id)
            await self._done(client, uid)
            if stored.duplicate:
                stats.duplicates += 1
            else:
                stats.stored += 1
        return stats

    async def _done(self, client: IMAP4, uid: str) -> None:
        if self.mailbox.move_to:
            _ok(await client.uid("move", uid, self.mailbox.move_to), f"MOVE {uid}")
        else:
            _ok(await client.uid("store", uid, "+FLAGS", f"(\\Seen {STORED_FLAG})"), f"STORE {uid}")

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until ``stop``: IDLE between polls where offered; reconnect after a drop."""
        delay = 1.0
        while not stop.is_set():
            try:
                client = self.client or await self.connect()
                await self.poll_once()
                delay = 1.0
                if client.has_capability("IDLE"):
                    idle = await client.idle_start(timeout=self.settings.imap_poll_seconds)
                    waiter = asyncio.create_task(stop.wait())
                    push = asyncio.create_task(client.wait_server_push())
                    await asyncio.wait({waiter, push, idle}, return_when=asyncio.FIRST_COMPLETED)
                    waiter.cancel()
                    push.cancel()
                    client.idle_done()
                    await asyncio.wait_for(idle, 10)
                else:
                    await asyncio.wait_for(stop.wait(), self.settings.imap_poll_seconds)
            except TimeoutError:
                continue
            except Exception as exc:  # a dropped connection, a server restart: reconnect
                log.warning("imap: %s; reconnecting in %.0fs", exc, delay)
                self.client = None
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
                delay = min(delay * 2, 60)
        await self.close()
