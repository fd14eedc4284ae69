"""``feedback demo``: the whole loop on the embedded default, in a fresh data directory."""

from __future__ import annotations

import asyncio
import itertools
import mailbox
import shutil
import time
from datetime import datetime
from email import message_from_bytes, policy
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func
from sqlmodel import Session, col, select

from cli.common import console, fail, get_settings
from feedback.db import make_engine, upgrade
from feedback.demo import build_reply, request_kind, sample_dir, sample_replies
from feedback.importing import import_file
from feedback.models import InboundMessage, Rep
from feedback.outbound import MaildirTransport
from feedback.processing import FINAL
from feedback.requesting import send_due_requests

_DONE = [str(status) for status in FINAL]  # a message with one of these needs nothing more
_OURS = ("feedback.db", "feedback.db-wal", "feedback.db-shm", "outbox", "redis", "secret.key")


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
        float, typer.Option(help="Give up waiting for the worker after this many seconds.")
    ] = 90.0,
) -> None:
    """Run the whole loop once on the embedded default, then print the summary.

    Imports sample reps, leads and deals, sends the requests to the outbox, starts the service,
    answers every request over real SMTP as the reps would, waits until every reply is processed,
    prints the feedback summary and stops.
    """
    from workers.service import running_service

    started = time.perf_counter()
    _fresh(data_dir)
    settings = get_settings(
        sample_dir() / "feedback.toml",
        data_dir=data_dir,
        database_url=None,
        redis_url=None,
        outbound="outbox",
        outbox_dir=None,
        smtp_host="127.0.0.1",
        send_since=datetime(2020, 1, 1),
        reply_domain="feedback.localhost",
    )
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)

    with Session(engine) as session:
        for kind in ("reps", "leads", "deals"):
            result = import_file(
                session=session, kind=kind, path=sample_dir() / f"{kind}.csv", settings=settings
            )
            session.commit()
            console.print(
                f"Imported {kind}: {result.created} created"
                + (f", {len(result.errors)} refused" if result.errors else "")
            )

    async def main() -> tuple[int, int]:
        outbox = MaildirTransport(settings.resolved_outbox)
        sent = await send_due_requests(engine, settings, outbox)
        console.print(f"Sent {sent.sent} requests to the outbox {settings.resolved_outbox}")
        async with running_service(settings, port=0, engine=engine, migrate=False) as running:
            host, port = running.address
            console.print(f"Service up: SMTP ingest on {host}:{port}, worker running, embedded Redis")
            replies = sample_replies()
            cycle = {k: itertools.cycle(v) for k, v in replies.items()}
            with Session(engine) as session:
                names = {r.email: r.name for r in session.exec(select(Rep)).all()}
            box = mailbox.Maildir(settings.resolved_outbox, create=False)
            import aiosmtplib

            answered = 0
            with _progress() as progress:
                task = progress.add_task("Reps replying over SMTP", total=len(box))
                async with aiosmtplib.SMTP(hostname=host, port=port) as smtp:
                    for key in sorted(box.keys()):
                        raw = box.get_bytes(key)
                        req = message_from_bytes(raw, policy=policy.default)
                        rep = parseaddr(str(req["To"]))[1]
                        reply, rcpt = build_reply(
                            raw,
                            text=next(cycle[request_kind(req)]),
                            sender_name=names.get(rep, rep),
                            sender=rep,
                        )
                        await smtp.send_message(reply, sender=rep, recipients=[rcpt])
                        answered += 1
                        progress.advance(task)
                task = progress.add_task("Worker processing replies", total=answered)
                deadline = time.monotonic() + timeout
                done = 0
                while done < answered:
                    done = await asyncio.to_thread(_count_done, engine)
                    progress.update(task, completed=done)
                    if time.monotonic() > deadline:
                        break
                    await asyncio.sleep(0.05)  # polling a condition, not a fixed wait
            return answered, done

    try:
        answered, done = asyncio.run(main())
    except OSError as exc:
        fail(f"the demo could not start the service: {exc}")
    if done < answered:
        fail(
            f"only {done} of {answered} replies were processed within {timeout:.0f}s",
            hint="run `feedback status` against the demo data dir to see what is stuck.",
        )
    _print_summary(engine, settings)
    engine.dispose()
    console.print(
        f"[bold green]Demo finished[/] in {time.perf_counter() - started:.1f}s: "
        f"{answered} replies processed. Data in {data_dir}/ (try `FEEDBACK_DATA_DIR={data_dir} "
        "feedback report summary --format html --output summary.html`)."
    )


def _count_done(engine: object) -> int:
    with Session(engine) as session:  # type: ignore[arg-type]
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


def _print_summary(engine: object, settings: object) -> None:
    from cli.common import OutputFormat
    from feedback.reports import render_report, summary
    from feedback.reports.filters import Filters

    report = summary(engine, Filters(), settings)  # type: ignore[arg-type]
    render_report(report, fmt=OutputFormat.table)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
