"""``feedback import``: reps, leads and deals from CRM CSV exports.

The work is in :mod:`feedback.importing`; this module reads the file, runs the import in one
transaction (rolled back for ``--dry-run``), and reports the summary and the refused rows.
"""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlmodel import Session

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
from feedback.importing import (
    FileRefused,
    ImportingError,
    ImportResult,
    import_deals,
    import_leads,
    import_reps,
    read_csv_file,
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
    fmt: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Import reps; a rep is matched by email, so re-importing updates it.

    Salesforce user exports work as they are.
    Columns understood (any case or spacing):

    • [bold]email[/]: Email, User Email (required)
    • name: Full Name, or First Name + Last Name
    • team: Team, Role
    • manager_email: Manager Email, Manager (an email or a rep's name)
    • language: en, de, fr, es (en_US and German work too)
    • aliases: other addresses the rep replies from, separated by ;
    • User ID, Active

    Aliases in the file are added, never removed.
    """
    _run("reps", file, dry_run=dry_run, fmt=fmt, config=config)


@app.command("leads")
def leads(
    file: FileArgument,
    dry_run: DryRunOption = False,
    fmt: FormatOption = OutputFormat.table,
    config: ConfigOption = None,
) -> None:
    """Import leads; a lead is matched by its CRM id, so re-importing updates it.

    Salesforce lead and HubSpot contact exports work as they are.
    Columns understood (any case or spacing):

    • [bold]id[/]: Lead ID, Record ID (required)
    • name: Name, or First Name + Last Name
    • email, title (Job Title), company (Company Name, Account Name)
    • campaign: Campaign, Primary Campaign Source, First campaign
    • source: Lead Source, Original Source, Latest Source
    • segment: Segment, Market Segment
    • owner (a rep's email or exact name): rep_email, Owner Email,
      HubSpot Owner email, Lead Owner, Contact owner
    • assigned_at: Assigned Date, Owner assigned date,
      else Created Date, Create Date

    Import reps first so owners resolve. Dates without a zone are read in the
    configured timezone.
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

    Salesforce opportunity and HubSpot deal exports work as they are.
    Columns understood (any case or spacing):

    • [bold]id[/]: Opportunity ID, Record ID (required)
    • name: Opportunity Name, Deal Name
    • company: Account Name, Company Name
    • amount: "$12,500.00", "12.500,00 €", "12500"; currency: Currency
    • stage: Stage, Deal Stage (won/lost/open via the crm_stages setting)
    • close_date: Close Date
    • owner: rep_email, Owner Email, Opportunity Owner, Deal owner
    • lead_id: Converted Lead ID, Associated Contact IDs
    • campaign, source, segment: as for leads

    A deal linked to an imported lead takes the lead's campaign, source,
    segment and owner where its own are empty. Import leads first.
    """
    _run("deals", file, dry_run=dry_run, fmt=fmt, config=config)


_IMPORT = {"reps": import_reps, "leads": import_leads, "deals": import_deals}


def _run(kind: str, file: Path, *, dry_run: bool, fmt: OutputFormat, config: Path | None) -> None:
    settings = get_settings(config)
    try:
        table = read_csv_file(file)
    except FileRefused as exc:
        fail(f"{file}: refused, nothing imported: {exc}", code=2)
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

                result = _IMPORT[kind](session=session, rows=table, settings=settings, on_row=on_row)
            if dry_run or result.landed == 0:
                session.rollback()
            else:
                session.commit()
        except FileRefused as exc:
            session.rollback()
            fail(f"{file}: refused, nothing imported: {exc}", code=2)
        except ImportingError as exc:
            session.rollback()
            fail(str(exc), code=2)
    _report(result, file=file, dry_run=dry_run, fmt=fmt)
    if result.errors and result.landed == 0:
        raise typer.Exit(2)


def _report(result: ImportResult, *, file: Path, dry_run: bool, fmt: OutputFormat) -> None:
    """The summary, then one row per refused or flagged line in the chosen format.

    For csv and json the summary goes to stderr so stdout stays machine-readable.
    """
    summary = f"{file.name}: {result.summary()}"
    if dry_run:
        summary += " (dry run: nothing written)"
    machine = fmt in {OutputFormat.csv, OutputFormat.json}
    (err_console if machine else console).print(summary, markup=False, highlight=False)
    rows: list[dict[str, Any]] = [
        {"line": e.line, "status": "refused", "reason": e.reason} for e in result.errors
    ] + [{"line": w.line, "status": "warning", "reason": w.reason} for w in result.warnings]
    rows.sort(key=lambda r: int(r["line"]))
    if rows or machine:
        render_rows(
            rows, fmt=fmt, title=f"Rows to check in {file.name}", columns=["line", "status", "reason"]
        )
