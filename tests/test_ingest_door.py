"""The SMTP door is bounded: no peer exhausts the ingest's memory or its connection slots.

Real SMTP on loopback. Memory is measured with tracemalloc around the server's work (the server
runs in this process); clients write the same chunk object again and again, so their own
allocations stay small. "Another address" is 127.0.0.2, which Linux routes to loopback.
"""

from __future__ import annotations

import asyncio
import contextlib
import tracemalloc
from collections.abc import AsyncIterator, Iterable
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from test_ingest_protocol import count, make_db, make_requests, make_settings, reply, wait_for

from feedback.ingress.smtp import IngestServer
from feedback.runtime.settings import Settings
from feedback.storage import raw_bytes
from feedback.storage.models import InboundMessage, Refusal

MiB = 1024 * 1024
OTHER = "127.0.0.2"


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Iterable[Engine]:
    eng = make_db(make_settings(tmp_path, database_url=database_url))
    yield eng
    eng.dispose()


@pytest.fixture
async def door(tmp_path: Path, database_url: str, engine: Engine) -> AsyncIterator[Any]:
    """``await door(**settings)`` starts an ingest with those settings; returns (server, port)."""
    servers: list[IngestServer] = []

    async def start(**overrides: Any) -> tuple[IngestServer, int]:
        settings = make_settings(tmp_path, database_url=database_url, **overrides)
        server = IngestServer(settings, engine, None)
        _, port = await server.start(host="127.0.0.1", port=0)
        servers.append(server)
        return server, port

    yield start
    for server in servers:
        await server.stop()


class Raw:
    """A bare SMTP client on a socket: no buffering of its own, no copies of what it sends."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int, source: str | None = None) -> Raw:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=(source, 0) if source else None
        )
        return cls(reader, writer)

    async def line(self, timeout: float = 10) -> bytes:
        """The next complete reply (multi-line replies: the last line)."""
        while True:
            got = await asyncio.wait_for(self.reader.readline(), timeout)
            if got[3:4] != b"-":
                return got

    async def cmd(self, text: str) -> bytes:
        self.writer.write(text.encode() + b"\r\n")
        await self.writer.drain()
        return await self.line()

    async def envelope(self, sender: str, rcpt: str) -> None:
        assert (await self.line()).startswith(b"220")
        assert (await self.cmd("EHLO client.example")).startswith(b"250")
        assert (await self.cmd(f"MAIL FROM:<{sender}>")).startswith(b"250")
        assert (await self.cmd(f"RCPT TO:<{rcpt}>")).startswith(b"250")
        assert (await self.cmd("DATA")).startswith(b"354")

    async def send(self, chunk: bytes, times: int) -> None:
        for _ in range(times):
            self.writer.write(chunk)
            await self.writer.drain()

    def close(self) -> None:
        self.writer.close()


async def peak_while(work: Any) -> tuple[Any, int]:
    """Run ``work`` and return (its result, the peak of traced memory above the start)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = await work
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        ({"data_size_limit": 256 * MiB}, b"500 5.5.2 Line too long"),
        ({"data_size_limit": 4 * MiB, "smtp_max_line_length": 128 * MiB}, b"552 5.3.4"),
    ],
    ids=["line-limit", "size-limit"],
)
async def test_a_line_without_break_is_refused_while_streaming(
    door: Any, engine: Engine, limits: dict[str, int], expected: bytes
) -> None:
    server, port = await door(**limits)
    ((rep, rcpt),) = make_requests(engine, server.settings, 1)
    client = await Raw.open(port)
    await client.envelope(rep, rcpt)
    chunk = b"z" * MiB

    async def stream() -> bytes:
        await client.send(b"Subject: x\r\n\r\n", 1)
        await client.send(chunk, 48)  # 48 MiB, not one line break
        await client.send(b"\r\n.\r\n", 1)
        return await client.line(timeout=60)

    answer, peak = await peak_while(stream())
    client.close()
    assert peak < 12 * MiB, f"the server held {peak / MiB:.0f} MiB of a 48 MiB line"
    assert answer.startswith(expected), answer
    assert count(engine, InboundMessage) == 0
    with Session(engine) as session:
        (refusal,) = session.exec(select(Refusal)).all()
    assert refusal.code == int(expected[:3]) and refusal.mail_from == rep


