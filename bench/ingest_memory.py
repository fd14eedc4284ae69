"""Peak memory of the ingest while it accepts big messages, beside raw aiosmtpd.

    python bench/ingest_memory.py [--mb 24] [--senders 8]
    python bench/ingest_memory.py --worker [--mb 24] [--database-url postgresql://...]

Each server runs in its own child process (a fresh heap); the parent sends ``--senders``
messages of ``--mb`` MiB at once (one connection each) with aiosmtplib, then reads the child's
peak RSS growth (VmHWM, reset through /proc/self/clear_refs just before the messages). The bar:
the product's peak stays bounded (bodies are spooled to disk, loaded under a memory budget), not
a multiple of senders x message size.

``--worker``: the worker's peak RSS growth for one big stored reply (plain body, then a base64
attachment) through ``process_batch``, beside the floor of the database driver measured in the
same run: on SQLite, a bare ``UPDATE`` of one field of a row holding the same bytes (SQLite
rewrites the whole row, copying it twice: the floor while the bytes lived in ``inbound_message``)
and of a row whose bytes are in a table of their own (``inbound_raw`` since migration 0025); on
PostgreSQL, a bare ``SELECT raw`` (what reading the whole message would cost the worker).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing as mp
import sys
import tempfile
from pathlib import Path

import aiosmtplib

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MiB = 1024 * 1024


def _status(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _trim() -> None:
    """glibc's ``malloc_trim``: the heap's free memory back to the system (the product's own
    ``raw_bytes.give_back`` is not used, so that the bench measures earlier commits the same way)."""
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def _reset_peak() -> int:
    """Reset VmHWM to the current RSS and return that RSS."""
    Path("/proc/self/clear_refs").write_text("5")
    return _status("VmRSS")


def _child(kind: str, conn: mp.connection.Connection) -> None:
    from aiosmtpd.smtp import SMTP

    from feedback.ingress.smtp import IngestServer
    from feedback.runtime.settings import load_settings
    from feedback.storage.db import make_engine, upgrade

    class Discard:
        async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
            return "250 OK"

    async def main() -> None:
        loop = asyncio.get_running_loop()
        if kind == "raw":
            server = await loop.create_server(
                lambda: SMTP(Discard(), data_size_limit=25 * MiB + MiB), "127.0.0.1", 0
            )
            port = server.sockets[0].getsockname()[1]
        else:
            data = Path(tempfile.mkdtemp())
            settings = load_settings({}, data_dir=data, secret="bench", reply_domain="feedback.localhost")
            engine = make_engine(settings.resolved_database_url)
            upgrade(engine)
            ingest = IngestServer(settings, engine, None)
            _, port = await ingest.start(host="127.0.0.1", port=0)
        base = _reset_peak()
        conn.send(port)
        await loop.run_in_executor(None, conn.recv)  # "report"
        conn.send((base, _status("VmHWM")))

    asyncio.run(main())


async def _send(port: int, size: int, senders: int) -> None:
    body = ("x" * 76 + "\r\n").encode() * (size // 78)

    async def one(i: int) -> None:
        sender, rcpt = "rep@brightline.example", "feedback@feedback.localhost"
        head = f"From: {sender}\r\nTo: {rcpt}\r\nSubject: big {i}\r\n\r\n".encode()
        async with aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=300) as smtp:
            await smtp.sendmail(sender, [rcpt], head + body)

    await asyncio.gather(*(one(i) for i in range(senders)))


def _floor_child(size: int, url: str | None, apart: bool, conn: mp.connection.Connection) -> None:
    """The driver's own cost for a row holding ``size`` bytes (see the module docstring);
    ``apart``: the bytes in a table of their own, the row holding only the state."""
    if url is None:
        import sqlite3

        path = Path(tempfile.mkdtemp()) / "floor.db"
        db = sqlite3.connect(path)
        if apart:
            db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT)")
            db.execute("CREATE TABLE r (id INTEGER PRIMARY KEY REFERENCES t (id), raw BLOB)")
            db.execute("INSERT INTO t VALUES (1, 'received')")
            db.execute("INSERT INTO r VALUES (1, ?)", (b"x" * size,))
        else:
            db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, status TEXT, raw BLOB)")
            db.execute("INSERT INTO t VALUES (1, 'received', ?)", (b"x" * size,))
        db.commit()
        db.close()
        db = sqlite3.connect(path)
        base = _reset_peak()
        db.execute("UPDATE t SET status = 'processed' WHERE id = 1")
        db.commit()
    else:
        import psycopg

        pg = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True)
        pg.execute("CREATE TEMP TABLE t (id int PRIMARY KEY, raw bytea)")
        pg.execute("INSERT INTO t VALUES (1, %s)", (b"x" * size,))
        base = _reset_peak()
        pg.execute("SELECT raw FROM t WHERE id = 1").fetchone()
    conn.send(_status("VmHWM") - base)


def driver_floor(size: int, url: str | None, apart: bool = False) -> int:
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_floor_child, args=(size, url, apart, child))
    proc.start()
    peak: int = parent.recv()
    proc.join()
    return peak


def _worker_child(
    size: int, attachment: bool, url: str | None, warm: bool, conn: mp.connection.Connection
) -> None:
    """Store one big reply, then measure the worker processing it (``services.batch``, no pool).

    ``warm``: the worker processes one small message of the same shape first, so what is
    measured is the big message and not the process's first use (lazy imports, compiled
    statements), as in a worker that has been running.
    """
    from feedback.ingress.store import Incoming, store_batch
    from feedback.runtime.settings import load_settings
    from feedback.services.processing import process_batch
    from feedback.storage.db import make_engine, upgrade
    from feedback.storage.models import utcnow

    data = Path(tempfile.mkdtemp())
    settings = load_settings(
        {"FEEDBACK_DATABASE_URL": url} if url else {},
        data_dir=data,
        secret="bench",
        reply_domain="feedback.localhost",
        analysis_processes=0,
    )
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    sender, rcpt = "rep@brightline.example", "feedback@feedback.localhost"
    if warm:
        small = _message(4096, attachment)
        first = store_batch(
            engine, [Incoming(raw=small, mail_from=sender, rcpt_to=(rcpt,), peer=None, received_at=utcnow())]
        )[0].id
        process_batch(engine, settings, [first])
    raw = _message(size, attachment)
    mid = store_batch(
        engine, [Incoming(raw=raw, mail_from=sender, rcpt_to=(rcpt,), peer=None, received_at=utcnow())]
    )[0].id
    length = len(raw)
    del raw
    import gc

    gc.collect()
    _trim()  # what storing the message freed is not left in the heap for the worker to reuse
    base = _reset_peak()
    out = process_batch(engine, settings, [mid])[mid]
    conn.send((length, base, _status("VmHWM"), str(getattr(out, "status", out))))


def _message(size: int, attachment: bool) -> bytes:
    """A reply of about ``size`` bytes: a plain body, or a short answer and a base64 attachment."""
    import base64
    import secrets as _secrets

    sender, rcpt = "rep@brightline.example", "feedback@feedback.localhost"
    head = f"From: {sender}\r\nTo: {rcpt}\r\nSubject: big\r\nMessage-ID: <{_secrets.token_hex(8)}@x>\r\n"
    if attachment:  # a short answer and a big attachment, base64 as mail clients send it
        blob = base64.encodebytes(_secrets.token_bytes(size * 3 // 4)).replace(b"\n", b"\r\n")
        raw = (
            head.encode() + b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n"
            b"--B\r\nContent-Type: text/plain\r\n\r\nLost on price.\r\n"
            b"--B\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            + blob
            + b"\r\n--B--\r\n"
        )
        return raw
    return head.encode() + b"\r\n" + ("x" * 76 + "\r\n").encode() * (size // 78)


def worker_peak(size: int, attachment: bool, url: str | None, warm: bool) -> tuple[int, int, str]:
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_worker_child, args=(size, attachment, url, warm, child))
    proc.start()
    length, base, peak, status = parent.recv()
    proc.join()
    return length, peak - base, status


def measure(kind: str, size: int, senders: int) -> int:
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(target=_child, args=(kind, child))
    proc.start()
    port = parent.recv()
    asyncio.run(_send(port, size, senders))
    parent.send("report")
    base, peak = parent.recv()
    proc.terminate()
    proc.join()
    return peak - base


def _load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mb", type=float, default=24.0, help="message size in MiB (limit is 25)")
    parser.add_argument("--senders", type=int, default=8, help="messages sent at once")
    parser.add_argument("--worker", action="store_true", help="only the worker's peak for one message")
    parser.add_argument("--database-url", help="--worker on this database (default: a fresh SQLite file)")
    args = parser.parse_args()
    size = int(args.mb * MiB)
    if args.worker:
        url = args.database_url
        print(f"worker on {'PostgreSQL' if url else 'SQLite'}; load average {_load_average()}")
        for attachment in (False, True):
            for warm in (False, True):
                length, peak, status = worker_peak(size, attachment, url, warm)
                what = "base64 attachment" if attachment else "plain text body"
                when = "after one small message" if warm else "fresh process"
                print(
                    f"worker, one {length / MiB:.1f} MiB message ({what}, {when}): peak RSS growth "
                    f"{peak / MiB:.1f} MiB = {peak / length:.2f}x its size (target <= 2x); {status}"
                )
        floors = [(False, "bare SELECT of the whole message")]
        if url is None:
            floors = [
                (False, "bare UPDATE of one field of its row"),
                (True, "bare UPDATE of one field of its row, its bytes in a table of their own"),
            ]
        for apart, what in floors:
            floor = driver_floor(size, url, apart)
            print(
                f"driver alone, a {what}: peak RSS growth {floor / MiB:.1f} MiB = {floor / size:.2f}x "
                f"the {size / MiB:.1f} MiB"
            )
        return
    raw = measure("raw", size, args.senders)
    product = measure("product", size, args.senders)
    total = size * args.senders
    print(f"{args.senders} concurrent message(s) of {size / MiB:.1f} MiB ({total / MiB:.0f} MiB in all)")
    print(f"raw aiosmtpd peak RSS growth : {raw / MiB:7.1f} MiB ({raw / total:.2f}x the bytes sent)")
    print(f"product ingest peak growth   : {product / MiB:7.1f} MiB ({product / total:.2f}x the bytes sent)")
    print(f"product / raw                : {product / max(raw, 1):.2f}")


if __name__ == "__main__":
    main()
