"""Render admin-configurable email templates in a Jinja2 sandbox.

Templates come from ``templates/`` (shipped) or from admin overrides (stored in the database and
handed in as a mapping, so rendering stays pure). The sandbox stops attribute access to Python
internals; subjects are flattened to one line so a template or a lead's data cannot inject
headers (addresses never come from templates at all).

Each template exists per language: ``templates/NAME.j2`` is English, ``templates/de/NAME.j2``
German and so on. A rep's language picks the admin's override in that language, else the shipped
template in that language, else English (override, then shipped): a missing translation never
stops a mail.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from feedback.locales import FOOTER
from feedback.taxonomy import KindTaxonomy

TEMPLATE_NAMES = (
    "disposition_request",
    "winloss_request",
    "reminder",
    "escalation",
    "clarification",
    "expired",
    "acknowledgement",
)
LANGUAGES = ("en", "de", "fr", "es")  # shipped translations; any other code falls back to English
_BLOCKS = ("subject", "text", "html")
_KEY = re.compile(r"(?:[a-z]{2}/)?[a-z][a-z0-9_]*")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HTML_FRAME = (
    '<!doctype html><html><head><meta charset="utf-8"></head>'
    '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:15px;'
    'line-height:1.45;color:#1f2937;max-width:640px">\n{body}\n'
    '<p style="color:#6b7280;font-size:12px;margin-top:24px">{footer}</p></body></html>'
)


class TemplateError(ValueError):
    """A template that does not compile or render; the message names the template and line."""


@dataclass(frozen=True, slots=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    template: str
    version: str
    language: str = "en"


def language_code(lang: str | None) -> str:
    """'de', 'de-DE', 'DE_at' -> 'de'; empty or odd values -> 'en' (a rep's mail is never refused)."""
    code = (lang or "").strip().lower()[:2]
    return code if re.fullmatch(r"[a-z]{2}", code) else "en"


def template_key(name: str, lang: str = "en") -> str:
    """Where a template lives for a language: ``reminder`` (English), ``de/reminder``."""
    code = language_code(lang)
    return name if code == "en" else f"{code}/{name}"


def key_language(key: str) -> str:
    return key.split("/", 1)[0] if "/" in key else "en"


def shipped_source(name: str) -> str:
    """The source of a shipped template (``NAME`` or ``LANG/NAME``, without ``.j2``)."""
    if not _KEY.fullmatch(name):
        raise TemplateNotFound(name)
    path = resources.files("templates").joinpath(*f"{name}.j2".split("/"))
    if not path.is_file():
        raise TemplateNotFound(name)
    return path.read_text("utf-8")


class _Loader(BaseLoader):
    def __init__(self, overrides: Mapping[str, str]) -> None:
        self.overrides = overrides

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Any]:
        name = template.removesuffix(".j2")
        if name in self.overrides:
            return self.overrides[name], None, lambda: False
        return shipped_source(name), None, lambda: True


