"""Which competitor a reply names: configured names and aliases, their typos, and unlisted names.

Configured names match on whole words, any case; a word one or two edits from a configured name
("contso", "Contosso" after "lost to") is that competitor when it is not a common or cue word. An
unlisted competitor is recognised from how reps say it ("went with X", "lost to X", "chose X", "a
choisi X", "eligieron X", "X won") and reported as written, unless the words around it make it a
person, a colleague (``people``). A competitor tied to such a phrase beats one merely mentioned.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Literal, NamedTuple

from rapidfuzz.distance import DamerauLevenshtein

from feedback.classify.cue_lexicon import KindLexicon
from feedback.classify.normalise import fold
from feedback.classify.people import is_person
from feedback.classify.typos import COMMON_WORDS
from feedback.core.competitor_list import Competitor

_TRIGGER = re.compile(
    r"(?i:\b(?:went|gone|going|go|gehen|sind)\s+(?:with|w/)|\b(?:chose|choose|chosen|picked|selected|preferred)"
    r"|\b(?:went|opted|decided|settled|moved|switching|switched|awarded|gave\s+it)\s+(?:for|on|to)"
    r"|\bbeaten\s+by|\bsigned\s+with|\blost\s+(?:out\s+|it\s+|the\s+deal\s+)?to|\bswitched\s+to|\bging\s+an"
    r"|\bbeat|\bbeating|\b(?:won\s+)?against|\bvs\.?|\bversus|\bus\s+over"
    r"|\bentschieden\s+sich\s+f(?:ü|ue|u)r|\bsich\s+f(?:ü|ue|u)r|\bverloren\s+(?:an|gegen)"
    r"|\ba\s+choisi|\bont\s+choisi|\bpartis\s+chez|\bface\s+(?:à|a)|\bau\s+profit\s+de"
    r"|\b(?:ont|a)\s+(?:préféré|prefere|retenu|opté\s+pour|opte\s+pour)"
    r"|\beligieron|\beligi[oó]|\boptaron\s+por|\bprefirieron|\bescogieron|\bse\s+decidieron\s+por"
    r"|\bsign[ée]\s+(?:avec|chez)|\bfirm(?:aron|[oó])\s+con"
    r"|\bse\s+fueron\s+con|\bse\s+quedaron\s+con|\b(?:perdimos|perdido|perdida)\s+(?:contra|con|frente\s+a|ante)"
    r"|\bnos\s+gan(?:[oó]|aron)|\bapostaron\s+por|\bse\s+(?:decantaron|inclinaron)\s+por|\bse\s+pasaron\s+a"
    r"|\bsont\s+partis\s+(?:chez|sur|avec)|\bpass[ée]s?\s+chez)\s+"
)
_TRIGGER_WORDS_TEXT = """
    went gone going go gehen sind chose choose chosen picked selected preferred signed lost switched
    ging entschieden sich choisi partis eligieron eligio se perdimos beat beating against vs versus us
    opted decided settled moved switching awarded gave beaten verloren face profit prefere retenu opte
    optaron prefirieron escogieron decidieron perdido perdida signe signé firmaron firmo firmó
    nos apostaron decantaron inclinaron pasaron sont passe passé passes passés
"""
_TRIGGER_WORDS = frozenset(_TRIGGER_WORDS_TEXT.split())
# The words a choice phrase starts with (lower case, as written): ``_TRIGGER`` is tried only where
# one stands, instead of scanning its alternation at every position of a long reply (~8x slower).
_TRIGGER_STARTS_TEXT = """
    went gone going go gehen sind chose choose chosen picked selected preferred opted decided settled
    moved switching switched awarded gave beaten signed lost ging beat beating won against vs versus us
    entschieden sich verloren a ont partis face au eligieron eligio eligió optaron prefirieron
    escogieron se signe signé firmaron firmo firmó perdimos perdido perdida nos apostaron sont passe
    passé passes passés
