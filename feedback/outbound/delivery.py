"""The one path by which a built mail leaves the service and is recorded as sent.

Every mail (request, reminder, escalation, clarification, acknowledgement, notice, digest) is an
``OutboundMail`` row: the throttles, the daily caps, the request timelines and the reports count
them. One rule for all of them: a row exists only for a mail the relay accepted. The row (and
whatever the mail depends on, such as the request whose reply address it carries) is committed
before the send, so a reply that comes back at once finds its request; if the relay refuses, the
row and the dependants are removed in one commit, and the next round tries again.
"""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage

from sqlmodel import Session

from feedback.outbound.transports import Transport
from feedback.runtime.errors import TransientError
from feedback.storage.models import OutboundMail


class MailNotSent(TransientError):
    """The transport refused a service mail; nothing records it as sent, a later round retries."""


async def deliver(
    session: Session,
    transport: Transport,
    message: EmailMessage,
    *,
    record: OutboundMail,
    envelope_from: str,
    undo: Callable[[Session], None] | None = None,
) -> None:
    """Record ``message`` as sent, send it, and take the record back if the relay refuses.

    ``undo`` removes what existed only for this mail (a new request); it runs in the same
    commit as the removal of the record. Raises :class:`MailNotSent` with the relay's reason.
    """
    session.add(record)
    session.commit()
    try:
        await transport.send(message, envelope_from=envelope_from, recipients=[record.to_addr])
    except Exception as exc:
        session.delete(record)
        session.flush()  # the mail row first: it may point at what undo removes
        if undo is not None:
            undo(session)
        session.commit()
        raise MailNotSent(f"{record.purpose} mail to {record.to_addr}: {exc}") from exc
