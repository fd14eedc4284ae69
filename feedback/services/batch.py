"""Many stored messages processed together: the worker's hot path.

A batch (the message jobs arq runs at the same moment, see ``workers/jobs.py``) costs:

1. one read of the messages' state (no raw bytes), and their raw bytes read in slices of at most
   ``RAW_SLICE`` bytes, each parsed and dropped before the next slice is read;
2. one commit counting the attempt of every message (before any work, as ``process_message``
   always did: a message whose processing keeps crashing ends ``failed`` after
   ``job_max_tries``), and ending those out of attempts;
3. parsing (pure), one read of the requests and reps the tokens name, classification (pure):
   outside any transaction and outside SQLite's process-wide write lock;
4. one short write transaction of plain Core statements for the whole batch: the requests' new
   states, the responses (``executemany`` with ``RETURNING``), their reasons, review items, and one
   update per message row.

Only the common case takes this path: a person's reply, matched by a valid token, from the
request's own rep, to a request that is open (not answered, expired or cancelled), naming no
competitor outside the configured list, whose request appears once in the batch. Everything else
(auto-replies, bounces, unmatched or quarantined mail, aliases and managers, authentication
checks, second answers, a new competitor, an answer the write finds already stored) goes through
``processing``'s one-message path, with the message already parsed and its attempt counted: the
rules live in one place, and this module only skips the ORM where nothing unusual can happen.

Idempotency is unchanged: the write re-reads the messages (``FOR UPDATE`` on PostgreSQL) and
skips any that another attempt finished meanwhile, a response is unique per message, and a
request whose state moved since it was read sends its message down the one-message path.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool as BrokenExecutor
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from sqlalchemy import bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col
from sqlmodel import select as sm_select

from feedback.classify import ClassificationResult, LearnedExamples
from feedback.core.analysis import AnalysisConfig, classify_parsed
from feedback.core.tokens import TokenError, find_token, verify_token
from feedback.mail import LearnedSignature, ParsedMessage
from feedback.mail.parse import MAX_BYTES
from feedback.runtime.settings import Settings
from feedback.services.signatures import encode_signature, load_signatures
from feedback.storage import fact_upkeep, raw_bytes
from feedback.storage.db import write_lock
from feedback.storage.lifecycle import MESSAGE_FINAL, TRANSITIONS, move
from feedback.storage.models import (
    FeedbackRequest,
    InboundMessage,
    MessageStatus,
    Rep,
    RepSignature,
    RequestStatus,
    Response,
    ResponseReason,
    ReviewItem,
    ReviewStatus,
    ReviewType,
    utcnow,
)

log = logging.getLogger("feedback.services.processing")

RAW_SLICE = 16 * 1024 * 1024  # raw bytes read (and held) at once while a batch is parsed
READ_WHOLE = 1024 * 1024  # larger messages: only their first MAX_BYTES are read (``_raw_slices``)

_M = InboundMessage.__table__  # type: ignore[attr-defined]
_REQ = FeedbackRequest.__table__  # type: ignore[attr-defined]
_RESP = Response.__table__  # type: ignore[attr-defined]
_REASON = ResponseReason.__table__  # type: ignore[attr-defined]
_REVIEW = ReviewItem.__table__  # type: ignore[attr-defined]
_SIG = RepSignature.__table__  # type: ignore[attr-defined]
_FINAL = [s.value for s in MESSAGE_FINAL]

Result = Any  # processing.Outcome | Exception (processing imports this module: no cycle at import)

# id, raw (a bytearray: a large message's start read in pieces), kind, config key, rep id, rep
# email, MAIL FROM
Item = tuple[int, bytes | bytearray, str, str, int, str, str]
Analysed = tuple[
    int, ParsedMessage | None, tuple[str | None, str | None] | None, ClassificationResult | None, str | None
]  # id, parsed, (reply text, signature) with the learned signature applied, classification, error
States = dict[int, tuple[LearnedSignature | None, int]]  # rep id -> (learned signature, learned now)


@dataclass(slots=True)
class Loaded:
    """A message's state as read, and what parsing made of it."""

    id: int
    status: str
    attempts: int
    error: str | None
    size: int
    rcpt_to: str
    mail_from: str
    request_id: int | None
    parsed: ParsedMessage | None = None
    purged: bool = False
    cls: ClassificationResult | None = None
    signed: tuple[str | None, str | None] | None = None  # (reply_text, signature), learned signature applied
    context: _Context | None = None  # the request its envelope token names, when the fast path may apply


