"""End to end: replies through real SMTP into the running service until each has its outcome.

    python bench/e2e.py [--n 2000] [--levels 1,8,32] [--offered 200] [--backends sqlite,postgresql]
                        [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                        [--redis-url redis://127.0.0.1:6379/10] [--workers 1] [--before REF]

Per backend, ``--n`` feedback requests are seeded once (reps, leads, requests rendered and "sent"
into a Maildir outbox) and ``--n`` replies built from them, one per request (3-6 KB, the quoted
request below the answer, like a mail client writes it). Every phase then runs on a fresh copy of
that seeded database (a file copy on SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL), so
every RCPT is a real database lookup of a distinct request and every reply its first answer.

* **sqlite**: ``feedback serve`` (embedded SQLite + embedded Redis, worker in the process);
* **postgresql**: ``feedback serve --no-worker`` + ``--workers`` ``feedback worker`` processes on a
  database ``fb_e2e_<random>`` created from ``--database-url`` (an admin URL; every database made
  here is dropped at the end) and ``--redis-url`` (a spare database number: it is FLUSHED).

The services are the real CLI in their own processes; the SMTP client runs in another process.
Phases, each printed beside the baselines of the same run:

* ``noop``: arq draining ``--n`` no-op jobs with the service's own tuning (``max_jobs``,
  ``poll_delay``) on the same Redis: the ceiling of any worker on this machine right now;
* ``c=K``: the replies at K connections, as fast as the service accepts them: accepted/s,
  processed/s (first send to last outcome), accept -> processed p50/p99 (the client's 250 to the
  message's ``processed_at``), and processed/s as a ratio of the no-op drain;
* ``ingest alone c=8``: ``serve --no-worker`` with nothing consuming, for the ratio of the ingest
  under ``serve`` (with its worker) to the ingest alone;
* ``offered R/s``: the replies paced at ``--offered`` per second over 8 connections (an open
  loop: a late reply does not delay the next one), for the latency at a load below capacity.

``--before REF`` runs every phase twice, in turn: the services with the code of git commit REF
(``git archive`` into the run's directory, first on their ``PYTHONPATH``), then with this tree's;
so a change's figures come with the earlier code's, measured minutes apart under the same load.
REF must have this tree's newest migration (the phases share one seeded database).

Not part of ``make test``: it takes minutes and its figures are only meaningful beside their
same-run baselines (the machine is shared).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import aiosmtplib
import ingest as ingest_bench  # bench/ingest.py: seeding and reply building
from arq.connections import ArqRedis, create_pool
from arq.worker import Worker, func
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from feedback.runtime.queue import close_pool, redis_settings
from feedback.runtime.redis_embedded import EmbeddedRedis
from feedback.runtime.settings import Settings, load_settings
from feedback.storage.db import make_engine, upgrade

Envelope3 = tuple[str, str, bytes]
FINAL = ("processed", "ignored", "quarantined", "unmatched", "failed")
REPO = Path(__file__).resolve().parent.parent
CODE_ROOT = REPO  # the code the services run: this tree, or --before's extracted commit


# -- the client (a process of its own) -------------------------------------------------------------


def run_client(
    host: str, port: int, messages: list[Envelope3], concurrency: int, per_conn: int, rate: float | None
) -> tuple[float, float, dict[int, float], int]:
    """Send ``messages``; (wall start, elapsed s, index -> wall time of its 250, failures)."""
    return asyncio.run(_client(host, port, messages, concurrency, per_conn, rate))


async def _client(
    host: str, port: int, messages: list[Envelope3], concurrency: int, per_conn: int, rate: float | None
) -> tuple[float, float, dict[int, float], int]:
    next_index = 0
    accepted: dict[int, float] = {}
    failures = 0
    wall0, t0 = time.time(), time.perf_counter()

    def take() -> int | None:
        nonlocal next_index
        if next_index >= len(messages):
            return None
        next_index += 1
        return next_index - 1

    async def connection() -> None:
        nonlocal failures
        while next_index < len(messages):
            async with aiosmtplib.SMTP(hostname=host, port=port, timeout=120) as smtp:
                for _ in range(per_conn):
                    i = take()
                    if i is None:
                        return
                    if rate:  # open loop: message i leaves at i / rate, whatever came before
                        delay = t0 + i / rate - time.perf_counter()
                        if delay > 0:
                            await asyncio.sleep(delay)
                    mail_from, rcpt, raw = messages[i]
                    try:
                        await smtp.sendmail(mail_from, [rcpt], raw)
                    except aiosmtplib.SMTPException as exc:
                        failures += 1
                        if failures == 1:
                            print(f"first refusal: {exc}", file=sys.stderr, flush=True)
                        continue
                    accepted[i] = time.time()

    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return wall0, time.perf_counter() - t0, accepted, failures


# -- the services under test (real CLI processes) ----------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ``--facts row-triggers``: the services as before migration 0022's use (the batch write does not
# defer the report facts; the row triggers follow each write), switched in this bench only
ROW_TRIGGERS = (
    "import sys; from feedback.storage import fact_upkeep as f; "
    "f.defer = lambda conn: None; f.refresh = lambda conn, ids: None; "
    "sys.argv[0] = 'feedback'; from cli.main import run; run()"
)
FACTS_MODE = "deferred"


def _entry() -> list[str]:
    return ["-c", ROW_TRIGGERS] if FACTS_MODE == "row-triggers" else ["-m", "cli.main"]


@dataclass
class Services:
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str], cwd: Path, name: str) -> None:
        log = cwd / f"{name}.log"
        fh = log.open("wb")
        self.procs.append(
            subprocess.Popen(
                [sys.executable, *_entry(), *args],
                env=env,
                cwd=cwd,
                stdout=fh,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
        self.logs.append(log)

    def check(self) -> None:
        for proc, log in zip(self.procs, self.logs, strict=True):
            if proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise SystemExit(f"{log.name}: exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def wait_for_smtp(port: int, services: Services, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        services.check()
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 1) as s:
            if s.recv(100).startswith(b"220"):
                return
        time.sleep(0.1)
    raise SystemExit(f"the SMTP ingest did not answer on port {port} within {timeout:.0f}s")


def service_env(settings: Settings, data_dir: Path, port: int, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FEEDBACK_")}
    assert settings.secret is not None
    env.update(
        FEEDBACK_DATA_DIR=str(data_dir),
        FEEDBACK_SECRET=settings.secret.get_secret_value(),
        FEEDBACK_REPLY_DOMAIN=settings.reply_domain,
        FEEDBACK_SEND_SINCE="2020-01-01T00:00:00",
        FEEDBACK_OUTBOUND="outbox",
        FEEDBACK_AUTO_SEND="false",
        FEEDBACK_BUSINESS_TIME="false",
        FEEDBACK_SMTP_PORT=str(port),
        FEEDBACK_MAX_CONNECTIONS_PER_ADDRESS="64",
        PYTHONPATH=str(CODE_ROOT),
    )
    if database_url:
        env["FEEDBACK_DATABASE_URL"] = database_url
    env["FEEDBACK_ANALYSIS_PROCESSES"] = str(settings.analysis_processes)
    if settings.redis_url:
        env["FEEDBACK_REDIS_URL"] = settings.redis_url
    return env


# -- databases: one seeded, a fresh copy per phase ---------------------------------------------------


class Backend:
    """A seeded database and fresh copies of it, one per phase."""

    name: str
    root: Path

    def copy(self, label: str) -> tuple[str, Path]:
        raise NotImplementedError

    def drop(self, url: str) -> None:
        raise NotImplementedError


class SqliteBackend(Backend):
    name = "sqlite"

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seed_dir = root / "seed"
        # the file name ``serve`` uses under its data dir when no database_url is set
        default = load_settings({}, data_dir=self.seed_dir).resolved_database_url
        self.file = Path(str(make_url(default).database)).name

    def seed_url(self) -> str:
        return f"sqlite:///{self.seed_dir / self.file}"

    def copy(self, label: str) -> tuple[str, Path]:
        data = self.root / label
        data.mkdir()
        shutil.copy(self.seed_dir / self.file, data / self.file)
        return f"sqlite:///{data / self.file}", data

    def drop(self, url: str) -> None:
        pass  # the temp dir goes at the end


class PostgresBackend(Backend):
    name = "postgresql"

    def __init__(self, admin_url: str, root: Path) -> None:
        url = make_url(admin_url)
        if url.drivername in {"postgresql", "postgres"}:
            url = url.set(drivername="postgresql+psycopg")
        self.url = url
        self.root = root
        self.prefix = f"fb_e2e_{secrets.token_hex(4)}"
        self.admin = create_engine(url, isolation_level="AUTOCOMMIT")
        self.made: list[str] = []

    def _create(self, name: str, template: str | None = None) -> str:
        with self.admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
        self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def seed_url(self) -> str:
        return self._create(f"{self.prefix}_seed")

    def copy(self, label: str) -> tuple[str, Path]:
        data = self.root / label
        data.mkdir()
        return self._create(f"{self.prefix}_{label}", f"{self.prefix}_seed"), data

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with self.admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        if name in self.made:
            self.made.remove(name)

    def close(self) -> None:
        for name in list(self.made):
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self.admin.dispose()


# -- measuring ---------------------------------------------------------------------------------------


@dataclass
class Result:
    label: str
    n: int
    accepted_per_s: float
    processed_per_s: float | None = None
    p50: float | None = None
    p99: float | None = None
    failures: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def outcomes(engine: Engine) -> tuple[int, dict[str, int]]:
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT status, count(*) FROM inbound_message GROUP BY status")).all()
    by = {str(s): int(c) for s, c in rows}
    return sum(c for s, c in by.items() if s in FINAL), by


def processed_times(engine: Engine) -> dict[str, float]:
    """Message-ID -> processed_at as a Unix time."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT message_id, processed_at FROM inbound_message WHERE processed_at IS NOT NULL")
        ).all()
    out: dict[str, float] = {}
    for mid, at in rows:
        when = datetime.fromisoformat(at) if isinstance(at, str) else at
        out[str(mid)] = when.replace(tzinfo=UTC).timestamp()
    return out


