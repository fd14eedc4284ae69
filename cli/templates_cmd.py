"""``feedback templates``: list, show, preview, edit, validate, history, diff, rollback, reset,
variants (A/B tests of versions).

Templates exist per language (``--lang``, default English); every edit and rollback is a new
version with its author, time and comment, validated in the sandbox before it is used.
"""

from __future__ import annotations

import getpass
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from feedback.core.vocabulary import LANGUAGES, TEMPLATE_NAMES

if TYPE_CHECKING:
    from feedback.outbound.rendering import RenderedMail
    from feedback.runtime.settings import Settings

from cli.common import (
    ConfigOption,
    FormatOption,
    OutputFormat,
    console,
    fail,
    get_settings,
    open_engine,
    render_rows,
)

app = typer.Typer(no_args_is_help=True)

NameArg = Annotated[str, typer.Argument(help=f"Template name: {', '.join(TEMPLATE_NAMES)}.")]
LangOption = Annotated[
    str, typer.Option("--lang", help=f"Language of the template ({', '.join(LANGUAGES)}; others fall back).")
]
CommentOption = Annotated[
    str | None, typer.Option("--comment", "-m", help="Why this version (kept in history).")
]


class Part(StrEnum):
    text = "text"
    html = "html"


def _name(name: str) -> None:
    from feedback.outbound.template_store import TemplateStoreError, check_name

    try:
        check_name(name)
    except TemplateStoreError as exc:
        fail(str(exc))


def _lang(lang: str) -> str:
    from feedback.outbound.template_store import TemplateStoreError, check_language

    try:
        return check_language(lang)
    except TemplateStoreError as exc:
        fail(str(exc))


def _read(file: Path) -> str:
    try:
        return file.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"cannot read {file}: {getattr(exc, 'strerror', None) or exc}")


def _context_for(settings: Settings, name: str) -> Callable[[str], dict[str, Any]]:
    from feedback.outbound.template_store import sample_context

    return lambda lang: sample_context(settings.taxonomy, settings.from_name, name, lang)


def _show(mail: RenderedMail, part: Part) -> None:
    console.print(f"[bold]Subject:[/] {mail.subject}  [dim]({mail.version})[/]")
    print(mail.html if part is Part.html else mail.text)


@app.command("list")
def list_templates(
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="Only this language.")] = None,
) -> None:
    """Every template in every language and the version in use (override, shipped, or English)."""
    from sqlmodel import Session

    from feedback.outbound.rendering import template_key
    from feedback.outbound.template_store import load_renderer

    langs = [_lang(lang)] if lang else list(LANGUAGES)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        renderer = load_renderer(session, settings)
    rows = []
    for n in TEMPLATE_NAMES:
        for code in langs:
            key = renderer.resolve(n, code)
            source = "override" if key in renderer.overrides else "shipped"
            if key != template_key(n, code):
                source += " (English fallback)"
            variants = renderer.variants.get(template_key(n, code), [])
            total = sum(v.weight for v in variants) or 1
            ab = ", ".join(f"{v.label} {100 * v.weight / total:.0f} %" for v in variants)
            rows.append(
                {
                    "template": n,
                    "lang": code,
                    "version": renderer.version(n, code),
                    "source": source,
                    "a/b variants": ab,
                }
            )
    render_rows(rows, fmt=fmt, title="Email templates")


@app.command("show")
def show(
    name: NameArg,
    config: ConfigOption = None,
    lang: LangOption = "en",
    version: Annotated[
        str | None, typer.Option("--version", help="A stored version number, or 'shipped'.")
    ] = None,
) -> None:
    """Print a template's source: the version in use, or a stored or shipped one."""
    from sqlmodel import Session

    from feedback.outbound.template_store import TemplateStoreError, load_renderer, source_of

    _name(name)
    code = _lang(lang)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        if version is None:
            print(load_renderer(session, settings).source(name, code), end="")
            return
        try:
            source, _ = source_of(session, name, version, code)
        except TemplateStoreError as exc:
            fail(str(exc))
    print(source, end="")


