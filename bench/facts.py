"""What keeping the report facts costs each answer the worker writes, three ways in one run.

    python bench/facts.py [--n 600] [--batch 100] [--backends sqlite,postgresql]
                          [--database-url postgresql://postgres@127.0.0.1:5432/postgres]

Per backend: ``--n`` requests are seeded and one reply each stored, in three databases made the
same way, one per mode:

- ``row triggers`` (before migration 0022's use): the batch does not defer the facts
  (``fact_upkeep.defer``/``refresh`` replaced by no-ops in this process only), so the row
  triggers recompute each request's facts on every write, as they did before;
- ``deferred`` (the product): the batch defers the triggers and recomputes its requests' facts
  in four set-based statements before its commit (``feedback/storage/fact_upkeep.py``);
- ``deferred, no SLA rollup``: as ``deferred``, with the SLA rollup's triggers (migration 0030)
  dropped (SQLite) or disabled (PostgreSQL): what that rollup adds to each answer's write;
- ``deferred, no hours rollup``: as ``deferred``, with the hours buckets' triggers (migration
  0031) off: what they add;
- ``deferred, no rollup``: as ``deferred``, with every rollup's triggers (0027, 0030, 0031) off;
- ``no facts``: the triggers dropped (SQLite) or disabled (PostgreSQL) and nothing recomputed:
  the write's floor.

The same replies are then processed in batches of ``--batch`` by ``services.batch.process_batch``
(no analysis pool), and the time spent in its write transaction (``_write``: requests,
responses, reasons, messages, facts) is summed. Printed: write ms per answer in each mode (with
``--rounds R`` the modes run in turn R times, every round printed, the best of each kept) and
the facts' share of the write. The PostgreSQL databases (``fb_facts_<random>``) are dropped.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ingest as ingest_bench  # bench/ingest.py: seeding and reply building
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from feedback.ingress.store import Incoming, store_batch
from feedback.runtime.settings import Settings, load_settings
from feedback.services import batch
from feedback.storage import fact_upkeep
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import utcnow

TABLES = ("response", "response_reason", "feedback_request", "report_fact", "lead", "deal", "rep")


def without_triggers(engine: Engine) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            names = [
                r[0] for r in conn.exec_driver_sql("SELECT name FROM sqlite_master WHERE type='trigger'")
            ]
            for name in names:
                conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
        else:
            for table in TABLES:
                conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")


ROLLUP_TRIGGERS = {
    "0027": [
        ("report_fact", "report_fact_rollup_on"),
        ("report_reason_fact", "report_reason_fact_rollup_on"),
    ],
    "0030": [("report_fact", "report_fact_sla_rollup_on")],
    "0031": [("report_fact", "report_fact_hours_rollup_on")],
}
"""Each migration's rollup triggers: (table, name without the ``_<event>``)."""


def without_rollup(engine: Engine, *migrations: str) -> None:
    """The rollup triggers of ``migrations`` (0027's report rollup, 0030's SLA rollup, 0031's
    hours buckets) off: the
    facts' write as it was before them."""
    with engine.begin() as conn:
        for migration in migrations:
            for table, prefix in ROLLUP_TRIGGERS[migration]:
                for event in ("insert", "delete", "update"):
                    if engine.dialect.name == "sqlite":
                        conn.exec_driver_sql(f'DROP TRIGGER "{prefix}_{event}"')
                    else:
                        conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {prefix}_{event}")