class Renderer:
    """Renders templates by name; build one per override set (cheap, caches compiled templates)."""

    def __init__(
        self, overrides: Mapping[str, str] | None = None, versions: Mapping[str, str] | None = None
    ) -> None:
        self.overrides = dict(overrides or {})
        self.versions = dict(versions or {})
        # the same source compiled twice: plain for subject/text, autoescaped for html
        self.envs = {
            escape: ImmutableSandboxedEnvironment(
                loader=_Loader(self.overrides),
                undefined=StrictUndefined,
                autoescape=escape,
                keep_trailing_newline=True,
            )
            for escape in (False, True)
        }

    def resolve(self, name: str, lang: str = "en") -> str:
        """The key used for ``name`` in ``lang``: its override, its shipped translation, or English."""
        key = template_key(name, lang)
        if key in self.overrides or _shipped_exists(key):
            return key
        return name

    def version(self, name: str, lang: str = "en") -> str:
        """The version a mail records: ``override-3`` or ``shipped-<hash>``, ``de/``-prefixed."""
        key = self.resolve(name, lang) if "/" not in name else name
        prefix = "" if key_language(key) == "en" else key_language(key) + "/"
        if key in self.versions:
            return prefix + self.versions[key]
        source = self.overrides.get(key) or shipped_source(key)
        return prefix + "shipped-" + hashlib.sha256(source.encode()).hexdigest()[:8]

    def source(self, name: str, lang: str = "en") -> str:
        """The source in use for ``name`` in ``lang`` (after the fallbacks)."""
        key = self.resolve(name, lang)
        return self.overrides.get(key) or shipped_source(key)

    def render(self, name: str, context: Mapping[str, Any], lang: str = "en") -> RenderedMail:
        """Render ``name`` in the rep's language ``lang`` (see the module docstring for fallbacks)."""
        key = self.resolve(name, lang)
        parts = self._parts(name, key, context)
        return RenderedMail(
            subject=one_line(parts["subject"]),
            text=parts["text"].strip() + "\n",
            html=_HTML_FRAME.format(
                body=parts["html"].strip(), footer=FOOTER.get(key_language(key), FOOTER["en"])
            ),
            template=name,
            version=self.version(key),
            language=key_language(key),
        )

    def _parts(self, name: str, key: str, context: Mapping[str, Any]) -> dict[str, str]:
        try:
            parts: dict[str, str] = {}
            for block in _BLOCKS:
                template = self.envs[block == "html"].get_template(f"{key}.j2")
                render_block = template.blocks.get(block)
                if render_block is None:
                    raise TemplateError(f"template {name}: has no {{% block {block} %}}")
                parts[block] = "".join(render_block(template.new_context(dict(context))))
        except TemplateError:
            raise
        except TemplateNotFound:
            raise TemplateError(f"no template named {name!r}; known: {', '.join(TEMPLATE_NAMES)}") from None
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template {name}: line {exc.lineno}: {exc.message}") from None
        except Exception as exc:  # undefined variables, sandbox violations
            raise TemplateError(f"template {name}: {type(exc).__name__}: {exc}") from None
        return parts

    def check(self, name: str, source: str, context: Mapping[str, Any], lang: str = "en") -> RenderedMail:
        """Compile and render ``source`` as ``name`` in ``lang`` (for `templates edit|validate`).

        Stricter than sending: a subject that renders empty or with a line break is refused here,
        where an admin can fix it, instead of being flattened silently in every mail.
        """
        key = template_key(name, lang)
        trial = Renderer({**self.overrides, key: source})
        problem = header_problem("subject", trial._parts(name, key, context)["subject"])
        if problem:
            raise TemplateError(f"template {name}: {problem}")
        return trial.render(name, context, lang)


def header_problem(header: str, value: str) -> str | None:
    """Why a rendered header value cannot go out as written, or None when it can."""
    text = value.strip()
    if not text:
        return f"the {header} renders empty; write a {header} in {{% block {header} %}}"
    if "\r" in text or "\n" in text:
        return (
            f"the {header} renders with a line break (header injection); keep "
            f"{{% block {header} %}} on one line"
        )
    if _CONTROL.search(text.replace("\t", " ")):
        return f"the {header} renders with control characters; remove them"
    return None


def _shipped_exists(key: str) -> bool:
    try:
        shipped_source(key)
    except TemplateNotFound:
        return False
    return True


def one_line(text: str, limit: int = 200) -> str:
    """Flatten to a single header-safe line."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat[:limit]


def option_groups(kt: KindTaxonomy, lang: str = "en") -> list[dict[str, Any]]:
    """The kind's numbered options grouped by outcome, labelled in ``lang`` (English fallback)."""
    code = language_code(lang)
    groups: list[dict[str, Any]] = []
    for outcome in kt.outcomes:
        opts = [
            {"number": o.number, "label": kt.reason(o.reason).label_in(code), "code": o.reason}
            for o in kt.options
            if o.outcome == outcome.code
        ]
        if opts:
            groups.append({"label": outcome.label_in(code), "code": outcome.code, "options": opts})
    return groups
