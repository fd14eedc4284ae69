"""Render admin-configurable email templates in a Jinja2 sandbox.

Templates come from ``templates/`` (shipped) or from admin overrides (stored in the database and
handed in as a mapping, so rendering stays pure). The sandbox stops attribute access to Python
internals; subjects are flattened to one line so a template or a lead's data cannot inject
headers (addresses never come from templates at all).
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
_BLOCKS = ("subject", "text", "html")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_HTML_FRAME = (
    '<!doctype html><html><head><meta charset="utf-8"></head>'
    '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:15px;'
    'line-height:1.45;color:#1f2937;max-width:640px">\n{body}\n'
    '<p style="color:#6b7280;font-size:12px;margin-top:24px">Just hit reply: one sentence is '
    "plenty.</p></body></html>"
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


def shipped_source(name: str) -> str:
    """The source of a shipped template (``NAME`` without ``.j2``)."""
    path = resources.files("templates").joinpath(f"{name}.j2")
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

    def version(self, name: str) -> str:
        if name in self.versions:
            return self.versions[name]
        source = self.overrides.get(name) or shipped_source(name)
        return "shipped-" + hashlib.sha256(source.encode()).hexdigest()[:8]

    def render(self, name: str, context: Mapping[str, Any]) -> RenderedMail:
        try:
            parts: dict[str, str] = {}
            for block in _BLOCKS:
                template = self.envs[block == "html"].get_template(f"{name}.j2")
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
        return RenderedMail(
            subject=one_line(parts["subject"]),
            text=parts["text"].strip() + "\n",
            html=_HTML_FRAME.format(body=parts["html"].strip()),
            template=name,
            version=self.version(name),
        )

    def check(self, name: str, source: str, context: Mapping[str, Any]) -> RenderedMail:
        """Compile and render ``source`` as ``name`` with ``context`` (for `templates edit`)."""
        trial = Renderer({**self.overrides, name: source})
        return trial.render(name, context)


def one_line(text: str, limit: int = 200) -> str:
    """Flatten to a single header-safe line."""
    flat = " ".join(_CONTROL.sub(" ", text).split())
    return flat[:limit]


def option_groups(kt: KindTaxonomy) -> list[dict[str, Any]]:
    """The kind's numbered options grouped by outcome, as templates list them."""
    groups: list[dict[str, Any]] = []
    for outcome in kt.outcomes:
        opts = [
            {"number": o.number, "label": o.label, "code": o.reason}
            for o in kt.options
            if o.outcome == outcome.code
        ]
        if opts:
            groups.append({"label": outcome.label, "code": outcome.code, "options": opts})
    return groups
