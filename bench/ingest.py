"""SMTP ingest throughput and latency beside a raw aiosmtpd baseline, plus the end-to-end drain.

    python bench/ingest.py [--n 600] [--levels 1,8,32] [--per-conn 20]
                           [--database-url postgresql://postgres@127.0.0.1:5432/test]
                           [--redis-url redis://127.0.0.1:6379/13]

In one run, on loopback, with the same client:

* baseline: a raw aiosmtpd server whose DATA handler answers 250 and discards the message;
* product: ``IngestServer`` (token check at RCPT, durable group commit before each 250, batched
  enqueue after it) on a fresh SQLite database in a temp dir with an embedded Redis -- or on a
  database ``fb_bench_<random>`` created from ``--database-url`` (an admin URL; the database is
  dropped at the end) with ``--redis-url`` (a spare database number: it is FLUSHED).

No worker consumes while the ingest is measured. The client runs in a separate process (so the
servers get this process's core to themselves) and sends ``--n`` distinct, realistic replies
(3-6 KB, valid tokens of real requests sent through ``send_due_requests``) at each concurrency
level, several messages per connection. Then a worker (``run_worker_forever``, arq tuning from
settings) is started and timed until every accepted message has a stored response.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import mailbox
import multiprocessing
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import create_engine, func, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session as DbSession
from sqlmodel import select

from feedback.ingress.smtp import IngestServer
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.demo import build_reply, request_kind, sample_replies
from feedback.runtime.queue import connect, enqueue_messages
from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import Settings, load_settings
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import InboundMessage, Lead, Rep, Response, utcnow
from workers.arq_config import run_worker_forever

Envelope3 = tuple[str, str, bytes]  # (mail from, rcpt to, raw message)

FILLER = (
    "Some more context from my side, in case it helps the team: we spoke twice this week, once with "
    "their operations lead and once with procurement. They asked about onboarding time, the data "
    "import from their current CRM, pricing for annual versus monthly billing and whether we can "
    "host in the EU. I sent the security questionnaire and the reference customer list. "
)


# -- data: reps, leads, requests sent to a Maildir outbox, replies built from them ----------------


def seed_requests(engine: Engine, settings: Settings, n_requests: int, outbox: Path) -> list[bytes]:
    """Create reps and leads, send their requests into ``outbox``; returns the request mails."""
    per_rep = max(1, settings.daily_cap_per_rep)
    n_reps = -(-n_requests // per_rep)
    now = utcnow()
    with DbSession(engine) as session:
        reps = [Rep(email=f"rep{i}@example.com", name=f"Pat Rep{i}") for i in range(n_reps)]
        session.add_all(reps)
        session.flush()
        for j in range(n_requests):
            session.add(
                Lead(
                    crm_id=f"L{j}",
                    name=f"Lead Person{j}",
                    company=f"Company {j} GmbH",
                    campaign="bench",
                    source="web",
                    rep_id=reps[j % n_reps].id,
                    assigned_at=now,
                )
            )
        session.commit()
    sent = asyncio.run(send_due_requests(engine, settings, MaildirTransport(outbox)))
    if sent.sent != n_requests:
        raise SystemExit(f"bench setup: only {sent.sent} of {n_requests} requests sent: {sent.errors[:3]}")
    box = mailbox.Maildir(outbox, create=False)
    return [box.get_bytes(key) for key in sorted(box.keys())]


def build_replies(requests: list[bytes], count: int, *, salt: str) -> list[Envelope3]:
    """``count`` distinct replies (3-6 KB each) spread over ``requests``."""
    texts = sample_replies()
    cycles = {kind: itertools.cycle(values) for kind, values in texts.items()}
    out: list[Envelope3] = []
    for i in range(count):
        raw = requests[i % len(requests)]
        req = message_from_bytes(raw, policy=policy.default)
        assert isinstance(req, EmailMessage)
        rep = parseaddr(str(req["To"]))[1]
        answer = next(cycles[request_kind(req)])
        extra = FILLER * (3 + i % 8)  # vary the size: about 3 KB to 6 KB with the quoted request
        reply, rcpt = build_reply(
            raw,
            text=f"{answer}\n\n{extra}\n(ref {salt}-{i})",
            sender_name=f"Pat {rep.partition('@')[0].title()}",
            sender=rep,
        )
        out.append((rep, rcpt, reply.as_bytes(policy=policy.SMTP)))
    return out


# -- the client (runs in a separate process) ------------------------------------------------------


def run_client(
    host: str, port: int, messages: list[Envelope3], concurrency: int, per_conn: int
) -> tuple[float, list[float], int]:
    """Send ``messages`` with ``concurrency`` connections; (elapsed s, latencies s, failures)."""
    return asyncio.run(_client(host, port, messages, concurrency, per_conn))


async def _client(
    host: str, port: int, messages: list[Envelope3], concurrency: int, per_conn: int
) -> tuple[float, list[float], int]:
    chunks: asyncio.Queue[list[Envelope3]] = asyncio.Queue()
    for start in range(0, len(messages), per_conn):
        chunks.put_nowait(messages[start : start + per_conn])
    latencies: list[float] = []
    failures = 0

    async def connection() -> None:
        nonlocal failures
        while not chunks.empty():
            chunk = chunks.get_nowait()
            async with aiosmtplib.SMTP(hostname=host, port=port, timeout=60) as smtp:
                for mail_from, rcpt, raw in chunk:
                    t0 = time.perf_counter()
                    try:
                        await smtp.sendmail(mail_from, [rcpt], raw)
                    except aiosmtplib.SMTPException:
                        failures += 1
                        continue
                    latencies.append(time.perf_counter() - t0)

    started = time.perf_counter()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return time.perf_counter() - started, latencies, failures


# -- servers --------------------------------------------------------------------------------------


class DiscardHandler:
    """The baseline: accept everything, keep nothing."""

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        return "250 OK"


@contextlib.asynccontextmanager
async def raw_server(settings: Settings) -> AsyncIterator[tuple[str, int]]:
    handler = DiscardHandler()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler, data_size_limit=settings.data_size_limit, hostname="raw.localhost", enable_SMTPUTF8=True
        ),
        host="127.0.0.1",
        port=0,
        backlog=settings.max_connections,
    )
    host, port = server.sockets[0].getsockname()[:2]
    try:
        yield host, port
    finally:
        server.close()
        await server.wait_closed()


@contextlib.contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A fresh database ``fb_bench_<random>`` next to ``admin_url``'s; dropped afterwards."""
    name = f"fb_bench_{secrets.token_hex(4)}"
    url = make_url(admin_url)
    if url.drivername in {"postgresql", "postgres"}:
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def count(engine: Engine, model: Any) -> int:
    with DbSession(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# -- the run --------------------------------------------------------------------------------------


async def measure(
    settings: Settings,
    engine: Engine,
    redis_url: str,
    batches: dict[int, list[Envelope3]],
    per_conn: int,
    pool_exec: ProcessPoolExecutor,
    e2e_timeout: float,
) -> None:
    loop = asyncio.get_running_loop()
    pool = await connect(redis_url)
    await pool.flushdb()

    async def enqueue(ids: list[int]) -> list[int]:
        return await enqueue_messages(pool, ids)

    ingest = IngestServer(settings, engine, enqueue)
    product_addr = await ingest.start(host="127.0.0.1", port=0)
    print(f"{'conc':>4} {'server':<8} {'msgs':>5} {'msg/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'fail':>5}")
    ratios: dict[int, float] = {}
    try:
        async with raw_server(settings) as raw_addr:
            for level, messages in batches.items():
                rates: dict[str, float] = {}
                for name, (host, port) in (("raw", raw_addr), ("product", product_addr)):
                    elapsed, lat, failed = await loop.run_in_executor(
                        pool_exec, run_client, host, port, messages, level, per_conn
                    )
                    rates[name] = len(lat) / elapsed
                    print(
                        f"{level:>4} {name:<8} {len(lat):>5} {rates[name]:>8.0f} {pct(lat, 0.5) * 1e3:>8.2f} "
                        f"{pct(lat, 0.99) * 1e3:>8.2f} {failed:>5}",
                        flush=True,
                    )
                ratios[level] = rates["product"] / rates["raw"]
    finally:
        await ingest.stop()
    print("ratio product/raw: " + ", ".join(f"c={lvl}: {r:.2f}" for lvl, r in ratios.items()))
    if 8 in ratios:
        verdict = "meets" if ratios[8] >= 0.5 else "MISSES"
        print(f"target ratio >= 0.5 at concurrency 8: {verdict} ({ratios[8]:.2f})")

    stored = count(engine, InboundMessage)
    print(
        f"stored {stored} messages; ingest stats {ingest.handler.stats.accepted} accepted, "
        f"{ingest.handler.stats.deferred} deferred, {ingest.handler.stats.duplicates} duplicates"
    )
    # end to end: a worker drains what the ingest stored and enqueued
    stop = asyncio.Event()
    started = time.perf_counter()
    worker = asyncio.create_task(
        run_worker_forever(
            settings, engine, redis_url, stop=stop, transport=MaildirTransport(settings.data_dir / "acks")
        )
    )
    done = 0
    deadline = time.monotonic() + e2e_timeout
    try:
        while done < stored and time.monotonic() < deadline:
            done = await asyncio.to_thread(count, engine, Response)
            await asyncio.sleep(0.05)  # polling the condition, not synchronising on time
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        await asyncio.wait_for(worker, 30)
        await pool.aclose()
    print(
        f"end to end (max_jobs={settings.max_jobs}, poll_delay={settings.poll_delay}s): "
        f"{done}/{stored} responses in {elapsed:.1f}s = {done / elapsed:.0f} jobs/s"
        + ("" if done >= stored else f"  (TIMED OUT after {e2e_timeout:.0f}s)")
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600, help="messages per concurrency level")
    ap.add_argument("--levels", default="1,8,32")
    ap.add_argument("--per-conn", type=int, default=20, help="messages per SMTP connection")
    ap.add_argument("--requests", type=int, default=200, help="feedback requests the replies answer")
    ap.add_argument("--database-url", help="PostgreSQL admin URL (default: SQLite in a temp dir)")
    ap.add_argument("--redis-url", help="external Redis, a spare db: it is FLUSHED (default: embedded)")
    ap.add_argument("--e2e-timeout", type=float, default=300.0)
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fb-bench-")))
        db_url = stack.enter_context(postgres_database(args.database_url)) if args.database_url else None
        settings = load_settings(
            {},
            data_dir=tmp,
            database_url=db_url,
            redis_url=args.redis_url,
            secret=secrets.token_hex(32),
            send_since=datetime(2020, 1, 1),
            reply_domain="feedback.localhost",
            outbound="outbox",
            business_time=False,  # send the requests now, whatever the hour of the run
            # every client of the bench comes from 127.0.0.1, like one relay in front
            max_connections_per_address=max(levels) + 8,
        )
        engine = make_engine(settings.resolved_database_url)
        stack.callback(engine.dispose)
        upgrade(engine)
        t0 = time.perf_counter()
        requests = seed_requests(engine, settings, args.requests, tmp / "outbox")
        batches = {lvl: build_replies(requests, args.n, salt=f"c{lvl}") for lvl in levels}
        sizes = [len(m[2]) for b in batches.values() for m in b]
        print(
            f"backend: {engine.dialect.name}, redis: {'external' if args.redis_url else 'embedded'}; "
            f"{len(requests)} requests, {args.n} replies per level "
            f"({min(sizes)}-{max(sizes)} bytes, median {statistics.median(sizes):.0f}), "
            f"{args.per_conn} per connection; setup {time.perf_counter() - t0:.1f}s"
        )
        redis_url = args.redis_url
        if redis_url is None:
            embedded = EmbeddedRedis(tmp).start()
            stack.callback(embedded.stop)
            redis_url = embedded.url
        pool_exec = stack.enter_context(
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        )
        pool_exec.submit(time.sleep, 0).result()  # start the client process before measuring
        asyncio.run(measure(settings, engine, redis_url, batches, args.per_conn, pool_exec, args.e2e_timeout))


if __name__ == "__main__":
    main()
