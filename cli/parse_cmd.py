"""``feedback parse``: read messages without touching any service."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.common import ConfigOption, console, fail, get_settings, print_error

if TYPE_CHECKING:
    from feedback.classify import LearnedExamples


def _learned(path: Path | None) -> LearnedExamples | None:
    """Corrections exported as JSON lines: {"kind", "text", "outcome", "reasons", "competitor"}."""
    from feedback.classify import LearnedExamples
    from feedback.classify.learning import LearnedExample

    if path is None:
        return None
    examples = []
    for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            examples.append(
                LearnedExample(
                    kind=row["kind"],
                    text=row["text"],
                    outcome=row.get("outcome"),
                    reasons=tuple(row.get("reasons", ())),
                    competitor=row.get("competitor"),
                )
            )
        except (ValueError, KeyError) as exc:
            fail(f"{path}:{n}: not a learned example ({exc})")
    return LearnedExamples(examples=tuple(examples))


def parse(
    files: Annotated[list[Path], typer.Argument(help="Message files (.eml); '-' reads one from stdin.")],
    kind: Annotated[str, typer.Option(help="Request kind the replies answer: disposition or winloss.")],
    config: ConfigOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per file, one per line.")] = False,
    learned: Annotated[
        Path | None, typer.Option(help="JSON-lines file of review corrections to use.")
    ] = None,
) -> None:
    """Parse and classify reply messages: reply text, signature, outcome, reasons, competitor.

    Nothing is stored or sent. Input that is not a message gives classification 'unreadable'
    with an error, never a crash. A file that cannot be read at all (missing, a folder, no
    permission) is reported the same way and on stderr, and the command then exits 1.
    """
    from feedback.core.analysis import AnalysisConfig, analyse
    from feedback.core.taxonomy import KINDS

    if kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}, not {kind!r}")
    settings = get_settings(config)
    cfg = AnalysisConfig(
        taxonomy=settings.taxonomy,
        competitors=tuple(settings.competitors),
        reply_local=settings.reply_local,
        learned=_learned(learned),
    )
    not_read = 0
    for path in files:
        name = str(path)
        try:
            raw = sys.stdin.buffer.read() if name == "-" else path.read_bytes()
        except OSError as exc:
            not_read += 1
            print_error(f"{name}: cannot read file: {exc.strerror}", hint="check the path")
            out: dict[str, Any] = {
                "file": name,
                "classification": "unreadable",
                "error": f"cannot read file: {exc.strerror}",
                "message_id": None,
                "token": None,
                "reply_text": None,
                "signature": None,
                "outcome": None,
                "reasons": [],
                "competitor": None,
                "confidence": 0.0,
                "needs_review": False,
            }
        else:
            out = analyse(raw, kind=kind, config=cfg).to_json(file=name)
        if as_json:
            sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
            continue
        console.rule(f"[bold]{name}")
        console.print(
            f"[bold]{out['classification']}[/]  from {out.get('from') or '?'}  token {out['token'] or '-'}"
        )
        if out.get("error"):
            console.print(f"[red]error:[/] {out['error']}")
        if out["classification"] == "reply":
            console.print(
                f"[bold]outcome[/] {out['outcome'] or '(none)'}   [bold]reasons[/] "
                f"{', '.join(out['reasons']) or '(none)'}   [bold]competitor[/] {out['competitor'] or '-'}"
                f"   confidence {out['confidence']:.2f}"
                + ("   [yellow]needs review[/]" if out["needs_review"] else "")
            )
            console.print("[dim]reply:[/]")
            console.print(out["reply_text"] or "(empty)", markup=False, highlight=False)
            if out["signature"]:
                console.print("[dim]signature:[/]")
                console.print(out["signature"], markup=False, highlight=False)
    if not_read:
        raise typer.Exit(1)  # every file still has its result above; the exit says one was not read


def register(app: typer.Typer) -> None:
    app.command("parse")(parse)