@dataclass(slots=True)
class _Context:
    request: FeedbackRequest
    rep: Rep
    config_key: str  # the taxonomy fingerprint: one AnalysisConfig per taxonomy in a batch


@dataclass(slots=True)
class _Plan:
    """What the fast path writes for one message."""

    message: Loaded
    request: FeedbackRequest
    old_status: str
    from_addr: str | None
    auth_results: str | None
    response: dict[str, Any]
    reasons: tuple[str, ...]
    review: str | None
    mail: list[tuple[str, dict[str, Any]]] = field(default_factory=list)


def process_batch(
    engine: Engine,
    settings: Settings,
    message_ids: list[int],
    *,
    learned: LearnedExamples | None = None,
    now: datetime | None = None,
    pool: Executor | None = None,
    on_analysed: Callable[[], None] | None = None,
) -> dict[int, Result]:
    """Process ``message_ids``; an ``Outcome`` per id, or the exception that message raised.

    ``pool``: processes that parse and classify (``analysis_pool``), so that CPU work neither holds
    this process's GIL (the SMTP ingest shares it under ``feedback serve``) nor one core only.
    ``on_analysed``: called once the batch's parsing and classification are done and only its
    write is left (the worker's ``Batcher`` then lets the next batch into its analysis).

    A database fault in a step shared by the batch (the reads, the attempt commit, the write)
    propagates: every job of the batch retries.
    """
    from feedback.services import processing
    from feedback.services.processing import Outcome, process_parsed, record_error

    now = now or utcnow()
    ids = list(dict.fromkeys(message_ids))
    loaded = _load(engine, ids)
    results: dict[int, Result] = {}
    todo: list[Loaded] = []
    give_up: list[Loaded] = []
    for mid in ids:
        row = loaded.get(mid)
        if row is None:
            results[mid] = Outcome(mid, "missing", skipped=True)
        elif row.status in MESSAGE_FINAL:
            results[mid] = Outcome(mid, row.status, request_id=row.request_id, skipped=True)
        elif row.attempts >= settings.job_max_tries:
            give_up.append(row)
        else:
            todo.append(row)
    # a large message: the heap's free memory goes back to the system around each step, so what
    # one step freed (storing it, its read prefix, its parse) is not held while the next runs
    large = any(row.size > READ_WHOLE for row in todo)
    if large:
        raw_bytes.give_back()
    _begin_attempts(engine, todo, give_up, now=now)
    for row in give_up:
        log.error("message %s failed: gave up after %d attempts", row.id, row.attempts)
        results[row.id] = Outcome(row.id, MessageStatus.failed)

    configs, learning = _contexts(engine, settings, todo, learned=learned, now=now)
    states = {rep_id: (state, 0) for rep_id, (state, _) in learning.items()}
    parsed_ok: list[Loaded] = []
    for part in _raw_slices(engine, todo):
        analysed: list[Item] = []  # replies to an open request: parsed, signed, classified together
        for row, raw in part:
            if raw is None:
                row.purged = True
            elif row.context is not None:
                ctx = row.context
                analysed.append(
                    (
                        row.id,
                        raw,
                        ctx.request.kind,
                        ctx.config_key,
                        ctx.rep.id or 0,
                        ctx.rep.email,
                        row.mail_from,
                    )
                )
        shipped = [i for i in analysed if len(i[1]) <= POOL_MAX_BYTES] if pool is not None else []
        done, states = _analyse_in_pool(pool, shipped, configs, states)
        local = [i for i in analysed if i[0] not in done]
        if local:  # no pool, large messages (never copied to another process), a pool failure
            found, states = analyse_many(local, configs, states, parse=processing.parse)
            done.update((a[0], a) for a in found)
        del shipped, local, analysed
        for row, raw in part:
            if raw is None:
                parsed_ok.append(row)
                continue
            result = done.pop(row.id, None)
            if result is not None and result[4] is None:
                _, row.parsed, row.signed, row.cls, _ = result
                parsed_ok.append(row)
                continue
            try:  # no request to read it against, or it failed there: parsed here, errors recorded
                row.parsed = processing.parse(raw)
            except Exception as exc:  # a parser bug: this message's attempt fails, not the batch
                record_error(engine, row.id, f"{type(exc).__name__}: {exc}")
                results[row.id] = exc
                continue
            parsed_ok.append(row)
        del part, raw  # the loop's last bytes too: no message's bytes outlive its slice
        if large:
            raw_bytes.give_back()

    if on_analysed is not None:
        on_analysed()
    plans, slow = _plan(settings, parsed_ok, now=now)
    # a rep whose signature was learned from a reply that still goes one by one: all of that rep's
    # replies go one by one (in order), so nothing is learned twice or out of order
    unsure = {r.context.rep.id for r in slow if r.context is not None and r.signed is not None}
    if unsure:
        slow += [p.message for p in plans if p.request.rep_id in unsure]
        plans = [p for p in plans if p.request.rep_id not in unsure]
    signatures = {
        rep_id: (learning.get(rep_id, (None, 0))[1], state, count)
        for rep_id, (state, count) in states.items()
        if count and state is not None and any(p.request.rep_id == rep_id for p in plans)
    }
    if plans:
        try:
            written, done_before = _write(engine, plans, now=now, signatures=signatures)
        except IntegrityError:  # a response stored meanwhile, or data refused: one by one instead
            log.info("batch of %d: write refused, processing one by one", len(plans))
            slow = [p.message for p in plans] + slow
        else:
            for plan in plans:
                mid = plan.message.id
                if mid in done_before:
                    results[mid] = Outcome(mid, MessageStatus.processed, skipped=True)
                elif mid in written:
                    results[mid] = Outcome(
                        mid,
                        MessageStatus.processed,
                        request_id=plan.request.id,
                        response_id=written[mid],
                        mail=plan.mail,
                    )
                else:  # its request moved since it was read: the one-message path decides
                    slow.append(plan.message)
    for row in sorted(slow, key=lambda r: r.id):  # arrival order, as one by one
        try:
            results[row.id] = process_parsed(
                engine, settings, row.id, row.parsed, learned=learned, now=now, purged=row.purged
            )
        except Exception as exc:
            results[row.id] = exc
    if large:
        raw_bytes.give_back()
    return results


