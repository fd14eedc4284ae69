"""The reason taxonomy as data: outcomes and reason codes per request kind.

The default ships in ``feedback/data/taxonomy.toml``; ``feedback.toml`` may extend or replace it
under ``[taxonomy]``. Templates (numbered options), the classifier and reports all read the same
objects, so "3" in a reply means what the request showed.
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

KINDS = ("disposition", "winloss")


class TaxonomyError(ValueError):
    """An invalid taxonomy; the message says where and what, for the admin to fix."""


def _check_phrases(value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """Cue phrases are non-empty and use ``...`` only between words (see taxonomy.toml)."""
    for lang, phrases in value.items():
        for phrase in phrases:
            text = phrase.strip()
            if not text or text.startswith("...") or text.endswith("..."):
                raise ValueError(f"phrases.{lang}: {phrase!r} is empty or starts/ends with '...'")
    return value


def _check_labels(value: dict[str, str]) -> dict[str, str]:
    """Per-language labels are keyed by a two-letter language code and never empty."""
    for lang, text in value.items():
        if not re.fullmatch(r"[a-z]{2}", lang):
            raise ValueError(f"labels: {lang!r} is not a two-letter language code (en, de, fr, es)")
        if not text.strip():
            raise ValueError(f"labels.{lang} is empty")
    return value


class _Labelled(BaseModel):
    """Something with an English ``label`` and the same label in other languages (``labels``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str
    # language code -> the label as a rep in that language reads it; English ``label`` otherwise
    labels: dict[str, str] = Field(default_factory=dict)

    _labels_ok = field_validator("labels")(_check_labels)

    def label_in(self, lang: str) -> str:
        """The label in ``lang``, falling back to the English one."""
        return self.labels.get(lang, self.label)


class Reason(_Labelled):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    description: str = ""
    # language code -> cue phrases (lower case) the classifier looks for
    phrases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # used only when no other reason of its outcome is given ("working it" yields to "demo booked")
    fallback: bool = False

    _phrases_ok = field_validator("phrases")(_check_phrases)


OutcomeRole = Literal["positive", "negative", "undecided"]
"""What an outcome means for the business, whatever its code: reports colour and order by it."""

OUTCOME_ROLES: tuple[OutcomeRole, ...] = ("positive", "negative", "undecided")


class Outcome(_Labelled):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    # unset: by position, the kind's first outcome positive, the second negative, others undecided
    role: OutcomeRole | None = None
    reasons: tuple[Reason, ...] = ()
    phrases: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    # weaker outcome cues ("chose us"): a plain outcome word outweighs them
    hints: dict[str, tuple[str, ...]] = Field(default_factory=dict)

    _phrases_ok = field_validator("phrases", "hints")(_check_phrases)


class Option(BaseModel):
    """One numbered quick-reply option shown in a request."""

    model_config = ConfigDict(frozen=True)

    number: int
    outcome: str
    reason: str
    label: str


class KindTaxonomy(_Labelled):
    question: str = ""
    outcomes: tuple[Outcome, ...]

    @model_validator(mode="after")
    def _unique_codes(self) -> KindTaxonomy:
        seen: set[str] = set()
        for outcome in self.outcomes:
            if outcome.code in seen:
                raise ValueError(f"outcome code {outcome.code!r} appears twice")
            seen.add(outcome.code)
        reasons: set[str] = set()
        for outcome in self.outcomes:
            for reason in outcome.reasons:
                if reason.code in reasons:
                    raise ValueError(f"reason code {reason.code!r} appears under two outcomes")
                reasons.add(reason.code)
        return self

    @cached_property
    def options(self) -> tuple[Option, ...]:
        """Reasons numbered 1..n in taxonomy order across outcomes."""
        out: list[Option] = []
        for outcome in self.outcomes:
            for reason in outcome.reasons:
                out.append(
                    Option(number=len(out) + 1, outcome=outcome.code, reason=reason.code, label=reason.label)
                )
        return tuple(out)

    @cached_property
    def outcome_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.outcomes)

    @cached_property
    def reason_outcome(self) -> dict[str, str]:
        """Reason code -> the outcome it implies."""
        return {r.code: o.code for o in self.outcomes for r in o.reasons}

    @cached_property
    def roles(self) -> dict[str, OutcomeRole]:
        """Outcome code -> role: the outcome's own ``role``, else by position (first positive,
        second negative, the rest undecided), the order the default taxonomy has always used."""
        return {
            o.code: o.role or OUTCOME_ROLES[min(i, len(OUTCOME_ROLES) - 1)]
            for i, o in enumerate(self.outcomes)
        }

    def outcome(self, code: str) -> Outcome:
        for outcome in self.outcomes:
            if outcome.code == code:
                return outcome
        raise KeyError(code)

    def reason(self, code: str) -> Reason:
        for outcome in self.outcomes:
            for reason in outcome.reasons:
                if reason.code == code:
                    return reason
        raise KeyError(code)

    def option(self, number: int) -> Option | None:
        if 1 <= number <= len(self.options):
            return self.options[number - 1]
        return None


