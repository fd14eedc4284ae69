"""The states of a request and the only code that moves a request between them.

A request is a question to one rep about one lead or deal. Every state has a way out::

    sent ──reply with outcome──► answered            (final until a correction or a later reply)
      │  ──reply, no outcome──► clarifying ──(clarification mail, reminders)──┐
      │  ──reply in doubt─────► review ──(a person decides)──► answered       │
      │  ──permanent bounce───► bounced                                        │
      │  ──reminders unanswered► escalated ──(manager or rep answers)──► answered
      └──────────────── past expires_at, no usable answer ──► expired ◄───────┘

``clarifying`` and ``escalated`` follow the same reminder / escalation / expiry clock as ``sent``
(the clock restarts when a clarification goes out: it is a new question). ``review`` waits for a
person (``feedback review``), never for the clock: a reviewer's queue is not a deadline.
Transitions check the state they leave, so a late cron round cannot, say, expire an answered
request. Functions change the object and leave the commit to the caller's transaction, so a
state change and the rows that justify it (a response, a mail log) commit together.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    MessageStatus,
    RequestStatus,
    ReviewItem,
    ReviewStatus,
)

S = RequestStatus

#: states a reply, a reviewer or the clock can move a request out of, and where to
TRANSITIONS: dict[RequestStatus, frozenset[RequestStatus]] = {
    S.sent: frozenset({S.answered, S.clarifying, S.review, S.bounced, S.escalated, S.expired}),
    S.clarifying: frozenset({S.answered, S.clarifying, S.review, S.bounced, S.escalated, S.expired}),
    S.escalated: frozenset({S.answered, S.clarifying, S.review, S.bounced, S.expired}),
    S.review: frozenset({S.answered, S.clarifying, S.review}),
    # a later reply to an answered request replaces its answer (history kept)
    S.answered: frozenset({S.answered, S.clarifying, S.review}),
    # the rep answered after all; or the rep left and the question goes to someone else (hand_over)
    S.bounced: frozenset({S.answered, S.clarifying, S.review, S.sent}),
    S.expired: frozenset(),
    S.cancelled: frozenset(),
    S.skipped: frozenset(),
}
for _state in (S.sent, S.clarifying, S.escalated, S.review):
    TRANSITIONS[_state] |= {S.cancelled}  # an admin may withdraw any open request

#: waiting on the rep (or their manager): the reminder, escalation and expiry clock runs
WAITING = (S.sent, S.clarifying, S.escalated)
#: a usable answer exists, or nobody will ever answer
FINAL = (S.answered, S.bounced, S.expired, S.cancelled)
#: what a rep who left leaves behind to hand over: open questions, and ones that never reached them
HANDOVER_FROM = (*WAITING, S.bounced)

#: hours between two moments: wall-clock by default, business hours with a work calendar
Elapsed = Callable[[datetime, datetime], float]


def wall_hours(start: datetime, end: datetime) -> float:
    return (end - start).total_seconds() / 3600


class TransitionError(RuntimeError):
    """A move the lifecycle does not allow (a bug in the caller, never a user's mistake)."""


def move(request: FeedbackRequest, to: RequestStatus, *, now: datetime) -> None:
    """Move ``request`` to ``to``, refusing moves the table above does not allow."""
    current = RequestStatus(request.status)
    if to not in TRANSITIONS[current]:
        raise TransitionError(f"request {request.id}: {current} -> {to} is not a transition")
    request.status = to
    if to is S.answered:
        request.answered_at = request.answered_at or now
    elif to is S.escalated:
        request.escalated_at = now
    elif to is S.clarifying:
        request.clarified_at = None  # not asked yet: the next follow-up round asks
        request.reminders_sent = 0  # a clarification is a new question with its own reminders
        request.last_reminder_at = None


def answer_given_by_a_person(request: FeedbackRequest, *, now: datetime) -> None:
    """A person (a reviewer, an admin correcting) recorded the answer: answered, whatever the state.

    Unlike a reply, a person's answer is trusted in any state, even after expiry or a bounce
    (an answer given by phone is still the answer).
    """
    request.status = S.answered
    request.answered_at = request.answered_at or now


def hand_over(request: FeedbackRequest, *, now: datetime) -> None:
    """The request now asks another rep (its rep left): a fresh question with its own clock."""
    if request.status not in HANDOVER_FROM:
        raise TransitionError(f"request {request.id}: {request.status} is not open, nothing to hand over")
    request.status = S.sent
    request.escalated_at = None
    request.clarified_at = None
    request.reminders_sent = 0
    request.last_reminder_at = None
    request.sent_at = now


def mark_clarification_sent(request: FeedbackRequest, *, now: datetime, ttl_days: int) -> None:
    """The clarification went out: its clock starts now, and its token lives long enough to answer."""
    request.clarified_at = now
    floor = now + timedelta(days=ttl_days)
    if request.expires_at is None or request.expires_at < floor:
        request.expires_at = floor


def waiting_since(request: FeedbackRequest) -> datetime | None:
    """When the question the rep owes an answer to was last asked."""
    if request.status == S.clarifying:
        return request.clarified_at  # None: the clarification has not gone out yet
    return request.sent_at


def remind_due(
    request: FeedbackRequest,
    *,
    now: datetime,
    gap_hours: float,
    max_reminders: int,
    elapsed: Elapsed = wall_hours,
) -> bool:
    """A reminder is due: waiting, asked ``gap_hours`` ago (or reminded that long ago), reminders left."""
    since = waiting_since(request)
    if request.status not in (S.sent, S.clarifying) or since is None:
        return False
    last = max(since, request.last_reminder_at or since)
    return request.reminders_sent < max_reminders and elapsed(last, now) >= gap_hours


def escalation_due(
    request: FeedbackRequest,
    *,
    now: datetime,
    after_hours: float,
    max_reminders: int,
    elapsed: Elapsed = wall_hours,
) -> bool:
    """Reminders ran out and the question is ``after_hours`` old: the manager hears of it."""
    since = waiting_since(request)
    if request.status not in (S.sent, S.clarifying) or since is None:
        return False
    return request.reminders_sent >= max_reminders and elapsed(since, now) >= after_hours


def expire_overdue(session: Session, *, now: datetime) -> int:
    """Every request still waiting past its ``expires_at`` ends ``expired``. Returns how many."""
    rows = session.exec(
        select(FeedbackRequest).where(
            col(FeedbackRequest.status).in_([s.value for s in WAITING]),
            col(FeedbackRequest.expires_at).is_not(None),
            col(FeedbackRequest.expires_at) < now,
        )
    ).all()
    for request in rows:
        move(request, S.expired, now=now)
        session.add(request)
    return len(rows)


# stored messages ------------------------------------------------------------------------------
# received -> queued (store.mark_enqueued, in bulk SQL) -> processed | ignored | quarantined |
# unmatched | failed. Every processing attempt is counted before the work; after job_max_tries a
# message ends failed with its last error (feedback requeue puts failed ones back).

MESSAGE_FINAL = frozenset(
    {
        MessageStatus.processed,
        MessageStatus.ignored,
        MessageStatus.quarantined,
        MessageStatus.unmatched,
        MessageStatus.failed,
    }
)


def finish_message(message: InboundMessage, status: str, *, now: datetime) -> None:
    """Processing decided what the message is; it needs nothing more."""
    done = MessageStatus(status)
    if done not in MESSAGE_FINAL:
        raise TransitionError(f"message {message.id}: {done} is not a final state")
    message.status = done
    message.processed_at = now


def fail_message(message: InboundMessage, error: str, *, now: datetime) -> None:
    """Give up on a message (unreadable, or out of attempts); ``error`` says why."""
    message.status = MessageStatus.failed
    message.error = error[:2000]
    message.processed_at = now


def requeue_failed(session: Session) -> int:
    """An operator fixed what made messages fail: give each failed message fresh attempts.

    ``failed`` is final for the worker (it never retries one on its own); this is its only way
    out. The messages go back to ``received`` with their attempts and error cleared, and the
    sweeper enqueues them on its next round. Their ``received_at`` stays the arrival time.
    """
    failed = session.exec(select(InboundMessage).where(InboundMessage.status == MessageStatus.failed)).all()
    for message in failed:
        message.status = MessageStatus.received
        message.attempts = 0
        message.error = None
        message.processed_at = None
        session.add(message)
    return len(failed)


def reopen_message_for(message: InboundMessage, request_id: int, *, now: datetime) -> None:
    """A person matched a quarantined or unmatched message to its request: processed."""
    message.status = MessageStatus.processed
    message.request_id = request_id
    message.processed_at = now


# review items ---------------------------------------------------------------------------------


def close_review(item: ReviewItem, *, resolution: ReviewStatus, by: str, now: datetime) -> None:
    """A person decided an open review item: resolved (an answer recorded) or dismissed.

    Closing it again the same way is a no-op (a correction resolves the items of its answer,
    the one it came from included)."""
    if item.status == resolution:
        return
    if item.status != ReviewStatus.open:
        raise TransitionError(f"review item {item.id} is {item.status}, not open")
    item.status = resolution
    item.resolved_at, item.resolved_by = now, by
