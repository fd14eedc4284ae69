"""The weekly digest: the summary report mailed to marketing through the outbound path.

Figures come from ``feedback.reports.digest``, words from the ``digest`` template in
``digest_language`` (an admin's version if there is one); this module addresses, throttles (one
digest per address in six days, so a cron that fires twice or a manual run sends nothing
twice) and records the mail like every other mail the service sends.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from feedback.outbound.delivery import MailNotSent, deliver
from feedback.outbound.template_failures import record_failure
from feedback.outbound.template_store import load_renderer
from feedback.outbound.transports import Transport, build_message, make_message_id
from feedback.reports.digest import digest_context
from feedback.runtime.settings import Settings
from feedback.services.sla_facts import refresh_sla
from feedback.storage.models import OutboundMail, utcnow

log = logging.getLogger(__name__)
DIGEST_GAP = timedelta(days=6)
LATE = timedelta(days=1)
"""A digest not sent within a day of its slot (the worker was down) waits for the next week's."""


def digest_slot(now: datetime, settings: Settings) -> datetime:
    """The latest digest time at or before ``now`` (naive UTC): ``digest_weekday`` at
    ``digest_hour``:00 in the reporting ``timezone`` (so 08:00 stays 08:00 across DST changes)."""
    tz = ZoneInfo(settings.timezone)
    local = now.replace(tzinfo=UTC).astimezone(tz)
    day = local.date() - timedelta(days=(local.weekday() - settings.digest_weekday) % 7)
    slot = datetime.combine(day, time(settings.digest_hour), tzinfo=tz)
    if slot > local:
        slot = datetime.combine(day - timedelta(days=7), time(settings.digest_hour), tzinfo=tz)
    return slot.astimezone(UTC).replace(tzinfo=None)


async def send_scheduled_digest(
    engine: Engine, settings: Settings, transport: Transport, *, now: datetime
) -> int:
    """The worker's round (every few minutes): the digest once per slot, from the slot on and
    within a day of it; every other round sends nothing."""
    slot = digest_slot(now, settings)
    if now - slot > LATE:
        return 0
    return await send_digest(engine, settings, transport, now=now, since=slot)


async def send_digest(
    engine: Engine,
    settings: Settings,
    transport: Transport,
    *,
    now: datetime | None = None,
    force: bool = False,
    since: datetime | None = None,
) -> int:
    """Mail the digest to every ``digest_recipients`` address not sent one lately (nor since
    ``since``, the slot it is for); returns the count."""
    now = now or utcnow()
    if not settings.digest_recipients:
        return 0
    if not force and since is not None and not _anyone_due(engine, settings, since):
        return 0
    refresh_sla(engine, settings, now=now)  # the SLA figures read each answer's business hours
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
            if not force and last is not None and (now - last < DIGEST_GAP or (since and last >= since)):
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


def _anyone_due(engine: Engine, settings: Settings, since: datetime) -> bool:
    """Whether some recipient has had no digest since ``since`` (else the report is not built)."""
    with Session(engine) as session:
        got = session.exec(
            select(OutboundMail.to_addr).where(
                OutboundMail.purpose == "digest",
                col(OutboundMail.sent_at) >= since,
                col(OutboundMail.to_addr).in_(settings.digest_recipients),
            )
        ).all()
    return bool(set(settings.digest_recipients) - set(got))
