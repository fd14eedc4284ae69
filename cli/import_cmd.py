"""``feedback import``: reps, leads and deals from CRM CSV exports.

The work is in :mod:`feedback.importing`; this module reads the file, runs the import in one
transaction (rolled back for ``--dry-run``), and reports the summary and the refused rows.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from feedback.importing import (
        ImportResult,
    )

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    err_console,
    fail,
    get_settings,
    open_engine,
    render_rows,
)

app = typer.Typer(no_args_is_help=True)

FileArgument = Annotated[
    Path,
    typer.Argument(
        help="The CSV export (UTF-8 or Windows-1252; comma, semicolon or tab).", show_default=False
    ),
]
DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Check every row and report what would change; write nothing.")
]

_PROGRESS_FROM = 500  # rows; smaller files finish before a bar is worth drawing


@app.command("reps")
def reps(
    file: FileArgument,
    dry_run: DryRunOption = False,
    deactivate_missing: Annotated[
        bool,
        typer.Option(
            "--deactivate-missing",
            help="The file lists the whole team: deactivate active reps it leaves out.",
        ),
    ] = False,
    fmt: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Import reps; a rep is matched by email, so re-importing updates it.

    Salesforce, HubSpot and Dynamics 365 user exports work as they are.
    Columns understood (any case or spacing; docs/import.md lists them all):

    • [bold]email[/]: Email, User Email, Primary Email (required)
    • name: Full Name, or First Name + Last Name
    • team: Team, Primary team, Role, Business Unit
    • manager_email: Manager Email, Manager (an email or a rep's name)
    • language: en, de, fr, es (en_US and German work too)
    • aliases: other addresses the rep replies from, separated by ;
    • User ID, (Do Not Modify) User, Active

    Aliases in the file are added, never removed. No field may hold a line
    break or another control character. The import prints which column fed
    which field and which columns it ignored.

    A rep deactivated here (Active = no, or left out with --deactivate-missing)
    keeps their history; their open requests go to the lead's or deal's new
    owner from the next leads/deals import, else after handover_wait_hours to
    their manager (docs/followup.md).
    """
    _run("reps", file, dry_run=dry_run, fmt=fmt, config=config, deactivate_missing=deactivate_missing)


