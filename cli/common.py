"""What every command needs: settings, an engine with migrations applied, output helpers, and
the one place where errors become a line of text.

Errors: a command raises (or lets through) the project's own errors (:mod:`feedback.runtime.errors`) and
the OS's errors about paths; ``FeedbackGroup``, the root command's class, prints each as one line
``error: what was wrong — what to do`` and exits non-zero. Anything else is a bug: one line that
says so, and the traceback with ``feedback --debug`` (or ``FEEDBACK_DEBUG=1``).
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, NoReturn, TextIO

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from feedback.runtime.settings import Settings

from feedback.core.vocabulary import OutputFormat as OutputFormat
from feedback.runtime.errors import FeedbackError, check_output_path

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="feedback.toml to read (default: $FEEDBACK_CONFIG or ./feedback.toml)."
    ),
]


FormatOption = Annotated[OutputFormat, typer.Option("--format", "-f", help="Output format.")]
RawCsvOption = Annotated[
    bool,
    typer.Option(
        "--raw-csv",
        help="CSV cells exactly as stored, without the ' put before cells a spreadsheet would run "
        "as formulas (=, +, -, @): for programs reading the CSV, not for opening in a spreadsheet.",
    ),
]


def print_error(message: str, *, hint: str | None = None) -> None:
    """``error: <message> — <hint>``, one line per line of ``message`` (the hint on the last)."""
    lines = [line for line in message.splitlines() if line.strip()] or ["failed"]
    for n, line in enumerate(lines, 1):
        tail = f" — {hint}" if hint and n == len(lines) else ""
        err_console.print(
            f"[bold red]error:[/] {escape(line)}{escape(tail)}", soft_wrap=True, highlight=False
        )


def fail(message: str, *, hint: str | None = None, code: int = 1) -> NoReturn:
    """Print an actionable error and exit non-zero."""
    print_error(message, hint=hint)
    raise typer.Exit(code)


def get_settings(config: Path | None = None, **overrides: Any) -> Settings:
    """The settings, checked; a bad one ends the command with one line per problem (exit 2)."""
    from feedback.runtime.settings import ConfigError, load_settings

    try:
        settings = load_settings(config=config, **overrides)
        settings.check()
    except ConfigError as exc:
        fail(str(exc), hint=exc.hint, code=exc.exit_code)
    return settings


# errors -> one line ------------------------------------------------------------------------


def _foreign_user_errors() -> tuple[type[Exception], ...]:
    """User-facing errors of modules that do not derive from FeedbackError (yet): bad input."""
    from feedback.core.taxonomy import TaxonomyError
    from feedback.importing import ImportingError
    from feedback.outbound.rendering import TemplateError
    from feedback.reports import FilterError

    return (FilterError, ImportingError, TaxonomyError, TemplateError)


_OS_ERRORS: list[tuple[type[OSError], str, str]] = [
    (FileNotFoundError, "no such file or folder", "check the path"),
    (IsADirectoryError, "is a folder, not a file", "give a file name"),
    (NotADirectoryError, "a part of this path is a file, not a folder", "check the path"),
    (PermissionError, "permission denied", "check its permissions or choose another path"),
    (FileExistsError, "already exists", "remove it or choose another path"),
]


def describe_error(exc: BaseException) -> tuple[str, str | None, int] | None:
    """(message, hint, exit code) for an error the user can act on; None for a bug."""
    from sqlalchemy.exc import OperationalError

    if isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:  # from a task group
        return describe_error(exc.exceptions[0])
    if isinstance(exc, FeedbackError):
        return str(exc), exc.hint, exc.exit_code
    if isinstance(exc, _foreign_user_errors()):
        return str(exc), None, 2
    if isinstance(exc, OSError) and exc.filename is not None:
        if isinstance(exc, FileExistsError) and Path(exc.filename).is_file():  # mkdir on a file
            return f"{exc.filename} is a file where a folder is needed", "check the path and settings", 1
        for kind, what, hint in _OS_ERRORS:
            if isinstance(exc, kind):
                return f"{exc.filename}: {what}", hint, 1
        return f"{exc.filename}: {exc.strerror or exc}", None, 1
    if isinstance(exc, ConnectionError):
        return f"cannot connect: {exc}", "check that the server is running and the URL in the settings", 1
    if isinstance(exc, OperationalError):  # the server went away mid-command
        first = (str(exc.orig or exc).strip().splitlines() or ["failed"])[0]
        hint = "check FEEDBACK_DATABASE_URL and that the database server is running"
        return f"the database failed: {first}", hint, 1
    from redis.exceptions import ConnectionError as RedisConnectionError

    if isinstance(exc, RedisConnectionError):
        return f"cannot reach Redis: {exc}", "check FEEDBACK_REDIS_URL and that Redis is running", 1
    return None


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame, so a bug report without --debug still points somewhere."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return ""
    frame = frames[-1]
    parts = Path(frame.filename).parts
    short = "/".join(parts[-2:]) if len(parts) >= 2 else frame.filename
    return f" (at {short}:{frame.lineno})"


from cli.root import _DEBUG, FeedbackGroup, root_callback  # noqa: E402,F401 - re-exported

# output files ------------------------------------------------------------------------------


def _check_output(value: Path | None) -> Path | None:
    if value is not None and str(value) != "-":
        check_output_path(value)
    return value


OutputOption = Annotated[
    Path | None,
    typer.Option(
        "--output",
        "-o",
        help="Write to this file instead of the terminal (its folder must exist).",
        callback=_check_output,
    ),
]


@contextmanager
def open_output(path: Path | None) -> Iterator[TextIO]:
    """The stream a command writes its result to: ``path`` (checked first), or stdout."""
    if path is None or str(path) == "-":
        yield sys.stdout
        return
    check_output_path(path)
    with path.open("w", encoding="utf-8", newline="") as fh:
        yield fh


@contextmanager
def open_engine(
    settings: Settings, *, schema: Literal["check", "upgrade", "any"] = "check"
) -> Iterator[Engine]:
    """An engine on the configured database with its schema checked (``schema="check"``: an
    empty database is created, one behind is refused with "run `feedback db upgrade`"),
    migrated (``"upgrade"``: the services and the demo) or left as it is (``"any"``: ``db``)."""
    from feedback.storage.db import SchemaOutOfDate, check_schema, make_engine

    try:
        engine = make_engine(settings.resolved_database_url)
        if schema != "any":
            check_schema(engine, upgrade_if_behind=schema == "upgrade")
    except SchemaOutOfDate:
        raise
    except Exception as exc:  # connection refused, bad URL, ...
        fail(
            f"cannot open the database {settings.resolved_database_url.split('@')[-1]}: {exc}",
            hint="check FEEDBACK_DATABASE_URL and that the database server is running.",
        )
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def open_report_engine(settings: Settings) -> Iterator[Engine]:
    """The database reports read: the read replica (``report_database_url``) when configured,
    never migrated from here (the primary's migrations reach it by replication), else the
    primary."""
    from feedback.storage.db import make_engine

    if not settings.report_database_url:
        with open_engine(settings) as engine:
            yield engine
        return

    try:
        engine = make_engine(settings.report_database_url)
    except Exception as exc:
        fail(
            f"cannot open the report database {settings.report_database_url.split('@')[-1]}: {exc}",
            hint="check FEEDBACK_REPORT_DATABASE_URL (a read replica of the primary).",
        )
    try:
        yield engine
    finally:
        engine.dispose()


def print_record(row: dict[str, Any], *, no_reply: str) -> None:
    """One record as ``key: value`` lines in the terminal, its reply text last and verbatim."""
    for key, value in row.items():
        if key != "reply":
            shown = ", ".join(value) if isinstance(value, list) else value
            console.print(
                f"[bold]{key}:[/] {escape(str(shown)) if shown not in (None, '', []) else '-'}",
                soft_wrap=True,
            )
    console.print("[bold]reply:[/]")
    console.print(row.get("reply") or no_reply, markup=False, highlight=False)


def render_rows(
    rows: Sequence[dict[str, Any]],
    *,
    fmt: OutputFormat,
    title: str = "",
    columns: Sequence[str] | None = None,
    out: TextIO | None = None,
    raw_csv: bool = False,
    empty: str = "",
) -> None:
    """Print a listing in any of the five formats (html: a minimal self-contained table).

    CSV goes through ``feedback.reports.csvout`` (formula cells neutralised unless ``raw_csv``).
    An empty listing in the terminal is a sentence (``empty``, else "none"), not a bare header:
    machine formats stay well-formed and empty.
    """
    from feedback.reports.csvout import write_dicts

    cols = list(columns or (rows[0].keys() if rows else []))
    stream = out or sys.stdout
    if fmt is OutputFormat.json:
        stream.write(json.dumps(rows, indent=2, default=str) + "\n")
    elif fmt is OutputFormat.csv:
        write_dicts(stream, rows, cols, raw=raw_csv)
    elif fmt is OutputFormat.md:
        stream.write(f"## {title}\n\n" if title else "")
        stream.write("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n")
        for row in rows:
            stream.write("| " + " | ".join(_cell(row.get(c)).replace("|", "\\|") for c in cols) + " |\n")
    elif fmt is OutputFormat.html:
        from html import escape

        head = "".join(f"<th>{escape(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(_cell(r.get(c)))}</td>" for c in cols) + "</tr>" for r in rows
        )
        stream.write(
            f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            "<style>body{font-family:system-ui,sans-serif;margin:2rem}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#f3f4f6}</style>"
            f"</head><body><h1>{escape(title)}</h1><table><tr>{head}</tr>{body}</table></body></html>\n"
        )
    elif not rows:
        target = console if out is None else Console(file=out, width=160)
        target.print(f"{title + ': ' if title else ''}{empty or 'none.'}", markup=False, highlight=False)
    else:
        from rich.table import Table

        table = Table(title=title or None, show_lines=False)
        for col in cols:
            table.add_column(col)
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in cols))
        if out is None:
            console.print(table)
        else:
            Console(file=out, width=160).print(table)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
