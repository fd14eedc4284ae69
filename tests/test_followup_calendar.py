"""A simulated fortnight of follow-up on business time (controllable clock, never sleeps).

Reps in three time zones, a company holiday, an out-of-office with a return date, a rep who
leaves mid-way and a manager who answers the escalation: every mail and status is asserted.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.core.business_time import WorkCalendar
from feedback.core.calendars import rep_calendar
from feedback.ingress.store import Incoming, store_batch
from feedback.mail.absence import return_date
from feedback.outbound.requesting import send_clarifications, send_due_requests, send_followups
from feedback.outbound.transports import MaildirTransport
from feedback.reports import Filters, Rate, responsiveness, summary
from feedback.runtime.settings import Settings
from feedback.services.processing import process_message
from feedback.services.requests_admin import RequestAdminError, cancel, reassign, timeline
from feedback.services.sla_facts import refresh_sla
from feedback.storage.models import FeedbackRequest, Lead, OutboundMail, Rep, RequestStatus, Response

MONDAY = datetime(2026, 3, 2, 0, 0)  # UTC
HOLIDAY = date(2026, 3, 4)  # a Wednesday off for everyone
ZONES = {"berlin": "Europe/Berlin", "nyc": "America/New_York", "tokyo": "Asia/Tokyo"}


def _mail(settings: Settings, request: FeedbackRequest, sender: str, body: str, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = f"feedback+{request.token}@{settings.reply_domain}"
    msg["Subject"] = headers.pop("Subject", "Re: your question")
    msg["Message-ID"] = f"<{abs(hash((body, sender)))}@x.example>"
    for k, v in headers.items():
        msg[k] = v
    msg.set_content(body)
    return msg.as_bytes()


def _deliver(engine: Engine, settings: Settings, raw: bytes, rcpt: str, now: datetime) -> str:
    mid = store_batch(
        engine, [Incoming(raw=raw, mail_from="x@y", rcpt_to=(rcpt,), peer=None, received_at=now)]
    )[0].id
    return str(process_message(engine, settings, mid, now=now).status)


@pytest.fixture
def fortnight(engine: Engine, settings: Settings, tmp_path: Path) -> dict[str, object]:
    settings = settings.model_copy(
        update={
            "business_time": True,
            "reminder_after_hours": 16,
            "escalate_after_hours": 40,
            "holidays": [HOLIDAY],
            "send_since": datetime(2020, 1, 1),
            "team_timezones": {"Americas": "America/New_York"},
            "sla_business_hours": 24,
        }
    )
    with Session(engine) as s:
        reps = {
            "berlin": Rep(
                email="anna@x.example", name="Anna", timezone=ZONES["berlin"], manager_email="boss@x.example"
            ),
            "nyc": Rep(email="bob@x.example", name="Bob", team="Americas", manager_email="boss@x.example"),
            "tokyo": Rep(
                email="kenji@x.example", name="Kenji", timezone=ZONES["tokyo"], manager_email="boss@x.example"
            ),
            "heir": Rep(email="yuki@x.example", name="Yuki", timezone=ZONES["tokyo"]),
        }
        for rep in reps.values():
            s.add(rep)
        s.commit()
        for key in ("berlin", "nyc", "tokyo"):
            s.add(Lead(crm_id=f"L-{key}", name=f"Lead {key}", rep_id=reps[key].id, assigned_at=MONDAY))
        s.commit()
    return {"settings": settings, "transport": MaildirTransport(tmp_path / "outbox")}


def _maybe_request(engine: Engine, crm_id: str) -> FeedbackRequest | None:
    with Session(engine) as s:
        lead = s.exec(select(Lead).where(Lead.crm_id == crm_id)).one()
        return s.exec(select(FeedbackRequest).where(FeedbackRequest.lead_id == lead.id)).first()


def _request(engine: Engine, crm_id: str) -> FeedbackRequest:
    request = _maybe_request(engine, crm_id)
    assert request is not None, f"no request for {crm_id}"
    return request


def test_a_fortnight_of_follow_up_on_business_time(engine: Engine, fortnight: dict[str, object]) -> None:
    settings, transport = fortnight["settings"], fortnight["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    events_done: set[str] = set()
    for hour in range(14 * 24):
        now = MONDAY + timedelta(hours=hour)
        asyncio.run(send_due_requests(engine, settings, transport, now=now))
        asyncio.run(send_followups(engine, settings, transport, now=now))
        asyncio.run(send_clarifications(engine, settings, transport, now=now))
        berlin = _maybe_request(engine, "L-berlin")
        # Monday 11:00 Berlin: Anna's out-of-office says she is back on 9 March
        if (
            berlin is not None
            and berlin.token
            and "ooo" not in events_done
            and now >= datetime(2026, 3, 2, 10)
        ):
            raw = _mail(
                settings, berlin, "anna@x.example", "Ich bin nicht im Büro und ab dem 9. März wieder da.",
                Subject="Abwesenheitsnotiz", **{"Auto-Submitted": "auto-replied"},
            )  # fmt: skip
            assert (
                _deliver(engine, settings, raw, f"feedback+{berlin.token}@{settings.reply_domain}", now)
                == "ignored"
            )
            events_done.add("ooo")
        # Thursday 5 March, 03:00 UTC (noon in Tokyo): Kenji leaves; Yuki takes his requests over
        if "leaves" not in events_done and now >= datetime(2026, 3, 5, 3):
            moved = asyncio.run(
                reassign(
                    engine,
                    settings,
                    transport,
                    from_email="kenji@x.example",
                    to_email="yuki@x.example",
                    now=now,
                )
            )
            assert len(moved) == 1
            events_done.add("leaves")
        # Thursday 5 March, 06:00 UTC (15:00 in Tokyo): Yuki answers the request she took over
        if "yuki" not in events_done and now >= datetime(2026, 3, 5, 6):
            tokyo = _request(engine, "L-tokyo")
            raw = _mail(settings, tokyo, "yuki@x.example", "Rejected - no budget this year.")
            assert (
                _deliver(engine, settings, raw, f"feedback+{tokyo.token}@{settings.reply_domain}", now)
                == "processed"
            )
            events_done.add("yuki")
        # Tuesday 10 March, 10:00 UTC (11:00 in Berlin): Anna, back, answers after one reminder
        if "anna" not in events_done and now >= datetime(2026, 3, 10, 10) and berlin is not None:
            raw = _mail(settings, berlin, "anna@x.example", "Accepted - we booked a demo for Friday.")
            assert (
                _deliver(engine, settings, raw, f"feedback+{berlin.token}@{settings.reply_domain}", now)
                == "processed"
            )
            events_done.add("anna")
        # the manager answers Bob's escalation an hour after it arrives
        nyc = _maybe_request(engine, "L-nyc")
        if nyc is not None and nyc.status == RequestStatus.escalated and "manager" not in events_done:
            raw = _mail(settings, nyc, "boss@x.example", "Rejected - wrong contact, he is in HR.")
            assert (
                _deliver(engine, settings, raw, f"feedback+{nyc.token}@{settings.reply_domain}", now)
                == "processed"
            )
            events_done.add("manager")

    assert events_done == {"ooo", "leaves", "manager", "yuki", "anna"}
    with Session(engine) as s:
        mails = s.exec(select(OutboundMail).order_by(OutboundMail.sent_at)).all()
        by_addr = {r.email: r for r in s.exec(select(Rep)).all()}
        # every mail to a rep went out inside that rep's working hours, never on the holiday
        for m in mails:
            rep = by_addr.get(m.to_addr)
            cal: WorkCalendar = (
                rep_calendar(rep, settings) if rep else rep_calendar(by_addr["anna@x.example"], settings)
            )
            assert cal.working_at(m.sent_at), f"{m.purpose} to {m.to_addr} at {m.sent_at} UTC"
            local = m.sent_at.replace(tzinfo=ZoneInfo("UTC")).astimezone(cal.zone)
            assert local.date() != HOLIDAY
        kinds = [(m.to_addr, m.purpose) for m in mails]
        # Anna: the request Monday 09:00 Berlin, then nothing while she is away; reminded once back
        anna = [(m.purpose, m.sent_at) for m in mails if m.to_addr == "anna@x.example"]
        assert anna[0] == ("request", datetime(2026, 3, 2, 8))
        assert all(at >= datetime(2026, 3, 8, 23) for p, at in anna[1:]), anna
        assert ("anna@x.example", "reminder") in kinds
        assert s.exec(select(Rep).where(Rep.email == "anna@x.example")).one().away_until == datetime(
            2026, 3, 8, 23
        )
        # Bob (team zone New York): the request at 09:00 New York, two reminders, then the escalation
        bob = [(m.purpose, m.sent_at) for m in mails if m.to_addr == "bob@x.example"]
        assert bob[0] == ("request", datetime(2026, 3, 2, 14))
        assert [p for p, _ in bob].count("reminder") == 2
        assert ("boss@x.example", "escalation") in kinds
        # Kenji's request went to Yuki when he left, asked afresh
        assert ("yuki@x.example", "request") in kinds
    nyc = _request(engine, "L-nyc")
    assert nyc.status == RequestStatus.answered
    with Session(engine) as s:
        answer = s.exec(select(Response).where(Response.request_id == nyc.id)).one()
        assert answer.answered_by == "boss@x.example" and answer.outcome == "rejected"
        tokyo = _request(engine, "L-tokyo")
        assert s.get(Rep, tokyo.rep_id).email == "yuki@x.example"  # type: ignore[union-attr]
        _, entries = timeline(s, tokyo.id or 0)
        assert [e.what for e in entries].count("sent") == 2 and any("reassigned" in e.detail for e in entries)
    _assert_fortnight_sla(engine, settings)


def _assert_fortnight_sla(engine: Engine, settings: Settings) -> None:
    """The SLA figures of the fortnight, computed by hand.

    Business hours from the leads' assignment (Monday 2 March 00:00 UTC) to the answer, in the
    working hours (09:00-17:00, Wednesday 4 March off) of each request's rep; SLA 24 hours:

    - Yuki (Tokyo, UTC+9): Mon 8 + Tue 8 + Thu 09:00-15:00 6 = 22 h; 1 reminder (Kenji's, Thursday
      09:00 Tokyo, before he left): within the SLA.
    - Bob (team Americas, New York; UTC-5, UTC-4 from 8 March): Mon 8 + Tue 8 + Thu 8 + Fri 8 +
      Mon 9 March 8 = 40 h (the manager answered Tuesday 10 March 09:00 New York, as the escalation
      went out); 2 reminders; escalated.
    - Anna (Berlin, UTC+1): Mon 8 + Tue 8 + Thu 8 + Fri 8 + Mon 8 + Tue 09:00-11:00 2 = 42 h;
      1 reminder (Monday 9 March, once back).

    Median of (22, 40, 42) = 40, p90 (nearest rank, ceil(0.9 x 3) = 3rd) = 42; reminders (1, 2, 1):
    median 1, p90 2.
    """
    assert refresh_sla(engine, settings) == 3
    assert refresh_sla(engine, settings) == 0  # nothing stale: a second refresh computes nothing
    report = responsiveness(engine, Filters(), settings, now=datetime(2026, 3, 16))
    kpis = {r["metric"]: r["value"] for r in report.section("sla").rows}
    assert kpis["Requests sent"] == 3
    assert kpis["Answered"] == Rate(3, 3)
    assert kpis["Answered within the SLA"] == Rate(1, 3)
    assert kpis["Median business hours to answer"] == 40.0
    assert kpis["p90 business hours to answer"] == 42.0
    assert kpis["Median reminders needed"] == 1.0
    assert kpis["p90 reminders needed"] == 2.0
    assert kpis["Escalated to the manager"] == Rate(1, 3)
    assert kpis["Expired unanswered"] == Rate(0, 3)
    by_rep = {r["rep"]: r for r in report.section("sla_by_rep").rows}
    assert {k: (v["median_bh"], v["median_reminders"], v["within"]) for k, v in by_rep.items()} == {
        "Yuki": (22.0, 1.0, Rate(1, 1)),
        "Bob": (40.0, 2.0, Rate(0, 1)),
        "Anna": (42.0, 1.0, Rate(0, 1)),
    }
    by_team = {r["team"]: r for r in report.section("sla_by_team").rows}
    assert (by_team["(none)"]["median_bh"], by_team["(none)"]["p90_bh"]) == (32.0, 42.0)
    assert by_team["Americas"]["escalated"] == Rate(1, 1)
    hist = {r["bucket"]: r["answers"] for r in report.section("sla_distribution").rows}
    assert (hist["16–24 h"], hist["24–40 h"], hist["40–80 h"], sum(hist.values())) == (1, 1, 1, 3)
    # the same answered count as the summary's
    overview = {
        r["metric"]: r["value"] for r in summary(engine, Filters(), settings).section("overview").rows
    }
    assert overview["Leads answered"] == kpis["Answered"]


def test_cancel_needs_a_reason_and_an_open_request(engine: Engine, fortnight: dict[str, object]) -> None:
    settings, transport = fortnight["settings"], fortnight["transport"]
    assert isinstance(settings, Settings) and isinstance(transport, MaildirTransport)
    now = datetime(2026, 3, 2, 15)
    asyncio.run(send_due_requests(engine, settings, transport, now=now))
    request = _request(engine, "L-nyc")
    with Session(engine) as s:
        with pytest.raises(RequestAdminError, match="--why"):
            cancel(s, request.id or 0, why=" ", by="admin", now=now)
        cancel(s, request.id or 0, why="lead merged in the CRM", by="admin", now=now)
        with pytest.raises(RequestAdminError, match="only open requests"):
            cancel(s, request.id or 0, why="again", by="admin", now=now)
    assert _request(engine, "L-nyc").status == RequestStatus.cancelled
    raw = _mail(settings, request, "bob@x.example", "Accepted, meeting booked.")
    assert (
        _deliver(engine, settings, raw, f"feedback+{request.token}@{settings.reply_domain}", now) == "ignored"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I'm out of the office and back on 14 March.", date(2026, 3, 14)),
        ("Ich bin ab dem 14.03. wieder im Büro.", date(2026, 3, 14)),
        ("Je serai de retour le 14 mars 2026.", date(2026, 3, 14)),
        ("Estaré de vuelta el 14 de marzo.", date(2026, 3, 14)),
        ("On leave until 2026-03-14 with limited access to email.", date(2026, 3, 14)),
        ("I will return on March 14th.", date(2026, 3, 14)),
        ("Back on 3 January.", date(2027, 1, 3)),  # no year: the next one
        ("Thanks for your message of 01/03/2026, I am travelling.", None),  # a date, not a return
    ],
)
def test_return_dates_in_four_languages(text: str, expected: date | None) -> None:
    assert return_date(text, written=date(2026, 3, 2)) == expected