def _load(engine: Engine, ids: list[int]) -> dict[int, Loaded]:
    if not ids:
        return {}
    c = _M.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(c.id, c.status, c.attempts, c.error, c.size, c.rcpt_to, c.mail_from, c.request_id).where(
                c.id.in_(ids)
            )
        ).all()
    return {
        int(r[0]): Loaded(
            id=int(r[0]),
            status=str(r[1]),
            attempts=int(r[2] or 0),
            error=r[3],
            size=int(r[4] or 0),
            rcpt_to=str(r[5] or ""),
            mail_from=str(r[6] or ""),
            request_id=r[7],
        )
        for r in rows
    }


def _begin_attempts(engine: Engine, todo: list[Loaded], give_up: list[Loaded], *, now: datetime) -> None:
    """Count an attempt for each of ``todo`` and end ``give_up``, in one commit."""
    if not todo and not give_up:
        return
    c = _M.c
    with write_lock(engine), engine.begin() as conn:
        if todo:
            conn.execute(
                update(_M)
                .where(c.id.in_([r.id for r in todo]), c.status.not_in(_FINAL))
                .values(attempts=c.attempts + 1)
            )
        for row in give_up:
            error = f"gave up after {row.attempts} attempts; last error: {row.error or '?'}"
            conn.execute(
                update(_M)
                .where(c.id == row.id, c.status.not_in(_FINAL))
                .values(status=MessageStatus.failed.value, error=error[:2000], processed_at=now)
            )


def _raw_slices(
    engine: Engine, todo: list[Loaded]
) -> Iterator[list[tuple[Loaded, bytes | bytearray | None]]]:
    """``todo`` with their raw bytes (None: purged), in slices of at most ``RAW_SLICE`` bytes.

    A message over ``READ_WHOLE`` bytes is read by a statement of its own and only as far as the
    parser reads (its first ``MAX_BYTES``, ``raw_bytes.read_start``), so it counts that much in
    a slice: held once, handed to the parser as it is, and let go before the next slice is read.
    """
    start = 0
    while start < len(todo):
        end, total = start, 0
        while end < len(todo) and (end == start or total + min(todo[end].size, MAX_BYTES) <= RAW_SLICE):
            total += min(todo[end].size, MAX_BYTES)
            end += 1
        part = todo[start:end]
        small = [r.id for r in part if r.size <= READ_WHOLE]
        with engine.connect() as conn:
            raws: dict[int, bytes | bytearray | None] = dict(raw_bytes.read_many(conn, small))
            for row in part:
                if row.size > READ_WHOLE:  # its start only, alone: what the parser reads of it
                    raws[row.id] = raw_bytes.read_start(conn, row.id, MAX_BYTES)
        yield [(row, raws.pop(row.id, None)) for row in part]
        del raws
        start = end