"""
_TRIGGER_STARTS = frozenset(_TRIGGER_STARTS_TEXT.split())
_WORD_RUN = re.compile(r"\w+")
# choice phrases that name the rival we beat or stood against, not the one the buyer chose
_FOR_US = frozenset({"beat", "beating", "won", "against", "vs", "vs.", "versus", "us", "face"})
_WON_WORDS = frozenset(
    {"won", "deal", "took", "got", "zuschlag", "auftrag", "gewonnen", "emporte", "remporte"}
)
_WON = re.compile(
    r"\b([A-Z][\w&'-]*(?:\s+[A-Z][\w&'-]*){0,2})\s+"
    r"(?:won|got\s+(?:it|the\s+(?:deal|nod|business|contract))|won\s+the\s+deal|took\s+(?:it|the\s+deal)"
    r"|(?i:(?:hat|haben)\s+(?:den\s+)?(?:zuschlag|auftrag)\s+(?:bekommen|erhalten)|hat\s+gewonnen"
    r"|l'emporte|a\s+(?:remporté|remporte|gagné|gagne)))\b"
)
_NAME = re.compile(r"[A-Z][\w&'.-]*(?:[ \t]+(?:[A-Z0-9][\w&'.-]*|&))*")
_US = re.compile(r"(?i)(?:us|we|our|ourselves|uns|nous|nosotros)\b")
_NEGATED_BEFORE = re.compile(r"\b(?:not|no|nicht|pas|rather than|instead of)\s+(?:to\s+|with\s+|by\s+)?$")
# Where a name may stand later in the sentence: after a dash or colon ("- Lucerne Insights"), or
# after a comma or parenthesis that follows a generic noun ("their incumbent vendor, Qlik").
_APPOSITION = re.compile(
    r"\s[-–—:]\s*|(?i:vendor|provider|competitor|tool|platform|solution|player|company|supplier|incumbent"
    r"|startup|alternative|one|anbieter|wettbewerber|concurrent|fournisseur|proveedor|competidor)s?\s*[,(]\s*"
)
_SPAN = 160  # how far after a choice phrase a name is looked for
_SENTENCE_END = re.compile(r"[.!?\n;]")
_NOT_NAMES_TEXT = """
    i we they our us the a an it he she their this that them you your my his her its one someone
    monday tuesday wednesday thursday friday saturday sunday january february march april may june
    july august september october november december q1 q2 q3 q4 ceo cfo cto cio coo vp it ops der
    die das wir sie ils nous elle ellos nosotros
    everyone everybody nobody team sales customer client prospect buyer account
"""
_NOT_NAMES = frozenset(_NOT_NAMES_TEXT.split())
# A capitalised word before one of these is a product tier or a step, not a company ("the
# Enterprise plan", "Stage 2").
_NOT_COMPANY_TEXT = """
    plan plans tier tiers option options stage edition package packages version license licence bundle
    route approach proposal quote offer contract module addon sku level phase step