async def test_big_bodies_are_spooled_and_loaded_under_the_budget(door: Any, engine: Engine) -> None:
    server, port = await door(data_size_limit=16 * MiB, ingest_memory_budget=MiB)
    pairs = make_requests(engine, server.settings, 6)
    line = b"x" * 998 + b"\r\n"
    block = line * (MiB // len(line))  # ~1 MiB of lines, sent 4 times per message

    async def one(rep: str, rcpt: str) -> bytes:
        client = await Raw.open(port)
        await client.envelope(rep, rcpt)
        await client.send(f"From: {rep}\r\nSubject: big\r\nMessage-ID: {make_msgid()}\r\n\r\n".encode(), 1)
        await client.send(block, 4)
        client.writer.write(b".\r\n")
        answer = await client.line(timeout=120)
        client.close()
        return answer

    answers, peak = await peak_while(asyncio.gather(*(one(r, a) for r, a in pairs)))
    assert all(a.startswith(b"250 2.0.0 Ok: stored") for a in answers), answers
    # 6 x 4 MiB arrived at once; aiosmtpd's own DATA held each at least twice over (48+ MiB)
    assert peak < 20 * MiB, f"peak {peak / MiB:.0f} MiB for 24 MiB received"
    with Session(engine) as session:
        ids = [m.id or 0 for m in session.exec(select(InboundMessage)).all()]
    with engine.connect() as conn:
        sizes = [len(raw_bytes.read(conn, i) or b"") for i in ids]
    assert len(sizes) == 6 and min(sizes) > 4 * len(block)


async def test_dot_stuffing_and_long_lines_survive_the_stream(door: Any, engine: Engine) -> None:
    server, port = await door(data_size_limit=4 * MiB)
    ((rep, rcpt),) = make_requests(engine, server.settings, 1)
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = rep, rcpt, "Re: lead"
    msg["Message-ID"] = make_msgid()
    long_line = "w" * 200_000  # longer than the command buffer, shorter than the line limit
    msg.set_content(f".leading dot\n..two dots\n.\nplain\n{long_line}\nend\n", cte="8bit")
    raw = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n", max_line_length=0))
    async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=20) as smtp:
        errors, answer = await smtp.sendmail(rep, [rcpt], raw)
    assert errors == {} and answer.startswith("2.0.0")
    with Session(engine) as session:
        (stored,) = session.exec(select(InboundMessage)).all()
    with engine.connect() as conn:
        assert raw_bytes.read(conn, stored.id or 0) == raw


async def test_idle_clients_cannot_hold_every_slot(door: Any, engine: Engine) -> None:
    """200 clients from one address loop on NOOP; real mail from another address still gets 250."""
    server, port = await door()  # default limits: 200 in all, 20 per address
    settings: Settings = server.settings
    deliveries = make_requests(engine, settings, 5)
    stop, settled = asyncio.Event(), asyncio.Event()
    refused: list[bytes] = []
    holding = 0

    async def idler() -> None:
        nonlocal holding
        client = await Raw.open(port)
        try:
            banner = await client.line()
            if banner.startswith(b"421"):
                refused.append(banner)
            else:
                holding += 1
            if holding + len(refused) == 200:
                settled.set()
            while not banner.startswith(b"421") and not stop.is_set():
                assert (await client.cmd("NOOP")).startswith(b"250")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.2)
        finally:
            client.close()

    idlers = [asyncio.create_task(idler()) for _ in range(200)]
    try:
        await asyncio.wait_for(settled.wait(), 30)
        assert holding == settings.max_connections_per_address
        assert b"Too many connections from your address 127.0.0.1" in refused[0]
        for rep, rcpt in deliveries:  # the relay, from another address
            async with aiosmtplib.SMTP(
                hostname="127.0.0.1", port=port, timeout=20, source_address=(OTHER, 0)
            ) as smtp:
                errors, answer = await smtp.sendmail(rep, [rcpt], reply(rep, rcpt))
            assert errors == {} and answer.startswith("2.0.0 Ok: stored")
    finally:
        stop.set()
        await asyncio.gather(*idlers, return_exceptions=True)
    assert count(engine, InboundMessage) == 5


