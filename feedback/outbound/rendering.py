"""Render admin-configurable email templates in a Jinja2 sandbox.

Templates come from ``templates/`` (shipped) or from admin overrides (stored in the database and
handed in as a mapping, so rendering stays pure). The sandbox stops attribute access to Python
internals; subjects are flattened to one line so a template or a lead's data cannot inject
headers (addresses never come from templates at all).

``{% include %}``, ``{% import %}`` and ``{% extends %}`` resolve names in the template store
only (an override by that name, else the shipped file): a path, absolute or with ``../``, is
refused rather than read. `templates edit` test-renders with sample data, so a loop that runs
only on real data passes it; every render (at send time too) therefore runs under
``RenderLimits``: a time budget checked on each loop item and each call, an output budget, and
``*``/``**`` checked before they build a huge string, list or number.

Each template exists per language: ``templates/NAME.j2`` is English, ``templates/de/NAME.j2``
German and so on. A rep's language picks the admin's override in that language, else the shipped
template in that language, else English (override, then shipped): a missing translation never
stops a mail.

A template and language can have A/B variants (:class:`Variant`): several versions with weights.
A mail about a request picks one by a hash of the request id against the weights
(:meth:`Renderer.pick`), so the same request always gets the same text and tests are stable.
A version that fails on a mail's data is never sent broken: the last good version goes out
instead (the older active versions, newest first, then the shipped text) and the failure is
reported as a :class:`RenderFailure` for the caller to log and store.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from jinja2 import BaseLoader, StrictUndefined, TemplateNotFound, TemplateSyntaxError, nodes
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from feedback.core.taxonomy import KindTaxonomy
from feedback.core.vocabulary import LANGUAGES as LANGUAGES
from feedback.core.vocabulary import TEMPLATE_NAMES as TEMPLATE_NAMES
from feedback.outbound.locales import FOOTER

if TYPE_CHECKING:
    from feedback.runtime.settings import Settings

_BLOCKS = ("subject", "text", "html")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
# a template of the store, optionally in a language folder: no path, no dot
_STORE_NAME = re.compile(r"(?:[a-z]{2}/)?[a-z][a-z0-9_]{0,63}")
# templates whose html block is the whole page (the digest: no "just hit reply" footer)
_WHOLE_PAGE = frozenset({"digest"})
_HTML_FRAME = (
    '<!doctype html><html><head><meta charset="utf-8"></head>'
    '<body style="font-family:system-ui,-apple-system,Segoe UI,sans-serif;font-size:15px;'
    'line-height:1.45;color:#1f2937;max-width:640px">\n{body}\n'
    '<p style="color:#6b7280;font-size:12px;margin-top:24px">{footer}</p></body></html>'
)


class TemplateError(ValueError):
    """A template that does not compile or render; the message names the template and line."""


@dataclass(frozen=True, slots=True)
class RenderLimits:
    """Budgets of one render (all three blocks): wall time and characters of output."""

    seconds: float = 1.0
    max_output: int = 256 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> RenderLimits:
        return cls(seconds=settings.template_render_timeout, max_output=settings.template_max_output)


class _OverBudget(Exception):
    """Raised inside a render that ran out of time or output; becomes a ``TemplateError``."""


@dataclass(slots=True)
class _Budget:
    """Counted in the rendering thread's CPU time: a loaded machine does not fail a fair template."""

    limits: RenderLimits
    deadline: float = math.inf

    def start(self) -> None:
        self.deadline = time.thread_time() + self.limits.seconds

    def tick(self) -> None:
        if time.thread_time() > self.deadline:
            raise _OverBudget(
                f"rendering took longer than {self.limits.seconds:g} s of processor time (a loop "
                "too large for the data?); limit: template_render_timeout"
            )

    def size(self, n: int) -> None:
        if n > self.limits.max_output:
            raise _OverBudget(
                f"output too large: more than {self.limits.max_output} characters; limit: template_max_output"
            )


_BUDGET: ContextVar[_Budget | None] = ContextVar("feedback_render_budget", default=None)
_LOOP_GUARD = "_feedback_loop_guard"


def _loop_guard(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every ``{% for %}`` iterates through this: the time budget is checked per item."""
    budget = _BUDGET.get()
    for item in iterable:
        if budget is not None:
            budget.tick()
        yield item


def _sized(value: Any) -> int | None:
    return len(value) if isinstance(value, str | bytes | list | tuple) else None


class _GuardedEnvironment(ImmutableSandboxedEnvironment):
    """The sandbox plus budgets: loops, calls and ``*``/``**`` check the render's budget."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.filters[_LOOP_GUARD] = _loop_guard

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for loop in tree.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, _LOOP_GUARD, [], [], None, None, lineno=loop.lineno)
        return tree

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        budget = _BUDGET.get()
        if budget is not None:
            budget.tick()  # macros recurse through here: a call tree is bounded like a loop
        return super().call(__context, __obj, *args, **kwargs)

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        budget = _BUDGET.get()
        limit = budget.limits.max_output if budget is not None else RenderLimits().max_output
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                n = _sized(seq)
                if n is not None and isinstance(times, int) and n * times > limit:
                    raise _OverBudget(
                        f"output too large: a repetition of more than {limit} characters; "
                        "limit: template_max_output"
                    )
        elif (
            operator == "**"
            and isinstance(left, int)
            and isinstance(right, int)
            and abs(left) > 1
            and right * math.log2(abs(left)) > 64 * 1024  # a number of more than 64 kbit
        ):
            raise _OverBudget("a number too large to compute (exponent too big)")
        return super().call_binop(context, operator, left, right)