@app.command("preview")
def preview(
    name: NameArg,
    config: ConfigOption = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language (default: the record's rep's, else en).")
    ] = None,
    file: Annotated[
        Path | None, typer.Option("--file", help="Render this source instead of the installed one.")
    ] = None,
    lead: Annotated[str | None, typer.Option("--lead", help="Use this lead (id or CRM id).")] = None,
    deal: Annotated[str | None, typer.Option("--deal", help="Use this deal (id or CRM id).")] = None,
    part: Annotated[Part, typer.Option("--part", help="Which part to print.")] = Part.text,
    html: Annotated[bool, typer.Option(help="Same as --part html.")] = False,
) -> None:
    """Render a template with sample data or a real lead or deal; with --file, before installing it."""
    from sqlmodel import Session

    from feedback.outbound.rendering import TemplateError
    from feedback.outbound.template_preview import preview_context
    from feedback.outbound.template_store import TemplateStoreError, load_renderer, validate_source

    _name(name)
    code = _lang(lang) if lang else None
    settings = get_settings(config)
    source = _read(file) if file is not None else None
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            context, code = preview_context(session, settings, name, code, lead=lead, deal=deal)
            renderer = load_renderer(session, settings)
            if source is not None:
                mail = validate_source(name, source, code, context, renderer=renderer)
            else:
                mail = renderer.render(name, context, lang=code)
        except (TemplateError, TemplateStoreError) as exc:
            fail(str(exc))
    _show(mail, Part.html if html else part)


@app.command("validate")
def validate(
    target: Annotated[str, typer.Argument(help="A template file, or the name of an installed template.")],
    config: ConfigOption = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The template a file is for (default: the file's stem).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language (default: a file's folder if it is one, else en).")
    ] = None,
) -> None:
    """Check a file (or the installed template) as `edit` would, without installing anything."""
    from sqlmodel import Session

    from feedback.outbound.rendering import TemplateError
    from feedback.outbound.template_store import load_renderer, sample_context, validate_source

    settings = get_settings(config)
    path = Path(target)
    if path.is_file():
        template = name or path.name.removesuffix(".j2")
        code = _lang(lang or (path.parent.name if path.parent.name in LANGUAGES else "en"))
        _name(template)
        sources = {code: _read(path)}
    else:
        template = target
        _name(template)
        with open_engine(settings) as engine, Session(engine) as session:
            renderer = load_renderer(session, settings)
        sources = {c: renderer.source(template, c) for c in ([_lang(lang)] if lang else LANGUAGES)}
    for code, source in sources.items():
        context = sample_context(settings.taxonomy, settings.from_name, template, code)
        try:
            mail = validate_source(template, source, code, context)
        except TemplateError as exc:
            fail(f"{exc} ({code})", hint="fix the template and validate it again.")
        console.print(f"{template} ({code}): ok. Subject: {mail.subject}")


@app.command("edit")
def edit(
    name: NameArg,
    file: Annotated[Path, typer.Option("--file", help="New template source (blocks subject, text, html).")],
    config: ConfigOption = None,
    lang: LangOption = "en",
    comment: CommentOption = None,
) -> None:
    """Install a new version of a template after compiling and test-rendering it in the sandbox."""
    from sqlmodel import Session

    from feedback.outbound.rendering import TemplateError
    from feedback.outbound.template_store import install, list_variants, sample_context

    _name(name)
    code = _lang(lang)
    settings = get_settings(config)
    source = _read(file)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            row = install(
                session,
                name=name,
                lang=code,
                source=source,
                context=sample_context(settings.taxonomy, settings.from_name, name, code),
                author=getpass.getuser(),
                comment=comment,
            )
        except TemplateError as exc:
            fail(str(exc), hint="nothing was changed; fix the template and run the command again.")
        running = list_variants(session, name, code)
    if running:
        versions = ", ".join(v.version for v in running)
        console.print(
            f"Template {name} ({code}) stored as override-{row.version}. An A/B test is running "
            f"({versions}): mail keeps using those until `feedback templates variants {name} --lang "
            f"{code} --set ...` includes {row.version}, or `--clear` ends the test."
        )
        return
    console.print(f"Template {name} ({code}) is now override-{row.version}; new mail uses it.")


@app.command("history")
def history_cmd(
    name: NameArg,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: Annotated[str | None, typer.Option("--lang", help="Only this language.")] = None,
) -> None:
    """Every stored version of a template: who, when, why, and which one is in use."""
    from sqlmodel import Session

    from feedback.outbound.template_store import history

    _name(name)
    code = _lang(lang) if lang else None
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        versions = history(session, name, code)
    if not versions:
        console.print(f"{name} has no stored versions: the shipped text is in use.")
        return
    rows = [
        {
            "version": v.version,
            "lang": v.language,
            "created": v.created_at,
            "author": v.author,
            "comment": v.comment,
            "state": "in use" if v.in_use else ("superseded" if v.active else "reset"),
        }
        for v in versions
    ]
    render_rows(rows, fmt=fmt, title=f"Versions of {name}")


