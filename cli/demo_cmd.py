"""``feedback demo``: eight weeks of the loop on the embedded default, replayed in seconds.

The world (CRM exports, how each rep answers) comes from :mod:`feedback.runtime.demo`; here it is run:
the CSVs go through the real import, requests through the real templates to the outbox, replies
over real SMTP into the ingest and the worker, all on one simulated clock that the worker's jobs
read too, so sends, answers, reminders and escalations carry their simulated dates.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import mailbox
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cli.common import console, fail, get_settings
from feedback.importing import import_file
from feedback.outbound.requesting import send_clarifications, send_due_requests, send_followups
from feedback.outbound.transports import MaildirTransport
from feedback.runtime.demo import UNCLEAR, Behaviour, World, build_reply, build_world, sample_dir
from feedback.runtime.settings import Settings
from feedback.services.processing import FINAL
from feedback.storage.db import make_engine, upgrade
from feedback.storage.models import (
    Deal,
    FeedbackRequest,
    InboundMessage,
    Lead,
    OutboundMail,
    Rep,
    RequestStatus,
    utcnow,
)

_DONE = [str(status) for status in FINAL]  # a message with one of these needs nothing more
_OURS = (
    "feedback.db",
    "feedback.db-wal",
    "feedback.db-shm",
    "outbox",
    "redis",
    "secret.key",
    "crm",
    "reports",
)
ROUND = timedelta(hours=6)  # how often the simulated cron sends, reminds and escalates


class ManualClock:
    """The simulated time; the worker's jobs call it for "now"."""

    def __init__(self, start: datetime) -> None:
        self.at = start

    def __call__(self) -> datetime:
        return self.at


def _fresh(data_dir: Path) -> None:
    """Remove what an earlier demo left (only our own files: never a whole user directory)."""
    for name in _OURS:
        path = data_dir / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    data_dir.mkdir(parents=True, exist_ok=True)


def demo(
    data_dir: Annotated[
        Path, typer.Option(help="Fresh data directory for the demo (its old demo files are removed).")
    ] = Path("var/demo"),
    timeout: Annotated[
        float, typer.Option(help="Give up waiting for the worker on one reply after this many seconds.")
    ] = 30.0,
) -> None:
    """Replay eight weeks of the loop on the embedded default, then print the summary.

    Imports CRM exports (reps, 60 leads, their deals in USD and EUR), sends each request when its
    lead is assigned or its deal closes, answers over real SMTP after realistic delays (some after
    a reminder, one after a clarification, a few only by the manager after an escalation, a few
    never), writes every report as HTML into DATA_DIR/reports/ and prints the summary.
    """
    from workers.service import running_service

    started = time.perf_counter()
    _fresh(data_dir)
    world = build_world(utcnow())
    settings = get_settings(
        sample_dir() / "feedback.toml",
        data_dir=data_dir,
        database_url=None,
        redis_url=None,
        outbound="outbox",
        outbox_dir=None,
        smtp_host="127.0.0.1",
        send_since=world.start,
        reply_domain="feedback.localhost",
        auto_send=False,
    )
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    _import(engine, settings, world, data_dir / "crm")
    clock = ManualClock(world.start)

    async def main() -> Replay:
        async with running_service(
            settings, port=0, engine=engine, migrate=False, clock=clock, crons=False
        ) as running:
            host, port = running.address
            console.print(f"Service up: SMTP ingest on {host}:{port}, worker running, embedded Redis")
            replay = Replay(engine, settings, world, clock, timeout)
            await replay.run(host, port)
            return replay

    try:
        replay = asyncio.run(main())
    except OSError as exc:
        fail(f"the demo could not start the service: {exc}")
    except TimeoutError as exc:
        fail(str(exc), hint="run `feedback status` against the demo data dir to see what is stuck.")
    written = _write_reports(engine, settings, data_dir / "reports", now=world.end)
    _print_summary(engine, settings, now=world.end)
    engine.dispose()
    console.print(
        f"[bold green]Demo finished[/] in {time.perf_counter() - started:.1f}s: {WEEKS_TEXT} replayed, "
        f"{replay.counts['requests']} requests, {replay.counts['replies']} replies "
        f"({replay.counts['manager']} by a manager), {replay.counts['reminders']} reminders, "
        f"{replay.counts['escalations']} escalations, {replay.counts['clarifications']} clarification(s)."
    )
    console.print(
        f"Every report as HTML: {written}/ . Mails sent: {settings.resolved_outbox}/ . Try "
        f"`FEEDBACK_DATA_DIR={data_dir} feedback report trends --date-by answered`."
    )