def message_ids(messages: list[Envelope3]) -> list[str]:
    parser = BytesHeaderParser()
    return [str(parser.parsebytes(raw)["Message-ID"]).strip() for _, _, raw in messages]


def run_phase(
    backend: Backend,
    settings: Settings,
    messages: list[Envelope3],
    mids: list[str],
    *,
    label: str,
    concurrency: int,
    per_conn: int,
    rate: float | None,
    worker: str,  # "in-serve" | "processes" | "none"
    workers: int,
    client: ProcessPoolExecutor,
    timeout: float,
) -> Result:
    url, data = backend.copy("phase" + secrets.token_hex(3))
    port = free_port()
    services = Services()
    env = service_env(settings, data, port, None if backend.name == "sqlite" else url)
    engine = make_engine(url, pool_size=1)
    try:
        if settings.redis_url:
            asyncio.run(flush(settings.redis_url))
        services.start(["serve", *([] if worker == "in-serve" else ["--no-worker"])], env, data, "serve")
        if worker == "processes":
            for k in range(workers):
                services.start(["worker"], env, data, f"worker{k}")
        wait_for_smtp(port, services)
        wall0, elapsed, accepted, failures = client.submit(
            run_client, "127.0.0.1", port, messages, concurrency, per_conn, rate
        ).result()
        result = Result(label, len(messages), len(accepted) / elapsed, failures=failures)
        if worker == "none":
            result.statuses = outcomes(engine)[1]
            return result
        deadline = time.monotonic() + timeout
        done, by = outcomes(engine)
        while done < len(accepted) and time.monotonic() < deadline:
            services.check()
            time.sleep(0.2)  # polling the database for the outcome, not synchronising on time
            done, by = outcomes(engine)
        result.statuses = by
        finished = processed_times(engine)
        lat = [finished[mids[i]] - at for i, at in accepted.items() if mids[i] in finished]
        if lat:
            last = max(finished[mids[i]] for i in accepted if mids[i] in finished)
            result.processed_per_s = len(lat) / max(last - wall0, 1e-9)
            result.p50, result.p99 = pct(lat, 0.5), pct(lat, 0.99)
        if done < len(accepted):
            result.label += f" (TIMED OUT: {done}/{len(accepted)})"
        return result
    finally:
        services.stop()
        engine.dispose()
        backend.drop(url)


