"""The weekly digest: the summary report mailed to marketing through the outbound path.

Content comes from ``feedback.reports.digest``; this module only addresses, throttles (one
digest per address in six days, so a cron that fires twice or a manual run sends nothing
twice) and records the mail like every other mail the service sends.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from feedback.outbound.delivery import MailNotSent, deliver
from feedback.outbound.rendering import RenderedMail, one_line
from feedback.outbound.transports import Transport, build_message, make_message_id
from feedback.reports.digest import digest_html
from feedback.runtime.settings import Settings
from feedback.storage.models import OutboundMail, utcnow

log = logging.getLogger(__name__)
DIGEST_GAP = timedelta(days=6)


async def send_digest(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> int:
    """Mail the digest to every ``digest_recipients`` address not sent one lately; returns the count."""
    now = now or utcnow()
    if not settings.digest_recipients:
        return 0
    subject, html, text = digest_html(engine, settings, now)
    rendered = RenderedMail(
        subject=one_line(subject), text=text, html=html, template="digest", version="reports"
    )
    sender = f"{settings.reply_local}@{settings.reply_domain}"
    sent = 0
    with Session(engine) as session:
        for address in settings.digest_recipients:
            last = session.exec(
                select(func.max(OutboundMail.sent_at)).where(
                    OutboundMail.to_addr == address, OutboundMail.purpose == "digest"
                )
            ).one()
            if not force and last is not None and now - last < DIGEST_GAP:
                continue
            message_id = make_message_id(settings.reply_domain)
            message = build_message(
                rendered=rendered,
                from_addr=sender,
                from_name=settings.from_name,
                to=address,
                message_id=message_id,
                purpose="digest",
            )
            record = OutboundMail(
                purpose="digest",
                to_addr=address,
                subject=rendered.subject,
                message_id=message_id,
                sent_at=now,
            )
            try:
                await deliver(session, transport, message, record=record, envelope_from=sender)
            except MailNotSent as exc:  # not recorded: the next round retries this address
                log.warning("%s (tried again next round)", exc)
                continue
            sent += 1
    return sent