def _contexts(
    engine: Engine,
    settings: Settings,
    rows: list[Loaded],
    *,
    learned: LearnedExamples | None,
    now: datetime,
) -> tuple[dict[str, AnalysisConfig], dict[int, tuple[LearnedSignature | None, int]]]:
    """Set ``row.context`` where the envelope's token names an open request of a rep (one read of
    requests, reps and their learned signatures for the batch); returns the classifier configs by
    key and each rep's learned signature with the number of replies it was learned from.

    Only the envelope is read here (before parsing): a token found only in the headers, an alias
    or a manager, an answered or expired request are the one-message path's to decide.
    """
    from feedback.services.classifier_models import active_model
    from feedback.services.processing import rep_names, taxonomy_for

    secret = settings.secret_bytes()
    wanted: dict[int, int] = {}  # message id -> request id its token names
    for row in rows:
        rcpts = [r for r in row.rcpt_to.split(",") if r]
        token = find_token(rcpts, local=settings.reply_local, domain=settings.reply_domain)
        try:
            request_id = verify_token(token, secret) if token else None
        except TokenError:
            request_id = None
        if request_id is not None and request_id not in wanted.values():  # once per batch
            wanted[row.id] = request_id
    configs: dict[str, AnalysisConfig] = {}
    learning: dict[int, tuple[LearnedSignature | None, int]] = {}
    if not wanted:
        return configs, learning
    # no autoflush: the requests are moved in memory later and written by ``_write``, never by this
    # read-only session (on SQLite a flush here would take the write lock outside ``write_lock``)
    with Session(engine, expire_on_commit=False, autoflush=False) as session:
        requests = {
            r.id: r
            for r in session.exec(
                sm_select(FeedbackRequest).where(col(FeedbackRequest.id).in_(list(wanted.values())))
            ).all()
        }
        reps = {
            r.id: r
            for r in session.exec(
                sm_select(Rep).where(col(Rep.id).in_({r.rep_id for r in requests.values()}))
            ).all()
        }
        people: tuple[str, ...] | None = None
        for row in rows:
            request = requests.get(wanted.get(row.id, -1))
            rep = reps.get(request.rep_id) if request is not None else None
            if (
                request is None
                or rep is None
                or request.status in (RequestStatus.answered, RequestStatus.expired, RequestStatus.cancelled)
                or (request.expires_at is not None and request.expires_at < now)
            ):
                continue
            taxonomy = taxonomy_for(session, request, settings.taxonomy)
            if taxonomy.fingerprint not in configs:
                people = rep_names(session) if people is None else people
                configs[taxonomy.fingerprint] = AnalysisConfig(
                    taxonomy=taxonomy,
                    competitors=tuple(settings.competitors),
                    reply_local=settings.reply_local,
                    learned=learned,
                    people=people,
                    model=active_model(session) if settings.classifier_model else None,
                )
            row.context = _Context(request=request, rep=rep, config_key=taxonomy.fingerprint)
        reps_in = {r.context.rep.id for r in rows if r.context is not None and r.context.rep.id is not None}
        stored = load_signatures(session, reps_in)
        learning = {rep_id: stored.get(rep_id, (None, 0)) for rep_id in reps_in}
    return configs, learning


# -- the analysis pool: parse + classify in other processes ----------------------------------------

POOL_MAX_BYTES = 2 * 1024 * 1024  # larger messages are parsed here: never copied to another process
_POOLS: dict[int, ProcessPoolExecutor] = {}
_POOLS_GUARD = threading.Lock()


def analysis_pool(processes: int) -> Executor | None:
    """A process pool of ``processes`` (shared by every worker of this process; None for 0).

    Spawned, not forked: the worker has threads (the ingest's writer, arq, SQLite) a fork would
    copy mid-state. Started once per process and kept: spawning costs about a second.
    """
    if processes <= 0:
        return None
    with _POOLS_GUARD:
        pool = _POOLS.get(processes)
        if pool is None:
            pool = _POOLS[processes] = ProcessPoolExecutor(
                processes, mp_context=multiprocessing.get_context("spawn")
            )
            for _ in range(processes):
                pool.submit(_warm)  # the processes start now, not in the first batch's time
        return pool


