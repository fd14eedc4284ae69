"""Provider webhooks, health, readiness and metrics: payloads built as each provider documents them."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from pydantic import SecretStr
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from starlette.testclient import TestClient

from feedback.ingress.http import HttpDeps, build_app, database_check, tcp_check
from feedback.ingress.metrics import Metrics
from feedback.ingress.sns import SnsVerifier, string_to_sign
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.storage.models import FeedbackRequest, InboundMessage, Lead, Refusal, Rep, Response

KEY = "mailgun-signing-key"
CERT_URL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
TOPIC = "arn:aws:sns:eu-west-1:123456789012:feedback-inbound"


@pytest.fixture
def hooked(engine: Engine, settings: Settings, tmp_path: Path) -> dict[str, Any]:
    settings = settings.model_copy(
        update={
            "send_since": datetime(2020, 1, 1),
            "mailgun_signing_key": SecretStr(KEY),
            "webhook_user": "hook",
            "webhook_password": SecretStr("s3cret"),
            "ses_topic_arns": [TOPIC],
            "data_size_limit": 200_000,
        }
    )
    with Session(engine) as s:
        rep = Rep(email="dana@x.example", name="Dana")
        s.add(rep)
        s.commit()
        s.add(Lead(crm_id="L1", name="Peter", rep_id=rep.id, assigned_at=datetime(2026, 3, 2)))
        s.commit()
    asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "o")))
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest)).one()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(datetime.now(UTC) - timedelta(days=1))
        .not_valid_after(datetime.now(UTC) + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    fetched: list[str] = []

    def fetch(url: str) -> bytes:  # what AWS serves at the certificate and subscribe URLs
        fetched.append(url)
        return cert.public_bytes(serialization.Encoding.PEM) if url.endswith(".pem") else b"<ok/>"

    enqueued: list[int] = []

    async def enqueue(ids: list[int]) -> None:
        enqueued.extend(ids)

    metrics = Metrics(engine)
    deps = HttpDeps(
        settings=settings,
        engine=engine,
        enqueue=enqueue,
        sns=SnsVerifier(fetch=fetch, topics=(TOPIC,)),
        checks={"database": database_check(engine)},
        metrics=metrics,
    )
    return {
        "client": TestClient(build_app(deps)),
        "settings": settings,
        "request": request,
        "rcpt": f"feedback+{request.token}@{settings.reply_domain}",
        "key": key,
        "fetched": fetched,
        "enqueued": enqueued,
        "deps": deps,
    }


def _raw(rcpt: str, text: str = "Rejected, no budget this year.", mid: str = "<r1@x.example>") -> bytes:
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"], msg["Message-ID"] = "Dana <dana@x.example>", rcpt, "Re: lead", mid
    msg.set_content(text)
    return msg.as_bytes()


def _mailgun_form(
    raw: bytes, rcpt: str, *, token: str = "tok-1", ts: float | None = None, key: str = KEY
) -> dict[str, str]:
    timestamp = str(int(time.time() if ts is None else ts))
    signature = hmac.new(key.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature, "recipient": rcpt,
            "sender": "dana@x.example", "body-mime": raw.decode()}  # fmt: skip


def _outcome(engine: Engine, settings: Settings, message_id: int) -> str | None:
    process_message(engine, settings, message_id)
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.inbound_message_id == message_id)).first()
        return response.outcome if response else None


def test_mailgun_stores_the_reply_like_smtp_and_refuses_forgeries(
    engine: Engine, hooked: dict[str, Any]
) -> None:
    client, rcpt, settings = hooked["client"], hooked["rcpt"], hooked["settings"]
    raw = _raw(rcpt)
    ok = client.post("/inbound/mailgun", data=_mailgun_form(raw, rcpt))
    assert ok.status_code == 200, ok.text
    stored = ok.json()["stored"]
    assert hooked["enqueued"] == [stored]
    assert _outcome(engine, settings, stored) == "rejected"
    # the same call again: a replayed token
    assert client.post("/inbound/mailgun", data=_mailgun_form(raw, rcpt)).status_code == 403
    # a wrong key, an old timestamp, a missing body
    assert (
        client.post("/inbound/mailgun", data=_mailgun_form(raw, rcpt, token="t2", key="other")).status_code
        == 403
    )
    old = _mailgun_form(raw, rcpt, token="t3", ts=time.time() - 3600)
    assert client.post("/inbound/mailgun", data=old).status_code == 403
    no_body = _mailgun_form(raw, rcpt, token="t4")
    del no_body["body-mime"]
    assert client.post("/inbound/mailgun", data=no_body).status_code == 400
    # a tampered token is refused before anything is stored
    at = rcpt.index("@") - 1  # the token's last character, changed
    bad_rcpt = rcpt[:at] + ("a" if rcpt[at] != "a" else "b") + rcpt[at + 1 :]
    tampered = client.post(
        "/inbound/mailgun", data=_mailgun_form(_raw(bad_rcpt, mid="<r2@x>"), bad_rcpt, token="t5")
    )
    assert tampered.status_code == 403 and "invalid reply token" in tampered.json()["error"]
    # too big: 413, recorded as a refusal without a body
    big = _raw(rcpt, text="x" * 250_000, mid="<big@x>")
    assert client.post("/inbound/mailgun", data=_mailgun_form(big, rcpt, token="t6")).status_code == 413
    with Session(engine) as s:
        assert len(s.exec(select(InboundMessage)).all()) == 1
        assert s.exec(select(Refusal)).one().code == 413


def test_sendgrid_and_postmark_need_their_credentials(engine: Engine, hooked: dict[str, Any]) -> None:
    client, rcpt, settings = hooked["client"], hooked["rcpt"], hooked["settings"]
    raw = _raw(rcpt, "Accepted, meeting booked for Tuesday.", mid="<sg@x.example>")
    form = {"email": raw.decode(), "envelope": json.dumps({"to": [rcpt], "from": "dana@x.example"})}
    assert client.post("/inbound/sendgrid", data=form).status_code == 401
    assert client.post("/inbound/sendgrid", data=form, auth=("hook", "wrong")).status_code == 401
    ok = client.post("/inbound/sendgrid", data=form, auth=("hook", "s3cret"))
    assert ok.status_code == 200 and _outcome(engine, settings, ok.json()["stored"]) == "accepted"
    # the same message again through SendGrid: one stored message (deduplicated), no second job
    again = client.post("/inbound/sendgrid", data=form, auth=("hook", "s3cret"))
    assert again.json() == {"stored": ok.json()["stored"], "duplicate": True}

    payload = {  # Postmark without RawEmail: the message is rebuilt from the JSON fields
        "From": "Dana <dana@x.example>", "To": rcpt, "OriginalRecipient": rcpt, "Subject": "Re: lead",
        "MessageID": "pm-1@x.example", "Date": "Mon, 2 Mar 2026 10:00:00 +0000",
        "TextBody": "Recycle please, not before Q3.", "Headers": [{"Name": "X-Mailer", "Value": "Outlook"}],
    }  # fmt: skip
    assert client.post("/inbound/postmark", json=payload).status_code == 401
    pm = client.post("/inbound/postmark", json=payload, auth=("hook", "s3cret"))
    assert pm.status_code == 200 and _outcome(engine, settings, pm.json()["stored"]) == "recycled"
    bad = client.post("/inbound/postmark", content=b"{not json", auth=("hook", "s3cret"))
    assert bad.status_code == 400


def _sns(hooked: dict[str, Any], kind: str, **fields: str) -> dict[str, Any]:
    message = {"Type": kind, "MessageId": "m-1", "TopicArn": TOPIC, "Timestamp": "2026-03-02T10:00:00.000Z",
               "SignatureVersion": "2", "SigningCertURL": CERT_URL, **fields}  # fmt: skip
    signature = hooked["key"].sign(string_to_sign(message), padding.PKCS1v15(), hashes.SHA256())
    message["Signature"] = base64.b64encode(signature).decode()
    return message


def test_ses_through_sns_verifies_the_signature(engine: Engine, hooked: dict[str, Any]) -> None:
    client, rcpt, settings = hooked["client"], hooked["rcpt"], hooked["settings"]
    subscribe = "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=abc"
    confirm = _sns(hooked, "SubscriptionConfirmation", Message="confirm", Token="abc", SubscribeURL=subscribe)
    assert client.post("/inbound/ses", content=json.dumps(confirm)).status_code == 200
    assert any("ConfirmSubscription" in url for url in hooked["fetched"])
    content = base64.b64encode(_raw(rcpt, "Lost to Contoso on price.", mid="<ses@x>")).decode()
    receipt = {"notificationType": "Received", "mail": {"source": "dana@x.example"},
               "receipt": {"recipients": [rcpt], "action": {"type": "SNS", "encoding": "BASE64"}},
               "content": content}  # fmt: skip
    note = _sns(hooked, "Notification", Message=json.dumps(receipt))
    ok = client.post("/inbound/ses", content=json.dumps(note))
    assert ok.status_code == 200, ok.text
    assert (
        _outcome(engine, settings, ok.json()["stored"]) is None
    )  # a disposition request: no win/loss outcome
    forged = dict(
        note, Message=json.dumps(dict(receipt, content=base64.b64encode(b"From: x\n\nforged").decode()))
    )
    assert client.post("/inbound/ses", content=json.dumps(forged)).status_code == 403
    elsewhere = _sns(hooked, "Notification", Message=json.dumps(receipt))
    elsewhere["SigningCertURL"] = "https://evil.example/cert.pem"
    assert client.post("/inbound/ses", content=json.dumps(elsewhere)).status_code == 403
    s3 = dict(receipt, receipt={"recipients": [rcpt], "action": {"type": "S3"}})
    s3.pop("content")
    assert (
        client.post(
            "/inbound/ses", content=json.dumps(_sns(hooked, "Notification", Message=json.dumps(s3)))
        ).status_code
        == 422
    )


def test_health_readiness_and_metrics(engine: Engine, hooked: dict[str, Any]) -> None:
    client, deps = hooked["client"], hooked["deps"]
    assert client.get("/healthz").text == "ok\n"
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    port = listener.getsockname()[1]
    deps.checks["smtp"] = tcp_check("127.0.0.1", port)
    assert client.get("/readyz").json() == {"ready": True, "checked": ["database", "smtp"]}
    listener.close()  # the SMTP listener goes away: not ready, and says what is down
    down = client.get("/readyz")
    assert down.status_code == 503 and "smtp" in down.json()["down"] and "database" not in down.json()["down"]
    client.post("/inbound/mailgun", data=_mailgun_form(_raw(hooked["rcpt"]), hooked["rcpt"], token="m1"))
    client.post("/inbound/postmark", json={})
    text = client.get("/metrics").text
    assert 'feedback_webhook_accepted_total{provider="mailgun"} 1.0' in text
    assert 'feedback_webhook_refused_total{provider="postmark",status="401"} 1.0' in text
    assert (
        'feedback_messages{status="received"} 1.0' in text and 'feedback_requests{status="sent"} 1.0' in text
    )
    assert 'feedback_mails_sent{purpose="request"} 1.0' in text


async def test_serve_exposes_health_and_readiness(
    engine: Engine, settings: Settings, clean_redis: str
) -> None:
    """`feedback serve` with http_port: /readyz checks the database, Redis and the SMTP listener."""
    import urllib.request

    from workers.service import running_service

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        free = s.getsockname()[1]
    settings = settings.model_copy(update={"redis_url": clean_redis, "http_port": free})

    def get(url: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    async with running_service(settings, worker=False, port=0, engine=engine, migrate=False) as running:
        assert running.http is not None
        base = f"http://{running.http[0]}:{running.http[1]}"
        assert await asyncio.to_thread(get, base + "/healthz") == (200, "ok\n")
        status, body = await asyncio.to_thread(get, base + "/readyz")
        assert status == 200 and json.loads(body)["checked"] == ["database", "redis", "smtp"]
        status, body = await asyncio.to_thread(get, base + "/metrics")
        assert status == 200 and "feedback_requests" in body
        assert "feedback_queue_depth" in body  # read from the service's Redis on scrape
        import aiosmtplib

        host, port = running.address
        rcpt = f"feedback@{settings.reply_domain}"
        await aiosmtplib.send(
            _raw(rcpt, mid="<m@x>"), hostname=host, port=port, sender="d@x", recipients=[rcpt]
        )
        status, body = await asyncio.to_thread(get, base + "/metrics")
        assert 'feedback_smtp_stored_total{duplicate="false"} 1.0' in body
        assert "feedback_ingest_seconds_count 1.0" in body


def test_a_worker_process_exposes_health_and_readiness(
    engine: Engine, clean_redis: str, tmp_path: Path
) -> None:
    """`feedback worker` with http_port: /readyz checks its database and Redis; SIGTERM stops it."""
    import signal
    import subprocess
    import sys
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        "PATH": "/usr/bin:/bin",
        "FEEDBACK_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "FEEDBACK_REDIS_URL": clean_redis,
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_DATA_DIR": str(tmp_path / "var"),
        "FEEDBACK_HTTP_PORT": str(port),
    }
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.Popen([sys.executable, "-m", "cli.main", "worker"], cwd=root, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:  # until the worker's HTTP side answers (a condition, polled)
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r:
                    body = json.loads(r.read())
                break
            except OSError:
                assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
                assert time.monotonic() < deadline, "the worker's /readyz never answered"
                time.sleep(0.1)
        assert body == {"ready": True, "checked": ["database", "redis"]}
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0


PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@pytest.mark.slow
@pytest.mark.skipif(not PG_BIN, reason="no PostgreSQL server binaries (apt-get install postgresql)")
def test_readyz_follows_a_private_postgresql_stopping_and_returning(settings: Settings) -> None:
    """/readyz turns unready when its database stops and ready again when it returns (a private
    PostgreSQL started here, never the shared one)."""
    import os
    import shutil
    import subprocess
    import tempfile

    from sqlalchemy import create_engine

    bindir = PG_BIN[-1].parent
    root = Path(tempfile.mkdtemp(prefix="fb-pg-"))
    os.chmod(root, 0o755)
    shutil.chown(root, "postgres", "postgres")
    data = root / "data"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def as_postgres(*args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", *args], check=True, capture_output=True, timeout=120
        )

    def pg_ctl(action: str) -> None:
        opts = f"-p {port} -k {root} -c listen_addresses=127.0.0.1"
        as_postgres(
            str(bindir / "pg_ctl"), "-D", str(data), "-o", opts, "-l", str(root / "log"), "-w", action
        )

    as_postgres(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    pg_ctl("start")
    engine = create_engine(
        f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
        pool_pre_ping=True,
        connect_args={"connect_timeout": 2},
    )
    try:
        client = TestClient(
            build_app(HttpDeps(settings=settings, engine=engine, checks={"database": database_check(engine)}))
        )
        assert client.get("/readyz").status_code == 200
        pg_ctl("stop")
        down = client.get("/readyz")
        assert down.status_code == 503 and "database" in down.json()["down"]
        pg_ctl("start")
        assert client.get("/readyz").json() == {"ready": True, "checked": ["database"]}
    finally:
        engine.dispose()
        subprocess.run(
            [
                "runuser",
                "-u",
                "postgres",
                "--",
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-m",
                "immediate",
                "stop",
            ],
            capture_output=True,
            check=False,
        )
        shutil.rmtree(root, ignore_errors=True)