def measure(engine: Engine, settings: Settings, n: int, size: int, root: Path) -> float:
    """Seconds spent in the batch write per answer."""
    upgrade(engine)
    requests = ingest_bench.seed_requests(engine, settings, n, root / "outbox")
    replies = ingest_bench.build_replies(requests, n, salt=secrets.token_hex(3))
    items = [
        Incoming(raw=r, mail_from=f, rcpt_to=(t,), peer=None, received_at=utcnow()) for f, t, r in replies
    ]
    ids = [s.id for s in store_batch(engine, items)]
    spent = 0.0
    written = 0
    original: Callable[..., Any] = batch._write

    def timed(*args: Any, **kwargs: Any) -> Any:
        nonlocal spent, written
        t0 = time.perf_counter()
        out = original(*args, **kwargs)
        spent += time.perf_counter() - t0
        written += len(out[0])
        return out

    batch._write = timed  # type: ignore[assignment]
    try:
        for start in range(0, len(ids), size):
            batch.process_batch(engine, settings, ids[start : start + size])
    finally:
        batch._write = original  # type: ignore[assignment]
    return spent / max(written, 1)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=600)
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--backends", default="sqlite,postgresql")
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--rounds", type=int, default=1, help="the modes in turn, this many times")
    args = ap.parse_args()
    modes = (
        "row triggers", "deferred", "deferred, no hours rollup", "deferred, no SLA rollup",
        "deferred, no rollup", "no facts",
    )  # fmt: skip
    for backend in args.backends.split(","):
        runs: dict[str, list[float]] = {label: [] for label in modes}
        for label in [m for _ in range(args.rounds) for m in modes]:
            with tempfile.TemporaryDirectory(prefix="fb-facts-") as tmp:
                root = Path(tmp)
                admin = None
                url = None
                if backend == "postgresql":
                    base = make_url(args.database_url).set(drivername="postgresql+psycopg")
                    name = f"fb_facts_{secrets.token_hex(4)}"
                    admin = create_engine(base, isolation_level="AUTOCOMMIT")
                    with admin.connect() as conn:
                        conn.execute(text(f'CREATE DATABASE "{name}"'))
                    url = base.set(database=name).render_as_string(hide_password=False)
                settings = load_settings(
                    {},
                    data_dir=root,
                    database_url=url,
                    secret=secrets.token_hex(32),
                    send_since=datetime(2020, 1, 1),
                    reply_domain="feedback.localhost",
                    outbound="outbox",
                    business_time=False,
                    daily_cap_per_rep=50,
                    analysis_processes=0,
                )
                engine = make_engine(settings.resolved_database_url)
                defer, refresh = fact_upkeep.defer, fact_upkeep.refresh
                try:
                    upgrade(engine)
                    if label == "no facts":
                        without_triggers(engine)
                    if label == "deferred, no rollup":
                        without_rollup(engine, "0027", "0030", "0031")
                    if label == "deferred, no hours rollup":
                        without_rollup(engine, "0031")
                    if label == "deferred, no SLA rollup":
                        without_rollup(engine, "0030")
                    if not label.startswith("deferred"):
                        fact_upkeep.defer = lambda conn: None  # type: ignore[assignment]
                        fact_upkeep.refresh = lambda conn, ids: None  # type: ignore[assignment]
                    runs[label].append(measure(engine, settings, args.n, args.batch, root))
                finally:
                    fact_upkeep.defer, fact_upkeep.refresh = defer, refresh  # type: ignore[method-assign]
                    engine.dispose()
                    if admin is not None:
                        with admin.connect() as conn:
                            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                        admin.dispose()
        figures = {label: min(found) for label, found in runs.items()}  # the least disturbed run
        if args.rounds > 1:
            each = "; ".join(f"{k} " + " ".join(f"{v * 1e3:.2f}" for v in found) for k, found in runs.items())
            print(f"{backend}: every round, ms/answer: {each}", flush=True)
        off = figures["no facts"]
        shown = ", ".join(
            f"{label} {figures[label] * 1e3:.2f} ms/answer"
            + ("" if label == "no facts" else f" (facts {(figures[label] - off) / figures[label]:.0%})")
            for label in modes
        )
        print(f"{backend}: batch write: {shown}; {args.n} answers, batches of {args.batch}", flush=True)
        for without, what in (
            ("deferred, no rollup", "the rollups (0027, 0030, 0031)"),
            ("deferred, no hours rollup", "the hours buckets (0031)"),
            ("deferred, no SLA rollup", "the SLA rollup (0030)"),
        ):
            plain = figures[without]
            print(
                f"{backend}: {what} add {(figures['deferred'] - plain) * 1e3:.2f} ms/answer "
                f"({figures['deferred'] / plain - 1:+.0%} on the deferred write)",
                flush=True,
            )


if __name__ == "__main__":
    main()
