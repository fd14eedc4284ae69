"""A cheap guess of the reply language: Content-Language, else stop-word counts."""

from __future__ import annotations

import re
from collections import Counter

_STOPWORDS: dict[str, frozenset[str]] = {
    "en": frozenset(
        [
            "the",
            "and",
            "is",
            "it",
            "to",
            "of",
            "we",
            "they",
            "was",
            "not",
            "but",
            "for",
            "with",
            "this",
            "that",
            "on",
            "in",
            "have",
        ]
    ),
    "de": frozenset(
        [
            "der",
            "die",
            "das",
            "und",
            "ist",
            "nicht",
            "ein",
            "eine",
            "wir",
            "sie",
            "für",
            "mit",
            "den",
            "dem",
            "zu",
            "auf",
            "kein",
            "keine",
        ]
    ),
    "fr": frozenset(
        [
            "le",
            "la",
            "les",
            "et",
            "est",
            "pas",
            "un",
            "une",
            "nous",
            "ils",
            "pour",
            "avec",
            "ce",
            "qui",
            "que",
            "du",
            "des",
            "au",
            "je",
        ]
    ),
    "es": frozenset(
        [
            "el",
            "la",
            "los",
            "las",
            "y",
            "es",
            "no",
            "un",
            "una",
            "nosotros",
            "para",
            "con",
            "que",
            "del",
            "por",
            "lo",
            "se",
            "ya",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "lo",
            "gli",
            "e",
            "è",
            "non",
            "un",
            "una",
            "noi",
            "per",
            "con",
            "che",
            "del",
            "della",
            "sono",
            "ma",
        ]
    ),
    "nl": frozenset(
        [
            "de",
            "het",
            "een",
            "en",
            "is",
            "niet",
            "wij",
            "ze",
            "voor",
            "met",
            "dat",
            "van",
            "op",
            "zijn",
            "maar",
        ]
    ),
    "pt": frozenset(
        ["o", "os", "as", "e", "é", "não", "um", "uma", "nós", "para", "com", "que", "do", "da", "em", "mas"]
    ),
}
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)


def _languages_by_word() -> dict[str, tuple[str, ...]]:
    """Each stop word's languages: one lookup per word of a reply instead of one per language."""
    out: dict[str, tuple[str, ...]] = {}
    for lang, words in _STOPWORDS.items():
        for word in words:
            out[word] = (*out.get(word, ()), lang)
    return out


_LANGS_OF = _languages_by_word()


def guess_language(text: str, content_language: str = "") -> str | None:
    """Two-letter language code, or None when the text gives no signal."""
    counts = dict.fromkeys(_STOPWORDS, 0)
    langs_of = _LANGS_OF.get
    for word, times in Counter(_WORDS.findall(text[:4000].lower())).items():
        langs = langs_of(word)
        if langs is not None:
            for lang in langs:
                counts[lang] += times
    best = max(counts, key=lambda k: counts[k])
    if counts[best] >= 2:
        return best
    tag = content_language.split(",")[0].strip().lower()[:2]
    if tag.isalpha() and len(tag) == 2:
        return tag
    return best if counts[best] else None