async def noop(ctx: dict[str, object], i: int) -> None:
    return None


async def flush(redis_url: str) -> None:
    pool = await create_pool(redis_settings(redis_url))
    await pool.flushdb()
    await close_pool(pool)


async def noop_drain(redis_url: str, n: int, settings: Settings) -> float:
    """Jobs/s arq drains with a no-op job and the service's tuning (the same Redis)."""
    queue = "bench:noop"
    pool: ArqRedis = await create_pool(redis_settings(redis_url), default_queue_name=queue)
    await pool.flushdb()
    for start in range(0, n, 500):
        await asyncio.gather(*(pool.enqueue_job("noop", i) for i in range(start, min(n, start + 500))))
    worker = Worker(
        functions=[func(noop, name="noop")],  # type: ignore[arg-type]
        redis_settings=redis_settings(redis_url),
        queue_name=queue,
        burst=True,
        max_jobs=settings.max_jobs,
        poll_delay=settings.poll_delay,
        handle_signals=False,
        keep_result=0,
        log_results=False,
    )
    t0 = time.perf_counter()
    await worker.async_run()
    elapsed = time.perf_counter() - t0
    await worker.close()
    await pool.flushdb()
    await close_pool(pool)
    return n / elapsed


def fmt(v: float | None, scale: float = 1.0, spec: str = ".0f") -> str:
    return "-" if v is None else format(v * scale, spec)


