"""The worker's decisions on stored messages, on a real database (no SMTP, no queue)."""

from __future__ import annotations

import asyncio
import mailbox
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.ingress.store import Incoming, store_batch
from feedback.outbound.requesting import send_clarifications, send_due_requests, send_followups
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.processing import load_learned, process_message
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    Lead,
    OutboundMail,
    Rep,
    RepAlias,
    RequestStatus,
    Response,
    ReviewItem,
    utcnow,
)


@pytest.fixture
def world(engine: Engine, settings: Settings, tmp_path: Path) -> dict[str, object]:
    """One rep (with a manager and an alias) and one sent disposition request."""
    with Session(engine) as s:
        rep = Rep(
            email="dana@brightline.example", name="Dana Whitfield", manager_email="boss@brightline.example"
        )
        s.add(rep)
        s.commit()
        s.add(RepAlias(rep_id=rep.id or 0, email="dana@home.example"))
        s.add(
            Lead(
                crm_id="L1",
                name="Peter Hoffmann",
                company="Globex",
                rep_id=rep.id,
                assigned_at=utcnow() - timedelta(hours=1),
            )
        )
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    transport = MaildirTransport(tmp_path / "outbox")
    result = asyncio.run(send_due_requests(engine, settings, transport))
    assert result.sent == 1
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest)).one()
    return {"settings": settings, "request": request, "transport": transport, "outbox": tmp_path / "outbox"}


def _reply(
    request: FeedbackRequest,
    settings: Settings,
    text: str,
    *,
    sender: str = "dana@brightline.example",
    headers: dict[str, str] | None = None,
    token: bool = True,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Dana <{sender}>"
    msg["To"] = (
        f"feedback+{request.token}@{settings.reply_domain}" if token else f"feedback@{settings.reply_domain}"
    )
    msg["Subject"] = "Re: What happened to lead Peter Hoffmann (Globex)?"
    msg["Message-ID"] = f"<{abs(hash((text, sender)))}@brightline.example>"
    msg["In-Reply-To"] = request.message_id or ""
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(f"{text}\n\nOn Mon, Feedback wrote:\n> 1. Meeting booked\n> 5. No budget\n")
    return msg.as_bytes()


def _store(engine: Engine, raw: bytes, rcpt: str) -> int:
    return store_batch(
        engine, [Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer="127.0.0.1", received_at=utcnow())]
    )[0].id


def _rcpt(request: FeedbackRequest, settings: Settings) -> str:
    return f"feedback+{request.token}@{settings.reply_domain}"


