"""The worker on large stored messages: only what the parser reads is read, the answer is the one
a small message with the same reply gets, and at most 2x the message is resident in the worker
(real SQLite or PostgreSQL)."""

from __future__ import annotations

import asyncio
import base64
import multiprocessing as mp
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.store import Incoming, store_batch
from feedback.mail.parse import MAX_BYTES
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.batch import READ_WHOLE
from feedback.services.processing import process_batch
from feedback.storage import raw_bytes
from feedback.storage.models import FeedbackRequest, Lead, Rep, Response, utcnow
from feedback.storage.raw_bytes import read_start

MiB = 1024 * 1024


@pytest.fixture
def sent(engine: Engine, settings: Settings, tmp_path: Path) -> tuple[Settings, list[FeedbackRequest]]:
    """One rep and two sent disposition requests."""
    with Session(engine) as s:
        rep = Rep(email="dana@brightline.example", name="Dana Whitfield")
        s.add(rep)
        s.commit()
        for crm_id, name in (("L1", "Peter Hoffmann"), ("L2", "Ana Ruiz")):
            s.add(
                Lead(
                    crm_id=crm_id,
                    name=name,
                    company="Globex",
                    rep_id=rep.id,
                    assigned_at=utcnow() - timedelta(hours=1),
                )
            )
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    result = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    assert result.sent == 2
    with Session(engine) as s:
        return settings, list(s.exec(select(FeedbackRequest).order_by(FeedbackRequest.id)).all())  # type: ignore[arg-type]


def _reply(request: FeedbackRequest, settings: Settings, attachment: int) -> bytes:
    """A rep's answer with a PDF of ``attachment`` bytes, base64 as mail clients send it."""
    head = (
        f"From: Dana <dana@brightline.example>\r\nTo: feedback+{request.token}@{settings.reply_domain}\r\n"
        f"Subject: Re: lead\r\nMessage-ID: <{request.id}-{attachment}@brightline.example>\r\n"
        f"In-Reply-To: {request.message_id}\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=B\r\n\r\n"
    ).encode()
    return (
        head + b"--B\r\nContent-Type: text/plain\r\n\r\nRejected, no budget this year.\r\n"
        b"--B\r\nContent-Type: application/pdf\r\nContent-Transfer-Encoding: base64\r\n"
        b"Content-Disposition: attachment; filename=quote.pdf\r\n\r\n"
        + base64.encodebytes(b"%PDF" * (attachment // 4)).replace(b"\n", b"\r\n")
        + b"\r\n--B--\r\n"
    )


def _store(engine: Engine, raw: bytes, rcpt: str) -> int:
    incoming = Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer="127.0.0.1", received_at=utcnow())
    return store_batch(engine, [incoming])[0].id


def test_a_large_reply_is_answered_as_a_small_one(
    engine: Engine, sent: tuple[Settings, list[FeedbackRequest]]
) -> None:
    settings, (small_req, large_req) = sent
    rcpt = f"feedback@{settings.reply_domain}"
    small = _store(engine, _reply(small_req, settings, 4096), rcpt)
    raw = _reply(large_req, settings, 6 * MiB)
    assert len(raw) > MAX_BYTES  # past what the parser reads: the worker reads its start only
    large = _store(engine, raw, rcpt)
    out = process_batch(engine, settings, [small, large])
    assert [out[small].status, out[large].status] == ["processed", "processed"]
    with Session(engine) as s:
        answers = {r.request_id: r for r in s.exec(select(Response)).all()}
        for req in (small_req, large_req):
            assert answers[req.id or 0].reply_text == "Rejected, no budget this year."
        assert answers[large_req.id or 0].outcome == answers[small_req.id or 0].outcome is not None
        assert raw_bytes.read(s.connection(), large) == raw  # stored bytes untouched


def test_read_start_reads_the_first_bytes_only(engine: Engine) -> None:
    raw = b"From: a@b.example\r\n\r\n" + bytes(range(256)) * (READ_WHOLE // 128)
    mid = _store(engine, raw, "feedback@feedback.localhost")
    with engine.connect() as conn:
        assert read_start(conn, mid, 1000) == raw[:1000]
        assert read_start(conn, mid, len(raw) + 10) == raw
    with engine.begin() as conn:
        assert raw_bytes.drop(conn, [mid]) == 1
    with engine.connect() as conn:
        assert read_start(conn, mid, 1000) is None  # purged
        assert read_start(conn, mid + 1000, 1000) is None  # no such message


def _worker_peak(url: str, size: int, data: str, conn: Connection) -> None:
    """In a fresh process: store one ``size``-byte reply, then the worker's peak RSS growth (VmHWM,
    reset through /proc/self/clear_refs) while ``process_batch`` handles it, as the bench does."""
    import ctypes
    import ctypes.util
    import gc

    from feedback.runtime.settings import load_settings
    from feedback.storage.db import make_engine

    def status(field: str) -> int:
        lines = Path("/proc/self/status").read_text().splitlines()
        return next(int(line.split()[1]) * 1024 for line in lines if line.startswith(field + ":"))

    settings = load_settings(
        {},
        data_dir=Path(data),
        database_url=url,
        secret="test-secret",
        reply_domain="feedback.localhost",
        analysis_processes=0,
    )
    engine = make_engine(url)
    head = b"From: rep@brightline.example\r\nTo: feedback@feedback.localhost\r\nSubject: big\r\n\r\n"
    raw = head + b"Lost on price.\r\n" + (b"x" * 76 + b"\r\n") * (size // 78)
    mid = _store(engine, raw, "feedback@feedback.localhost")
    del raw
    gc.collect()
    ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)  # the store's free memory is not reused
    Path("/proc/self/clear_refs").write_text("5")
    base = status("VmRSS")
    out = process_batch(engine, settings, [mid])[mid]
    conn.send((status("VmHWM") - base, str(getattr(out, "status", out))))
    engine.dispose()


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux /proc peak RSS")
def test_a_large_message_costs_the_worker_under_twice_its_size(
    engine: Engine, database_url: str, tmp_path: Path
) -> None:
    """Issue 20 item 5: decoded once, at most 2x its size resident (``bench/ingest_memory.py
    --worker`` prints the figures). Counting the attempt and storing the outcome update the message's
    row; its bytes are not in it, so SQLite no longer copies them twice (2.0x before 0025)."""
    size = 24 * MiB
    parent, child = mp.Pipe()
    proc = mp.get_context("spawn").Process(
        target=_worker_peak, args=(database_url, size, str(tmp_path), child)
    )
    proc.start()
    peak, status = parent.recv()
    proc.join()
    assert status == "unmatched"  # no token: read, parsed, recorded
    assert peak < 2 * size, f"peak RSS growth {peak / MiB:.1f} MiB for a {size / MiB:.0f} MiB message"