def report(backend: str, noop_rate: float, results: list[Result]) -> None:
    print(f"\n== {backend}: arq no-op drain {noop_rate:.0f} jobs/s (the same run's ceiling)")
    print(
        f"{'phase':<34} {'n':>5} {'acc/s':>7} {'proc/s':>7} {'p50 s':>7} {'p99 s':>7} "
        f"{'/noop':>6} {'fail':>4}  outcomes"
    )
    for r in results:
        ratio = None if r.processed_per_s is None else r.processed_per_s / noop_rate
        print(
            f"{r.label:<34} {r.n:>5} {r.accepted_per_s:>7.0f} {fmt(r.processed_per_s):>7} "
            f"{fmt(r.p50, spec='.2f'):>7} {fmt(r.p99, spec='.2f'):>7} {fmt(ratio, spec='.3f'):>6} "
            f"{r.failures:>4}  {', '.join(f'{k} {v}' for k, v in sorted(r.statuses.items()))}"
        )
    tags = sorted({r.label.rpartition(" [")[2][:-1] for r in results if r.label.endswith("]")}) or [""]
    for tag in tags:  # one ratio per code version (--before) or facts mode (--facts both)
        mine = [r for r in results if not tag or r.label.endswith(f" [{tag}]")]
        alone = next((r for r in mine if r.label.startswith("ingest alone")), None)
        with_worker = next(
            (r for r in mine if r.label.partition(" [")[0] in ("c=8 serve", "c=8 serve (worker inside)")),
            None,
        )
        if alone and with_worker and alone.accepted_per_s > 0:
            ratio = with_worker.accepted_per_s / alone.accepted_per_s
            print(
                f"ingest with its worker / ingest alone at c=8{f' [{tag}]' if tag else ''}: "
                f"{with_worker.accepted_per_s:.0f} / {alone.accepted_per_s:.0f} = {ratio:.2f} (target >= 0.5)"
            )


def run_backend(
    backend: Backend,
    seed_url: str,
    settings: Settings,
    args: argparse.Namespace,
    client: ProcessPoolExecutor,
    redis_url: str,
) -> None:
    t0 = time.perf_counter()
    engine = make_engine(seed_url)
    upgrade(engine)
    requests = ingest_bench.seed_requests(engine, settings, args.n, backend.root / "outbox")
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    messages = ingest_bench.build_replies(requests, args.n, salt=secrets.token_hex(3))
    mids = message_ids(messages)
    sizes = [len(m[2]) for m in messages]
    print(
        f"\n{backend.name}: {args.n} requests seeded, {args.n} replies "
        f"({min(sizes)}-{max(sizes)} bytes, median {statistics.median(sizes):.0f}) "
        f"in {time.perf_counter() - t0:.0f}s",
        flush=True,
    )
    noop_rate = asyncio.run(noop_drain(redis_url, args.n, settings))
    print(f"arq no-op drain: {noop_rate:.0f} jobs/s", flush=True)
    topology = "in-serve" if backend.name == "sqlite" else "processes"
    desc = "serve" if topology == "in-serve" else f"serve --no-worker + {args.workers} worker(s)"
    results: list[Result] = []
    phases: list[tuple[str, int, float | None, str]] = [
        (f"c={c} {desc}", c, None, topology) for c in args.levels
    ]
    if backend.name != "sqlite" and 8 in args.levels:
        phases.append(("c=8 serve (worker inside)", 8, None, "in-serve"))
    phases.append(("ingest alone c=8 (serve --no-worker)", 8, None, "none"))
    if args.offered:
        phases.append((f"offered {args.offered:.0f}/s c=8 {desc}", 8, args.offered, topology))
    if args.before:  # every phase with the earlier code, then with this tree's, in turn
        phases = [
            (f"{label} [{tag}]", conc, rate, worker)
            for label, conc, rate, worker in phases
            for tag in (args.before, "now")
        ]
    modes = ["deferred", "row-triggers"] if args.facts == "both" else [args.facts]
    if len(modes) > 1:  # each phase with a worker once per mode, in turn; the ingest alone once
        phases = [
            (f"{label} [{mode}]", conc, rate, worker)
            for label, conc, rate, worker in phases
            for mode in (modes if worker != "none" else modes[:1])
        ]
    global FACTS_MODE, CODE_ROOT
    for i, (label, conc, rate, worker) in enumerate(phases):
        CODE_ROOT = args.before_root if args.before and f"[{args.before}]" in label else REPO
        FACTS_MODE = (
            "row-triggers" if label.endswith("[row-triggers]") or modes == ["row-triggers"] else "deferred"
        )
        result = run_phase(
            backend,
            settings,
            messages,
            mids,
            label=label,
            concurrency=conc,
            per_conn=args.per_conn,
            rate=rate,
            worker=worker,
            workers=args.workers,
            client=client,
            timeout=args.timeout,
        )
        results.append(result)
        print(
            f"  {label}: {result.accepted_per_s:.0f} accepted/s, "
            f"{fmt(result.processed_per_s)} processed/s, p99 {fmt(result.p99, spec='.2f')} s "
            f"[phase {i + 1}/{len(phases)}]",
            flush=True,
        )
    report(backend.name, noop_rate, results)


