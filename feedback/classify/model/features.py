"""The model's features of a reply: one pure-Python function, used to fit and to score.

A reply becomes three groups of feature names: words and word pairs (``w|``, ``b|``), character
n-grams of 3 to 5 inside each word (``c|``, with ``<`` and ``>`` marking its ends), and what the
rules said (``r|``: their outcome, reasons, primary reason, review flag and notes). The word and
character groups are each scaled to unit length (every feature present counts once), the rules'
features count 1 each, so a long reply's words do not drown what the rules read. Training builds
its matrix from exactly this function, so the run-time scorer sees the same numbers.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from feedback.classify.classification import ClassificationResult
from feedback.classify.normalise import fold

MAX_WORDS = 400  # a reply is a few sentences; bound the work on anything longer
RULE_WEIGHT = 1.0  # the value of each rules feature (words and n-grams have unit length per group)
_WORDS = re.compile(r"\w+")
_NOTE_FLAGS = (
    ("more than one outcome", "conflict"),
    ("another outcome", "contradicts"),
    ("fits several outcomes", "ambiguous"),
    ("undecided", "undecided"),
    ("hedged", "hedged"),
    ("self-correction", "corrected"),
    ("option number", "number"),
    ("disagree with the words", "number_disagrees"),
    ("same words as a reviewed reply", "recalled"),
)


@dataclass(frozen=True, slots=True)
class Features:
    """Feature names with their values, grouped as the model weighs them."""

    names: tuple[str, ...]
    values: tuple[float, ...]


def rule_features(rules: ClassificationResult | None) -> list[str]:
    """What the rules read, as feature names (empty when the rules were not run)."""
    if rules is None:
        return []
    out = [f"r|o={rules.outcome or '-'}"]
    out.extend(f"r|r={r}" for r in rules.reasons)
    out.append(f"r|p={rules.reasons[0] if rules.reasons else '-'}")
    if rules.needs_review:
        out.append("r|review")
    notes = " ".join(rules.explanation)
    out.extend(f"r|{flag}" for needle, flag in _NOTE_FLAGS if needle in notes)
    return out


def words_of(text: str) -> list[str]:
    """The folded words the model reads (the first ``MAX_WORDS``)."""
    return _WORDS.findall(fold(text[:20_000]))[:MAX_WORDS]


def char_grams(word: str) -> list[str]:
    """The character 3-, 4- and 5-grams of ``word`` with its ends marked (``<ab``, ``ab>``)."""
    padded = f"<{word}>"
    n = len(padded)
    return ["c|" + padded[i : i + size] for size in (3, 4, 5) for i in range(n - size + 1)]


def word_features(words: list[str], text: str) -> set[str]:
    """Words, word pairs (with sentence-edge marks) and a question mark, each once."""
    feats = {"w|" + w for w in words}
    prev = "<s>"
    for w in words:
        feats.add(f"b|{prev} {w}")
        prev = w
    feats.add(f"b|{prev} </s>")
    if "?" in text:
        feats.add("p|?")
    return feats


def length_feature(words: list[str]) -> str:
    n = len(words)
    return "n|" + ("1-3" if n <= 3 else "4-8" if n <= 8 else "9+")


def featurise(text: str, rules: ClassificationResult | None) -> Features:
    """The features of ``text`` (the reply only) given the rules' reading of it.

    Word features count once each, scaled to unit length; character n-grams count every time
    they occur, divided by the square root of their total number (so the scorer can add up a
    cached sum per word); rules' features count ``RULE_WEIGHT``, the length bucket 1."""
    words = words_of(text)
    values: dict[str, float] = {}
    wf = word_features(words, text)
    for name in wf:
        values[name] = 1.0 / math.sqrt(len(wf))
    grams = [g for w in words for g in char_grams(w)]
    if grams:
        each = 1.0 / math.sqrt(len(grams))
        for g in grams:
            values[g] = values.get(g, 0.0) + each
    for name in rule_features(rules):
        values[name] = RULE_WEIGHT
    values[length_feature(words)] = 1.0
    return Features(tuple(values), tuple(values.values()))
