"""Every state a request or a message can take, and how each one ends (controllable clock).

Also: one clarification per unclear answer, from that request's own address; a manager may
answer an escalated request; ``send`` says why it held leads and deals back.
"""

from __future__ import annotations

import asyncio
import mailbox
from collections.abc import Collection
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy.engine import Connection, Engine
from sqlmodel import Session, select

from feedback.ingress.store import Incoming, store_batch
from feedback.outbound.requesting import send_clarifications, send_due_requests, send_followups
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services import batch, processing
from feedback.services.processing import process_message
from feedback.storage import fact_upkeep
from feedback.storage.lifecycle import FINAL, TRANSITIONS, TransitionError, move
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    InboundMessage,
    Lead,
    MessageStatus,
    Rep,
    RepSignature,
    RequestStatus,
    Response,
    ResponseReason,
    ReviewItem,
)

T0 = datetime(2026, 3, 2, 9, 0)


@pytest.fixture
def loop_world(engine: Engine, settings: Settings, tmp_path: Path) -> dict[str, object]:
    """One rep with a manager, two leads and a closed deal, all requested at T0."""
    with Session(engine) as s:
        rep = Rep(
            email="dana@brightline.example", name="Dana Whitfield", manager_email="boss@brightline.example"
        )
        s.add(rep)
        s.commit()
        for i in (1, 2):
            s.add(Lead(crm_id=f"L{i}", name=f"Lead {i}", company=f"Co {i}", rep_id=rep.id, assigned_at=T0))
        s.add(
            Deal(
                crm_id="D1",
                name="Globex platform",
                rep_id=rep.id,
                result="won",
                close_date=T0.date(),
                amount=1000,
            )
        )
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "token_ttl_days": 30})
    transport = MaildirTransport(tmp_path / "outbox")
    assert asyncio.run(send_due_requests(engine, settings, transport, now=T0)).sent == 3
    return {"settings": settings, "transport": transport, "outbox": tmp_path / "outbox"}


def _requests(engine: Engine) -> dict[str, FeedbackRequest]:
    with Session(engine) as s:
        out = {}
        for r in s.exec(select(FeedbackRequest)).all():
            if r.lead_id is not None:
                out[s.get(Lead, r.lead_id).crm_id] = r  # type: ignore[union-attr]
            else:
                out[s.get(Deal, r.deal_id).crm_id] = r  # type: ignore[union-attr]
        return out


def _status(engine: Engine, request_id: int | None) -> str:
    with Session(engine) as s:
        return s.get(FeedbackRequest, request_id).status  # type: ignore[union-attr]


def _reply(
    settings: Settings, request: FeedbackRequest, text: str, *, sender: str = "dana@brightline.example"
) -> tuple[bytes, str]:
    rcpt = f"feedback+{request.token}@{settings.reply_domain}"
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = rcpt
    msg["Subject"] = "Re: your question"
    msg["Message-ID"] = f"<{abs(hash((text, sender, request.id)))}@brightline.example>"
    msg.set_content(text + "\n")
    return msg.as_bytes(), rcpt


def _answer(
    engine: Engine,
    settings: Settings,
    request: FeedbackRequest,
    text: str,
    *,
    now: datetime,
    sender: str = "dana@brightline.example",
) -> processing.Outcome:
    raw, rcpt = _reply(settings, request, text, sender=sender)
    mid = store_batch(
        engine, [Incoming(raw=raw, mail_from=sender, rcpt_to=(rcpt,), peer="127.0.0.1", received_at=now)]
    )[0].id
    return process_message(engine, settings, mid, now=now)


def _mails(outbox: object) -> list[EmailMessage]:
    box = mailbox.Maildir(outbox, create=False)  # type: ignore[arg-type]
    return [box.get_message(k) for k in sorted(box.keys())]  # type: ignore[misc]


def _text(msg: object) -> str:
    assert isinstance(msg, mailbox.MaildirMessage)
    for part in msg.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode()
    return ""