def test_clear_reply_answers_the_request(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    mid = _store(engine, _reply(request, settings, "Rejected, no budget."), _rcpt(request, settings))
    out = process_message(engine, settings, mid)
    assert out.status == "processed" and out.response_id is not None
    again = process_message(engine, settings, mid)  # a retried job is a no-op
    assert again.skipped
    with Session(engine) as s:
        assert len(s.exec(select(Response)).all()) == 1
        assert s.get(FeedbackRequest, request.id).status == RequestStatus.answered  # type: ignore[union-attr]


def test_redelivery_is_one_message_and_one_response(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    raw = _reply(request, settings, "Accepted, meeting booked.")
    first = _store(engine, raw, _rcpt(request, settings))
    second = _store(
        engine, b"Received: from relay2 by mx; Tue, 2 Jan 2024\r\n" + raw, _rcpt(request, settings)
    )
    assert first == second
    process_message(engine, settings, first)
    with Session(engine) as s:
        message = s.get(InboundMessage, first)
        assert message is not None and message.deliveries == 2
        assert len(s.exec(select(Response)).all()) == 1


def test_alias_sender_accepted_stranger_quarantined(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    ok = _store(
        engine, _reply(request, settings, "Duplicate.", sender="dana@home.example"), _rcpt(request, settings)
    )
    assert process_message(engine, settings, ok).status == "processed"
    bad = _store(
        engine, _reply(request, settings, "Won!", sender="eve@evil.example"), _rcpt(request, settings)
    )
    assert process_message(engine, settings, bad).status == "quarantined"
    with Session(engine) as s:
        items = s.exec(select(ReviewItem)).all()
        assert [i.type for i in items] == ["quarantined"]


def test_auto_reply_is_ignored_and_never_answered(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    raw = _reply(
        request, settings, "I am out of the office until Monday.", headers={"Auto-Submitted": "auto-replied"}
    )
    mid = _store(engine, raw, _rcpt(request, settings))
    out = process_message(engine, settings, mid)
    assert out.status == "ignored" and not out.mail
    with Session(engine) as s:
        assert s.exec(select(Response)).all() == []


def test_thread_headers_match_when_the_token_is_lost(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    raw = _reply(request, settings, "Not a fit.", token=False)
    mid = _store(engine, raw, f"feedback@{settings.reply_domain}")
    out = process_message(engine, settings, mid)
    assert out.status == "processed" and out.request_id == request.id


def test_unmatched_reply_waits_for_review(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    raw = _reply(request, settings, "Not a fit.", token=False).replace(
        (request.message_id or "").encode(), b"<unknown@elsewhere>"
    )
    mid = _store(engine, raw, f"feedback@{settings.reply_domain}")
    assert process_message(engine, settings, mid).status == "unmatched"
    with Session(engine) as s:
        assert [i.type for i in s.exec(select(ReviewItem)).all()] == ["unmatched"]


def test_expired_token_gets_a_polite_note_not_a_response(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    mid = _store(engine, _reply(request, settings, "Accepted."), _rcpt(request, settings))
    out = process_message(engine, settings, mid, now=utcnow() + timedelta(days=settings.token_ttl_days + 1))
    assert out.status == "ignored" and out.mail and out.mail[0][0] == "expired"


def test_an_unclear_reply_gets_one_clarification(engine: Engine, world: dict[str, object]) -> None:
    settings, request, transport = world["settings"], world["request"], world["transport"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    assert isinstance(transport, MaildirTransport)
    mid = _store(engine, _reply(request, settings, "Which lead is this?"), _rcpt(request, settings))
    assert process_message(engine, settings, mid).status == "processed"
    with Session(engine) as s:
        assert s.get(FeedbackRequest, request.id).status == RequestStatus.clarifying  # type: ignore[union-attr]
    assert asyncio.run(send_clarifications(engine, settings, transport)) == 1
    assert asyncio.run(send_clarifications(engine, settings, transport)) == 0  # asked once only
    box = mailbox.Maildir(world["outbox"], create=False)  # type: ignore[arg-type]
    subjects = [str(box.get_message(k)["Subject"]) for k in box.keys()]  # noqa: SIM118 - Maildir iterates messages
    assert any(s.startswith("Quick follow-up: lead Peter Hoffmann") for s in subjects)


def test_reminders_then_escalation_to_the_manager(engine: Engine, world: dict[str, object]) -> None:
    settings, transport = world["settings"], world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    now = utcnow()
    counts = [
        asyncio.run(send_followups(engine, settings, transport, now=now + timedelta(hours=h)))
        for h in (49, 98, 130)
    ]
    assert [c["reminders"] for c in counts] == [1, 1, 0]
    assert counts[2]["escalations"] == 1
    with Session(engine) as s:
        to = [
            m.to_addr for m in s.exec(select(OutboundMail).where(OutboundMail.purpose == "escalation")).all()
        ]
        assert to == ["boss@brightline.example"]
        assert s.exec(select(FeedbackRequest)).one().status == RequestStatus.escalated


def test_a_refused_reminder_is_retried_and_does_not_stop_the_round(
    engine: Engine, world: dict[str, object], tmp_path: Path
) -> None:
    settings, transport = world["settings"], world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)

    class Refusing(MaildirTransport):
        async def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
            raise ConnectionRefusedError("relay down")

    later = utcnow() + timedelta(hours=49)
    counts = asyncio.run(send_followups(engine, settings, Refusing(tmp_path / "x"), now=later))
    assert (counts["reminders"], counts["failed"]) == (0, 1)
    with Session(engine) as s:
        assert s.exec(select(OutboundMail).where(OutboundMail.purpose == "reminder")).all() == []
        assert s.exec(select(FeedbackRequest)).one().reminders_sent == 0
    counts = asyncio.run(send_followups(engine, settings, transport, now=later + timedelta(minutes=5)))
    assert (counts["reminders"], counts["failed"]) == (1, 0)


def test_review_correction_becomes_a_learned_example(engine: Engine, world: dict[str, object]) -> None:
    from typer.testing import CliRunner

    from cli.main import app

    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    mid = _store(engine, _reply(request, settings, "Won but also lost, no idea."), _rcpt(request, settings))
    process_message(engine, settings, mid)
    with Session(engine) as s:
        item = s.exec(select(ReviewItem)).first()
        if item is None:  # the classifier was sure: put it in review by hand
            response = s.exec(select(Response)).one()
            item = ReviewItem(type="response", response_id=response.id, request_id=request.id)
            s.add(item)
            s.commit()
        item_id = item.id
    env = {
        "FEEDBACK_DATABASE_URL": settings.resolved_database_url,
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_DATA_DIR": str(settings.data_dir),
    }
    result = CliRunner().invoke(
        app,
        [
            "review",
            "set",
            str(item_id),
            "--outcome",
            "rejected",
            "-r",
            "no_budget",
            "--by",
            "ops@brightline.example",
        ],
        env=env,
    )
    assert result.exit_code == 0, result.output
    bad = CliRunner().invoke(app, ["review", "set", str(item_id), "--outcome", "won"], env=env)
    assert bad.exit_code != 0 and "not a disposition outcome" in bad.output
    with Session(engine) as s:
        learned = load_learned(s)
        current = s.exec(select(Response).where(Response.is_current)).one()
    assert current.source == "review" and current.corrected_by == "ops@brightline.example"
    assert [(e.outcome, e.reasons) for e in learned.examples] == [("rejected", ("no_budget",))]


def test_answer_to_the_clarification_completes_the_request(engine: Engine, world: dict[str, object]) -> None:
    from feedback.runtime.demo import build_reply

    settings, request, transport = world["settings"], world["request"], world["transport"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    assert isinstance(transport, MaildirTransport)
    mid = _store(engine, _reply(request, settings, "Which lead is this?"), _rcpt(request, settings))
    process_message(engine, settings, mid)
    assert asyncio.run(send_clarifications(engine, settings, transport)) == 1
    box = mailbox.Maildir(world["outbox"], create=False)  # type: ignore[arg-type]
    clarification = next(
        box.get_bytes(k)
        for k in box.keys()  # noqa: SIM118 - Maildir iterates messages
        if str(box.get_message(k)["Subject"]).startswith("Quick follow-up")
    )
    assert b"1. Meeting booked" in clarification  # numbered options again
    reply, rcpt = build_reply(
        clarification,
        text="Sorry - rejected, no budget.",
        sender_name="Dana",
        sender="dana@brightline.example",
    )
    answer = _store(engine, reply.as_bytes(), rcpt)
    out = process_message(engine, settings, answer)
    assert out.status == "processed" and out.request_id == request.id
    with Session(engine) as s:
        assert s.get(FeedbackRequest, request.id).status == RequestStatus.answered  # type: ignore[union-attr]
        current = s.exec(select(Response).where(Response.is_current)).one()
        assert current.outcome == "rejected"
        assert len(s.exec(select(Response)).all()) == 2  # the unclear answer is kept as history


def test_authentication_results_kept_only_from_our_own_mta(engine: Engine, world: dict[str, object]) -> None:
    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    settings = settings.model_copy(update={"authserv_id": "mx.feedback.example.test"})
    headers = {
        "Authentication-Results": "mx.feedback.example.test; dmarc=pass header.from=brightline.example",
    }
    raw = _reply(request, settings, "Accepted, demo booked.", headers=headers)
    forged = b"Authentication-Results: evil.example; dmarc=pass\r\n" + raw
    mid = _store(engine, forged, _rcpt(request, settings))
    process_message(engine, settings, mid)
    with Session(engine) as s:
        message = s.get(InboundMessage, mid)
    assert message is not None and message.auth_results is not None
    assert "dmarc=pass header.from=brightline.example" in message.auth_results
    assert "evil.example" not in message.auth_results


def test_status_and_requeue_commands(engine: Engine, world: dict[str, object]) -> None:
    import json

    from typer.testing import CliRunner

    from cli.main import app

    settings, request = world["settings"], world["request"]
    assert isinstance(settings, Settings) and isinstance(request, FeedbackRequest)
    bad = _store(engine, b"\x00\x01\x02 not a message at all", _rcpt(request, settings))
    assert process_message(engine, settings, bad).status == "failed"
    env = {"FEEDBACK_DATABASE_URL": settings.resolved_database_url, "FEEDBACK_SECRET": "test-secret",
           "FEEDBACK_DATA_DIR": str(settings.data_dir)}  # fmt: skip
    runner = CliRunner()
    status = runner.invoke(app, ["status", "--format", "json"], env=env)
    assert status.exit_code == 0, status.output
    rows = {r["metric"]: r["value"] for r in json.loads(status.output)}
    assert rows["messages failed"] == 1 and rows["oldest unprocessed"] == "none"
    requeued = runner.invoke(app, ["requeue"], env=env)
    assert requeued.exit_code == 0 and "1 failed message" in requeued.output
    with Session(engine) as s:
        assert s.get(InboundMessage, bad).status == "received"  # type: ignore[union-attr]


def _rep_with_leads(engine: Engine, *crm_ids: str) -> None:
    """Rep Ann with leads assigned five minutes ago and no request yet."""
    with Session(engine) as s:
        rep = Rep(email="ann@brightline.example", name="Ann")
        s.add(rep)
        s.commit()
        at = utcnow() - timedelta(minutes=5)
        s.add_all([Lead(crm_id=c, name=f"Lead {c}", rep_id=rep.id, assigned_at=at) for c in crm_ids])
        s.commit()


def test_worker_cron_sends_due_requests(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """The worker's send job asks about a newly assigned lead; the cron exists only with auto_send."""
    from workers import jobs
    from workers.arq_config import build_worker

    _rep_with_leads(engine, "L9")
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    sent_from: list[int] = []

    class Recording(MaildirTransport):
        async def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
            sent_from.append(threading.get_ident())
            await super().send(message, envelope_from=envelope_from, recipients=recipients)

    ctx = {"engine": engine, "settings": settings, "transport": Recording(tmp_path / "outbox")}
    assert asyncio.run(jobs.send_requests(ctx)) == 1
    assert asyncio.run(jobs.send_requests(ctx)) == 0  # asked once only
    assert len(mailbox.Maildir(str(tmp_path / "outbox"))) == 1
    # the round ran off the job loop's thread: a long one stalls neither jobs nor the ingest
    assert sent_from and threading.get_ident() not in sent_from
    assert asyncio.run(jobs.followups(ctx)) == {
        "reminders": 0,
        "escalations": 0,
        "expired": 0,
        "deferred": 0,
        "failed": 0,
        "clarifications": 0,
        "handed_over": 0,  # no rep left
        "sla_refreshed": 0,  # no answers to time
        "rollup_merged": 0,  # under rollup_upkeep.MIN_DELTAS: nothing merged
    }

    def cron_names(worker: object) -> set[str]:
        return {c.name for c in worker.cron_jobs}  # type: ignore[attr-defined]

    on = build_worker(settings, engine, "redis://127.0.0.1:1/0")
    off = build_worker(settings.model_copy(update={"auto_send": False}), engine, "redis://127.0.0.1:1/0")
    assert "cron:send_requests" in cron_names(on) and "cron:send_requests" not in cron_names(off)
    assert "cron:followups" in cron_names(off)


def test_a_lead_requested_meanwhile_is_counted_not_fatal(
    engine: Engine, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two senders racing (the cron and `feedback send`): the loser skips that lead and goes on."""
    import feedback.outbound.requesting as requesting

    _rep_with_leads(engine, "L1", "L2")
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    transport = MaildirTransport(tmp_path / "outbox")
    stale = requesting.due_leads

    def due_as_seen_before_the_other_sender(
        session: Session, since: datetime, now: datetime
    ) -> list[tuple[Lead, Rep]]:
        found = stale(session, since, now)
        session.commit()  # SQLite admits one writer: let the other sender in between
        with Session(engine) as other:  # the other sender asks about the first lead now
            lead, rep = found[0]
            other.add(FeedbackRequest(kind="disposition", lead_id=lead.id, rep_id=rep.id or 0))
            other.commit()
        return found

    monkeypatch.setattr(requesting, "due_leads", due_as_seen_before_the_other_sender)
    result = asyncio.run(send_due_requests(engine, settings, transport))
    assert (result.sent, result.already, result.errors) == (1, 1, [])
    with Session(engine) as s:
        assert len(s.exec(select(FeedbackRequest)).all()) == 2


def test_a_request_whose_mail_fails_is_tried_again_next_round(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """The relay refuses: no request is left claiming it was sent, and the next round sends it."""

    class Refusing(MaildirTransport):
        async def send(self, message: EmailMessage, *, envelope_from: str, recipients: list[str]) -> None:
            raise ConnectionRefusedError("relay down")

    _rep_with_leads(engine, "L7")
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    failed = asyncio.run(send_due_requests(engine, settings, Refusing(tmp_path / "outbox")))
    assert failed.sent == 0 and len(failed.errors) == 1 and "relay down" in failed.errors[0]
    with Session(engine) as s:
        assert s.exec(select(FeedbackRequest)).all() == []
        assert s.exec(select(OutboundMail)).all() == []  # a failure does not count against the cap
    retried = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "outbox")))
    assert (retried.sent, retried.errors) == (1, [])
    with Session(engine) as s:
        request = s.exec(select(FeedbackRequest)).one()
        assert request.status == RequestStatus.sent and request.token


def test_send_dry_run_lists_and_stores_nothing(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    _rep_with_leads(engine, "L1", "L2")
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "daily_cap_per_rep": 1})
    outbox = tmp_path / "outbox"
    dry = asyncio.run(send_due_requests(engine, settings, MaildirTransport(outbox), dry_run=True))
    assert (dry.sent, dry.skipped, [p["to"] for p in dry.planned]) == (0, 1, ["ann@brightline.example"])
    assert dry.planned[0]["subject"].startswith("What happened to lead Lead L1")
    with Session(engine) as s:
        assert s.exec(select(FeedbackRequest)).all() == [] and s.exec(select(OutboundMail)).all() == []
    assert not outbox.exists() or len(mailbox.Maildir(str(outbox))) == 0

    from typer.testing import CliRunner

    from cli.main import app

    env = {
        "FEEDBACK_DATABASE_URL": str(engine.url.render_as_string(hide_password=False)),
        "FEEDBACK_SECRET": "test-secret",
        "FEEDBACK_SEND_SINCE": "2020-01-01T00:00:00",
        "FEEDBACK_OUTBOX_DIR": str(outbox),
        "FEEDBACK_BUSINESS_TIME": "false",  # the test runs at any hour, on any day
    }
    result = CliRunner().invoke(app, ["send", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "2 request(s) would be sent" in result.output and "Nothing was stored or sent" in result.output
    with Session(engine) as s:
        assert s.exec(select(FeedbackRequest)).all() == []