WEEKS_TEXT = "eight weeks"


def _import(engine: Engine, settings: Settings, world: World, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for kind, text in (("reps", world.reps_csv), ("leads", world.leads_csv), ("deals", world.deals_csv)):
        path = folder / f"{kind}.csv"
        path.write_text(text, "utf-8")
        with Session(engine) as session:
            result = import_file(session=session, kind=kind, path=path, settings=settings)
            session.commit()
        console.print(
            f"Imported {kind}: {result.created} created"
            + (f", {len(result.errors)} refused" if result.errors else "")
            + f" ({path})"
        )


@dataclass(order=True)
class _Event:
    at: datetime
    seq: int
    action: Callable[[], Any] = field(compare=False)


class Replay:
    """The simulated weeks: a queue of timed events, run in order on the shared clock."""

    def __init__(self, engine: Engine, settings: Settings, world: World, clock: ManualClock, timeout: float):
        self.engine, self.settings, self.world, self.clock, self.timeout = (
            engine,
            settings,
            world,
            clock,
            timeout,
        )
        self.transport = MaildirTransport(settings.resolved_outbox)
        self.events: list[_Event] = []
        self.seq = itertools.count()
        self.scheduled: set[int] = set()
        self.sent_replies = 0
        self.counts = dict.fromkeys(
            ("requests", "replies", "manager", "reminders", "escalations", "clarifications"), 0
        )
        self.smtp_at: tuple[str, int] = ("127.0.0.1", 0)
        self.session: Session = Session(engine)

    def at(self, when: datetime, action: Callable[[], Any]) -> None:
        heapq.heappush(self.events, _Event(when, next(self.seq), action))

    async def run(self, host: str, port: int) -> None:
        t = self.world.start
        while t <= self.world.end:
            self.at(t, self.cron_round)
            t += ROUND
        total = len(self.events)
        with _progress() as progress, Session(self.engine) as session:
            self.session = session
            task = progress.add_task("Replaying eight weeks", total=total)
            self.smtp_at = (host, port)  # each reply comes in its own SMTP session, as from a rep's server
            while self.events:
                event = heapq.heappop(self.events)
                if event.at > self.world.end:
                    break
                self.clock.at = event.at
                await event.action()
                if event.action == self.cron_round:
                    progress.advance(task)

    async def cron_round(self) -> None:
        """What the worker's cron does: send due requests, remind, escalate, clarify."""
        now = self.clock.at
        result = await send_due_requests(self.engine, self.settings, self.transport, now=now)
        self.counts["requests"] += result.sent
        followups = await send_followups(self.engine, self.settings, self.transport, now=now)
        self.counts["reminders"] += followups["reminders"]
        self.counts["escalations"] += followups["escalations"]
        self.counts["clarifications"] += await send_clarifications(
            self.engine, self.settings, self.transport, now=now
        )
        if result.sent:
            self.session.expire_all()
            for request in self.session.exec(select(FeedbackRequest)).all():
                if request.id not in self.scheduled:
                    self.scheduled.add(request.id or 0)
                    self.plan(request)

    def behaviour(self, request: FeedbackRequest) -> Behaviour | None:
        if request.lead_id is not None:
            lead = self.session.get(Lead, request.lead_id)
            return self.world.behaviours.get(("disposition", lead.crm_id)) if lead else None
        deal = self.session.get(Deal, request.deal_id) if request.deal_id is not None else None
        return self.world.behaviours.get(("winloss", deal.crm_id)) if deal else None

    def plan(self, request: FeedbackRequest) -> None:
        b = self.behaviour(request)
        assert request.sent_at is not None and request.id is not None
        if b is None or b.way == "silent":
            return
        rid = request.id
        if b.way in ("prompt", "late"):
            self.at(
                request.sent_at + timedelta(hours=b.delay_hours), lambda: self.reply(rid, "request", b.answer)
            )
        elif b.way == "unclear":
            self.at(request.sent_at + timedelta(hours=3), lambda: self.reply(rid, "request", UNCLEAR))
            self.at(request.sent_at + timedelta(hours=30), lambda: self.reply(rid, "clarification", b.answer))
        elif b.way == "manager":  # the escalation: two reminders and 40 business hours later
            self.at(
                request.sent_at + timedelta(days=7, hours=b.delay_hours),
                lambda: self.reply(rid, "escalation", b.answer),
            )

    async def reply(self, request_id: int, to_mail: str, text: str, tries: int = 0) -> None:
        """Answer the newest mail of kind ``to_mail`` about the request (wait a round if none yet)."""
        self.session.expire_all()
        request = self.session.get(FeedbackRequest, request_id)
        assert request is not None
        if to_mail == "request":
            message_id = request.message_id
        else:
            mail = self.session.exec(
                select(OutboundMail)
                .where(OutboundMail.request_id == request_id, OutboundMail.purpose == to_mail)
                .order_by(col(OutboundMail.sent_at).desc())
            ).first()
            message_id = mail.message_id if mail else None
        if message_id is None or request.status == RequestStatus.expired:
            if tries < 12 and request.status != RequestStatus.expired:
                self.at(self.clock.at + ROUND, lambda: self.reply(request_id, to_mail, text, tries + 1))
            return
        raw = self._outbox_mail(message_id)
        rep = self.session.get(Rep, request.rep_id)
        assert rep is not None
        sender, name = rep.email, rep.name
        if to_mail == "escalation" and rep.manager_email:
            sender = rep.manager_email
            name = sender.split("@")[0].replace(".", " ").title()
            self.counts["manager"] += 1
        reply, rcpt = build_reply(raw, text=text, sender_name=name, sender=sender, when=self.clock.at)
        import aiosmtplib

        host, port = self.smtp_at
        await aiosmtplib.send(reply, hostname=host, port=port, sender=sender, recipients=[rcpt])
        self.sent_replies += 1
        self.counts["replies"] += 1
        await self._processed()

    def _outbox_mail(self, message_id: str) -> bytes:
        box = mailbox.Maildir(self.settings.resolved_outbox, create=False)
        for key in box.iterkeys():
            raw = box.get_bytes(key)
            head = raw.split(b"\n\n", 1)[0]
            if message_id.encode() in head:
                return raw
        raise LookupError(f"no mail with Message-ID {message_id} in the outbox")

    async def _processed(self) -> None:
        """Wait until the worker has finished every reply sent so far (polling a condition)."""
        deadline = time.monotonic() + self.timeout
        while await asyncio.to_thread(_count_done, self.engine) < self.sent_replies:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the worker did not process reply {self.sent_replies} within {self.timeout:.0f}s"
                )
            await asyncio.sleep(0.02)


def _count_done(engine: Engine) -> int:
    with Session(engine) as session:
        return int(
            session.exec(
                select(func.count()).select_from(InboundMessage).where(col(InboundMessage.status).in_(_DONE))
            ).one()
        )


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    )


def _write_reports(engine: Engine, settings: Settings, folder: Path, *, now: datetime) -> Path:
    """Every report as an HTML file, dated by what each is about (the demo's simulated now)."""
    from feedback.reports import REPORTS, render_report
    from feedback.reports.filters import Filters
    from feedback.services.sla_facts import refresh_sla

    refresh_sla(engine, settings, now=now)  # each answer's business hours, for the SLA figures
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in REPORTS.items():
        report = build(engine, Filters(), settings, now=now)
        with (folder / f"{name}.html").open("w", encoding="utf-8") as out:
            render_report(report, fmt="html", out=out)
    return folder


def _print_summary(engine: Engine, settings: Settings, *, now: datetime) -> None:
    from cli.common import OutputFormat
    from feedback.reports import render_report, summary
    from feedback.reports.filters import Filters

    report = summary(engine, Filters(), settings, now=now)
    render_report(report, fmt=OutputFormat.table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