@app.command("diff")
def diff_cmd(
    name: NameArg,
    a: Annotated[str, typer.Argument(help="A version number, or 'shipped'.")],
    b: Annotated[str, typer.Argument(help="A version number, or 'shipped'.")],
    config: ConfigOption = None,
    lang: Annotated[str, typer.Option("--lang", help="Language of 'shipped'.")] = "en",
) -> None:
    """Show what changed between two versions (unified diff)."""
    from sqlmodel import Session

    from feedback.outbound.template_store import TemplateStoreError, diff

    _name(name)
    code = _lang(lang)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            text = diff(session, name, a, b, code)
        except TemplateStoreError as exc:
            fail(str(exc))
    print(text or f"{name}: versions {a} and {b} are identical.", end="" if text else "\n")


@app.command("rollback")
def rollback_cmd(
    name: NameArg,
    to: Annotated[int, typer.Option("--to", help="The version to restore (see `templates history`).")],
    config: ConfigOption = None,
    comment: CommentOption = None,
) -> None:
    """Make an earlier version current again (stored as a new version, so history stays complete)."""
    from sqlmodel import Session

    from feedback.outbound.rendering import TemplateError
    from feedback.outbound.template_store import TemplateStoreError, rollback

    _name(name)
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            row = rollback(
                session,
                name=name,
                to=to,
                context_for=_context_for(settings, name),
                author=getpass.getuser(),
                comment=comment,
            )
        except TemplateStoreError as exc:
            fail(str(exc))
        except TemplateError as exc:
            fail(f"version {to} no longer renders: {exc}", hint="edit the template instead.")
    console.print(
        f"Template {name} ({row.language}) is now override-{row.version}, the text of version {to}."
    )


@app.command("reset")
def reset_cmd(
    name: NameArg,
    config: ConfigOption = None,
    lang: Annotated[str | None, typer.Option("--lang", help="Only this language (default: all).")] = None,
) -> None:
    """Go back to the shipped template (overrides are kept as history, deactivated)."""
    from sqlmodel import Session

    from feedback.outbound.template_store import reset

    _name(name)
    code = _lang(lang) if lang else None
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        reset(session, name, code)
    console.print(f"Template {name}{f' ({code})' if code else ''} reset to the shipped version.")


@app.command("variants")
def variants_cmd(
    name: NameArg,
    config: ConfigOption = None,
    fmt: FormatOption = OutputFormat.table,
    lang: LangOption = "en",
    weights: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="VERSION=WEIGHT, two or more (--set shipped=50 --set 4=50, or --set shipped=50 4=50); "
            "a version number from `templates history`, or shipped.",
        ),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="End the A/B test: the version in use again.")
    ] = False,
    extra: Annotated[list[str] | None, typer.Argument(help="More VERSION=WEIGHT pairs after --set.")] = None,
) -> None:
    """A/B test versions of a template: send each to a share of the requests, chosen per request.

    Without --set or --clear, lists the running variants. Compare their answer rates with
    `feedback report responsiveness --by variant`.
    """
    from sqlmodel import Session

    from feedback.outbound.template_store import (
        TemplateStoreError,
        clear_variants,
        list_variants,
        parse_weights,
        sample_context,
        set_variants,
    )

    _name(name)
    code = _lang(lang)
    pairs = [*(weights or []), *(extra or [])]
    if clear and pairs:
        fail("--set and --clear do not go together", hint="use one of them.", code=2)
    if extra and not weights:
        fail(f"unexpected argument {extra[0]!r}", hint="write the weights after --set, e.g. --set 3=50 4=50.")
    settings = get_settings(config)
    with open_engine(settings) as engine, Session(engine) as session:
        try:
            if clear:
                n = clear_variants(session, name, code)
                console.print(
                    f"A/B test of {name} ({code}) ended ({n} variant(s)); the version in use is sent again."
                    if n
                    else f"{name} ({code}) has no A/B test running."
                )
                return
            if pairs:
                rows = set_variants(
                    session,
                    name=name,
                    lang=code,
                    weights=parse_weights(pairs),
                    context=sample_context(settings.taxonomy, settings.from_name, name, code),
                    author=getpass.getuser(),
                )
            else:
                rows = list_variants(session, name, code)
        except TemplateStoreError as exc:
            fail(str(exc), hint=f"see `feedback templates history {name} --lang {code}`.", code=2)
    if not rows:
        console.print(f"{name} ({code}) has no A/B test running: every mail uses the version in use.")
        return
    render_rows(
        [
            {"lang": v.language, "version": v.version, "weight": v.weight, "share": f"{v.share:.0f} %"}
            for v in rows
        ],
        fmt=fmt,
        title=f"A/B variants of {name} ({code})",
    )
    if pairs:
        console.print(
            "Each new request gets one of these by its id; compare: "
            "`feedback report responsiveness --by variant`."
        )