def _warm() -> None:
    import feedback.core.analysis  # noqa: F401  (the parser and classifier, imported once per process)


def _drop_pool(pool: Executor) -> None:
    with _POOLS_GUARD:
        for key, known in list(_POOLS.items()):
            if known is pool:
                del _POOLS[key]
    pool.shutdown(wait=False, cancel_futures=True)


def _from_rep(parsed: ParsedMessage, mail_from: str, rep_email: str) -> bool:
    from_addr = parsed.from_addr or (parseaddr(mail_from)[1].lower() or None)
    return bool(from_addr) and str(from_addr).lower() == rep_email.lower()


def analyse_many(
    items: list[Item],
    configs: dict[str, AnalysisConfig],
    states: States,
    *,
    parse: Callable[[bytes | bytearray], ParsedMessage] | None = None,
) -> tuple[list[Analysed], States]:
    """Parse each raw message; for a reply from the request's rep, apply and learn the rep's
    signature (in message order, as one by one) and classify it (pure; in a pool process, or in
    the worker). An error is returned as text: that message is parsed again by the batch, which
    records it. Returns the analyses and the reps' signatures after them."""
    from feedback.mail import parse_message, with_learned_signature
    from feedback.mail.learned_signature import learn, learning_text

    parse = parse or parse_message
    states = dict(states)
    out: list[Analysed] = []
    for mid, raw, kind, key, rep_id, rep_email, mail_from in items:
        try:
            parsed = parse(raw)
            if parsed.classification != "reply" or not _from_rep(parsed, mail_from, rep_email):
                out.append((mid, parsed, None, None, None))  # not the rep's reply: one by one
                continue
            state, count = states.get(rep_id, (None, 0))
            signed = with_learned_signature(parsed, state)
            text = learning_text(signed.reply_text, signed.signature)
            if text.strip():
                states[rep_id] = (learn(state, text), count + 1)
            cls = classify_parsed(signed, kind=kind, config=configs[key])
        except Exception as exc:
            out.append((mid, None, None, None, f"{type(exc).__name__}: {exc}"))
            continue
        out.append((mid, parsed, (signed.reply_text, signed.signature), cls, None))
    return out, states


def _analyse_in_pool(
    pool: Executor | None, items: list[Item], configs: dict[str, AnalysisConfig], states: States
) -> tuple[dict[int, Analysed], States]:
    """``analyse_many`` in the pool, split between its processes by rep (a rep's replies stay in
    order in one process); a broken pool leaves everything to the batch."""
    if pool is None or not items:
        return {}, states
    workers = max(1, getattr(pool, "_max_workers", 1))
    chunks: list[list[Item]] = [[] for _ in range(workers)]
    for item in items:
        chunks[item[4] % workers].append(item)
    used = {item[3] for item in items}
    wanted = {key: configs[key] for key in used}
    try:
        futures = [
            pool.submit(analyse_many, chunk, wanted, {i[4]: states.get(i[4], (None, 0)) for i in chunk})
            for chunk in chunks
            if chunk
        ]
        done: dict[int, Analysed] = {}
        merged = dict(states)
        for fut in futures:
            found, after = fut.result()
            merged.update(after)
            done.update((a[0], a) for a in found if a[4] is None)
        # a message that failed there is redone here: its rep's later replies must be redone too
        failed_reps = {i[4] for i in items if i[0] not in done}
        if failed_reps:
            done = {mid: a for mid, a in done.items() if _rep_of(items, mid) not in failed_reps}
            merged = {r: v for r, v in merged.items() if r not in failed_reps} | {
                r: states[r] for r in failed_reps if r in states
            }
        return done, merged
    except BrokenExecutor as exc:  # a pool process died (killed, out of memory): start a new pool
        log.warning("analysis pool broken (%s): parsing in the worker until it is back", exc)
        _drop_pool(pool)
        return {}, states


def _rep_of(items: list[Item], mid: int) -> int:
    return next(i[4] for i in items if i[0] == mid)


