"""Print a :class:`Report` as a terminal table, CSV, JSON, Markdown or a self-contained HTML page.

The HTML page carries its charts as inline SVG and its style inline, so it opens offline, mails as
an attachment and needs no JavaScript. Rates always travel with their counts, and rates from
fewer than five answers are marked (†) wherever they are shown.
"""

# ruff: noqa: E501 - inline SVG/HTML markup reads better unwrapped

from __future__ import annotations

import io
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from html import escape
from typing import IO, Any

from feedback.core.vocabulary import OutputFormat
from feedback.reports.csvout import CsvWriter
from feedback.reports.model import LOW_SAMPLE, Chart, Column, Money, Rate, Report, Section

LOW_NOTE = f"† fewer than {LOW_SAMPLE} answers: too few to read as a rate."


def cell(value: Any, kind: str = "text", *, width: int | None = None) -> str:
    """The text of one value as people read it (counts with separators, rates with their n)."""
    if value is None or value == "":
        return "–" if kind in ("hours", "money", "rate", "float") else ""
    if isinstance(value, Rate | Money):
        return str(value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if kind == "hours" and isinstance(value, int | float):
        return f"{value:,.1f}"
    if kind == "money" and isinstance(value, int | float):
        return f"{value:,.0f}"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    text = str(value)
    if width and len(text) > width:
        text = text[: width - 1].rstrip() + "…"
    return text


def _kind(row: dict[str, Any], column: Column) -> str:
    """A KPI row says how its value prints (hours, money); table columns say it for all rows."""
    return str(row.get("kind", column.kind)) if column.key == "value" else column.kind


def render_to_string(report: Report, fmt: str = OutputFormat.table, *, raw_csv: bool = False) -> str:
    buf = io.StringIO()
    render_report(report, fmt=fmt, out=buf, raw_csv=raw_csv)
    return buf.getvalue()


def render_report(
    report: Report, fmt: str = OutputFormat.table, out: IO[str] | None = None, *, raw_csv: bool = False
) -> None:
    """Write ``report`` in ``fmt`` (a :class:`Format` or the CLI's OutputFormat) to ``out`` or stdout.

    CSV cells that a spreadsheet would run as formulas are neutralised unless ``raw_csv``
    (``feedback.reports.csvout``).
    """
    fmt = OutputFormat(str(fmt))
    stream = out if out is not None else sys.stdout
    if fmt is OutputFormat.json:
        stream.write(json.dumps(to_json(report), indent=2, ensure_ascii=False) + "\n")
    elif fmt is OutputFormat.csv:
        _csv(report, stream, raw=raw_csv)
    elif fmt is OutputFormat.md:
        stream.write(to_markdown(report))
    elif fmt is OutputFormat.html:
        stream.write(to_html(report))
    else:
        _table(report, out)


# json / csv / markdown ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Rate | Money):
        return value.as_json()
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def to_json(report: Report) -> dict[str, Any]:
    return {
        "report": report.name,
        "title": report.title,
        "generated_at": report.generated_at.isoformat(timespec="seconds"),
        "timezone": report.timezone,
        "filters": {k: _plain(v) for k, v in report.filters.items()},
        "sections": [
            {
                "key": s.key,
                "title": s.title,
                "columns": [{"key": c.key, "label": c.label, "kind": c.kind} for c in s.columns],
                "rows": [{c.key: _plain(row.get(c.key)) for c in s.columns} for row in s.rows],
                **({"note": s.note} if s.note else {}),
            }
            for s in report.sections
        ],
    }


def _currencies(section: Section) -> dict[str, list[str]]:
    """Per money column, the currencies its rows hold: CSV gives each its own column."""
    out: dict[str, list[str]] = {}
    for c in section.columns:
        if c.kind == "money":
            found = {
                code
                for row in section.rows
                if isinstance(row.get(c.key), Money)
                for code in row[c.key].currencies
            }
            out[c.key] = sorted(found)
    return out


def _csv_header(columns: Sequence[Column], currencies: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    for c in columns:
        if c.kind == "rate":
            out += [f"{c.key}_pct", f"{c.key}_count", f"{c.key}_n"]
        elif currencies.get(c.key):
            out += [f"{c.key}_{code}" for code in currencies[c.key]]
        else:
            out.append(c.key)
    return out


def _csv_row(columns: Sequence[Column], row: dict[str, Any], currencies: dict[str, list[str]]) -> list[Any]:
    out: list[Any] = []
    for c in columns:
        value = row.get(c.key)
        if currencies.get(c.key):
            amounts = value if isinstance(value, Money) else Money()
            out += [_csv_amount(amounts.get(code)) for code in currencies[c.key]]
        elif c.kind == "money" and isinstance(value, Money):
            out.append("")  # no amount in any currency in this section
        elif c.kind == "rate":
            if isinstance(value, Rate):
                out += [value.percent() if value.n else "", value.count, value.n]
            else:
                out += ["", "", ""]
        elif isinstance(value, Rate):
            out.append(value.percent())
        elif isinstance(value, datetime | date):
            out.append(value.isoformat())
        else:
            out.append("" if value is None else value)
    return out


def _csv(report: Report, stream: IO[str], *, raw: bool = False) -> None:
    """One section: plain CSV (what a CRM import wants). Several: blocks headed ``# title``."""
    writer = CsvWriter(stream, raw=raw)
    many = len(report.sections) > 1
    for i, section in enumerate(report.sections):
        if many:
            if i:
                stream.write("\n")
            stream.write(f"# {section.title}\n")
        currencies = _currencies(section)
        writer.writerow(_csv_header(section.columns, currencies))
        for row in section.rows:
            writer.writerow(_csv_row(section.columns, row, currencies))


def _csv_amount(value: float | None) -> Any:
    if value is None:
        return ""
    return int(value) if value == int(value) else round(value, 2)


def _md_escape(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def to_markdown(report: Report) -> str:
    lines = [
        f"# {report.title}",
        "",
        f"*{report.filters_text} · generated {cell(report.generated_at)} {report.timezone}*",
        "",
    ]
    for s in report.sections:
        lines += [f"## {s.title}", ""]
        lines.append("| " + " | ".join(_md_escape(c.label) for c in s.columns) + " |")
        lines.append(
            "|"
            + "|".join(
                "---:" if c.kind in ("int", "rate", "money", "hours", "float") else "---" for c in s.columns
            )
            + "|"
        )
        for row in s.rows:
            lines.append(
                "| " + " | ".join(_md_escape(cell(row.get(c.key), _kind(row, c))) for c in s.columns) + " |"
            )
        if not s.rows:
            lines.append("| " + " | ".join("" for _ in s.columns) + " |")
        notes = [s.note] if s.note else []
        if s.has_low_sample:
            notes.append(LOW_NOTE)
        if notes:
            lines += ["", "*" + " ".join(notes) + "*"]
        lines.append("")
    return "\n".join(lines)


# terminal ----------------------------------------------------------------------------------------


def _table(report: Report, out: IO[str] | None) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out, width=160) if out is not None else Console()
    console.print(f"[bold]{escape_rich(report.title)}[/]  [dim]{escape_rich(report.filters_text)}[/]")
    for s in report.sections:
        table = Table(title=s.title, title_justify="left", title_style="bold", show_lines=False)
        for c in s.columns:
            numeric = c.kind in ("int", "rate", "money", "hours", "float")
            table.add_column(
                c.label,
                justify="right" if numeric else "left",
                overflow="fold",
                max_width=80 if c.kind == "longtext" else None,
            )
        for row in s.rows:
            table.add_row(*(escape_rich(cell(row.get(c.key), _kind(row, c), width=300)) for c in s.columns))
        console.print(table)
        notes = [s.note] if s.note else []
        if s.has_low_sample:
            notes.append(LOW_NOTE)
        if notes:
            console.print(f"[dim]{escape_rich(' '.join(notes))}[/]")
        console.print()


def escape_rich(text: str) -> str:
    from rich.markup import escape as rich_escape

    return rich_escape(text)


# html --------------------------------------------------------------------------------------------

PALETTE = ("#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed", "#0891b2")

CSS = """
:root{--ink:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff;--accent:#2563eb}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:28px 24px 48px}
header h1{margin:0 0 4px;font-size:26px}
header p{margin:0;color:var(--muted)}
section{background:var(--card);border:1px solid var(--line);border-radius:10px;padding:18px 20px;margin-top:20px}
section h2{margin:0 0 12px;font-size:17px}
.kpis{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:12px}
.kpi{border:1px solid var(--line);border-radius:8px;padding:12px 14px;background:#fbfdff}
.kpi .v{font-size:22px;font-weight:650}
.kpi .l{color:var(--muted);font-size:12px}
.kpi .n{color:var(--muted);font-size:12px;font-weight:400}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{padding:6px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;color:var(--muted);font-size:12px;background:#f9fafb}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.num{white-space:nowrap}
.scroll{overflow-x:auto}
td.long{max-width:420px;white-space:pre-wrap}
.low{color:#9ca3af;font-style:italic}
.note{color:var(--muted);font-size:12px;margin:10px 0 0}
.chart{margin:4px 0 14px;overflow-x:auto}
.chart svg{display:block;max-width:100%;height:auto}
.empty{color:var(--muted);font-style:italic}
footer{color:var(--muted);font-size:12px;margin-top:24px}
"""


def _value_of(value: Any) -> float | None:
    if isinstance(value, Rate):
        v = value.value
        return None if v is None else 100.0 * v
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


ROLE_COLORS = {"positive": "#15803d", "negative": "#c2410c", "undecided": "#6d28d9"}
"""Bar colour per outcome role (``feedback.core.taxonomy.OutcomeRole``): green, orange, violet, told
apart by lightness too; a group with no role is grey."""
NO_ROLE_COLOR = "#6b7280"


def _group_color(chart: Chart, group: str) -> str:
    return ROLE_COLORS.get(dict(chart.roles).get(group, ""), NO_ROLE_COLOR)


def bar_chart(section: Section, chart: Chart, *, max_bars: int = 15) -> str:
    """Horizontal bars, one per row (the largest ``max_bars``), labelled with the value.

    With ``chart.group`` the bars are grouped (the groups in ``chart.roles`` order, largest first
    within each), coloured by the group's role, and a legend names each group's colour.
    """
    key = chart.y[0]
    items = [
        (
            str(r.get(chart.x) or ""),
            _value_of(r.get(key)),
            r.get(key),
            str(r.get(chart.group) or "") if chart.group else "",
        )
        for r in section.rows
    ]
    bars = [item for item in items if item[1] is not None]
    if chart.group:
        order = {name: i for i, (name, _) in enumerate(chart.roles)}
        bars = sorted(bars, key=lambda b: (order.get(b[3], len(order)), -(b[1] or 0.0)))[: max(max_bars, 40)]
    elif chart.x != "stage" and not chart.ordered:
        bars = sorted(bars, key=lambda b: -(b[1] or 0.0))[:max_bars]
    else:
        bars = bars[:max_bars]
    if not bars:
        return ""
    groups = list(dict.fromkeys(b[3] for b in bars)) if chart.group else []
    width, label_w, row_h, pad, gap = 760, 230, 24, 8, 8
    legend_h = 28 if groups else 0
    bar_w = width - label_w - 130
    top = max((b[1] or 0.0) for b in bars) or 1.0
    height = pad * 2 + legend_h + row_h * len(bars) + gap * max(0, len(groups) - 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(chart.title)}" class="bar-chart">'
    ]
    x = label_w
    for group in groups:  # the legend: one swatch per outcome shown
        color = _group_color(chart, group)
        parts.append(
            f'<g class="legend"><rect x="{x}" y="{pad}" width="12" height="12" rx="2" fill="{color}"/>'
            f'<text x="{x + 18}" y="{pad + 11}" font-size="12" fill="#374151">{escape(group)}</text></g>'
        )
        x += 30 + 7 * len(group)
    y = pad + legend_h
    previous: str | None = None
    for label, v, raw, group in bars:
        if previous is not None and group != previous:
            y += gap
        previous = group
        w = max(1.0, bar_w * (v or 0.0) / top)
        low = isinstance(raw, Rate) and raw.low_sample
        short = label if len(label) <= 32 else label[:31] + "…"
        color = _group_color(chart, group) if chart.group else PALETTE[0]
        what = f"{group}: {label}" if group else label
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 16}" text-anchor="end" font-size="12" fill="#374151">{escape(short)}</text>'
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row_h - 8}" rx="3" '
            f'fill="{color}" fill-opacity="{0.35 if low else 0.85}"><title>{escape(what)}: {escape(cell(raw))}</title></rect>'
            f'<text x="{label_w + w + 6:.1f}" y="{y + 16}" font-size="12" fill="#111827">{escape(cell(raw))}</text>'
        )
        y += row_h
    parts.append("</svg>")
    return "".join(parts)


