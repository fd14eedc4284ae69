"""Corrections made in review, as labelled examples the classifier uses on later replies.

Kept as an explicit input (the worker loads it, ``feedback parse --learned`` may), so the classifier
stays pure and benchmarks run without it. Three things are learned, per kind:

- words the default lexicon does not know, from corrected replies it got wrong ("zorbed" ->
  rejected/not_a_fit): they become cue words of the corrected primary reason (or outcome) and go
  through the same negation and clause handling as the shipped phrases. A word is learned from one
  correction of a short reply, or from two of longer ones; a word learned for two different labels
  is dropped; names are never learned. A capitalised word is a name when it is capitalised
  mid-sentence in some correction of the kind, or is a word of a reviewed competitor name; a
  person's first name (``people.first_names``) is one in any case: at a sentence start capitals
  say nothing ("Freeloader." teaches like "freeloader.").
- shipped cue phrases a correction contradicts ("tire kicker" read as early research, corrected to
  not a buyer): a plain phrase (no gap, no alternatives) that produced the wrong primary reason
  takes the corrected label, under the same support rule as words (one short correction or two
  longer ones; a phrase corrected to two labels keeps its shipped meaning). Outcome words ("won")
  are never remapped: a reply contradicting its own outcome word is a person's mistake, not slang.
- whole replies: the same words (folded) later get the corrected labels directly;
- unlisted competitor names a reviewer typed become names to look for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from feedback.classify.classification import ClassificationResult
from feedback.classify.normalise import WORD, fold, tokenize
from feedback.core.competitor_list import Competitor

if TYPE_CHECKING:
    from feedback.classify.cue_lexicon import KindLexicon
    from feedback.core.taxonomy import Taxonomy

_STOP_TEXT = """
    der die das und ist nicht ein eine einen mit von zu den dem auch noch aber wir sie er es le la
    les et est un une de des du pour avec pas que qui il elle nous ils on el los las y es una que en
    por con del se lo al para como mas ya hi hello thanks regards ok team lead deal one