class Taxonomy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    version: str = "custom"
    kinds: dict[str, KindTaxonomy]

    @model_validator(mode="after")
    def _known_kinds(self) -> Taxonomy:
        missing = [k for k in KINDS if k not in self.kinds]
        if missing:
            raise ValueError(f"taxonomy lacks kind(s) {', '.join(missing)}")
        return self

    def kind(self, kind: str) -> KindTaxonomy:
        try:
            return self.kinds[kind]
        except KeyError:
            raise TaxonomyError(
                f"unknown request kind {kind!r}; expected one of {', '.join(KINDS)}"
            ) from None

    @cached_property
    def fingerprint(self) -> str:
        """Short content hash: a request stores it so a number is read against what it showed."""
        blob = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:12]


def _default_data() -> dict[str, Any]:
    data: dict[str, Any] = tomllib.loads(_default_text())
    return data


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Extend the default: outcomes and reasons are merged by code, cue phrases (``phrases``,
    ``hints``) are added per language to the shipped ones, other keys are replaced."""
    merged = json.loads(json.dumps(base))
    if "version" in override:
        merged["version"] = override["version"]
    for kind, kdata in override.get("kinds", {}).items():
        target = merged.setdefault("kinds", {}).setdefault(kind, {"label": kind, "outcomes": []})
        for key, value in kdata.items():
            if key != "outcomes":
                target[key] = value
        for odata in kdata.get("outcomes", []):
            existing = next((o for o in target["outcomes"] if o["code"] == odata.get("code")), None)
            if existing is None:
                target["outcomes"].append(odata)
                continue
            for key, value in odata.items():
                if key != "reasons":
                    _set_or_extend(existing, key, value)
            for rdata in odata.get("reasons", []):
                old = next((r for r in existing.get("reasons", []) if r["code"] == rdata.get("code")), None)
                if old is None:
                    existing.setdefault("reasons", []).append(rdata)
                else:
                    for key, value in rdata.items():
                        _set_or_extend(old, key, value)
    out: dict[str, Any] = merged
    return out


def _set_or_extend(target: dict[str, Any], key: str, value: Any) -> None:
    """Replace ``target[key]``, except cue phrases (added) and labels (replaced) per language."""
    old = target.get(key)
    if key in ("phrases", "hints", "labels") and isinstance(old, dict) and isinstance(value, dict):
        merged = dict(old)
        for lang, phrases in value.items():
            extend = key != "labels" and isinstance(merged.get(lang), list | tuple)
            if extend and isinstance(phrases, list | tuple):
                merged[lang] = [*merged[lang], *(p for p in phrases if p not in merged[lang])]
            else:
                merged[lang] = phrases
        target[key] = merged
    else:
        target[key] = value


def load_taxonomy(
    override: dict[str, Any] | None = None,
    *,
    source: str = "feedback.toml",
    source_text: str | None = None,
) -> Taxonomy:
    """The default taxonomy, extended (``mode = "extend"``, default) or replaced by ``override``.

    An invalid result raises :class:`TaxonomyError` naming the file, the line (found in
    ``source_text``, or in the file ``source`` when it exists) and the problem, so the service
    refuses to start with a message an admin can act on.
    """
    data = _default_data()
    if override:
        override = dict(override)
        mode = override.pop("mode", "extend")
        if mode == "replace":
            data = override
        elif mode == "extend":
            data = _merge(data, override)
        else:
            line = _locate_line(_source_text(source, source_text), ("mode",), {"mode": mode})
            where = f"{source}:{line}" if line else source
            raise TaxonomyError(f"{where}: [taxonomy] mode must be 'extend' or 'replace', not {mode!r}")
    try:
        return Taxonomy.model_validate(data)
    except ValidationError as exc:
        text = _source_text(source, source_text) if override else _default_text()
        name = source if override else "feedback/data/taxonomy.toml"
        problems = []
        for err in exc.errors():
            loc = tuple(err["loc"])
            # a missing key has no line of its own: point at the entry that lacks it
            line = _locate_line(text, loc, data, entry_only=err["type"] == "missing")
            where = f"line {line}: " if line else ""
            problems.append(f"{where}taxonomy.{'.'.join(str(p) for p in loc)}: {err['msg']}")
        raise TaxonomyError(f"{name}: invalid taxonomy: {'; '.join(problems)}") from None


def parse_taxonomy_toml(text: str, *, source: str = "feedback.toml") -> Taxonomy:
    """A taxonomy from TOML text holding a ``[taxonomy]`` table (or the taxonomy at top level)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message already says "(at line N, column M)"
        raise TaxonomyError(f"{source}: not valid TOML: {exc}") from None
    override = doc.get("taxonomy", doc if "kinds" in doc else None)
    return load_taxonomy(override, source=source, source_text=text)