def test_each_unclear_answer_gets_its_own_clarification_from_its_own_address(
    engine: Engine, loop_world: dict[str, object]
) -> None:
    settings, transport = loop_world["settings"], loop_world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    reqs = _requests(engine)
    now = T0 + timedelta(hours=2)
    for key in ("L1", "L2", "D1"):
        assert (
            _answer(engine, settings, reqs[key], "let me check with the team", now=now).status == "processed"
        )
        assert _status(engine, reqs[key].id) == RequestStatus.clarifying

    assert asyncio.run(send_clarifications(engine, settings, transport, now=now)) == 3
    clarifications = [
        m for m in _mails(loop_world["outbox"]) if str(m["Subject"]).startswith("Quick follow-up")
    ]
    assert len(clarifications) == 3
    by_from = {str(m["From"]): m for m in clarifications}
    for key in ("L1", "L2", "D1"):
        mail = next(m for f, m in by_from.items() if str(reqs[key].token) in f)
        body = _text(mail)
        if key == "D1":
            assert "Globex platform" in str(mail["Subject"]) and "Went dark" in body
            assert "Meeting" not in body  # only the win/loss options
        else:
            assert f"Lead {key[1]}" in str(mail["Subject"]) and "Meeting booked" in body
            assert "Went dark" not in body

    # the rep answers the second lead's clarification: that request, and only it, is answered
    later = now + timedelta(hours=3)
    assert _answer(engine, settings, reqs["L2"], "Rejected, no budget.", now=later).status == "processed"
    assert _status(engine, reqs["L2"].id) == RequestStatus.answered
    assert _status(engine, reqs["L1"].id) == RequestStatus.clarifying
    assert _status(engine, reqs["D1"].id) == RequestStatus.clarifying
    with Session(engine) as s:
        current = s.exec(
            select(Response).where(Response.is_current, Response.request_id == reqs["L2"].id)
        ).one()
        assert current.outcome == "rejected"


def test_clarifications_per_rep_are_capped_per_day_and_the_rest_follow(
    engine: Engine, loop_world: dict[str, object]
) -> None:
    settings, transport = loop_world["settings"], loop_world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    settings = settings.model_copy(update={"clarifications_per_rep_per_day": 2})
    reqs = _requests(engine)
    now = T0 + timedelta(hours=1)
    for key in ("L1", "L2", "D1"):
        _answer(engine, settings, reqs[key], "hmm", now=now)
    assert asyncio.run(send_clarifications(engine, settings, transport, now=now)) == 2
    assert asyncio.run(send_clarifications(engine, settings, transport, now=now + timedelta(hours=1))) == 0
    assert asyncio.run(send_clarifications(engine, settings, transport, now=now + timedelta(hours=25))) == 1


def _run_clock(
    engine: Engine, settings: Settings, transport: MaildirTransport, start: datetime, days: int
) -> dict[str, int]:
    totals: dict[str, int] = {}
    for hour in range(0, days * 24, 6):
        now = start + timedelta(hours=hour)
        counts = asyncio.run(send_followups(engine, settings, transport, now=now))
        counts["clarifications"] = asyncio.run(send_clarifications(engine, settings, transport, now=now))
        for k, v in counts.items():
            totals[k] = totals.get(k, 0) + v
    return totals


def test_a_request_waiting_on_clarification_is_reminded_escalated_and_expires(
    engine: Engine, loop_world: dict[str, object]
) -> None:
    settings, transport = loop_world["settings"], loop_world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    reqs = _requests(engine)
    _answer(engine, settings, reqs["L1"], "let me check with the team", now=T0 + timedelta(hours=1))
    totals = _run_clock(engine, settings, transport, T0 + timedelta(hours=1), days=45)
    assert totals["clarifications"] == 1
    with Session(engine) as s:
        r = s.get(FeedbackRequest, reqs["L1"].id)
        assert r is not None and r.status == RequestStatus.expired and r.escalated_at is not None
        assert r.clarified_at is not None
    assert totals["escalations"] == 3  # L1 after its clarification, L2 and D1 unanswered
    assert all(_status(engine, r.id) == RequestStatus.expired for r in reqs.values())


