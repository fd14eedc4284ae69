"""The weekly digest goes out at the configured weekday and local hour, by the worker's clock.

The worker's cron asks every five minutes; ``jobs.weekly_digest`` reads the (simulated) clock and
sends once per slot. New York changes to summer time on Sunday 8 March 2026, so 08:00 local is
13:00 UTC on Monday 2 March and 12:00 UTC on Monday 9 March.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.outbound.digest_mail import digest_slot
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.settings import Settings
from feedback.storage.models import OutboundMail
from workers import jobs


def test_digest_slot_is_local_weekday_and_hour(settings: Settings) -> None:
    ny = settings.model_copy(update={"timezone": "America/New_York", "digest_weekday": 0, "digest_hour": 8})
    assert digest_slot(datetime(2026, 3, 2, 13, 0), ny) == datetime(2026, 3, 2, 13, 0)
    assert digest_slot(datetime(2026, 3, 2, 12, 59), ny) == datetime(2026, 2, 23, 13, 0)  # a week back
    assert digest_slot(datetime(2026, 3, 12, 0, 0), ny) == datetime(2026, 3, 9, 12, 0)  # summer time
    tokyo = settings.model_copy(update={"timezone": "Asia/Tokyo", "digest_weekday": 4, "digest_hour": 17})
    assert digest_slot(datetime(2026, 3, 6, 8, 0), tokyo) == datetime(2026, 3, 6, 8, 0)  # Fri 17:00 JST


def test_worker_mails_the_digest_at_the_local_hour(
    engine: Engine, settings: Settings, tmp_path: Path
) -> None:
    settings = settings.model_copy(
        update={
            "timezone": "America/New_York",
            "digest_weekday": 0,
            "digest_hour": 8,
            "digest_recipients": ["cmo@x.example", "ops@x.example"],
        }
    )
    clock = {"now": datetime(2026, 2, 28, 0, 0)}  # a Saturday
    ctx = {
        "engine": engine,
        "settings": settings,
        "transport": MaildirTransport(tmp_path / "outbox"),
        "clock": lambda: clock["now"],
    }
    sent_at: list[datetime] = []
    while clock["now"] < datetime(2026, 3, 11):
        if asyncio.run(jobs.weekly_digest(ctx)):
            sent_at.append(clock["now"])
        clock["now"] += timedelta(minutes=5)
    assert sent_at == [datetime(2026, 3, 2, 13, 0), datetime(2026, 3, 9, 12, 0)]
    with Session(engine) as s:
        mails = s.exec(
            select(OutboundMail).order_by(col(OutboundMail.sent_at), col(OutboundMail.to_addr))
        ).all()
    assert [(m.to_addr, m.sent_at) for m in mails] == [
        ("cmo@x.example", datetime(2026, 3, 2, 13, 0)),
        ("ops@x.example", datetime(2026, 3, 2, 13, 0)),
        ("cmo@x.example", datetime(2026, 3, 9, 12, 0)),
        ("ops@x.example", datetime(2026, 3, 9, 12, 0)),
    ]


def test_a_missed_slot_waits_for_the_next_week(engine: Engine, settings: Settings, tmp_path: Path) -> None:
    """A worker down over the digest hour sends within the day, not days late."""
    settings = settings.model_copy(update={"digest_recipients": ["cmo@x.example"], "digest_hour": 8})
    ctx = {"engine": engine, "settings": settings, "transport": MaildirTransport(tmp_path / "outbox")}
    for at, expected in ((datetime(2026, 3, 3, 9, 0), 0), (datetime(2026, 3, 2, 20, 0), 1)):
        ctx["clock"] = lambda at=at: at
        assert asyncio.run(jobs.weekly_digest(ctx)) == expected


def test_the_digest_shows_the_weeks_follow_up_sla(engine: Engine, settings: Settings) -> None:
    from feedback.reports.digest import digest_html

    _, html, text = digest_html(engine, settings, datetime(2026, 3, 2, 13, 0))
    for body in (html, text):
        assert "Follow-up SLA: answers within 16 business hours" in body and "SLA by team" in body
    assert "Answered within the SLA" in text and "Escalated to the manager" in text