@dataclass(frozen=True, slots=True)
class Variant:
    """One arm of an A/B test: an override version (``number``, its ``source``) or, with
    ``number`` None, the shipped text; sent to ``weight`` parts of the mails."""

    number: int | None
    source: str | None
    weight: int

    @property
    def label(self) -> str:
        """The version a mail records, without the language prefix (``override-3``, ``shipped``)."""
        return "shipped" if self.number is None else f"override-{self.number}"


@dataclass(frozen=True, slots=True)
class RenderFailure:
    """A version that failed on one mail's data, and the version sent instead (None: none)."""

    template: str
    language: str
    version: str
    error: str
    sent_version: str | None = None

    def __str__(self) -> str:
        if self.sent_version is None:
            sent = "nothing was sent"
        elif "shipped-" in self.sent_version:
            sent = f"the shipped template was sent instead ({self.sent_version})"
        else:
            sent = f"the last good version was sent instead ({self.sent_version})"
        return f"{self.template} {self.version} failed ({self.error}); {sent}"


def pick_variant(variants: Sequence[Variant], seed: object, key: str = "") -> Variant:
    """The variant for ``seed`` (a request id): a hash of it placed on the cumulative weights.

    Deterministic across processes and runs (not Python's ``hash``), and each variant gets its
    weight's share of seeds: sha256 is uniform enough for weights summing to far below 2**48.
    """
    total = sum(max(v.weight, 0) for v in variants)
    if total <= 0:
        return variants[0]
    point = int(hashlib.sha256(f"{key}|{seed}".encode()).hexdigest()[:12], 16) % total
    for variant in variants:
        point -= max(variant.weight, 0)
        if point < 0:
            return variant
    return variants[-1]  # pragma: no cover - the weights sum to total


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
    if not _STORE_NAME.fullmatch(name):
        raise TemplateNotFound(name)
    path = resources.files("templates").joinpath(*f"{name}.j2".split("/"))
    if not path.is_file():
        raise TemplateNotFound(name)
    return path.read_text("utf-8")


class _OutsideStore(TemplateNotFound):
    """A name that is not a template of the store (a path, a dotted name): never read."""


class _Loader(BaseLoader):
    def __init__(self, overrides: Mapping[str, str]) -> None:
        self.overrides = overrides

    def get_source(self, environment: Any, template: str) -> tuple[str, str | None, Any]:
        name = template.removesuffix(".j2")
        if not _STORE_NAME.fullmatch(name):
            raise _OutsideStore(template)
        if name in self.overrides:
            return self.overrides[name], None, lambda: False
        return shipped_source(name), None, lambda: True


