"""``feedback reps``: list and edit reps, their managers and alias addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape

if TYPE_CHECKING:
    pass

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    RawCsvOption,
    console,
    fail,
    get_settings,
    open_engine,
    render_rows,
)

app = typer.Typer(no_args_is_help=True)

EmailArgument = Annotated[str, typer.Argument(help="The rep's email address.", show_default=False)]
_LIST_HINT = "`feedback reps list --all` shows every rep."


@app.command("list")
def list_cmd(
    team: Annotated[str | None, typer.Option("--team", "-t", help="Only this team.")] = None,
    include_inactive: Annotated[bool, typer.Option("--all", help="Include deactivated reps.")] = False,
    fmt: FormatOption = OutputFormat.table,
    raw_csv: RawCsvOption = False,
    config: ConfigOption = None,
) -> None:
    """List reps with their team, manager, language and alias addresses."""
    from feedback.importing.records import list_reps
    from feedback.storage.db import session_scope

    if team is not None:
        _checked(team, "the team")
    settings = get_settings(config)
    with open_engine(settings) as engine, session_scope(engine) as session:
        rows = list_reps(session=session, team=team, include_inactive=include_inactive)
    if fmt is OutputFormat.csv:  # the import's form, so the listing can be re-imported
        rows = [{**r, "aliases": ";".join(r["aliases"])} for r in rows]
    if not rows and fmt is OutputFormat.table:
        console.print(
            "No reps"
            + (f" in team {team!r}" if team else "")
            + ". Import them with `feedback import reps FILE.csv`."
        )
        return
    render_rows(rows, fmt=fmt, title="Reps", raw_csv=raw_csv)


@app.command("add")
def add_cmd(
    email: EmailArgument,
    name: Annotated[str | None, typer.Option("--name", help="Full name, as the CRM shows the owner.")] = None,
    team: Annotated[str | None, typer.Option("--team", help="Team, for reports and filters.")] = None,
    manager: Annotated[
        str | None, typer.Option("--manager", help="Manager's email: unanswered requests escalate there.")
    ] = None,
    language: Annotated[
        str | None, typer.Option("--language", help="Language of the mails to this rep (en, de, fr, es).")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Add a rep, or update the given fields of an existing one (and reactivate it)."""
    from feedback.importing import ImportingError, upsert_rep
    from feedback.storage.db import session_scope

    settings = get_settings(config)
    with open_engine(settings) as engine:
        try:
            with session_scope(engine) as session:
                rep, created = upsert_rep(
                    session=session,
                    email=email,
                    name=name,
                    team=team,
                    manager_email=manager,
                    language=language,
                )
        except ImportingError as exc:
            fail(escape(str(exc)))
    console.print(f"{'Added' if created else 'Updated'} rep {rep.email}.", markup=False, highlight=False)


@app.command("alias")
def alias_cmd(
    email: EmailArgument,
    alias: Annotated[str, typer.Argument(help="Another address the rep replies from.", show_default=False)],
    remove: Annotated[bool, typer.Option("--remove", help="Stop accepting replies from ALIAS.")] = False,
    config: ConfigOption = None,
) -> None:
    """Accept replies from ALIAS as the rep's own (a personal domain, a shared mailbox...)."""
    from feedback.importing import (
        ImportingError,
        RepNotFound,
        add_rep_alias,
        normalise_email,
        remove_rep_alias,
    )
    from feedback.storage.db import session_scope

    settings = get_settings(config)
    if remove:
        with open_engine(settings) as engine:
            try:
                with session_scope(engine) as session:
                    removed = remove_rep_alias(session=session, email=email, alias=alias)
            except RepNotFound as exc:
                fail(escape(str(exc)), hint=_LIST_HINT)
        word = "removed from" if removed else "was no alias of"
        console.print(f"{normalise_email(alias)} {word} {email}.", markup=False, highlight=False)
        return
    with open_engine(settings) as engine:
        try:
            with session_scope(engine) as session:
                added = add_rep_alias(session=session, email=email, alias=alias)
        except RepNotFound as exc:
            fail(escape(str(exc)), hint=_LIST_HINT)
        except ImportingError as exc:
            fail(escape(str(exc)))
    address = normalise_email(alias)
    message = (
        f"{address} is now an alias of {email}." if added else f"{address} already was an alias of {email}."
    )
    console.print(message, markup=False, highlight=False)


@app.command("deactivate")
def deactivate_cmd(
    email: EmailArgument,
    reassign_to: Annotated[
        str | None,
        typer.Option("--reassign-to", help="Hand the rep's open requests to this rep, who is asked afresh."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Stop sending requests to this rep; their history and answers stay in the reports."""
    import asyncio

    from feedback.importing import ImportingError, RepNotFound, deactivate_rep
    from feedback.outbound.transports import transport_for
    from feedback.services.requests_admin import RequestAdminError, reassign
    from feedback.storage.db import session_scope
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    with open_engine(settings) as engine:
        try:
            with session_scope(engine) as session:
                changed = deactivate_rep(session=session, email=email)
        except RepNotFound as exc:
            fail(escape(str(exc)), hint=_LIST_HINT)
        except ImportingError as exc:
            fail(escape(str(exc)))
        moved: list[int] = []
        if reassign_to is not None:
            try:
                moved = asyncio.run(
                    reassign(
                        engine, settings, transport_for(settings), from_email=email, to_email=reassign_to,
                        now=utcnow(),
                    )
                )  # fmt: skip
            except RequestAdminError as exc:
                fail(escape(str(exc)), code=2)
    console.print(
        (f"Deactivated {email}." if changed else f"{email} was already inactive.")
        + (f" {len(moved)} open request(s) handed to {reassign_to}." if reassign_to else ""),
        markup=False,
        highlight=False,
    )


@app.command("away")
def away_cmd(
    email: EmailArgument,
    until: Annotated[
        str | None, typer.Option("--until", help="The day the rep is back (YYYY-MM-DD), in their zone.")
    ] = None,
    back: Annotated[bool, typer.Option("--back", help="The rep is back now: follow-ups resume.")] = False,
    config: ConfigOption = None,
) -> None:
    """Pause reminders and escalations for a rep who is away (as their out-of-office does)."""
    from datetime import date

    from sqlmodel import Session

    from feedback.services.requests_admin import RequestAdminError, set_away
    from feedback.storage.models import utcnow

    if (until is None) == (not back):
        fail("give --until YYYY-MM-DD, or --back", code=2)
    day = None
    if until is not None:
        try:
            day = date.fromisoformat(until)
        except ValueError:
            fail(f"--until {until!r} is not a date", hint="write it as YYYY-MM-DD", code=2)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            set_away(session, email=email, until=day, settings=settings, now=utcnow())
        except RequestAdminError as exc:
            fail(escape(str(exc)), code=2)
    console.print(
        f"{email} is away until {day}: no reminders or escalations before." if day else f"{email} is back.",
        markup=False,
        highlight=False,
    )


def _checked(value: str, what: str) -> str:
    """Typed text holds no control characters (the import's rule): else a one-line error."""
    from feedback.importing import ImportingError, check_text

    try:
        return check_text(value, what)
    except ImportingError as exc:
        fail(escape(str(exc)))
