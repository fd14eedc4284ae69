"""``feedback report``: the feedback reports for marketing.

Every report takes the same filters (dates, campaign, source, rep, team, kind) and prints as a
table, CSV, JSON, Markdown or a self-contained HTML page with charts (``--format``, ``--output``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    OutputOption,
    RawCsvOption,
    console,
    err_console,
    fail,
    get_settings,
    open_output,
    open_report_engine,
)
from feedback.core.vocabulary import DATE_BY

if TYPE_CHECKING:
    pass

app = typer.Typer(no_args_is_help=True)

SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="From this date: 2026-01-31, today, or back from now: 30d, 12w, 6m, 1y."),
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Up to and including this date (same forms as --since).")
]
DateBy = StrEnum("DateBy", {key: key for key in DATE_BY})  # type: ignore[misc]
"""The choices of ``--date-by``, from :data:`feedback.reports.filters.DATE_BY`."""

DateByOption = Annotated[
    DateBy,
    typer.Option(
        "--date-by",
        help="Which date --since/--until and the weeks or months read: sent (the request's send, "
        "the default), answered (the answer), created (the lead's creation in the CRM) or closed "
        "(the deal's close in the CRM). Requests without that date are left out.",
    ),
]
CampaignOption = Annotated[
    list[str] | None, typer.Option("--campaign", help="Only this campaign (repeatable).")
]
SourceOption = Annotated[
    list[str] | None, typer.Option("--source", help="Only this lead source (repeatable).")
]
RepOption = Annotated[
    list[str] | None, typer.Option("--rep", help="Only this rep: email, name or CRM id (repeatable).")
]
TeamOption = Annotated[list[str] | None, typer.Option("--team", help="Only this sales team (repeatable).")]
KindOption = Annotated[
    str | None, typer.Option("--kind", help="disposition (leads) or winloss (closed deals); default both.")
]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Cross the figures with: campaign, source, segment, rep, team, week or month."),
]
VariantByOption = Annotated[
    str | None,
    typer.Option(
        "--by",
        help="variant: per template version (A/B variants, see `feedback templates variants`), with a "
        "test of the answer rates.",
    ),
]
ReasonOption = Annotated[
    list[str] | None,
    typer.Option("--reason", help="Only answers giving this reason: code or label, any case (repeatable)."),
]
CompetitorOption = Annotated[
    list[str] | None,
    typer.Option("--competitor", help="Only answers naming this competitor: name or alias (repeatable)."),
]
OutcomeOption = Annotated[
    list[str] | None,
    typer.Option("--outcome", help="Only this outcome: code or label (accepted, Lost...), repeatable."),
]
LimitOption = Annotated[int | None, typer.Option("--limit", help="At most this many rows.", min=1)]
PeriodOption = Annotated[str, typer.Option("--period", help="week or month.")]


def _run(
    name: str,
    *,
    fmt: OutputFormat,
    output: Path | None,
    config: Path | None,
    since: str | None,
    until: str | None,
    date_by: str = "sent",
    campaign: list[str] | None,
    source: list[str] | None,
    rep: list[str] | None,
    team: list[str] | None,
    kind: str | None,
    by: str | None = None,
    period: str = "week",
    reason: list[str] | None = None,
    competitor: list[str] | None = None,
    outcome: list[str] | None = None,
    limit: int | None = None,
    raw_csv: bool = False,
) -> None:
    from feedback.reports import REPORTS, FilterError, Filters, parse_when, render_report
    from feedback.reports.values import resolve_report_filters

    settings = get_settings(config)
    now = datetime.now(UTC)
    try:
        tz = ZoneInfo(settings.timezone)
        filters = Filters(
            since=parse_when(since, now=now, tz=tz) if since else None,
            until=parse_when(until, now=now, tz=tz, end=True) if until else None,
            date_by=str(date_by),
            campaigns=tuple(campaign or ()),
            sources=tuple(source or ()),
            reps=tuple(rep or ()),
            teams=tuple(team or ()),
            kind=kind,
            by=by,
            period=period,
            reasons=tuple(reason or ()),
            competitors=tuple(competitor or ()),
            outcomes=tuple(outcome or ()),
            limit=limit,
        )
    except (FilterError, ValueError) as exc:
        fail(str(exc), hint="see `feedback report --help` for the accepted values.", code=2)
    with open_report_engine(settings) as engine:
        try:
            filters, notes = resolve_report_filters(engine, filters, settings)
        except FilterError as exc:
            fail(str(exc), code=2)
        for note in notes:
            err_console.print(f"Note: {note}.", highlight=False)
        with err_console.status(f"Computing the {name} report..."):
            if name == "responsiveness" and not settings.report_database_url:
                from feedback.services.sla_facts import refresh_sla

                refresh_sla(
                    engine, settings
                )  # answers since the last follow-up round (a replica: the cron's)
            report = REPORTS[name](engine, filters, settings)  # a second or two on millions of answers
    if output is None:
        render_report(report, fmt=fmt, raw_csv=raw_csv)
        return
    with open_output(output) as fh:
        render_report(report, fmt=fmt, out=fh, raw_csv=raw_csv)
    console.print(f"Wrote {report.title.lower()} ({fmt.value}) to [bold]{output}[/].", highlight=False)


# Each report's command: the common filters plus its own options, its default format and its help.
# The commands are built from this table so that a filter is declared once for every report.
COMMON: list[tuple[str, object, object]] = [
    ("fmt", FormatOption, OutputFormat.table),
    ("output", OutputOption, None),
    ("since", SinceOption, None),
    ("until", UntilOption, None),
    ("date_by", DateByOption, DateBy("sent")),
    ("campaign", CampaignOption, None),
    ("source", SourceOption, None),
    ("rep", RepOption, None),
    ("team", TeamOption, None),
    ("kind", KindOption, None),
    ("raw_csv", RawCsvOption, False),
]
EXTRA: dict[str, tuple[object, object]] = {
    "by": (ByOption, None),
    "by_variant": (VariantByOption, None),
    "period": (PeriodOption, "week"),
    "reason": (ReasonOption, None),
    "competitor": (CompetitorOption, None),
    "outcome": (OutcomeOption, None),
    "limit": (LimitOption, None),
}


@dataclass(frozen=True)
class Spec:
    help: str
    extra: tuple[str, ...] = ()
    fmt: OutputFormat = OutputFormat.table
    kind: str | None = None  # the one kind the report is about, if it is about one


SPECS = {
    "summary": Spec(
        "The whole loop on one page: how many leads sales accepts and answers, by campaign and "
        "source, why leads are turned down, why deals are won and lost, and which competitors come up."
    ),
    "funnel": Spec(
        "Leads handed to sales → answered → accepted → opportunity → won, overall and per campaign "
        "(or per --by). Shows where each campaign's leads drop out.",
        ("by",),
        kind="disposition",
    ),
    "reasons": Spec(
        "Why leads are accepted, rejected or recycled and why deals are won or lost, reason by "
        "reason; with --by, per campaign, source, segment, rep, team, week or month.",
        ("by",),
    ),
    "winloss": Spec(
        "Win rate and amounts by campaign and source (from the CRM), the reasons reps give, and the "
        'deals where the CRM and the rep disagree (won in the CRM, "lost" per the rep).',
        ("by", "limit"),
        kind="winloss",
    ),
    "competitors": Spec(
        "Which competitors reps name, how often we win against each, and the reasons given.",
        ("competitor",),
    ),
    "responsiveness": Spec(
        "How completely and how fast each rep and team answers, and how many requests are overdue; "
        "the follow-up SLA: business hours from assignment to the answer (median, p90, share within "
        "sla_business_hours), reminders, escalations and expiries per rep, team, campaign and source; "
        "--by variant: answer rates per template version, with a test of the difference.",
        ("by_variant",),
    ),
    "trends": Spec(
        "Answer, acceptance and win rates week by week (or --period month), with volumes.", ("period",)
    ),
    "verbatims": Spec(
        "What the reps actually wrote, newest first (200 unless --limit), with the CRM id of each "
        "lead or deal; filter by --reason, --competitor, --outcome or campaign.",
        ("reason", "competitor", "outcome", "limit"),
    ),
    "export": Spec(
        "Every answer keyed by the CRM's lead or deal id, as CSV for import back into the CRM: "
        "outcome, reasons, competitor and the rep's words.",
        ("reason", "competitor", "outcome", "limit"),
        fmt=OutputFormat.csv,
    ),
}


def _command(name: str, spec: Spec) -> Callable[..., None]:
    """The Typer command for report ``name``: a function whose signature lists its options."""
    options = [(n, t, spec.fmt if n == "fmt" else d) for n, t, d in COMMON]
    options += [(n, *EXTRA[n]) for n in spec.extra]
    options.append(("config", ConfigOption, None))
    params = [
        inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=t) for n, t, d in options
    ]

    def command(**values: Any) -> None:
        if "by_variant" in values:
            by = values.pop("by_variant")
            if by not in (None, "variant"):
                fail(f"--by must be variant here, not {by!r}", hint="drop --by for per rep and team.", code=2)
            values["by"] = by
        elif values.get("by") == "variant":
            fail(f"--by variant is for `feedback report responsiveness`, not {name}", code=2)
        kind = values.get("kind")
        if spec.kind is not None and kind not in (None, spec.kind):
            fail(
                f"the {name} report is about {spec.kind} requests only: --kind {kind} leaves nothing.",
                hint=f"drop --kind, or use --kind {spec.kind}.",
                code=2,
            )
        _run(name, **values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {p.name: p.annotation for p in params}
    command.__name__ = command.__qualname__ = f"{name}_cmd"
    command.__doc__ = spec.help
    return command


for _name, _spec in SPECS.items():
    app.command(_name)(_command(_name, _spec))