def test_every_request_state_ends(engine: Engine, loop_world: dict[str, object]) -> None:
    """Walk: each waiting state reaches a final one by the clock alone; review by a person."""
    settings, transport = loop_world["settings"], loop_world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    reqs = _requests(engine)
    now = T0 + timedelta(hours=1)
    _answer(engine, settings, reqs["L1"], "let me check with the team", now=now)  # -> clarifying
    _answer(engine, settings, reqs["L2"], "Rejected, no budget.", now=now)  # -> answered
    assert {_status(engine, r.id) for r in reqs.values()} == {
        RequestStatus.clarifying,
        RequestStatus.answered,
        RequestStatus.sent,
    }
    _run_clock(engine, settings, transport, now, days=45)
    assert {k: _status(engine, r.id) for k, r in reqs.items()} == {
        "L1": RequestStatus.expired,
        "L2": RequestStatus.answered,
        "D1": RequestStatus.expired,
    }
    # every state has a way out; the final ones are only left by a new answer or none at all
    for state, targets in TRANSITIONS.items():
        if state is RequestStatus.bounced:  # the question never reached anyone: a hand-over asks again
            assert RequestStatus.sent in targets
        elif state in FINAL or state is RequestStatus.skipped:
            assert RequestStatus.sent not in targets
        else:
            assert targets & set(FINAL), f"{state} has no way to a final state"
    # review is left by a person deciding, never by the clock
    assert RequestStatus.answered in TRANSITIONS[RequestStatus.review]
    assert RequestStatus.expired not in TRANSITIONS[RequestStatus.review]
    with Session(engine) as s:
        expired = s.get(FeedbackRequest, reqs["D1"].id)
        assert expired is not None
        with pytest.raises(TransitionError):
            move(expired, RequestStatus.answered, now=now)


def test_a_reply_to_an_expired_request_is_not_recorded(engine: Engine, loop_world: dict[str, object]) -> None:
    settings, transport = loop_world["settings"], loop_world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    reqs = _requests(engine)
    late = T0 + timedelta(days=31)
    asyncio.run(send_followups(engine, settings, transport, now=late))
    assert _status(engine, reqs["D1"].id) == RequestStatus.expired
    out = _answer(engine, settings, reqs["D1"], "Won on price", now=late)
    assert out.status == "ignored" and out.mail[0][0] == "expired"
    assert _status(engine, reqs["D1"].id) == RequestStatus.expired


