"""The weekly digest: the summary report mailed to marketing through the outbound path.

Figures come from ``feedback.reports.digest``, words from the ``digest`` template in
``digest_language`` (an admin's version if there is one); this module addresses, throttles (one
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
from feedback.outbound.template_failures import record_failure
from feedback.outbound.template_store import load_renderer
from feedback.outbound.transports import Transport, build_message, make_message_id
from feedback.reports.digest import digest_context
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
    sender = f"{settings.reply_local}@{settings.reply_domain}"
    sent = 0
    with Session(engine) as session:
        lang = settings.digest_language
        context = digest_context(engine, settings, now, lang)
        rendered, failure = load_renderer(session, settings).render_or_shipped("digest", context, lang)
        if failure:
            log.warning("template fallback: %s", failure)
            record_failure(session, failure, purpose="digest", request_id=None, at=now)
            session.commit()
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
                template_version=rendered.version,
            )
            try:
                await deliver(session, transport, message, record=record, envelope_from=sender)
            except MailNotSent as exc:  # not recorded: the next round retries this address
                log.warning("%s (tried again next round)", exc)
                continue
            sent += 1
    return sent