@pytest.mark.parametrize(
    ("behaviour", "expected"),
    [
        ("silent", b"Idle for 0.5 s"),
        ("half-command", b"Idle for 0.5 s"),
        ("trickle-commands", b"Session longer than 2 s"),
        ("trickle-data", b"Session longer than 2 s"),
    ],
)
async def test_idle_and_slow_clients_get_421(
    door: Any, engine: Engine, behaviour: str, expected: bytes
) -> None:
    server, port = await door(smtp_idle_timeout=0.5, smtp_session_timeout=2.0)
    ((rep, rcpt),) = make_requests(engine, server.settings, 1)
    client = await Raw.open(port)
    loop = asyncio.get_running_loop()
    started = loop.time()

    async def trickle(text: bytes) -> None:
        for i in range(10_000):
            client.writer.write(text[i % len(text) : i % len(text) + 1])
            await asyncio.sleep(0.05)  # the client's pace is the behaviour under test

    feeder: asyncio.Task[None] | None = None
    if behaviour == "silent":
        assert (await client.line()).startswith(b"220")
    elif behaviour == "half-command":
        assert (await client.line()).startswith(b"220")
        client.writer.write(b"NOO")
    elif behaviour == "trickle-commands":
        assert (await client.line()).startswith(b"220")
        feeder = asyncio.create_task(trickle(b"NOOP\r\n"))
    else:
        await client.envelope(rep, rcpt)
        feeder = asyncio.create_task(trickle(b"ab\r\n"))
    last = b""
    try:
        while line := await client.reader.readline():  # until the server hangs up
            last = line
    finally:
        if feeder is not None:
            feeder.cancel()
        client.close()
    assert last.startswith(b"421 4.4.2") and expected in last, last
    assert loop.time() - started < 5
    await wait_for(lambda: server.handler.connections == 0, what="the session to end")


async def test_commands_per_session_are_capped(door: Any) -> None:
    _, port = await door(smtp_max_commands=10)
    client = await Raw.open(port)
    assert (await client.line()).startswith(b"220")
    for _ in range(10):
        assert (await client.cmd("NOOP")).startswith(b"250")
    last = await client.cmd("NOOP")
    assert last.startswith(b"421 4.7.0") and b"Too many commands" in last
    assert await client.reader.read() == b""  # closed
    client.close()


async def test_per_address_limit_frees_its_slots(door: Any) -> None:
    server, port = await door(max_connections_per_address=2)
    first, second = await Raw.open(port), await Raw.open(port)
    for c in (first, second):
        assert (await c.line()).startswith(b"220")
    third = await Raw.open(port)
    assert (await third.line()).startswith(b"421 4.7.0 Too many connections from your address")
    other = await Raw.open(port, source=OTHER)
    assert (await other.line()).startswith(b"220")
    for c in (first, second, third, other):
        c.close()
    await wait_for(lambda: server.handler.connections == 0, what="the connections to close")
    again = await Raw.open(port)
    assert (await again.line()).startswith(b"220")
    again.close()


async def test_memory_budget_bounds_and_keeps_arrival_order() -> None:
    from feedback.ingress.smtp import ByteBudget

    budget = ByteBudget(100)
    order: list[str] = []
    peak = 0
    release = asyncio.Event()

    async def body(name: str, size: int) -> None:
        nonlocal peak
        async with budget.hold(size):
            order.append(name)
            peak = max(peak, budget.used)
            await release.wait()

    first = asyncio.create_task(body("a", 60))
    await asyncio.sleep(0)
    rest = [asyncio.create_task(body(n, s)) for n, s in (("big", 1000), ("c", 10), ("d", 10))]
    await wait_for(lambda: len(budget._line) == 3, what="the three to wait in line")
    assert order == ["a"]  # "c" would fit beside "a", but "big" came first
    release.set()
    await asyncio.gather(first, *rest)
    assert order == ["a", "big", "c", "d"] and peak <= 100 and budget.used == 0