"""
_NOT_COMPANY = frozenset(_NOT_COMPANY_TEXT.split())


@dataclass(frozen=True, slots=True)
class CompetitorMatcher:
    """The configured competitors, compiled once per competitor list."""

    pattern: re.Pattern[str] | None  # whole-word aliases on folded text
    canonical: dict[str, str]  # folded alias -> configured name
    fuzzy: tuple[tuple[str, str], ...]  # (folded alias word, configured name) typo targets
    typo_cache: dict[str, str | None] = field(default_factory=dict, compare=False, hash=False)


@lru_cache(maxsize=64)
def matcher_for(competitors: tuple[Competitor, ...]) -> CompetitorMatcher:
    canonical: dict[str, str] = {}
    fuzzy: list[tuple[str, str]] = []
    for comp in competitors:
        for alias in (comp.name, *comp.aliases):
            key = " ".join(fold(alias).split())
            if key:
                canonical.setdefault(key, comp.name)
                first = key.split()[0]
                if len(first) >= 5 and first.isalpha():
                    fuzzy.append((first, comp.name))
    if not canonical:
        return CompetitorMatcher(None, {}, ())
    alts = sorted(canonical, key=len, reverse=True)
    pattern = re.compile(
        r"(?<!\w)(" + "|".join(re.escape(a).replace(r"\ ", r"\s+") for a in alts) + r")(?!\w)"
    )
    return CompetitorMatcher(pattern, canonical, tuple(fuzzy))


class Found(NamedTuple):
    """The competitor a reply names, how it was found (for the explanation), and whom a choice
    phrase favoured: "rival" ("went with X", "X won"), "us" ("beat X", "picked us over X"), or
    None when the name merely stands in the reply."""

    name: str | None
    how: str = ""
    choice: Literal["rival", "us"] | None = None
    typed: str | None = None  # the name as written, when it misspells a configured one


def find_competitor(
    text: str,
    folded: str,
    words: Sequence[str],
    *,
    matcher: CompetitorMatcher,
    lex: KindLexicon,
    people: frozenset[str] = frozenset(),
) -> Found:
    """The competitor named; the one tied to a choice phrase wins. ``people``: folded names of
    colleagues (``people.known_people``), never competitors."""
    # 1. a choice phrase: "went with X", "lost to X", "X won" (regexes only when a trigger word occurs)
    present = _TRIGGER_WORDS.intersection(words)
    for m in _choice_phrases(text) if present else ():
        end = min(len(text), m.end() + _SPAN)
        stop = _SENTENCE_END.search(text, m.end(), end)
        span = text[m.end() : stop.start() if stop else end]
        typed = None
        name = _listed_in(span[:60], matcher)
        if name is None and (typed := _name_after(span, lex, before=text[: m.end()], people=people)):
            name = _misspelt(typed, matcher, lex)
        if name or typed:
            first = m.group().split()[0].lower()
            for_us = first in _FOR_US or _US.match(span.lstrip()) is not None  # "picked us over X"
            return _found(name, typed, f"chosen: {m.group().strip()!r}", "us" if for_us else "rival")
    for m in _WON.finditer(text) if _WON_WORDS.intersection(words) else ():
        typed = None
        name = _listed_in(m.group(1), matcher)
        if name is None:
            typed = _clean(m.group(1), lex, strict=True)
            if typed and is_person(typed, before=text[: m.start(1)], after=text[m.end(1) :], known=people):
                typed = None
            name = _misspelt(typed, matcher, lex) if typed else None
        if name or typed:
            return _found(name, typed, "chosen:", "rival", won=True)
    # 2. a configured competitor mentioned anywhere
    if matcher.pattern is not None:
        negated: str | None = None
        for hit in matcher.pattern.finditer(folded):
            name = matcher.canonical[" ".join(hit.group(1).split())]
            if not _NEGATED_BEFORE.search(folded, max(0, hit.start() - 12), hit.start()):
                return Found(name, f"named: {name}")
            negated = negated or name
        if negated:  # "not Northwind" still names the competitor involved, if no other is named
            return Found(negated, f"named (negated): {negated}")
    # 3. a misspelt configured competitor
    if matcher.fuzzy:
        for word in words:
            if len(word) < 5 or word in COMMON_WORDS or not word.isalpha() or lex.is_known(word):
                continue
            name = _typo_of(matcher, word)
            if name is not None:
                return Found(name, f"named (typo {word!r}): {name}", typed=word)
    return Found(None)


def _choice_phrases(text: str) -> Iterator[re.Match[str]]:
    """``_TRIGGER.finditer(text)``: the same matches, tried only at the words one can start with."""
    after = 0
    for w in _WORD_RUN.finditer(text):
        if w.start() < after or w.group().lower() not in _TRIGGER_STARTS:
            continue
        m = _TRIGGER.match(text, w.start())
        if m is not None:
            after = m.end()
            yield m


def _found(
    name: str | None, typed: str | None, how: str, choice: Literal["rival", "us"], *, won: bool = False
) -> Found:
    """A competitor found by a choice phrase: configured, misspelt configured, or unlisted."""
    said = typed if name is None else name
    text = f"{how} {said}" + (" won" if won else "")
    if name is not None and typed is not None:
        return Found(name, f"{text} (typo {typed!r})", choice, typed)
    return Found(said, text, choice)


def _misspelt(typed: str, matcher: CompetitorMatcher, lex: KindLexicon) -> str | None:
    """The configured competitor an unlisted name misspells ("Contosso", "Contso"), any case."""
    if not matcher.fuzzy:
        return None
    word = fold(typed.split()[0]).strip(" .,'-")
    if len(word) < 5 or not word.isalpha() or word in COMMON_WORDS or lex.is_known(word):
        return None
    return _typo_of(matcher, word)


def _typo_of(matcher: CompetitorMatcher, word: str) -> str | None:
    """The configured name ``word`` misspells (memoised per competitor list)."""
    cache = matcher.typo_cache
    if word in cache:
        return cache[word]
    found: str | None = None
    for target, name in matcher.fuzzy:
        limit = 1 if len(target) < 8 else 2
        if word[0] == target[0] and DamerauLevenshtein.distance(word, target, score_cutoff=limit) <= limit:
            found = name
            break
    if len(cache) < 50_000:
        cache[word] = found
    return found


def _listed_in(span: str, matcher: CompetitorMatcher) -> str | None:
    if matcher.pattern is None:
        return None
    hit = matcher.pattern.search(fold(span))
    return matcher.canonical[" ".join(hit.group(1).split())] if hit else None


def _name_after(
    span: str, lex: KindLexicon, *, before: str = "", people: frozenset[str] = frozenset()
) -> str | None:
    """A capitalised name right after the trigger, or after a dash or colon later in the sentence;
    never a person's ("went with Sarah's recommendation")."""
    stripped = span.lstrip()
    if _US.match(stripped):
        return None
    head = re.sub(r"^(?:the|a|an|die|der|le|la|el)\s+", "", stripped, flags=re.IGNORECASE)
    candidates = [(head, before)] + [
        (span[sep.end() :], before + span[: sep.end()]) for sep in _APPOSITION.finditer(span)
    ]
    for rest, ahead in candidates:
        m = _NAME.match(rest)
        after = rest[m.end() :] if m else ""
        if (
            m
            and (name := _clean(m.group(), lex, after=after))
            and not is_person(m.group(), before=ahead, after=after, known=people)
        ):
            return name
    return None


def _clean(name: str, lex: KindLexicon, *, strict: bool = False, after: str = "") -> str | None:
    """The name as written, or None when it is a pronoun, a cue word ("Closed won"), a product tier
    or step ("Enterprise plan", "Stage 2") or, for the looser "X won" pattern, only common words.
    A possessive is no part of the name ("Globex's offer" names Globex)."""
    words = re.sub(r"['’]s$", "", name.strip(" .,-")).strip(" .,'-").split()
    while words and words[0].lower() in _NOT_NAMES:
        words = words[1:]
    if not words or len(words) > 4:
        return None
    folded = [fold(w).strip(" .,'-") for w in words]
    following = after.split(maxsplit=1)[:1]
    if any(w in _NOT_COMPANY for w in folded) or (
        following and fold(following[0]).strip(".,;:") in _NOT_COMPANY
    ):
        return None
    # the loose "X won" pattern wants at least one word that is no common word ("Power BI", not
    # "Everyone" or "Sales Team")
    if lex.is_known(folded[0]) or (strict and all(w in COMMON_WORDS or lex.is_known(w) for w in folded)):
        return None
    return " ".join(words)