def extract(ref: str, into: Path) -> Path:
    """The code of commit ``ref`` in ``into`` (``git archive``); it must share this tree's newest
    migration, since every phase starts from one database seeded by this tree's code."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", ref], capture_output=True, check=False)
    if archive.returncode:
        raise SystemExit(f"--before {ref}: {archive.stderr.decode(errors='replace').strip()}")
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    ask = "from feedback.storage.db import head_revision; print(head_revision())"
    heads = [
        subprocess.run(
            [sys.executable, "-c", ask], env={**os.environ, "PYTHONPATH": str(code)}, cwd=code,
            capture_output=True, text=True, check=True,
        ).stdout.strip()
        for code in (into, REPO)
    ]  # fmt: skip
    if heads[0] != heads[1]:
        raise SystemExit(
            f"--before {ref}: its newest migration is {heads[0]}, this tree's {heads[1]}; pick a commit "
            "with the same schema (the phases share one seeded database)"
        )
    return into


@contextlib.contextmanager
def embedded_redis(root: Path) -> Iterator[str]:
    redis = EmbeddedRedis(root / "noop-redis").start()
    try:
        yield redis.url
    finally:
        redis.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="requests seeded = replies sent per phase")
    ap.add_argument("--levels", default="1,8,32", type=lambda s: [int(x) for x in s.split(",")])
    ap.add_argument("--per-conn", type=int, default=20, help="messages per SMTP connection")
    ap.add_argument("--offered", type=float, default=200.0, help="paced phase, replies/s (0: skip)")
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--redis-url", default="redis://127.0.0.1:6379/10", help="FLUSHED: a spare db")
    ap.add_argument("--workers", type=int, default=1, help="feedback worker processes (PostgreSQL)")
    ap.add_argument(
        "--analysis-processes", type=int, default=None, help="the services' analysis_processes setting"
    )
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the outcomes")
    ap.add_argument(
        "--facts",
        default="deferred",
        help="deferred (the product), row-triggers (before: no deferral), or both, each phase per mode",
    )
    ap.add_argument(
        "--before",
        default=None,
        metavar="REF",
        help="also run every phase with the code of git commit REF (in turn with this tree's)",
    )
    args = ap.parse_args()
    modes = ["deferred", "row-triggers"] if args.facts == "both" else [args.facts]
    for mode in modes:
        if mode not in ("deferred", "row-triggers"):
            raise SystemExit(f"--facts {mode!r}: deferred, row-triggers or both")

    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="fb-e2e-")))
        client = stack.enter_context(
            ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        )
        client.submit(time.sleep, 0).result()  # the client process exists before anything is timed
        args.before_root = extract(args.before, root / "before") if args.before else None
        secret = secrets.token_hex(32)
        for name in args.backends.split(","):
            common = dict(
                secret=secret,
                send_since=datetime(2020, 1, 1),
                reply_domain="feedback.localhost",
                outbound="outbox",
                business_time=False,
                auto_send=False,
                daily_cap_per_rep=50,
            )
            if args.analysis_processes is not None:
                common["analysis_processes"] = args.analysis_processes
            if name == "sqlite":
                sq = SqliteBackend(root / "sqlite")
                sq.root.mkdir()
                settings = load_settings({}, data_dir=sq.seed_dir, **common)
                with embedded_redis(sq.root) as redis_url:
                    run_backend(sq, sq.seed_url(), settings, args, client, redis_url)
            elif name == "postgresql":
                pg_root = root / "postgresql"
                pg_root.mkdir()
                pg = PostgresBackend(args.database_url, pg_root)
                stack.callback(pg.close)
                seed = pg.seed_url()
                settings = load_settings(
                    {}, data_dir=pg_root, database_url=seed, redis_url=args.redis_url, **common
                )
                run_backend(pg, seed, settings, args, client, args.redis_url)
            else:
                raise SystemExit(f"unknown backend {name!r}: sqlite or postgresql")


if __name__ == "__main__":
    main()
