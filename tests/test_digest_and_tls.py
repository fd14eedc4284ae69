"""The weekly digest goes out through the outbound path once; the ingest speaks STARTTLS."""

from __future__ import annotations

import asyncio
import mailbox
import shutil
import ssl
import subprocess
from datetime import timedelta
from pathlib import Path

import aiosmtplib
import pytest
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.smtp import IngestServer
from feedback.outbound.digest_mail import send_digest
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.storage.models import OutboundMail, utcnow


def test_weekly_digest_is_mailed_once_per_week(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    settings = settings.model_copy(
        update={"digest_recipients": ["cmo@brightline.example", "ops@brightline.example"]}
    )
    outbox = MaildirTransport(tmp_path / "outbox")
    now = utcnow()
    assert asyncio.run(send_digest(engine, settings, outbox, now=now)) == 2
    assert asyncio.run(send_digest(engine, settings, outbox, now=now + timedelta(hours=1))) == 0  # throttled
    assert asyncio.run(send_digest(engine, settings, outbox, now=now + timedelta(days=7))) == 2
    box = mailbox.Maildir(tmp_path / "outbox", create=False)
    messages = [box.get_message(k) for k in box.keys()]  # noqa: SIM118 - Maildir iterates messages
    assert len(messages) == 4
    first = messages[0]
    assert first["Auto-Submitted"] == "auto-generated"
    assert first.is_multipart() and "text/html" in first.as_string()
    with Session(engine) as session:
        purposes = {m.purpose for m in session.exec(select(OutboundMail)).all()}
    assert purposes == {"digest"}


@pytest.mark.parametrize("lang", ["de", "fr", "es"])
def test_the_digest_sla_part_speaks_the_digest_language(
    engine: Engine, settings: Settings, lang: str
) -> None:
    """Every word of the SLA part (title, figure names, column heads) has a translation: a German
    manager reading "Answered within the SLA" in a German mail would doubt the rest of it."""
    from feedback.reports.digest import DIGEST_SLA_FIGURES, SLA_TITLE, digest_sla
    from feedback.reports.digest_words import WORDS

    english = {SLA_TITLE, *DIGEST_SLA_FIGURES}
    head, by_team = digest_sla(engine, settings, utcnow(), lang)
    assert head.title == WORDS[lang][SLA_TITLE].format(hours=f"{settings.sla_business_hours:g}")
    shown = {r["metric"] for r in head.rows} | {c.label for c in (*head.columns, *by_team.columns)}
    shown.add(by_team.title)
    assert len(head.rows) == len(DIGEST_SLA_FIGURES)
    untranslated = {w for w in shown if w not in WORDS[lang].values() and w in english | _ENGLISH_HEADS}
    assert not untranslated, untranslated


_ENGLISH_HEADS = {
    "Figure",
    "Value",
    "Team",
    "Requests sent",
    "Within SLA",
    "Median business hours",
    "p90 business hours",
    "Escalated",
    "SLA by team",
}


def test_a_digest_the_relay_refused_is_not_recorded_and_goes_next_round(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """One outbound rule for every mail: no OutboundMail row unless the relay accepted it, so a
    refused digest is not throttled away for a week."""
    import socket

    from feedback.outbound.transports import SmtpRelayTransport

    settings = settings.model_copy(update={"digest_recipients": ["cmo@brightline.example"]})
    with socket.socket() as sock:  # a port with nothing listening: the relay refuses to connect
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    down = SmtpRelayTransport(f"smtp://127.0.0.1:{closed}", timeout=5)
    now = utcnow()
    assert asyncio.run(send_digest(engine, settings, down, now=now)) == 0
    with Session(engine) as session:
        assert session.exec(select(OutboundMail)).all() == []
    outbox = MaildirTransport(tmp_path / "outbox")
    assert asyncio.run(send_digest(engine, settings, outbox, now=now + timedelta(minutes=5))) == 1
    with Session(engine) as session:
        assert [m.purpose for m in session.exec(select(OutboundMail)).all()] == ["digest"]


def test_no_recipients_no_digest(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    assert asyncio.run(send_digest(engine, settings, MaildirTransport(tmp_path / "outbox"))) == 0


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("no openssl binary to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


async def test_starttls_when_a_certificate_is_configured(
    engine: Engine, settings: Settings, certificate: tuple[Path, Path]
) -> None:
    cert, key = certificate
    settings = settings.model_copy(update={"tls_cert": cert, "tls_key": key})
    server = IngestServer(settings, engine, None)
    host, port = await server.start(host="127.0.0.1", port=0)
    try:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        async with aiosmtplib.SMTP(hostname=host, port=port, start_tls=False, tls_context=context) as smtp:
            await smtp.ehlo()
            assert smtp.supports_extension("starttls")
            await smtp.starttls()
            errors, answer = await smtp.sendmail(
                "rep@brightline.example",
                [f"feedback@{settings.reply_domain}"],
                b"Subject: hi\r\n\r\nLost.\r\n",
            )
            assert errors == {} and "stored as #" in answer
    finally:
        await server.stop()


# aiosmtpd warns that AUTH without TLS is unsafe: here the relay is on loopback, by choice
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
async def test_smtp_auth_required_from_the_upstream_relay(engine: Engine, settings: Settings) -> None:
    settings = settings.model_copy(
        update={
            "smtp_auth_user": "mx",
            "smtp_auth_password": SecretStr("s3cret"),
            "smtp_auth_require_tls": False,
        }
    )
    server = IngestServer(settings, engine, None)
    host, port = await server.start(host="127.0.0.1", port=0)
    rcpt = [f"feedback@{settings.reply_domain}"]
    body = b"Subject: x\r\n\r\nLost.\r\n"
    try:
        async with aiosmtplib.SMTP(hostname=host, port=port, start_tls=False) as smtp:
            with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
                await smtp.sendmail("rep@brightline.example", rcpt, body)
            assert refused.value.code == 530  # authentication required
            with pytest.raises(aiosmtplib.SMTPAuthenticationError) as bad:
                await smtp.login("mx", "wrong")
            assert bad.value.code == 535
            await smtp.login("mx", "s3cret")
            errors, answer = await smtp.sendmail("rep@brightline.example", rcpt, body)
            assert errors == {} and "stored as #" in answer
    finally:
        await server.stop()


def test_auth_without_tls_is_refused_at_start(settings: Settings) -> None:
    from feedback.runtime.settings import ConfigError

    with pytest.raises(ConfigError, match="STARTTLS"):
        settings.model_copy(update={"smtp_auth_user": "mx", "smtp_auth_password": SecretStr("x")}).check()