def _default_text() -> str:
    return resources.files("feedback").joinpath("data/taxonomy.toml").read_text("utf-8")


def _source_text(source: str, source_text: str | None) -> str | None:
    if source_text is not None:
        return source_text
    try:
        return Path(source).read_text("utf-8")
    except (OSError, ValueError):
        return None


def _locate_line(
    text: str | None, loc: tuple[Any, ...], data: Any, *, entry_only: bool = False
) -> int | None:
    """Best-effort 1-based line of the TOML key a validation error points at.

    Walks ``loc`` through the data; each entry with a ``code`` anchors the search at the line that
    defines that code, then the last key named in ``loc`` is searched from there.
    """
    if not text:
        return None
    lines = text.splitlines()
    start = 0
    node = data
    for part in loc:
        if (isinstance(node, dict) and part in node) or (
            isinstance(node, list | tuple) and isinstance(part, int) and part < len(node)
        ):
            node = node[part]
        else:
            break
        if isinstance(part, str) and part in KINDS:
            found = _find(lines, re.compile(rf"\b{re.escape(part)}\b"), start)
            start = found if found is not None else start
        if isinstance(node, dict) and isinstance(node.get("code"), str):
            pat = re.compile(rf"""code\s*=\s*["']{re.escape(node["code"])}["']""")
            found = _find(lines, pat, start)
            start = found if found is not None else start
    keys = [p for p in loc if isinstance(p, str) and p not in KINDS and p != "kinds"]
    if keys and not entry_only:
        key = keys[-1]
        pat = re.compile(rf"(^|[\s{{,.]){re.escape(key)}\s*[=.]|\[\[?[\w.]*\b{re.escape(key)}\]")
        found = _find(lines, pat, start)
        if found is not None and found - start < 40:
            return found + 1
    return start + 1 if start or loc else None


def _find(lines: list[str], pattern: re.Pattern[str], start: int) -> int | None:
    for i in range(start, len(lines)):
        if pattern.search(lines[i]):
            return i
    return None


DEFAULT_TAXONOMY: Taxonomy | None = None


def default_taxonomy() -> Taxonomy:
    """The shipped taxonomy (cached; it is immutable)."""
    global DEFAULT_TAXONOMY
    if DEFAULT_TAXONOMY is None:
        DEFAULT_TAXONOMY = load_taxonomy()
    return DEFAULT_TAXONOMY
