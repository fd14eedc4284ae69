"""Mailbox polling against a real IMAP server: a private Dovecot on a free port (Debian's package).

Skipped with its reason where Dovecot is not installed (.ci/run installs it).
"""

from __future__ import annotations

import asyncio
import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.imap import STORED_FLAG, Mailbox, MailboxPoller
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.storage.models import FeedbackRequest, InboundMessage, Lead, Rep, Response

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(DOVECOT is None, reason="no dovecot binary (apt-get install -y dovecot-imapd)"),
    pytest.mark.skipif(
        os.geteuid() != 0, reason="the private Dovecot runs its mail user as nobody (needs root)"
    ),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def dovecot() -> Iterator[tuple[int, Path]]:
    # not under pytest's tmp dir: that is 0700, and Dovecot's own users must read the passwd file
    root = Path(tempfile.mkdtemp(prefix="fb-dovecot-"))
    os.chmod(root, 0o755)
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    shutil.chown(root / "home", "nobody", "nogroup")
    port = _free_port()
    (root / "passwd").write_text("feedback:{PLAIN}secret\n")
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/home/%u
}}
mail_location = maildir:~/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""
    )
    assert DOVECOT is not None
    subprocess.run([DOVECOT, "-c", str(conf)], check=True)
    deadline = time.monotonic() + 10
    while True:  # wait for the listener (a condition, not a fixed sleep)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, (root / "dovecot.log").read_text()
            time.sleep(0.05)
    try:
        yield port, root
    finally:
        subprocess.run([DOVECOT, "-c", str(conf), "stop"], check=False)
        shutil.rmtree(root, ignore_errors=True)


def _append(port: int, raw: bytes) -> None:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("feedback", "secret")
    client.append("INBOX", "", None, raw)
    client.logout()


def _flags(port: int) -> list[str]:
    client = imaplib.IMAP4("127.0.0.1", port)
    client.login("feedback", "secret")
    client.select("INBOX")
    _, data = client.fetch("1:*", "(FLAGS)")
    client.logout()
    return [d.decode() for d in data if isinstance(d, bytes)]


def test_a_reply_dropped_in_the_mailbox_is_stored_once_even_if_the_connection_drops(
    engine: Engine, settings: Settings, tmp_path: Path, dovecot: tuple[int, Path]
) -> None:
    port, _ = dovecot
    with Session(engine) as s:
        rep = Rep(email="dana@x.example", name="Dana")
        s.add(rep)
        s.commit()
        for n in (1, 2):
            s.add(Lead(crm_id=f"L{n}", name=f"Lead {n}", rep_id=rep.id, assigned_at=datetime(2026, 1, 5)))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "imap_poll_seconds": 1})
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "o")))
    with Session(engine) as s:
        tokens = [r.token for r in s.exec(select(FeedbackRequest).order_by(FeedbackRequest.id)).all()]
    for n, (token, text) in enumerate(
        zip(tokens, ("Rejected, no budget.", "Accepted, demo booked."), strict=True)
    ):
        msg = EmailMessage()
        msg["From"], msg["Subject"], msg["Message-ID"] = (
            "Dana <dana@x.example>",
            "Re: lead",
            f"<imap{n}@x.example>",
        )
        msg["To"] = f"feedback+{token}@{settings.reply_domain}"
        msg.set_content(text)
        _append(port, msg.as_bytes())

    drops = {"left": 1}

    async def drop_once(message_id: int) -> None:  # the connection dies after the commit, before the flag
        if drops["left"]:
            drops["left"] -= 1
            raise ConnectionResetError("connection dropped mid-fetch")

    async def run() -> None:
        box = Mailbox.from_url(f"imap://feedback:secret@127.0.0.1:{port}/INBOX")
        first = MailboxPoller(box, settings=settings, engine=engine, enqueue=None, after_store=drop_once)
        with pytest.raises(ConnectionResetError):
            await first.poll_once()
        await first.close()
        again = MailboxPoller(box, settings=settings, engine=engine, enqueue=None)
        stats = await again.poll_once()
        assert (stats.stored, stats.duplicates) == (1, 1)  # the first one came again: counted, not stored
        assert (await again.poll_once()).stored == 0  # flagged: never fetched again
        await again.close()

    asyncio.run(run())
    assert all(STORED_FLAG in f and "\\Seen" in f for f in _flags(port))
    with Session(engine) as s:
        messages = s.exec(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert len(messages) == 2 and [m.deliveries for m in messages] == [2, 1]
        ids = [m.id or 0 for m in messages]
    for mid in ids:
        process_message(engine, settings, mid)
    with Session(engine) as s:
        assert sorted(r.outcome or "" for r in s.exec(select(Response)).all()) == ["accepted", "rejected"]