def test_the_manager_may_answer_once_escalated(engine: Engine, loop_world: dict[str, object]) -> None:
    settings, transport = loop_world["settings"], loop_world["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    reqs = _requests(engine)
    boss = "Boss <BOSS@brightline.example>"
    early = _answer(
        engine, settings, reqs["L1"], "Rejected, no budget.", now=T0 + timedelta(hours=2), sender=boss
    )
    assert early.status == "quarantined"  # not escalated yet: the manager was never asked
    for h in (49, 98, 130):
        asyncio.run(send_followups(engine, settings, transport, now=T0 + timedelta(hours=h)))
    assert _status(engine, reqs["L2"].id) == RequestStatus.escalated
    out = _answer(
        engine, settings, reqs["L2"], "Rejected, wrong contact.", now=T0 + timedelta(hours=131), sender=boss
    )
    assert out.status == "processed"
    assert _status(engine, reqs["L2"].id) == RequestStatus.answered
    with Session(engine) as s:
        resp = s.exec(select(Response).where(Response.request_id == reqs["L2"].id)).one()
        assert resp.answered_by == "boss@brightline.example" and resp.outcome == "rejected"
    stranger = _answer(
        engine, settings, reqs["D1"], "Won on price", now=T0 + timedelta(hours=132), sender="eve@evil.example"
    )
    assert stranger.status == "quarantined"


def test_a_message_that_keeps_raising_ends_failed_after_n_attempts(
    engine: Engine, loop_world: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = loop_world["settings"]
    assert isinstance(settings, Settings)
    settings = settings.model_copy(update={"job_max_tries": 3})
    reqs = _requests(engine)
    raw, rcpt = _reply(settings, reqs["L1"], "Accepted")
    mid = store_batch(
        engine, [Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer=None, received_at=T0)]
    )[0].id

    def poison(raw: bytes) -> object:
        raise RuntimeError("parser bug")

    monkeypatch.setattr(processing, "parse_message", poison)
    for _ in range(3):
        with pytest.raises(RuntimeError):
            process_message(engine, settings, mid, now=T0)
    out = process_message(engine, settings, mid, now=T0)  # the sweeper's next try gives up
    assert out.status == MessageStatus.failed
    with Session(engine) as s:
        msg = s.get(InboundMessage, mid)
        assert msg is not None and msg.status == MessageStatus.failed and msg.attempts == 3
        assert "parser bug" in (msg.error or "")


def test_poison_in_parser_and_in_storage_end_failed_shown_by_status_and_only_requeue_retries(
    engine: Engine, loop_world: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    from feedback.services.status import service_status
    from feedback.storage.lifecycle import requeue_failed

    settings = loop_world["settings"]
    assert isinstance(settings, Settings)
    settings = settings.model_copy(update={"job_max_tries": 2})
    reqs = _requests(engine)
    ids = []
    for key, text in (("L1", "Accepted"), ("D1", "Lost on price")):
        raw, rcpt = _reply(settings, reqs[key], text)
        item = Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer=None, received_at=T0)
        ids.append(store_batch(engine, [item])[0].id)

    def in_parser(raw: bytes) -> object:
        raise RuntimeError("parser bug")

    def in_storage(*args: object, **kwargs: object) -> object:
        raise IntegrityError("INSERT INTO response", {}, Exception("storage bug"))

    with monkeypatch.context() as patch:
        patch.setattr(processing, "parse_message", in_parser)
        for _ in range(2):
            with pytest.raises(RuntimeError):
                process_message(engine, settings, ids[0], now=T0)
        assert process_message(engine, settings, ids[0], now=T0).status == MessageStatus.failed
    with monkeypatch.context() as patch:
        patch.setattr(processing, "store_response", in_storage)
        patch.setattr(batch, "_write", in_storage)  # the batch's write, then the one-message path's
        for _ in range(2):
            with pytest.raises(IntegrityError):
                process_message(engine, settings, ids[1], now=T0)
        assert process_message(engine, settings, ids[1], now=T0).status == MessageStatus.failed
    # failed is final for the worker: another try changes nothing
    assert process_message(engine, settings, ids[1], now=T0).status == MessageStatus.failed
    state = service_status(engine, settings, now=T0)
    shown = {row["metric"]: row["value"] for row in state.rows()}
    assert shown["messages failed"] == 2
    assert "parser bug" in shown[f"failed message #{ids[0]}"]
    assert "storage bug" in shown[f"failed message #{ids[1]}"]
    with Session(engine) as s:  # the fix landed: requeue gives fresh attempts
        assert requeue_failed(s) == 2
        s.commit()
    for mid in ids:
        assert process_message(engine, settings, mid, now=T0).status == MessageStatus.processed
    with Session(engine) as s:
        assert {m.attempts for m in s.exec(select(InboundMessage)).all() if m.id in ids} == {1}


def test_send_says_why_it_held_leads_and_deals_back(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    with Session(engine) as s:
        active = Rep(email="a@x.example", name="A")
        gone = Rep(email="g@x.example", name="G", active=False)
        s.add(active)
        s.add(gone)
        s.commit()
        s.add(Lead(crm_id="old", rep_id=active.id, assigned_at=datetime(2019, 5, 1)))
        s.add(Lead(crm_id="orphan", assigned_at=T0))
        s.add(Lead(crm_id="gone", rep_id=gone.id, assigned_at=T0))
        s.add(Lead(crm_id="nodate", rep_id=active.id))
        s.add(Deal(crm_id="d-old", rep_id=active.id, result="lost", close_date=date(2019, 5, 1)))
        s.add(Lead(crm_id="new1", rep_id=active.id, assigned_at=T0))
        s.add(Lead(crm_id="new2", rep_id=active.id, assigned_at=T0))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1), "daily_cap_per_rep": 1})
    result = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "o"), now=T0))
    assert result.sent == 1
    assert result.held == {
        "before_send_since": 2,
        "no_owner": 1,
        "inactive_rep": 1,
        "no_date": 1,
        "daily_cap": 1,
    }


