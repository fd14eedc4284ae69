"""What a worker does with one stored message, in one transaction: the inbound half of the loop.

load -> parse (pure) -> match its request -> check the sender -> classify (pure) -> store the
response -> decide: answered / clarify / review. Idempotent: a message that already has an
outcome is skipped, and a response is unique per message, so a job killed halfway and retried
never yields two responses. Mails (expired-token notes, acknowledgements) go out after commit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parseaddr
from time import monotonic
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from feedback.classify import ClassificationResult, LearnedExamples
from feedback.classify.learning import LearnedExample
from feedback.core.analysis import AnalysisConfig, classify_parsed
from feedback.core.calendars import rep_calendar
from feedback.core.taxonomy import Taxonomy
from feedback.core.tokens import TokenError, find_token, verify_token
from feedback.mail import ParsedMessage, parse_message, with_learned_signature
from feedback.mail.absence import return_date
from feedback.mail.authres import AuthVerdict, verdict
from feedback.mail.parse import MAX_BYTES
from feedback.runtime.settings import Settings
from feedback.services.classifier_models import active_model
from feedback.services.signatures import load_signature, record_signature
from feedback.storage import raw_bytes
from feedback.storage.db import write_lock
from feedback.storage.lifecycle import MESSAGE_FINAL, WAITING, finish_message, move
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    MessageStatus,
    OutboundMail,
    Rep,
    RepAlias,
    RequestStatus,
    Response,
    ResponseReason,
    ReviewItem,
    ReviewType,
    TaxonomySnapshot,
    utcnow,
)

log = logging.getLogger("feedback.services.processing")

FINAL = MESSAGE_FINAL  # a message in one of these needs nothing more (the lifecycle's set)


@dataclass
class Outcome:
    """What processing decided, for logs, tests and follow-up mail."""

    message_id: int
    status: str
    request_id: int | None = None
    response_id: int | None = None
    mail: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (template purpose, context)
    skipped: bool = False


_SNAPSHOTS: dict[str, Taxonomy] = {}  # fingerprint -> taxonomy: snapshots never change


def taxonomy_for(session: Session, request: FeedbackRequest, current: Taxonomy) -> Taxonomy:
    """The taxonomy the request showed (its snapshot), validated once per process."""
    version = request.taxonomy_version
    if not version or version == current.fingerprint:
        return current
    if version in _SNAPSHOTS:
        return _SNAPSHOTS[version]
    snap = session.get(TaxonomySnapshot, version)
    if snap is None:
        return current
    taxonomy = _SNAPSHOTS[version] = Taxonomy.model_validate(json.loads(snap.data))
    return taxonomy


def match_request(
    session: Session, parsed: ParsedMessage, envelope_rcpts: list[str], settings: Settings, secret: bytes
) -> tuple[FeedbackRequest | None, str]:
    """The request a message answers: token (envelope, Delivered-To, To...), then thread headers."""
    addresses = envelope_rcpts + list(parsed.recipients)
    if parsed.bounce is not None:
        addresses += list(parsed.bounce.original_recipients)
    token = find_token(addresses, local=settings.reply_local, domain=settings.reply_domain)
    if token:
        try:
            request = session.get(FeedbackRequest, verify_token(token, secret))
            if request is not None:
                return request, "token"
        except TokenError:
            pass
    ids = [*parsed.in_reply_to, *reversed(parsed.references)]
    if parsed.bounce is not None and parsed.bounce.original_message_id:
        ids.insert(0, parsed.bounce.original_message_id)
    ids = [i.strip() for i in ids if i.strip()]
    if ids:
        request = session.exec(
            select(FeedbackRequest).where(col(FeedbackRequest.message_id).in_(ids))
        ).first()
        if request is not None:
            return request, "thread"
        sent = session.exec(
            select(OutboundMail).where(
                col(OutboundMail.message_id).in_(ids), col(OutboundMail.request_id).is_not(None)
            )
        ).first()
        if sent is not None and sent.request_id is not None:
            return session.get(FeedbackRequest, sent.request_id), "thread"
    return None, "none"


def allowed_sender(session: Session, rep: Rep, request: FeedbackRequest, from_addr: str | None) -> str | None:
    """Who the sender is to this request ("rep", "alias", "manager"), or None: quarantine.

    The rep's manager may answer once the request was escalated to them: the escalation mail
    asks them to.
    """
    if not from_addr:
        return None
    addr = from_addr.lower()
    if addr == rep.email.lower():
        return "rep"
    if request.escalated_at is not None and rep.manager_email and addr == rep.manager_email.lower():
        return "manager"
    alias = session.exec(select(RepAlias).where(RepAlias.rep_id == rep.id, RepAlias.email == addr)).first()
    return "alias" if alias is not None else None


def trusted_auth_results(parsed: ParsedMessage, authserv_id: str | None) -> str | None:
    """Authentication-Results values from our own MTA only (others may be forged upstream)."""
    values = list(parsed.authentication_results)
    if authserv_id:
        values = [v for v in values if v.strip().split(";", 1)[0].strip().lower() == authserv_id.lower()]
    return "\n".join(values) or None


def load_learned(session: Session) -> LearnedExamples:
    """Corrections made by people (in review, or of any stored answer: ``feedback answers set``),
    as labelled examples for the classifier, oldest first so later corrections win."""
    rows = session.exec(
        select(Response, FeedbackRequest)
        .join(FeedbackRequest, col(FeedbackRequest.id) == col(Response.request_id))
        .where(col(Response.source).in_(("review", "correction")), col(Response.is_current))
        .order_by(col(Response.created_at), col(Response.id))
    ).all()
    examples: list[LearnedExample] = []
    for response, request in rows:
        reasons = session.exec(
            select(ResponseReason.code)
            .where(ResponseReason.response_id == response.id)
            .order_by(col(ResponseReason.rank))
        ).all()
        if response.reply_text:
            examples.append(
                LearnedExample(
                    kind=request.kind,
                    text=response.reply_text,
                    outcome=response.outcome,
                    reasons=tuple(reasons),
                    competitor=response.competitor,
                )
            )
    return LearnedExamples(examples=tuple(examples))


def _sender_doubt(parsed: ParsedMessage, auth: AuthVerdict | None, settings: Settings) -> str | None:
    """Why the sender cannot be trusted as written: an ambiguous From, or failed authentication."""
    if parsed.from_ambiguous:
        return f"ambiguous From ({parsed.from_ambiguous}): not recorded, a person must look"
    if auth is not None and auth.verdict == "fail" and settings.auth_fail_action == "quarantine":
        return f"sender authentication failed ({auth.basis}) at {settings.authserv_id}: possibly spoofed"
    return None


def _answered_by_another_path(
    session: Session, request: FeedbackRequest, message: InboundMessage, auth: AuthVerdict | None
) -> str | None:
    """A new answer to an answered request that came another way (another address, or another
    authentication basis) than the answer it would replace: review, not replace."""
    if request.status != RequestStatus.answered:
        return None
    previous = session.exec(
        select(InboundMessage)
        .join(Response, col(Response.inbound_message_id) == col(InboundMessage.id))
        .where(Response.request_id == request.id, col(Response.is_current))
    ).first()
    if previous is None or previous.id == message.id:
        return None  # the current answer came from a person (review, correction): a reply may follow it
    if (previous.from_addr or "") != (message.from_addr or ""):
        return f"a second answer from {message.from_addr}, the first came from {previous.from_addr}"
    if auth is not None:
        before = verdict(previous.auth_results, previous.from_addr)
        if before.basis != auth.basis:
            now_by, then_by = auth.basis or "nothing", before.basis or "nothing"
            return f"a second answer authenticated by {now_by}, the first by {then_by}"
    return None


def mark_away(rep: Rep, back_on: date | None, *, now: datetime, settings: Settings) -> datetime:
    """An out-of-office from the rep: no reminders or escalation until they are back.

    Back on the announced day (its start in the rep's time zone), else ``away_default_days`` from
    now. A later out-of-office extends an absence, never shortens one still running.
    """
    if back_on is not None:
        zone = rep_calendar(rep, settings).zone
        until = datetime.combine(back_on, time(0), tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    else:
        until = now + timedelta(days=settings.away_default_days)
    if until > now and (rep.away_until is None or rep.away_until < now or until > rep.away_until):
        rep.away_until = until
    return rep.away_until or until


def flag_new_competitor(session: Session, cls: ClassificationResult) -> ClassificationResult:
    """Review an unlisted competitor the first time it is stored: a misspelling the fuzzy match
    missed, or a name that is no competitor, would otherwise stand in every report from now on."""
    name = cls.competitor
    if name is None or cls.competitor_listed:
        return cls
    stored = session.exec(
        select(Response.id).where(func.lower(col(Response.competitor)) == name.lower()).limit(1)
    ).first()
    if stored is not None:
        return cls
    note = f"new competitor {name!r}, not in the configured list: check the name before it is counted"
    return replace(cls, needs_review=True, explanation=(*cls.explanation, note))


_REP_NAMES: dict[str, tuple[float, tuple[str, ...]]] = {}  # database url -> (loaded at, names)
REP_NAMES_TTL = 30.0  # seconds: a reps import reaches the classifier within this


def rep_names(session: Session) -> tuple[str, ...]:
    """The reps' names (colleagues a reply may name, never competitors), read at most every
    ``REP_NAMES_TTL`` seconds per database rather than once per message on the worker's hot path."""
    bind = session.get_bind()
    key = str(bind.engine.url)
    now = monotonic()
    cached = _REP_NAMES.get(key)
    if cached is None or now - cached[0] > REP_NAMES_TTL:
        names = tuple(n for n in session.exec(select(Rep.name)).all() if n)
        _REP_NAMES[key] = cached = (now, names)
    return cached[1]


def store_response(
    session: Session,
    *,
    request: FeedbackRequest,
    message: InboundMessage | None,
    outcome: str | None,
    reasons: tuple[str, ...],
    competitor: str | None,
    reply_text: str,
    confidence: float,
    needs_review: bool,
    source: str,
    now: datetime,
    by: str | None = None,
    language: str | None = None,
    answered_by: str | None = None,
    current: bool = True,
) -> Response:
    """Add the new current response of ``request``; earlier ones stay as history.

    ``current=False`` keeps the current answer and adds this one beside it (waiting for review).
    """
    for old in (
        session.exec(
            select(Response).where(Response.request_id == request.id, col(Response.is_current))
        ).all()
        if current
        else ()
    ):
        old.is_current = False
        session.add(old)
    response = Response(
        request_id=request.id or 0,
        inbound_message_id=message.id if message is not None else None,
        kind=request.kind,
        outcome=outcome,
        competitor=competitor,
        reply_text=reply_text,
        confidence=confidence,
        needs_review=needs_review,
        is_current=current,
        source=source,
        created_at=now,
        corrected_by=by,
        language=language,
        answered_by=answered_by,
    )
    session.add(response)
    session.flush()
    for rank, code in enumerate(reasons):
        session.add(ResponseReason(response_id=response.id or 0, rank=rank, code=code))
    return response


def process_batch(
    engine: Engine,
    settings: Settings,
    message_ids: list[int],
    *,
    learned: LearnedExamples | None = None,
    now: datetime | None = None,
    pool: Executor | None = None,
    on_analysed: Callable[[], None] | None = None,
) -> dict[int, Outcome | Exception]:
    """Process several stored messages together (``feedback.services.batch``): an Outcome per id, or the
    exception that message's attempt raised; a fault shared by the batch raises. ``pool``: the
    processes that parse and classify (``feedback.services.batch.analysis_pool``); ``on_analysed``:
    called once their analysis is done, before the write."""
    from feedback.services.batch import process_batch as run

    return run(engine, settings, message_ids, learned=learned, now=now, pool=pool, on_analysed=on_analysed)


def process_message(
    engine: Engine,
    settings: Settings,
    message_id: int,
    *,
    learned: LearnedExamples | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Process one stored message. Database errors propagate (the job retries).

    The attempt is counted in a commit of its own before the work, so a message whose processing
    keeps raising (a bug, a poison message) cannot be retried forever: after
    ``settings.job_max_tries`` attempts it ends ``failed`` with its last error. The work is
    ``feedback.services.batch``'s, for a batch of one.
    """
    result = process_batch(engine, settings, [message_id], learned=learned, now=now)[message_id]
    if isinstance(result, BaseException):
        raise result
    assert isinstance(result, Outcome)
    return result


def parse(raw: bytes | bytearray) -> ParsedMessage:
    """The parser the worker uses (one name to replace in tests: ``processing.parse_message``)."""
    return parse_message(raw)


def process_parsed(
    engine: Engine,
    settings: Settings,
    message_id: int,
    parsed: ParsedMessage | None,
    *,
    learned: LearnedExamples | None = None,
    now: datetime | None = None,
    purged: bool = False,
) -> Outcome:
    """The one-message path, for a message whose attempt is counted and which is parsed already
    (``parsed``; None when its raw bytes were purged): every rule, through the ORM.
    ``feedback.services.batch`` sends here whatever its fast path does not take."""
    now = now or utcnow()
    secret = settings.secret_bytes()
    try:
        with write_lock(engine), Session(engine, expire_on_commit=False) as session:
            message = session.get(
                InboundMessage,
                message_id,
                with_for_update=engine.dialect.name == "postgresql",
            )
            if message is None:
                return Outcome(message_id, "missing", skipped=True)
            if message.status in FINAL:
                return Outcome(message_id, message.status, request_id=message.request_id, skipped=True)
            message.error = None  # a failed earlier attempt's error is not this outcome's
            result = _process(session, settings, secret, message, learned, now, parsed)
            finish_message(message, result.status, now=now)
            session.add(message)
            try:
                session.commit()
            except IntegrityError:  # a concurrent attempt stored this message's response first
                session.rollback()
                return Outcome(message_id, MessageStatus.processed, skipped=True)
            return result
    except Exception as exc:
        record_error(engine, message_id, f"{type(exc).__name__}: {exc}")
        raise


def record_error(engine: Engine, message_id: int, error: str) -> None:
    """Keep the last error of a failed attempt (best effort: the database may be what failed)."""
    try:
        with write_lock(engine), Session(engine) as session:
            message = session.get(InboundMessage, message_id)
            if message is not None and message.status not in FINAL:
                message.error = error[:2000]
                session.add(message)
                session.commit()
    except Exception:  # the database is down: the job's retry will record a later error
        log.debug("could not record the error of message %s", message_id, exc_info=True)


def _process(
    session: Session,
    settings: Settings,
    secret: bytes,
    message: InboundMessage,
    learned: LearnedExamples | None,
    now: datetime,
    parsed: ParsedMessage | None = None,
) -> Outcome:
    assert message.id is not None
    if parsed is None:
        raw = raw_bytes.read_start(session.connection(), message.id, MAX_BYTES)  # all the parser reads
        if raw is None:
            message.error = "raw message was purged before it was processed"
            return Outcome(message.id, MessageStatus.failed)
        parsed = parse_message(raw)
    message.classification = parsed.classification
    message.from_addr = parsed.from_addr or (parseaddr(message.mail_from)[1].lower() or None)
    message.auth_results = trusted_auth_results(parsed, settings.authserv_id)
    if parsed.classification == "unreadable":
        message.error = parsed.error or "not a readable message"
        return Outcome(message.id, MessageStatus.failed)

    rcpts = [r for r in message.rcpt_to.split(",") if r]
    request, how = match_request(session, parsed, rcpts, settings, secret)
    message.request_id = request.id if request is not None else None
    out = Outcome(message.id, MessageStatus.processed, request_id=message.request_id)

    if parsed.classification == "auto_reply":
        message.error = f"auto-reply ({parsed.auto_reason or 'auto headers'}): never answered"
        out.status = MessageStatus.ignored
        if request is not None:
            rep = session.get(Rep, request.rep_id)
            role = allowed_sender(session, rep, request, message.from_addr) if rep is not None else None
            if rep is not None and role in ("rep", "alias"):
                written = parsed.date or now
                back_on = return_date(parsed.auto_text or "", written=written)
                until = mark_away(rep, back_on, now=now, settings=settings)
                message.error += f"; follow-ups wait until {until:%Y-%m-%d %H:%M} UTC"
                session.add(rep)
        return out
    if parsed.classification == "bounce":
        bounce = parsed.bounce
        left = False
        if request is not None and bounce is not None and bounce.permanent and request.status in WAITING:
            move(request, RequestStatus.bounced, now=now)
            request.bounce_status = (bounce.status or "")[:32] or None
            session.add(request)
            left = _gone_by_bounces(session, request.rep_id, settings, now=now)
        message.error = (
            f"bounce: {bounce.action if bounce else 'failed'} {bounce.status if bounce else ''}".strip()
        )
        if left:
            message.error += f"; rep made inactive after {settings.bounce_deactivate_after} hard bounces"
        return out

    # a person's reply
    if request is None:
        out.status = MessageStatus.unmatched
        message.error = "no request found (no token, no known In-Reply-To/References)"
        session.add(
            ReviewItem(
                type=ReviewType.unmatched,
                inbound_message_id=message.id,
                reason="matches no request",
                created_at=now,
            )
        )
        return out
    rep = session.get(Rep, request.rep_id)
    assert rep is not None
    auth = verdict(message.auth_results, message.from_addr) if settings.authserv_id else None
    doubt = _sender_doubt(parsed, auth, settings)
    if doubt is not None:
        out.status = MessageStatus.quarantined
        message.error = doubt
        session.add(
            ReviewItem(
                type=ReviewType.quarantined,
                inbound_message_id=message.id,
                request_id=request.id,
                reason=doubt,
                created_at=now,
            )
        )
        return out
    sender_role = allowed_sender(session, rep, request, message.from_addr)
    if sender_role is None:
        out.status = MessageStatus.quarantined
        message.error = f"sender {message.from_addr} is not {rep.email}, one of the rep's aliases" + (
            " or their manager" if request.escalated_at is not None else ""
        )
        session.add(
            ReviewItem(
                type=ReviewType.quarantined,
                inbound_message_id=message.id,
                request_id=request.id,
                reason=message.error,
                created_at=now,
            )
        )
        return out
    if request.status in (RequestStatus.expired, RequestStatus.cancelled) or (
        how == "token" and request.expires_at is not None and request.expires_at < now
    ):
        out.status = MessageStatus.ignored
        message.error = "reply to an expired request token"
        out.mail.append(
            ("expired", {"request_id": request.id, "rep_email": rep.email, "subject": parsed.subject or ""})
        )
        return out

    if sender_role in ("rep", "alias") and rep.id is not None:
        # the rep's own signature, learned from their earlier replies, for what the rules missed
        parsed = with_learned_signature(parsed, load_signature(session, rep.id))
        record_signature(session, rep.id, parsed, now=now)
    config = AnalysisConfig(
        taxonomy=taxonomy_for(session, request, settings.taxonomy),
        competitors=tuple(settings.competitors),
        reply_local=settings.reply_local,
        learned=learned,
        people=rep_names(session),
        model=active_model(session) if settings.classifier_model else None,
    )
    cls = classify_parsed(parsed, kind=request.kind, config=config)
    assert cls is not None
    cls = flag_new_competitor(session, cls)
    other_path = _answered_by_another_path(session, request, message, auth)
    response = store_response(
        session,
        request=request,
        message=message,
        outcome=cls.outcome,
        reasons=cls.reasons,
        competitor=cls.competitor,
        reply_text=parsed.reply_text or "",
        confidence=cls.confidence,
        needs_review=cls.needs_review,
        source="reply",
        now=now,
        language=parsed.language,
        answered_by=message.from_addr,
        current=other_path is None,
    )
    out.response_id = response.id
    if other_path is not None:  # the answer stands until a person decides between the two
        session.add(
            ReviewItem(
                type=ReviewType.response,
                response_id=response.id,
                request_id=request.id,
                reason=other_path,
                created_at=now,
            )
        )
        return out
    request.answered_at = request.answered_at or now  # first reply: time to answer counts to it
    if cls.needs_review:
        move(request, RequestStatus.review, now=now)
        session.add(
            ReviewItem(
                type=ReviewType.response,
                response_id=response.id,
                request_id=request.id,
                reason="; ".join(cls.explanation) or "ambiguous or contradictory reply",
                created_at=now,
            )
        )
    elif cls.outcome is None:
        move(request, RequestStatus.clarifying, now=now)  # the follow-up round asks about it
    else:
        move(request, RequestStatus.answered, now=now)
        if settings.acknowledge:
            out.mail.append(
                (
                    "acknowledgement",
                    {"request_id": request.id, "rep_email": rep.email, "subject": parsed.subject or ""},
                )
            )
    session.add(request)
    return out


def _gone_by_bounces(session: Session, rep_id: int, settings: Settings, *, now: datetime) -> bool:
    """Make the rep inactive when ``bounce_deactivate_after`` of their requests bounced for good
    with no answer from them since (the address is gone: they left); True when it did."""
    from feedback.importing.records import deactivate_rep

    limit = settings.bounce_deactivate_after
    rep = session.get(Rep, rep_id)
    if not limit or rep is None or not rep.active:
        return False
    session.flush()
    last_answer = session.exec(
        select(func.max(FeedbackRequest.answered_at)).where(FeedbackRequest.rep_id == rep_id)
    ).one()
    bounced = (
        select(func.count())
        .select_from(FeedbackRequest)
        .where(FeedbackRequest.rep_id == rep_id, FeedbackRequest.status == RequestStatus.bounced)
    )
    if last_answer is not None:
        bounced = bounced.where(col(FeedbackRequest.sent_at) > last_answer)
    if int(session.exec(bounced).one()) < limit:
        return False
    deactivate_rep(session=session, email=rep.email, now=now)
    log.warning("rep %s made inactive after %d hard bounces", rep.email, limit)
    return True