"""
_STOP = frozenset(_STOP_TEXT.split())
_CAPITALISED = re.compile(r"\b[A-ZÄÖÜÀ-Ý][\w'-]*")
# what may stand between a sentence end and its first word: spaces, opening quotes and brackets,
# bullets ("- Freeloader", "(Freeloader)")
_OPENERS = " \t\r\"'“‘«¿¡([{*•-"
_SENTENCE_ENDS = ".!?…\n"

Row = tuple[str, str, str | None, Sequence[str], str | None]
# A word is learned from one correction of a short reply ("zorbed - total mismatch"), or from two
# corrections of longer ones: a long reply has many unknown words that are not the reason.
SHORT_REPLY_WORDS = 8


@dataclass(frozen=True, slots=True)
class LearnedExample:
    kind: str
    text: str
    outcome: str | None
    reasons: tuple[str, ...]
    competitor: str | None = None


@dataclass(frozen=True, slots=True)
class LearnedExamples:
    """Immutable bag of corrections; build once per worker start / CLI call."""

    examples: tuple[LearnedExample, ...] = field(default_factory=tuple)
    # compiled lexicons and recall tables, filled on first use (not part of equality)
    _cache: dict[Any, Any] = field(default_factory=dict, compare=False, hash=False, repr=False)

    @classmethod
    def from_rows(cls, rows: Iterable[Row]) -> LearnedExamples:
        """From ``(kind, text, outcome, reasons, competitor)`` rows, oldest first (later ones win)."""
        return cls(
            tuple(
                LearnedExample(kind, text, outcome, tuple(reasons), competitor)
                for kind, text, outcome, reasons, competitor in rows
                if text and text.strip()
            )
        )

    def for_kind(self, kind: str) -> tuple[LearnedExample, ...]:
        return tuple(e for e in self.examples if e.kind == kind)

    def recall(self, text: str, *, kind: str) -> ClassificationResult | None:
        """The corrected labels of a reply with the same words, if one was reviewed."""
        table = self._cache.get(("recall", kind))
        if table is None:
            table = {_key(e.text): e for e in self.for_kind(kind)}
            self._cache[("recall", kind)] = table
        ex = table.get(_key(text))
        if ex is None:
            return None
        return ClassificationResult(
            outcome=ex.outcome,
            reasons=ex.reasons,
            competitor=ex.competitor,
            confidence=0.9,
            needs_review=False,
            explanation=("same words as a reviewed reply; its corrected labels",),
        )

    def lexicon(self, taxonomy: Taxonomy, kind: str, base: KindLexicon) -> KindLexicon:
        """``base`` extended with words learned from corrected replies of ``kind``."""
        key = ("lexicon", taxonomy.fingerprint, kind)
        lex: KindLexicon | None = self._cache.get(key)
        if lex is None:
            lex = self._build(taxonomy, kind, base)
            self._cache[key] = lex
        return lex

    def competitors(self, kind: str, configured: tuple[Competitor, ...]) -> tuple[Competitor, ...]:
        """Competitor names reviewers entered that the configuration does not list."""
        known = {c.name.casefold() for c in configured}
        names = dict.fromkeys(
            e.competitor for e in self.examples if e.competitor and e.competitor.casefold() not in known
        )
        return tuple(Competitor(name=n) for n in names if n)

    def _build(self, taxonomy: Taxonomy, kind: str, base: KindLexicon) -> KindLexicon:
        from feedback.classify.classifier import classify
        from feedback.classify.cue_lexicon import Target, build_lexicon
        from feedback.classify.people import first_names
        from feedback.classify.typos import COMMON_WORDS

        names = _names(self.for_kind(kind))
        labels: dict[str, Target | None] = {}
        support: dict[str, int] = {}  # corrections a word was learned from (short ones count double)
        remaps: dict[str, Target | None] = {}
        remap_support: dict[str, int] = {}
        for ex in self.for_kind(kind):
            got = classify(ex.text, kind=kind, taxonomy=taxonomy)
            if got.outcome == ex.outcome and got.reasons[:1] == ex.reasons[:1]:
                continue  # the shipped lexicon already reads it right: nothing to learn
            if ex.reasons:
                target = Target("reason", ex.reasons[0])
            elif ex.outcome:
                target = Target("outcome", ex.outcome, 2.0)
            else:
                continue
            wrong = got.reasons[0] if got.reasons and got.reasons[0] not in ex.reasons else None
            if wrong is not None:
                weight = 2 if len(tokenize(fold(ex.text)).words) <= SHORT_REPLY_WORDS else 1
                for phrase in _cues_of(ex.text, wrong, base):
                    if phrase in remaps and remaps[phrase] != target:
                        remaps[phrase] = None
                    else:
                        remaps[phrase] = target
                    remap_support[phrase] = remap_support.get(phrase, 0) + weight
            toks = tokenize(fold(ex.text))
            novel = {
                word
                for word, k in zip(toks.words, toks.kinds, strict=True)
                if k == WORD
                and len(word) >= 2
                and not word.isdigit()
                and word not in COMMON_WORDS
                and word not in _STOP
                and word not in names
                and not base.is_known(word)
                and word not in first_names()  # "Sarah. Not a fit" teaches no "sarah"
            }
            short = sum(1 for k in toks.kinds if k == WORD) <= SHORT_REPLY_WORDS
            for word in novel:
                if word in labels and labels[word] != target:
                    labels[word] = None  # learned for two labels: not a reliable cue
                else:
                    labels[word] = target
                support[word] = support.get(word, 0) + (2 if short else 1)
        extra = [(w, t) for w, t in labels.items() if t is not None and support[w] >= 2]
        remap = [(p, t) for p, t in remaps.items() if t is not None and remap_support[p] >= 2]
        return build_lexicon(base.kind, extra, remap) if extra or remap else base


def _cues_of(text: str, reason: str, lex: KindLexicon) -> list[str]:
    """The plain shipped phrases in ``text`` that said ``reason`` (not negated)."""
    from feedback.classify.matching import find_hits

    hits = find_hits(tokenize(fold(text)), lex).hits
    return [
        h.phrase
        for h in hits
        if not h.negated
        and reason in h.codes
        and not any(c in h.phrase for c in ".|*")
        and not any(t.type == "outcome" for t in h.targets)
    ]


def _names(examples: Iterable[LearnedExample]) -> frozenset[str]:
    """Folded words that are names in these corrections: capitalised where no sentence starts, or
    part of a competitor name a reviewer entered. Sentence-initial capitals are no evidence."""
    names: set[str] = set()
    for ex in examples:
        if ex.competitor:
            names.update(fold(ex.competitor).replace("'", " ").split())
        for m in _CAPITALISED.finditer(ex.text):
            if not _starts_sentence(ex.text, m.start()):
                names.update(fold(m.group()).replace("'", " ").replace("-", " ").split())
    return frozenset(names)


def _starts_sentence(text: str, at: int) -> bool:
    before = text[:at].rstrip(_OPENERS)
    return not before or before[-1] in _SENTENCE_ENDS


def _key(text: str) -> str:
    return " ".join(fold(text).split())