def test_one_record_that_cannot_become_a_mail_skips_only_itself(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    with Session(engine) as s:
        bad = Rep(email="bad@x.example", name="Evil\r\nBcc: victim@x.example")
        good = Rep(email="good@x.example", name="Good")
        s.add(bad)
        s.add(good)
        s.commit()
        s.add(Lead(crm_id="L-bad", rep_id=bad.id, assigned_at=T0))
        s.add(Lead(crm_id="L-good", rep_id=good.id, assigned_at=T0 - timedelta(minutes=1)))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    outbox = tmp_path / "o"
    result = asyncio.run(send_due_requests(engine, settings, MaildirTransport(outbox), now=T0))
    assert result.sent == 1 and result.held.get("unrenderable") == 1
    assert len(result.errors) == 1 and "bad@x.example" in result.errors[0]
    mails = _mails(outbox)
    assert [str(m["To"]) for m in mails] == ["Good <good@x.example>"]
    assert all("victim" not in str(m) for m in mails)


def test_an_override_that_fails_on_real_data_sends_the_shipped_template(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """A template that passed `edit` on sample data but fails on a real lead is never sent broken."""
    from feedback.outbound.rendering import shipped_source
    from feedback.storage.models import TemplateOverride

    broken = shipped_source("disposition_request").replace(
        "{% block subject %}",
        '{% block subject %}{% if lead.company == "Boom Corp" %}{{ 1 // 0 }}{% endif %}',
        1,
    )
    with Session(engine) as s:
        rep = Rep(email="a@x.example", name="A")
        s.add(rep)
        s.commit()
        s.add(TemplateOverride(name="disposition_request", version=1, source=broken))
        s.add(Lead(crm_id="L-boom", company="Boom Corp", rep_id=rep.id, assigned_at=T0))
        s.add(Lead(crm_id="L-fine", company="Fine Ltd", rep_id=rep.id, assigned_at=T0))
        s.commit()
    settings = settings.model_copy(update={"send_since": datetime(2020, 1, 1)})
    result = asyncio.run(send_due_requests(engine, settings, MaildirTransport(tmp_path / "o"), now=T0))
    assert result.sent == 2 and result.errors == []
    assert len(result.template_fallbacks) == 1 and "shipped template was sent" in result.template_fallbacks[0]
    with Session(engine) as s:
        versions = sorted(r.template_version for r in s.exec(select(FeedbackRequest)).all())
    assert versions[0].startswith("override-") and versions[1].startswith("shipped-")


def _snapshot(engine: Engine) -> list[list[str]]:
    """Requests, responses (with reasons), messages and learned signatures, without the ids that
    depend on the order."""
    with Session(engine) as s:
        requests = [repr((r.id, r.status, r.answered_at)) for r in s.exec(select(FeedbackRequest)).all()]
        responses = []
        for r in s.exec(select(Response)).all():
            reasons = s.exec(
                select(ResponseReason.code)
                .where(ResponseReason.response_id == r.id)
                .order_by(ResponseReason.rank)  # type: ignore[arg-type]
            ).all()
            responses.append(
                repr(
                    (
                        r.request_id,
                        r.outcome,
                        r.is_current,
                        r.needs_review,
                        r.answered_by,
                        r.reply_text,
                        reasons,
                    )
                )
            )
        messages = [
            repr((m.message_id, m.status, m.request_id, m.attempts, m.from_addr))
            for m in s.exec(select(InboundMessage)).all()
        ]
        signatures = [
            repr((g.rep_id, g.lines, g.samples, g.messages)) for g in s.exec(select(RepSignature)).all()
        ]
    return [sorted(requests), sorted(responses), sorted(messages), sorted(signatures)]


def test_a_batch_ends_as_the_same_messages_processed_one_by_one(
    engine: Engine, loop_world: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch path (several messages, two to one request, an alias-less stranger, no token)
    leaves the database as processing each message alone in the same order does."""
    settings = loop_world["settings"]
    assert isinstance(settings, Settings)
    reqs = _requests(engine)
    mails = [
        _reply(settings, reqs["L1"], "Accepted, good fit"),
        _reply(settings, reqs["L2"], "Rejected: no budget"),
        _reply(settings, reqs["L1"], "Sorry, correction: rejected, no budget"),  # same request again
        _reply(settings, reqs["D1"], "Won on price", sender="eve@evil.example"),  # not the rep
        _reply(settings, reqs["L2"], "hmm"),  # no outcome: the second answer to L2
    ]
    items = [
        Incoming(raw=raw, mail_from="dana@brightline.example", rcpt_to=(rcpt,), peer=None, received_at=T0)
        for raw, rcpt in mails
    ]
    items.append(  # no token at all: unmatched
        Incoming(
            raw=b"From: dana@brightline.example\r\nSubject: hi\r\nMessage-ID: <x1@b>\r\n\r\nAccepted\r\n",
            mail_from="dana@brightline.example",
            rcpt_to=(f"feedback@{settings.reply_domain}",),
            peer=None,
            received_at=T0,
        )
    )
    ids = [s.id for s in store_batch(engine, items)]
    fast: list[int] = []
    write = batch._write

    def spy(engine: Engine, plans: list[batch._Plan], **kwargs: object) -> object:
        fast.extend(p.message.id for p in plans)
        return write(engine, plans, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "_write", spy)
    refreshed: list[int] = []
    refresh = fact_upkeep.refresh

    def spy_facts(conn: Connection, request_ids: Collection[int]) -> None:
        refreshed.extend(request_ids)
        refresh(conn, request_ids)

    monkeypatch.setattr(fact_upkeep, "refresh", spy_facts)
    together = processing.process_batch(engine, settings, ids, now=T0)
    monkeypatch.undo()
    assert fast == ids[:2]  # the first answers to L1 and L2 took the batch write; the rest one by one
    # the batch write recomputed its two requests' facts once (the triggers deferred), and the
    # facts equal a recompute (tests/conftest.py checks every test's database at teardown)
    assert sorted(refreshed) == sorted([reqs["L1"].id, reqs["L2"].id])
    assert all(isinstance(v, processing.Outcome) for v in together.values())
    batched = _snapshot(engine)
    # the same world again, one message at a time
    with Session(engine) as s:
        for model in (ReviewItem, ResponseReason, Response, InboundMessage, RepSignature):
            for row in s.exec(select(model)).all():
                s.delete(row)
            s.commit()
        for r in s.exec(select(FeedbackRequest)).all():
            r.status, r.answered_at = RequestStatus.sent, None
            s.add(r)
        s.commit()
    ids = [s.id for s in store_batch(engine, items)]
    alone = [process_message(engine, settings, mid, now=T0) for mid in ids]
    assert _snapshot(engine) == batched
    assert [o.status for o in alone] == [together[k].status for k in sorted(together)]


def test_the_worker_reads_replies_with_the_model_when_it_is_on(
    engine: Engine, loop_world: dict[str, object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batch path (the common reply) and the one-message path both give the classifier the
    active model: the product's default reads with rules and model together."""
    from feedback.core import analysis

    settings = loop_world["settings"]
    assert isinstance(settings, Settings)
    settings = settings.model_copy(update={"classifier_model": True})
    used: list[str] = []
    real = analysis.classify_with_model

    def spy(text: str, **kwargs: object) -> object:
        used.append(text)
        return real(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(analysis, "classify_with_model", spy)
    reqs = _requests(engine)
    raw, rcpt = _reply(settings, reqs["D1"], "Won it, mainly because their team trusted our SE")
    mid = store_batch(
        engine, [Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer=None, received_at=T0)]
    )[0].id
    assert process_message(engine, settings, mid, now=T0).status == MessageStatus.processed
    assert used and "trusted our SE" in used[0]
    with Session(engine) as s:
        response = s.exec(select(Response).where(Response.request_id == reqs["D1"].id)).one()
        assert response.outcome == "won"
