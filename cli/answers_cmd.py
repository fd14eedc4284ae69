"""``feedback answers list|show|set|history``: every stored answer, and correcting any of them.

An answer's ID is its request's id (see ``feedback.services.answers``): it stays the same when a later
reply, a review or a correction replaces the answer, and ``history`` shows every version.
"""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
from rich.markup import escape

if TYPE_CHECKING:
    from feedback.services.answers import (
        Answer,
        Version,
    )

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    err_console,
    get_settings,
    open_engine,
    print_record,
    render_rows,
)

app = typer.Typer(no_args_is_help=True)

IdArgument = Annotated[int, typer.Argument(help="The answer's id: its request's id (`answers list`).")]
LIST_COLUMNS = [
    "id",
    "kind",
    "about",
    "rep",
    "outcome",
    "reasons",
    "competitor",
    "confidence",
    "source",
    "by",
    "when",
    "reply",
]
HISTORY_COLUMNS = [
    "version",
    "when",
    "by",
    "source",
    "outcome",
    "reasons",
    "competitor",
    "confidence",
    "current",
    "reply",
]


def usage_error(message: str) -> NoReturn:
    """One line on stderr, exit 2: the input was wrong and the message says what is valid."""
    err_console.print(f"[bold red]Error:[/] {escape(message)}", soft_wrap=True)
    raise typer.Exit(2)


def for_format(rows: list[dict[str, Any]], fmt: OutputFormat, tz: ZoneInfo) -> list[dict[str, Any]]:
    """Times in the configured zone; lists stay lists in JSON and are joined in CSV cells
    ("not_a_fit; no_budget"), never a Python repr."""

    def cell(value: Any) -> Any:
        if isinstance(value, datetime):
            return _when(value, tz)
        if isinstance(value, list) and fmt is OutputFormat.csv:
            return "; ".join(map(str, value))
        return value

    return [{k: cell(v) for k, v in row.items()} for row in rows]


def _when(value: datetime | None, tz: ZoneInfo) -> str:
    if value is None:
        return ""
    return value.replace(tzinfo=UTC).astimezone(tz).strftime("%Y-%m-%d %H:%M")


