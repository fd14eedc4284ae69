"""Hostile mail through the real SMTP ingest and the worker's job: nothing stuck, no traceback.

    python bench/fuzz_ingest.py [--n 10000] [--seed 14] [--concurrency 16]
                                [--database-url postgresql://postgres@127.0.0.1:5432/test]

Sends ``--n`` messages drawn from hostile families (random bytes, broken MIME, charsets Python
cannot decode, NUL bytes, huge headers, 8-bit and surrogate headers, broken base64/QP, bounces,
auto-replies, strangers, unmatched mail, over-size mail, tampered tokens, duplicates...) over
loopback SMTP to an ``IngestServer`` on a fresh database -- a SQLite file in a temp dir, or a
database ``fb_fuzz_<random>`` created from ``--database-url`` (an admin URL) and dropped at the
end. Then every stored message is processed by the worker's job function
(``workers.jobs.process_job``, with its retries) and the run checks:

* every message was answered: 250 (stored) or refused with an SMTP code; no client error;
* every 250 names a stored message, and every stored message ends in a final state
  (processed, ignored, quarantined, unmatched, or failed with a reason): 0 stuck;
* 0 tracebacks: no log record carrying an exception, no exception escaping a job or the loop.

Prints the figures and exits non-zero when a check fails. ``tests/test_hardening_fuzz.py`` runs
a small version of it on the suite's database.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import collections
import logging
import random
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosmtplib
from arq import Retry
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, select

from feedback.core.tokens import make_token, reply_address
from feedback.ingress.smtp import IngestServer
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings, load_settings
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    Lead,
    MessageStatus,
    Rep,
    RequestStatus,
    utcnow,
)
from workers import jobs

DOMAIN = "feedback.localhost"
FINAL = {s.value for s in jobs.processing.FINAL}
SIZE_LIMIT = 2 * 1024 * 1024
ODD_CHARSETS = [
    "punycode", "undefined", "unknown-8bit", "x-unknown", "idna", "base64", "rot13", "zlib", "utf-7",
    "utf-16", "utf-32", "unicode_escape", "charmap", "x-user-defined", "", "\"", "utf-8'en'", "gb2312",
    "iso-2022-jp", "koi8-r", "windows-1252", "us-ascii", "binary",
]  # fmt: skip
WORDS = [
    "Not a fit, they have no budget this year.",
    "Accepted, meeting booked for Tuesday.",
    "Lost to Contoso, too expensive. Désolé.",
    "Gewonnen! Der Kunde hat unterschrieben. Grüße",
    "Perdido: eligieron otra opción, año sin presupuesto.",
    "1",
    "",
]


@dataclass
class Figures:
    sent: int = 0
    accepted: int = 0  # 250 answers (duplicates included)
    refused: collections.Counter[int] = field(default_factory=collections.Counter)  # SMTP code -> n
    client_errors: list[str] = field(default_factory=list)
    families: collections.Counter[str] = field(default_factory=collections.Counter)
    stored: int = 0
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    stuck: int = 0
    failed_without_reason: int = 0
    missing: int = 0  # a 250 whose id is not stored
    tracebacks: list[str] = field(default_factory=list)
    send_s: float = 0.0
    process_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not (
            self.client_errors or self.stuck or self.failed_without_reason or self.missing or self.tracebacks
        ) and self.sent == self.accepted + sum(self.refused.values())

    def lines(self) -> list[str]:
        return [
            f"sent {self.sent}: 250 {self.accepted}, refused {sum(self.refused.values())} "
            f"({', '.join(f'{c}: {n}' for c, n in sorted(self.refused.items()))}), "
            f"client errors {len(self.client_errors)}",
            "families: " + ", ".join(f"{k} {v}" for k, v in sorted(self.families.items())),
            f"stored {self.stored} distinct: "
            + ", ".join(f"{k} {v}" for k, v in sorted(self.statuses.items())),
            f"stuck {self.stuck}, failed without a reason {self.failed_without_reason}, "
            f"250 without a stored message {self.missing}, tracebacks {len(self.tracebacks)}",
            f"send {self.send_s:.1f} s ({self.sent / max(self.send_s, 1e-9):.0f} msg/s), "
            f"process {self.process_s:.1f} s ({self.stored / max(self.process_s, 1e-9):.0f} msg/s)",
        ]


# --- hostile messages -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    family: str
    sender: str
    rcpts: tuple[str, ...]
    raw: bytes


def _head(rng: random.Random, sender: str, rcpt: str, extra: str = "", ctype: str = "") -> str:
    return (
        f"From: Rep <{sender}>\r\nTo: {rcpt}\r\nSubject: Re: What happened to lead {rng.randint(1, 999)}?\r\n"
        f"Message-ID: <{secrets.token_hex(8)}@fuzz.example>\r\n{extra}"
        f"MIME-Version: 1.0\r\n{ctype or 'Content-Type: text/plain; charset=utf-8'}\r\n"
    )


def _junk(rng: random.Random, n: int) -> bytes:
    return bytes(rng.getrandbits(8) for _ in range(n))


class Generator:
    """Deterministic hostile mail for ``seed``, addressed to real requests of ``targets``."""

    def __init__(self, seed: int, targets: list[tuple[str, str]], secret: bytes) -> None:
        self.rng = random.Random(seed)
        self.targets = targets
        self.secret = secret
        self.sent: list[Mail] = []
        self.families: list[tuple[str, Callable[[str, str], Mail]]] = [
            (name[4:], getattr(self, name)) for name in sorted(dir(self)) if name.startswith("fam_")
        ]

    def next(self) -> Mail:
        rep, rcpt = self.rng.choice(self.targets)
        _, make = self.rng.choice(self.families)
        mail = make(rep, rcpt)
        self.sent.append(mail)
        return mail

    def _mail(self, family: str, sender: str, rcpt: str, raw: bytes) -> Mail:
        return Mail(family, sender, (rcpt,), raw)

    def fam_reply(self, rep: str, rcpt: str) -> Mail:
        text = self.rng.choice(WORDS)
        return self._mail("reply", rep, rcpt, (_head(self.rng, rep, rcpt) + f"\r\n{text}\r\n").encode())

    def fam_random_bytes(self, rep: str, rcpt: str) -> Mail:
        return self._mail("random_bytes", rep, rcpt, _junk(self.rng, self.rng.randint(0, 6000)))

    def fam_random_body(self, rep: str, rcpt: str) -> Mail:
        head = _head(
            self.rng,
            rep,
            rcpt,
            ctype=self.rng.choice(["Content-Type: text/plain", "Content-Type: text/html"]),
        )
        return self._mail(
            "random_body", rep, rcpt, head.encode() + b"\r\n" + _junk(self.rng, self.rng.randint(1, 8000))
        )

    def fam_bad_charset(self, rep: str, rcpt: str) -> Mail:
        label = self.rng.choice(
            [*ODD_CHARSETS, "".join(self.rng.choice("abcdefxyz-_0189") for _ in range(8))]
        )
        text = self.rng.choice(WORDS)
        encoding = self.rng.choice(["utf-8", "latin-1", "utf-16-le", "utf-16", "cp1252"])
        body = text.encode(encoding, "replace") + "\r\n".encode(encoding if "16" in encoding else "ascii")
        cte = self.rng.choice(["8bit", "base64", "quoted-printable", "7bit", "x-uuencode", "bogus"])
        if cte == "base64":
            body = base64.encodebytes(body)
        head = _head(
            self.rng,
            rep,
            rcpt,
            f"Content-Transfer-Encoding: {cte}\r\n",
            f'Content-Type: text/plain; charset="{label}"',
        )
        return self._mail("bad_charset", rep, rcpt, head.encode() + b"\r\n" + body)

    def fam_nul(self, rep: str, rcpt: str) -> Mail:
        raw = (_head(self.rng, rep, rcpt) + "\r\nNot a fit, no budget.\r\n").encode()
        where = self.rng.choice([b"Message-ID: <", b"Subject: Re", b"From: Rep", b"Not a fit", b"\r\n\r\n"])
        raw = raw.replace(where, where + b"\x00" * self.rng.randint(1, 3), 1)
        if self.rng.random() < 0.3:  # UTF-16 text under an 8-bit label
            raw = (
                raw.split(b"\r\n\r\n")[0]
                + b"\r\n\r\n"
                + "Lost to Contoso, too expensive.\r\n".encode("utf-16-le")
            )
            raw = raw.replace(b"charset=utf-8", b"charset=windows-1252")
        return self._mail("nul", rep, rcpt, raw)

    def fam_huge_header(self, rep: str, rcpt: str) -> Mail:
        if self.rng.random() < 0.5:
            extra = f"X-Long: {'a' * self.rng.randint(10_000, 300_000)}\r\n"
        else:
            extra = "".join(f"X-H{i}: {'v' * 50}\r\n" for i in range(self.rng.randint(1000, 8000)))
        return self._mail(
            "huge_header", rep, rcpt, (_head(self.rng, rep, rcpt, extra) + "\r\nAccepted.\r\n").encode()
        )

    def fam_eight_bit_headers(self, rep: str, rcpt: str) -> Mail:
        raw = (_head(self.rng, rep, rcpt) + "\r\nWon it.\r\n").encode()
        junk = _junk(self.rng, self.rng.randint(1, 40)).replace(b"\r", b"").replace(b"\n", b"")
        where = self.rng.choice([b"From: Rep", b"Subject: Re", b"Message-ID: <", b"To: "])
        return self._mail("eight_bit_headers", rep, rcpt, raw.replace(where, where + junk, 1))

    def fam_encoded_words(self, rep: str, rcpt: str) -> Mail:
        label = self.rng.choice(ODD_CHARSETS) or "x"
        word = f"=?{label}?{self.rng.choice('BQbqX')}?{base64.b64encode(_junk(self.rng, 12)).decode()}?="
        raw = (_head(self.rng, rep, rcpt) + "\r\nRejected.\r\n").encode()
        raw = raw.replace(b"From: Rep", f"From: {word}".encode()).replace(
            b"Subject: Re:", f"Subject: {word}".encode()
        )
        return self._mail("encoded_words", rep, rcpt, raw)

    def fam_broken_mime(self, rep: str, rcpt: str) -> Mail:
        kind = self.rng.randrange(6)
        if kind == 0:  # no boundary parameter
            ctype, body = "Content-Type: multipart/mixed", "--x\r\n\r\nhello\r\n--x--\r\n"
        elif kind == 1:  # unterminated, boundary never seen
            ctype, body = (
                'Content-Type: multipart/alternative; boundary="zz"',
                "--yy\r\nContent-Type: text/plain\r\n\r\nhi",
            )
        elif kind == 2:  # deep nesting
            depth = self.rng.randint(30, 300)
            ctype = 'Content-Type: multipart/mixed; boundary="b0"'
            body = "".join(
                f'--b{i}\r\nContent-Type: multipart/mixed; boundary="b{i + 1}"\r\n\r\n' for i in range(depth)
            )
            body += f"--b{depth}\r\nContent-Type: text/plain\r\n\r\nAccepted.\r\n"
        elif kind == 3:  # many parts
            ctype = 'Content-Type: multipart/mixed; boundary="p"'
            body = (
                "".join(
                    "--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(self.rng.randint(300, 3000))
                )
                + "--p--\r\n"
            )
        elif kind == 4:  # garbage content type
            junk = _junk(self.rng, 30).replace(b"\r", b"").replace(b"\n", b"").decode("latin-1")
            ctype, body = f"Content-Type: {junk}", "Lost.\r\n"
        else:  # empty boundary, message/rfc822 with junk
            ctype = 'Content-Type: multipart/mixed; boundary=""'
            body = (
                "--\r\nContent-Type: message/rfc822\r\n\r\n"
                + _junk(self.rng, 500).decode("latin-1")
                + "\r\n----\r\n"
            )
        raw = (_head(self.rng, rep, rcpt, ctype=ctype) + "\r\n" + body).encode("latin-1", "replace")
        return self._mail("broken_mime", rep, rcpt, raw)

    def fam_bad_transfer_encoding(self, rep: str, rcpt: str) -> Mail:
        cte = self.rng.choice(["base64", "quoted-printable"])
        body = self.rng.choice(["!!!not base64$$$\r\n", "QUJD\r\n=ZZ=\r\n", "=\r\n=4", "TG9zdA", "===="])
        head = _head(self.rng, rep, rcpt, f"Content-Transfer-Encoding: {cte}\r\n")
        return self._mail("bad_transfer_encoding", rep, rcpt, (head + "\r\n" + body).encode())

    def fam_html_only(self, rep: str, rcpt: str) -> Mail:
        depth = self.rng.randint(1, 3000)
        html = "<div>" * depth + "<script>alert(1)</script>Lost to &contoso; &#0; &#xD800;" + "</div>" * depth
        head = _head(self.rng, rep, rcpt, ctype="Content-Type: text/html; charset=utf-8")
        return self._mail("html_only", rep, rcpt, (head + "\r\n" + html + "\r\n").encode())

    def fam_bounce(self, rep: str, rcpt: str) -> Mail:
        raw = (
            f"From: Mail Delivery System <MAILER-DAEMON@mx.example>\r\nTo: {rcpt}\r\n"
            "Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <"
            f"{secrets.token_hex(6)}@mx.example>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
            "--r\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
            "--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example\r\n\r\n"
            f"Final-Recipient: rfc822; {rep}\r\nAction: failed\r\nStatus: 5.{self.rng.randint(0, 9)}.1\r\n"
            "--r--\r\n"
        ).encode()
        return Mail("bounce", "", (rcpt,), raw)

    def fam_auto_reply(self, rep: str, rcpt: str) -> Mail:
        head = _head(self.rng, rep, rcpt, "Auto-Submitted: auto-replied\r\n")
        return self._mail("auto_reply", rep, rcpt, (head + "\r\nI am out of the office.\r\n").encode())

    def fam_stranger(self, rep: str, rcpt: str) -> Mail:
        eve = f"eve{self.rng.randint(1, 99)}@evil.example"
        return self._mail(
            "stranger", eve, rcpt, (_head(self.rng, eve, rcpt) + "\r\nWon! Big deal.\r\n").encode()
        )

    def fam_unmatched(self, rep: str, rcpt: str) -> Mail:
        bare = f"feedback@{DOMAIN}"
        head = _head(self.rng, rep, bare, f"In-Reply-To: <{secrets.token_hex(5)}@nowhere>\r\n")
        return self._mail("unmatched", rep, bare, (head + "\r\nAccepted.\r\n").encode())

    def fam_empty(self, rep: str, rcpt: str) -> Mail:
        raw = self.rng.choice(
            [b"", b"\r\n", _head(self.rng, rep, rcpt).encode(), _head(self.rng, rep, rcpt).encode() + b"\r\n"]
        )
        return self._mail("empty", rep, rcpt, raw)

    def fam_oversize(self, rep: str, rcpt: str) -> Mail:
        filler = b"filler line of text\r\n" * (SIZE_LIMIT // 21 + self.rng.randint(10, 1000))
        return self._mail("oversize", rep, rcpt, (_head(self.rng, rep, rcpt) + "\r\n").encode() + filler)

    def fam_tampered_token(self, rep: str, rcpt: str) -> Mail:
        local, _, domain = rcpt.partition("@")
        flip = local[:-1] + ("a" if local[-1] != "a" else "b")
        return self._mail("tampered_token", rep, f"{flip}@{domain}", b"Subject: x\r\n\r\nx\r\n")

    def fam_duplicate(self, rep: str, rcpt: str) -> Mail:
        earlier = [m for m in self.sent[-200:] if m.family not in ("duplicate", "oversize")]
        if not earlier:
            return self.fam_reply(rep, rcpt)
        again = self.rng.choice(earlier)
        raw = b"Received: from relay.example by mx.example; Mon, 1 Jan 2024 00:00:00 +0000\r\n" + again.raw
        return Mail("duplicate", again.sender, again.rcpts, raw)

    def fam_long_line(self, rep: str, rcpt: str) -> Mail:
        head = _head(self.rng, rep, rcpt)
        return self._mail(
            "long_line",
            rep,
            rcpt,
            (head + "\r\n" + "y" * self.rng.randint(50_000, 900_000) + "\r\n").encode(),
        )

    def fam_quotes(self, rep: str, rcpt: str) -> Mail:
        quoted = "".join(
            f"{'>' * self.rng.randint(1, 40)} option {i}\r\n" for i in range(self.rng.randint(100, 20000))
        )
        head = _head(self.rng, rep, rcpt)
        return self._mail(
            "quotes", rep, rcpt, (head + "\r\nLost to Contoso.\r\n\r\nOn Mon, X wrote:\r\n" + quoted).encode()
        )


# --- the run -------------------------------------------------------------------------------------


class _Tracebacks(logging.Handler):
    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.sink.append(f"{record.name}: {record.getMessage()}: {record.exc_info[1]!r}")


def make_targets(engine: Engine, settings: Settings, n: int) -> list[tuple[str, str]]:
    """``n`` sent requests, one rep each: (rep email, reply address)."""
    out: list[tuple[str, str]] = []
    now = utcnow()
    with Session(engine) as session:
        for i in range(n):
            rep = Rep(email=f"rep{i}@fuzz.example", name=f"Rep {i}")
            session.add(rep)
            session.flush()
            lead = Lead(crm_id=f"F{i}", name=f"Lead {i}", rep_id=rep.id, assigned_at=now)
            session.add(lead)
            session.flush()
            req = FeedbackRequest(
                kind="disposition",
                lead_id=lead.id,
                rep_id=rep.id or 0,
                status=RequestStatus.sent,
                taxonomy_version=settings.taxonomy.fingerprint,
                sent_at=now,
                expires_at=now + timedelta(days=30),
            )
            session.add(req)
            session.flush()
            req.token = make_token(req.id or 0, settings.secret_bytes())
            out.append((rep.email, reply_address(req.token, local=settings.reply_local, domain=DOMAIN)))
        session.commit()
    return out


_STORED = re.compile(r"stored as #(\d+)")


async def _send(port: int, mails: list[Mail], concurrency: int, figures: Figures) -> set[int]:
    queue: asyncio.Queue[Mail] = asyncio.Queue()
    for mail in mails:
        queue.put_nowait(mail)
    ids: set[int] = set()

    async def client() -> None:
        smtp: aiosmtplib.SMTP | None = None
        while not queue.empty():
            mail = queue.get_nowait()
            figures.sent += 1
            for attempt in (1, 2):  # a connection the server closed (421, timeout) is reopened once
                try:
                    if smtp is None or not smtp.is_connected:
                        smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, timeout=120)
                        await smtp.connect()
                    _, answer = await smtp.sendmail(mail.sender, list(mail.rcpts), mail.raw)
                    figures.accepted += 1
                    if m := _STORED.search(answer):
                        ids.add(int(m.group(1)))
                    break
                except aiosmtplib.SMTPRecipientsRefused as exc:
                    figures.refused[exc.recipients[0].code] += 1
                    await _reset(smtp)
                    break
                except aiosmtplib.SMTPResponseException as exc:
                    figures.refused[exc.code] += 1
                    await _reset(smtp)
                    break
                except (aiosmtplib.SMTPException, OSError) as exc:
                    smtp = None
                    if attempt == 2:
                        figures.client_errors.append(f"{mail.family}: {exc!r}")
        if smtp is not None and smtp.is_connected:
            await smtp.quit()

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return ids


async def _reset(smtp: aiosmtplib.SMTP | None) -> None:
    if smtp is not None and smtp.is_connected:
        try:
            await smtp.rset()
        except aiosmtplib.SMTPException:
            smtp.close()


async def _process(
    engine: Engine, settings: Settings, ids: list[int], outbox: Path, figures: Figures
) -> None:
    ctx: dict[str, Any] = {"engine": engine, "settings": settings, "transport": MaildirTransport(outbox)}
    gate = asyncio.Semaphore(4)

    async def one(message_id: int) -> None:
        async with gate:
            for attempt in range(1, settings.job_max_tries + 1):
                try:
                    await jobs.process_job({**ctx, "job_try": attempt}, message_id)
                    return
                except Retry:
                    continue  # a transient fault: the worker would retry after a delay
                except Exception as exc:
                    figures.tracebacks.append(f"job {message_id}: {exc!r}")
                    return

    await asyncio.gather(*(one(i) for i in ids))


def _check(engine: Engine, accepted_ids: set[int], figures: Figures) -> None:
    with Session(engine) as session:
        rows = session.exec(select(InboundMessage.id, InboundMessage.status, InboundMessage.error)).all()
    figures.stored = len(rows)
    stored_ids = {r[0] for r in rows}
    figures.missing = len(accepted_ids - stored_ids)
    for _, status, error in rows:
        figures.statuses[status] += 1
        figures.stuck += status not in FINAL
        figures.failed_without_reason += status == MessageStatus.failed and not (error or "").strip()


async def run(database_url: str, data_dir: Path, *, n: int, seed: int = 14, concurrency: int = 16) -> Figures:
    """The whole run on ``database_url`` (an empty database); returns the figures."""
    figures = Figures()
    handler = _Tracebacks(figures.tracebacks)
    logging.getLogger().addHandler(handler)
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(
        lambda _loop, context: figures.tracebacks.append(f"loop: {context.get('message')}")
    )
    settings = load_settings(
        {}, data_dir=data_dir, database_url=database_url, secret="fuzz-" + "0" * 40, reply_domain=DOMAIN,
        data_size_limit=SIZE_LIMIT, job_timeout=30,
    )  # fmt: skip
    engine = make_engine(database_url)
    try:
        await asyncio.to_thread(upgrade, engine)
        targets = await asyncio.to_thread(make_targets, engine, settings, 50)
        generator = Generator(seed, targets, settings.secret_bytes())
        mails = [generator.next() for _ in range(n)]
        figures.families.update(m.family for m in mails)
        server = IngestServer(settings, engine, None)
        _, port = await server.start(host="127.0.0.1", port=0)
        started = time.perf_counter()
        try:
            ids = await _send(port, mails, concurrency, figures)
        finally:
            await server.stop()
        figures.send_s = time.perf_counter() - started
        with Session(engine) as session:
            stored = sorted(int(i) for i in session.exec(select(InboundMessage.id)).all() if i is not None)
        started = time.perf_counter()
        await _process(engine, settings, stored, data_dir / "outbox", figures)
        figures.process_s = time.perf_counter() - started
        await asyncio.to_thread(_check, engine, ids, figures)
    finally:
        logging.getLogger().removeHandler(handler)
        loop.set_exception_handler(None)
        engine.dispose()
    return figures


def _own_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    name = f"fb_fuzz_{secrets.token_hex(6)}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--database-url", help="PostgreSQL admin URL (default: SQLite in a temp dir)")
    args = parser.parse_args()
    console = logging.StreamHandler()
    console.setLevel(logging.ERROR)  # the run's own handler sees every record; print errors only
    logging.getLogger().addHandler(console)
    logging.getLogger().setLevel(logging.INFO)
    with tempfile.TemporaryDirectory(prefix="fb-fuzz-") as tmp:
        drop: Callable[[], None] = lambda: None  # noqa: E731
        url = f"sqlite:///{Path(tmp) / 'fuzz.db'}"
        if args.database_url:
            url, drop = _own_database(args.database_url)
        try:
            figures = asyncio.run(run(url, Path(tmp), n=args.n, seed=args.seed, concurrency=args.concurrency))
        finally:
            drop()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"fuzz ingest on {backend}, seed {args.seed}, {args.n} messages, {args.concurrency} senders")
    for line in figures.lines():
        print("  " + line)
    for trace in figures.tracebacks[:20]:
        print("  TRACEBACK " + trace)
    for error in figures.client_errors[:20]:
        print("  CLIENT ERROR " + error)
    print("  OK" if figures.ok else "  FAILED")
    return 0 if figures.ok else 1


if __name__ == "__main__":
    sys.exit(main())
