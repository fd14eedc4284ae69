"""People change: a reps import drops a rep; their open requests go to the lead's new owner from
the next leads import, else (after ``handover_wait_hours``) to their manager; history kept and
the new recipient asked afresh. Simulated time, the worker's follow-up round on its clock."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.importing import import_leads, import_reps
from feedback.outbound.requesting import send_due_requests
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.services.handover import hand_over_open_requests
from feedback.services.requests_admin import timeline
from feedback.storage.models import FeedbackRequest, Lead, OutboundMail, Rep, RequestStatus
from workers import jobs

T0 = datetime(2026, 3, 2, 10, 0)  # a Monday, inside working hours (UTC)
TEAM = [
    {"Email": "ann@x.example", "Name": "Ann", "Manager": "max@x.example"},
    {"Email": "ben@x.example", "Name": "Ben", "Manager": "max@x.example"},
    {"Email": "max@x.example", "Name": "Max"},
]


def _lead_rows(owners: dict[str, str]) -> list[dict[str, str]]:
    return [
        {"Lead ID": crm, "Name": f"Lead {crm}", "Owner Email": owner, "Created Date": "2026-03-01"}
        for crm, owner in owners.items()
    ]


def _requests(engine: Engine) -> dict[str, FeedbackRequest]:
    with Session(engine) as s:
        rows = s.exec(
            select(FeedbackRequest, Lead).join(Lead, col(Lead.id) == col(FeedbackRequest.lead_id))
        ).all()
        return {lead.crm_id: request for request, lead in rows}


def _mails(engine: Engine) -> list[tuple[str, str, int | None]]:
    with Session(engine) as s:
        rows = s.exec(select(OutboundMail).order_by(col(OutboundMail.id))).all()
        return [(m.to_addr, m.purpose, m.request_id) for m in rows]


def _rep_email(engine: Engine, rep_id: int) -> str:
    with Session(engine) as s:
        rep = s.get(Rep, rep_id)
        assert rep is not None
        return rep.email


def test_a_dropped_reps_requests_go_to_the_new_owner_else_the_manager(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={"business_time": False, "send_since": datetime(2020, 1, 1), "handover_wait_hours": 24}
    )
    transport = MaildirTransport(tmp_path / "outbox")
    with Session(engine) as s:
        assert import_reps(session=s, rows=TEAM, settings=settings).created == 3
        import_leads(
            session=s, rows=_lead_rows({"L1": "ann@x.example", "L2": "ann@x.example"}), settings=settings
        )
        s.commit()
    asyncio.run(send_due_requests(engine, settings, transport, now=T0))
    before = _requests(engine)
    assert {k: _rep_email(engine, r.rep_id) for k, r in before.items()} == {
        "L1": "ann@x.example",
        "L2": "ann@x.example",
    }

    # Tuesday: the CRM's user export no longer lists Ann
    tuesday = T0 + timedelta(days=1)
    with Session(engine) as s:
        result = import_reps(
            session=s, rows=TEAM[1:], settings=settings, deactivate_missing=True, now=tuesday
        )
        s.commit()
    assert result.deactivated == ["ann@x.example"]
    # nobody owns her leads yet: her requests wait for the next leads import
    assert (
        asyncio.run(hand_over_open_requests(engine, settings, transport, now=tuesday, to_manager=False)) == []
    )

    # an hour later the leads export gives L1 to Ben: the import hands its request over at once
    with Session(engine) as s:
        import_leads(
            session=s, rows=_lead_rows({"L1": "ben@x.example", "L2": "ann@x.example"}), settings=settings
        )
        s.commit()
    moved = asyncio.run(
        hand_over_open_requests(
            engine, settings, transport, now=tuesday + timedelta(hours=1), to_manager=False
        )
    )
    assert [(h.from_email, h.to_email, h.why) for h in moved] == [
        ("ann@x.example", "ben@x.example", "new owner")
    ]

    # the follow-up round: L2 has no new owner; within the wait it stays, after it Max has it
    ctx = {"engine": engine, "settings": settings, "transport": transport}
    ctx["clock"] = lambda: tuesday + timedelta(hours=23)
    assert asyncio.run(jobs.followups(ctx))["handed_over"] == 0
    assert _rep_email(engine, _requests(engine)["L2"].rep_id) == "ann@x.example"
    ctx["clock"] = lambda: tuesday + timedelta(hours=24, minutes=5)
    assert asyncio.run(jobs.followups(ctx))["handed_over"] == 1

    after = _requests(engine)
    assert {k: _rep_email(engine, r.rep_id) for k, r in after.items()} == {
        "L1": "ben@x.example",
        "L2": "max@x.example",
    }
    # the same requests (ids, tokens) asked afresh: sent again, clock restarted, reminders reset
    for key in ("L1", "L2"):
        assert after[key].id == before[key].id and after[key].token == before[key].token
        assert after[key].status == RequestStatus.sent and after[key].reminders_sent == 0
    assert after["L1"].sent_at == tuesday + timedelta(hours=1)
    assert after["L2"].sent_at == tuesday + timedelta(hours=24, minutes=5)
    # every mail: Ann's two requests stay in the history, then one each to Ben and Max
    l1, l2 = before["L1"].id, before["L2"].id
    assert _mails(engine) == [
        ("ann@x.example", "request", l1),
        ("ann@x.example", "request", l2),
        ("ben@x.example", "request", l1),
        ("max@x.example", "request", l2),
    ]
    with Session(engine) as s:
        _, entries = timeline(s, l2 or 0)
        notes = [e.detail for e in entries if e.what == "note"]
        assert (
            notes and "reassigned from ann@x.example to max@x.example" in notes[0] and "(manager)" in notes[0]
        )
        assert [e.what for e in entries].count("sent") == 2
        ann = s.exec(select(Rep).where(Rep.email == "ann@x.example")).one()
        assert not ann.active and ann.deactivated_at == tuesday


def test_an_import_marking_a_rep_inactive_counts_as_leaving(engine: Engine, settings: Settings) -> None:
    with Session(engine) as s:
        import_reps(session=s, rows=TEAM, settings=settings)
        rows = [dict(TEAM[0], Active="no"), *TEAM[1:]]
        result = import_reps(session=s, rows=rows, settings=settings, now=T0)
        assert result.deactivated == ["ann@x.example"]
        assert s.exec(select(Rep).where(Rep.email == "ann@x.example")).one().deactivated_at == T0
        back = import_reps(session=s, rows=TEAM, settings=settings, now=T0)  # Active column gone: unchanged
        assert back.deactivated == []


def test_a_file_with_refused_rows_deactivates_no_one(engine: Engine, settings: Settings) -> None:
    with Session(engine) as s:
        import_reps(session=s, rows=TEAM, settings=settings)
        rows = [TEAM[1], {"Email": "not an address", "Name": "Typo"}]
        result = import_reps(session=s, rows=rows, settings=settings, deactivate_missing=True, now=T0)
        assert result.errors and result.deactivated == []
        assert all(r.active for r in s.exec(select(Rep)).all())


def _dsn(request: FeedbackRequest, settings: Settings, rep: str) -> bytes:
    """A permanent bounce of the request mail, as a receiving MTA sends it back."""
    return (
        "From: MAILER-DAEMON@mx.x.example (Mail Delivery System)\r\n"
        f"To: feedback+{request.token}@{settings.reply_domain}\r\n"
        f"Subject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn{request.id}@mx.x.example>\r\n"
        "Auto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nThe mail could not be delivered.\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.x.example\r\n\r\n"
        f"Final-Recipient: rfc822; {rep}\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        "--B\r\nContent-Type: message/rfc822\r\n\r\n"
        f"Message-ID: {request.message_id}\r\nTo: {rep}\r\nSubject: Lead\r\n\r\nHi\r\n--B--\r\n"
    ).encode()


def test_hard_bounces_make_a_rep_inactive_and_their_questions_go_to_the_manager(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    """A rep whose mailbox is gone (they left, nobody told the CRM) stops being asked: after
    ``bounce_deactivate_after`` hard bounces the rep is inactive, and the bounced questions and
    the open ones go to their manager after the wait."""
    from feedback.ingress.store import Incoming, store_batch
    from feedback.services.processing import process_message
    from feedback.storage.models import InboundMessage

    settings = settings.model_copy(
        update={
            "business_time": False,
            "send_since": datetime(2020, 1, 1),
            "handover_wait_hours": 24,
            "bounce_deactivate_after": 2,
        }
    )
    transport = MaildirTransport(tmp_path / "outbox")
    with Session(engine) as s:
        import_reps(session=s, rows=TEAM, settings=settings)
        owners = {"L1": "ann@x.example", "L2": "ann@x.example", "L3": "ann@x.example"}
        import_leads(session=s, rows=_lead_rows(owners), settings=settings)
        s.commit()
    asyncio.run(send_due_requests(engine, settings, transport, now=T0))
    reqs = _requests(engine)

    def bounce(key: str, at: datetime) -> InboundMessage:
        raw = _dsn(reqs[key], settings, "ann@x.example")
        rcpt = f"feedback+{reqs[key].token}@{settings.reply_domain}"
        item = Incoming(raw=raw, mail_from="", rcpt_to=(rcpt,), peer=None, received_at=at)
        mid = store_batch(engine, [item])[0].id
        process_message(engine, settings, mid, now=at)
        with Session(engine) as s:
            message = s.get(InboundMessage, mid)
            assert message is not None
            return message

    first = bounce("L1", T0 + timedelta(minutes=5))
    with Session(engine) as s:
        assert s.exec(select(Rep).where(Rep.email == "ann@x.example")).one().active  # one bounce: a glitch
    second = bounce("L2", T0 + timedelta(minutes=6))
    assert "inactive after 2 hard bounces" in (second.error or "") and "inactive" not in (first.error or "")
    with Session(engine) as s:
        ann = s.exec(select(Rep).where(Rep.email == "ann@x.example")).one()
        assert not ann.active and ann.deactivated_at == T0 + timedelta(minutes=6)
    assert {k: r.status for k, r in _requests(engine).items()} == {
        "L1": RequestStatus.bounced,
        "L2": RequestStatus.bounced,
        "L3": RequestStatus.sent,
    }
    ctx = {"engine": engine, "settings": settings, "transport": transport}
    ctx["clock"] = lambda: T0 + timedelta(hours=25)
    assert asyncio.run(jobs.followups(ctx))["handed_over"] == 3
    after = _requests(engine)
    assert {k: (_rep_email(engine, r.rep_id), r.status) for k, r in after.items()} == {
        k: ("max@x.example", RequestStatus.sent) for k in ("L1", "L2", "L3")
    }
    assert [m for m in _mails(engine) if m[0] == "max@x.example"] == [
        ("max@x.example", "request", after[k].id) for k in ("L1", "L2", "L3")
    ]