def line_chart(section: Section, chart: Chart, columns: Sequence[Column]) -> str:
    """Lines of rates (0–100 %) over periods; low-sample points are hollow."""
    rows = section.rows
    if not rows:
        return ""
    labels = {c.key: c.label for c in columns}
    width, height = 760, 280
    left, right, top, bottom = 44, 40, 16, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    n = len(rows)

    def x_at(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y_at(v: float) -> float:
        return top + plot_h * (1 - v / 100.0)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(chart.title)}" class="line-chart">'
    ]
    for tick in (0, 25, 50, 75, 100):
        y = y_at(tick)
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="#6b7280">{tick} %</text>'
        )
    step = max(1, n // 12)
    for i, row in enumerate(rows):
        if i % step == 0 or i == n - 1:
            parts.append(
                f'<text x="{x_at(i):.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" '
                f'fill="#6b7280">{escape(str(row.get(chart.x, "")))}</text>'
            )
    for s_i, key in enumerate(chart.y):
        color = PALETTE[s_i % len(PALETTE)]
        points: list[tuple[float, float, Any]] = []
        for i, row in enumerate(rows):
            v = _value_of(row.get(key))
            if v is not None:
                points.append((x_at(i), y_at(v), row.get(key)))
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y, _ in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        for x, y, raw in points:
            hollow = isinstance(raw, Rate) and raw.low_sample
            parts.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{"#fff" if hollow else color}" stroke="{color}" '
                f'stroke-width="1.5"><title>{escape(labels.get(key, key))}: {escape(cell(raw))}</title></circle>'
            )
        lx = left + s_i * 180
        parts.append(
            f'<rect x="{lx}" y="{height - 22}" width="12" height="12" rx="2" fill="{color}"/>'
            f'<text x="{lx + 18}" y="{height - 12}" font-size="12" fill="#374151">{escape(labels.get(key, key))}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _html_cell(value: Any, column: Column) -> str:
    classes = []
    if column.kind in ("int", "rate", "money", "hours", "float"):
        classes.append("num")
    if column.kind == "longtext":
        classes.append("long")
    title = ""
    if isinstance(value, Rate) and value.n and value.low_sample:
        classes.append("low")
        title = f' title="only {value.n} answers: too few to read as a rate"'
    cls = f' class="{" ".join(classes)}"' if classes else ""
    return f"<td{cls}{title}>{_html_text(value, column.kind)}</td>"


def _html_text(value: Any, kind: str) -> str:
    """A value as escaped HTML; amounts in several currencies one per line."""
    if isinstance(value, Money) and len(value.amounts) > 1:
        return "<br>".join(escape(part) for part in value.parts())
    return escape(cell(value, kind))


def _html_section(section: Section) -> str:
    out = [f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>']
    if section.layout == "kpis":
        out.append('<div class="kpis">')
        for row in section.rows:
            value = row.get("value")
            if isinstance(value, Rate) and value.n:
                pct = f"{100.0 * value.count / value.n:.0f} %"
                extra = (
                    f'<span class="n"> ({value.count:,}/{value.n:,}){" †" if value.low_sample else ""}</span>'
                )
                main = f'<span class="{"low" if value.low_sample else ""}">{pct}</span>{extra}'
            else:
                main = _html_text(value, str(row.get("kind", "text"))) or "–"
            out.append(
                f'<div class="kpi"><div class="v">{main}</div><div class="l">{escape(str(row.get("metric", "")))}</div></div>'
            )
        out.append("</div>")
    else:
        if section.chart is not None and section.rows:
            svg = (
                bar_chart(section, section.chart)
                if section.chart.kind == "bar"
                else line_chart(section, section.chart, section.columns)
            )
            if svg:
                out.append(f'<div class="chart">{svg}</div>')
        if section.rows:
            head = "".join(
                f'<th class="num">{escape(c.label)}</th>'
                if c.kind in ("int", "rate", "money", "hours", "float")
                else f"<th>{escape(c.label)}</th>"
                for c in section.columns
            )
            body = "".join(
                "<tr>" + "".join(_html_cell(row.get(c.key), c) for c in section.columns) + "</tr>"
                for row in section.rows
            )
            out.append(
                f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'
            )
        else:
            out.append('<p class="empty">No answers match these filters yet.</p>')
    notes = [section.note] if section.note else []
    if section.has_low_sample or (
        section.layout == "kpis"
        and any(
            isinstance(r.get("value"), Rate) and r["value"].n and r["value"].low_sample for r in section.rows
        )
    ):
        notes.append(LOW_NOTE)
    if notes:
        out.append(f'<p class="note">{escape(" ".join(notes))}</p>')
    out.append("</section>")
    return "".join(out)


def to_html(report: Report, *, standalone: bool = True) -> str:
    """The whole report as one HTML page (or, ``standalone=False``, the body for an email)."""
    body = (
        f"<header><h1>{escape(report.title)}</h1>"
        f"<p>{escape(report.filters_text)} · generated {escape(cell(report.generated_at))} "
        f"({escape(report.timezone)})</p></header>" + "".join(_html_section(s) for s in report.sections)
    )
    if not standalone:
        return body
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{escape(report.title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}<footer>Feedback loop · figures from the reps' replies; won/lost and amounts from the CRM.</footer>"
        "</main></body></html>\n"
    )
