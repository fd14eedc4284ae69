"""``feedback serve``, ``feedback worker``, ``feedback send``: running the loop."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import TYPE_CHECKING, Annotated

import typer

from cli.common import ConfigOption, console, fail, get_settings, open_engine

if TYPE_CHECKING:
    pass


def _logging(verbose: bool, json_logs: bool = False) -> None:
    from feedback.runtime.logs import configure_logging

    configure_logging(level=logging.INFO if verbose else logging.WARNING, json_lines=json_logs)


def serve(
    config: ConfigOption = None,
    worker: Annotated[
        bool, typer.Option("--worker/--no-worker", help="Also run a worker in this process.")
    ] = True,
    port: Annotated[
        int | None, typer.Option(help="SMTP port (default: smtp_port setting, 2525).", min=0, max=65535)
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log every message.")] = False,
    json_logs: Annotated[bool, typer.Option("--json-logs", help="One JSON object per log line.")] = False,
) -> None:
    """Run the SMTP ingest and a worker (embedded SQLite + Redis by default) until Ctrl-C/SIGTERM."""
    from feedback.runtime.redis_embedded import EmbeddedRedisError
    from workers.service import serve_forever

    _logging(verbose, json_logs)
    settings = get_settings(config, **({"smtp_port": port} if port is not None else {}))
    try:
        asyncio.run(serve_forever(settings, worker=worker))
    except EmbeddedRedisError as exc:
        fail(str(exc), hint="set FEEDBACK_REDIS_URL to a running Redis.")
    except OSError as exc:
        fail(
            f"cannot listen on {settings.smtp_host}:{settings.smtp_port}: {exc.strerror}",
            hint="pick another port with --port or FEEDBACK_SMTP_PORT.",
        )


def worker(
    config: ConfigOption = None,
    burst: Annotated[bool, typer.Option(help="Process what is queued, then exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Run a worker only (production: as many as you like, on any machine, with FEEDBACK_REDIS_URL)."""
    from workers.arq_config import build_worker, run_worker_forever
    from workers.extras import extras
    from workers.service import LazyQueue, redis_for

    _logging(verbose)
    settings = get_settings(config)
    if settings.embedded_redis and not burst:
        console.print(
            "[yellow]No FEEDBACK_REDIS_URL: starting an embedded Redis; "
            "only workers in this process will see its queue.[/]"
        )

    async def main() -> None:
        with open_engine(settings, schema="upgrade") as engine:
            async with redis_for(settings) as url:
                if burst:
                    w = build_worker(settings, engine, url, burst=True, crons=False)
                    await w.async_run()
                    await w.close()
                    return
                stop = asyncio.Event()
                loop = asyncio.get_running_loop()
                for sig in (signal.SIGTERM, signal.SIGINT):
                    loop.add_signal_handler(sig, stop.set)
                queue = LazyQueue(url)
                try:  # /healthz, /readyz (database, Redis), /metrics when http_port is set
                    async with extras(
                        settings, engine, queue.enqueue, redis_url=url, smtp=None, stop=stop, imap=False
                    ):
                        await run_worker_forever(settings, engine, url, stop=stop)
                finally:
                    await queue.close()

    asyncio.run(main())


def send(
    config: ConfigOption = None,
    limit: Annotated[int | None, typer.Option(help="Send at most this many requests.")] = None,
    digest: Annotated[
        bool, typer.Option("--digest", help="Also mail the weekly digest now (to digest_recipients).")
    ] = False,
    followups: Annotated[
        bool,
        typer.Option(
            "--followups/--no-followups", help="Also send due reminders, escalations and clarifications."
        ),
    ] = True,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="List the requests that would go out; store and send nothing."),
    ] = False,
) -> None:
    """Send the due requests, plus reminders, escalations and clarifications.

    A disposition request goes out for each assigned lead without one and a win/loss request for
    each closed deal without one; nothing is sent about history before send_since.
    """
    from feedback.outbound.requesting import send_clarifications, send_due_requests, send_followups
    from feedback.outbound.transports import MaildirTransport, transport_for

    settings = get_settings(config)
    transport = transport_for(settings)
    if isinstance(transport, MaildirTransport) and not dry_run:
        transport.ensure()  # one line now rather than "send failed" for every mail

    async def main() -> None:
        with open_engine(settings) as engine:
            if dry_run:
                with console.status("Rendering the due requests..."):
                    result = await send_due_requests(engine, settings, transport, limit=limit, dry_run=True)
                _print_planned(result.planned)
                _print_held(result.held)
                _print_fallbacks(result.template_fallbacks)
                for err in result.errors:
                    console.print(f"[red]would fail:[/] {err}")
                raise typer.Exit(1 if result.errors else 0)
            with console.status("Sending requests..."):
                result = await send_due_requests(engine, settings, transport, limit=limit)
            console.print(
                f"[green]{result.sent}[/] request(s) sent"
                + (f", {result.already} already asked by another sender" if result.already else "")
                + (f" to {settings.resolved_outbox}" if settings.outbound == "outbox" else "")
                + "."
            )
            _print_held(result.held)
            _print_fallbacks(result.template_fallbacks)
            for err in result.errors:
                console.print(f"[red]not sent:[/] {err}")
            refused = 0
            if followups:
                counts = await send_followups(engine, settings, transport)
                counts["clarifications"] = await send_clarifications(engine, settings, transport)
                refused = counts.pop("failed", 0)
                console.print(", ".join(f"{v} {k}" for k, v in counts.items()) + ".")
                if refused:
                    console.print(f"[red]{refused} follow-up mail(s) refused[/]: retried next round.")
            if digest:
                from feedback.outbound.digest_mail import send_digest

                if not settings.digest_recipients:
                    fail("no digest_recipients configured", hint="set FEEDBACK_DIGEST_RECIPIENTS=a@x,b@y")
                n = await send_digest(engine, settings, transport, force=True)
                console.print(f"Digest sent to {n} address(es).")
            if result.errors or refused:
                raise typer.Exit(1)  # the relay refused something: worth a look at its log

    asyncio.run(main())


def _print_fallbacks(fallbacks: list[str]) -> None:
    for warning in dict.fromkeys(fallbacks):
        console.print(f"[yellow]template:[/] {warning} (fix it: feedback templates validate)")


def _print_held(held: dict[str, int]) -> None:
    """Every lead or deal `send` did not ask about, by reason, with what controls it."""
    from feedback.outbound.requesting import HELD_BACK

    if not held:
        return
    console.print(f"{sum(held.values())} lead(s)/deal(s) held back:")
    for reason, n in sorted(held.items(), key=lambda kv: -kv[1]):
        console.print(f"  {n:>6}  {HELD_BACK[reason]}")


def _print_planned(planned: list[dict[str, str]]) -> None:
    from rich.table import Table

    table = Table(title=f"Dry run: {len(planned)} request(s) would be sent", title_justify="left")
    for name in ("to", "kind", "subject"):
        table.add_column(name)
    for row in planned:
        table.add_row(row["to"], row["kind"], row["subject"])
    console.print(table)
    console.print("Nothing was stored or sent; reminders and clarifications were not looked at.")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.command("worker")(worker)
    app.command("send")(send)