def _short(text: str, width: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _version_row(v: Version, tz: ZoneInfo, *, full: bool = False) -> dict[str, Any]:
    return {
        "version": v.number,
        "when": _when(v.at, tz),
        "by": v.by,
        "source": v.source,
        "outcome": v.outcome,
        "reasons": list(v.reasons),
        "competitor": v.competitor,
        "confidence": round(v.confidence, 2),
        "needs_review": v.needs_review,
        "current": v.current,
        "reply": v.reply_text if full else _short(v.reply_text),
    }


def _answer_row(a: Answer, tz: ZoneInfo, *, full: bool = False) -> dict[str, Any]:
    v = a.current
    return {
        "id": a.id,
        "kind": a.kind,
        "about": a.about,
        "crm_id": a.crm_id,
        "rep": a.rep,
        "status": a.status,
        "outcome": v.outcome,
        "reasons": list(v.reasons),
        "competitor": v.competitor,
        "confidence": round(v.confidence, 2),
        "source": v.source,
        "by": v.by,
        "when": _when(v.at, tz),
        "versions": a.versions,
        "reply": v.reply_text if full else _short(v.reply_text),
    }


@app.command("list")
def list_cmd(
    rep: Annotated[str | None, typer.Option(help="Only this rep (email, name or CRM id).")] = None,
    outcome: Annotated[str | None, typer.Option(help="Only this outcome (code or label).")] = None,
    kind: Annotated[str | None, typer.Option(help="disposition or winloss.")] = None,
    since: Annotated[
        str | None, typer.Option(help="Answered on or after: YYYY-MM-DD, today, 30d, 12w, 6m.")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many answers.", min=1)] = None,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Current answers, newest first; the id is what `show`, `set` and `history` take."""
    from sqlmodel import Session

    from feedback.reports.filters import FilterError, parse_when
    from feedback.services.answers import AnswerError, list_answers

    settings = get_settings(config)
    tz = ZoneInfo(settings.timezone)
    try:
        bound = parse_when(since, now=datetime.now(UTC), tz=tz) if since else None
    except FilterError as exc:
        usage_error(str(exc))
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            answers = list_answers(
                session=session,
                settings=settings,
                rep=rep,
                outcome=outcome,
                kind=kind,
                since=bound,
                limit=limit,
            )
        except AnswerError as exc:
            usage_error(str(exc))
        rows = [_answer_row(a, tz) for a in answers]
    render_rows(
        for_format(rows, fmt, tz),
        fmt=fmt,
        title="Answers",
        columns=None if fmt is OutputFormat.json else LIST_COLUMNS,
    )


@app.command("show")
def show(answer_id: IdArgument, config: ConfigOption = None, fmt: FormatOption = OutputFormat.table) -> None:
    """One answer: the reply text, outcome, reasons, competitor, confidence, who and when."""
    from sqlmodel import Session

    from feedback.services.answers import AnswerError, get_answer

    settings = get_settings(config)
    tz = ZoneInfo(settings.timezone)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            row = _answer_row(get_answer(session=session, request_id=answer_id), tz, full=True)
        except AnswerError as exc:
            usage_error(str(exc))
    if fmt is not OutputFormat.table:
        render_rows(for_format([row], fmt, tz), fmt=fmt, title=f"Answer #{answer_id}")
        return
    print_record(row, no_reply="(no reply text)")


@app.command("history")
def history(
    answer_id: IdArgument, config: ConfigOption = None, fmt: FormatOption = OutputFormat.table
) -> None:
    """Every version of an answer, oldest first: who, when, from where (reply, review, correction)."""
    from sqlmodel import Session

    from feedback.services.answers import AnswerError, answer_history

    settings = get_settings(config)
    tz = ZoneInfo(settings.timezone)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            versions = answer_history(session=session, request_id=answer_id)
        except AnswerError as exc:
            usage_error(str(exc))
    rows = [_version_row(v, tz) for v in versions]
    render_rows(
        for_format(rows, fmt, tz),
        fmt=fmt,
        title=f"History of answer #{answer_id}",
        columns=None if fmt is OutputFormat.json else HISTORY_COLUMNS,
    )


@app.command("set")
def set_cmd(
    answer_id: IdArgument,
    outcome: Annotated[str | None, typer.Option(help="Outcome code or label, e.g. rejected.")] = None,
    reason: Annotated[
        list[str] | None,
        typer.Option("--reason", "-r", help="Reason code or label; repeat, primary first."),
    ] = None,
    competitor: Annotated[
        str | None, typer.Option(help="Competitor name or alias; 'none' removes it.")
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who corrects (default: your login).")] = None,
    config: ConfigOption = None,
) -> None:
    """Correct an answer; the previous version stays in `history`.

    Reports change at once; the classifier learns the correction (workers on their next start).
    What is not given is kept: a reason implies its outcome, reasons are dropped when the outcome
    changes, `--competitor none` removes the competitor.
    """
    from sqlmodel import Session

    from feedback.services.answers import AnswerError, answer_history, correct_answer
    from feedback.storage.models import utcnow

    settings = get_settings(config)
    who = by or getpass.getuser()
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            before = answer_history(session=session, request_id=answer_id)
            response = correct_answer(
                session=session,
                settings=settings,
                request_id=answer_id,
                outcome=outcome,
                reasons=tuple(reason or ()),
                competitor=competitor,
                by=who,
                now=utcnow(),
            )
        except AnswerError as exc:
            usage_error(str(exc))
        session.commit()
        after = answer_history(session=session, request_id=answer_id)
    old = next((v for v in reversed(before) if v.current), None)
    new = after[-1]
    console.print(
        f"Answer #{answer_id} corrected by {escape(who)}: {_label(old)} -> {_label(new)} "
        f"(version {new.number}, response {response.id}); reports show it now.",
        highlight=False,
        soft_wrap=True,
    )


def _label(v: Version | None) -> str:
    if v is None:
        return "(no answer)"
    text = v.outcome or "(no outcome)"
    if v.reasons:
        text += f" ({', '.join(v.reasons)})"
    if v.competitor:
        text += f", competitor {v.competitor}"
    return escape(text)