def _plan(settings: Settings, rows: list[Loaded], *, now: datetime) -> tuple[list[_Plan], list[Loaded]]:
    """Split ``rows`` into the fast path's plans and the rest (the one-message path)."""
    from feedback.services.processing import trusted_auth_results

    plans: list[_Plan] = []
    slow: list[Loaded] = []
    for row in rows:
        parsed, cls, context = row.parsed, row.cls, row.context
        if (
            row.purged
            or parsed is None
            or context is None
            or cls is None
            or row.signed is None
            or parsed.classification != "reply"
            or parsed.from_ambiguous
            or settings.authserv_id  # authentication verdicts: the one-message path
        ):
            slow.append(row)
            continue
        request, rep = context.request, context.rep
        from_addr = parsed.from_addr or (parseaddr(row.mail_from)[1].lower() or None)
        if not from_addr or from_addr.lower() != rep.email.lower():  # aliases, managers: slow path
            slow.append(row)
            continue
        if cls.competitor is not None and not cls.competitor_listed:
            slow.append(row)  # a new competitor is reviewed the first time: the slow path checks
            continue
        if cls.needs_review:
            target = RequestStatus.review
        elif cls.outcome is None:
            target = RequestStatus.clarifying
        else:
            target = RequestStatus.answered
        if target not in TRANSITIONS[RequestStatus(request.status)]:
            slow.append(row)
            continue
        old_status = str(request.status)
        request.answered_at = request.answered_at or now  # first reply: time to answer counts to it
        move(request, target, now=now)
        plan = _Plan(
            message=row,
            request=request,
            old_status=old_status,
            from_addr=from_addr,
            auth_results=trusted_auth_results(parsed, settings.authserv_id),
            response={
                "request_id": request.id,
                "inbound_message_id": row.id,
                "kind": request.kind,
                "outcome": cls.outcome,
                "competitor": cls.competitor,
                "reply_text": (row.signed or (None, None))[0] or "",
                "confidence": cls.confidence,
                "needs_review": cls.needs_review,
                "is_current": True,
                "source": "reply",
                "created_at": now,
                "corrected_by": None,
                "answered_by": from_addr,
                "language": parsed.language,
            },
            reasons=tuple(cls.reasons),
            review=("; ".join(cls.explanation) or "ambiguous or contradictory reply")
            if cls.needs_review
            else None,
        )
        if target is RequestStatus.answered and settings.acknowledge:
            plan.mail.append(
                (
                    "acknowledgement",
                    {"request_id": request.id, "rep_email": rep.email, "subject": parsed.subject or ""},
                )
            )
        plans.append(plan)
    return plans, slow