@app.command("leads")
def leads(
    file: FileArgument,
    dry_run: DryRunOption = False,
    fmt: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Import leads; a lead is matched by its CRM id, so re-importing updates it.

    Salesforce lead, HubSpot contact, Pipedrive person/lead and Dynamics 365
    lead exports work as they are.
    Columns understood (any case or spacing; docs/import.md lists them all):

    • [bold]id[/]: Lead ID, Record ID, Person - ID, (Do Not Modify) Lead (required)
    • name: Name, Person - Name, or First Name + Last Name
    • email, title (Job Title), company (Company / Account, Company Name,
      Organization - Name)
    • campaign: Primary Campaign Source, First campaign, Source Campaign
    • source: Lead Source, Original Source, Source channel
    • segment: Segment, Market Segment
    • owner (a rep's email, full name or CRM user id): Owner Email,
      Lead Owner, Owner Full Name, Contact owner, Person - Owner, Owner
    • assigned_at: Owner assigned date, else Created Date, Created On

    Import reps first so owners resolve. A lead whose owner is missing or no
    known rep is imported and listed by line: it can never be asked about.
    Dates without a zone are read in the configured timezone.
    """
    _run("leads", file, dry_run=dry_run, fmt=fmt, config=config)


@app.command("deals")
def deals(
    file: FileArgument,
    dry_run: DryRunOption = False,
    fmt: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Import deals; a deal is matched by its CRM id, so re-importing updates it.

    Salesforce opportunity, HubSpot deal, Pipedrive deal and Dynamics 365
    opportunity exports work as they are.
    Columns understood (any case or spacing; docs/import.md lists them all):

    • [bold]id[/]: Opportunity ID, Record ID, Deal - ID,
      (Do Not Modify) Opportunity (required)
    • name: Opportunity Name, Deal Name, Deal - Title, Topic
    • company: Account Name, Company Name, Deal - Organization
    • amount: "$12,500.00", "12.500,00 €", "12500" (Amount, Deal - Value,
      Est. Revenue); currency: Currency, Deal - Currency of Value
    • won/lost: Status (Pipedrive, Dynamics 365), else Stage, Deal Stage
      (via the crm_stages setting)
    • close_date: Close Date, Actual Close Date, Deal - Won time,
      Expected close date
    • owner: Owner Email, Opportunity Owner: Full Name, Deal owner, Owner
    • lead_id: Converted Lead ID, Associated Contact IDs
    • campaign, source, segment: as for leads

    A deal linked to an imported lead takes the lead's campaign, source,
    segment and owner where its own are empty. Import leads first.
    """
    _run("deals", file, dry_run=dry_run, fmt=fmt, config=config)


def _run(
    kind: str,
    file: Path,
    *,
    dry_run: bool,
    fmt: OutputFormat,
    config: Path | None,
    deactivate_missing: bool = False,
) -> None:
    import asyncio

    from sqlmodel import Session

    from feedback.importing import (
        FileRefused,
        ImportingError,
        import_deals,
        import_leads,
        import_reps,
        read_csv_file,
    )
    from feedback.outbound.transports import transport_for
    from feedback.services.handover import hand_over_open_requests
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    try:
        table = read_csv_file(file)
    except FileRefused as exc:
        fail(escape(f"{file}: refused, nothing imported: {exc}"), code=2)
    with open_engine(settings) as engine, Session(engine, expire_on_commit=False) as session:
        show_bar = console.is_terminal and len(table.rows) >= _PROGRESS_FROM
        progress = (
            Progress(
                TextColumn(f"Importing {kind}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=err_console,
                transient=True,
            )
            if show_bar
            else None
        )
        try:
            with progress or nullcontext():
                on_row = None
                if progress is not None:
                    task = progress.add_task(kind, total=len(table.rows))

                    def on_row() -> None:
                        progress.advance(task)

                if kind == "reps":
                    result = import_reps(
                        session=session,
                        rows=table,
                        settings=settings,
                        on_row=on_row,
                        deactivate_missing=deactivate_missing,
                    )
                else:
                    importer = {"leads": import_leads, "deals": import_deals}[kind]
                    result = importer(session=session, rows=table, settings=settings, on_row=on_row)
            if dry_run or result.landed == 0:
                session.rollback()
            else:
                session.commit()
        except FileRefused as exc:
            session.rollback()
            fail(escape(f"{file}: refused, nothing imported: {exc}"), code=2)
        except ImportingError as exc:
            session.rollback()
            fail(escape(str(exc)), code=2)
        moved = []
        if not dry_run and result.landed:  # a new owner from this import takes a leaver's requests
            moved = asyncio.run(
                hand_over_open_requests(
                    engine, settings, transport_for(settings), now=utcnow(), to_manager=False
                )
            )
    _report(result, file=file, dry_run=dry_run, fmt=fmt)
    out = err_console if fmt in {OutputFormat.csv, OutputFormat.json} else console
    if deactivate_missing and result.errors:
        out.print(
            Text(
                "No rep deactivated: --deactivate-missing needs a file without refused rows.", style="yellow"
            )
        )
    if result.deactivated:
        verb = "Would deactivate" if dry_run else "Deactivated"
        out.print(Text(f"{verb} {len(result.deactivated)} rep(s): {', '.join(result.deactivated)}"))
    for h in moved:
        out.print(
            Text(
                f"Request {h.request_id}: {h.from_email} left; "
                f"handed to {h.to_email} ({h.why}), asked afresh."
            )
        )
    if result.errors and result.landed == 0:
        raise typer.Exit(2)


def _report(result: ImportResult, *, file: Path, dry_run: bool, fmt: OutputFormat) -> None:
    """The summary, the columns read and ignored, the rows no request can ever be sent about and
    the duplicate ids, then one row per line to check in the chosen format.

    For csv and json everything but the row listing goes to stderr so stdout stays
    machine-readable; there the listing also holds every never-asked and duplicate line, while
    the table groups them into line ranges.
    """
    from feedback.importing import line_ranges, printable

    summary = f"{file.name}: {result.summary()}"
    if dry_run:
        summary += " (dry run: nothing written)"
    machine = fmt in {OutputFormat.csv, OutputFormat.json}
    out = err_console if machine else console
    out.print(summary, markup=False, highlight=False)
    _print_columns(out, result)
    _print_unaskable(out, result)
    for dup in result.duplicates:
        out.print(
            Text(
                f"Duplicate id {printable(dup.key)} on lines {line_ranges(dup.lines)}: "
                f"the last row's values were kept.",
                style="yellow",
            )
        )
    rows: list[dict[str, Any]] = [
        {"line": e.line, "status": "refused", "reason": e.reason} for e in result.errors
    ] + [{"line": w.line, "status": "warning", "reason": w.reason} for w in result.warnings]
    if machine:
        rows += [
            {
                "line": u.line,
                "status": "never asked",
                "reason": u.reason + (f": {printable(u.owner)}" if u.owner else ""),
            }
            for u in result.unaskable
        ]
        rows += [
            {
                "line": line,
                "status": "duplicate id",
                "reason": f"{printable(d.key)} is on lines {line_ranges(d.lines)}",
            }
            for d in result.duplicates
            for line in d.lines
        ]
    rows.sort(key=lambda r: int(r["line"]))
    if rows or machine:
        render_rows(
            rows, fmt=fmt, title=f"Rows to check in {file.name}", columns=["line", "status", "reason"]
        )


def _print_columns(out: Console, result: ImportResult) -> None:
    from feedback.importing import printable

    table = Table(title="Columns read", title_justify="left", show_edge=False, pad_edge=False)
    table.add_column("column in the file")
    table.add_column("imported as")
    for header, field in result.columns:
        table.add_row(Text(printable(header)), Text(field))
    out.print(table)
    if result.ignored:
        out.print(
            Text(
                f"Columns ignored ({len(result.ignored)}): " + ", ".join(printable(h) for h in result.ignored)
            )
        )
    else:
        out.print("Columns ignored: none")


def _print_unaskable(out: Console, result: ImportResult) -> None:
    from feedback.importing import line_ranges, printable

    groups = result.unaskable_groups()
    if not groups:
        return
    out.print(
        Text(
            f"{len(result.unaskable)} imported {result.kind} can never be asked about until this is fixed:",
            style="yellow",
        )
    )
    for reason, owners, lines in groups:
        named = ""
        if owners:
            named = (
                " (" + ", ".join(printable(o) for o in owners[:5]) + (", …" if len(owners) > 5 else "") + ")"
            )
        plural = "s" if len(lines) != 1 else ""
        out.print(
            Text(f"  {reason}{named}: {len(lines)} row{plural}, line{plural} {line_ranges(lines, limit=30)}")
        )
    out.print(
        Text(
            "  Import or add the missing reps (`feedback reps add`), then import this file again.",
            style="dim",
        )
    )
