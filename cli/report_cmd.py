"""``feedback report``: the feedback reports for marketing.

Every report takes the same filters (dates, campaign, source, rep, team, kind) and prints as a
table, CSV, JSON, Markdown or a self-contained HTML page with charts (``--format``, ``--output``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from cli.common import ConfigOption, FormatOption, OutputFormat, console, fail, get_settings, open_engine
from feedback.reports import REPORTS, FilterError, Filters, parse_when, render_report

app = typer.Typer(no_args_is_help=True)

SinceOption = Annotated[
    str | None,
    typer.Option("--since", help="From this date: 2026-01-31, today, or back from now: 30d, 12w, 6m, 1y."),
]
UntilOption = Annotated[
    str | None, typer.Option("--until", help="Up to and including this date (same forms as --since).")
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
OutputOption = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write to this file instead of the terminal.")
]
ReasonOption = Annotated[
    list[str] | None, typer.Option("--reason", help="Only answers giving this reason code.")
]
CompetitorOption = Annotated[
    list[str] | None, typer.Option("--competitor", help="Only answers naming this competitor.")
]
OutcomeOption = Annotated[
    list[str] | None, typer.Option("--outcome", help="Only this outcome (accepted, lost...).")
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
) -> None:
    settings = get_settings(config)
    now = datetime.now(UTC)
    try:
        tz = ZoneInfo(settings.timezone)
        filters = Filters(
            since=parse_when(since, now=now, tz=tz) if since else None,
            until=parse_when(until, now=now, tz=tz, end=True) if until else None,
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
        fail(str(exc), hint="see `feedback report --help` for the accepted values.")
    with open_engine(settings) as engine:
        report = REPORTS[name](engine, filters, settings)
    if output is None:
        render_report(report, fmt=fmt)
        return
    with output.open("w", encoding="utf-8", newline="") as fh:
        render_report(report, fmt=fmt, out=fh)
    console.print(f"Wrote {report.title.lower()} ({fmt.value}) to [bold]{output}[/].", highlight=False)


@app.command("summary")
def summary_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    kind: KindOption = None,
    config: ConfigOption = None,
) -> None:
    """The whole loop on one page: how many leads sales accepts and answers, by campaign and source,
    why leads are turned down, why deals are won and lost, and which competitors come up."""
    _run("summary", **locals())


@app.command("funnel")
def funnel_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Leads handed to sales → answered → accepted → opportunity → won, overall and per campaign
    (or per --by). Shows where each campaign's leads drop out."""
    _run("funnel", kind=None, **locals())


@app.command("reasons")
def reasons_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    kind: KindOption = None,
    by: ByOption = None,
    config: ConfigOption = None,
) -> None:
    """Why leads are accepted, rejected or recycled and why deals are won or lost, reason by reason;
    with --by, per campaign, source, segment, rep, team, week or month."""
    _run("reasons", **locals())


@app.command("winloss")
def winloss_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    by: ByOption = None,
    limit: LimitOption = None,
    config: ConfigOption = None,
) -> None:
    """Win rate and amounts by campaign and source (from the CRM), the reasons reps give, and the
    deals where the CRM and the rep disagree (won in the CRM, "lost" per the rep)."""
    _run("winloss", kind=None, **locals())


@app.command("competitors")
def competitors_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    kind: KindOption = None,
    competitor: CompetitorOption = None,
    config: ConfigOption = None,
) -> None:
    """Which competitors reps name, how often we win against each, and the reasons given."""
    _run("competitors", **locals())


@app.command("responsiveness")
def responsiveness_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    kind: KindOption = None,
    config: ConfigOption = None,
) -> None:
    """How completely and how fast each rep and team answers, and how many requests are overdue."""
    _run("responsiveness", **locals())


@app.command("trends")
def trends_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    period: PeriodOption = "week",
    config: ConfigOption = None,
) -> None:
    """Answer, acceptance and win rates week by week (or --period month), with volumes."""
    _run("trends", kind=None, **locals())


@app.command("verbatims")
def verbatims_cmd(
    fmt: FormatOption = OutputFormat.table,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    kind: KindOption = None,
    reason: ReasonOption = None,
    competitor: CompetitorOption = None,
    outcome: OutcomeOption = None,
    limit: LimitOption = None,
    config: ConfigOption = None,
) -> None:
    """What the reps actually wrote, newest first (200 unless --limit), with the CRM id of each
    lead or deal; filter by --reason, --competitor, --outcome or campaign."""
    _run("verbatims", **locals())


@app.command("export")
def export_cmd(
    fmt: FormatOption = OutputFormat.csv,
    output: OutputOption = None,
    since: SinceOption = None,
    until: UntilOption = None,
    campaign: CampaignOption = None,
    source: SourceOption = None,
    rep: RepOption = None,
    team: TeamOption = None,
    kind: KindOption = None,
    reason: ReasonOption = None,
    competitor: CompetitorOption = None,
    outcome: OutcomeOption = None,
    limit: LimitOption = None,
    config: ConfigOption = None,
) -> None:
    """Every answer keyed by the CRM's lead or deal id, as CSV for import back into the CRM:
    outcome, reasons, competitor and the rep's words."""
    _run("export", **locals())