def _write(
    engine: Engine,
    plans: list[_Plan],
    *,
    now: datetime,
    signatures: dict[int, tuple[int, LearnedSignature, int]] | None = None,
) -> tuple[dict[int, int], set[int]]:
    """Write the plans in one transaction: (message id -> response id written, ids done before).

    A plan whose message another attempt finished meanwhile is skipped (``done before``); one whose
    request is no longer in the state it was read in is left out (neither mapping: the caller
    sends it down the one-message path).
    """
    postgres = engine.dialect.name == "postgresql"
    m, req = _M.c, _REQ.c
    with write_lock(engine), engine.begin() as conn:
        # rows locked in id order (messages, then requests, as the one-message path does): two
        # batches in flight, or two workers, never wait on each other in a cycle
        claim = (
            select(m.id)
            .where(m.id.in_([p.message.id for p in plans]), m.status.not_in(_FINAL))
            .order_by(m.id)
        )
        live = {int(r[0]) for r in conn.execute(claim.with_for_update() if postgres else claim)}
        done_before = {p.message.id for p in plans} - live
        plans = [p for p in plans if p.message.id in live]
        if not plans:
            return {}, done_before
        if signatures:  # before the requests, in the one-message path's order (message, signature)
            plans = _write_signatures(conn, plans, signatures, now=now, postgres=postgres)
            if not plans:
                return {}, done_before
        lock = select(req.id, req.status).where(req.id.in_([p.request.id for p in plans])).order_by(req.id)
        states = {int(r[0]): str(r[1]) for r in conn.execute(lock.with_for_update() if postgres else lock)}
        plans = [p for p in plans if states.get(p.request.id or 0) == p.old_status]
        if not plans:
            return {}, done_before
        # every write below changes these requests' facts only: recomputed once, at the end
        fact_upkeep.defer(conn)
        conn.execute(
            update(_REQ)
            .where(req.id == bindparam("b_id"))
            .values(
                status=bindparam("b_status"),
                answered_at=bindparam("b_answered_at"),
                clarified_at=bindparam("b_clarified_at"),
                reminders_sent=bindparam("b_reminders_sent"),
                last_reminder_at=bindparam("b_last_reminder_at"),
            ),
            [
                {
                    "b_id": p.request.id,
                    "b_status": str(RequestStatus(p.request.status).value),
                    "b_answered_at": p.request.answered_at,
                    "b_clarified_at": p.request.clarified_at,
                    "b_reminders_sent": p.request.reminders_sent,
                    "b_last_reminder_at": p.request.last_reminder_at,
                }
                for p in plans
            ],
        )
        # earlier answers (a reply without outcome, one waiting for review) become history
        conn.execute(
            update(_RESP)
            .where(_RESP.c.request_id.in_([p.request.id for p in plans]), _RESP.c.is_current.is_(True))
            .values(is_current=False)
        )
        inserted = conn.execute(
            insert(_RESP).returning(_RESP.c.id, _RESP.c.inbound_message_id, sort_by_parameter_order=True),
            [p.response for p in plans],
        ).all()
        response_ids = {int(r[1]): int(r[0]) for r in inserted}
        reasons = [
            {"response_id": response_ids[p.message.id], "rank": rank, "code": code}
            for p in plans
            for rank, code in enumerate(p.reasons)
        ]
        if reasons:
            conn.execute(insert(_REASON), reasons)
        reviews = [
            {
                "type": ReviewType.response.value,
                "status": ReviewStatus.open.value,
                "reason": p.review,
                "response_id": response_ids[p.message.id],
                "inbound_message_id": None,
                "request_id": p.request.id,
                "created_at": now,
            }
            for p in plans
            if p.review is not None
        ]
        if reviews:
            conn.execute(insert(_REVIEW), reviews)
        conn.execute(
            update(_M)
            .where(m.id == bindparam("b_id"))
            .values(
                status=MessageStatus.processed.value,
                processed_at=now,
                error=None,
                classification=bindparam("b_classification"),
                from_addr=bindparam("b_from_addr"),
                auth_results=bindparam("b_auth_results"),
                request_id=bindparam("b_request_id"),
            ),
            [
                {
                    "b_id": p.message.id,
                    "b_classification": p.message.parsed.classification if p.message.parsed else None,
                    "b_from_addr": p.from_addr,
                    "b_auth_results": p.auth_results,
                    "b_request_id": p.request.id,
                }
                for p in plans
            ],
        )
        fact_upkeep.refresh(conn, [p.request.id for p in plans if p.request.id is not None])
    return response_ids, done_before


def _write_signatures(
    conn: Any,
    plans: list[_Plan],
    signatures: dict[int, tuple[int, LearnedSignature, int]],
    *,
    now: datetime,
    postgres: bool,
) -> list[_Plan]:
    """Store the reps' signatures learned from this batch; a rep whose row another worker changed
    since it was read keeps it, and that rep's plans are left out (the one-message path learns)."""
    reps = sorted({p.request.rep_id for p in plans} & set(signatures))
    if not reps:
        return plans
    insert_ = pg_insert if postgres else sqlite_insert
    conn.execute(
        insert_(_SIG)
        .values(
            [{"rep_id": r, "lines": "[]", "samples": "[]", "messages": 0, "updated_at": now} for r in reps]
        )
        .on_conflict_do_nothing()
    )
    query = select(_SIG.c.rep_id, _SIG.c.messages).where(_SIG.c.rep_id.in_(reps)).order_by(_SIG.c.rep_id)
    current = {int(r[0]): int(r[1]) for r in conn.execute(query.with_for_update() if postgres else query)}
    moved = {r for r in reps if current.get(r) != signatures[r][0]}
    keep = [r for r in reps if r not in moved]
    if keep:
        conn.execute(
            update(_SIG)
            .where(_SIG.c.rep_id == bindparam("b_rep"))
            .values(
                lines=bindparam("b_lines"),
                samples=bindparam("b_samples"),
                messages=bindparam("b_messages"),
                updated_at=now,
            ),
            [
                {
                    "b_rep": r,
                    "b_messages": signatures[r][0] + signatures[r][2],
                    **{f"b_{k}": v for k, v in encode_signature(signatures[r][1]).items()},
                }
                for r in keep
            ],
        )
    return [p for p in plans if p.request.rep_id not in moved]
