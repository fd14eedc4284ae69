"""Cue phrases compiled once per (taxonomy, kind) into a word index.

A reply is matched word by word: each word looks up the phrases that can start with it (exact
word or word prefix), so the cost per reply grows with its length, not with the lexicon's size,
and nothing is compiled per call.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from feedback.classify import markers
from feedback.classify.normalise import phrase_words
from feedback.core.taxonomy import KindTaxonomy, Taxonomy

TargetType = Literal[
    "outcome",
    "hint",
    "reason",
    "post_negator",
    "correction",
    "global_hedge",
    "local_hedge",
    "promoter",
    "neutral",
]
GAP_MAX = 5
_WORD_CACHE = 50_000  # per-lexicon memo of word lookups; bounded so odd input cannot grow it


@dataclass(frozen=True, slots=True)
class Target:
    """What a matched phrase says: an outcome, a reason, or a marker about the words around it."""

    type: TargetType
    code: str = ""
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Element:
    """One place in a phrase: a set of words and word prefixes, or a gap (``...``)."""

    exact: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    gap: bool = False

    def accepts(self, word: str) -> bool:
        return word in self.exact or (bool(self.prefixes) and word.startswith(self.prefixes))


@dataclass(frozen=True, slots=True)
class Phrase:
    text: str
    elements: tuple[Element, ...]
    targets: tuple[Target, ...]
    exact_words: int  # how many elements are exact words (ties prefer the more specific phrase)
    types: frozenset[str]  # the target types, for quick tests
    matched: int  # non-gap elements
    gaps: int  # "..." elements: an adjacent phrase beats a gapped one of the same words


def parse_phrase(text: str) -> tuple[Element, ...]:
    """``"book*|set ... demo"`` -> elements; raises ValueError on an empty phrase or a bad gap."""
    elements: list[Element] = []
    for word in phrase_words(text):
        if word == "...":
            if not elements or elements[-1].gap:
                raise ValueError(f"cue phrase {text!r}: '...' must stand between words")
            elements.append(Element(gap=True))
            continue
        exact: set[str] = set()
        prefixes: list[str] = []
        for alt in word.split("|"):
            if not alt:
                continue
            if alt.endswith("*"):
                if len(alt) > 1:
                    prefixes.append(alt[:-1])
            else:
                exact.add(alt)
        if not exact and not prefixes:
            raise ValueError(f"cue phrase {text!r}: empty word")
        elements.append(Element(exact=frozenset(exact), prefixes=tuple(prefixes)))
    if not elements or elements[-1].gap:
        raise ValueError(f"cue phrase {text!r} is empty or ends with '...'")
    return tuple(elements)


@dataclass(slots=True)
class KindLexicon:
    """Every cue of one request kind, indexed by the words a phrase can start with."""

    kind: KindTaxonomy
    phrases: list[Phrase] = field(default_factory=list)
    by_word: dict[str, list[int]] = field(default_factory=dict)
    by_prefix: dict[str, list[int]] = field(default_factory=dict)
    prefix_lengths: tuple[int, ...] = ()
    vocabulary: frozenset[str] = frozenset()  # exact words used by any phrase
    prefixes: tuple[str, ...] = ()
    fallback: frozenset[str] = frozenset()  # reason codes that yield to any other reason
    reason_outcome: dict[str, str] = field(default_factory=dict)
    outcome_words: frozenset[str] = frozenset()  # single-word outcome cues (typo targets)
    cue_words: frozenset[str] = frozenset()  # single-word reason cues
    typo_targets: tuple[str, ...] = ()  # words a misspelling may be repaired to
    typo_cache: dict[str, str | None] = field(default_factory=dict)
    umlaut_cache: dict[str, str | None] = field(default_factory=dict)
    _lookups: dict[str, tuple[int, ...]] = field(default_factory=dict)
    _known: dict[str, bool] = field(default_factory=dict)
    _buckets: dict[str, tuple[tuple[int, ...], dict[str, tuple[int, ...]]]] = field(default_factory=dict)

    def lookup(self, word: str) -> tuple[int, ...]:
        """Phrases that may start with ``word`` (cached: replies reuse a small vocabulary)."""
        found = self._lookups.get(word)
        if found is None:
            ids = list(self.by_word.get(word, ()))
            for n in self.prefix_lengths:
                if len(word) >= n:
                    ids.extend(self.by_prefix.get(word[:n], ()))
            found = tuple(ids)
            if len(self._lookups) < _WORD_CACHE:
                self._lookups[word] = found
        return found

    def candidates(self, word: str) -> tuple[tuple[int, ...], dict[str, tuple[int, ...]]]:
        """Phrases starting with ``word``, split for a quick look at the next word: (one-word
        phrases and those whose second place is a gap or a prefix, the others by second word)."""
        found = self._buckets.get(word)
        if found is None:
            loose: list[int] = []
            by_second: dict[str, list[int]] = {}
            for idx in self.lookup(word):
                els = self.phrases[idx].elements
                if len(els) == 1 or els[1].gap or els[1].prefixes:
                    loose.append(idx)
                else:
                    for w in els[1].exact:
                        by_second.setdefault(w, []).append(idx)
            found = (tuple(loose), {w: tuple(v) for w, v in by_second.items()})
            if len(self._buckets) < _WORD_CACHE:
                self._buckets[word] = found
        return found

    def is_known(self, word: str) -> bool:
        """Whether any phrase uses ``word`` (exactly or through a prefix)."""
        known = self._known.get(word)
        if known is None:
            known = word in self.vocabulary or word.startswith(self.prefixes)
            if len(self._known) < _WORD_CACHE:
                self._known[word] = known
        return known


def build_lexicon(
    kind: KindTaxonomy,
    extra: Iterable[tuple[str, Target]] = (),
    remap: Iterable[tuple[str, Target]] = (),
) -> KindLexicon:
    """Compile the kind's outcome/reason phrases and labels, the language markers and ``extra`` cues.

    ``remap`` gives shipped cue phrases a new meaning (learned from corrections that contradict
    them): the phrase's outcome/reason targets are replaced, its marker targets kept.
    """
    merged: dict[str, list[Target]] = {}

    def add(text: str, target: Target) -> None:
        key = " ".join(phrase_words(text))
        if key and target not in merged.setdefault(key, []):
            merged[key].append(target)

    for outcome in kind.outcomes:
        add(outcome.code.replace("_", " "), Target("outcome", outcome.code, 2.0))
        add(outcome.label, Target("outcome", outcome.code, 2.0))
        for phrases in outcome.phrases.values():
            for p in phrases:
                add(p, Target("outcome", outcome.code, 2.0))
        for phrases in outcome.hints.values():
            for p in phrases:
                add(p, Target("hint", outcome.code, 1.0))
        for reason in outcome.reasons:
            add(reason.code.replace("_", " "), Target("reason", reason.code))
            for part in reason.label.split("/"):
                add(part, Target("reason", reason.code))
            for phrases in reason.phrases.values():
                for p in phrases:
                    weak = p.startswith("~")  # a weak cue: only when nothing else of its outcome is said
                    add(p.lstrip("~"), Target("reason", reason.code, 0.5 if weak else 1.0))
    for kind_name, texts in (
        ("post_negator", markers.POST_NEGATORS),
        ("correction", markers.CORRECTIONS),
        ("global_hedge", markers.GLOBAL_HEDGES),
        ("local_hedge", markers.LOCAL_HEDGES),
        ("promoter", markers.PROMOTERS),
        ("neutral", markers.NEUTRAL),
        ("pre_negator", markers.PRE_NEGATORS),
        ("post_praise", markers.POST_PRAISE),
        ("workaround", markers.WORKAROUNDS),
        ("post_criticism", markers.POST_CRITICISM),
        ("pre_criticism", markers.PRE_CRITICISM),
    ):
        for text in texts:
            add(text, Target(kind_name))  # type: ignore[arg-type]
    for text, target in extra:
        add(text, target)
    for text, target in remap:
        key = " ".join(phrase_words(text))
        kept = [t for t in merged.get(key, []) if t.type not in ("outcome", "hint", "reason")]
        merged[key] = [*kept, target]

    lex = KindLexicon(kind=kind)
    vocab: set[str] = set()
    prefixes: set[str] = set()
    for text, targets in merged.items():
        elements = parse_phrase(text)
        idx = len(lex.phrases)
        exact_words = sum(1 for e in elements if e.exact and not e.prefixes)
        lex.phrases.append(
            Phrase(
                text,
                elements,
                tuple(targets),
                exact_words,
                frozenset(t.type for t in targets),
                sum(1 for e in elements if not e.gap),
                sum(1 for e in elements if e.gap),
            )
        )
        first = elements[0]
        for w in first.exact:
            lex.by_word.setdefault(w, []).append(idx)
        for p in first.prefixes:
            lex.by_prefix.setdefault(p, []).append(idx)
        for e in elements:
            vocab.update(e.exact)
            prefixes.update(e.prefixes)
    lex.prefix_lengths = tuple(sorted({len(p) for p in lex.by_prefix}))
    lex.vocabulary = frozenset(vocab)
    lex.prefixes = tuple(sorted(prefixes))
    lex.fallback = frozenset(r.code for o in kind.outcomes for r in o.reasons if r.fallback)
    lex.reason_outcome = dict(kind.reason_outcome)
    single = [(p.elements[0], p.targets) for p in lex.phrases if len(p.elements) == 1]
    lex.outcome_words = frozenset(
        w for e, ts in single for w in e.exact if any(t.type == "outcome" for t in ts) and w.isalpha()
    )
    lex.cue_words = frozenset(
        w for e, ts in single for w in e.exact if any(t.type == "reason" for t in ts) and len(w) >= 5
    )
    cue_vocab = {
        w
        for p in lex.phrases
        if not p.types.isdisjoint({"outcome", "hint", "reason"})
        for e in p.elements
        for w in e.exact
    }
    # typos are repaired only towards words of outcome and reason cues, never of markers
    lex.typo_targets = tuple(sorted(w for w in cue_vocab if len(w) >= 5 and w.isalpha()))
    return lex


_CACHE: dict[tuple[str, str], KindLexicon] = {}


def lexicon_for(taxonomy: Taxonomy, kind: str) -> KindLexicon:
    """The compiled lexicon of ``kind``, cached by the taxonomy's content fingerprint."""
    key = (taxonomy.fingerprint, kind)
    lex = _CACHE.get(key)
    if lex is None:
        if len(_CACHE) > 64:  # many taxonomy versions in one process: keep memory bounded
            _CACHE.clear()
        lex = _CACHE[key] = build_lexicon(taxonomy.kind(kind))
    return lex
