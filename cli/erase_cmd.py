"""``feedback erase``: remove a person's personal data, keep the figures."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.common import ConfigOption, console, get_settings, open_engine


def erase(
    lead: Annotated[str | None, typer.Option(help="A lead's CRM id.")] = None,
    deal: Annotated[str | None, typer.Option(help="A deal's CRM id (its contact lead too).")] = None,
    rep: Annotated[str | None, typer.Option(help="A rep's email address.")] = None,
    email: Annotated[str | None, typer.Option(help="Any address: leads, reps, aliases, senders.")] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be erased; change nothing.")
    ] = False,
    config: ConfigOption = None,
) -> None:
    """Erase a person's personal data everywhere (raw mail included), keeping aggregate figures.

    Names, addresses, titles and companies become "(erased)", raw mails are dropped, reply texts
    blanked; outcomes, reasons, dates and amounts stay, so reports keep their numbers.
    """
    from sqlmodel import Session

    from feedback.services.erase import erase as erase_data

    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        result = erase_data(session, lead=lead, deal=deal, rep=rep, email=email, dry_run=dry_run)
        if not dry_run:
            session.commit()
    verb = "would be erased" if dry_run else "erased"
    console.print(f"{sum(result.touched.values())} item(s) {verb}:")
    for what, n in sorted(result.touched.items()):
        console.print(f"  {n:>6}  {what}")


def register(app: typer.Typer) -> None:
    app.command("erase")(erase)
