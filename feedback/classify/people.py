"""Whether a capitalised name a reply puts where a competitor stands is a person: a colleague.

Reps hand deals to each other and follow each other's advice ("Sarah took it over", "went with
Sarah's recommendation", "handed to Tom"), in the very phrases that name rivals. A name is a
person when the words around it say so, whatever the name:

- a title before it ("Mr Hale", "Frau Berger", "Mme Roux", "Sra. Gil");
- a colleague noun right before it ("my colleague Dana", "unser Kollege Jens", "mi compañera Ana");
- a possessive followed by what a person gives: advice, a recommendation, a call ("Sarah's
  recommendation", "Gartner's advice" — an analyst is no competitor either);
- a hand-over right after it ("Sarah took it over", "Tom is handling it", "Jens übernimmt").

Or when it is the name of someone the caller knows (the reps, an explicit input), in any words.
Or when its form is a person's: a first name followed by a surname ("Sarah Chen"), both from the
name lists of a well-kept package (Faker's person providers for the languages reps write in). A
first name alone is no evidence: Apollo, Jasper and Harvey are vendors too; a lone unlisted name
is stored and flagged for review the first time it appears (``feedback.services.processing``).
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache

from feedback.classify.normalise import fold
from feedback.classify.typos import COMMON_WORDS

# Faker locales whose person providers give the first and last names: the four languages reps
# write in, with their regional variants and the neighbours whose names are common in them.
_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_IN", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_CH", "fr_CA",
    "es_ES", "es_MX", "es_AR", "it_IT", "nl_NL", "pt_BR", "pt_PT", "pl_PL", "tr_TR",
)  # fmt: skip

_TITLES_TEXT = "mr mrs ms miss dr herr frau monsieur madame mme mlle sr sra srta senor senora don dona"
_TITLES = frozenset(_TITLES_TEXT.split())
_COLLEAGUES = (
    r"colleague|co-?worker|teammate|manager|boss|kolleg(?:e|in|en)|chef(?:in)?|vorgesetzte[rn]?"
    r"|coll[èe]gue|responsable|compa[ñn]er[oa]|jef[ea]"
)
_COLLEAGUE_BEFORE = re.compile(rf"(?i)\b(?:{_COLLEAGUES})[\s,]*$")
# German capitalises the noun, so it heads the name ("an Kollegin Meier"); "Boss" and "Chef" may
# be vendors' names and are no evidence there
_COLLEAGUE = re.compile(r"kolleg(?:e|in|en)|vorgesetzte[rn]?|mitarbeiter(?:in)?")
_SAYS_AFTER = re.compile(
    r"(?i)^(?:['’]s|s?['’])\s+(?:\w+\s+)?(?:recommendation|advice|suggestion|idea|opinion|call|decision"
    r"|choice|preference|input|feedback|guidance|view|take|word|instinct|gut|judge?ment|request|wish"
    r"|lead|empfehlung|rat|vorschlag|meinung|entscheidung|conseil|recommandation|avis|suggestion|choix"
    r"|consejo|recomendaci[oó]n|sugerencia|opini[oó]n|decisi[oó]n)(?:e?s)?"
    # ... ending its noun phrase: "Sarah's call on pricing", not "Contoso's call center"
    r"(?=\s*(?:$|[.,;:!?)/-])|\s+(?:on|to|and|for|about|over|in|at|as|here|there|instead|again|this|that"
    r"|from|with|y|et|und|zu|sur|sobre|para|pour|für|fur|auf|of|was|is|won|wins)\b)"
)
_HANDOVER_AFTER = re.compile(
    r"(?i)^\s+(?:has\s+|have\s+|had\s+|will\s+|is\s+|now\s+|just\s+)*"
    r"(?:(?:took|take|takes|taken|taking)\s+(?:it\s+|this\s+|that\s+|them\s+|the\s+\w+\s+)?over"
    r"|(?:handling|handles|owns|covering|covers)\s+(?:it|this|that|them|the)\b"
    r"|(?:übernimmt|ubernimmt|hat\s+(?:es\s+|das\s+)?(?:übernommen|ubernommen))"
    r"|(?:reprend|a\s+repris|s'en\s+occupe)|(?:se\s+encarga|lo\s+lleva|se\s+ocupa))"
)


def is_person(name: str, *, before: str = "", after: str = "", known: frozenset[str] = frozenset()) -> bool:
    """Whether ``name`` (as written, between ``before`` and ``after``) is a person's name;
    ``known`` holds the folded full and first names of people the caller knows (the reps)."""
    possessive = re.search(r"['’]s?$", name) is not None
    words = [w for w in (fold(w).strip(".,'") for w in re.sub(r"['’]s?$", "", name).split()) if w]
    if not words:
        return False
    if " ".join(words) in known or (len(words) == 1 and words[0] in known):
        return True
    if words[0] in _TITLES or _COLLEAGUE.fullmatch(words[0]):
        return True
    if _COLLEAGUE_BEFORE.search(before[-40:]):
        return True
    if _SAYS_AFTER.match("'s" + after if possessive else after):
        return True
    if _HANDOVER_AFTER.match(after):
        return True
    # "Sarah Chen", not "Harvey Power": a surname that is also a common word says nothing
    return (
        len(words) == 2
        and words[0] in first_names()
        and words[1] in last_names()
        and words[1] not in COMMON_WORDS
    )


@lru_cache(maxsize=16)
def known_people(names: tuple[str, ...]) -> frozenset[str]:
    """Folded full names and first names of ``names`` (the reps: colleagues a reply may name)."""
    known: set[str] = set()
    for name in names:
        words = fold(name).replace("'", " ").split()
        if words:
            known.update((" ".join(words), words[0]))
    return frozenset(known)


@lru_cache(maxsize=1)
def first_names() -> frozenset[str]:
    """Folded first names (loaded once, on first need: importing Faker costs about 0.2 s)."""
    return _names("first_names", "first_names_male", "first_names_female")


@lru_cache(maxsize=1)
def last_names() -> frozenset[str]:
    """Folded surnames."""
    return _names("last_names", "last_names_male", "last_names_female")


def _names(*attributes: str) -> frozenset[str]:
    found: set[str] = set()
    for locale in _LOCALES:
        provider = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for attribute in attributes:
            for n in getattr(provider, attribute, ()) or ():
                found.update(w for w in fold(str(n)).replace("-", " ").split() if w.isalpha())
    return frozenset(found)