class Renderer:
    """Renders templates by name; build one per override set (cheap, caches compiled templates)."""

    def __init__(
        self,
        overrides: Mapping[str, str] | None = None,
        versions: Mapping[str, str] | None = None,
        *,
        limits: RenderLimits | None = None,
        variants: Mapping[str, Sequence[Variant]] | None = None,
        good: Mapping[str, Sequence[tuple[int, str]]] | None = None,
    ) -> None:
        self.overrides = dict(overrides or {})
        self.versions = dict(versions or {})
        self.limits = limits or RenderLimits()
        # per key: the A/B variants; the active override versions (number, source), newest first
        self.variants = {k: list(v) for k, v in (variants or {}).items() if v}
        self.good = {k: list(v) for k, v in (good or {}).items()}
        self._variant_renderers: dict[tuple[str, int | None, str | None], Renderer] = {}
        # the same source compiled twice: plain for subject/text, autoescaped for html
        self.envs = {
            escape: _GuardedEnvironment(
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
            html=(
                parts["html"].strip() + "\n"
                if name in _WHOLE_PAGE
                else _HTML_FRAME.format(
                    body=parts["html"].strip(), footer=FOOTER.get(key_language(key), FOOTER["en"])
                )
            ),
            template=name,
            version=self.version(key),
            language=key_language(key),
        )

    def _parts(self, name: str, key: str, context: Mapping[str, Any]) -> dict[str, str]:
        budget = _Budget(self.limits)
        token = _BUDGET.set(budget)
        try:
            # compiling (cached per renderer) is not rendering: the clock starts after it
            compiled = {escape: env.get_template(f"{key}.j2") for escape, env in self.envs.items()}
            budget.start()
            parts: dict[str, str] = {}
            total = 0
            for block in _BLOCKS:
                template = compiled[block == "html"]
                render_block = template.blocks.get(block)
                if render_block is None:
                    raise TemplateError(f"template {name}: has no {{% block {block} %}}")
                chunks: list[str] = []
                for chunk in render_block(template.new_context(dict(context))):
                    total += len(chunk)
                    budget.size(total)
                    budget.tick()
                    chunks.append(chunk)
                parts[block] = "".join(chunks)
        except TemplateError:
            raise
        except _OverBudget as exc:
            raise TemplateError(f"template {name}: {exc}") from None
        except _OutsideStore as exc:
            raise TemplateError(
                f"template {name}: {exc.name!r} is not in the template store; include, import and "
                'extend other templates by name only (e.g. "reminder"), never by path'
            ) from None
        except TemplateNotFound as exc:
            if exc.name not in (name, f"{name}.j2", key, f"{key}.j2"):
                raise TemplateError(f"template {name}: no template named {exc.name!r} to include") from None
            raise TemplateError(f"no template named {name!r}; known: {', '.join(TEMPLATE_NAMES)}") from None
        except TemplateSyntaxError as exc:
            raise TemplateError(f"template {name}: line {exc.lineno}: {exc.message}") from None
        except (MemoryError, RecursionError) as exc:
            raise TemplateError(f"template {name}: too large to render ({type(exc).__name__})") from None
        except Exception as exc:  # undefined variables, sandbox violations
            raise TemplateError(f"template {name}: {type(exc).__name__}: {exc}") from None
        finally:
            _BUDGET.reset(token)
        return parts

    def pick(self, name: str, lang: str = "en", seed: object = None) -> Renderer:
        """The renderer of the A/B variant ``seed`` (a request id) gets for ``name`` in ``lang``;
        this renderer itself when there are no variants or no seed (previews, the digest)."""
        key = template_key(name, lang)
        variants = self.variants.get(key)
        if not variants or seed is None:
            return self
        return self._with_version(key, pick_variant(variants, seed, key))

    def _with_version(self, key: str, variant: Variant) -> Renderer:
        """This renderer with ``key``'s text replaced by ``variant`` (cached per variant)."""
        cache_key = (key, variant.number, variant.source)
        found = self._variant_renderers.get(cache_key)
        if found is not None:
            return found
        overrides = {k: v for k, v in self.overrides.items() if k != key}
        versions = {k: v for k, v in self.versions.items() if k != key}
        if variant.source is not None:
            overrides[key], versions[key] = variant.source, variant.label
        good = {**self.good, key: [(n, src) for n, src in self.good.get(key, []) if n != variant.number]}
        if variant.number is not None and variant.source is not None:
            good[key] = sorted([*good[key], (variant.number, variant.source)], reverse=True)
        renderer = Renderer(overrides, versions, limits=self.limits, good=good)
        self._variant_renderers[cache_key] = renderer
        return renderer

    def render_or_shipped(
        self, name: str, context: Mapping[str, Any], lang: str = "en", *, seed: object = None
    ) -> tuple[RenderedMail, RenderFailure | None]:
        """Render the version in use (the A/B variant of ``seed``, if any). When an admin's version
        fails on this mail's data, the last good one goes out instead: the older active versions
        of that template and language, newest first, then the shipped text. Never a broken mail,
        never none while some version renders; the failure says which failed and why."""
        chosen = self.pick(name, lang, seed)
        try:
            return chosen.render(name, context, lang), None
        except TemplateError as exc:
            key = chosen.resolve(name, lang)
            if key not in chosen.overrides:
                raise  # the shipped text failed: no older version to fall back to
            failed = chosen.version(key)
            number = _override_number(chosen.versions.get(key))
            for older, source in chosen.good.get(key, []):
                if number is not None and older >= number:
                    continue
                fallback = self._with_version(key, Variant(older, source, 1))
                try:
                    mail = fallback.render(name, context, lang)
                except TemplateError:
                    continue
                return mail, RenderFailure(name, key_language(key), failed, str(exc), mail.version)
            shipped = Renderer(limits=self.limits).render(name, context, lang)
            return shipped, RenderFailure(name, key_language(key), failed, str(exc), shipped.version)

    def check(self, name: str, source: str, context: Mapping[str, Any], lang: str = "en") -> RenderedMail:
        """Compile and render ``source`` as ``name`` in ``lang`` (for `templates edit|validate`).

        Stricter than sending: a subject that renders empty or with a line break is refused here,
        where an admin can fix it, instead of being flattened silently in every mail.
        """
        key = template_key(name, lang)
        trial = Renderer({**self.overrides, key: source}, limits=self.limits)
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


def _override_number(label: str | None) -> int | None:
    """7 for ``override-7``; None for anything else."""
    if label and label.startswith("override-") and label[9:].isdigit():
        return int(label[9:])
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
