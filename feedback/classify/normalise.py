"""Text folding and tokenising shared by the lexicon and the matcher.

Phrases and replies go through the same folding (case, accents, contractions, hyphens), so a cue
written once as "rejeté" or "don't need" matches "REJETE" or "dont need" without extra entries.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

WORD, CLAUSE, SENTENCE = 0, 1, 2
# Contrast words end a clause ("Price wasn't great but mainly the missing SSO").
CONTRASTS = frozenset(
    {"but", "however", "though", "although", "aber", "jedoch", "mais", "cependant", "pero", "sino"}
)

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
# "n't" becomes a separate "not" so negation sees it; the irregular ones first.
_APOSTROPHE_NOT = re.compile(r"\b(?:(won)|(can))'t\b|n't\b")
_BARE_NOT = re.compile(r"\b(?:(do|does|did|is|are|was|were|have|has|had|could|would|should|ai)nt|(can)not)\b")


def _not(m: re.Match[str]) -> str:
    if m.group(1):
        return "will not"
    return f"{m.group(2)} not" if m.group(2) else " not"


def _bare_not(m: re.Match[str]) -> str:
    return f"{m.group(1) or m.group(2)} not"


# A period followed by a lower-case word is an abbreviation or a lazy sentence end: a soft break.
_SOFT_PERIOD = re.compile(r"\.(?=[ \t]+[a-z(])")
_MONEY_SIGNS = re.compile(r"[$€£]{2,}")
# ... but after "no", "zero", "kein", "sin" it is money itself: "no $$" = "no money".
_NO_MONEY = re.compile(r"(?i)\b(no|zero|without|little|not enough|kein|keine|sin|sans|pas de)\s*[$€£]{2,}")
# Shorthand written with a slash, read before the slash becomes a break: "went w/ Contoso",
# "w/o", "b/c".
_SLASH_SHORTHAND = re.compile(r"(?<![\w/])(w/o(?![\w/])|b/c(?![\w/])|w/(?=\s|\w\w))")
_SLASH_WORDS = {"w/o": "without ", "b/c": "because ", "w/": "with "}
# Single-word shorthand reps type, read as the word it stands for (after folding).
ABBREVIATIONS = {
    "tmrw": "tomorrow", "tmr": "tomorrow", "tmrow": "tomorrow", "tmw": "tomorrow", "2moro": "tomorrow",
    "2morrow": "tomorrow", "tomo": "tomorrow", "wk": "week", "wks": "weeks", "nxt": "next",
    "appt": "appointment", "appts": "appointments", "mtgs": "meetings", "dept": "department",
    "depts": "departments", "mgr": "manager", "mgmt": "management", "yr": "year", "yrs": "years",
    "qtr": "quarter", "qtrs": "quarters", "thru": "through", "abt": "about", "ppl": "people",
    "cust": "customer", "custs": "customers", "convo": "conversation", "convos": "conversations",
    "prolly": "probably", "msg": "message", "govt": "government", "cuz": "because", "coz": "because",
}  # fmt: skip
_INWORD = re.compile(r"(?<=\w)[-/'](?=\w)")
# ":" is not a break: "Competitor: none", "Reason: price" read as one clause.
_TOKEN = re.compile(r"\w+|\n\s*\n|\n|[.!?;,/()\[\]\-+&\"]")
_COMBINING = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_SENTENCE_MARKS = frozenset({".", "!", "?", "\n", "/"})


@lru_cache(maxsize=16)
def fold(text: str) -> str:
    """Lower-case, accent-free, contraction-expanded text (same length rules for cues and replies).

    Pure, and remembered for the last few texts: the rules and then the model read each reply."""
    text = text.translate(_QUOTES)
    if ". " in text or ".\t" in text:
        text = _SOFT_PERIOD.sub(",", text)
    if "$$" in text or "€€" in text or "££" in text:  # "$$$" is shorthand for expensive
        text = _MONEY_SIGNS.sub(" pricey ", _NO_MONEY.sub(r"\1 money ", text))
    if not text.isascii():
        text = _COMBINING.sub("", unicodedata.normalize("NFKD", text))
    text = text.casefold()
    if "/" in text:
        text = _SLASH_SHORTHAND.sub(lambda m: _SLASH_WORDS[m.group(1)], text)
    if "'" in text:
        text = _APOSTROPHE_NOT.sub(_not, text)
    if "nt" in text or "cannot" in text:
        text = _BARE_NOT.sub(_bare_not, text)
    if "-" in text or "/" in text or "'" in text:
        text = _INWORD.sub(" ", text)
    return text


@dataclass(frozen=True, slots=True)
class Tokens:
    """A reply as words and breaks: ``kinds[i]`` is WORD, CLAUSE or SENTENCE."""

    words: tuple[str, ...]
    kinds: tuple[int, ...]
    sentence: tuple[int, ...]  # sentence number of each token
    clause: tuple[int, ...]  # clause number of each token


def tokenize(folded: str) -> Tokens:
    """Split folded text into words and clause/sentence break marks."""
    words: list[str] = []
    kinds: list[int] = []
    sentence: list[int] = []
    clause: list[int] = []
    s = c = 0
    abbreviation = ABBREVIATIONS.get
    for tok in _TOKEN.findall(folded):
        first = tok[0]
        if first.isalnum() or first == "_":
            if tok not in CONTRASTS:  # most tokens: a plain word, nothing to collapse
                words.append(abbreviation(tok, tok))
                kinds.append(WORD)
                sentence.append(s)
                clause.append(c)
                continue
            kind = CLAUSE
        elif first == "\n":
            tok = "\n"
            kind = SENTENCE
        else:
            kind = SENTENCE if tok in _SENTENCE_MARKS else CLAUSE
        if kinds and kinds[-1] != WORD:  # collapse runs of breaks, keep the strongest
            if kind > kinds[-1]:
                kinds[-1] = kind
                words[-1] = tok
            continue
        c += 1
        if kind == SENTENCE:
            s += 1
        words.append(tok)
        kinds.append(kind)
        sentence.append(s)
        clause.append(c)
    return Tokens(tuple(words), tuple(kinds), tuple(sentence), tuple(clause))


def phrase_words(phrase: str) -> list[str]:
    """A cue phrase as folded words (its ``*``, ``|`` and ``...`` syntax kept intact)."""
    folded = fold(phrase.replace("...", " \x00 "))
    out: list[str] = []
    for part in folded.split():
        if part == "\x00":
            out.append("...")
            continue
        # split on non-word characters but keep the phrase operators
        for tok in re.findall(r"[\w*|]+", part):
            out.append(tok)
    return out
